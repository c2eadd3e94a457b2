//===- Calibration.h - post-training quantization driver --------*- C++ -*-===//
//
// The host side of post-training quantization: runs the float model with its
// observers (JIT) over calibration samples, keeps per-tensor statistics
// (min/max, histograms, per-channel means), chooses ranges by a calibration
// method, writes them onto the observers, and measures the quantized model
// against the float one (the quality report).
//
//===----------------------------------------------------------------------===//
#ifndef QC_QUANTIZATION_CALIBRATION_H
#define QC_QUANTIZATION_CALIBRATION_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"
#include "qc/Runtime/HostTensor.h"
#include "qc/Runtime/Model.h"
#include "qc/Runtime/Samples.h"
#include "qc/Target/CPU/TargetOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include <map>
#include <string>
#include <vector>

namespace qc {

/// Statistics of one observed tensor over all calibration samples.
struct TensorStats {
  double min = 0, max = 0;
  int64_t count = 0;
  /// Histogram of x over [min, max] and of |x| over [0, max |x|].
  std::vector<double> hist, absHist;
  int64_t channelAxis = -1;
  std::vector<double> channelMean, channelAbsMax;
  /// With CalibrationOptions::secondMoments and the channels on the last
  /// axis: E[x x^T] over the rows, C x C row-major (for GPTQ).
  std::vector<double> gram;
  /// max_c channelAbsMax[c] / mean_c channelAbsMax[c]: how much of the
  /// per-tensor range a few outlier channels take (0 without channel
  /// statistics).
  double outlierRatio() const;
};
using CalibrationStats = std::map<std::string, TensorStats>;

/// A convolution whose weights GPTQ rounds: where its input patches come
/// from and their geometry (NCHW input, auto_pad NOTSET).
struct ConvPatches {
  std::string observer; // the observer of the conv's input
  std::string conv;     // the conv's name: the key of its second moments
  int64_t group = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t padTop = 0, padLeft = 0, outH = 1, outW = 1;
};
/// Per convolution, the second moments E[p p^T] of its input patches
/// (p: the K = C/group * kh * kw values one output reads, in the weight's
/// layout), one K x K block per group.
using PatchGrams = std::map<std::string, std::vector<double>>;

/// The most histogram bins a tensor's statistics may have (--histogram-bins,
/// statistics files): entropy calibration takes time quadratic in them.
constexpr int64_t kMaxHistogramBins = 16384;

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::MinMax;
  double percentile = 99.99;
  int64_t bins = 2048;
  bool signedActivations = false; // i8 symmetric instead of u8 asymmetric
  bool progress = false;          // a progress bar on stderr
  /// Also accumulate the second moments (TensorStats::gram) of tensors with
  /// the channels last and at most maxGramChannels of them.
  bool secondMoments = false;
  int64_t maxGramChannels = 4096;
  /// Narrow a range to where its consumers are not constant: a tensor read
  /// only by elementwise ops of itself and scalar constants up to the next
  /// observers (a Conv's output into HardSwish, Relu6, a scalar affine) is
  /// a function of one variable; values below the point where that function
  /// stops changing (HardSwish(x) = 0 for x <= -3) clamp onto it with the
  /// same result, so the range starts there (likewise at the top). Off by
  /// default: it helps PP-OCRv4's detector and costs its recognizer
  /// (docs/quality.md).
  bool narrowRanges = false;
  /// Convolutions whose patch second moments to accumulate (GPTQ), those
  /// with K <= maxPatchSize.
  std::vector<ConvPatches> convPatches;
  int64_t maxPatchSize = 1152;
};

/// A float model with its observers' inputs as extra outputs, JIT-compiled:
/// runs return the model's outputs, then the observed tensors.
struct ObservedModel {
  std::unique_ptr<Model> model;
  size_t numOutputs = 0;             // the model's own outputs
  std::vector<std::string> observed; // observer names, in output order
  std::vector<int64_t> channelAxes;  // -1 where no channel means are kept
  /// Runs one sample; the outputs in signature order.
  llvm::Expected<std::vector<HostTensor>> run(const Sample &sample) const;
};

/// Clones `module`, exposes the observed tensors as extra outputs, runs
/// `prepare` on the clone and JIT-compiles it. Exposed are the qc.observe
/// ops (by name) or, with `quantized`, the ops carrying qc.observed (the
/// dequantized activations fold-calibration tags).
llvm::Expected<ObservedModel> compileObserved(
    mlir::ModuleOp module, const cpu::TargetOptions &target,
    bool quantized = false,
    llvm::function_ref<llvm::LogicalResult(mlir::ModuleOp)> prepare = nullptr);

/// Lowers @main_graph of `module` (in place) for `target` (the kernels the
/// compiled model calls; one thread) and JIT-compiles it; `what` names it in
/// errors.
llvm::Expected<std::unique_ptr<Model>>
jitForHost(mlir::ModuleOp module, const cpu::TargetOptions &target,
           llvm::StringRef what);

/// Runs the samples and accumulates the statistics of every observer.
llvm::Expected<CalibrationStats>
collectStatistics(const ObservedModel &model, llvm::ArrayRef<Sample> samples,
                  const CalibrationOptions &options,
                  PatchGrams *patchGrams = nullptr);

/// The convolutions of `module` whose input is observed, for
/// CalibrationOptions::convPatches.
std::vector<ConvPatches> convPatchSpecs(mlir::ModuleOp module);

/// The patch second moments as each convolution's `qc.patch_gram`
/// attribute (group x K x K, f32), which fold-calibration's GPTQ reads, or
/// as the attribute `attrName` (qc.quantized_input_gram). Returns how many
/// convolutions got one.
int attachPatchGrams(mlir::ModuleOp module, const PatchGrams &grams,
                     llvm::StringRef attrName = "qc.patch_gram");

/// The range [lo, hi] the method chooses for a tensor.
std::pair<double, double> chooseRange(const TensorStats &stats,
                                      const CalibrationOptions &options);

/// Writes min/max (and channel means, abs maxima, second moments) onto each
/// qc.observe of `module`; an error names an observer without statistics.
llvm::Error applyCalibration(mlir::ModuleOp module,
                             const CalibrationStats &stats,
                             const CalibrationOptions &options);

llvm::json::Value statsToJSON(const CalibrationStats &stats);
llvm::Expected<CalibrationStats> statsFromJSON(const llvm::json::Value &v);

} // namespace qc

#endif
