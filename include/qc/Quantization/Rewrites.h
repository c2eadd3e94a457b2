//===- Rewrites.h - data-driven parts of SmoothQuant and rotation -*- C++
//-*-===//
#ifndef QC_QUANTIZATION_REWRITES_H
#define QC_QUANTIZATION_REWRITES_H

#include "qc/Quantization/Calibration.h"

namespace qc {

struct AlphaSearchOptions {
  unsigned weightBits = 8, activationBits = 8;
  bool signedActivations = false;
  size_t maxSamples = 8; // calibration samples whose activations are kept
  size_t maxRows = 512;  // rows of each activation the error is measured on
};

/// SmoothQuant's alpha per layer group (--smooth-alpha=auto): for every
/// activation smooth-activations can rewrite (its observer calibrated with
/// channel_abs_max), runs the observed model on a few samples, and for alpha
/// in {0, 0.05, ..., 1} measures the readers' output error
/// sum ||X W - Q(X / s) Q(s W)||^2 with per-tensor activation and
/// per-channel weight quantization; writes the best alpha onto the observer
/// (qc.smooth_alpha). Returns the chosen alpha by observer name.
llvm::Expected<std::map<std::string, double>>
searchSmoothingAlpha(mlir::ModuleOp module, const ObservedModel &model,
                     llvm::ArrayRef<Sample> samples,
                     const AlphaSearchOptions &options);

} // namespace qc

#endif
