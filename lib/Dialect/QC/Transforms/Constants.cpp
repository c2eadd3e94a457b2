//===- Constants.cpp - reading and writing constant tensors ---------------===//
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

std::optional<std::vector<float>> qc::readFloatConstant(Value v) {
  auto cst = v ? v.getDefiningOp<arith::ConstantOp>() : nullptr;
  if (!cst || !cast<ShapedType>(v.getType()).getElementType().isF32())
    return std::nullopt;
  return readFloatElements(cst.getValue());
}

std::optional<std::vector<int32_t>> qc::readInt8Constant(Value v) {
  auto cst = v ? v.getDefiningOp<arith::ConstantOp>() : nullptr;
  if (!cst || !cast<ShapedType>(v.getType()).getElementType().isInteger(8))
    return std::nullopt;
  bool isUnsigned =
      cast<ShapedType>(v.getType()).getElementType().isUnsignedInteger();
  std::optional<std::vector<int64_t>> values =
      readIntegerElements(cst.getValue(), !isUnsigned);
  if (!values)
    return std::nullopt;
  return std::vector<int32_t>(values->begin(), values->end());
}

DenseResourceElementsAttr qc::createBlobAttr(RankedTensorType type,
                                             ArrayRef<float> values,
                                             StringRef name) {
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(values);
  return DenseResourceElementsAttr::get(type, name, std::move(blob));
}

Value qc::createBlobConstant(OpBuilder &b, Location loc, RankedTensorType type,
                             ArrayRef<float> values, StringRef name) {
  return arith::ConstantOp::create(b, loc, createBlobAttr(type, values, name));
}

template <typename T>
static Value intBlob(OpBuilder &b, Location loc, RankedTensorType type,
                     ArrayRef<int32_t> values, StringRef name) {
  std::vector<T> narrow(values.begin(), values.end());
  auto blob =
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<T>(narrow));
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

Value qc::createBlobConstant(OpBuilder &b, Location loc, RankedTensorType type,
                             ArrayRef<int32_t> values, StringRef name) {
  unsigned w = type.getElementType().getIntOrFloatBitWidth();
  if (w <= 8)
    return intBlob<int8_t>(b, loc, type, values, name);
  if (w <= 16)
    return intBlob<int16_t>(b, loc, type, values, name);
  return intBlob<int32_t>(b, loc, type, values, name);
}

Value qc::createReshape(OpBuilder &b, Location loc, Value v,
                        ArrayRef<int64_t> shape) {
  auto ty = cast<RankedTensorType>(v.getType());
  auto shapeTy = RankedTensorType::get({int64_t(shape.size())}, b.getI64Type());
  Value s = arith::ConstantOp::create(
      b, loc, DenseIntElementsAttr::get(shapeTy, shape));
  return qc::ReshapeOp::create(
             b, loc, RankedTensorType::get(shape, ty.getElementType()), v, s)
      .getResult();
}

std::optional<std::vector<float>>
qc::perChannelConstant(Value v, RankedTensorType out, int64_t channels) {
  auto ty = dyn_cast<RankedTensorType>(v.getType());
  std::optional<std::vector<float>> c = qc::readFloatConstant(v);
  if (!ty || !c || ty.getRank() > out.getRank())
    return std::nullopt;
  if (c->size() == 1)
    return std::vector<float>(channels, (*c)[0]);
  int64_t axis = 1 - (out.getRank() - ty.getRank());
  if (axis < 0 || int64_t(c->size()) != channels ||
      ty.getDimSize(axis) != channels)
    return std::nullopt;
  return c;
}

std::optional<std::vector<float>> qc::readChannelBias(Value bias,
                                                      int64_t channels) {
  std::vector<float> b(channels, 0.f);
  if (!bias)
    return b;
  std::optional<std::vector<float>> v = readFloatConstant(bias);
  if (!v || (int64_t(v->size()) != channels && v->size() != 1))
    return std::nullopt;
  for (int64_t c = 0; c < channels; ++c)
    b[c] = (*v)[v->size() == 1 ? 0 : c];
  return b;
}
