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
  // A channel whose weights are below float precision of the largest
  // channel's (what BatchNorm folding leaves of a channel it zeroes, ~1e-34)
  // quantizes to zeros with scale 1: its tiny scale would put the bias out
  // of the accumulator's range and keep the whole layer in float.
  double peak =
      maxAbs.empty() ? 0.0 : *std::max_element(maxAbs.begin(), maxAbs.end());
  for (double m : maxAbs)
    r.scales.push_back(m > std::ldexp(peak, -24) ? m / double(qmax) : 1.0);
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
  gptqRound(w, k, n, gram, damp, [&](int64_t i, double v) {
    double s = r.scales[channelOf(i)];
    int32_t q =
        int32_t(std::clamp(std::nearbyint(v / s), -double(qmax), double(qmax)));
    r.q[i] = q;
    r.dequantized[i] = float(q * s);
    return double(r.dequantized[i]);
  });
  return r;
}

bool qc::gptqRound(llvm::ArrayRef<float> w, int64_t k, int64_t n,
                   llvm::ArrayRef<float> gram, double damp,
                   llvm::function_ref<double(int64_t, double)> round) {
  if (int64_t(gram.size()) != k * k || k == 0)
    return false;
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
    return false;
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
    return false;
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
      double v = rows[a * n + c];
      err[c] = (v - round(row * n + c, v)) / d;
    }
    for (int64_t b = a + 1; b < k; ++b) {
      double f = uAt(a, b);
      double *dst = &rows[b * n];
      for (int64_t c = 0; c < n; ++c)
        dst[c] -= err[c] * f;
    }
  }
  return true;
}

namespace {

/// ge = G e for the K x K `g` and the K x N `e` (row-major): the
/// reconstructions' inner product, vectorized for AVX-512 where the host
/// has it.
__attribute__((target_clones("arch=skylake-avx512", "default"))) void
gramTimes(const double *g, const double *e, double *ge, int64_t k,
          int64_t n) {
  std::fill(ge, ge + k * n, 0.0);
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < k; ++b) {
      double gab = g[a * k + b];
      if (gab == 0)
        continue;
      double *out = ge + a * n;
      const double *in = e + b * n;
      for (int64_t c = 0; c < n; ++c)
        out[c] += gab * in[c];
    }
}

/// Adam on one parameter vector.
struct Adam {
  std::vector<double> m, v;
  int t = 0;
  explicit Adam(size_t n) : m(n, 0.0), v(n, 0.0) {}
  /// p -= lr[i] * mhat / (sqrt(vhat) + eps), one step over all of `p`.
  template <typename LR>
  void step(std::vector<double> &p, const std::vector<double> &g, LR lr) {
    ++t;
    double b1 = 0.9, b2 = 0.999;
    double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      p[i] -= lr(i) * (m[i] / c1) / (std::sqrt(v[i] / c2) + 1e-12);
    }
  }
};

} // namespace

QuantizedWeight qc::reconstructWeight(ReconstructionMethod method,
                                      llvm::ArrayRef<float> w, int64_t k,
                                      int64_t n, int64_t qmax,
                                      llvm::ArrayRef<float> gram, double noise,
                                      int iterations,
                                      llvm::ArrayRef<float> gramQuantized) {
  // Start: per-column scales and nearest levels (quantizeWeight).
  QuantizedWeight r =
      quantizeWeight(w, n, [n](int64_t i) { return i % n; }, qmax);
  double meanDiag = 0;
  for (int64_t i = 0; i < k; ++i)
    meanDiag += gram[i * k + i];
  meanDiag /= double(k);
  if (!(meanDiag > 0) || iterations <= 0)
    return r;
  // G and the noise variance in units of the mean input energy; the loss
  // per weight in units of its column's (initial) step squared.
  // Sequential: the weights' error measured on the quantized model's
  // inputs (G~), which hold the input noise themselves.
  bool sequential = gramQuantized.size() == gram.size();
  std::vector<double> g(gram.size());
  for (size_t i = 0; i < gram.size(); ++i)
    g[i] = double(sequential ? gramQuantized[i] : gram[i]) / meanDiag;
  double sigma2 = sequential ? 0.0 : noise / meanDiag,
         norm = 1.0 / double(k * n);
  std::vector<double> s0(r.scales.begin(), r.scales.end());
  int64_t size = k * n;
  std::vector<double> q(size), e(size), ge(size), grad(size);
  // dLoss/dq (q the dequantized weight) for the current q.
  auto lossGradient = [&]() {
    for (int64_t i = 0; i < size; ++i)
      e[i] = q[i] - double(w[i]);
    gramTimes(g.data(), e.data(), ge.data(), k, n);
    for (int64_t i = 0; i < size; ++i) {
      double s = s0[i % n];
      grad[i] = 2 * norm * (ge[i] + sigma2 * q[i]) / (s * s);
    }
  };

  if (method == ReconstructionMethod::AdaRound) {
    // h(V) = clip(sigmoid(V) (zeta - gamma) + gamma, 0, 1); V starts where
    // h equals the fractional part (nearest rounding's starting point).
    // lambda and the step size: tuned on test/e2e/conv-gptq.test's convs
    // (W4: lambda 0.01 gives +0.8 dB over nearest, 1 gives +3.8 dB).
    const double zeta = 1.1, gamma = -0.1, lambda = 1.0, lrV = 0.03;
    std::vector<double> base(size), v(size);
    for (int64_t i = 0; i < size; ++i) {
      double x = double(w[i]) / s0[i % n];
      base[i] = std::floor(x);
      double frac = std::clamp(x - base[i], 0.01, 0.99);
      v[i] = -std::log((zeta - gamma) / (frac - gamma) - 1);
    }
    auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
    Adam opt(size);
    std::vector<double> gv(size);
    int warmup = iterations / 5;
    for (int it = 0; it < iterations; ++it) {
      // Regularizer sum (1 - |2h - 1|^beta), beta annealed 20 -> 2 after
      // the warm-up (none during it).
      double frac = it < warmup ? 0.0
                                : double(it - warmup) /
                                      std::max(1, iterations - warmup);
      double beta = 20 - 18 * frac;
      for (int64_t i = 0; i < size; ++i) {
        double sg = sigmoid(v[i]);
        double h = std::clamp(sg * (zeta - gamma) + gamma, 0.0, 1.0);
        double level = std::clamp(base[i] + h, -double(qmax), double(qmax));
        q[i] = level * s0[i % n];
        gv[i] = h; // kept for the derivative below
      }
      lossGradient();
      for (int64_t i = 0; i < size; ++i) {
        double h = gv[i], sg = sigmoid(v[i]);
        double lvl = base[i] + h;
        bool inside = h > 0 && h < 1 && lvl > -double(qmax) &&
                      lvl < double(qmax);
        double dh = inside ? sg * (1 - sg) * (zeta - gamma) : 0.0;
        double d = grad[i] * s0[i % n] * dh;
        if (it >= warmup && inside) {
          double t = 2 * h - 1, at = std::fabs(t);
          // d/dh (1 - |2h-1|^beta) = -2 beta |2h-1|^(beta-1) sign(2h-1)
          double dreg = -2 * beta * std::pow(at, beta - 1) * (t < 0 ? -1 : 1);
          d += lambda * norm * dreg * dh;
        }
        grad[i] = d;
      }
      opt.step(v, grad, [&](size_t) { return lrV; });
    }
    for (int64_t i = 0; i < size; ++i) {
      int64_t lvl = int64_t(base[i]) + (v[i] >= 0 ? 1 : 0);
      lvl = std::clamp<int64_t>(lvl, -qmax, qmax);
      r.q[i] = int32_t(lvl);
      r.dequantized[i] = float(double(lvl) * s0[i % n]);
    }
    return r;
  }

  // AdaQuant: weights p and scales s through round() (straight-through;
  // LSQ's gradient for the scale).
  std::vector<double> p(w.begin(), w.end()), s(s0);
  Adam optP(size), optS(n);
  std::vector<double> gs(n);
  for (int it = 0; it < iterations; ++it) {
    for (int64_t i = 0; i < size; ++i) {
      double sc = s[i % n];
      q[i] = std::clamp(std::nearbyint(p[i] / sc), -double(qmax),
                        double(qmax)) *
             sc;
    }
    lossGradient();
    std::fill(gs.begin(), gs.end(), 0.0);
    for (int64_t i = 0; i < size; ++i) {
      int64_t c = i % n;
      double x = p[i] / s[c], lvl = std::nearbyint(x);
      bool inside = lvl > -double(qmax) && lvl < double(qmax);
      gs[c] += grad[i] * (inside ? lvl - x : std::clamp(lvl, -double(qmax),
                                                        double(qmax)));
      grad[i] = inside ? grad[i] : 0.0;
    }
    // Steps of 1/2000 of a weight's step and 1/20000 of its scale: larger
    // ones keep the weights jumping between levels (Adam moves each one by
    // about its step size whatever its gradient).
    const double lrP = 5e-4, lrS = 5e-5;
    optP.step(p, grad, [&](size_t i) { return lrP * s0[i % n]; });
    optS.step(s, gs, [&](size_t c) { return lrS * s0[c]; });
    for (int64_t c = 0; c < n; ++c)
      s[c] = std::max(s[c], 1e-3 * s0[c]);
  }
  for (int64_t c = 0; c < n; ++c)
    r.scales[c] = s[c];
  for (int64_t i = 0; i < size; ++i) {
    double sc = s[i % n];
    int64_t lvl = int64_t(
        std::clamp(std::nearbyint(p[i] / sc), -double(qmax), double(qmax)));
    r.q[i] = int32_t(lvl);
    r.dequantized[i] = float(double(lvl) * sc);
  }
  return r;
}
