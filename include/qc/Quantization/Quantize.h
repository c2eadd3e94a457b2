//===- Quantize.h - post-training quantization of a model -------*- C++ -*-===//
//
// The driver behind quant-compile's quantization: a session over one module
// with one method per stage, in this order:
//
//   prepare()        fold BatchNorm, insert observers, read the samples
//   calibrate()      run the float model, statistics (or load them)
//   rewrite()        rotate and/or smooth, calibrating again after each
//   assignBitWidths() sensitivities and the integer program (--bits auto)
//   fold()           ranges and weights into quantization parameters
//   evaluate()       the quality report against float (optional)
//   lowerToInteger() QDQ to integer-only ops
//
// quantizeModel runs them all. Code generation is the target's (qc/Target).
//
//===----------------------------------------------------------------------===//
#ifndef QC_QUANTIZATION_QUANTIZE_H
#define QC_QUANTIZATION_QUANTIZE_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"
#include "qc/Quantization/Attribution.h"
#include "qc/Quantization/BitWidths.h"
#include "qc/Quantization/Calibration.h"
#include "qc/Quantization/Report.h"
#include "qc/Target/CPU/TargetOptions.h"

#include <memory>

namespace qc {

struct QuantizeOptions {
  std::string calibrationData; // directory or .npz
  size_t samples = 0;     // calibration samples (0: all but the held-out ones)
  size_t evalSamples = 0; // held-out samples for the report (0: the rest)
  CalibrationOptions calibration;
  WeightGranularity weightGranularity;
  WeightFormat weightFormat = WeightFormat::Int;
  BlockScaleMethod blockScale = BlockScaleMethod::Max;
  WeightRounding weightRounding = WeightRounding::Auto;
  /// GPTQ's dampening: this fraction of the mean diagonal added to the
  /// second moments before they are inverted.
  double gptqDamp = 0.01;
  /// Adam steps per layer of --weight-rounding adaround|adaquant.
  int reconstructionSteps = 300;
  bool biasCorrection = true;
  std::string saveCalibration, loadCalibration;
  std::string reportPath;  // JSON; a markdown page beside it (.md)
  std::string emitQDQPath; // the QDQ form (.mlir), before the integer rewrite
  /// Per-tensor error attribution (JSON; markdown beside it), measured after
  /// calibration.
  std::string attributionPath;
  AttributionOptions attribution;
  std::string modelName;
  unsigned weightBits = 8, activationBits = 8;
  QuantizeScope scope = QuantizeScope::All;
  ActivationGranularity activationGranularity;
  /// With token or group:G: a dynamic zero point per row or group (asymmetric).
  bool dynamicZeroPoints = false;
  /// Static activations' storage (u8 / i8 integers or FP8 codes).
  ActivationType activationType = ActivationType::U8;
  /// SmoothQuant (smooth-activations) with this alpha, or searched per layer.
  bool smooth = false, smoothAlphaAuto = false;
  double smoothAlpha = 0.5;
  /// Constant affines folded into convolutions and conv pairs equalized
  /// (equalize-layers) before calibration.
  bool equalize = false;
  /// Hadamard rotation of the linear layers' inputs (rotate-hadamard).
  bool rotate = false;
  uint64_t rotationSeed = 0;
  /// Rotations tried (seeds rotationSeed, +1, ...): each candidate is
  /// calibrated and quantized, and the one whose quantized outputs are
  /// closest to float on the calibration samples by rotationSearchMetric is
  /// kept. 1: no search.
  unsigned rotationCandidates = 1;
  OutputMetric rotationSearchMetric = OutputMetric::MSE;
  size_t rotationSearchSamples =
      16; // calibration samples each candidate is scored on
  bool rotateResidual =
      true; // the residual stream offline (rotate-hadamard residual)
  std::string emitRewrittenPath; // the float model after the rewrites (.mlir)
  /// Per-layer bit widths: measured sensitivities, then the integer program
  /// (or the greedy baseline) under the budget.
  bool bitsAuto = false;
  SensitivityOptions sensitivity;
  BitBudget budget;
  std::vector<std::pair<std::string, unsigned>>
      pins;                 // layer name -> weight bits
  bool pinFirstLast = true; // first and last weight layers at the widest format
  std::string sensitivityCache; // JSON: reused when it matches the model
  /// The calibration samples' task labels (.npz; readTaskLabels): the task
  /// metric of the sensitivity and of the rotation search.
  std::string taskLabels;
  BitAssignmentMethod assignment = BitAssignmentMethod::ILP;
  /// The kernels of the JIT-compiled runs (calibration, sensitivity,
  /// report): the ones the compiled model will call.
  cpu::TargetOptions target;
};

/// One quantization of `module` (@main_graph, float graph ops) by `options`;
/// progress and summaries go to `log`. Each stage is an llvm::Error: a
/// one-line reason (diagnostics for IR problems went to the context).
class QuantizationSession {
public:
  QuantizationSession(mlir::ModuleOp module, const QuantizeOptions &options,
                      llvm::raw_ostream &log);
  ~QuantizationSession();

  llvm::Error prepare();
  llvm::Error calibrate();
  llvm::Error rewrite();
  llvm::Error assignBitWidths();
  /// With an attribution path: the error attribution, written there.
  llvm::Error attribute();
  llvm::Error fold();
  llvm::Error evaluate();
  llvm::Error lowerToInteger();

  /// The quality report, once evaluate() ran with samples to evaluate on.
  const QualityReport *report() const;

private:
  /// Runs the float model over the calibration samples into the statistics
  /// (and, with second moments, the convolutions' patch second moments).
  llvm::Error collect(bool secondMoments);

  struct State;
  mlir::ModuleOp module;
  const QuantizeOptions &o;
  llvm::raw_ostream &log;
  std::unique_ptr<State> s;
};

/// Runs every stage of a session (evaluate() only with a report path).
/// `report`, when given, receives the quality report if one was made.
llvm::Error quantizeModel(mlir::ModuleOp module, const QuantizeOptions &options,
                          llvm::raw_ostream &log,
                          std::optional<QualityReport> *report = nullptr);

/// Whether `module` holds qc.quantize/qc.dequantize (a QDQ model, such as
/// ONNX Runtime's quantize_static writes).
bool hasQuantizeDequantize(mlir::ModuleOp module);

/// Rewrites a QDQ model's quantize -> float op -> dequantize islands to the
/// integer ops (the lower-to-integer pipeline), as a session's
/// lowerToInteger() does after calibration.
llvm::Error lowerQuantizeDequantize(mlir::ModuleOp module);

} // namespace qc

#endif
