//===- Attribution.h - where a quantized model's error comes from -*- C++ -*-===//
//
// Per-tensor error attribution of the quality report (--attribution): on the
// calibrated float model with a switchable fake quantization on every weight
// layer and every tensor the integer-only path quantizes, each one is
// quantized alone, and everything but it is quantized, and the outputs are
// compared with float's, as a relative squared error and as a decision
// metric (argmax agreement, or the IoU of thresholded maps).
//
//===----------------------------------------------------------------------===//
#ifndef QC_QUANTIZATION_ATTRIBUTION_H
#define QC_QUANTIZATION_ATTRIBUTION_H

#include "qc/Quantization/Calibration.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include <optional>
#include <string>
#include <vector>

namespace qc {

struct AttributionOptions {
  size_t samples = 4; // calibration samples run per measurement
  unsigned weightBits = 8, activationBits = 8;
  bool signedActivations = false;
  /// The decision metric: with a threshold, the IoU of the masks
  /// (output > t) with float's (a segmentation or detection map); else the
  /// fraction of rows (last axis) whose argmax is float's (a classifier, a
  /// CTC recognizer's frames).
  std::optional<double> maskThreshold;
  /// Then the `cumulative` tensors worst alone are left float one after
  /// another, everything else quantized: how many need more precision.
  size_t cumulative = 24;
  bool progress = false;
};

/// One weight layer's weights, or one quantized activation.
struct AttributionRow {
  std::string name; // the layer op's name, or the observer's
  bool weight = false;
  /// Only this one quantized: the outputs' squared error relative to their
  /// energy, and the decision metric (1: float's decisions).
  double alone = 0, aloneDecision = 1;
  /// Everything quantized but this one.
  double allBut = 0, allButDecision = 1;
};

struct Attribution {
  std::string decision;            // what the decision metric is
  double all = 0, allDecision = 1; // everything quantized
  size_t samples = 0;
  unsigned weightBits = 8, activationBits = 8;
  std::vector<AttributionRow> rows; // weight layers, then activations
  /// Rows left float in turn (worst alone first) and the outputs' error and
  /// decision metric with all of them float up to there.
  struct Step {
    size_t row;
    double mse, decision;
  };
  std::vector<Step> cumulative;
};

/// Measures the attribution on a calibrated float model (observers with
/// ranges); the module is not changed.
llvm::Expected<Attribution> attributeError(mlir::ModuleOp module,
                                           llvm::ArrayRef<Sample> samples,
                                           const AttributionOptions &options,
                                           const cpu::TargetOptions &target);

llvm::json::Value attributionToJSON(const Attribution &a);

/// A markdown page: the totals, then the `top` rows whose removal recovers
/// the most (all-but-one), and the `top` worst alone.
void writeAttributionMarkdown(const Attribution &a, llvm::raw_ostream &os,
                              size_t top = 25);

} // namespace qc

#endif // QC_QUANTIZATION_ATTRIBUTION_H
