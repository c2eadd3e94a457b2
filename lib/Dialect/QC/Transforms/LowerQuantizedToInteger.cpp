//===- LowerQuantizedToInteger.cpp - QDQ chains to integer-only ops -------===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Support/Dyadic.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>

namespace qc {
#define GEN_PASS_DEF_LOWERQUANTIZEDTOINTEGER
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using quant::QuantizedType;
using quant::UniformQuantizedPerAxisType;
using quant::UniformQuantizedType;

namespace {

RankedTensorType tensorTy(Value v) { return cast<RankedTensorType>(v.getType()); }

/// The per-tensor quantized type of a tensor value, or null.
UniformQuantizedType perTensor(Value v) {
  return dyn_cast<UniformQuantizedType>(tensorTy(v).getElementType());
}

/// The quantized value a float value is the dequantization of, or null.
Value dequantized(Value v) {
  auto dq = v.getDefiningOp<qc::DequantizeOp>();
  return dq ? dq.getInput() : Value();
}

/// A per-row dynamic dequantization `Mul(Convert(q : i8 -> f32), s)`, or
/// `Mul(Sub(Convert(q), z), s)` with a zero point per row, with the scales
/// `s` (and `z`) of shape [..., 1] (fold-calibration's per-token
/// activations): the int8 rows, their scales and zero points (or null).
struct RowScaled {
  Value ints, scales, zeros;
};
std::optional<RowScaled> rowDequantized(Value v) {
  auto mul = v.getDefiningOp<qc::MulOp>();
  if (!mul)
    return std::nullopt;
  auto ty = tensorTy(v);
  for (int i = 0; i < 2; ++i) {
    Value x = mul->getOperand(i), s = mul->getOperand(1 - i), z;
    if (auto sub = x.getDefiningOp<qc::SubOp>()) {
      x = sub.getA();
      z = sub.getB();
      if (z.getType() != s.getType())
        continue;
    }
    auto conv = x.getDefiningOp<qc::ConvertOp>();
    if (!conv || !ty.hasStaticShape())
      continue;
    auto inTy = tensorTy(conv.getInput()), sTy = tensorTy(s);
    if (!inTy.getElementType().isInteger(8) || inTy.getShape() != ty.getShape() ||
        sTy.getRank() != ty.getRank() || !sTy.getElementType().isF32())
      continue;
    bool rows = sTy.getShape().back() == 1;
    for (int64_t d = 0; d + 1 < ty.getRank(); ++d)
      rows &= sTy.getDimSize(d) == ty.getDimSize(d);
    if (rows)
      return RowScaled{conv.getInput(), s, z};
  }
  return std::nullopt;
}

/// A per-group dynamic dequantization (fold-calibration's group:G
/// activations): `Reshape(Mul(Convert(q : i8), s))` (or with a zero point
/// per group, as rowDequantized) from [..., K/G, G], scales (and zero
/// points) [..., K/G, 1], back to [..., K].
struct GroupScaled {
  Value ints, scales, zeros;
  int64_t group;
};
std::optional<GroupScaled> groupDequantized(Value v) {
  auto reshape = v.getDefiningOp<qc::ReshapeOp>();
  if (!reshape)
    return std::nullopt;
  auto inTy = tensorTy(reshape.getData()), ty = tensorTy(v);
  if (!inTy.hasStaticShape() || !ty.hasStaticShape() || inTy.getRank() != ty.getRank() + 1 ||
      ty.getRank() < 1)
    return std::nullopt;
  int64_t r = ty.getRank();
  for (int64_t d = 0; d + 1 < r; ++d)
    if (inTy.getDimSize(d) != ty.getDimSize(d))
      return std::nullopt;
  if (inTy.getDimSize(r - 1) * inTy.getDimSize(r) != ty.getDimSize(r - 1))
    return std::nullopt;
  std::optional<RowScaled> rows = rowDequantized(reshape.getData());
  if (!rows)
    return std::nullopt;
  return GroupScaled{rows->ints, rows->scales, rows->zeros, inTy.getDimSize(r)};
}

/// The storage integers of a quantized tensor (ui8 / i8 ...).
Value storageOf(OpBuilder &b, Location loc, Value q) {
  auto qt = cast<QuantizedType>(tensorTy(q).getElementType());
  Type intTy = IntegerType::get(b.getContext(), qt.getStorageTypeIntegralWidth(),
                                qt.isSigned() ? IntegerType::Signless : IntegerType::Unsigned);
  return qc::StorageCastOp::create(b, loc, RankedTensorType::get(tensorTy(q).getShape(), intTy), q);
}

RankedTensorType storageTensorType(RankedTensorType shape, QuantizedType qt) {
  Type intTy = IntegerType::get(shape.getContext(), qt.getStorageTypeIntegralWidth(),
                                qt.isSigned() ? IntegerType::Signless : IntegerType::Unsigned);
  return RankedTensorType::get(shape.getShape(), intTy);
}

/// Dyadic (multiplier, shift) lists of `scales`; failure when one has no
/// int32 form.
LogicalResult dyadics(ArrayRef<double> scales, SmallVectorImpl<int32_t> &mult,
                      SmallVectorImpl<int32_t> &shift) {
  for (double s : scales) {
    std::optional<qc::Dyadic> d = qc::computeDyadic(s);
    if (!d)
      return failure();
    mult.push_back(d->multiplier);
    shift.push_back(d->shift);
  }
  return success();
}

/// The quantized range of `qt` narrowed by a fused activation's float
/// bounds.
std::pair<int64_t, int64_t> clampRange(UniformQuantizedType qt, double lo, double hi) {
  int64_t qmin = qt.getStorageTypeMin(), qmax = qt.getStorageTypeMax();
  if (std::isfinite(lo))
    qmin = std::max<int64_t>(qmin, qt.getZeroPoint() + std::llround(lo / qt.getScale()));
  if (std::isfinite(hi))
    qmax = std::min<int64_t>(qmax, qt.getZeroPoint() + std::llround(hi / qt.getScale()));
  return {qmin, std::max(qmin, qmax)};
}

/// Peels a Relu or constant Clip off `v`: returns the value before it and
/// the activation's bounds (infinite without one).
Value peelActivation(Value v, double &lo, double &hi) {
  lo = -INFINITY;
  hi = INFINITY;
  Operation *op = v.getDefiningOp();
  if (isa_and_nonnull<qc::ReluOp>(op)) {
    lo = 0;
    return op->getOperand(0);
  }
  if (auto clip = dyn_cast_or_null<qc::ClipOp>(op)) {
    auto bound = [](Value b, double &out) {
      DenseFPElementsAttr a;
      if (!b)
        return true;
      if (!matchPattern(b, m_Constant(&a)) || a.getNumElements() != 1)
        return false;
      out = (*a.getValues<APFloat>().begin()).convertToDouble();
      return true;
    };
    auto bounds = clip.getBounds();
    double l = -INFINITY, h = INFINITY;
    if (!bound(bounds.size() > 0 ? bounds[0] : Value(), l) ||
        !bound(bounds.size() > 1 ? bounds[1] : Value(), h))
      return v;
    lo = l;
    hi = h;
    return clip.getInput();
  }
  return v;
}

/// requantize(x) to the parameters of `out`, with a clamp, from a tensor of
/// integers at scale `inScale` with zero point `inZp`.
FailureOr<Value> requantizeTo(PatternRewriter &rw, Location loc, Value ints,
                              ArrayRef<double> scales, int64_t inZp,
                              std::optional<int64_t> axis, RankedTensorType resultTy,
                              int64_t outZp, int64_t lo, int64_t hi) {
  SmallVector<int32_t> mult, shift;
  if (failed(dyadics(scales, mult, shift)))
    return failure();
  return qc::RequantizeOp::create(
             rw, loc, resultTy, ints, mult, shift,
             axis ? rw.getI64IntegerAttr(*axis) : IntegerAttr(), int32_t(inZp),
             int32_t(outZp), lo, hi)
      .getResult();
}

/// Replaces `q` by the integers `y` (failure: no dyadic form), typed as
/// its quantized result.
LogicalResult replaceWithIntegers(PatternRewriter &rw, qc::QuantizeOp q, FailureOr<Value> y) {
  if (failed(y))
    return rw.notifyMatchFailure(q, "a requantization scale has no int32 dyadic form");
  rw.replaceOpWithNewOp<qc::StorageCastOp>(q, q.getType(), *y);
  return success();
}

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
      int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + dil[i] * (k - 1) + 1 - in);
      int64_t small = total / 2, big = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : big;
      pads[i + n] = autoPad == "SAME_UPPER" ? big : small;
    }
  }
  return pads;
}

/// The f32 values of dequantize(storage_cast(integer constant)): per
/// tensor, per axis or per block; none when the operand is no constant.
static std::optional<std::vector<float>> dequantizedConstant(qc::DequantizeOp dq) {
  auto inTy = tensorTy(dq->getOperand(0));
  auto qt = dyn_cast<QuantizedType>(inTy.getElementType());
  auto storage = dq->getOperand(0).getDefiningOp<qc::StorageCastOp>();
  ElementsAttr attr;
  if (!qt || !storage || !inTy.hasStaticShape() ||
      !matchPattern(storage->getOperand(0), m_Constant(&attr)))
    return std::nullopt;
  std::optional<std::vector<int64_t>> q = qc::readIntegerElements(attr, qt.isSigned());
  if (!q)
    return std::nullopt;
  bool isSigned = qt.isSigned();
  ArrayRef<int64_t> shape = inTy.getShape();
  int64_t rank = shape.size();
  if (int64_t(q->size()) != inTy.getNumElements())
    return std::nullopt;
  // Element i reads scale [coord / block] of a scale tensor of `scaleShape`.
  SmallVector<int64_t> blocks(shape.begin(), shape.end()), scaleShape(rank, 1);
  SmallVector<double> scales, zps;
  if (auto u = dyn_cast<UniformQuantizedType>(qt)) {
    scales = {u.getScale()};
    zps = {double(u.getZeroPoint())};
  } else if (auto a = dyn_cast<UniformQuantizedPerAxisType>(qt)) {
    int64_t d = a.getQuantizedDimension();
    blocks[d] = 1;
    scaleShape[d] = shape[d];
    scales.assign(a.getScales().begin(), a.getScales().end());
    for (int64_t z : a.getZeroPoints())
      zps.push_back(double(z));
  } else if (auto sc = dyn_cast<quant::UniformQuantizedSubChannelType>(qt)) {
    for (auto [d, size] : llvm::zip(sc.getQuantizedDimensions(), sc.getBlockSizes()))
      blocks[d] = size;
    auto st = cast<ShapedType>(sc.getScales().getType()).getShape();
    scaleShape.assign(st.begin(), st.end());
    for (float v : sc.getScales().getValues<float>())
      scales.push_back(v);
    for (const APInt &z : sc.getZeroPoints().getValues<APInt>())
      zps.push_back(double(isSigned ? z.getSExtValue() : int64_t(z.getZExtValue())));
  } else {
    return std::nullopt;
  }
  std::vector<float> out(q->size());
  SmallVector<int64_t> coord(rank);
  for (int64_t i = 0, e = q->size(); i < e; ++i) {
    int64_t rest = i, idx = 0, stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      coord[d] = rest % shape[d];
      rest /= shape[d];
    }
    for (int64_t d = rank - 1; d >= 0; --d) {
      idx += (coord[d] / blocks[d]) * stride;
      stride *= scaleShape[d];
    }
    out[i] = float(scales[idx] * (double((*q)[i]) - zps[idx]));
  }
  return out;
}

/// A bias as float values: a float constant (fold-calibration), or the
/// dequantized int32 constant of a QDQ model (ONNX Runtime stores biases at
/// scale s_x * s_w, which the caller's rounding then returns exactly).
static std::optional<std::vector<float>> readBias(Value v) {
  if (std::optional<std::vector<float>> f = qc::readFloatConstant(v))
    return f;
  if (auto dq = v.getDefiningOp<qc::DequantizeOp>())
    return dequantizedConstant(dq);
  return std::nullopt;
}

/// dequantize(storage_cast(integer constant)) with per-block scales, folded
/// to the f32 constant it computes.
struct DequantizeBlockedConstant : OpRewritePattern<qc::DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::DequantizeOp dq, PatternRewriter &rw) const override {
    if (!isa<quant::UniformQuantizedSubChannelType>(
            tensorTy(dq->getOperand(0)).getElementType()))
      return failure();
    std::optional<std::vector<float>> values = dequantizedConstant(dq);
    if (!values)
      return failure();
    rw.replaceOp(dq, qc::createBlobConstant(rw, dq.getLoc(), tensorTy(dq.getResult()), *values,
                                            "weight_dequantized"));
    return success();
  }
};

/// x[..., start:start+size, ...] along `axis` (qc.slice).
static Value sliceAlong(PatternRewriter &rw, Location loc, Value x, int64_t axis, int64_t start,
                        int64_t size) {
  auto ty = tensorTy(x);
  SmallVector<int64_t> shape(ty.getShape());
  shape[axis] = size;
  auto i64 = [&](int64_t v) {
    return arith::ConstantOp::create(
        rw, loc, DenseIntElementsAttr::get(RankedTensorType::get({1}, rw.getI64Type()),
                                           ArrayRef<int64_t>{v}));
  };
  return qc::SliceOp::create(rw, loc, RankedTensorType::get(shape, ty.getElementType()), x,
                             i64(start), i64(start + size), ValueRange{i64(axis)});
}

/// A quantized weight's scales and zero points: one each (per tensor) or
/// one per output channel along `channelAxis`; none for other types.
struct WeightScales {
  SmallVector<double> scales;
  SmallVector<int32_t> zps;
};
std::optional<WeightScales> weightScales(Type elt, int64_t channelAxis) {
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

/// What a zero point of 1 in each input row adds to the product of each
/// block of `blockK` rows of a constant 2-D [K, N] quantized weight,
/// dequantized: scales[c] * sum_k (w[k][c] - z_w[c]) per output channel c
/// (`scales` and `zps` one, or one per channel), one vector per block
/// (blockK = K: the whole product). None where the weight is not a constant.
std::optional<std::vector<std::vector<float>>>
zeroPointTerms(Value qw, ArrayRef<double> scales, ArrayRef<int32_t> zps, int64_t blockK) {
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

/// `r - zeros * terms`: a dequantized product of rows with zero points
/// `zeros` ([..., 1]) corrected by zeroPointTerms.
Value subtractZeroPoints(PatternRewriter &rw, Location loc, Value r, Value zeros,
                         ArrayRef<float> terms) {
  auto ty = tensorTy(r);
  Value t = qc::createBlobConstant(
      rw, loc, RankedTensorType::get({int64_t(terms.size())}, rw.getF32Type()), terms,
      "zero_point_terms");
  Value corr = qc::MulOp::create(rw, loc, ty, zeros, t);
  return qc::SubOp::create(rw, loc, ty, r, corr);
}

/// Conv / Gemm / MatMul between quantized operands, quantized result:
/// integer product, int32 bias, dyadic requantization with the activation
/// in the clamp.
/// The int32 product of a Conv, Gemm or MatMul between a per-tensor
/// quantized input and quantized weights (bias included at s_x * s_w), and
/// the float scale of each output channel's accumulator.
/// With `rows` (a Gemm or MatMul input dequantized per row at run time,
/// rowDequantized): the product of the int8 rows, `scales` without s_x,
/// the float result still to be multiplied by `rowScales` and to get
/// `floatBias` (times beta) added; with the rows' zero points `rowZeros`,
/// first `rowZeros * zeroTerms` subtracted (zeroPointTerms).
struct IntegerProduct {
  Value acc;
  SmallVector<double> scales; // alpha * s_x * s_w[c]
  int64_t outAxis = 0;
  RankedTensorType resTy;
  Value rowScales, floatBias, rowZeros;
  std::vector<float> zeroTerms;
  double beta = 1;
};

LogicalResult integerProduct(PatternRewriter &rw, Operation *op, IntegerProduct &out,
                             bool allowRows = false) {
  if (!isa_and_nonnull<qc::ConvOp, qc::GemmOp, qc::MatMulOp>(op))
    return failure();
  Value qx = dequantized(op->getOperand(0)), qw = dequantized(op->getOperand(1));
  std::optional<RowScaled> rows;
  if (!qx && allowRows && !isa<qc::ConvOp>(op))
    rows = rowDequantized(op->getOperand(0));
  if ((!qx && !rows) || !qw || (qx && !perTensor(qx)))
    return failure();
  // A row-scaled input: int8 at scale 1 (times its rows' scales later).
  UniformQuantizedType xq =
      qx ? perTensor(qx)
         : UniformQuantizedType::get(quant::QuantizationFlags::Signed, rw.getI8Type(),
                                     rw.getF32Type(), 1.0, 0, -128, 127);
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
      for (auto [d, size] : llvm::zip(sc.getQuantizedDimensions(), sc.getBlockSizes())) {
        if (d == kAxis)
          blockK = size;
        else if (d == channelAxis && size != 1)
          return rw.notifyMatchFailure(op, "weight blocks span output channels");
      }
      int64_t k = tensorTy(qw).getDimSize(kAxis);
      if (!blockK || k % blockK)
        return rw.notifyMatchFailure(op, "weight blocks not along the reduction axis");
      int64_t nb = k / blockK, channels = tensorTy(qw).getDimSize(channelAxis);
      SmallVector<float> flat(sc.getScales().getValues<float>());
      blockScales.assign(nb, SmallVector<double>(channels));
      for (int64_t bl = 0; bl < nb; ++bl)
        for (int64_t c = 0; c < channels; ++c)
          blockScales[bl][c] = isa<qc::ConvOp>(op) ? flat[c * nb + bl] : flat[bl * channels + c];
      wScales = blockScales[0]; // the bias goes with block 0
      wZps.assign(channels, 0);
    } else {
      return failure();
    }
    if (xq.getStorageTypeIntegralWidth() > 8 ||
        cast<QuantizedType>(wElt).getStorageTypeIntegralWidth() > 8)
      return failure();

    double alpha = 1, beta = 1;
    Value floatBias;
    if (auto gemm = dyn_cast<qc::GemmOp>(op)) {
      if (gemm.getTransA() || gemm.getTransB() || wRank != 2)
        return rw.notifyMatchFailure(op, "transposed Gemm operands");
      alpha = gemm.getAlpha().convertToDouble();
      beta = gemm.getBeta().convertToDouble();
      floatBias = gemm.getC();
      if (!(alpha > 0))
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
    if (floatBias && rows) {
      if (!readBias(floatBias))
        return rw.notifyMatchFailure(op, "bias is not a constant");
      out.floatBias = floatBias;
      out.beta = beta;
    } else if (floatBias) {
      std::optional<std::vector<float>> bv = readBias(floatBias);
      if (!bv || (int64_t(bv->size()) != channels && bv->size() != 1))
        return rw.notifyMatchFailure(op, "bias is not a per-channel constant");
      std::vector<int32_t> bi;
      for (int64_t c = 0; c < channels; ++c) {
        double v = beta * (*bv)[bv->size() == 1 ? 0 : c] / (alpha * xq.getScale() * wScale(c));
        if (!(std::fabs(v) < 2147483647.0))
          return rw.notifyMatchFailure(op, "bias does not fit int32 at s_x * s_w");
        bi.push_back(int32_t(std::nearbyint(v)));
      }
      bias = qc::createBlobConstant(rw, loc, RankedTensorType::get({channels}, rw.getI32Type()),
                                    bi, "bias_int32");
    }
    auto accTy = RankedTensorType::get(resTy.getShape(), rw.getI32Type());
    Value x = rows ? rows->ints : storageOf(rw, loc, qx), w = storageOf(rw, loc, qw);
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
        return qc::ConvIntOp::create(rw, loc, accTy, xs, ws, b, strides, *pads, dil,
                                     conv.getGroup(), int32_t(xq.getZeroPoint()), wZps);
      return qc::MatMulIntOp::create(rw, loc, accTy, xs, ws, b, int32_t(xq.getZeroPoint()),
                                     wZps);
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
      int f = std::clamp(int(std::floor(std::log2(std::ldexp(1.0, 30) / bound))), 0, 8);
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
        FailureOr<Value> r = requantizeTo(rw, loc, part, ratio, 0, outAxis, accTy, 0,
                                          INT32_MIN, INT32_MAX);
        if (failed(r))
          return failure();
        acc = bl == 0 ? *r : qc::AddOp::create(rw, loc, accTy, acc, *r).getResult();
      }
      for (int64_t c = 0; c < channels; ++c)
        ref[c] = std::ldexp(ref[c], -f);
      wScales = ref;
    }
  for (int64_t c = 0, e = wScales.size(); c < e; ++c)
    out.scales.push_back(alpha * xq.getScale() * wScales[c]);
  if (rows && rows->zeros) {
    std::optional<std::vector<std::vector<float>>> terms;
    if (blockScales.empty())
      terms = zeroPointTerms(qw, out.scales, wZps, tensorTy(qw).getDimSize(0));
    if (!terms)
      return rw.notifyMatchFailure(op, "zero points per row need a constant 2-D weight");
    out.rowZeros = rows->zeros;
    out.zeroTerms = std::move(terms->front());
  }
  out.acc = acc;
  out.outAxis = outAxis;
  out.resTy = resTy;
  return success();
}

struct LinearToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q, PatternRewriter &rw) const override {
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
        storageTensorType(p.resTy, yq), yq.getZeroPoint(), lo, hi);
    return replaceWithIntegers(rw, q, y);
  }
};

/// `r + beta * bias` (the float bias of a Gemm or of a row-scaled product).
Value addFloatBias(PatternRewriter &rw, Location loc, Value r, Value bias, double beta) {
  if (beta != 1) {
    std::vector<float> bv = *readBias(bias);
    for (float &v : bv)
      v = float(beta * v);
    bias = qc::createBlobConstant(rw, loc, tensorTy(bias).clone(rw.getF32Type()), bv,
                                  "bias_beta");
  }
  return qc::AddOp::create(rw, loc, tensorTy(r), r, bias);
}

/// A Gemm or MatMul whose input is quantized per group of G channels
/// (groupDequantized) and whose 2-D weight is quantized per tensor or per
/// output channel. Signed weights without zero points (the default) become
/// one qc.matmul_group_scaled. Others: for each group b, the int32 product
/// of the int8 columns [bG, bG + G) with the weight rows [bG, bG + G),
/// dequantized with
/// alpha * s_w per channel (less the group's zero points times the weight
/// rows' terms, zeroPointTerms, where it has them) and multiplied by the
/// group's scales; the float results summed, then the float bias (times
/// beta) added.
FailureOr<Value> groupProduct(PatternRewriter &rw, Operation *op, const GroupScaled &g) {
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
      cast<QuantizedType>(wElt).getStorageTypeIntegralWidth() > 8 || k % g.group)
    return failure();
  SmallVector<double> wScales = ws->scales;
  SmallVector<int32_t> wZps = ws->zps;
  if (wScales.size() == 1) {
    wScales.assign(n, wScales[0]);
    wZps.assign(n, wZps[0]);
  }
  double alpha = 1, beta = 1;
  Value floatBias;
  if (auto gemm = dyn_cast<qc::GemmOp>(op)) {
    if (gemm.getTransA() || gemm.getTransB())
      return failure();
    alpha = gemm.getAlpha().convertToDouble();
    beta = gemm.getBeta().convertToDouble();
    floatBias = gemm.getC();
    if (floatBias && !readBias(floatBias))
      return failure();
  }
  Location loc = op->getLoc();
  int64_t rank = resTy.getRank(), groups = k / g.group;
  SmallVector<int64_t> flat(resTy.getShape());
  flat.back() = k;
  Value x = qc::createReshape(rw, loc, g.ints, flat);
  flat.back() = groups;
  Value scales = qc::createReshape(rw, loc, g.scales, flat);
  Value zeros = g.zeros ? qc::createReshape(rw, loc, g.zeros, flat) : Value();
  Value w = storageOf(rw, loc, qw);
  SmallVector<double> outScales;
  for (double s : wScales)
    outScales.push_back(alpha * s);
  // Signed weights without zero points: one qc.matmul_group_scaled, whose
  // kernels scale each group's int32 sums in registers.
  if (cast<QuantizedType>(wElt).isSigned() && llvm::all_of(wZps, [](int32_t z) { return !z; })) {
    Type f32 = rw.getF32Type();
    std::vector<float> sb(outScales.begin(), outScales.end());
    Value bScales = qc::createBlobConstant(rw, loc, RankedTensorType::get({n}, f32), sb,
                                           "group_weight_scales");
    Value bias;
    std::optional<std::vector<float>> bv = floatBias ? readBias(floatBias) : std::nullopt;
    if (bv && (int64_t(bv->size()) == n || bv->size() == 1)) {
      std::vector<float> scaled(static_cast<size_t>(n));
      for (int64_t c = 0; c < n; ++c)
        scaled[size_t(c)] = float(beta * (*bv)[bv->size() == 1 ? 0 : size_t(c)]);
      bias = qc::createBlobConstant(rw, loc, RankedTensorType::get({n}, f32), scaled,
                                    "bias_beta");
    }
    Value y = qc::MatMulGroupScaledOp::create(rw, loc, resTy, x, w, scales, bScales, zeros, bias,
                                              g.group);
    return floatBias && !bias ? addFloatBias(rw, loc, y, floatBias, beta) : y;
  }
  std::vector<std::vector<float>> zeroTerms;
  if (zeros) {
    std::optional<std::vector<std::vector<float>>> t =
        zeroPointTerms(qw, outScales, wZps, g.group);
    if (!t)
      return failure();
    zeroTerms = std::move(*t);
  }

  auto accQ = UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, rw.getI32Type(), rw.getF32Type(), outScales,
      SmallVector<int64_t>(n, 0), int32_t(rank - 1), INT32_MIN, INT32_MAX);
  auto accTy = RankedTensorType::get(resTy.getShape(), rw.getI32Type());
  Value sum;
  for (int64_t b = 0; b < groups; ++b) {
    Value xs = sliceAlong(rw, loc, x, rank - 1, b * g.group, g.group);
    Value ws = sliceAlong(rw, loc, w, 0, b * g.group, g.group);
    Value acc = qc::MatMulIntOp::create(rw, loc, accTy, xs, ws, Value(), 0, wZps);
    Value q = qc::StorageCastOp::create(rw, loc, resTy.clone(accQ), acc);
    Value part = qc::DequantizeOp::create(rw, loc, resTy, q);
    if (zeros)
      part = subtractZeroPoints(rw, loc, part, sliceAlong(rw, loc, zeros, rank - 1, b, 1),
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
      return llvm::any_of(v.getUsers(), [](Operation *u) { return isa<qc::QuantizeOp>(u); });
    };
    if (feedsQuantize(y))
      return failure();
    for (Operation *u : y.getUsers())
      if (isa<qc::ReluOp, qc::ClipOp>(u) && feedsQuantize(u->getResult(0)))
        return failure();
    if (std::optional<GroupScaled> g = groupDequantized(op->getOperand(0))) {
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
    quant::QuantizedType qt;
    if (p.scales.size() == 1)
      qt = UniformQuantizedType::get(quant::QuantizationFlags::Signed, i32, f32, p.scales[0], 0,
                                     INT32_MIN, INT32_MAX);
    else
      qt = UniformQuantizedPerAxisType::get(quant::QuantizationFlags::Signed, i32, f32, p.scales,
                                            SmallVector<int64_t>(p.scales.size(), 0),
                                            int32_t(p.outAxis), INT32_MIN, INT32_MAX);
    Location loc = op.getLoc();
    Value q = qc::StorageCastOp::create(rw, loc, RankedTensorType::get(p.resTy.getShape(), qt),
                                        p.acc);
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

/// Add of two quantized tensors: both requantized to s_y / 2^F in int32,
/// added, requantized to the result.
struct AddToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q, PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    if (!yq)
      return failure();
    double actLo, actHi;
    auto add = peelActivation(q.getInput(), actLo, actHi).getDefiningOp<qc::AddOp>();
    if (!add)
      return failure();
    Value qa = dequantized(add.getA()), qb = dequantized(add.getB());
    if (!qa || !qb || !perTensor(qa) || !perTensor(qb))
      return failure();
    UniformQuantizedType aq = perTensor(qa), bq = perTensor(qb);
    double ra = aq.getScale() / yq.getScale(), rb = bq.getScale() / yq.getScale();
    // |x - zp| < 2^bits; keep each shifted term below 2^29.
    double bound = std::ldexp(1.0, std::max(aq.getStorageTypeIntegralWidth(),
                                            bq.getStorageTypeIntegralWidth()));
    int f = int(std::floor(std::log2(std::ldexp(1.0, 29) / (bound * std::max(ra, rb)))));
    f = std::clamp(f, 0, 20);
    Location loc = add.getLoc();
    int64_t i32min = INT32_MIN, i32max = INT32_MAX;
    auto term = [&](Value qv, UniformQuantizedType t, double r) -> FailureOr<Value> {
      auto ty = RankedTensorType::get(tensorTy(qv).getShape(), rw.getI32Type());
      return requantizeTo(rw, loc, storageOf(rw, loc, qv), {std::ldexp(r, f)},
                          t.getZeroPoint(), std::nullopt, ty, 0, i32min, i32max);
    };
    FailureOr<Value> ta = term(qa, aq, ra), tb = term(qb, bq, rb);
    if (failed(ta) || failed(tb))
      return failure();
    auto sumTy = RankedTensorType::get(tensorTy(add.getC()).getShape(), rw.getI32Type());
    Value sum = qc::AddOp::create(rw, loc, sumTy, *ta, *tb);
    auto [lo, hi] = clampRange(yq, actLo, actHi);
    FailureOr<Value> y = requantizeTo(rw, loc, sum, {std::ldexp(1.0, -f)}, 0, std::nullopt,
                                      storageTensorType(sumTy, yq), yq.getZeroPoint(), lo, hi);
    return replaceWithIntegers(rw, q, y);
  }
};

/// GlobalAveragePool: int32 sum over the spatial dims, requantized with
/// s_x / (n s_y) after subtracting n * zp_x.
struct GlobalAveragePoolToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q, PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    auto pool = q.getInput().getDefiningOp<qc::GlobalAveragePoolOp>();
    if (!yq || !pool)
      return failure();
    Value qx = dequantized(pool.getX());
    if (!qx || !perTensor(qx))
      return failure();
    UniformQuantizedType xq = perTensor(qx);
    auto xTy = tensorTy(qx);
    if (!xTy.hasStaticShape())
      return failure();
    int64_t n = 1;
    SmallVector<int64_t> axes;
    for (int64_t d = 2; d < xTy.getRank(); ++d) {
      n *= xTy.getDimSize(d);
      axes.push_back(d);
    }
    if (n * 255 > INT32_MAX)
      return failure();
    Location loc = pool.getLoc();
    Value wide = qc::CastOp::create(
        rw, loc, RankedTensorType::get(xTy.getShape(), rw.getI32Type()), storageOf(rw, loc, qx));
    auto sumTy = RankedTensorType::get(tensorTy(pool.getY()).getShape(), rw.getI32Type());
    Value sum = qc::ReduceSumOp::create(rw, loc, sumTy, wide, axes, 1, 0);
    FailureOr<Value> y = requantizeTo(
        rw, loc, sum, {xq.getScale() / (double(n) * yq.getScale())}, n * xq.getZeroPoint(),
        std::nullopt, storageTensorType(sumTy, yq), yq.getZeroPoint(),
        yq.getStorageTypeMin(), yq.getStorageTypeMax());
    return replaceWithIntegers(rw, q, y);
  }
};

/// quantize(act?(dequantize(x))) to other parameters: qc.requantize.
struct RequantizeQDQ : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q, PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    double actLo, actHi;
    Value x = dequantized(peelActivation(q.getInput(), actLo, actHi));
    if (!yq || !x || !perTensor(x))
      return failure();
    if (x.getType() == q.getType() && std::isinf(actLo) && std::isinf(actHi))
      return failure(); // the folder's
    UniformQuantizedType xq = perTensor(x);
    auto [lo, hi] = clampRange(yq, actLo, actHi);
    FailureOr<Value> y = requantizeTo(rw, q.getLoc(), storageOf(rw, q.getLoc(), x),
                                      {xq.getScale() / yq.getScale()}, xq.getZeroPoint(),
                                      std::nullopt, storageTensorType(tensorTy(x), yq),
                                      yq.getZeroPoint(), lo, hi);
    return replaceWithIntegers(rw, q, y);
  }
};

/// Concat of quantized tensors: each requantized to the result's type.
struct ConcatToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q, PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    auto concat = q.getInput().getDefiningOp<qc::ConcatOp>();
    if (!yq || !concat)
      return failure();
    // Every input must come dequantized per tensor before anything is
    // created: a pattern that fails must leave the IR as it found it.
    if (!llvm::all_of(concat.getInputs(), [](Value in) {
          Value x = dequantized(in);
          return x && perTensor(x);
        }))
      return failure();
    SmallVector<Value> ints;
    for (Value in : concat.getInputs()) {
      Value x = dequantized(in);
      auto qTy = RankedTensorType::get(tensorTy(x).getShape(), yq);
      Value requant = x.getType() == qTy
                          ? x
                          : qc::QuantizeOp::create(rw, q.getLoc(), qTy,
                                                   qc::DequantizeOp::create(rw, q.getLoc(), tensorTy(in), x));
      ints.push_back(storageOf(rw, q.getLoc(), requant));
    }
    Value y = qc::ConcatOp::create(rw, concat.getLoc(), storageTensorType(tensorTy(concat.getResult()), yq),
                                   ints, concat.getAxis());
    rw.replaceOpWithNewOp<qc::StorageCastOp>(q, q.getType(), y);
    return success();
  }
};

/// Ops that commute with per-tensor dequantization run on the integers.
struct DequantizeLater : RewritePattern {
  DequantizeLater(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rw) const override {
    if (!isa<qc::MaxPoolOp, qc::GlobalMaxPoolOp, qc::ReshapeOp, qc::FlattenOp,
             qc::TransposeOp, qc::SqueezeOp, qc::UnsqueezeOp>(op))
      return failure();
    if (op->getNumOperands() < 1 || (op->getNumResults() > 1 && !op->getResult(1).use_empty()))
      return failure();
    Value x = dequantized(op->getOperand(0));
    if (!x || !perTensor(x))
      return failure();
    UniformQuantizedType xq = perTensor(x);
    auto resTy = tensorTy(op->getResult(0));
    Value ints = storageOf(rw, op->getLoc(), x);
    Operation *clone = rw.clone(*op);
    rw.modifyOpInPlace(clone, [&] {
      clone->setOperand(0, ints);
      clone->getResult(0).setType(storageTensorType(resTy, xq));
    });
    Value qy = qc::StorageCastOp::create(
        rw, op->getLoc(), RankedTensorType::get(resTy.getShape(), xq), clone->getResult(0));
    Value y = qc::DequantizeOp::create(rw, op->getLoc(), resTy, qy);
    SmallVector<Value> repl{y};
    for (unsigned i = 1; i < op->getNumResults(); ++i)
      repl.push_back(clone->getResult(i));
    rw.replaceOp(op, repl);
    return success();
  }
};

struct LowerQuantizedToIntegerPass
    : qc::impl::LowerQuantizedToIntegerBase<LowerQuantizedToIntegerPass> {
  static constexpr int64_t kMaxSweeps = 100;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    auto blockedWeights = [&] {
      // Block-quantized weights no integer op took stay float (their
      // dequantized values), as the float islands around them.
      RewritePatternSet p(ctx);
      p.add<DequantizeBlockedConstant>(ctx);
      return applyPatternsGreedily(getOperation(), std::move(p));
    };
    RewritePatternSet patterns(ctx);
    patterns.add<LinearToInteger, AddToInteger, GlobalAveragePoolToInteger,
                 ConcatToInteger, DequantizeLater>(ctx);
    patterns.add<RequantizeQDQ>(ctx, /*benefit=*/0);
    patterns.add<LinearToIntegerFloatResult<qc::ConvOp>, LinearToIntegerFloatResult<qc::GemmOp>,
                 LinearToIntegerFloatResult<qc::MatMulOp>>(ctx, /*benefit=*/0);
    qc::StorageCastOp::getCanonicalizationPatterns(patterns, ctx);
    // Each sweep moves dequantizations one op further down a chain, so deep
    // models need more sweeps than the driver's default ten.
    GreedyRewriteConfig config;
    config.setMaxIterations(kMaxSweeps);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config))) {
      mlir::emitError(getOperation()->getLoc())
          << "lower-quantized-to-integer: the rewrite did not settle in " << kMaxSweeps
          << " sweeps";
      return signalPassFailure();
    }
    if (failed(blockedWeights()))
      signalPassFailure();
  }
};

} // namespace
