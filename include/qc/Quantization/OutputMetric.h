//===- OutputMetric.h - quantized outputs against float's -------*- C++ -*-===//
//
// How far a quantized model's outputs are from the float model's, summed over
// calibration runs: the sensitivity measurements of --bits auto and the
// rotation search of --rotate-hadamard score with the same metrics.
//
//===----------------------------------------------------------------------===//
#ifndef QC_QUANTIZATION_OUTPUTMETRIC_H
#define QC_QUANTIZATION_OUTPUTMETRIC_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"
#include "qc/Runtime/HostTensor.h"

#include "llvm/ADT/ArrayRef.h"
#include <string>
#include <vector>

namespace qc {

/// Whether every row (last axis) of `t` is a probability distribution, as a
/// Softmax output's are: kl and task then take its values as they are.
bool holdsProbabilities(const HostTensor &t);

/// Accumulates one output of one run: the squared error and the reference's
/// energy (mse), the summed KL divergence of the rows' distributions (softmax
/// of logits, or the probabilities as they are) and their count (kl), or the
/// summed cross-entropy of the labelled rows and their count (task; `ref`
/// unused, negative labels not scored). value() is the relative squared
/// error, the mean KL divergence or the mean cross-entropy.
struct OutputComparison {
  OutputMetric metric;
  double num = 0, den = 0;
  std::vector<double> lp, lq;

  void add(const HostTensor &ref, const HostTensor &got, bool probabilities,
           llvm::ArrayRef<int64_t> labels);
  double value() const { return den > 0 ? num / den : 0; }
};

} // namespace qc

#endif // QC_QUANTIZATION_OUTPUTMETRIC_H
