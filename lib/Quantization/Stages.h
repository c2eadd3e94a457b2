//===- Stages.h - helpers shared by the quantization stages -----*- C++ -*-===//
#ifndef QC_LIB_QUANTIZATION_STAGES_H
#define QC_LIB_QUANTIZATION_STAGES_H

#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Quantization/Quantize.h"

#include "mlir/Pass/PassManager.h"

namespace qc::detail {

inline llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Runs the passes `build` adds on `module`; `what` names the step in the
/// error (the diagnostics went to the context).
llvm::Error runPasses(mlir::ModuleOp module,
                      llvm::function_ref<void(mlir::OpPassManager &)> build,
                      llvm::StringRef what);

/// fold-calibration's options for a run with `o`.
FoldCalibrationOptions foldOptions(const QuantizeOptions &o);

/// rotate-hadamard's options for a run with `o` and this seed.
RotateHadamardOptions rotateOptions(const QuantizeOptions &o, uint64_t seed);

/// The quantized model (after fold-calibration), lowered to integer ops and
/// JIT-compiled with its tagged activations exposed.
llvm::Expected<ObservedModel>
compileQuantized(mlir::ModuleOp module, const cpu::TargetOptions &target);

/// A searched rotation (as SpinQuant observes, random rotations differ in
/// how well the model quantizes): each candidate seed's rotation of a copy
/// of `module` (observers in, not yet rotated) is calibrated and quantized
/// with the options of the run, and scored against the float model
/// `reference` on the first calibration samples by o.rotationSearchMetric.
/// Returns the best seed.
llvm::Expected<uint64_t>
searchRotation(mlir::ModuleOp module, const ObservedModel &reference,
               llvm::ArrayRef<Sample> calib, llvm::ArrayRef<TensorSpec> outputs,
               const QuantizeOptions &o, bool gptq, llvm::raw_ostream &log);

} // namespace qc::detail

#endif
