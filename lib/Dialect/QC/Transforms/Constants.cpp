//===- Constants.cpp - reading and writing constant tensors ---------------===//
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

std::optional<std::vector<float>> qc::readFloatElements(Attribute attr) {
  if (auto res = dyn_cast_or_null<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> values = res.tryGetAsArrayRef();
    if (!values)
      return std::nullopt;
    return std::vector<float>(values->begin(), values->end());
  }
  if (auto dense = dyn_cast_or_null<DenseFPElementsAttr>(attr)) {
    if (!dense.getElementType().isF32())
      return std::nullopt;
    std::vector<float> out;
    for (APFloat f : dense.getValues<APFloat>())
      out.push_back(f.convertToFloat());
    return out;
  }
  return std::nullopt;
}

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
  Attribute attr = cst.getValue();
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    if (int64_t(data.size()) != res.getNumElements())
      return std::nullopt;
    std::vector<int32_t> out;
    bool isUnsigned = cast<ShapedType>(v.getType()).getElementType().isUnsignedInteger();
    for (char c : data)
      out.push_back(isUnsigned ? int32_t(uint8_t(c)) : int32_t(int8_t(c)));
    return out;
  }
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    std::vector<int32_t> out;
    for (const APInt &i : dense.getValues<APInt>())
      out.push_back(int32_t(dense.getElementType().isUnsignedInteger() ? i.getZExtValue()
                                                                       : i.getSExtValue()));
    return out;
  }
  return std::nullopt;
}

DenseResourceElementsAttr qc::createBlobAttr(RankedTensorType type, ArrayRef<float> values,
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
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<T>(narrow));
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

Value qc::createReshape(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto ty = cast<RankedTensorType>(v.getType());
  auto shapeTy = RankedTensorType::get({int64_t(shape.size())}, b.getI64Type());
  Value s = arith::ConstantOp::create(b, loc, DenseIntElementsAttr::get(shapeTy, shape));
  return qc::ReshapeOp::create(b, loc, RankedTensorType::get(shape, ty.getElementType()), v, s)
      .getResult();
}
