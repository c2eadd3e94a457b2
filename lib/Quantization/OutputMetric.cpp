//===- OutputMetric.cpp - quantized outputs against float's ---------------===//
#include "qc/Quantization/OutputMetric.h"

#include <algorithm>
#include <cmath>

using namespace qc;

bool qc::holdsProbabilities(const HostTensor &t) {
  if (t.dtype != DType::Float || t.shape.empty())
    return false;
  const float *p = reinterpret_cast<const float *>(t.data.data());
  int64_t width = t.shape.back(), count = t.numElements();
  for (int64_t row = 0; row + width <= count; row += width) {
    double sum = 0;
    for (int64_t j = 0; j < width; ++j) {
      if (!(p[row + j] >= -1e-6f && p[row + j] <= 1.f + 1e-6f))
        return false;
      sum += p[row + j];
    }
    if (std::abs(sum - 1) > 1e-3)
      return false;
  }
  return true;
}

/// The log-probabilities of one row: log-softmax of logits, or the logs of
/// probabilities.
static void logProbabilities(const float *x, int64_t width, bool probabilities,
                             std::vector<double> &lp) {
  lp.resize(width);
  if (probabilities) {
    for (int64_t j = 0; j < width; ++j)
      lp[j] = std::log(std::max(double(x[j]), 1e-30));
    return;
  }
  double m = -INFINITY, s = 0;
  for (int64_t j = 0; j < width; ++j)
    m = std::max(m, double(x[j]));
  for (int64_t j = 0; j < width; ++j)
    s += std::exp(x[j] - m);
  double logSum = m + std::log(s);
  for (int64_t j = 0; j < width; ++j)
    lp[j] = x[j] - logSum;
}

void OutputComparison::add(const HostTensor &ref, const HostTensor &got,
                           bool probabilities, llvm::ArrayRef<int64_t> labels) {
  if (got.dtype != DType::Float)
    return;
  const float *r = reinterpret_cast<const float *>(ref.data.data());
  const float *g = reinterpret_cast<const float *>(got.data.data());
  int64_t count = got.numElements();
  if (metric == OutputMetric::MSE) {
    for (int64_t i = 0; i < count; ++i) {
      double d = double(r[i]) - g[i];
      num += d * d;
      den += double(r[i]) * r[i];
    }
    return;
  }
  int64_t width = got.shape.empty() ? 1 : got.shape.back();
  for (int64_t row = 0, i = 0; row + width <= count; row += width, ++i) {
    if (metric == OutputMetric::Task) {
      if (i >= int64_t(labels.size()) || labels[i] < 0)
        continue;
      logProbabilities(g + row, width, probabilities, lq);
      num -= lq[labels[i]];
      den += 1;
      continue;
    }
    logProbabilities(r + row, width, probabilities, lp);
    logProbabilities(g + row, width, probabilities, lq);
    double d = 0;
    for (int64_t j = 0; j < width; ++j)
      d += std::exp(lp[j]) * (lp[j] - lq[j]);
    num += d;
    den += 1;
  }
}
