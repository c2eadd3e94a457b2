//===- Common.cpp - lower-quantized-to-integer helpers
//---------------------===//
#include "IntegerLowering.h"
#include "qc/Dialect/QC/IR/ElementsData.h"
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

namespace qc::integer {

UniformQuantizedType perTensor(Value v) {
  return dyn_cast<UniformQuantizedType>(tensorTy(v).getElementType());
}

Value dequantized(Value v) {
  auto dq = v.getDefiningOp<qc::DequantizeOp>();
  return dq ? dq.getInput() : Value();
}

std::optional<DynamicInput> dynamicInput(Value v) {
  auto dq = v.getDefiningOp<qc::DynamicDequantizeOp>();
  if (!dq || !dq.getInput().getType().hasStaticShape())
    return std::nullopt;
  int64_t groups = dq.getScales().getType().getShape().back();
  return DynamicInput{dq.getInput(), dq.getScales(), dq.getZeroPoints(),
                      dq.getGroupSize(), groups};
}

std::optional<float> splatValue(Value c) {
  Attribute attr;
  if (!matchPattern(c, m_Constant(&attr)))
    return std::nullopt;
  std::optional<std::vector<float>> vals = qc::readFloatElements(attr);
  if (!vals || vals->empty() ||
      llvm::any_of(*vals, [&](float v) { return v != vals->front(); }))
    return std::nullopt;
  return vals->front();
}

std::optional<int64_t> constantLevel(Value c, UniformQuantizedType qt) {
  std::optional<float> v = splatValue(c);
  if (!v)
    return std::nullopt;
  float r = std::nearbyint(*v / float(qt.getScale()));
  return std::clamp<int64_t>(int64_t(r) + qt.getZeroPoint(),
                             qt.getStorageTypeMin(), qt.getStorageTypeMax());
}

Operation *cloneOnIntegers(PatternRewriter &rw, Operation *op, Value ints,
                           QuantizedType qt) {
  Operation *clone = rw.clone(*op);
  rw.modifyOpInPlace(clone, [&] {
    clone->setOperand(0, ints);
    clone->getResult(0).setType(
        storageTensorType(tensorTy(op->getResult(0)), qt));
  });
  return clone;
}

Value storageOf(OpBuilder &b, Location loc, Value q) {
  auto qt = cast<QuantizedType>(tensorTy(q).getElementType());
  Type intTy = IntegerType::get(
      b.getContext(), qt.getStorageTypeIntegralWidth(),
      qt.isSigned() ? IntegerType::Signless : IntegerType::Unsigned);
  return qc::StorageCastOp::create(
      b, loc, RankedTensorType::get(tensorTy(q).getShape(), intTy), q);
}

RankedTensorType storageTensorType(RankedTensorType shape, QuantizedType qt) {
  Type intTy = IntegerType::get(
      shape.getContext(), qt.getStorageTypeIntegralWidth(),
      qt.isSigned() ? IntegerType::Signless : IntegerType::Unsigned);
  return RankedTensorType::get(shape.getShape(), intTy);
}

LogicalResult dyadics(ArrayRef<double> scales, SmallVectorImpl<int32_t> &mult,
                      SmallVectorImpl<int32_t> &shift, unsigned bits) {
  for (double s : scales) {
    std::optional<qc::Dyadic> d = qc::computeDyadic(s, bits);
    if (!d)
      return failure();
    mult.push_back(d->multiplier);
    shift.push_back(d->shift);
  }
  return success();
}

std::pair<int64_t, int64_t> clampRange(UniformQuantizedType qt, double lo,
                                       double hi) {
  int64_t qmin = qt.getStorageTypeMin(), qmax = qt.getStorageTypeMax();
  if (std::isfinite(lo))
    qmin = std::max<int64_t>(qmin, qt.getZeroPoint() +
                                       std::llround(lo / qt.getScale()));
  if (std::isfinite(hi))
    qmax = std::min<int64_t>(qmax, qt.getZeroPoint() +
                                       std::llround(hi / qt.getScale()));
  return {qmin, std::max(qmin, qmax)};
}

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

FailureOr<Value> requantizeTo(PatternRewriter &rw, Location loc, Value ints,
                              ArrayRef<double> scales, int64_t inZp,
                              std::optional<int64_t> axis,
                              RankedTensorType resultTy, int64_t outZp,
                              int64_t lo, int64_t hi, unsigned bits) {
  SmallVector<int32_t> mult, shift;
  if (failed(dyadics(scales, mult, shift, bits)))
    return failure();
  return qc::RequantizeOp::create(rw, loc, resultTy, ints, mult, shift,
                                  axis ? rw.getI64IntegerAttr(*axis)
                                       : IntegerAttr(),
                                  int32_t(inZp), int32_t(outZp), lo, hi)
      .getResult();
}

LogicalResult replaceWithIntegers(PatternRewriter &rw, qc::QuantizeOp q,
                                  FailureOr<Value> y) {
  if (failed(y))
    return rw.notifyMatchFailure(
        q, "a requantization scale has no int32 dyadic form");
  rw.replaceOpWithNewOp<qc::StorageCastOp>(q, q.getType(), *y);
  return success();
}

std::optional<std::vector<float>> dequantizedConstant(qc::DequantizeOp dq) {
  auto inTy = tensorTy(dq->getOperand(0));
  auto qt = dyn_cast<QuantizedType>(inTy.getElementType());
  auto storage = dq->getOperand(0).getDefiningOp<qc::StorageCastOp>();
  ElementsAttr attr;
  if (!qt || !storage || !inTy.hasStaticShape() ||
      !matchPattern(storage->getOperand(0), m_Constant(&attr)))
    return std::nullopt;
  std::optional<std::vector<int64_t>> q =
      qc::readIntegerElements(attr, qt.isSigned());
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
    for (auto [d, size] :
         llvm::zip(sc.getQuantizedDimensions(), sc.getBlockSizes()))
      blocks[d] = size;
    auto st = cast<ShapedType>(sc.getScales().getType()).getShape();
    scaleShape.assign(st.begin(), st.end());
    for (float v : sc.getScales().getValues<float>())
      scales.push_back(v);
    for (const APInt &z : sc.getZeroPoints().getValues<APInt>())
      zps.push_back(
          double(isSigned ? z.getSExtValue() : int64_t(z.getZExtValue())));
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

std::optional<std::vector<float>> readBias(Value v) {
  if (std::optional<std::vector<float>> f = qc::readFloatConstant(v))
    return f;
  if (auto dq = v.getDefiningOp<qc::DequantizeOp>())
    return dequantizedConstant(dq);
  return std::nullopt;
}

Value sliceAlong(PatternRewriter &rw, Location loc, Value x, int64_t axis,
                 int64_t start, int64_t size) {
  auto ty = tensorTy(x);
  SmallVector<int64_t> shape(ty.getShape());
  shape[axis] = size;
  auto i64 = [&](int64_t v) {
    return arith::ConstantOp::create(
        rw, loc,
        DenseIntElementsAttr::get(RankedTensorType::get({1}, rw.getI64Type()),
                                  ArrayRef<int64_t>{v}));
  };
  return qc::SliceOp::create(
      rw, loc, RankedTensorType::get(shape, ty.getElementType()), x, i64(start),
      i64(start + size), ValueRange{i64(axis)});
}

} // namespace qc::integer
