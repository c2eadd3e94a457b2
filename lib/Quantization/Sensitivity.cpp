//===- Sensitivity.cpp - per-layer quantization sensitivity ---------------===//
//
// The float model compiles once with every layer's weight as a run-time
// input and every layer input behind a switchable fake quantization
// (x + e (fq(x; s, z, lo, hi) - x), e/s/z/lo/hi run-time scalars); each
// measurement then runs the calibration samples with one layer's weights
// quantized on the host, or one activation's switch on, and compares the
// outputs with float's.
//
//===----------------------------------------------------------------------===//
#include "qc/Quantization/BitWidths.h"
#include "qc/Quantization/Attribution.h"
#include "qc/Quantization/OutputMetric.h"

#include "qc/Conversion/EntryPoint.h"
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"
#include "qc/Runtime/HostTensor.h"
#include "qc/Runtime/Model.h"
#include "qc/Support/Progress.h"

#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Dialect/QC/Transforms/SensitivityLayers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <map>
#include <numeric>

using namespace mlir;
using namespace qc;
using llvm::Error;
using llvm::Expected;

static llvm::Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

namespace {

/// A weight layer of the graph and how to quantize its weight.
struct Layer {
  Operation *op;
  ObserveOp input;
  std::vector<float> weight; // as stored
  std::vector<int64_t> shape;
  int64_t k = 0, n = 0;    // MatMul / Gemm: reduction and output sizes
  bool transposed = false; // Gemm transB: stored N x K
  std::optional<std::vector<float>>
      gram; // the input's second moments, if recorded
  bool conv = false;
};

std::string layerName(Operation *op, size_t i) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    return n.getName().str();
  return "layer" + std::to_string(i);
}

/// The weight layers fold-calibration quantizes: Conv, Gemm, MatMul (2-D
/// weight) with a constant f32 weight and a calibrated observer as input.
std::vector<Layer> findLayers(func::FuncOp graph) {
  std::vector<Layer> layers;
  for (Operation *op : sensitivityLayers(graph)) {
    auto obs = op->getOperand(0).getDefiningOp<ObserveOp>();
    std::optional<std::vector<float>> w = readFloatConstant(op->getOperand(1));
    auto ty = cast<RankedTensorType>(op->getOperand(1).getType());
    if (!w)
      continue;
    Layer l{op,
            obs,
            std::move(*w),
            std::vector<int64_t>(ty.getShape().begin(), ty.getShape().end()),
            0,
            0,
            false,
            std::nullopt};
    if (obs.getGramAttr())
      l.gram = readFloatElements(obs.getGramAttr());
    l.conv = isa<ConvOp>(op);
    if (!isa<ConvOp>(op)) {
      l.transposed = isa<GemmOp>(op) && cast<GemmOp>(op).getTransB();
      l.k = ty.getDimSize(l.transposed ? 1 : 0);
      l.n = ty.getDimSize(l.transposed ? 0 : 1);
    }
    layers.push_back(std::move(l));
  }
  return layers;
}

/// The layer's weight in a minifloat format, as qc.block_dequantize
/// decodes it (fold-calibration's blocks and scales, rounded to nearest).
std::vector<float> minifloatWeight(const Layer &l, WeightFormat format) {
  MinifloatScheme m = *minifloatScheme(format);
  if (l.conv) {
    int64_t channels = l.shape[0], per = l.weight.size() / channels;
    return quantizeMinifloatWeight(
               l.weight, channels, per,
               [per](int64_t c, int64_t k) { return c * per + k; }, m, false)
        .dequantized;
  }
  // Channel n, reduction index k of the stored weight ([K, N], or a
  // transposed Gemm's [N, K]).
  int64_t n = l.n, k = l.k;
  bool tr = l.transposed;
  return quantizeMinifloatWeight(
             l.weight, n, k,
             [&](int64_t c, int64_t i) { return tr ? c * k + i : i * n + c; },
             m, false)
      .dequantized;
}

/// The layer's weight quantized per output channel at `bits` (or in a
/// minifloat `format`), as stored.
std::vector<float> fakeQuantized(const Layer &l, unsigned bits, bool gptq,
                                 WeightFormat format = WeightFormat::Int) {
  if (format != WeightFormat::Int)
    return minifloatWeight(l, format);
  int64_t qmax = (int64_t(1) << (bits - 1)) - 1;
  if (l.conv) { // l.op may be lowered away by now
    int64_t channels = l.shape[0], per = l.weight.size() / channels;
    return quantizeWeight(
               l.weight, channels, [per](int64_t i) { return i / per; }, qmax)
        .dequantized;
  }
  // K x N (reduction first), transposed from a Gemm's N x K.
  std::vector<float> w(l.weight);
  if (l.transposed)
    for (int64_t r = 0; r < l.n; ++r)
      for (int64_t c = 0; c < l.k; ++c)
        w[c * l.n + r] = l.weight[r * l.k + c];
  int64_t n = l.n;
  auto channelOf = [n](int64_t i) { return i % n; };
  bool useGram = gptq && l.gram && int64_t(l.gram->size()) == l.k * l.k;
  std::vector<float> q =
      useGram ? gptqQuantizeWeight(w, l.k, l.n, l.n, channelOf, qmax, *l.gram)
                    .dequantized
              : quantizeWeight(w, l.n, channelOf, qmax).dequantized;
  if (!l.transposed)
    return q;
  std::vector<float> back(q.size());
  for (int64_t r = 0; r < l.n; ++r)
    for (int64_t c = 0; c < l.k; ++c)
      back[r * l.k + c] = q[c * l.n + r];
  return back;
}

HostTensor floatTensor(std::string name, ArrayRef<int64_t> shape,
                       ArrayRef<float> values) {
  HostTensor t{std::move(name), DType::Float, shape.vec(), {}};
  t.data.resize(values.size() * sizeof(float));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

void setScalar(HostTensor &t, float v) {
  std::memcpy(t.data.data(), &v, sizeof(float));
}

/// The float model of parameterize-for-sensitivity, JIT-compiled, and the
/// calibration runs with their extra inputs: each layer's weight (as stored
/// until set) and each switched observer's fake quantization (off until
/// set).
struct Switchable {
  std::vector<Layer> layers;
  std::vector<ObserveOp> observers; // gone once the model is built
  std::vector<std::string> observerNames;
  std::vector<std::pair<double, double>> ranges; // calibrated, per observer
  ObservedModel model;
  std::vector<Sample> runs;
  Sample extra;          // the weights as stored, the switches off
  size_t firstExtra = 0; // index of the first extra input of a run
  size_t fqBase = 0;     // index of the first switch in `extra`
  bool allActivations = false;

  /// Finds the layers and the observers to switch (layer inputs, or with
  /// `all` every calibrated one) of `clone`'s @main_graph; compile() then
  /// rewrites and compiles it.
  llvm::Error build(ModuleOp clone, bool all) {
    allActivations = all;
    auto graph = clone.lookupSymbol<func::FuncOp>("main_graph");
    if (!graph)
      return err("no function @main_graph");
    layers = findLayers(graph);
    for (Operation *op : switchedObservers(graph, all)) {
      auto obs = cast<ObserveOp>(op);
      observers.push_back(obs);
      observerNames.push_back(obs.getName().str());
      ranges.push_back({obs.getMinAttr().getValueAsDouble(),
                        obs.getMaxAttr().getValueAsDouble()});
    }
    return llvm::Error::success();
  }

  /// The first `n` (at least one) of `samples` become the runs.
  llvm::Error compile(ModuleOp clone, ArrayRef<Sample> samples, size_t n,
                      const cpu::TargetOptions &target) {
    PassManager pm(clone.getContext());
    ParameterizeForSensitivityOptions po;
    po.allActivations = allActivations;
    pm.addPass(createParameterizeForSensitivity(po));
    if (failed(pm.run(clone)))
      return err("building the sensitivity model failed (see the diagnostics "
                 "above)");
    auto jitted = jitForHost(clone, target, "sensitivity model");
    if (!jitted)
      return jitted.takeError();
    model.model = std::move(*jitted);
    model.numOutputs = model.model->signature().outputs.size();
    runs.assign(samples.begin(),
                samples.begin() + std::min(samples.size(), std::max<size_t>(n, 1)));
    for (auto [i, l] : llvm::enumerate(layers))
      extra.push_back(
          floatTensor("weight:" + std::to_string(i), l.shape, l.weight));
    fqBase = extra.size();
    for (size_t g = 0; g < observers.size(); ++g) {
      const float off[5] = {0.f, 1.f, 0.f, -3.0e38f, 3.0e38f};
      for (int j = 0; j < 5; ++j)
        extra.push_back(floatTensor("fq", {}, ArrayRef<float>(&off[j], 1)));
    }
    for (Sample &s : runs)
      s.insert(s.end(), extra.begin(), extra.end());
    firstExtra = runs.front().size() - extra.size();
    return llvm::Error::success();
  }

  /// Runs every run, handing `fn` its index and outputs.
  llvm::Error
  forEachRun(llvm::function_ref<void(size_t, std::vector<HostTensor> &)> fn) {
    for (auto [r, s] : llvm::enumerate(runs)) {
      auto out = model.run(s);
      if (!out)
        return out.takeError();
      fn(r, *out);
    }
    return llvm::Error::success();
  }

  /// The outputs of every run, as the model is set now.
  llvm::Expected<std::vector<std::vector<HostTensor>>> outputs() {
    std::vector<std::vector<HostTensor>> all;
    if (llvm::Error e = forEachRun([&](size_t, std::vector<HostTensor> &out) {
          all.push_back(std::move(out));
        }))
      return std::move(e);
    return all;
  }

  void setWeight(size_t i, const std::vector<float> &w) {
    HostTensor t = floatTensor("weight", layers[i].shape, w);
    for (Sample &s : runs)
      s[firstExtra + i].data = t.data;
  }
  void resetWeight(size_t i) {
    for (Sample &s : runs)
      s[firstExtra + i].data = extra[i].data;
  }
  void setActivation(size_t g, quant::UniformQuantizedType qt) {
    const float on[5] = {1.f, float(qt.getScale()), float(qt.getZeroPoint()),
                         float(qt.getStorageTypeMin()),
                         float(qt.getStorageTypeMax())};
    for (Sample &s : runs)
      for (int p = 0; p < 5; ++p)
        setScalar(s[firstExtra + fqBase + 5 * g + p], on[p]);
  }
  void resetActivation(size_t g) {
    for (Sample &s : runs)
      for (int p = 0; p < 5; ++p)
        s[firstExtra + fqBase + 5 * g + p].data =
            extra[fqBase + 5 * g + p].data;
  }
};

} // namespace

/// The candidate formats of a measurement or a table: one weight format per
/// width (or none: all int), int weights of 2-8 bits, no nvfp4, activations
/// of 2-8 or 16 bits.
static Error checkCandidates(ArrayRef<unsigned> weightBits,
                             ArrayRef<WeightFormat> weightFormats,
                             ArrayRef<unsigned> activationBits) {
  if (!weightFormats.empty() && weightFormats.size() != weightBits.size())
    return err("one weight format per candidate width");
  for (auto [j, b] : llvm::enumerate(weightBits)) {
    WeightFormat f =
        j < weightFormats.size() ? weightFormats[j] : WeightFormat::Int;
    if (f == WeightFormat::NVFP4)
      return err("nvfp4 is not a bit-width candidate (a layer's scheme "
                 "cannot carry its tensor scale); the others are");
    if (f == WeightFormat::Int && (b < 2 || b > 8))
      return err("weight formats must have 2-8 bits, got " + llvm::Twine(b));
    if (f != WeightFormat::Int && b != formatBits(0, f))
      return err("weight format " + stringify(f) + " has " +
                 llvm::Twine(formatBits(0, f)) + " bits, not " +
                 llvm::Twine(b));
  }
  for (unsigned b : activationBits)
    if (!isActivationWidth(b))
      return err("activation formats must have 2-8 or 16 bits, got " +
                 llvm::Twine(b));
  return Error::success();
}

/// The output comparison of a metric that runs the model.
static OutputMetric comparisonMetric(SensitivityMetric m) {
  return m == SensitivityMetric::KL     ? OutputMetric::KL
         : m == SensitivityMetric::Task ? OutputMetric::Task
                                        : OutputMetric::MSE;
}

Expected<SensitivityTable>
qc::measureSensitivity(ModuleOp module, ArrayRef<Sample> samples,
                       const SensitivityOptions &o,
                       const cpu::TargetOptions &target) {
  if (o.metric == SensitivityMetric::Task && o.labels.empty())
    return err("the task metric needs the samples' task labels");
  if (Error e =
          checkCandidates(o.weightBits, o.weightFormats, o.activationBits))
    return std::move(e);
  OwningOpRef<ModuleOp> clone = module.clone();
  Switchable sw;
  // 16-bit candidates cover every quantized tensor (a conv output read by a
  // float op rounds as much as a layer input); narrower ones the layer
  // inputs, where the products they speed up are.
  bool wide = hasWideActivations(o.activationBits);
  if (llvm::Error e = sw.build(*clone, /*allActivations=*/wide))
    return std::move(e);
  auto graph = clone->lookupSymbol<func::FuncOp>("main_graph");
  const std::vector<Layer> &layers = sw.layers;
  if (layers.empty())
    return err(
        "no weight layer with a calibrated input to assign bit widths to");
  bool gptq = o.gptq;

  SensitivityTable t;
  t.metric = o.metric;
  t.weightBits = o.weightBits;
  t.weightFormats = o.weightFormats;
  t.activationBits = o.activationBits;
  std::vector<ObserveOp> &acts = sw.observers;
  t.activations = sw.observerNames;
  int64_t layerBytes = 0;
  for (auto [i, l] : llvm::enumerate(layers)) {
    LayerInfo info;
    info.name = layerName(l.op, i);
    info.activation = llvm::find(acts, l.input) - acts.begin();
    info.params = int64_t(l.weight.size());
    info.channels = isa<ConvOp>(l.op) ? l.shape[0] : l.n;
    auto res = cast<RankedTensorType>(l.op->getResult(0).getType());
    if (!res.hasStaticShape())
      return err("layer '" + info.name + "' has a dynamic result shape");
    info.macs = res.getNumElements() * (info.params / info.channels);
    info.outputs = res.getNumElements();
    if (auto in = dyn_cast<RankedTensorType>(l.op->getOperand(0).getType());
        in && in.hasStaticShape())
      info.inputs = in.getNumElements();
    info.conv = isa<ConvOp>(l.op);
    layerBytes += info.params * 4;
    t.layers.push_back(info);
  }
  // What no choice changes: every other f32 constant (biases, norms,
  // embeddings) and one f32 scale per output channel.
  graph.walk([&](arith::ConstantOp c) {
    auto ty = dyn_cast<RankedTensorType>(c.getType());
    if (ty && ty.getElementType().isF32() && ty.hasStaticShape() &&
        !c->use_empty())
      t.fixedBytes += ty.getNumElements() * 4;
  });
  t.fixedBytes -= layerBytes;
  for (LayerInfo &l : t.layers)
    t.fixedBytes += l.channels * 4;

  t.weightCost.assign(layers.size(),
                      std::vector<double>(o.weightBits.size(), 0.0));
  t.activationCost.assign(acts.size(),
                          std::vector<double>(o.activationBits.size(), 0.0));
  const std::vector<std::pair<double, double>> &ranges = sw.ranges;
  MLIRContext *ctx = clone->getContext();
  auto actType = [&](size_t g, unsigned bits) {
    return activationType(ctx, ranges[g].first, ranges[g].second,
                          o.signedActivations, Float32Type::get(ctx), bits);
  };

  if (o.metric == SensitivityMetric::Layer) {
    // Relative output noise of each layer alone: tr(E^T G E) / tr(W^T G W)
    // for the weight error E, and (s^2 / 12) / E[x^2] for an activation.
    for (auto [i, l] : llvm::enumerate(layers)) {
      const std::optional<std::vector<float>> &g = l.gram;
      if (isa<ConvOp>(l.op) || !g)
        return err(
            "the layer metric needs the second moments of every layer input "
            "(MatMul/Gemm layers; '" +
            t.layers[i].name + "' has none)");
      auto quadratic = [&](const std::vector<double> &m) {
        double s = 0;
        for (int64_t c = 0; c < l.n; ++c)
          for (int64_t a = 0; a < l.k; ++a) {
            double ga = 0;
            for (int64_t b = 0; b < l.k; ++b)
              ga += double((*g)[a * l.k + b]) * m[b * l.n + c];
            s += m[a * l.n + c] * ga;
          }
        return s;
      };
      auto asKN = [&](const std::vector<float> &w) {
        std::vector<double> m(l.k * l.n);
        for (int64_t a = 0; a < l.k; ++a)
          for (int64_t c = 0; c < l.n; ++c)
            m[a * l.n + c] = l.transposed ? w[c * l.k + a] : w[a * l.n + c];
        return m;
      };
      std::vector<double> w = asKN(l.weight);
      double energy = std::max(quadratic(w), 1e-30);
      for (auto [j, bits] : llvm::enumerate(o.weightBits)) {
        std::vector<double> e =
            asKN(fakeQuantized(l, bits, gptq, weightFormatOf(t, j)));
        for (size_t x = 0; x < e.size(); ++x)
          e[x] -= w[x];
        t.weightCost[i][j] = quadratic(e) / energy;
      }
    }
    for (auto [g, obs] : llvm::enumerate(acts)) {
      std::optional<std::vector<float>> gram =
          obs.getGramAttr() ? readFloatElements(obs.getGramAttr())
                            : std::nullopt;
      if (!gram)
        return err("the layer metric needs the second moments of '" +
                   t.activations[g] + "'");
      int64_t k = int64_t(std::sqrt(double(gram->size())));
      double ms = 0;
      for (int64_t a = 0; a < k; ++a)
        ms += (*gram)[a * k + a];
      ms = std::max(ms / double(k), 1e-30);
      for (auto [j, bits] : llvm::enumerate(o.activationBits)) {
        double s = actType(g, bits).getScale();
        t.activationCost[g][j] = s * s / 12.0 / ms;
      }
    }
    return t;
  }

  // The switchable model: weights and fake-quantization parameters appended
  // to the inputs.
  if (llvm::Error e = sw.compile(*clone, samples, o.samples, target))
    return std::move(e);
  ObservedModel &model = sw.model;
  std::vector<Sample> &runs = sw.runs;
  auto floatOutputs = sw.outputs();
  if (!floatOutputs)
    return floatOutputs.takeError();
  std::vector<std::vector<HostTensor>> &refs = *floatOutputs;
  if (o.metric == SensitivityMetric::Task &&
      (o.labelOutput >= model.numOutputs || o.labels.size() < runs.size()))
    return err("the task labels cover " + llvm::Twine(o.labels.size()) +
               " samples, the "
               "sensitivity runs use " +
               llvm::Twine(runs.size()));
  // Softmax outputs are compared as the probabilities they are.
  std::vector<bool> probabilities(model.numOutputs, true);
  for (auto &ref : refs)
    for (size_t k = 0; k < model.numOutputs; ++k)
      probabilities[k] = probabilities[k] && holdsProbabilities(ref[k]);
  auto compareRun = [&](OutputComparison &c, size_t r,
                        const std::vector<HostTensor> &out) {
    for (size_t k = 0; k < model.numOutputs; ++k)
      if (o.metric != SensitivityMetric::Task || k == o.labelOutput)
        c.add(refs[r][k], out[k], probabilities[k],
              o.metric == SensitivityMetric::Task
                  ? ArrayRef<int64_t>(o.labels[r])
                  : ArrayRef<int64_t>());
  };
  // The task loss is measured as its increase over float's.
  double floatLoss = 0;
  if (o.metric == SensitivityMetric::Task) {
    OutputComparison c{comparisonMetric(o.metric)};
    for (size_t r = 0; r < runs.size(); ++r)
      compareRun(c, r, refs[r]);
    if (c.den == 0)
      return err("the task labels score no row of the sensitivity samples (all "
                 "negative)");
    floatLoss = c.value();
  }
  // Formats wider than 8 bits are not run where 8 bits is a candidate: the
  // rounding noise of a step s has power s^2 / 12, so their cost is the
  // 8-bit one times (s_b / s_8)^2 (1/66000 at 16 bits). With one weight
  // format no choice depends on the weights' costs: not measured (0).
  auto measured8 = llvm::find(o.activationBits, 8u);
  auto extrapolated = [&](unsigned bits) {
    return bits > 8 && measured8 != o.activationBits.end();
  };
  bool weightChoice = o.weightBits.size() > 1;
  size_t runsPerActivation = llvm::count_if(
      o.activationBits, [&](unsigned b) { return !extrapolated(b); });
  size_t total = (weightChoice ? layers.size() * o.weightBits.size() : 0) +
                 acts.size() * runsPerActivation,
         done = 0;
  Progress bar(o.progress, "measuring sensitivity", total);
  auto measure = [&](double &cost) -> llvm::Error {
    OutputComparison c{comparisonMetric(o.metric)};
    if (llvm::Error e = sw.forEachRun(
            [&](size_t r, std::vector<HostTensor> &out) {
              compareRun(c, r, out);
            }))
      return e;
    cost = c.value() - floatLoss;
    bar.step(++done);
    return llvm::Error::success();
  };
  for (auto [i, l] : llvm::enumerate(layers)) {
    if (!weightChoice)
      break;
    for (auto [j, bits] : llvm::enumerate(o.weightBits)) {
      sw.setWeight(i, fakeQuantized(l, bits, gptq, weightFormatOf(t, j)));
      if (llvm::Error e = measure(t.weightCost[i][j]))
        return std::move(e);
    }
    sw.resetWeight(i);
  }
  size_t j8 = measured8 - o.activationBits.begin();
  for (size_t g = 0; g < acts.size(); ++g) {
    for (auto [j, bits] : llvm::enumerate(o.activationBits)) {
      if (extrapolated(bits))
        continue;
      sw.setActivation(g, actType(g, bits));
      if (llvm::Error e = measure(t.activationCost[g][j]))
        return std::move(e);
    }
    for (auto [j, bits] : llvm::enumerate(o.activationBits))
      if (extrapolated(bits)) {
        double r = actType(g, bits).getScale() / actType(g, 8).getScale();
        t.activationCost[g][j] = t.activationCost[g][j8] * r * r;
      }
    sw.resetActivation(g);
  }
  return t;
}

//===----------------------------------------------------------------------===//
// Error attribution
//===----------------------------------------------------------------------===//

namespace {
/// The decision metric of the attribution: the IoU of thresholded maps, or
/// the rows whose argmax is float's.
struct DecisionComparison {
  std::optional<double> threshold;
  double num = 0, den = 0;
  void add(const HostTensor &ref, const HostTensor &got) {
    if (got.dtype != DType::Float || ref.dtype != DType::Float)
      return;
    const float *r = reinterpret_cast<const float *>(ref.data.data());
    const float *g = reinterpret_cast<const float *>(got.data.data());
    int64_t count = got.numElements();
    if (threshold) {
      for (int64_t i = 0; i < count; ++i) {
        bool a = r[i] > *threshold, b = g[i] > *threshold;
        num += a && b;
        den += a || b;
      }
      return;
    }
    int64_t width = got.shape.empty() ? 1 : got.shape.back();
    if (width < 2)
      return;
    for (int64_t row = 0; row + width <= count; row += width) {
      num += std::max_element(r + row, r + row + width) - r ==
             std::max_element(g + row, g + row + width) - g;
      den += 1;
    }
  }
  double value() const { return den > 0 ? num / den : 1; }
};

/// Worse alone first: the lower decision metric, then the larger error.
bool worseAlone(const AttributionRow &x, const AttributionRow &y) {
  return std::make_pair(x.aloneDecision, -x.alone) <
         std::make_pair(y.aloneDecision, -y.alone);
}

const char *kindName(const AttributionRow &r) {
  return r.weight ? "weights" : "activation";
}
} // namespace

Expected<Attribution> qc::attributeError(ModuleOp module,
                                         ArrayRef<Sample> samples,
                                         const AttributionOptions &o,
                                         const cpu::TargetOptions &target) {
  if (samples.empty())
    return err("the error attribution needs calibration samples");
  OwningOpRef<ModuleOp> clone = module.clone();
  Switchable sw;
  if (llvm::Error e = sw.build(*clone, /*allActivations=*/true))
    return std::move(e);
  MLIRContext *ctx = clone->getContext();
  Attribution a;
  a.weightBits = o.weightBits;
  a.activationBits = o.activationBits;
  a.decision = o.maskThreshold
                   ? llvm::formatv("IoU of the maps > {0} with float's",
                                   *o.maskThreshold)
                         .str()
                   : "rows whose argmax is float's";
  std::vector<std::vector<float>> quantized;
  for (auto [i, l] : llvm::enumerate(sw.layers)) {
    a.rows.push_back({layerName(l.op, i), true});
    quantized.push_back(fakeQuantized(l, o.weightBits, false));
  }
  std::vector<quant::UniformQuantizedType> types;
  for (auto [g, name] : llvm::enumerate(sw.observerNames)) {
    a.rows.push_back({name, false});
    types.push_back(activationType(ctx, sw.ranges[g].first,
                                   sw.ranges[g].second, o.signedActivations,
                                   Float32Type::get(ctx), o.activationBits));
  }
  if (llvm::Error e = sw.compile(*clone, samples, o.samples, target))
    return std::move(e);
  a.samples = sw.runs.size();
  auto floatOutputs = sw.outputs();
  if (!floatOutputs)
    return floatOutputs.takeError();
  std::vector<std::vector<HostTensor>> &refs = *floatOutputs;
  size_t nLayers = sw.layers.size(),
         nCumulative = std::min(o.cumulative, a.rows.size()),
         total = 2 * a.rows.size() + 1 + nCumulative, done = 0;
  Progress bar(o.progress, "attributing the error", total);
  auto measure = [&](double &mse, double &decision) -> llvm::Error {
    OutputComparison c{OutputMetric::MSE};
    DecisionComparison d{o.maskThreshold};
    if (llvm::Error e = sw.forEachRun(
            [&](size_t r, std::vector<HostTensor> &out) {
              for (size_t k = 0; k < sw.model.numOutputs; ++k) {
                c.add(refs[r][k], out[k], false, {});
                d.add(refs[r][k], out[k]);
              }
            }))
      return e;
    mse = c.value();
    decision = d.value();
    bar.step(++done);
    return llvm::Error::success();
  };
  auto set = [&](size_t row, bool on) {
    if (row < nLayers)
      on ? sw.setWeight(row, quantized[row]) : sw.resetWeight(row);
    else
      on ? sw.setActivation(row - nLayers, types[row - nLayers])
         : sw.resetActivation(row - nLayers);
  };
  for (auto [i, row] : llvm::enumerate(a.rows)) {
    set(i, true);
    if (llvm::Error e = measure(row.alone, row.aloneDecision))
      return std::move(e);
    set(i, false);
  }
  for (size_t i = 0; i < a.rows.size(); ++i)
    set(i, true);
  if (llvm::Error e = measure(a.all, a.allDecision))
    return std::move(e);
  for (auto [i, row] : llvm::enumerate(a.rows)) {
    set(i, false);
    if (llvm::Error e = measure(row.allBut, row.allButDecision))
      return std::move(e);
    set(i, true);
  }
  std::vector<size_t> order(a.rows.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order, [&](size_t x, size_t y) {
    return worseAlone(a.rows[x], a.rows[y]);
  });
  for (size_t i : llvm::ArrayRef(order).take_front(nCumulative)) {
    set(i, false);
    Attribution::Step step{i, 0, 0};
    if (llvm::Error e = measure(step.mse, step.decision))
      return std::move(e);
    a.cumulative.push_back(step);
  }
  return a;
}

llvm::json::Value qc::attributionToJSON(const Attribution &a) {
  llvm::json::Array rows, cumulative;
  for (const Attribution::Step &st : a.cumulative)
    cumulative.push_back(llvm::json::Object{{"float", a.rows[st.row].name},
                                            {"kind", kindName(a.rows[st.row])},
                                            {"rel_mse", st.mse},
                                            {"decision", st.decision}});
  for (const AttributionRow &r : a.rows)
    rows.push_back(llvm::json::Object{{"name", r.name},
                                      {"kind", kindName(r)},
                                      {"alone_rel_mse", r.alone},
                                      {"alone_decision", r.aloneDecision},
                                      {"all_but_rel_mse", r.allBut},
                                      {"all_but_decision", r.allButDecision}});
  return llvm::json::Object{{"decision_metric", a.decision},
                            {"samples", int64_t(a.samples)},
                            {"weight_bits", int64_t(a.weightBits)},
                            {"activation_bits", int64_t(a.activationBits)},
                            {"all_rel_mse", a.all},
                            {"all_decision", a.allDecision},
                            {"rows", std::move(rows)},
                            {"cumulative", std::move(cumulative)}};
}

void qc::writeAttributionMarkdown(const Attribution &a, llvm::raw_ostream &os,
                                  size_t top) {
  os << "## Error attribution\n\n"
     << "W" << a.weightBits << "A" << a.activationBits
     << " fake quantization of the calibrated float model, on " << a.samples
     << " calibration samples. Decision metric: " << a.decision << ".\n\n"
     << "Everything quantized: outputs' relative squared error "
     << llvm::formatv("{0:e2}", a.all) << ", decision metric "
     << llvm::formatv("{0:f4}", a.allDecision) << ".\n\n";
  auto table = [&](llvm::StringRef title, auto before) {
    std::vector<const AttributionRow *> rows;
    for (const AttributionRow &r : a.rows)
      rows.push_back(&r);
    llvm::stable_sort(rows, [&](const AttributionRow *x,
                                const AttributionRow *y) {
      return before(*x, *y);
    });
    os << "### " << title << "\n\n"
       << "| tensor | kind | alone: rel. MSE | alone: decision | all but it: "
          "rel. MSE | all but it: decision |\n"
       << "|---|---|---:|---:|---:|---:|\n";
    for (const AttributionRow *r : llvm::ArrayRef(rows).take_front(top))
      os << "| " << r->name << " | " << kindName(*r)
         << " | " << llvm::formatv("{0:e2}", r->alone) << " | "
         << llvm::formatv("{0:f4}", r->aloneDecision) << " | "
         << llvm::formatv("{0:e2}", r->allBut) << " | "
         << llvm::formatv("{0:f4}", r->allButDecision) << " |\n";
    os << "\n";
  };
  // Decision metric first, the squared error breaking ties.
  table("Left float, recovers the most (all but one)",
        [](const AttributionRow &x, const AttributionRow &y) {
          return std::make_pair(x.allButDecision, -x.allBut) >
                 std::make_pair(y.allButDecision, -y.allBut);
        });
  table("Worst alone", worseAlone);
  if (a.cumulative.empty())
    return;
  os << "### Left float together, worst alone first\n\n"
     << "Everything else quantized, with this tensor and the ones above it "
        "float.\n\n"
     << "| tensor | kind | rel. MSE | decision |\n|---|---|---:|---:|\n";
  for (const Attribution::Step &st : a.cumulative)
    os << "| " << a.rows[st.row].name << " | " << kindName(a.rows[st.row])
       << " | "
       << llvm::formatv("{0:e2}", st.mse) << " | "
       << llvm::formatv("{0:f4}", st.decision) << " |\n";
  os << "\n";
}

Error qc::readTaskLabels(StringRef path, ArrayRef<TensorSpec> outputs,
                         SensitivityOptions &o) {
  auto arrays = readNpz(path);
  if (!arrays)
    return arrays.takeError();
  const HostTensor *labels = nullptr;
  for (const HostTensor &t : *arrays)
    for (auto [k, out] : llvm::enumerate(outputs))
      if (t.name == out.name) {
        labels = &t;
        o.labelOutput = k;
      }
  if (!labels && arrays->size() == 1 && outputs.size() == 1) {
    labels = &arrays->front();
    o.labelOutput = 0;
  }
  if (!labels) {
    std::string names;
    for (const TensorSpec &out : outputs)
      names += (names.empty() ? "" : ", ") + out.name;
    return err(path + ": no array named after an output of the model (" +
               names + ")");
  }
  const TensorSpec &out = outputs[o.labelOutput];
  if (out.shape.empty())
    return err(path + ": output '" + out.name +
               "' is a scalar; labels need rows of classes");
  switch (labels->dtype) {
  case DType::Int8:
  case DType::Int16:
  case DType::Int32:
  case DType::Int64:
  case DType::UInt8:
  case DType::UInt16:
  case DType::UInt32:
    break;
  default:
    return err(path + ": labels '" + labels->name + "' are " +
               dtypeName(labels->dtype) + "; classes are integers");
  }
  ArrayRef<int64_t> rowsShape = ArrayRef<int64_t>(out.shape).drop_back();
  ArrayRef<int64_t> shape = labels->shape;
  size_t n = 1;
  if (shape.size() == rowsShape.size() + 1 && shape.drop_front() == rowsShape)
    n = shape.front();
  else if (shape != rowsShape)
    return err(path + ": labels '" + labels->name + "' have shape " +
               formatShape(shape) + "; output '" + out.name + "' of shape " +
               formatShape(out.shape) + " takes [samples, " +
               formatShape(rowsShape).substr(1));
  int64_t rows = 1, classes = out.shape.back();
  for (int64_t d : rowsShape)
    rows *= d;
  o.labels.assign(n, std::vector<int64_t>(rows));
  for (size_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < rows; ++r) {
      int64_t c = int64_t(labels->elementAsDouble(int64_t(i) * rows + r));
      if (c >= classes)
        return err(path + ": sample " + llvm::Twine(i) + ", row " +
                   llvm::Twine(r) + ": class " + llvm::Twine(c) +
                   " is not below output '" + out.name + "''s " +
                   llvm::Twine(classes) + " classes");
      o.labels[i][r] = c;
    }
  return Error::success();
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

llvm::json::Value qc::tableToJSON(const SensitivityTable &t) {
  llvm::json::Array layers, acts;
  for (auto [i, l] : llvm::enumerate(t.layers)) {
    llvm::json::Object layer{{"name", l.name},
                             {"activation", int64_t(l.activation)},
                             {"params", l.params},
                             {"channels", l.channels},
                             {"macs", l.macs},
                             {"conv", l.conv},
                             {"inputs", l.inputs},
                             {"outputs", l.outputs},
                             {"cost", llvm::json::Array(t.weightCost[i])}};
    // Seconds per run in each weight format, as measured on the machine
    // that wrote the table (--latency-budget).
    if (i < t.latency.size())
      layer["latency"] = llvm::json::Array(t.latency[i]);
    if (i < t.latencyWide.size())
      layer["latency_a16"] = t.latencyWide[i];
    layers.push_back(std::move(layer));
  }
  for (auto [g, name] : llvm::enumerate(t.activations))
    acts.push_back(llvm::json::Object{
        {"name", name}, {"cost", llvm::json::Array(t.activationCost[g])}});
  return llvm::json::Object{
      {"metric", stringify(t.metric)},
      {"weight_bits", llvm::json::Array(t.weightBits)},
      {"weight_formats",
       [&] {
         llvm::json::Array a;
         for (size_t j = 0; j < t.weightBits.size(); ++j)
           a.push_back(stringify(weightFormatOf(t, j)));
         return a;
       }()},
      {"activation_bits", llvm::json::Array(t.activationBits)},
      {"fixed_bytes", t.fixedBytes},
      {"layers", std::move(layers)},
      {"activations", std::move(acts)}};
}

Expected<SensitivityTable> qc::tableFromJSON(const llvm::json::Value &v) {
  SensitivityTable t;
  const llvm::json::Object *o = v.getAsObject();
  auto bad = [](const llvm::Twine &what) {
    return err("sensitivity table: " + what);
  };
  if (!o)
    return bad("not a JSON object");
  auto numbers = [&](const llvm::json::Object *obj, StringRef key,
                     std::vector<double> &out) -> bool {
    const llvm::json::Array *a = obj ? obj->getArray(key) : nullptr;
    if (!a)
      return false;
    for (const llvm::json::Value &x : *a) {
      std::optional<double> d = x.getAsNumber();
      if (!d || !std::isfinite(*d))
        return false;
      out.push_back(*d);
    }
    return true;
  };
  // A width: a whole number of bits (the check of the candidates follows).
  auto widths = [&](ArrayRef<double> in, std::vector<unsigned> &out) {
    for (double b : in) {
      if (!(b >= 0 && b <= 64 && b == std::floor(b)))
        return false;
      out.push_back(unsigned(b));
    }
    return true;
  };
  std::vector<double> wb, ab;
  if (!o->getString("metric") || !numbers(o, "weight_bits", wb) ||
      !numbers(o, "activation_bits", ab) || !o->getArray("layers") ||
      !o->getArray("activations"))
    return bad("needs metric, weight_bits, activation_bits, layers and "
               "activations (finite numbers)");
  std::optional<SensitivityMetric> metric =
      symbolize<SensitivityMetric>(*o->getString("metric"));
  if (!metric)
    return bad("unknown metric '" + *o->getString("metric") + "' (" +
               spellingList<SensitivityMetric>() + ")");
  t.metric = *metric;
  if (!widths(wb, t.weightBits) || !widths(ab, t.activationBits))
    return bad("weight_bits and activation_bits need whole numbers of bits");
  if (const llvm::json::Array *fa = o->getArray("weight_formats")) {
    for (const llvm::json::Value &f : *fa) {
      std::optional<StringRef> name = f.getAsString();
      std::optional<WeightFormat> wf =
          name ? symbolize<WeightFormat>(*name) : std::nullopt;
      if (!wf)
        return bad("unknown weight format in weight_formats (" +
                   spellingList<WeightFormat>() + ")");
      t.weightFormats.push_back(*wf);
    }
    if (t.weightFormats.size() != t.weightBits.size())
      return bad("weight_formats needs one format per entry of weight_bits");
  }
  if (Error e =
          checkCandidates(t.weightBits, t.weightFormats, t.activationBits))
    return bad(llvm::toString(std::move(e)));
  t.fixedBytes = o->getInteger("fixed_bytes").value_or(0);
  if (t.fixedBytes < 0)
    return bad("fixed_bytes must not be negative");
  for (const llvm::json::Value &a : *o->getArray("activations")) {
    const llvm::json::Object *ao = a.getAsObject();
    std::vector<double> cost;
    if (!ao || !ao->getString("name") || !numbers(ao, "cost", cost) ||
        cost.size() != t.activationBits.size())
      return bad(
          "an activation needs a name and one cost per activation format");
    t.activations.push_back(ao->getString("name")->str());
    t.activationCost.push_back(cost);
  }
  for (const llvm::json::Value &l : *o->getArray("layers")) {
    const llvm::json::Object *lo = l.getAsObject();
    std::vector<double> cost;
    if (!lo || !lo->getString("name") || !numbers(lo, "cost", cost) ||
        cost.size() != t.weightBits.size() || !lo->getInteger("activation") ||
        *lo->getInteger("activation") < 0 ||
        size_t(*lo->getInteger("activation")) >= t.activations.size())
      return bad("a layer needs a name, its activation's index and one cost "
                 "per weight format");
    LayerInfo info;
    info.name = lo->getString("name")->str();
    info.activation = size_t(*lo->getInteger("activation"));
    info.params = lo->getInteger("params").value_or(0);
    info.channels = lo->getInteger("channels").value_or(0);
    info.macs = lo->getInteger("macs").value_or(0);
    info.conv = lo->getBoolean("conv").value_or(false);
    info.inputs = lo->getInteger("inputs").value_or(0);
    info.outputs = lo->getInteger("outputs").value_or(0);
    if (info.params < 0 || info.channels < 0 || info.macs < 0 ||
        info.inputs < 0 || info.outputs < 0)
      return bad("layer '" + info.name +
                 "': params, channels, macs, inputs and outputs must not be "
                 "negative");
    t.layers.push_back(info);
    t.weightCost.push_back(cost);
    std::vector<double> latency;
    if (lo->getArray("latency") && numbers(lo, "latency", latency) &&
        latency.size() == t.weightBits.size()) {
      if (llvm::any_of(latency, [](double x) { return x < 0; }))
        return bad("layer '" + info.name + "': a negative latency");
      t.latency.push_back(latency);
    }
    if (std::optional<double> wide = lo->getNumber("latency_a16")) {
      if (!(*wide >= 0 && std::isfinite(*wide)))
        return bad("layer '" + info.name +
                   "': latency_a16 must be a finite non-negative number");
      t.latencyWide.push_back(*wide);
    }
  }
  if (t.latency.size() != t.layers.size()) // all layers or none
    t.latency.clear();
  if (t.latencyWide.size() != t.layers.size())
    t.latencyWide.clear();
  return t;
}

Error qc::applyBitWidths(ModuleOp module, const SensitivityTable &t,
                         const BitAssignment &a) {
  auto graph = module.lookupSymbol<func::FuncOp>("main_graph");
  if (!graph)
    return err("no function @main_graph");
  std::vector<Layer> layers = findLayers(graph);
  if (layers.size() != t.layers.size() ||
      a.weightBits.size() != t.layers.size() ||
      a.activationBits.size() != t.activations.size())
    return err("the bit-width table has " + llvm::Twine(t.layers.size()) +
               " layers, the model " + llvm::Twine(layers.size()) +
               " (a table of another model or other options?)");
  MLIRContext *ctx = module.getContext();
  for (auto [i, l] : llvm::enumerate(layers)) {
    if (layerName(l.op, i) != t.layers[i].name ||
        l.input.getName() != t.activations[t.layers[i].activation])
      return err("layer " + llvm::Twine(i) + " of the model is '" +
                 layerName(l.op, i) + "', the table's '" + t.layers[i].name +
                 "'");
    int64_t axis = isa<ConvOp>(l.op) ? 0 : (l.transposed ? 0 : 1);
    WeightFormat wf =
        i < a.weightFormats.size() ? a.weightFormats[i] : WeightFormat::Int;
    std::optional<MinifloatScheme> m = minifloatScheme(wf);
    l.op->setAttr(
        QCDialect::kWeightSchemeAttrName,
        m ? SchemeAttr::get(
                ctx, *elementFormatOf(m->element),
                minifloat::layout(m->element).bits, true, true, axis,
                m->block ? std::optional<int64_t>(m->block) : std::nullopt)
          : SchemeAttr::get(ctx, ElementFormat::Int, a.weightBits[i], true,
                            true, axis, std::nullopt));
  }
  // Every activation of the table (layer inputs, and with 16-bit formats
  // every quantized tensor), by its observer's name.
  std::map<std::string, ObserveOp> byName;
  graph.walk([&](ObserveOp obs) { byName[obs.getName().str()] = obs; });
  for (auto [g, name] : llvm::enumerate(t.activations)) {
    auto it = byName.find(name);
    if (it == byName.end())
      return err("activation '" + name +
                 "' of the bit-width table is not in the model");
    it->second->setAttr(QCDialect::kActivationSchemeAttrName,
                        SchemeAttr::get(ctx, ElementFormat::Int,
                                        a.activationBits[g], false, false,
                                        std::nullopt, std::nullopt));
  }
  return Error::success();
}

Expected<SensitivityTable> qc::readSensitivityTable(StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buf)
    return err("cannot read '" + path + "': " + buf.getError().message());
  auto json = llvm::json::parse((*buf)->getBuffer());
  if (!json)
    return err(path + ": " + llvm::toString(json.takeError()));
  auto t = tableFromJSON(*json);
  if (!t)
    return err(path + ": " + llvm::toString(t.takeError()));
  return t;
}
