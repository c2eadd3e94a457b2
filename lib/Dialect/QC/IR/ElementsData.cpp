//===- ElementsData.cpp - the values of constant elements attributes ------===//
#include "qc/Dialect/QC/IR/ElementsData.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Operation.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

/// A splat (one stored value) of more elements than this is not expanded
/// (2^28: 1 GiB of floats): a model declaring a 2^32 x 12 splat must not
/// exhaust memory; the callers treat it as a non-constant.
static constexpr int64_t kMaxExpandedSplat = int64_t(1) << 28;

std::optional<std::vector<char>> qc::readElementBytes(Attribute attr) {
  if (auto res = dyn_cast_or_null<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    return std::vector<char>(data.begin(), data.end());
  }
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  std::vector<char> out;
  if (dense.getElementType().isInteger(1)) {
    for (bool b : dense.getValues<bool>())
      out.push_back(b ? 1 : 0);
    return out;
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat() && dense.getNumElements() > kMaxExpandedSplat)
    return std::nullopt;
  if (dense.isSplat())
    for (int64_t i = 0, n = dense.getNumElements(); i < n; ++i)
      out.insert(out.end(), raw.begin(), raw.end());
  else
    out.assign(raw.begin(), raw.end());
  return out;
}

std::optional<std::vector<int64_t>> qc::readIntegerElements(Attribute attr,
                                                            bool isSigned) {
  auto elements = dyn_cast_or_null<ElementsAttr>(attr);
  auto intType =
      elements ? dyn_cast<IntegerType>(elements.getElementType()) : nullptr;
  if (!intType)
    return std::nullopt;
  unsigned width = intType.getWidth();
  std::vector<int64_t> out;
  auto extend = [&](const APInt &v) {
    return isSigned ? v.getSExtValue() : int64_t(v.getZExtValue());
  };
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    if (dense.isSplat() && dense.getNumElements() > kMaxExpandedSplat)
      return std::nullopt;
    for (const APInt &v : dense.getValues<APInt>())
      out.push_back(extend(v));
    return out;
  }
  if (!isa<DenseResourceElementsAttr>(attr) ||
      (width != 8 && width != 16 && width != 32 && width != 64))
    return std::nullopt;
  std::optional<std::vector<char>> bytes = readElementBytes(attr);
  size_t step = width / 8;
  if (!bytes || bytes->size() != size_t(elements.getNumElements()) * step)
    return std::nullopt;
  for (size_t i = 0; i < bytes->size(); i += step) {
    APInt v(width, 0);
    for (size_t b = 0; b < step; ++b)
      v.insertBits(uint64_t(uint8_t((*bytes)[i + b])), unsigned(8 * b),
                   8); // little-endian
    out.push_back(extend(v));
  }
  return out;
}

std::optional<std::vector<float>> qc::readFloatElements(Attribute attr) {
  if (auto res = dyn_cast_or_null<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> values = res.tryGetAsArrayRef();
    if (!values)
      return std::nullopt;
    return std::vector<float>(values->begin(), values->end());
  }
  if (auto dense = dyn_cast_or_null<DenseFPElementsAttr>(attr)) {
    if (!dense.getElementType().isF32() ||
        (dense.isSplat() && dense.getNumElements() > kMaxExpandedSplat))
      return std::nullopt;
    std::vector<float> out;
    for (APFloat f : dense.getValues<APFloat>())
      out.push_back(f.convertToFloat());
    return out;
  }
  return std::nullopt;
}

std::optional<int64_t> qc::tensorBytes(ArrayRef<int64_t> shape,
                                       Type elementType) {
  int64_t bits = 8;
  if (auto q = dyn_cast<quant::QuantizedType>(elementType))
    elementType = q.getStorageType();
  if (elementType.isIntOrIndexOrFloat())
    bits = elementType.isIndex() ? 64 : elementType.getIntOrFloatBitWidth();
  int64_t n = 1;
  for (int64_t d : shape)
    if (!ShapedType::isDynamic(d) && llvm::MulOverflow(n, d, n))
      return std::nullopt;
  if (llvm::MulOverflow(n, std::max<int64_t>(bits, 1), n))
    return std::nullopt;
  return (n + 7) / 8;
}

LogicalResult qc::checkTensorSizes(Operation *root) {
  auto tooLarge = [](Type t) -> std::optional<std::string> {
    auto shaped = dyn_cast<ShapedType>(t);
    if (!shaped || !shaped.hasRank())
      return std::nullopt;
    std::optional<int64_t> bytes =
        tensorBytes(shaped.getShape(), shaped.getElementType());
    if (bytes && *bytes <= kMaxTensorBytes)
      return std::nullopt;
    std::string msg;
    llvm::raw_string_ostream os(msg);
    os << "value of type " << t << " holds ";
    if (bytes)
      os << *bytes << " bytes";
    else
      os << "more than 2^63 bytes";
    os << ", more than the largest tensor supported (2^36 bytes)";
    return msg;
  };
  WalkResult walk = root->walk([&](Operation *op) {
    for (Type t : op->getResultTypes())
      if (auto msg = tooLarge(t)) {
        op->emitError() << *msg;
        return WalkResult::interrupt();
      }
    for (Region &r : op->getRegions())
      for (Block &b : r)
        for (BlockArgument a : b.getArguments())
          if (auto msg = tooLarge(a.getType())) {
            op->emitError() << "argument " << a.getArgNumber() << ": " << *msg;
            return WalkResult::interrupt();
          }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}
