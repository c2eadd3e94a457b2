//===- ToolOptions.h - the option blocks the tools share --------*- C++ -*-===//
//
// quant-compile and quant-run bind the same blocks: how a model is read
// (ImportFlags), what the CPU target generates (cpu::TargetOptions) and, for
// quant-compile, how it is quantized (QuantizeFlags around
// qc::QuantizeOptions). Adding a flag: a field in the options struct the
// library reads, and one bind line here (docs/architecture.md shows it).
//
//===----------------------------------------------------------------------===//
#ifndef QC_TOOLS_TOOLOPTIONS_H
#define QC_TOOLS_TOOLOPTIONS_H

#include "qc/Quantization/Quantize.h"
#include "qc/Target/CPU/TargetOptions.h"
#include "qc/Target/CUDA/TargetOptions.h"
#include "qc/Target/ONNX/Import.h"
#include "qc/Tools/OptionsBinder.h"

#include "llvm/Support/JSON.h"

namespace qc {

/// --input-shape NAME:DIMS, --constant-input NAME=FILE.pb, --allow-invalid.
struct ImportFlags {
  std::vector<std::string> inputShapes, constantInputs;
  bool allowInvalid = false, externalDataAnywhere = false;
  /// The import options they give; a malformed spec is an error.
  llvm::Expected<ONNXImportOptions> importOptions() const;
};
void bindImportFlags(OptionsBinder &binder, ImportFlags &flags);

/// --mcpu, -O, --threads, --int8-kernels, --f32-kernels. The kernel flags
/// default to $QC_INT8_KERNELS / $QC_F32_KERNELS when set (a test run pins
/// them all at once).
void bindTargetOptions(OptionsBinder &binder, cpu::TargetOptions &options);
/// The checks of the target flags (after verify()).
llvm::Error verifyTargetOptions(const OptionsBinder &binder,
                                const cpu::TargetOptions &options);

/// The quantization flags of quant-compile: most bind to QuantizeOptions
/// fields directly, a few (budgets, pins, the activation type's meaning for
/// dynamic scales) are read into these and turned into options by finish().
struct QuantizeFlags {
  QuantizeOptions options;
  ActivationType activationType = ActivationType::U8;
  bool bitsAuto = false, smoothActivations = false, noBiasCorrection = false;
  std::optional<double> sizeBudget, bopsBudget, latencyBudget;
  std::optional<double> smoothAlpha; // none: auto
  std::vector<std::string> pins;
  std::vector<std::string> weightFormats; // bits (int) or format names
  std::vector<unsigned> activationFormats;

  /// Whether quantization was asked for (calibration data or statistics).
  bool enabled() const;
  /// Checks the combinations and completes `options`; the message names
  /// the flags.
  llvm::Error finish(const OptionsBinder &binder, llvm::StringRef modelPath);
};
void bindQuantizeFlags(OptionsBinder &binder, QuantizeFlags &flags);

/// Parses argv with --threads[=N] spelled --num-threads[=N] (libLLVM
/// registers its own "threads" option).
void parseToolCommandLine(int argc, char **argv, llvm::StringRef overview);

/// What both tools bind: how a model is read and what the target generates.
struct ModelFlags {
  ImportFlags import;
  cpu::TargetOptions target;
  /// --target cpu|cuda[:sm_NN]: parseAndVerify sets `gpu` and gpu.chip.
  std::string targetName = "cpu";
  bool gpu = false;
  /// The cuda target's options (--gpu-binary; the chip from --target).
  cuda::TargetOptions gpuTarget;
};
void bindModelFlags(OptionsBinder &binder, ModelFlags &flags);
/// Parses the command line, then converts and checks every bound flag and
/// the target block; the first problem.
llvm::Error parseAndVerify(int argc, char **argv, llvm::StringRef overview,
                           const OptionsBinder &binder, ModelFlags &flags);

/// A model's inputs or outputs as JSON: [{"name", "dtype", "shape"}].
llvm::json::Array toJSON(llvm::ArrayRef<TensorSpec> specs);

} // namespace qc

#endif // QC_TOOLS_TOOLOPTIONS_H
