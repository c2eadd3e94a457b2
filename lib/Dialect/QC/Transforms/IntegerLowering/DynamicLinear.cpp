//===- DynamicLinear.cpp - linear layers with float results ---------------===//
//
// lower-quantized-to-integer for linear layers whose result stays float: the
// linear-only scope or a model's last layer, and inputs quantized at run
// time (qc.dynamic_quantize / qc.dynamic_dequantize from fold-calibration's
// token and group:G granularities): int8 products scaled per row, or
// qc.matmul_group_scaled per group of channels.
//
//===----------------------------------------------------------------------===//
#include "IntegerLowering.h"
#include "qc/Dialect/QC/Transforms/Constants.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Matchers.h"
#include <cmath>

using namespace mlir;
using namespace qc::integer;
using quant::QuantizedType;
using quant::UniformQuantizedPerAxisType;
using quant::UniformQuantizedType;

namespace {

/// `r + beta * bias` (the float bias of a Gemm or of a row-scaled product).
Value addFloatBias(PatternRewriter &rw, Location loc, Value r, Value bias,
                   double beta) {
  if (beta != 1) {
    std::vector<float> bv = *readBias(bias);
    for (float &v : bv)
      v = float(beta * v);
    bias = qc::createBlobConstant(
        rw, loc, tensorTy(bias).clone(rw.getF32Type()), bv, "bias_beta");
  }
  return qc::AddOp::create(rw, loc, tensorTy(r), r, bias);
}

/// A Gemm or MatMul whose input is quantized per group of G channels
/// (qc.dynamic_dequantize with more than one group per row) and whose 2-D
/// weight is quantized per tensor or per
/// output channel. Signed weights without zero points (the default) become
/// one qc.matmul_group_scaled. Others: for each group b, the int32 product
/// of the int8 columns [bG, bG + G) with the weight rows [bG, bG + G),
/// dequantized with
/// alpha * s_w per channel (less the group's zero points times the weight
/// rows' terms, zeroPointTerms, where it has them) and multiplied by the
/// group's scales; the float results summed, then the float bias (times
/// beta) added.
FailureOr<Value> groupProduct(PatternRewriter &rw, Operation *op,
                              const DynamicInput &g) {
  if (!isa<qc::GemmOp, qc::MatMulOp>(op))
    return failure();
  Value qw = dequantized(op->getOperand(1));
  if (!qw || tensorTy(qw).getRank() != 2)
    return failure();
  auto resTy = tensorTy(op->getResult(0));
  int64_t n = resTy.getShape().back(), k = tensorTy(qw).getDimSize(0);
  auto wElt = tensorTy(qw).getElementType();
  std::optional<WeightScales> ws = weightScales(wElt, 1);
  if (!ws || (ws->scales.size() != 1 && int64_t(ws->scales.size()) != n) ||
      cast<QuantizedType>(wElt).getStorageTypeIntegralWidth() > 8 ||
      k % g.groupSize)
    return failure();
  SmallVector<double> wScales = ws->scales;
  SmallVector<int32_t> wZps = ws->zps;
  if (wScales.size() == 1) {
    wScales.assign(n, wScales[0]);
    wZps.assign(n, wZps[0]);
  }
  double alpha = 1, beta = 1;
  Value floatBias;
  if (failed(gemmTerms(rw, op, alpha, beta, floatBias)) ||
      (floatBias && !readBias(floatBias)))
    return failure();
  Location loc = op->getLoc();
  int64_t rank = resTy.getRank(), groups = k / g.groupSize;
  Value x = g.ints, scales = g.scales, zeros = g.zeros;
  Value w = storageOf(rw, loc, qw);
  SmallVector<double> outScales;
  for (double s : wScales)
    outScales.push_back(alpha * s);
  // Signed weights without zero points: one qc.matmul_group_scaled, whose
  // kernels scale each group's int32 sums in registers.
  if (cast<QuantizedType>(wElt).isSigned() &&
      llvm::all_of(wZps, [](int32_t z) { return !z; })) {
    Type f32 = rw.getF32Type();
    std::vector<float> sb(outScales.begin(), outScales.end());
    Value bScales = qc::createBlobConstant(
        rw, loc, RankedTensorType::get({n}, f32), sb, "group_weight_scales");
    Value bias;
    std::optional<std::vector<float>> bv =
        floatBias ? readBias(floatBias) : std::nullopt;
    if (bv && (int64_t(bv->size()) == n || bv->size() == 1)) {
      std::vector<float> scaled(static_cast<size_t>(n));
      for (int64_t c = 0; c < n; ++c)
        scaled[size_t(c)] =
            float(beta * (*bv)[bv->size() == 1 ? 0 : size_t(c)]);
      bias = qc::createBlobConstant(rw, loc, RankedTensorType::get({n}, f32),
                                    scaled, "bias_beta");
    }
    Value y = qc::MatMulGroupScaledOp::create(
        rw, loc, resTy, x, w, scales, bScales, zeros, bias, g.groupSize);
    return floatBias && !bias ? addFloatBias(rw, loc, y, floatBias, beta) : y;
  }
  std::vector<std::vector<float>> zeroTerms;
  if (zeros) {
    std::optional<std::vector<std::vector<float>>> t =
        zeroPointTerms(qw, outScales, wZps, g.groupSize);
    if (!t)
      return failure();
    zeroTerms = std::move(*t);
  }

  auto accQ = UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, rw.getI32Type(), rw.getF32Type(),
      outScales, SmallVector<int64_t>(n, 0), int32_t(rank - 1), INT32_MIN,
      INT32_MAX);
  auto accTy = RankedTensorType::get(resTy.getShape(), rw.getI32Type());
  Value sum;
  for (int64_t b = 0; b < groups; ++b) {
    Value xs = sliceAlong(rw, loc, x, rank - 1, b * g.groupSize, g.groupSize);
    Value ws = sliceAlong(rw, loc, w, 0, b * g.groupSize, g.groupSize);
    Value acc =
        qc::MatMulIntOp::create(rw, loc, accTy, xs, ws, Value(), 0, wZps,
                                /*lowbit=*/nullptr);
    Value q = qc::StorageCastOp::create(rw, loc, resTy.clone(accQ), acc);
    Value part = qc::DequantizeOp::create(rw, loc, resTy, q);
    if (zeros)
      part = subtractZeroPoints(rw, loc, part,
                                sliceAlong(rw, loc, zeros, rank - 1, b, 1),
                                zeroTerms[b]);
    part = qc::MulOp::create(rw, loc, resTy, part,
                             sliceAlong(rw, loc, scales, rank - 1, b, 1));
    sum = b ? qc::AddOp::create(rw, loc, resTy, sum, part).getResult() : part;
  }
  return floatBias ? addFloatBias(rw, loc, sum, floatBias, beta) : sum;
}

/// A Conv, Gemm or MatMul on quantized operands whose result is not
/// quantized (the linear-only scope, or a model's last layer): the int32
/// product, dequantized with s_x * s_w per channel to the float result.
template <typename OpTy>
struct LinearToIntegerFloatResult : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    Value y = op->getResult(0);
    auto feedsQuantize = [](Value v) {
      return llvm::any_of(v.getUsers(),
                          [](Operation *u) { return isa<qc::QuantizeOp>(u); });
    };
    if (feedsQuantize(y))
      return failure();
    for (Operation *u : y.getUsers())
      if (isa<qc::ReluOp, qc::ClipOp>(u) && feedsQuantize(u->getResult(0)))
        return failure();
    std::optional<DynamicInput> g = dynamicInput(op->getOperand(0));
    if (g && g->groups > 1) {
      FailureOr<Value> r = groupProduct(rw, op, *g);
      if (failed(r))
        return failure();
      rw.replaceOp(op, *r);
      return success();
    }
    IntegerProduct p;
    if (failed(integerProduct(rw, op, p, /*allowRows=*/true)))
      return failure();
    Type i32 = rw.getI32Type(), f32 = rw.getF32Type();
    if (p.accBits > 32 || tensorTy(p.acc).getElementType().isInteger(64)) {
      // An int64 accumulator (16-bit input, MX weights) to int32 by a
      // rounding shift of its low bits, the scales widened to match.
      int k = std::max(0, p.accBits - 32);
      FailureOr<Value> narrow = requantizeTo(
          rw, op.getLoc(), p.acc, {std::ldexp(1.0, -k)}, 0, std::nullopt,
          p.resTy.clone(i32), 0, INT32_MIN, INT32_MAX, p.multiplierBits());
      if (failed(narrow))
        return failure();
      p.acc = *narrow;
      for (double &s : p.scales)
        s = std::ldexp(s, k);
    } else if (tensorTy(p.acc).getElementType() != i32) {
      p.acc = qc::CastOp::create(rw, op.getLoc(), p.resTy.clone(i32), p.acc);
    }
    quant::QuantizedType qt;
    if (p.scales.size() == 1)
      qt = UniformQuantizedType::get(quant::QuantizationFlags::Signed, i32, f32,
                                     p.scales[0], 0, INT32_MIN, INT32_MAX);
    else
      qt = UniformQuantizedPerAxisType::get(
          quant::QuantizationFlags::Signed, i32, f32, p.scales,
          SmallVector<int64_t>(p.scales.size(), 0), int32_t(p.outAxis),
          INT32_MIN, INT32_MAX);
    Location loc = op.getLoc();
    Value q = qc::StorageCastOp::create(
        rw, loc, RankedTensorType::get(p.resTy.getShape(), qt), p.acc);
    Value r = qc::DequantizeOp::create(rw, loc, p.resTy, q);
    if (p.rowZeros)
      r = subtractZeroPoints(rw, loc, r, p.rowZeros, p.zeroTerms);
    if (p.rowScales)
      r = qc::MulOp::create(rw, loc, p.resTy, r, p.rowScales);
    if (p.floatBias)
      r = addFloatBias(rw, loc, r, p.floatBias, p.beta);
    rw.replaceOp(op, r);
    return success();
  }
};

bool isFp8(qc::ElementFormat f) {
  return f == qc::ElementFormat::FP8E4M3 || f == qc::ElementFormat::FP8E5M2;
}

/// A Gemm or MatMul of FP8 activations (qc.minifloat_dequantize of an FP8
/// format, fold-calibration's activation-type=fp8_*) and a 2-D FP8 weight
/// with an f32 scale per output channel (qc.block_dequantize, one block a
/// channel): qc.matmul_fp8 of the codes (the weight's transposed to
/// [N, K]), times alpha * s_x * s_w[n], plus beta * bias.
template <typename OpT>
struct Fp8Linear : OpRewritePattern<OpT> {
  using OpRewritePattern<OpT>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rw) const override {
    auto x =
        op->getOperand(0).template getDefiningOp<qc::MinifloatDequantizeOp>();
    auto bd = op->getOperand(1).template getDefiningOp<qc::BlockDequantizeOp>();
    if (!x || !bd || !isFp8(x.getFormat()) || !isFp8(bd.getFormat()) ||
        bd.getScaleFormat() || bd.getAxis() != 1 ||
        bd.getTensorScale().convertToDouble() != 1.0)
      return rw.notifyMatchFailure(op, "not FP8 x per-channel FP8");
    auto wTy = bd.getOutput().getType();
    auto sTy = bd.getScales().getType();
    if (wTy.getRank() != 2 || sTy.getDimSize(1) != 1 ||
        !tensorTy(x.getOutput()).hasStaticShape())
      return rw.notifyMatchFailure(op, "not a 2-D per-channel FP8 weight");
    double alpha = 1, beta = 1;
    Value floatBias;
    if (failed(gemmTerms(rw, op, alpha, beta, floatBias)))
      return failure();
    if (floatBias && !readBias(floatBias))
      return rw.notifyMatchFailure(op, "bias is not a constant");
    std::optional<std::vector<int32_t>> codes =
        qc::readInt8Constant(bd.getCodes());
    std::optional<std::vector<float>> scales =
        qc::readFloatConstant(bd.getScales());
    if (!codes || !scales)
      return rw.notifyMatchFailure(op, "FP8 codes or scales not constant");
    int64_t k = wTy.getDimSize(0), n = wTy.getDimSize(1);
    std::vector<int32_t> transposed(n * k);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t c = 0; c < n; ++c)
        transposed[c * k + i] = (*codes)[i * n + c];
    Location loc = op.getLoc();
    Value b = qc::createBlobConstant(
        rw, loc, RankedTensorType::get({n, k}, rw.getI8Type()), transposed,
        "fp8_weights");
    auto resTy = tensorTy(op->getResult(0));
    Value acc = qc::MatMulFp8Op::create(rw, loc, resTy, x.getInput(), b,
                                        x.getFormat(), bd.getFormat());
    double sx = x.getScale().convertToDouble();
    std::vector<float> factors(n);
    for (int64_t c = 0; c < n; ++c)
      factors[c] = float(alpha * sx * double((*scales)[c]));
    Value f = qc::createBlobConstant(
        rw, loc, RankedTensorType::get({n}, rw.getF32Type()), factors,
        "fp8_scales");
    Value r = qc::MulOp::create(rw, loc, resTy, acc, f);
    if (floatBias)
      r = addFloatBias(rw, loc, r, floatBias, beta);
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

void qc::integer::populateFloatResultLinearPatterns(RewritePatternSet &patterns,
                                                    PatternBenefit benefit) {
  patterns.add<LinearToIntegerFloatResult<qc::ConvOp>,
               LinearToIntegerFloatResult<qc::GemmOp>,
               LinearToIntegerFloatResult<qc::MatMulOp>>(patterns.getContext(),
                                                         benefit);
  patterns.add<Fp8Linear<qc::GemmOp>, Fp8Linear<qc::MatMulOp>>(
      patterns.getContext());
}
