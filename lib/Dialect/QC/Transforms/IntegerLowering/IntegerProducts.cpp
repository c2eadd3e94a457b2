//===- IntegerProducts.cpp - integer conv / matmul products ---------------===//
//
// lower-quantized-to-integer for linear layers (Conv, Gemm, MatMul) between
// quantized operands: int8 products accumulated in int32 (qc.conv_int,
// qc.matmul_int, per block of a block-quantized weight), the bias in int32,
// and a dyadic requantization to a quantized result with the fused
// activation in its clamp.
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

/// Explicit begin/end pads of a Conv (auto_pad resolved on static shapes).
std::optional<SmallVector<int64_t>> convPads(qc::ConvOp conv) {
  auto x = tensorTy(conv.getX()), w = tensorTy(conv.getW());
  int64_t n = x.getRank() - 2;
  SmallVector<int64_t> strides(n, 1), dil(n, 1), pads(2 * n, 0);
  if (auto s = conv.getStrides())
    strides.assign(s->begin(), s->end());
  if (auto d = conv.getDilations())
    dil.assign(d->begin(), d->end());
  if (auto p = conv.getPads())
    pads.assign(p->begin(), p->end());
  StringRef autoPad = conv.getAutoPad();
  if (autoPad == "VALID")
    return SmallVector<int64_t>(2 * n, 0);
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int64_t i = 0; i < n; ++i) {
      int64_t in = x.getDimSize(i + 2), k = w.getDimSize(i + 2);
      if (ShapedType::isDynamic(in))
        return std::nullopt;
      int64_t out = (in + strides[i] - 1) / strides[i];
      int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] +
                                               dil[i] * (k - 1) + 1 - in);
      int64_t small = total / 2, big = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : big;
      pads[i + n] = autoPad == "SAME_UPPER" ? big : small;
    }
  }
  return pads;
}

} // namespace

std::optional<WeightScales> qc::integer::weightScales(Type elt,
                                                      int64_t channelAxis) {
  WeightScales w;
  if (auto t = dyn_cast<UniformQuantizedType>(elt)) {
    w.scales = {t.getScale()};
    w.zps = {int32_t(t.getZeroPoint())};
  } else if (auto a = dyn_cast<UniformQuantizedPerAxisType>(elt)) {
    if (a.getQuantizedDimension() != channelAxis)
      return std::nullopt;
    w.scales.assign(a.getScales().begin(), a.getScales().end());
    for (int64_t z : a.getZeroPoints())
      w.zps.push_back(int32_t(z));
  } else {
    return std::nullopt;
  }
  return w;
}

std::optional<std::vector<std::vector<float>>>
qc::integer::zeroPointTerms(Value qw, ArrayRef<double> scales,
                            ArrayRef<int32_t> zps, int64_t blockK) {
  auto cast = qw.getDefiningOp<qc::StorageCastOp>();
  auto ty = tensorTy(qw);
  if (!cast || ty.getRank() != 2 || blockK <= 0 || ty.getDimSize(0) % blockK)
    return std::nullopt;
  std::optional<std::vector<int32_t>> w = qc::readInt8Constant(cast.getInput());
  int64_t n = ty.getDimSize(1);
  if (!w || int64_t(w->size()) != ty.getNumElements())
    return std::nullopt;
  std::vector<std::vector<float>> out;
  for (int64_t k0 = 0; k0 < ty.getDimSize(0); k0 += blockK) {
    std::vector<float> &t = out.emplace_back(n);
    for (int64_t c = 0; c < n; ++c) {
      int64_t sum = 0, z = zps[zps.size() == 1 ? 0 : c];
      for (int64_t k = k0; k < k0 + blockK; ++k)
        sum += (*w)[k * n + c] - z;
      t[c] = float(scales[scales.size() == 1 ? 0 : c] * double(sum));
    }
  }
  return out;
}

Value qc::integer::subtractZeroPoints(PatternRewriter &rw, Location loc,
                                      Value r, Value zeros,
                                      ArrayRef<float> terms) {
  auto ty = tensorTy(r);
  Value t = qc::createBlobConstant(
      rw, loc, RankedTensorType::get({int64_t(terms.size())}, rw.getF32Type()),
      terms, "zero_point_terms");
  Value corr = qc::MulOp::create(rw, loc, ty, zeros, t);
  return qc::SubOp::create(rw, loc, ty, r, corr);
}

LogicalResult qc::integer::gemmTerms(PatternRewriter &rw, Operation *op,
                                     double &alpha, double &beta, Value &c) {
  auto gemm = dyn_cast<qc::GemmOp>(op);
  if (!gemm)
    return success();
  if (gemm.getTransA() || gemm.getTransB())
    return rw.notifyMatchFailure(op, "transposed Gemm operands");
  alpha = gemm.getAlpha().convertToDouble();
  beta = gemm.getBeta().convertToDouble();
  c = gemm.getC();
  return success();
}

/// A Gemm / MatMul of a per-tensor 8-bit input and an OCP MX weight whose
/// elements are exact integers (fp4_e2m1 x 2, fp6_e2m3 x 8) under E8M0
/// block scales 2^e: qc.matmul_mx, each block's int32 product shifted left
/// by e - e_ref[n] in int64. e_ref[n] is the channel's smallest exponent,
/// or, where the channel's exponents span more than the accumulator
/// leaves room for (|acc| < 2^40), its largest minus that room: blocks
/// below it are dropped (each contributes under 2^-room of the largest).
static LogicalResult mxProduct(PatternRewriter &rw, Operation *op,
                               qc::BlockDequantizeOp bd, Value qx,
                               IntegerProduct &out) {
  UniformQuantizedType xq = perTensor(qx);
  std::optional<int> factor = qc::MatMulMxOp::integerFactor(bd.getFormat());
  auto wTy = bd.getOutput().getType();
  if (!xq || xq.getStorageTypeIntegralWidth() != 8 || !factor ||
      bd.getScaleFormat() != qc::ElementFormat::E8M0 || bd.getAxis() != 1 ||
      wTy.getRank() != 2 || bd.getTensorScale().convertToDouble() != 1.0)
    return rw.notifyMatchFailure(op, "not an integer MX product");
  double alpha = 1, beta = 1;
  Value floatBias;
  // The integer products take alpha > 0 only (it scales the requantization).
  if (failed(gemmTerms(rw, op, alpha, beta, floatBias)) || alpha <= 0)
    return failure();
  std::optional<std::vector<int32_t>> sc = qc::readInt8Constant(bd.getScales());
  if (!sc || !qc::readInt8Constant(bd.getCodes()))
    return rw.notifyMatchFailure(op, "MX codes or scales are not constants");
  int64_t k = wTy.getDimSize(0), n = wTy.getDimSize(1), block = bd.getBlock();
  int64_t nb = (k + block - 1) / block;
  auto resTy = tensorTy(op->getResult(0));
  int64_t outAxis = resTy.getRank() - 1;
  double xr = std::max(xq.getStorageTypeMax() - xq.getZeroPoint(),
                       xq.getZeroPoint() - xq.getStorageTypeMin());
  double wmax =
      qc::minifloat::maxFinite(*qc::minifloatFormat(bd.getFormat())) * *factor;
  // Room for the shifts: |acc| < 2^40 over all K products.
  int room = std::max(0, 38 - int(std::ceil(std::log2(double(k) * xr * wmax))));
  SmallVector<int32_t> shifts(n * nb);
  SmallVector<double> ref(n);
  for (int64_t c = 0; c < n; ++c) {
    int emin = 1000, emax = -1000;
    for (int64_t b = 0; b < nb; ++b) {
      int code = uint8_t((*sc)[c * nb + b]);
      if (code == 255)
        return op->emitError() << "an MX block scale is NaN (E8M0 0xFF)";
      emin = std::min(emin, code - 127);
      emax = std::max(emax, code - 127);
    }
    int eref = std::max(emin, emax - room);
    for (int64_t b = 0; b < nb; ++b) {
      int e = uint8_t((*sc)[c * nb + b]) - 127;
      shifts[c * nb + b] = e < eref ? -1 : e - eref;
    }
    ref[c] = std::ldexp(1.0, eref) / *factor;
  }
  Location loc = op->getLoc();
  Value bias;
  std::vector<double> biasAbs(n, 0.0);
  if (floatBias) {
    std::optional<std::vector<float>> bv = readBias(floatBias);
    if (!bv || (int64_t(bv->size()) != n && bv->size() != 1))
      return rw.notifyMatchFailure(op, "bias is not a per-channel constant");
    SmallVector<int64_t> bi;
    for (int64_t c = 0; c < n; ++c) {
      double v = beta * (*bv)[bv->size() == 1 ? 0 : c] /
                 (alpha * xq.getScale() * ref[c]);
      if (!(std::fabs(v) < std::ldexp(1.0, 40)))
        return rw.notifyMatchFailure(op, "bias does not fit 40 bits");
      bi.push_back(int64_t(std::nearbyint(v)));
      biasAbs[c] = std::fabs(v);
    }
    bias = arith::ConstantOp::create(
        rw, loc,
        DenseIntElementsAttr::get(RankedTensorType::get({n}, rw.getI64Type()),
                                  ArrayRef(bi)));
  }
  double bound = 1;
  for (int64_t c = 0; c < n; ++c) {
    double sum = biasAbs[c];
    for (int64_t b = 0; b < nb; ++b)
      if (shifts[c * nb + b] >= 0)
        sum += double(std::min(block, k - b * block)) * xr * wmax *
               std::ldexp(1.0, shifts[c * nb + b]);
    bound = std::max(bound, sum + 1);
  }
  auto shiftTy = RankedTensorType::get({n, nb}, rw.getI8Type());
  Value shiftConst = qc::createBlobConstant(
      rw, loc, shiftTy, std::vector<int32_t>(shifts.begin(), shifts.end()),
      "mx_shifts");
  out.acc = qc::MatMulMxOp::create(
      rw, loc, RankedTensorType::get(resTy.getShape(), rw.getI64Type()),
      storageOf(rw, loc, qx), bd.getCodes(), shiftConst, bias,
      int32_t(xq.getZeroPoint()), bd.getFormat(), uint64_t(block));
  out.accBits = int(std::ceil(std::log2(bound))) + 1;
  for (int64_t c = 0; c < n; ++c)
    out.scales.push_back(alpha * xq.getScale() * ref[c]);
  out.outAxis = outAxis;
  out.resTy = resTy;
  return success();
}

/// Conv / Gemm / MatMul between quantized operands: the int32 product of a
/// per-tensor quantized input and quantized weights (bias included at
/// s_x * s_w), and the float scale of each output channel's accumulator.
/// With `allowRows`, a Gemm or MatMul input quantized at run time with a
/// scale per row (qc.dynamic_dequantize) gives the product of its int8
/// rows, `scales` without s_x, the float result still to be multiplied by
/// `rowScales` and to get `floatBias` (times beta) added; with the rows'
/// zero points `rowZeros`, first `rowZeros * zeroTerms` subtracted
/// (zeroPointTerms).
LogicalResult qc::integer::integerProduct(PatternRewriter &rw, Operation *op,
                                          IntegerProduct &out, bool allowRows) {
  if (!isa_and_nonnull<qc::ConvOp, qc::GemmOp, qc::MatMulOp>(op))
    return failure();
  Value qx = dequantized(op->getOperand(0)),
        qw = dequantized(op->getOperand(1));
  if (auto bd = op->getOperand(1).getDefiningOp<qc::BlockDequantizeOp>();
      bd && qx && !isa<qc::ConvOp>(op))
    return mxProduct(rw, op, bd, qx, out);
  // An input quantized at run time with a scale per row.
  std::optional<DynamicInput> rows;
  if (!qx && allowRows && !isa<qc::ConvOp>(op)) {
    rows = dynamicInput(op->getOperand(0));
    if (rows && rows->groups != 1)
      rows.reset();
  }
  if ((!qx && !rows) || !qw || (qx && !perTensor(qx)))
    return failure();
  // A row-scaled input: int8 at scale 1 (times its rows' scales later).
  UniformQuantizedType xq =
      qx ? perTensor(qx)
         : UniformQuantizedType::get(quant::QuantizationFlags::Signed,
                                     rw.getI8Type(), rw.getF32Type(), 1.0, 0,
                                     -128, 127);
  auto wElt = tensorTy(qw).getElementType();
  int64_t wRank = tensorTy(qw).getRank();
  int64_t channelAxis = isa<qc::ConvOp>(op) ? 0 : wRank - 1;
  SmallVector<double> wScales;
  SmallVector<int32_t> wZps;
  SmallVector<SmallVector<double>> blockScales; // [block][channel]
  int64_t blockK = 0;
  if (std::optional<WeightScales> ws = weightScales(wElt, channelAxis)) {
    wScales = ws->scales;
    wZps = ws->zps;
  } else if (auto sc = dyn_cast<quant::UniformQuantizedSubChannelType>(wElt)) {
    // Blocks of B along the reduction axis, a scale per (block, channel).
    int64_t kAxis = isa<qc::ConvOp>(op) ? 1 : 0;
    if (!isa<qc::ConvOp>(op) && wRank != 2)
      return failure();
    for (auto [d, size] :
         llvm::zip(sc.getQuantizedDimensions(), sc.getBlockSizes())) {
      if (d == kAxis)
        blockK = size;
      else if (d == channelAxis && size != 1)
        return rw.notifyMatchFailure(op, "weight blocks span output channels");
    }
    if (llvm::any_of(sc.getZeroPoints().getValues<APInt>(),
                     [](const APInt &z) { return !z.isZero(); }))
      return rw.notifyMatchFailure(op, "blocked weights with zero points");
    int64_t k = tensorTy(qw).getDimSize(kAxis);
    if (!blockK || k % blockK)
      return rw.notifyMatchFailure(
          op, "weight blocks not along the reduction axis");
    int64_t nb = k / blockK, channels = tensorTy(qw).getDimSize(channelAxis);
    SmallVector<float> flat(sc.getScales().getValues<float>());
    blockScales.assign(nb, SmallVector<double>(channels));
    for (int64_t bl = 0; bl < nb; ++bl)
      for (int64_t c = 0; c < channels; ++c)
        blockScales[bl][c] =
            isa<qc::ConvOp>(op) ? flat[c * nb + bl] : flat[bl * channels + c];
    wScales = blockScales[0]; // the bias goes with block 0
    wZps.assign(channels, 0);
  } else {
    return failure();
  }
  // A 16-bit activation (W8A16): int64 accumulation, per-tensor or
  // per-channel weights.
  bool wide = xq.getStorageTypeIntegralWidth() > 8;
  if (xq.getStorageTypeIntegralWidth() > 16 ||
      cast<QuantizedType>(wElt).getStorageTypeIntegralWidth() > 8 ||
      (wide && !blockScales.empty()))
    return failure();
  Type accElt = wide ? rw.getI64Type() : rw.getI32Type();

  double alpha = 1, beta = 1;
  Value floatBias;
  if (isa<qc::GemmOp>(op)) {
    if (wRank != 2 || failed(gemmTerms(rw, op, alpha, beta, floatBias)) ||
        alpha <= 0)
      return failure();
  } else if (auto conv = dyn_cast<qc::ConvOp>(op)) {
    floatBias = conv.getB();
  } else if (wRank < 2) {
    return failure();
  }
  auto resTy = tensorTy(op->getResult(0));
  int64_t outAxis = isa<qc::ConvOp>(op) ? 1 : resTy.getRank() - 1;
  int64_t channels = resTy.getDimSize(outAxis);
  if (wScales.size() != 1 && int64_t(wScales.size()) != channels)
    return failure();
  auto wScale = [&](int64_t c) { return wScales[wScales.size() == 1 ? 0 : c]; };

  Location loc = op->getLoc();
  Value bias;
  double maxBias = 0;
  if (floatBias && rows) {
    if (!readBias(floatBias))
      return rw.notifyMatchFailure(op, "bias is not a constant");
    out.floatBias = floatBias;
    out.beta = beta;
  } else if (floatBias) {
    std::optional<std::vector<float>> bv = readBias(floatBias);
    if (!bv || (int64_t(bv->size()) != channels && bv->size() != 1))
      return rw.notifyMatchFailure(op, "bias is not a per-channel constant");
    std::vector<int64_t> bi;
    double limit = wide ? std::ldexp(1.0, 40) : 2147483647.0;
    for (int64_t c = 0; c < channels; ++c) {
      double v = beta * (*bv)[bv->size() == 1 ? 0 : c] /
                 (alpha * xq.getScale() * wScale(c));
      if (!(std::fabs(v) < limit))
        return rw.notifyMatchFailure(
            op, wide ? "bias does not fit 40 bits at s_x * s_w"
                     : "bias does not fit int32 at s_x * s_w");
      bi.push_back(int64_t(std::nearbyint(v)));
      maxBias = std::max(maxBias, std::fabs(v));
    }
    auto biasTy = RankedTensorType::get({channels}, accElt);
    // One value per channel: an inline constant in int64.
    bias = wide ? arith::ConstantOp::create(
                      rw, loc, DenseIntElementsAttr::get(biasTy, ArrayRef(bi)))
                      .getResult()
                : qc::createBlobConstant(
                      rw, loc, biasTy,
                      std::vector<int32_t>(bi.begin(), bi.end()), "bias_int32");
  }
  auto accTy = RankedTensorType::get(resTy.getShape(), accElt);
  Value x = rows ? rows->ints : storageOf(rw, loc, qx),
        w = storageOf(rw, loc, qw);
  if (rows)
    out.rowScales = rows->scales;
  std::optional<SmallVector<int64_t>> pads;
  SmallVector<int64_t> strides, dil;
  if (auto conv = dyn_cast<qc::ConvOp>(op)) {
    if (!(pads = convPads(conv)))
      return failure();
    int64_t n = resTy.getRank() - 2;
    strides.assign(n, 1);
    dil.assign(n, 1);
    if (auto s = conv.getStrides())
      strides.assign(s->begin(), s->end());
    if (auto d = conv.getDilations())
      dil.assign(d->begin(), d->end());
  }
  auto product = [&](Value xs, Value ws, Value b) -> Value {
    if (auto conv = dyn_cast<qc::ConvOp>(op))
      return qc::ConvIntOp::create(rw, loc, accTy, xs, ws, b, strides, *pads,
                                   dil, conv.getGroup(),
                                   int32_t(xq.getZeroPoint()), wZps,
                                   /*lowbit=*/nullptr);
    return qc::MatMulIntOp::create(rw, loc, accTy, xs, ws, b,
                                   int32_t(xq.getZeroPoint()), wZps,
                                   /*lowbit=*/nullptr);
  };
  Value acc;
  if (blockScales.empty()) {
    acc = product(x, w, bias);
  } else {
    // One int32 product per block, each rescaled by s_w[b, c] / max_b s_w
    // (times 2^F, with the sum kept below 2^30) and added in int32.
    int64_t nb = blockScales.size();
    int64_t kAxis = isa<qc::ConvOp>(op) ? 1 : 0;
    int64_t xAxis = isa<qc::ConvOp>(op) ? 1 : tensorTy(x).getRank() - 1;
    double bound = double(blockK * nb) * 256.0 * 128.0;
    int f = std::clamp(int(std::floor(std::log2(std::ldexp(1.0, 30) / bound))),
                       0, 8);
    SmallVector<double> ref(channels, 0.0);
    for (auto &bs : blockScales)
      for (int64_t c = 0; c < channels; ++c)
        ref[c] = std::max(ref[c], bs[c]);
    for (int64_t bl = 0; bl < nb; ++bl) {
      Value xs = sliceAlong(rw, loc, x, xAxis, bl * blockK, blockK);
      Value ws = sliceAlong(rw, loc, w, kAxis, bl * blockK, blockK);
      Value part = product(xs, ws, bl == 0 ? bias : Value());
      SmallVector<double> ratio;
      for (int64_t c = 0; c < channels; ++c)
        ratio.push_back(std::ldexp(blockScales[bl][c] / ref[c], f));
      FailureOr<Value> r = requantizeTo(rw, loc, part, ratio, 0, outAxis, accTy,
                                        0, INT32_MIN, INT32_MAX);
      if (failed(r))
        return failure();
      acc =
          bl == 0 ? *r : qc::AddOp::create(rw, loc, accTy, acc, *r).getResult();
    }
    for (int64_t c = 0; c < channels; ++c)
      ref[c] = std::ldexp(ref[c], -f);
    wScales = ref;
  }
  for (int64_t c = 0, e = wScales.size(); c < e; ++c)
    out.scales.push_back(alpha * xq.getScale() * wScales[c]);
  if (wide) {
    // |acc| <= K max|x - zp_x| max|w - zp_w| + max|bias|: the bits the
    // requantization's multiplier has to leave free in int64.
    auto wq = cast<QuantizedType>(wElt);
    int64_t k = tensorTy(qw).getNumElements() / channels;
    int64_t zx = xq.getZeroPoint();
    double xr = std::max(xq.getStorageTypeMax() - zx, zx - xq.getStorageTypeMin());
    double wr = 0;
    for (int32_t z : wZps)
      wr = std::max<double>(wr, std::max(wq.getStorageTypeMax() - z,
                                         z - wq.getStorageTypeMin()));
    double bound = double(k) * xr * wr + maxBias + 1;
    out.accBits = int(std::ceil(std::log2(bound))) + 1;
  }
  if (rows && rows->zeros) {
    std::optional<std::vector<std::vector<float>>> terms;
    if (blockScales.empty())
      terms = zeroPointTerms(qw, out.scales, wZps, tensorTy(qw).getDimSize(0));
    if (!terms)
      return rw.notifyMatchFailure(
          op, "zero points per row need a constant 2-D weight");
    out.rowZeros = rows->zeros;
    out.zeroTerms = std::move(terms->front());
  }
  out.acc = acc;
  out.outAxis = outAxis;
  out.resTy = resTy;
  return success();
}

namespace {

/// Conv / Gemm / MatMul between quantized operands, quantized result:
/// integer product, int32 bias, dyadic requantization with the activation
/// in the clamp.
struct LinearToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q,
                                PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    if (!yq)
      return failure();
    double actLo, actHi;
    Value core = peelActivation(q.getInput(), actLo, actHi);
    IntegerProduct p;
    if (failed(integerProduct(rw, core.getDefiningOp(), p)))
      return failure();
    SmallVector<double> scales;
    for (double s : p.scales)
      scales.push_back(s / yq.getScale());
    auto [lo, hi] = clampRange(yq, actLo, actHi);
    FailureOr<Value> y = requantizeTo(
        rw, q.getLoc(), p.acc, scales, 0,
        scales.size() > 1 ? std::optional<int64_t>(p.outAxis) : std::nullopt,
        storageTensorType(p.resTy, yq), yq.getZeroPoint(), lo, hi,
        p.multiplierBits());
    return replaceWithIntegers(rw, q, y);
  }
};

} // namespace

void qc::integer::populateLinearToIntegerPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearToInteger>(patterns.getContext());
}
