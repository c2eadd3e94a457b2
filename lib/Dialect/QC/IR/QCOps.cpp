//===- QCOps.cpp - qc operations: verifiers, folders, canonicalization ----===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/IR/ElementsData.h"

#include "mlir/IR/TypeUtilities.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using mlir::quant::QuantizedType;
using mlir::quant::UniformQuantizedPerAxisType;
using mlir::quant::UniformQuantizedSubChannelType;
using mlir::quant::UniformQuantizedType;
using namespace qc;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

IntRange qc::integerRange(IntegerType type) {
  return integerRange(type.getWidth(), !type.isUnsigned());
}

static IntegerType elementIntType(Value v) {
  return cast<IntegerType>(cast<ShapedType>(v.getType()).getElementType());
}

/// Error unless `value` lies in the storage range of `type`.
static LogicalResult checkInRange(Operation *op, StringRef what, int64_t value,
                                  IntegerType type) {
  IntRange r = integerRange(type);
  if (value < r.min || value > r.max)
    return op->emitOpError()
           << what << " " << value << " is outside the range [" << r.min << ", "
           << r.max << "] of " << type;
  return success();
}

static LogicalResult checkNarrowInteger(Operation *op, StringRef what,
                                        Value v) {
  IntegerType t = elementIntType(v);
  if (t.getWidth() > 8)
    return op->emitOpError()
           << what << " must have integer elements of at most "
           << "8 bits, got " << t;
  return success();
}

/// A product's activation operand: at most 8 bits with an i32 result, or
/// 9-16 bits (a 16-bit activation) with an i64 result.
static LogicalResult checkActivationOperand(Operation *op, StringRef what,
                                            Value v, Value result) {
  IntegerType t = elementIntType(v);
  unsigned acc = elementIntType(result).getWidth();
  if (t.getWidth() > 16)
    return op->emitOpError()
           << what << " must have integer elements of at most 16 bits, got "
           << t;
  unsigned want = t.getWidth() > 8 ? 64 : 32;
  if (acc != want)
    return op->emitOpError()
           << "result must be i" << want << " for " << what << " of " << t;
  return success();
}

/// A product's bias is in the accumulator's type.
static LogicalResult checkBiasType(Operation *op, Value bias, Value result) {
  if (bias && getElementTypeOrSelf(bias.getType()) !=
                  getElementTypeOrSelf(result.getType()))
    return op->emitOpError() << "bias elements must match the result's, got "
                             << bias.getType();
  return success();
}

static bool staticMismatch(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      "x");
  return s;
}

/// Error unless `actual` matches `expected` where both are static.
static LogicalResult checkShape(Operation *op, StringRef what,
                                ArrayRef<int64_t> actual,
                                ArrayRef<int64_t> expected) {
  if (actual.size() != expected.size() ||
      llvm::any_of(llvm::zip(actual, expected), [](auto p) {
        return staticMismatch(std::get<0>(p), std::get<1>(p));
      }))
    return op->emitOpError()
           << what << " shape " << shapeStr(actual)
           << " does not match the expected " << shapeStr(expected);
  return success();
}

LogicalResult qc::verifyAxisInRange(Operation *op) {
  auto axis = op->getAttrOfType<IntegerAttr>("axis");
  if (!axis || op->getNumOperands() == 0)
    return success();
  auto ty = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!ty ||
      isa<ConvIntegerOp, MatMulIntegerOp, QLinearConvOp, QLinearMatMulOp>(op))
    return success();
  if (isa<QuantizeLinearOp, DequantizeLinearOp>(op)) {
    // The axis of the scales: ignored (default 1) with one scale.
    auto sTy = op->getNumOperands() > 1
                   ? dyn_cast<RankedTensorType>(op->getOperand(1).getType())
                   : RankedTensorType();
    if (!sTy || !sTy.hasStaticShape() || sTy.getNumElements() <= 1)
      return success();
  }
  int64_t r = ty.getRank(), lo = -r, hi = r - 1;
  if (isa<FlattenOp>(op))
    hi = r;
  else if (isa<OneHotOp>(op))
    lo = -r - 1, hi = r;
  int64_t a = axis.getValue().getSExtValue();
  if (a < lo || a > hi)
    return op->emitOpError()
           << "axis " << a << " is out of range [" << lo << ", " << hi
           << "] for its rank-" << r << " input " << ty;
  return success();
}

LogicalResult
qc::verifyQuantizedTensorType(function_ref<InFlightDiagnostic()> emitError,
                              QuantizedType qtype, ArrayRef<int64_t> shape) {
  int64_t smin = qtype.getStorageTypeMin(), smax = qtype.getStorageTypeMax();
  auto checkZp = [&](int64_t zp) -> LogicalResult {
    if (zp < smin || zp > smax)
      return emitError() << "zero point " << zp << " is outside the storage "
                         << "range [" << smin << ", " << smax << "] of "
                         << qtype;
    return success();
  };
  // Upstream's parser checks each scale against the expressed type's range,
  // a comparison NaN passes.
  auto checkScale = [&](double scale) -> LogicalResult {
    if (!std::isfinite(scale) || scale <= 0)
      return emitError() << "scale " << scale << " of " << qtype
                         << " is not a positive finite number";
    return success();
  };
  int64_t rank = shape.size();

  if (auto u = dyn_cast<UniformQuantizedType>(qtype))
    return failure(failed(checkScale(u.getScale())) ||
                   failed(checkZp(u.getZeroPoint())));

  if (auto pa = dyn_cast<UniformQuantizedPerAxisType>(qtype)) {
    int64_t axis = pa.getQuantizedDimension();
    if (axis >= rank)
      return emitError() << "quantization axis " << axis
                         << " is out of range for a tensor of rank " << rank;
    int64_t n = pa.getScales().size();
    if (!ShapedType::isDynamic(shape[axis]) && shape[axis] != n)
      return emitError() << "per-axis type has " << n << " scales but axis "
                         << axis << " has " << shape[axis] << " channels";
    for (int64_t zp : pa.getZeroPoints())
      if (failed(checkZp(zp)))
        return failure();
    for (double scale : pa.getScales())
      if (failed(checkScale(scale)))
        return failure();
    return success();
  }

  if (auto sc = dyn_cast<UniformQuantizedSubChannelType>(qtype)) {
    auto scalesShape = sc.getScales().getType().getShape();
    if (int64_t(scalesShape.size()) != rank)
      return emitError() << "block-quantized type has scales of rank "
                         << scalesShape.size() << " for a tensor of rank "
                         << rank;
    SmallVector<int64_t> blocks(rank, 1);
    for (auto [dim, block] :
         llvm::zip(sc.getQuantizedDimensions(), sc.getBlockSizes())) {
      if (dim >= rank)
        return emitError() << "quantization axis " << dim
                           << " is out of range for a tensor of rank " << rank;
      blocks[dim] = block;
    }
    for (int64_t d = 0; d < rank; ++d) {
      if (ShapedType::isDynamic(shape[d]))
        continue;
      if (shape[d] % blocks[d] != 0)
        return emitError() << "dimension " << d << " of size " << shape[d]
                           << " is not a multiple of the block size "
                           << blocks[d];
      if (shape[d] / blocks[d] != scalesShape[d])
        return emitError() << "dimension " << d << " has "
                           << shape[d] / blocks[d]
                           << " blocks but the type has " << scalesShape[d]
                           << " scales along it";
    }
    for (APInt zp : sc.getZeroPoints().getValues<APInt>())
      if (failed(checkZp(zp.getSExtValue())))
        return failure();
    return success();
  }
  return emitError() << "unsupported quantized type " << qtype
                     << " (expected !quant.uniform)";
}

/// Shared by quantize and dequantize: same shape, matching expressed type,
/// quantized type consistent with the shape.
static LogicalResult verifyQuantizePair(Operation *op, RankedTensorType floatTy,
                                        RankedTensorType quantTy) {
  if (failed(checkShape(op, "quantized tensor", quantTy.getShape(),
                        floatTy.getShape())))
    return failure();
  auto qtype = cast<QuantizedType>(quantTy.getElementType());
  if (qtype.getExpressedType() != floatTy.getElementType())
    return op->emitOpError()
           << "expressed type " << qtype.getExpressedType()
           << " of the quantized type differs from the float element type "
           << floatTy.getElementType();
  return verifyQuantizedTensorType([op] { return op->emitOpError(); }, qtype,
                                   quantTy.getShape());
}

//===----------------------------------------------------------------------===//
// ObserveOp
//===----------------------------------------------------------------------===//

LogicalResult ObserveOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty name to record statistics under");
  if (int64_t(getBins()) < 0)
    return emitOpError() << "bins must be non-negative, got "
                         << int64_t(getBins());
  if (bool(getMin()) != bool(getMax()))
    return emitOpError("needs both min and max, or neither");
  if (getMinAttr() &&
      !(getMinAttr().getValueAsDouble() <= getMaxAttr().getValueAsDouble()))
    return emitOpError() << "range [" << getMinAttr().getValueAsDouble() << ", "
                         << getMaxAttr().getValueAsDouble() << "] is empty";
  // Per-channel statistics: one value per channel along channel_axis.
  auto ty = cast<RankedTensorType>(getInput().getType());
  for (auto [values, what] :
       {std::pair(getChannelMean(), "channel_mean"),
        std::pair(getChannelAbsMax(), "channel_abs_max")}) {
    if (!values)
      continue;
    if (!getChannelAxis() || int64_t(*getChannelAxis()) >= ty.getRank())
      return emitOpError() << what << " needs a channel_axis of the tensor";
    if (!ty.isDynamicDim(*getChannelAxis()) &&
        int64_t(values->size()) != ty.getDimSize(*getChannelAxis()))
      return emitOpError() << what << " has " << values->size()
                           << " entries for "
                           << ty.getDimSize(*getChannelAxis()) << " channels";
  }
  if (ElementsAttr gram = getGramAttr()) {
    auto gTy = dyn_cast<RankedTensorType>(gram.getType());
    int64_t last = ty.getRank() - 1;
    if (!getChannelAxis() || int64_t(*getChannelAxis()) != last)
      return emitOpError("gram needs the last axis as channel_axis");
    int64_t c = ty.getDimSize(last);
    if (!gTy || !gTy.getElementType().isF32() || gTy.getRank() != 2 ||
        gTy.getDimSize(0) != gTy.getDimSize(1) ||
        (!ty.isDynamicDim(last) && gTy.getDimSize(0) != c))
      return emitOpError() << "gram must be a " << c << "x" << c
                           << " f32 tensor, got " << gram.getType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// HadamardOp
//===----------------------------------------------------------------------===//

int64_t HadamardOp::getFactorSize() {
  return getFactor()
             ? cast<RankedTensorType>(getFactor().getType()).getDimSize(0)
             : 1;
}

LogicalResult HadamardOp::verify() {
  auto ty = cast<RankedTensorType>(getInput().getType());
  if (ty.getRank() < 1 || ty.isDynamicDim(ty.getRank() - 1))
    return emitOpError("needs a static last dimension");
  int64_t n = ty.getDimSize(ty.getRank() - 1), m = 1;
  if (getFactor()) {
    auto fty = cast<RankedTensorType>(getFactor().getType());
    if (fty.getRank() != 2 || fty.isDynamicDim(0) ||
        fty.getDimSize(0) != fty.getDimSize(1) ||
        fty.getElementType() != ty.getElementType())
      return emitOpError() << "factor must be a static square matrix of "
                           << ty.getElementType() << ", got " << fty;
    m = fty.getDimSize(0);
  }
  if (m < 1 || n % m || !llvm::isPowerOf2_64(uint64_t(n / m)))
    return emitOpError() << "last dimension " << n << " is not " << m
                         << " (the factor's size) times a power of two";
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  return verifyQuantizePair(*this, getInput().getType(), getOutput().getType());
}

OpFoldResult QuantizeOp::fold(FoldAdaptor) {
  // quantize(dequantize(q)) == q when the parameters are the same.
  if (auto dq = getInput().getDefiningOp<DequantizeOp>())
    if (dq.getInput().getType() == getType())
      return dq.getInput();
  return {};
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantizePair(*this, getOutput().getType(), getInput().getType());
}

//===----------------------------------------------------------------------===//
// BlockDequantizeOp
//===----------------------------------------------------------------------===//

unsigned qc::BlockDequantizeOp::getCodeBits() {
  std::optional<minifloat::Format> f = minifloatFormat(getFormat());
  return f ? minifloat::layout(*f).bits : 0;
}

LogicalResult qc::BlockDequantizeOp::verify() {
  ElementFormat f = getFormat();
  if (f == ElementFormat::Int || f == ElementFormat::E8M0)
    return emitOpError() << "format must be a minifloat element format "
                            "(fp8_e4m3, fp8_e5m2, fp6_e3m2, fp6_e2m3, "
                            "fp4_e2m1), got "
                         << stringifyElementFormat(f);
  auto ty = getOutput().getType();
  if (!ty.hasStaticShape() || ty.getRank() < 1)
    return emitOpError() << "needs a static result shape of rank >= 1";
  int64_t axis = getAxis();
  if (!(axis == 0 || (ty.getRank() == 2 && axis == 1)))
    return emitOpError() << "channel axis must be 0, or 1 of a 2-d result, got "
                         << axis;
  auto codesTy = getCodes().getType();
  int64_t n = ty.getNumElements();
  int64_t bytes = (n * getCodeBits() + 7) / 8;
  if (codesTy.getRank() != 1 || codesTy.getDimSize(0) != bytes)
    return emitOpError() << n << " codes of " << getCodeBits() << " bits take "
                         << bytes << " bytes, got codes of type " << codesTy;
  auto sTy = getScales().getType();
  int64_t c = ty.getDimSize(axis), k = c ? n / c : 0, block = getBlock();
  if (block < 1)
    return emitOpError() << "block must be positive, got " << block;
  int64_t nb = (k + block - 1) / block;
  if (sTy.getRank() != 2 || !sTy.hasStaticShape() || sTy.getDimSize(0) != c ||
      sTy.getDimSize(1) != nb)
    return emitOpError() << "scales must be [" << c << ", " << nb
                         << "] (blocks of " << block << " in the " << k
                         << " elements of a channel), got " << sTy;
  bool floatScales = isa<FloatType>(sTy.getElementType());
  std::optional<ElementFormat> sf = getScaleFormat();
  if (floatScales != !sf)
    return emitOpError() << "f32 scales take no scale_format, integer scales "
                            "need one";
  if (sf && *sf != ElementFormat::E8M0 && *sf != ElementFormat::FP8E4M3)
    return emitOpError() << "scale_format must be e8m0 or fp8_e4m3, got "
                         << stringifyElementFormat(*sf);
  double ts = getTensorScale().convertToDouble();
  if (!(ts > 0) || !std::isfinite(ts))
    return emitOpError() << "tensor_scale must be positive and finite, got "
                         << ts;
  return success();
}

/// Checks of qc.minifloat_quantize / qc.minifloat_dequantize: a minifloat
/// element format, a positive finite scale, one shape on both sides.
static LogicalResult verifyMinifloatCodes(Operation *op, ElementFormat f,
                                          double scale, ShapedType in,
                                          ShapedType out) {
  if (!minifloatFormat(f) || f == ElementFormat::E8M0)
    return op->emitOpError()
           << "format must be a minifloat element format (fp8_e4m3, "
              "fp8_e5m2, fp6_e3m2, fp6_e2m3, fp4_e2m1), got "
           << stringifyElementFormat(f);
  if (!(scale > 0) || !std::isfinite(scale))
    return op->emitOpError()
           << "scale must be positive and finite, got " << scale;
  if (in.getShape() != out.getShape())
    return op->emitOpError() << "result shape must match the input's, got "
                             << in << " and " << out;
  if (!isa<IntegerType>(out.getElementType()) && !out.getElementType().isF32())
    return op->emitOpError() << "decodes to f32 only, got " << out;
  return success();
}

LogicalResult qc::MinifloatQuantizeOp::verify() {
  return verifyMinifloatCodes(*this, getFormat(), getScale().convertToDouble(),
                              getInput().getType(), getOutput().getType());
}

LogicalResult qc::MinifloatDequantizeOp::verify() {
  return verifyMinifloatCodes(*this, getFormat(), getScale().convertToDouble(),
                              getInput().getType(), getOutput().getType());
}

LogicalResult qc::MatMulFp8Op::verify() {
  for (ElementFormat f : {getAFormat(), getBFormat()})
    if (f != ElementFormat::FP8E4M3 && f != ElementFormat::FP8E5M2)
      return emitOpError() << "formats must be fp8_e4m3 or fp8_e5m2, got "
                           << stringifyElementFormat(f);
  auto aTy = cast<RankedTensorType>(getA().getType());
  auto bTy = cast<RankedTensorType>(getB().getType());
  auto outTy = getOutput().getType();
  if (aTy.getRank() < 2 || bTy.getRank() != 2 || !aTy.hasStaticShape() ||
      !bTy.hasStaticShape() || !outTy.hasStaticShape())
    return emitOpError() << "needs static shapes, a of rank >= 2 and b [N, K], "
                            "got "
                         << aTy << " and " << bTy;
  int64_t k = aTy.getShape().back();
  if (bTy.getDimSize(1) != k)
    return emitOpError() << "b must be [N, " << k << "] (a's K), got " << bTy;
  SmallVector<int64_t> want(aTy.getShape());
  want.back() = bTy.getDimSize(0);
  if (outTy.getShape() != ArrayRef<int64_t>(want))
    return emitOpError() << "result must be "
                         << RankedTensorType::get(want, outTy.getElementType())
                         << ", got " << outTy;
  return success();
}

std::optional<int> qc::MatMulMxOp::integerFactor(ElementFormat format) {
  if (format == ElementFormat::FP4E2M1)
    return 2;
  if (format == ElementFormat::FP6E2M3)
    return 8;
  return std::nullopt;
}

LogicalResult qc::MatMulMxOp::verify() {
  if (!integerFactor(getFormat()))
    return emitOpError() << "format must be fp4_e2m1 or fp6_e2m3 (exact "
                            "integers times 2 or 8), got "
                         << stringifyElementFormat(getFormat());
  auto aTy = cast<RankedTensorType>(getA().getType());
  auto outTy = getOutput().getType();
  if (aTy.getRank() < 2 || !aTy.hasStaticShape() || !outTy.hasStaticShape() ||
      outTy.getRank() != aTy.getRank() ||
      aTy.getElementType().getIntOrFloatBitWidth() != 8)
    return emitOpError() << "takes 8-bit activations [..., M, K] of static "
                            "shape and gives [..., M, N]";
  int64_t k = aTy.getShape().back(), n = outTy.getShape().back();
  for (int64_t d = 0; d + 1 < aTy.getRank(); ++d)
    if (aTy.getDimSize(d) != outTy.getDimSize(d))
      return emitOpError() << "result " << outTy
                           << " does not match activations " << aTy;
  unsigned bits = getFormat() == ElementFormat::FP4E2M1 ? 4 : 6;
  int64_t bytes = (k * n * bits + 7) / 8;
  if (getCodes().getType().getRank() != 1 ||
      getCodes().getType().getDimSize(0) != bytes)
    return emitOpError() << k << "x" << n << " codes of " << bits
                         << " bits take " << bytes << " bytes";
  int64_t block = getBlock();
  if (block < 1)
    return emitOpError() << "block must be positive";
  int64_t nb = (k + block - 1) / block;
  auto sTy = getShifts().getType();
  if (sTy.getRank() != 2 || sTy.getDimSize(0) != n || sTy.getDimSize(1) != nb)
    return emitOpError() << "shifts must be [" << n << ", " << nb << "], got "
                         << sTy;
  if (getBias() &&
      (cast<RankedTensorType>(getBias().getType()).getRank() != 1 ||
       cast<RankedTensorType>(getBias().getType()).getDimSize(0) != n))
    return emitOpError() << "bias must have " << n << " entries";
  return success();
}

//===----------------------------------------------------------------------===//
// StorageCastOp
//===----------------------------------------------------------------------===//

LogicalResult qc::StorageCastOp::verify() {
  auto inTy = cast<RankedTensorType>(getInput().getType());
  auto outTy = cast<RankedTensorType>(getOutput().getType());
  auto inQ = dyn_cast<QuantizedType>(inTy.getElementType());
  auto outQ = dyn_cast<QuantizedType>(outTy.getElementType());
  if (bool(inQ) == bool(outQ))
    return emitOpError("casts between a quantized tensor and an integer "
                       "tensor, one of each");
  if (failed(checkShape(*this, "result", outTy.getShape(), inTy.getShape())))
    return failure();
  QuantizedType q = inQ ? inQ : outQ;
  auto intTy = cast<IntegerType>((inQ ? outTy : inTy).getElementType());
  if (intTy.getWidth() != q.getStorageTypeIntegralWidth() ||
      intTy.isUnsigned() == q.isSigned())
    return emitOpError() << "integer type " << intTy
                         << " is not the storage type of " << q << " (expected "
                         << (q.isSigned() ? "i" : "ui")
                         << q.getStorageTypeIntegralWidth() << ")";
  return verifyQuantizedTensorType([this] { return emitOpError(); }, q,
                                   (inQ ? inTy : outTy).getShape());
}

OpFoldResult qc::StorageCastOp::fold(FoldAdaptor) {
  if (auto prev = getInput().getDefiningOp<qc::StorageCastOp>())
    if (prev.getInput().getType() == getType())
      return prev.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// RequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult RequantizeOp::verify() {
  IntegerType inTy = elementIntType(getInput());
  IntegerType outTy = elementIntType(getOutput());
  int64_t lo = getClampMinAttr().getInt(), hi = getClampMaxAttr().getInt();
  if (inTy.getWidth() > 64 || (inTy.isUnsigned() && inTy.getWidth() > 63))
    return emitOpError() << "input elements must fit in int64, got " << inTy;
  if (outTy.getWidth() > 32)
    return emitOpError() << "result elements must be at most 32 bits, got "
                         << outTy;
  auto inShape = getInput().getType().getShape();
  if (failed(checkShape(*this, "result", getOutput().getType().getShape(),
                        inShape)))
    return failure();

  ArrayRef<int32_t> mult = getMultiplier(), shift = getShift();
  if (mult.empty())
    return emitOpError("needs at least one multiplier");
  if (shift.size() != mult.size())
    return emitOpError() << "has " << mult.size() << " multipliers but "
                         << shift.size() << " shifts";
  for (int32_t m : mult)
    if (m < 0)
      return emitOpError() << "multiplier " << m << " must be non-negative";
  for (int32_t s : shift)
    if (s < 0 || s > 63)
      return emitOpError() << "shift " << s << " must be in [0, 63]";
  if (mult.size() > 1) {
    if (!getAxis())
      return emitOpError() << "has " << mult.size()
                           << " multipliers (per channel) but no axis";
    int64_t axis = int64_t(*getAxis());
    if (axis < 0 || axis >= int64_t(inShape.size()))
      return emitOpError() << "axis " << axis
                           << " is out of range for a tensor of rank "
                           << inShape.size();
    if (staticMismatch(inShape[axis], mult.size()))
      return emitOpError() << "has " << mult.size() << " multipliers but axis "
                           << axis << " has " << inShape[axis] << " channels";
  }
  if (failed(checkInRange(*this, "input zero point", int32_t(getInputZp()),
                          inTy)) ||
      failed(checkInRange(*this, "output zero point", int32_t(getOutputZp()),
                          outTy)) ||
      failed(checkInRange(*this, "clamp_min", lo, outTy)) ||
      failed(checkInRange(*this, "clamp_max", hi, outTy)))
    return failure();
  if (lo > hi)
    return emitOpError() << "clamp_min " << lo << " exceeds clamp_max " << hi;
  return success();
}

/// Applies `fn(value, channel)` to every element of an integer constant,
/// producing a constant of `resultType`. `axis` selects the channel index
/// (none: channel 0 for every element).
static DenseElementsAttr
mapIntConstant(DenseIntElementsAttr in, RankedTensorType resultType,
               std::optional<int64_t> axis,
               function_ref<int64_t(int64_t, int64_t)> fn) {
  auto inTy = cast<IntegerType>(in.getElementType());
  auto outTy = cast<IntegerType>(resultType.getElementType());
  ArrayRef<int64_t> shape = resultType.getShape();
  int64_t inner = 1, channels = 1;
  if (axis) {
    channels = shape[*axis];
    for (int64_t d = *axis + 1; d < int64_t(shape.size()); ++d)
      inner *= shape[d];
  }
  auto fromAPInt = [&](const APInt &v) {
    return inTy.isUnsigned() ? int64_t(v.getZExtValue()) : v.getSExtValue();
  };
  if (in.isSplat() && !axis) {
    int64_t r = fn(fromAPInt(in.getSplatValue<APInt>()), 0);
    return DenseElementsAttr::get(
        resultType, APInt(outTy.getWidth(), uint64_t(r), !outTy.isUnsigned()));
  }
  SmallVector<APInt> values;
  values.reserve(resultType.getNumElements());
  int64_t i = 0;
  for (APInt v : in.getValues<APInt>()) {
    int64_t channel = (i / inner) % channels;
    int64_t r = fn(fromAPInt(v), channel);
    values.push_back(APInt(outTy.getWidth(), uint64_t(r), !outTy.isUnsigned()));
    ++i;
  }
  return DenseElementsAttr::get(resultType, values);
}

OpFoldResult RequantizeOp::fold(FoldAdaptor adaptor) {
  IntegerType outTy = elementIntType(getOutput());
  IntRange outRange = integerRange(outTy);
  // Identity: same type, unit scale, same zero point, full range.
  if (getInput().getType() == getType() &&
      int32_t(getInputZp()) == int32_t(getOutputZp()) &&
      getClampMinAttr().getInt() == outRange.min &&
      getClampMaxAttr().getInt() == outRange.max &&
      llvm::all_of(llvm::zip(getMultiplier(), getShift()), [](auto p) {
        auto [m, s] = p;
        return s <= 30 && int64_t(m) == (int64_t(1) << s);
      }))
    return getInput();

  auto in = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getInput());
  if (!in || !getType().hasStaticShape())
    return {};
  ArrayRef<int32_t> mult = getMultiplier(), shift = getShift();
  std::optional<int64_t> axis;
  if (mult.size() > 1)
    axis = int64_t(*getAxis());
  return mapIntConstant(in, getType(), axis, [&](int64_t x, int64_t c) {
    return requantize(x, Dyadic{mult[c], shift[c]}, int32_t(getInputZp()),
                      int32_t(getOutputZp()), getClampMinAttr().getInt(),
                      getClampMaxAttr().getInt());
  });
}

//===----------------------------------------------------------------------===//
// ConvIntOp
//===----------------------------------------------------------------------===//

/// Output size of one spatial dim of a convolution or pooling window; dynamic
/// when the input is.
static int64_t convOutputSize(int64_t in, int64_t kernel, int64_t stride,
                              int64_t dilation, int64_t padBegin,
                              int64_t padEnd) {
  if (ShapedType::isDynamic(in) || ShapedType::isDynamic(kernel))
    return ShapedType::kDynamic;
  int64_t span = dilation * (kernel - 1) + 1;
  return (in + padBegin + padEnd - span) / stride + 1;
}

/// #qc.lowbit on a product: the weights must be constant, 8-bit, and every
/// value one of the format's levels (signed, after the offset of unsigned
/// storage).
static LogicalResult verifyLowBit(Operation *op, Value weights,
                                  LowBitAttr lb) {
  if (!lb)
    return success();
  Attribute values;
  if (!matchPattern(weights, m_Constant(&values)))
    return op->emitOpError() << "lowbit needs constant weights";
  auto ty = cast<RankedTensorType>(weights.getType());
  auto wInt = cast<IntegerType>(ty.getElementType());
  if (wInt.getWidth() != 8)
    return op->emitOpError() << "lowbit needs 8-bit weight storage, got "
                             << ty;
  std::optional<std::vector<int64_t>> v =
      readIntegerElements(values, !wInt.isUnsigned());
  if (!v)
    return op->emitOpError() << "lowbit: the weights' values cannot be read";
  int64_t offset = wInt.isUnsigned() ? 128 : 0;
  for (auto [i, raw] : llvm::enumerate(*v)) {
    int64_t d = raw - offset - lb.getBase();
    if (d < 0 || d % lb.getStep() || d / lb.getStep() >= (1 << lb.getBits()))
      return op->emitOpError() << "weight " << i << " (" << raw - offset
                               << ") is not a level of " << lb;
  }
  return success();
}

LogicalResult ConvIntOp::verify() {
  auto inTy = getInput().getType(), wTy = getWeight().getType();
  int64_t rank = inTy.getRank();
  if (rank < 3 || rank > 5)
    return emitOpError() << "input must have rank 3 to 5 (N, C, 1 to 3 "
                         << "spatial dims), got rank " << rank;
  if (wTy.getRank() != rank)
    return emitOpError() << "weight rank " << wTy.getRank()
                         << " differs from input rank " << rank;
  if (failed(checkActivationOperand(*this, "input", getInput(),
                                    getOutput())) ||
      failed(checkNarrowInteger(*this, "weight", getWeight())))
    return failure();
  if (getLowbitAttr() && elementIntType(getInput()).getWidth() > 8)
    return emitOpError("lowbit needs an input of at most 8 bits");
  int64_t n = rank - 2;
  if (int64_t(getStrides().size()) != n ||
      int64_t(getDilations().size()) != n || int64_t(getPads().size()) != 2 * n)
    return emitOpError() << "needs " << n << " strides, " << n
                         << " dilations and " << 2 * n << " pads for " << n
                         << " spatial dims";
  if (llvm::any_of(getStrides(), [](int64_t s) { return s <= 0; }) ||
      llvm::any_of(getDilations(), [](int64_t d) { return d <= 0; }))
    return emitOpError("strides and dilations must be positive");
  if (llvm::any_of(getPads(), [](int64_t p) { return p < 0; }))
    return emitOpError("pads must be non-negative");
  int64_t group = int64_t(getGroup());
  if (group < 1)
    return emitOpError() << "group must be positive, got " << group;
  bool last = getChannelsLast();
  if (last && (rank != 4 || group != 1))
    return emitOpError("channels_last needs a 2-d convolution of group 1");
  // The dim of the channels, and of spatial dim i, in input and result.
  int64_t chanDim = last ? rank - 1 : 1;
  auto spatialDim = [&](int64_t i) { return last ? 1 + i : 2 + i; };

  int64_t c = inTy.getDimSize(chanDim), f = wTy.getDimSize(0),
          cw = wTy.getDimSize(1);
  if (!ShapedType::isDynamic(c) && !ShapedType::isDynamic(cw) &&
      c != cw * group)
    return emitOpError() << "input has " << c << " channels but weight expects "
                         << cw << " x group " << group;
  if (!ShapedType::isDynamic(f) && f % group != 0)
    return emitOpError() << f << " output channels are not divisible by group "
                         << group;

  ArrayRef<int32_t> wzp = getWeightZp();
  if (wzp.empty() || (wzp.size() > 1 && staticMismatch(wzp.size(), f)))
    return emitOpError() << "weight_zp needs 1 or " << f << " entries, got "
                         << wzp.size();
  if (failed(checkInRange(*this, "input zero point", int32_t(getInputZp()),
                          elementIntType(getInput()))))
    return failure();
  for (int32_t zp : wzp)
    if (failed(checkInRange(*this, "weight zero point", zp,
                            elementIntType(getWeight()))))
      return failure();
  if (failed(checkBiasType(*this, getBias(), getOutput())))
    return failure();
  if (Value bias = getBias()) {
    auto bTy = cast<RankedTensorType>(bias.getType());
    if (failed(checkShape(*this, "bias", bTy.getShape(), {f})))
      return failure();
  }

  SmallVector<int64_t> expected(size_t(rank), inTy.getDimSize(0));
  expected[size_t(chanDim)] = f;
  for (int64_t i = 0; i < n; ++i) {
    int64_t o = convOutputSize(inTy.getDimSize(spatialDim(i)),
                               wTy.getDimSize(i + 2),
                               getStrides()[i], getDilations()[i], getPads()[i],
                               getPads()[i + n]);
    if (!ShapedType::isDynamic(o) && o < 1)
      return emitOpError() << "kernel of spatial dim " << i
                           << " is larger than the padded input";
    expected[size_t(spatialDim(i))] = o;
  }
  if (failed(checkShape(*this, "result", getOutput().getType().getShape(),
                        expected)))
    return failure();
  return verifyLowBit(*this, getWeight(), getLowbitAttr());
}

//===----------------------------------------------------------------------===//
// MatMulIntOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulIntOp::verify() {
  auto aTy = getA().getType(), bTy = getB().getType();
  if (aTy.getRank() < 2 || bTy.getRank() < 2)
    return emitOpError() << "operands must have rank >= 2, got ranks "
                         << aTy.getRank() << " and " << bTy.getRank();
  if (failed(checkActivationOperand(*this, "a", getA(), getOutput())) ||
      failed(checkNarrowInteger(*this, "b", getB())))
    return failure();
  if (getLowbitAttr() && elementIntType(getA()).getWidth() > 8)
    return emitOpError("lowbit needs an input of at most 8 bits");
  auto aShape = aTy.getShape(), bShape = bTy.getShape();
  int64_t m = aShape[aShape.size() - 2], k = aShape.back();
  int64_t kb = bShape[bShape.size() - 2], n = bShape.back();
  if (staticMismatch(k, kb))
    return emitOpError() << "reduction dims differ: " << k << " vs " << kb;
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(aShape.drop_back(2),
                                          bShape.drop_back(2), batch))
    return emitOpError() << "batch dims " << shapeStr(aShape.drop_back(2))
                         << " and " << shapeStr(bShape.drop_back(2))
                         << " do not broadcast";
  ArrayRef<int32_t> bzp = getBZp();
  if (bzp.empty() || (bzp.size() > 1 && staticMismatch(bzp.size(), n)))
    return emitOpError() << "b_zp needs 1 or " << n << " entries, got "
                         << bzp.size();
  if (failed(checkInRange(*this, "a zero point", int32_t(getAZp()),
                          elementIntType(getA()))))
    return failure();
  for (int32_t zp : bzp)
    if (failed(checkInRange(*this, "b zero point", zp, elementIntType(getB()))))
      return failure();
  if (failed(checkBiasType(*this, getBias(), getOutput())))
    return failure();
  if (Value bias = getBias())
    if (failed(checkShape(*this, "bias",
                          cast<RankedTensorType>(bias.getType()).getShape(),
                          {n})))
      return failure();
  batch.push_back(m);
  batch.push_back(n);
  if (failed(checkShape(*this, "result", getOutput().getType().getShape(),
                        batch)))
    return failure();
  return verifyLowBit(*this, getB(), getLowbitAttr());
}

//===----------------------------------------------------------------------===//
// MatMulGroupScaledOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulGroupScaledOp::verify() {
  auto aTy = getA().getType(), bTy = getB().getType();
  if (aTy.getRank() < 1 || bTy.getRank() != 2)
    return emitOpError() << "a must have rank >= 1 and b rank 2, got ranks "
                         << aTy.getRank() << " and " << bTy.getRank();
  int64_t g = getGroup(), k = aTy.getShape().back(), n = bTy.getDimSize(1);
  if (g < 1)
    return emitOpError() << "group must be positive, got " << g;
  if (staticMismatch(k, bTy.getDimSize(0)))
    return emitOpError() << "reduction dims differ: " << k << " vs "
                         << bTy.getDimSize(0);
  if (!ShapedType::isDynamic(k) && k % g)
    return emitOpError() << "group " << g << " does not divide the " << k
                         << " input channels";
  SmallVector<int64_t> groups(aTy.getShape());
  groups.back() = ShapedType::isDynamic(k) ? k : k / g;
  if (failed(checkShape(*this, "a_scales", getAScales().getType().getShape(),
                        groups)))
    return failure();
  if (Value z = getAZeros())
    if (failed(checkShape(*this, "a_zeros",
                          cast<RankedTensorType>(z.getType()).getShape(),
                          groups)))
      return failure();
  auto sbTy = getBScales().getType();
  if (sbTy.getRank() != 1 ||
      (sbTy.getDimSize(0) != 1 && staticMismatch(sbTy.getDimSize(0), n)))
    return emitOpError() << "b_scales must have 1 or " << n
                         << " entries, got shape " << shapeStr(sbTy.getShape());
  if (Value bias = getBias())
    if (failed(checkShape(*this, "bias",
                          cast<RankedTensorType>(bias.getType()).getShape(),
                          {n})))
      return failure();
  SmallVector<int64_t> out(aTy.getShape());
  out.back() = n;
  return checkShape(*this, "result", getOutput().getType().getShape(), out);
}

//===----------------------------------------------------------------------===//
// DynamicQuantizeOp / DynamicDequantizeOp
//===----------------------------------------------------------------------===//

/// The shared shape rules: `values` is [..., K] with a static K, `scales`
/// (and `zeros`) [..., S] with a static S dividing K.
static LogicalResult verifyDynamicGroups(Operation *op, RankedTensorType values,
                                         RankedTensorType scales,
                                         RankedTensorType zeros) {
  if (values.getRank() < 1)
    return op->emitOpError() << "needs a tensor of rank >= 1, got rank 0";
  int64_t k = values.getShape().back(),
          s = scales.getRank() ? scales.getShape().back() : 0;
  if (ShapedType::isDynamic(k) || scales.getRank() != values.getRank() ||
      ShapedType::isDynamic(s))
    return op->emitOpError()
           << "needs a static last axis and scales of the same rank with a "
              "static last dim, got "
           << shapeStr(values.getShape()) << " and "
           << shapeStr(scales.getShape());
  if (s < 1 || k % s)
    return op->emitOpError()
           << "the " << s << " scales per row do not divide the " << k
           << " channels into equal groups";
  SmallVector<int64_t> expected(values.getShape());
  expected.back() = s;
  if (failed(checkShape(op, "scales", scales.getShape(), expected)))
    return failure();
  if (zeros && zeros.getShape() != scales.getShape())
    return op->emitOpError()
           << "zero_points shape " << shapeStr(zeros.getShape())
           << " differs from the scales' " << shapeStr(scales.getShape());
  return success();
}

static RankedTensorType optionalTensorType(Value v) {
  return v ? cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

void DynamicQuantizeOp::build(OpBuilder &b, OperationState &state, Value input,
                              unsigned bits, int64_t groupSize,
                              bool zeroPoints) {
  auto ty = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> groups(ty.getShape());
  groups.back() = groupSize > 0 ? groups.back() / groupSize : 1;
  auto scalesTy = RankedTensorType::get(groups, b.getF32Type());
  build(b, state, ty.clone(b.getI8Type()), scalesTy,
        zeroPoints ? Type(scalesTy) : Type(), input, b.getI64IntegerAttr(bits));
}

/// Both ops: channels per scale, and the output and group shapes.
template <typename DynamicOp>
static int64_t dynamicGroupSize(DynamicOp op) {
  return op.getInput().getType().getShape().back() /
         op.getScales().getType().getShape().back();
}

template <typename DynamicOp>
static LogicalResult verifyDynamicOp(DynamicOp op) {
  auto inTy = op.getInput().getType();
  if (failed(checkShape(op, "output", op.getOutput().getType().getShape(),
                        inTy.getShape())))
    return failure();
  return verifyDynamicGroups(op, inTy, op.getScales().getType(),
                             optionalTensorType(op.getZeroPoints()));
}

int64_t DynamicQuantizeOp::getGroupSize() { return dynamicGroupSize(*this); }
LogicalResult DynamicQuantizeOp::verify() { return verifyDynamicOp(*this); }
int64_t DynamicDequantizeOp::getGroupSize() { return dynamicGroupSize(*this); }
LogicalResult DynamicDequantizeOp::verify() { return verifyDynamicOp(*this); }

//===----------------------------------------------------------------------===//
// ClampOp
//===----------------------------------------------------------------------===//

LogicalResult TableOp::verify() {
  IntegerType in = elementIntType(getInput()), out = elementIntType(getOutput());
  if (in.getWidth() > 8)
    return emitOpError() << "indexes with integers of at most 8 bits, not "
                         << in;
  if (cast<ShapedType>(getInput().getType()).getShape() !=
      cast<ShapedType>(getOutput().getType()).getShape())
    return emitOpError("input and result shapes differ");
  int64_t levels = int64_t(1) << in.getWidth();
  if (int64_t(getTable().size()) != levels)
    return emitOpError() << "table has " << getTable().size()
                         << " entries; " << in << " needs " << levels;
  for (int32_t v : getTable())
    if (failed(checkInRange(*this, "table entry", v, out)))
      return failure();
  return success();
}

LogicalResult ClampOp::verify() {
  IntegerType t = elementIntType(getInput());
  int64_t lo = getMinAttr().getInt(), hi = getMaxAttr().getInt();
  if (failed(checkInRange(*this, "min", lo, t)) ||
      failed(checkInRange(*this, "max", hi, t)))
    return failure();
  if (lo > hi)
    return emitOpError() << "min " << lo << " exceeds max " << hi;
  return success();
}

OpFoldResult ClampOp::fold(FoldAdaptor adaptor) {
  IntRange r = integerRange(elementIntType(getInput()));
  int64_t lo = getMinAttr().getInt(), hi = getMaxAttr().getInt();
  if (lo == r.min && hi == r.max)
    return getInput();
  if (auto in = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getInput()))
    return mapIntConstant(in, getType(), std::nullopt, [&](int64_t x, int64_t) {
      return saturate(x, lo, hi);
    });
  return {};
}

namespace {
/// clamp(clamp(x, a, b), c, d) -> clamp(x, lo, hi): the inner range mapped
/// through the outer clamp, which stays exact when the ranges are disjoint.
struct MergeNestedClamps : OpRewritePattern<ClampOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ClampOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ClampOp>();
    if (!inner)
      return failure();
    int64_t a = inner.getMinAttr().getInt(), b = inner.getMaxAttr().getInt();
    int64_t c = op.getMinAttr().getInt(), d = op.getMaxAttr().getInt();
    int64_t lo = std::min(std::max(a, c), d);
    int64_t hi = std::max(std::min(b, d), c);
    rewriter.replaceOpWithNewOp<ClampOp>(op, op.getType(), inner.getInput(), lo,
                                         hi);
    return success();
  }
};
} // namespace

void ClampOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                          MLIRContext *context) {
  patterns.add<MergeNestedClamps>(context);
}

//===----------------------------------------------------------------------===//
// CastOp
//===----------------------------------------------------------------------===//

LogicalResult CastOp::verify() {
  return checkShape(*this, "result", getOutput().getType().getShape(),
                    getInput().getType().getShape());
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto in = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getInput());
  if (!in || !getType().hasStaticShape())
    return {};
  IntegerType inTy = elementIntType(getInput());
  if (inTy.getWidth() > 63 && inTy.isUnsigned())
    return {};
  IntRange r = integerRange(elementIntType(getOutput()));
  return mapIntConstant(in, getType(), std::nullopt, [&](int64_t x, int64_t) {
    return saturate(x, r.min, r.max);
  });
}

#define GET_OP_CLASSES
#include "qc/Dialect/QC/IR/QCOps.cpp.inc"
