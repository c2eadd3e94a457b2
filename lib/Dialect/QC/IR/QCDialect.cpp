//===- QCDialect.cpp - qc dialect -----------------------------------------===//
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Dialect/QC/IR/QCAttrs.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qc;

#include "qc/Dialect/QC/IR/QCDialect.cpp.inc"
#include "qc/Dialect/QC/IR/QCEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "qc/Dialect/QC/IR/QCAttrs.cpp.inc"

void QCDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "qc/Dialect/QC/IR/QCOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qc/Dialect/QC/IR/QCAttrs.cpp.inc"
      >();
}

Operation *QCDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                          Type type, Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}

LogicalResult QCDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kWeightSchemeAttrName || name == kActivationSchemeAttrName) {
    if (!isa<SchemeAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' must be a #qc.scheme, got "
                             << attr.getValue();
    return success();
  }
  if (name == kInputNamesAttrName || name == kOutputNamesAttrName) {
    auto names = dyn_cast<ArrayAttr>(attr.getValue());
    if (!names ||
        !llvm::all_of(names, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitError() << "'" << name << "' must be an array of strings";
    return success();
  }
  if (name == kUnsignedAttrName) {
    auto flags = dyn_cast<DenseBoolArrayAttr>(attr.getValue());
    if (!flags ||
        flags.size() != int64_t(op->getNumOperands() + op->getNumResults()))
      return op->emitError()
             << "'" << name
             << "' must be a bool array with one entry per operand and result";
    return success();
  }
  if (name == kSmoothAlphaAttrName) {
    auto alpha = dyn_cast<FloatAttr>(attr.getValue());
    if (!isa<ObserveOp>(op) || !alpha)
      return op->emitError()
             << "'" << name << "' must be a float on a qc.observe";
    return success();
  }
  if (name == kOutputStatsAttrName) {
    auto stats = dyn_cast<DenseFPElementsAttr>(attr.getValue());
    auto conv = dyn_cast<ConvOp>(op);
    if (!stats || !conv || stats.getType().getRank() != 2 ||
        stats.getType().getDimSize(0) != 2 ||
        !stats.getElementType().isF32() ||
        stats.getType().getDimSize(1) !=
            cast<RankedTensorType>(conv.getW().getType()).getDimSize(0))
      return op->emitError() << "'" << name
                             << "' must be an f32 [2, output channels] array "
                                "on a qc.conv";
    return success();
  }
  if (name == kObservedAttrName) {
    if (!isa<StringAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' must be a string";
    return success();
  }
  // The cuda target's marks of a W4 or MX weight-unpacking linalg.generic
  // and of an MX GEMM (qc::cuda::kW4UnpackAttr, kMxUnpackAttr,
  // kMx6UnpackAttr, kMxGemmAttr, include/qc/Target/CUDA/Passes.h).
  if (name == "qc.w4_unpack" || name == "qc.mx_unpack" ||
      name == "qc.mx6_unpack" || name == "qc.mx_gemm") {
    if (!isa<UnitAttr>(attr.getValue()) ||
        op->getName().getStringRef() != "linalg.generic")
      return op->emitError()
             << "'" << name << "' must be a unit attribute on a linalg.generic";
    return success();
  }
  // The cuda target's mark of an FP8 GEMM (qc::cuda::kFp8GemmAttr).
  if (name == "qc.fp8_gemm") {
    auto types = dyn_cast<ArrayAttr>(attr.getValue());
    auto isType = [](Attribute a) {
      auto s = dyn_cast<StringAttr>(a);
      return s && (s.getValue() == "e4m3" || s.getValue() == "e5m2");
    };
    if (!types || types.size() != 2 || !llvm::all_of(types, isType) ||
        op->getName().getStringRef() != "linalg.generic")
      return op->emitError() << "'" << name
                             << "' must be an array of two FP8 types (\"e4m3\" "
                                "or \"e5m2\") on a linalg.generic";
    return success();
  }
  // Second moments for fold-calibration's weight rounding (quant-compile
  // attaches them; include/qc/Dialect/QC/Transforms/Quantization.h).
  if (name == "qc.patch_gram" || name == "qc.quantized_input_gram") {
    if (!isa<ElementsAttr>(attr.getValue()) ||
        !isa<ConvOp, GemmOp, MatMulOp>(op))
      return op->emitError() << "'" << name
                             << "' must be an elements attribute on a "
                                "qc.conv, qc.gemm or qc.matmul";
    return success();
  }
  return op->emitError() << "unknown qc dialect attribute '" << name << "'";
}

//===----------------------------------------------------------------------===//
// SchemeAttr
//===----------------------------------------------------------------------===//

std::optional<minifloat::Format> qc::minifloatFormat(ElementFormat format) {
  switch (format) {
  case ElementFormat::FP8E4M3:
    return minifloat::Format::E4M3;
  case ElementFormat::FP8E5M2:
    return minifloat::Format::E5M2;
  case ElementFormat::FP6E3M2:
    return minifloat::Format::E3M2;
  case ElementFormat::FP6E2M3:
    return minifloat::Format::E2M3;
  case ElementFormat::FP4E2M1:
    return minifloat::Format::E2M1;
  case ElementFormat::E8M0:
    return minifloat::Format::E8M0;
  case ElementFormat::Int:
    break;
  }
  return std::nullopt;
}

std::optional<ElementFormat> qc::elementFormatOf(minifloat::Format format) {
  for (ElementFormat f :
       {ElementFormat::FP8E4M3, ElementFormat::FP8E5M2, ElementFormat::FP6E3M2,
        ElementFormat::FP6E2M3, ElementFormat::FP4E2M1, ElementFormat::E8M0})
    if (minifloatFormat(f) == format)
      return f;
  return std::nullopt;
}

static unsigned minifloatBits(ElementFormat format) {
  std::optional<minifloat::Format> f = minifloatFormat(format);
  return f ? minifloat::layout(*f).bits : 0;
}

LogicalResult LowBitAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 unsigned bits, int32_t base, int32_t step,
                                 std::optional<int32_t> actLo,
                                 std::optional<int32_t> actHi) {
  if (actLo.has_value() != actHi.has_value())
    return emitError() << "act_lo and act_hi come together";
  if (actLo && *actLo >= *actHi)
    return emitError() << "act_lo (" << *actLo << ") must be below act_hi ("
                       << *actHi << ")";
  if (bits < 1 || bits > 4)
    return emitError() << "low-bit weights have 1 to 4 bits, got " << bits;
  if (step < 1)
    return emitError() << "the step between weight levels must be positive, "
                          "got "
                       << step;
  if (base < -128 || base > 127 || step > 255)
    return emitError() << "base " << base << " and step " << step
                       << " do not describe 8-bit weights";
  return success();
}

LogicalResult SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ElementFormat format, unsigned bits,
                                 bool isSigned, bool symmetric,
                                 std::optional<int64_t> axis,
                                 std::optional<int64_t> block) {
  if (format == ElementFormat::Int) {
    if (bits < 1 || (bits > 8 && bits != 16))
      return emitError() << "integer bit width must be in [1, 8] or 16, got "
                         << bits;
    if (bits == 1 && isSigned && !symmetric)
      return emitError()
             << "a signed 1-bit integer has no room for a zero point";
  } else if (format == ElementFormat::E8M0) {
    return emitError() << "e8m0 is a scale format, not an element format";
  } else {
    unsigned expected = minifloatBits(format);
    if (bits != expected)
      return emitError() << stringifyElementFormat(format) << " has "
                         << expected << " bits, got " << bits;
    if (!isSigned || !symmetric)
      return emitError() << "minifloat formats are signed and symmetric";
  }
  if (axis && *axis < 0)
    return emitError() << "axis must be non-negative, got " << *axis;
  if (block) {
    if (!axis)
      return emitError() << "a block size needs the axis it runs along";
    if (*block <= 0)
      return emitError() << "block size must be positive, got " << *block;
  }
  return success();
}

int64_t SchemeAttr::getStorageMin() const {
  return integerRange(getBits(), getIsSigned()).min;
}
int64_t SchemeAttr::getStorageMax() const {
  return integerRange(getBits(), getIsSigned()).max;
}
