//===- QCOps.h - qc operations ----------------------------------*- C++ -*-===//
#ifndef QC_DIALECT_QC_IR_QCOPS_H
#define QC_DIALECT_QC_IR_QCOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "qc/Dialect/QC/IR/QCAttrs.h"
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Support/Dyadic.h"

namespace qc {

/// The side-effect resource observers write: the statistics of a
/// calibration run.
struct CalibrationStatsResource
    : public mlir::SideEffects::Resource::Base<CalibrationStatsResource> {
  llvm::StringRef getName() override { return "CalibrationStats"; }
};

/// Storage range of an integer type: `uiN` unsigned, `iN`/`siN` signed.
IntRange integerRange(mlir::IntegerType type);

/// Checks that quantized element type `qtype` fits a tensor of `shape`:
/// zero points within the storage range, quantization axis within the rank,
/// one scale per channel along it, block sizes that tile the shape.
/// Reports through `emitError` and fails otherwise.
mlir::LogicalResult verifyQuantizedTensorType(
    llvm::function_ref<mlir::InFlightDiagnostic()> emitError,
    mlir::quant::QuantizedType qtype, llvm::ArrayRef<int64_t> shape);

/// What an elementwise float graph op computes on scalars, in double: `args`
/// are its operands' values in order (Clip's bounds included). Add, Sub,
/// Mul, Div, Max, Min, Clip, Relu, Neg, Abs, Exp, Tanh, Erf, Sigmoid,
/// Softplus, Mish, HardSwish, HardSigmoid, LeakyRelu, Elu and Gelu; none for
/// any other op or operand count. Consumers that evaluate a chain of such
/// ops as a function of one value (range narrowing, integer tables) share it.
std::optional<double> evaluateScalar(mlir::Operation *op,
                                     llvm::ArrayRef<double> args);

/// Checks an op's `axis` attribute, where it has one, against the rank r of
/// its first operand: [-r, r - 1], Flatten's [-r, r] and OneHot's
/// [-r - 1, r] (ONNX's ranges), so that no lowering indexes a shape with it
/// out of bounds. Quantize/DequantizeLinear with one scale ignore it (ONNX's
/// default 1 on a 1-d tensor); the integer convolutions and products have
/// none.
mlir::LogicalResult verifyAxisInRange(mlir::Operation *op);

} // namespace qc

namespace mlir::OpTrait::qc {
/// The trait of every qc graph op: qc::verifyAxisInRange.
template <typename ConcreteType>
class AxisInRange : public TraitBase<ConcreteType, AxisInRange> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return ::qc::verifyAxisInRange(op);
  }
};
} // namespace mlir::OpTrait::qc

#define GET_OP_CLASSES
#include "qc/Dialect/QC/IR/QCOps.h.inc"

#endif // QC_DIALECT_QC_IR_QCOPS_H
