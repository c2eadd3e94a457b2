//===- Rewrites.cpp - SmoothQuant's per-layer alpha search ----------------===//
#include "qc/Quantization/Rewrites.h"

#include "qc/Dialect/QC/Transforms/LinearGroups.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include <cmath>

using namespace mlir;
using namespace qc;

namespace {

/// Fake quantization of `x` per tensor over its own [min, max], with the
/// type fold-calibration gives such a range.
void fakeQuantizeActivations(MLIRContext *ctx, std::vector<float> &x,
                             unsigned bits, bool isSigned) {
  double lo = 0, hi = 0;
  for (float v : x) {
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  }
  quant::UniformQuantizedType t =
      activationType(ctx, lo, hi, isSigned, Float32Type::get(ctx), bits);
  double scale = t.getScale(), zp = double(t.getZeroPoint());
  double qmin = double(t.getStorageTypeMin()),
         qmax = double(t.getStorageTypeMax());
  for (float &v : x)
    v = float((std::clamp(std::nearbyint(v / scale) + zp, qmin, qmax) - zp) *
              scale);
}

/// Symmetric per-output-channel fake quantization of a K x N weight, as
/// fold-calibration rounds it.
std::vector<float> fakeQuantizeWeight(const std::vector<double> &w, int64_t n,
                                      unsigned bits) {
  std::vector<float> f(w.begin(), w.end());
  return quantizeWeight(
             f, n, [n](int64_t i) { return i % n; },
             (int64_t(1) << (bits - 1)) - 1)
      .dequantized;
}

/// err += ||A B - C||^2 for A rows x k, B k x n, C rows x n.
void accumulateError(const std::vector<float> &a, const std::vector<float> &b,
                     const std::vector<float> &ref, int64_t rows, int64_t k,
                     int64_t n, double &err) {
  std::vector<float> y(n);
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(y.begin(), y.end(), 0.f);
    for (int64_t j = 0; j < k; ++j) {
      float x = a[r * k + j];
      if (x == 0)
        continue;
      const float *row = &b[j * n];
      for (int64_t c = 0; c < n; ++c)
        y[c] += x * row[c];
    }
    for (int64_t c = 0; c < n; ++c) {
      double d = double(y[c]) - ref[r * n + c];
      err += d * d;
    }
  }
}

} // namespace

llvm::Expected<std::map<std::string, double>>
qc::searchSmoothingAlpha(ModuleOp module, const ObservedModel &model,
                         ArrayRef<Sample> samples,
                         const AlphaSearchOptions &o) {
  std::map<std::string, double> chosen;
  auto graph = module.lookupSymbol<func::FuncOp>("main_graph");
  if (!graph)
    return chosen;
  SmallVector<ActivationGroup> groups;
  for (ActivationGroup &g : findActivationGroups(graph))
    if (g.kind != ProducerKind::Other && g.observer &&
        g.observer.getChannelAbsMax())
      groups.push_back(g);
  if (groups.empty())
    return chosen;
  // The activations X of each group, as rows of K values.
  std::map<std::string, size_t> index;
  for (auto [i, name] : llvm::enumerate(model.observed))
    index[name] = model.numOutputs + i;
  std::vector<std::vector<float>> rows(groups.size());
  for (const Sample &s :
       samples.take_front(std::min(samples.size(), o.maxSamples))) {
    auto outs = model.run(s);
    if (!outs)
      return outs.takeError();
    for (auto [gi, g] : llvm::enumerate(groups)) {
      auto it = index.find(g.observer.getName().str());
      if (it == index.end())
        continue;
      const HostTensor &t = (*outs)[it->second];
      const float *v = reinterpret_cast<const float *>(t.data.data());
      rows[gi].insert(rows[gi].end(), v, v + t.numElements());
    }
  }
  for (auto [gi, g] : llvm::enumerate(groups)) {
    int64_t k = g.channels, total = rows[gi].size() / std::max<int64_t>(k, 1);
    if (total == 0)
      continue;
    // An even subsample of the rows.
    int64_t nr = std::min<int64_t>(total, o.maxRows);
    std::vector<float> x(nr * k);
    for (int64_t r = 0; r < nr; ++r) {
      int64_t src = r * total / nr;
      std::copy_n(&rows[gi][src * k], k, &x[r * k]);
    }
    std::vector<double> act(g.observer.getChannelAbsMax()->begin(),
                            g.observer.getChannelAbsMax()->end());
    std::vector<double> wmax = weightAbsMax(g);
    std::vector<std::vector<double>> weights;
    std::vector<std::vector<float>> refs;
    for (Linear &l : g.consumers) {
      weights.push_back(l.weight());
      std::vector<float> wf(weights.back().begin(), weights.back().end()),
          ref(nr * l.n, 0.f);
      for (int64_t r = 0; r < nr; ++r) // the float output X W
        for (int64_t j = 0; j < k; ++j)
          for (int64_t c = 0; c < l.n; ++c)
            ref[r * l.n + c] += x[r * k + j] * wf[j * l.n + c];
      refs.push_back(std::move(ref));
    }
    double best = 0.5, bestErr = INFINITY;
    for (int step = 0; step <= 20; ++step) {
      double alpha = step / 20.0;
      std::vector<double> s = smoothingFactors(act, wmax, alpha);
      std::vector<float> xs(x);
      for (int64_t r = 0; r < nr; ++r)
        for (int64_t j = 0; j < k; ++j)
          xs[r * k + j] = float(xs[r * k + j] / s[j]);
      fakeQuantizeActivations(module.getContext(), xs, o.activationBits,
                              o.signedActivations);
      double err = 0;
      for (auto [ci, l] : llvm::enumerate(g.consumers)) {
        std::vector<double> ws(weights[ci]);
        for (int64_t j = 0; j < k; ++j)
          for (int64_t c = 0; c < l.n; ++c)
            ws[j * l.n + c] *= s[j];
        accumulateError(xs, fakeQuantizeWeight(ws, l.n, o.weightBits), refs[ci],
                        nr, k, l.n, err);
      }
      if (err < bestErr) {
        bestErr = err;
        best = alpha;
      }
    }
    Builder b(g.observer);
    g.observer->setAttr(kSmoothAlphaAttr, b.getF64FloatAttr(best));
    chosen[g.observer.getName().str()] = best;
  }
  return chosen;
}
