//===- Quantize.h - post-training int8 quantization of a model --*- C++ -*-===//
#ifndef QC_QUANTIZATION_QUANTIZE_H
#define QC_QUANTIZATION_QUANTIZE_H

#include "qc/Quantization/BitWidths.h"
#include "qc/Quantization/Calibration.h"

namespace qc {

struct QuantizeOptions {
  std::string calibrationData;     // directory or .npz
  size_t samples = 0;              // calibration samples (0: all but the held-out ones)
  size_t evalSamples = 0;          // held-out samples for the report (0: the rest)
  CalibrationOptions calibration;
  std::string weightGranularity = "channel";
  std::string weightRounding = "auto"; // nearest | gptq | auto (gptq at <= 4 bits)
  bool biasCorrection = true;
  std::string saveCalibration, loadCalibration;
  std::string reportPath;          // JSON; a markdown page beside it (.md)
  std::string emitQDQPath;         // the QDQ form (.mlir), before the integer rewrite
  std::string modelName;
  unsigned weightBits = 8, activationBits = 8;
  std::string scope = "all";       // insert-observers' scope: all | linear
  std::string activationGranularity = "tensor"; // tensor | token (dynamic, per row)
  /// With token or group:G: a dynamic zero point per row or group (asymmetric).
  bool dynamicZeroPoints = false;
  /// SmoothQuant (smooth-activations) with this alpha, or searched per layer.
  bool smooth = false, smoothAlphaAuto = false;
  double smoothAlpha = 0.5;
  /// Hadamard rotation of the linear layers' inputs (rotate-hadamard).
  bool rotate = false;
  uint64_t rotationSeed = 0;
  /// Rotations tried (seeds rotationSeed, +1, ...): each candidate is
  /// calibrated and quantized, and the one whose quantized outputs are
  /// closest to float on the calibration samples by rotationSearchMetric is
  /// kept: mse (the outputs' relative squared error), kl (KL divergence of
  /// the rows' softmax) or task (cross-entropy of taskLabels). 1: no search.
  unsigned rotationCandidates = 1;
  std::string rotationSearchMetric = "mse";
  size_t rotationSearchSamples = 16; // calibration samples each candidate is scored on
  bool rotateResidual = true;      // the residual stream offline (rotate-hadamard residual)
  std::string emitRewrittenPath;   // the float model after the rewrites (.mlir)
  /// Per-layer bit widths (--bits auto): measured sensitivities, then the
  /// integer program (or the greedy baseline) under the budget.
  bool bitsAuto = false;
  SensitivityOptions sensitivity;
  BitBudget budget;
  std::vector<std::pair<std::string, unsigned>> pins; // layer name -> weight bits
  bool pinFirstLast = true;        // first and last weight layers at the widest format
  std::string sensitivityCache;    // JSON: reused when it matches the model
  /// The calibration samples' task labels (.npz; readTaskLabels): the task
  /// metric of the sensitivity and of the rotation search.
  std::string taskLabels;
  std::string assignment = "ilp";  // ilp | greedy
};

/// Quantizes the float graph in @main_graph of `module` to the integer-only
/// form: folds BatchNorm, calibrates (or loads statistics), optionally
/// rotates and/or smooths the linear layers' inputs (calibrating again after
/// each rewrite, and checking that the float outputs did not change), folds
/// the ranges into quantization parameters and weights, lowers to integer
/// ops. With a
/// report path, measures every quantized activation and the outputs against
/// float on the held-out samples and writes the report; a summary goes to
/// `os`. Errors are one-line reasons (diagnostics for IR problems).
llvm::Error quantizeModel(mlir::ModuleOp module, const QuantizeOptions &options,
                          llvm::raw_ostream &os);

/// Whether `module` holds qc.quantize/qc.dequantize (a QDQ model, such as
/// ONNX Runtime's quantize_static writes).
bool hasQuantizeDequantize(mlir::ModuleOp module);

/// Rewrites a QDQ model's quantize -> float op -> dequantize islands to the
/// integer ops (lower-quantized-to-integer, then canonicalize and CSE), as
/// quantizeModel does after calibration.
llvm::Error lowerQuantizeDequantize(mlir::ModuleOp module);

} // namespace qc

#endif
