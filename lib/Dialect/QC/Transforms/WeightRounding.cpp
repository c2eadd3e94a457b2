//===- WeightRounding.cpp - round-to-nearest and GPTQ weight rounding -----===//
#include "qc/Dialect/QC/Transforms/Quantization.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace qc;

QuantizedWeight
qc::quantizeWeight(llvm::ArrayRef<float> w, int64_t channels,
                   llvm::function_ref<int64_t(int64_t)> channelOf,
                   int64_t qmax) {
  QuantizedWeight r;
  std::vector<double> maxAbs(channels, 0.0);
  for (int64_t i = 0, e = w.size(); i < e; ++i)
    maxAbs[channelOf(i)] =
        std::max(maxAbs[channelOf(i)], std::fabs(double(w[i])));
  for (double m : maxAbs)
    r.scales.push_back(m > 0 ? m / double(qmax) : 1.0);
  for (int64_t i = 0, e = w.size(); i < e; ++i) {
    double s = r.scales[channelOf(i)];
    int32_t q = int32_t(
        std::clamp(std::nearbyint(w[i] / s), -double(qmax), double(qmax)));
    r.q.push_back(q);
    r.dequantized.push_back(float(q * s));
  }
  return r;
}

namespace {

/// In-place lower Cholesky factor of the symmetric n x n `a` (a = L L^T);
/// false when `a` is not positive definite.
bool cholesky(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int64_t p = 0; p < j; ++p)
      d -= a[j * n + p] * a[j * n + p];
    if (!(d > 0))
      return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double v = a[i * n + j];
      for (int64_t p = 0; p < j; ++p)
        v -= a[i * n + p] * a[j * n + p];
      a[i * n + j] = v / d;
    }
    for (int64_t i = 0; i < j; ++i)
      a[i * n + j] = 0;
  }
  return true;
}

/// The inverse of L L^T from the lower factor L.
std::vector<double> inverseFromCholesky(const std::vector<double> &l,
                                        int64_t n) {
  // M = L^-1 (lower), then inv = M^T M.
  std::vector<double> m(n * n, 0.0);
  for (int64_t j = 0; j < n; ++j) {
    m[j * n + j] = 1.0 / l[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      double v = 0;
      for (int64_t p = j; p < i; ++p)
        v -= l[i * n + p] * m[p * n + j];
      m[i * n + j] = v / l[i * n + i];
    }
  }
  std::vector<double> inv(n * n, 0.0);
  for (int64_t p = 0; p < n; ++p)
    for (int64_t i = 0; i <= p; ++i) {
      double mi = m[p * n + i];
      if (mi == 0)
        continue;
      for (int64_t j = 0; j <= p; ++j)
        inv[i * n + j] += mi * m[p * n + j];
    }
  return inv;
}

} // namespace

QuantizedWeight
qc::gptqQuantizeWeight(llvm::ArrayRef<float> w, int64_t k, int64_t n,
                       int64_t channels,
                       llvm::function_ref<int64_t(int64_t)> channelOf,
                       int64_t qmax, llvm::ArrayRef<float> gram, double damp) {
  QuantizedWeight r = quantizeWeight(w, channels, channelOf, qmax);
  if (int64_t(gram.size()) != k * k || k == 0)
    return r;
  // Input rows in order of decreasing energy ("act order").
  std::vector<int64_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return gram[a * k + a] > gram[b * k + b];
  });
  double meanDiag = 0;
  for (int64_t i = 0; i < k; ++i)
    meanDiag += gram[i * k + i];
  meanDiag /= double(k);
  if (!(meanDiag > 0))
    return r;
  std::vector<double> h(k * k), u;
  bool factored = false;
  for (double d = damp; d <= 1.0 && !factored; d *= 10) {
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) {
        int64_t oa = order[a], ob = order[b];
        double v = gram[oa * k + ob];
        if (a == b)
          v = (v > 0 ? v : 1.0) + d * meanDiag;
        h[a * k + b] = v;
      }
    if (!cholesky(h, k))
      continue;
    // U: the upper Cholesky factor of H^-1 (H^-1 = U^T U), the transpose
    // of its lower factor.
    u = inverseFromCholesky(h, k);
    factored = cholesky(u, k);
  }
  if (!factored)
    return r;
  auto uAt = [&](int64_t i, int64_t j) {
    return u[j * k + i];
  };                               // U[i, j], j >= i
  std::vector<double> rows(k * n); // the weight, rows in `order`
  for (int64_t a = 0; a < k; ++a)
    for (int64_t c = 0; c < n; ++c)
      rows[a * n + c] =
          gram[order[a] * k + order[a]] > 0 ? w[order[a] * n + c] : 0.0;
  std::vector<double> err(n);
  for (int64_t a = 0; a < k; ++a) {
    int64_t row = order[a];
    double d = uAt(a, a);
    for (int64_t c = 0; c < n; ++c) {
      int64_t i = row * n + c;
      double s = r.scales[channelOf(i)], v = rows[a * n + c];
      int32_t q = int32_t(
          std::clamp(std::nearbyint(v / s), -double(qmax), double(qmax)));
      r.q[i] = q;
      r.dequantized[i] = float(q * s);
      err[c] = (v - q * s) / d;
    }
    for (int64_t b = a + 1; b < k; ++b) {
      double f = uAt(a, b);
      double *dst = &rows[b * n];
      for (int64_t c = 0; c < n; ++c)
        dst[c] -= err[c] * f;
    }
  }
  return r;
}
