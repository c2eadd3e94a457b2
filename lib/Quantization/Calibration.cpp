//===- Calibration.cpp - calibration runs, statistics and ranges ----------===//
#include "qc/Quantization/Calibration.h"
#include "qc/Support/Progress.h"
#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Target/CPU/Target.h"

#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace qc;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

static Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

//===----------------------------------------------------------------------===//
// The observed model
//===----------------------------------------------------------------------===//

Expected<std::vector<HostTensor>>
ObservedModel::run(const Sample &sample) const {
  const ModelSignature &sig = model->signature();
  std::vector<QCTensor> in, out;
  for (const HostTensor &t : sample)
    in.push_back({const_cast<char *>(t.data.data()), t.shape.data(),
                  int32_t(t.shape.size()), int32_t(t.dtype)});
  std::vector<HostTensor> outputs(sig.outputs.size());
  for (auto [i, spec] : llvm::enumerate(sig.outputs)) {
    outputs[i] = HostTensor{spec.name, spec.dtype, spec.shape, {}};
    outputs[i].data.assign(spec.numElements() * dtypeSize(spec.dtype), 0);
    out.push_back({outputs[i].data.data(), outputs[i].shape.data(),
                   int32_t(outputs[i].shape.size()), int32_t(spec.dtype)});
  }
  if (int32_t rc = model->run(in.data(), out.data()))
    return err("the model rejected input " + llvm::Twine(rc - 1));
  return outputs;
}

Expected<ObservedModel>
qc::compileObserved(ModuleOp module, const cpu::TargetOptions &target,
                    bool quantized,
                    llvm::function_ref<LogicalResult(ModuleOp)> prepare) {
  OwningOpRef<ModuleOp> clone = module.clone();
  PassManager pm(clone->getContext());
  ExposeObservedOptions expose;
  expose.quantized = quantized;
  pm.addPass(createExposeObserved(expose));
  if (failed(pm.run(*clone)))
    return err(
        "exposing the observed activations failed (see the diagnostics above)");
  // The exposed results follow the model's own, named "observed:<name>".
  ObservedModel result;
  auto graph = clone->lookupSymbol<func::FuncOp>("main_graph");
  auto ret = cast<func::ReturnOp>(graph.getBody().front().getTerminator());
  auto names = graph->getAttrOfType<ArrayAttr>(QCDialect::kOutputNamesAttrName);
  result.numOutputs = ret.getNumOperands();
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    StringRef name = cast<StringAttr>(names[i]).getValue();
    if (!name.consume_front("observed:"))
      continue;
    result.numOutputs = std::min<size_t>(result.numOutputs, i);
    int64_t axis = -1;
    if (auto obs = value.getDefiningOp<ObserveOp>();
        obs && !quantized && obs.getChannelAxis())
      axis = int64_t(*obs.getChannelAxis());
    result.observed.push_back(name.str());
    result.channelAxes.push_back(axis);
  }
  if (prepare && failed(prepare(*clone)))
    return err(
        "preparing the observed model failed (see the diagnostics above)");
  auto jitted = jitForHost(*clone, target, "observed model");
  if (!jitted)
    return jitted.takeError();
  result.model = std::move(*jitted);
  return result;
}

Expected<std::unique_ptr<Model>>
qc::jitForHost(ModuleOp module, const cpu::TargetOptions &target,
               llvm::StringRef what) {
  // The kernels the compiled model calls (calibration runs faster, and the
  // report measures what the library computes), on this host, one thread.
  cpu::TargetOptions host = target;
  host.cpu = "native";
  host.threads = 1;
  if (Error e = cpu::resolveKernels(host))
    return std::move(e);
  FailureOr<ModelSignature> sig = cpu::lowerToLLVM(module, "main_graph", host);
  if (failed(sig))
    return err("the " + what + " does not compile (see the diagnostics above)");
  return Model::jit(module, *sig, host);
}

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

namespace {
const float *floats(const HostTensor &t) {
  return reinterpret_cast<const float *>(t.data.data());
}

/// gram += sum over the rows of x x^T (upper triangle, c x c), accumulated
/// per sample in float and added in double.
void accumulateGram(const float *x, int64_t rows, int64_t c,
                    std::vector<double> &gram, std::vector<float> &scratch,
                    int64_t &total) {
  gram.resize(c * c, 0.0);
  scratch.assign(c * c, 0.f);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x + r * c;
    for (int64_t i = 0; i < c; ++i) {
      float xi = row[i];
      if (xi == 0 || std::isnan(xi))
        continue;
      float *g = &scratch[i * c];
      for (int64_t j = i; j < c; ++j)
        g[j] += xi * row[j];
    }
  }
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = i; j < c; ++j)
      gram[i * c + j] += scratch[i * c + j];
  total += rows;
}
} // namespace

Expected<CalibrationStats>
qc::collectStatistics(const ObservedModel &model,
                      llvm::ArrayRef<Sample> samples,
                      const CalibrationOptions &options,
                      PatchGrams *patchGrams) {
  CalibrationStats stats;
  size_t n = model.observed.size();
  std::vector<TensorStats *> slot(n);
  std::vector<std::vector<double>> channelSum(n), channelAbsMax(n);
  std::vector<int64_t> channelCount(n, 0), gramRows(n, 0);
  std::vector<float> sampleGram;
  for (size_t k = 0; k < n; ++k) {
    slot[k] = &stats[model.observed[k]];
    slot[k]->min = INFINITY;
    slot[k]->max = -INFINITY;
    slot[k]->channelAxis = model.channelAxes[k];
  }
  // Patch second moments: per spec, the observer's index and per group the
  // upper triangle accumulated over the samples' patches.
  std::map<std::string, size_t> index;
  for (size_t k = 0; k < n; ++k)
    index[model.observed[k]] = k;
  struct PatchAcc {
    const ConvPatches *spec;
    size_t k;
    std::vector<std::vector<double>> gram; // per group
    int64_t rows = 0;
  };
  std::vector<PatchAcc> patches;
  if (patchGrams)
    for (const ConvPatches &c : options.convPatches)
      if (auto it = index.find(c.observer); it != index.end())
        patches.push_back({&c, it->second, {}, 0});
  std::vector<float> im2col;
  bool histograms = options.method != CalibrationMethod::MinMax;
  int passes = histograms ? 2 : 1;
  for (int pass = 0; pass < passes; ++pass) {
    Progress bar(options.progress,
                 pass ? "calibrating (histograms)" : "calibrating",
                 samples.size());
    if (pass == 1)
      for (TensorStats *s : slot) {
        s->hist.assign(options.bins, 0.0);
        s->absHist.assign(options.bins, 0.0);
      }
    for (auto [i, sample] : llvm::enumerate(samples)) {
      auto outs = model.run(sample);
      if (!outs)
        return outs.takeError();
      for (size_t k = 0; k < n; ++k) {
        const HostTensor &t = (*outs)[model.numOutputs + k];
        if (t.dtype != DType::Float)
          continue;
        TensorStats &s = *slot[k];
        const float *v = floats(t);
        int64_t count = t.numElements();
        if (pass == 0) {
          for (int64_t j = 0; j < count; ++j) {
            if (std::isnan(v[j]))
              continue;
            s.min = std::min(s.min, double(v[j]));
            s.max = std::max(s.max, double(v[j]));
          }
          s.count += count;
          if (s.channelAxis >= 0) {
            int64_t c = t.shape[s.channelAxis], inner = 1;
            for (size_t d = s.channelAxis + 1; d < t.shape.size(); ++d)
              inner *= t.shape[d];
            channelSum[k].resize(c, 0.0);
            channelAbsMax[k].resize(c, 0.0);
            for (int64_t j = 0; j < count; ++j) {
              int64_t ch = (j / inner) % c;
              channelSum[k][ch] += v[j];
              if (!std::isnan(v[j]))
                channelAbsMax[k][ch] =
                    std::max(channelAbsMax[k][ch], std::fabs(double(v[j])));
            }
            channelCount[k] += count / std::max<int64_t>(c, 1);
            if (options.secondMoments && inner == 1 && c > 0 &&
                c <= options.maxGramChannels)
              accumulateGram(v, count / c, c, s.gram, sampleGram, gramRows[k]);
          }
          for (PatchAcc &acc : patches) {
            if (acc.k != k || t.shape.size() != 4)
              continue;
            const ConvPatches &c = *acc.spec;
            int64_t batch = t.shape[0], ch = t.shape[1], h = t.shape[2],
                    w = t.shape[3];
            if (c.group <= 0 || ch % c.group)
              continue;
            int64_t cg = ch / c.group, kk = cg * c.kh * c.kw,
                    rows = batch * c.outH * c.outW;
            if (kk > options.maxPatchSize)
              continue;
            acc.gram.resize(c.group);
            im2col.assign(rows * kk, 0.f);
            for (int64_t g = 0; g < c.group; ++g) {
              for (int64_t b = 0, r = 0; b < batch; ++b)
                for (int64_t oy = 0; oy < c.outH; ++oy)
                  for (int64_t ox = 0; ox < c.outW; ++ox, ++r)
                    for (int64_t j = 0, col = 0; j < cg; ++j)
                      for (int64_t ky = 0; ky < c.kh; ++ky)
                        for (int64_t kx = 0; kx < c.kw; ++kx, ++col) {
                          int64_t iy = oy * c.sh - c.padTop + ky * c.dh,
                                  ix = ox * c.sw - c.padLeft + kx * c.dw;
                          im2col[r * kk + col] =
                              iy < 0 || iy >= h || ix < 0 || ix >= w
                                  ? 0.f
                                  : v[((b * ch + g * cg + j) * h + iy) * w + ix];
                        }
              int64_t counted = 0;
              accumulateGram(im2col.data(), rows, kk, acc.gram[g], sampleGram,
                             g == 0 ? acc.rows : counted);
            }
          }
          continue;
        }
        double width = (s.max - s.min) / options.bins;
        double amax = std::max(std::fabs(s.min), std::fabs(s.max));
        double absWidth = amax / options.bins;
        for (int64_t j = 0; j < count; ++j) {
          double x = v[j];
          if (std::isnan(x))
            continue;
          int64_t b = width > 0 ? int64_t((x - s.min) / width) : 0;
          s.hist[std::clamp<int64_t>(b, 0, options.bins - 1)] += 1;
          int64_t a = absWidth > 0 ? int64_t(std::fabs(x) / absWidth) : 0;
          s.absHist[std::clamp<int64_t>(a, 0, options.bins - 1)] += 1;
        }
      }
      bar.step(i + 1);
    }
  }
  for (size_t k = 0; k < n; ++k) {
    TensorStats &s = *slot[k];
    if (!(s.min <= s.max))
      s.min = s.max = 0;
    for (double sum : channelSum[k])
      s.channelMean.push_back(channelCount[k] ? sum / channelCount[k] : 0.0);
    s.channelAbsMax = std::move(channelAbsMax[k]);
    if (gramRows[k]) {
      int64_t c = s.channelAbsMax.size();
      for (int64_t i = 0; i < c; ++i)
        for (int64_t j = 0; j < i; ++j) // the lower triangle from the upper
          s.gram[i * c + j] = s.gram[j * c + i];
      for (double &g : s.gram)
        g /= double(gramRows[k]);
    }
  }
  for (PatchAcc &acc : patches) {
    if (!acc.rows || acc.gram.empty())
      continue;
    std::vector<double> &out = (*patchGrams)[acc.spec->conv];
    out.clear();
    for (std::vector<double> &g : acc.gram) {
      int64_t kk = int64_t(std::sqrt(double(g.size())) + 0.5);
      for (int64_t i = 0; i < kk; ++i)
        for (int64_t j = 0; j < i; ++j)
          g[i * kk + j] = g[j * kk + i];
      for (double x : g)
        out.push_back(x / double(acc.rows));
    }
  }
  return stats;
}

std::vector<ConvPatches> qc::convPatchSpecs(ModuleOp module) {
  std::vector<ConvPatches> specs;
  module.walk([&](ConvOp conv) {
    auto obs = conv.getX().getDefiningOp<ObserveOp>();
    auto name = dyn_cast<NameLoc>(conv.getLoc());
    auto in = cast<RankedTensorType>(conv.getX().getType());
    auto out = cast<RankedTensorType>(conv.getType());
    auto w = cast<RankedTensorType>(conv.getW().getType());
    if (!obs || !name || in.getRank() != 4 || !out.hasStaticShape() ||
        !w.hasStaticShape() || conv.getAutoPad() != "NOTSET")
      return;
    auto at = [](std::optional<ArrayRef<int64_t>> a, size_t i, int64_t d) {
      return a && a->size() > i ? (*a)[i] : d;
    };
    ConvPatches c;
    c.observer = obs.getName().str();
    c.conv = name.getName().str();
    c.group = conv.getGroup();
    c.kh = w.getDimSize(2);
    c.kw = w.getDimSize(3);
    c.sh = at(conv.getStrides(), 0, 1);
    c.sw = at(conv.getStrides(), 1, 1);
    c.dh = at(conv.getDilations(), 0, 1);
    c.dw = at(conv.getDilations(), 1, 1);
    c.padTop = at(conv.getPads(), 0, 0);
    c.padLeft = at(conv.getPads(), 1, 0);
    c.outH = out.getDimSize(2);
    c.outW = out.getDimSize(3);
    specs.push_back(c);
  });
  return specs;
}

int qc::attachPatchGrams(ModuleOp module, const PatchGrams &grams,
                         StringRef attrName) {
  int attached = 0;
  module.walk([&](ConvOp conv) {
    auto name = dyn_cast<NameLoc>(conv.getLoc());
    auto w = cast<RankedTensorType>(conv.getW().getType());
    if (!name || !w.hasStaticShape())
      return;
    auto it = grams.find(name.getName().str());
    int64_t group = conv.getGroup(),
            kk = w.getNumElements() / std::max<int64_t>(w.getDimSize(0), 1);
    if (it == grams.end() || int64_t(it->second.size()) != group * kk * kk)
      return;
    std::vector<float> g(it->second.begin(), it->second.end());
    conv->setAttr(attrName,
                  createBlobAttr(RankedTensorType::get(
                                     {group, kk, kk},
                                     Float32Type::get(module.getContext())),
                                 g,
                                 name.getName().str() + "." +
                                     attrName.drop_front(3).str()));
    ++attached;
  });
  return attached;
}

double TensorStats::outlierRatio() const {
  if (channelAbsMax.empty())
    return 0;
  double mx = 0, sum = 0;
  for (double a : channelAbsMax) {
    mx = std::max(mx, a);
    sum += a;
  }
  return sum > 0 ? mx / (sum / channelAbsMax.size()) : 0;
}

/// The value below which `fraction` of the histogram's mass lies.
static double quantile(const std::vector<double> &hist, double lo, double hi,
                       double fraction) {
  double total = 0;
  for (double h : hist)
    total += h;
  double want = fraction * total, cum = 0, width = (hi - lo) / hist.size();
  for (size_t b = 0; b < hist.size(); ++b) {
    cum += hist[b];
    if (cum >= want)
      return lo + (b + 1) * width;
  }
  return hi;
}

/// TensorRT's entropy calibration: the |x| threshold whose quantization to
/// `levels` levels keeps the histogram closest in KL divergence.
static double entropyThreshold(std::vector<double> hist, double amax,
                               int64_t levels) {
  int64_t bins = hist.size();
  if (bins <= levels)
    return amax;
  // The spike at 0 of ReLU-like outputs (as NVIDIA's pytorch-quantization
  // does): left in, any merging of bin 0 with its neighbours costs so much
  // divergence that the smallest candidate threshold always wins.
  hist[0] = hist[1];
  double total = 0;
  for (double h : hist)
    total += h;
  double best = INFINITY;
  int64_t bestI = bins;
  std::vector<double> p, q;
  for (int64_t i = levels; i <= bins; ++i) {
    p.assign(hist.begin(), hist.begin() + i);
    double outliers = 0;
    for (int64_t j = i; j < bins; ++j)
      outliers += hist[j];
    // A range that clips most values is no 8-bit range; it is also where
    // the divergence degenerates (one in-range bin: P = Q, divergence 0).
    if (outliers > 0.5 * total)
      continue;
    p[i - 1] += outliers;
    q.assign(i, 0.0);
    for (int64_t l = 0; l < levels; ++l) {
      int64_t b0 = l * i / levels, b1 = (l + 1) * i / levels;
      double sum = 0;
      int64_t nonzero = 0;
      for (int64_t j = b0; j < b1; ++j) {
        sum += hist[j];
        nonzero += hist[j] != 0;
      }
      for (int64_t j = b0; j < b1; ++j)
        q[j] = hist[j] != 0 ? sum / nonzero : 0.0;
    }
    double ps = 0, qs = 0;
    for (int64_t j = 0; j < i; ++j) {
      ps += p[j];
      qs += q[j];
    }
    if (ps == 0 || qs == 0)
      continue;
    double kl = 0;
    for (int64_t j = 0; j < i; ++j) {
      if (p[j] == 0)
        continue;
      double pj = p[j] / ps, qj = q[j] != 0 ? q[j] / qs : 1e-12;
      kl += pj * std::log(pj / qj);
    }
    if (kl < best) {
      best = kl;
      bestI = i;
    }
  }
  return (bestI + 0.5) * amax / bins;
}

/// The clipping range minimizing the expected squared error (clipping plus
/// uniform rounding noise) over the histogram.
static std::pair<double, double> mseRange(const TensorStats &s, bool isSigned) {
  double width = (s.max - s.min) / s.hist.size();
  double bestErr = INFINITY;
  std::pair<double, double> best{s.min, s.max};
  double amax = std::max(std::fabs(s.min), std::fabs(s.max));
  for (int k = 100; k >= 10; --k) {
    double f = k / 100.0;
    double lo, hi, step;
    if (isSigned) {
      hi = amax * f;
      lo = -hi;
      step = hi / 127;
    } else {
      lo = std::min(0.0, s.min * f);
      hi = std::max(0.0, s.max * f);
      step = (hi - lo) / 255;
    }
    double e = 0;
    for (size_t b = 0; b < s.hist.size(); ++b) {
      if (!s.hist[b])
        continue;
      double v = s.min + (b + 0.5) * width;
      double d = v < lo ? lo - v : (v > hi ? v - hi : 0);
      e += s.hist[b] * (d > 0 ? d * d : step * step / 12);
    }
    if (e < bestErr) {
      bestErr = e;
      best = {std::max(s.min, lo), std::min(s.max, hi)};
    }
  }
  return best;
}

std::pair<double, double> qc::chooseRange(const TensorStats &s,
                                          const CalibrationOptions &o) {
  if (o.method == CalibrationMethod::MinMax || s.hist.empty() || s.min == s.max)
    return {s.min, s.max};
  double amax = std::max(std::fabs(s.min), std::fabs(s.max));
  if (o.method == CalibrationMethod::Percentile) {
    double p = o.percentile / 100.0;
    if (o.signedActivations) {
      double t = quantile(s.absHist, 0, amax, p);
      return {std::max(s.min, -t), std::min(s.max, t)};
    }
    double lo = s.min >= 0 ? s.min : quantile(s.hist, s.min, s.max, 1 - p);
    double hi = quantile(s.hist, s.min, s.max, p);
    return {std::min(lo, hi), hi};
  }
  if (o.method == CalibrationMethod::MSE)
    return mseRange(s, o.signedActivations);
  int64_t levels = (!o.signedActivations && s.min >= 0) ? 256 : 128;
  // The divergence of a histogram with few values per bin measures noise:
  // sparsely observed tensors (pooled vectors, logits) keep their range.
  if (s.count < 16 * s.absHist.size())
    return {s.min, s.max};
  double t = entropyThreshold(s.absHist, amax, levels);
  return {std::max(s.min, -t), std::min(s.max, t)};
}

//===----------------------------------------------------------------------===//
// Ranges narrowed to their consumers
//===----------------------------------------------------------------------===//

/// The elementwise consumers of `obs` up to the next observers, evaluated as
/// functions of its value at each of `xs`: one row per op result the next
/// observers read. nullopt when a consumer is not an elementwise op of the
/// value and scalar constants, or its result leaves the region otherwise.
static std::optional<std::vector<std::vector<double>>>
consumerFunction(ObserveOp obs, ArrayRef<double> xs) {
  auto shape = cast<RankedTensorType>(obs.getType()).getShape();
  llvm::DenseMap<Value, std::vector<double>> values;
  values[obs.getResult()] = std::vector<double>(xs.begin(), xs.end());
  SetVector<Operation *> slice;
  ForwardSliceOptions fo;
  fo.filter = [](Operation *op) { return !isa<ObserveOp>(op); };
  getForwardSlice(obs.getResult(), &slice, fo);
  slice = topologicalSort(slice);
  std::vector<std::vector<double>> leaves;
  for (Operation *op : slice) { // no observers: the filter stops there
    if (op->getNumResults() != 1 || op->getNumRegions() != 0)
      return std::nullopt;
    auto ty = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!ty || ty.getShape() != shape || !ty.getElementType().isF32())
      return std::nullopt;
    std::vector<std::vector<double>> in;
    for (Value v : op->getOperands()) {
      if (auto it = values.find(v); it != values.end()) {
        in.push_back(it->second);
        continue;
      }
      std::optional<std::vector<float>> c = readFloatConstant(v);
      if (!c || c->size() != 1)
        return std::nullopt;
      in.push_back(std::vector<double>(xs.size(), (*c)[0]));
    }
    // The ops whose plateaus narrowing looks for.
    if (!isa<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, ReluOp, HardSwishOp,
             HardSigmoidOp, ClipOp>(op))
      return std::nullopt;
    std::vector<double> out(xs.size());
    SmallVector<double, 3> args(in.size());
    bool known = true;
    for (size_t i = 0; i < xs.size() && known; ++i) {
      for (size_t k = 0; k < in.size(); ++k)
        args[k] = in[k][i];
      std::optional<double> v = evaluateScalar(op, args);
      known = v.has_value();
      out[i] = v.value_or(0.0);
    }
    if (!known)
      return std::nullopt;
    bool observed = false;
    for (Operation *user : op->getResult(0).getUsers()) {
      if (isa<ObserveOp>(user))
        observed = true;
      else if (!slice.contains(user))
        return std::nullopt;
    }
    if (observed)
      leaves.push_back(out);
    values[op->getResult(0)] = std::move(out);
  }
  // Every direct user must be in the region too (an observer is not).
  for (Operation *user : obs.getResult().getUsers())
    if (!slice.contains(user))
      return std::nullopt;
  if (leaves.empty())
    return std::nullopt;
  return leaves;
}

/// [lo, hi] narrowed to where obs's consumers are not constant.
static std::pair<double, double> narrowToConsumers(ObserveOp obs, double lo,
                                                   double hi) {
  if (!(hi > lo))
    return {lo, hi};
  const int n = 4096;
  std::vector<double> xs(n + 1);
  for (int i = 0; i <= n; ++i)
    xs[i] = lo + (hi - lo) * i / n;
  auto f = consumerFunction(obs, xs);
  if (!f)
    return {lo, hi};
  auto same = [&](int i, int j) {
    for (const std::vector<double> &row : *f)
      if (row[i] != row[j])
        return false;
    return true;
  };
  int a = 0, b = n;
  while (a < n && same(a + 1, 0))
    ++a;
  while (b > a && same(b - 1, n))
    --b;
  if (b <= a || (xs[b] - xs[a]) > 0.9 * (hi - lo))
    return {lo, hi};
  return {xs[a], xs[b]};
}

Error qc::applyCalibration(ModuleOp module, const CalibrationStats &stats,
                           const CalibrationOptions &options) {
  std::string missing;
  module.walk([&](ObserveOp obs) {
    auto it = stats.find(obs.getName().str());
    if (it == stats.end()) {
      if (missing.empty())
        missing = obs.getName().str();
      return;
    }
    auto [lo, hi] = chooseRange(it->second, options);
    if (options.narrowRanges)
      std::tie(lo, hi) = narrowToConsumers(obs, lo, hi);
    Builder b(obs);
    obs.setMinAttr(b.getF64FloatAttr(lo));
    obs.setMaxAttr(b.getF64FloatAttr(std::max(lo, hi)));
    auto ty = cast<RankedTensorType>(obs.getType());
    if (obs.getChannelAxis() && !it->second.channelMean.empty() &&
        int64_t(it->second.channelMean.size()) ==
            ty.getDimSize(*obs.getChannelAxis()))
      obs.setChannelMeanAttr(b.getDenseF64ArrayAttr(it->second.channelMean));
    if (obs.getChannelAxis() && !it->second.channelAbsMax.empty() &&
        int64_t(it->second.channelAbsMax.size()) ==
            ty.getDimSize(*obs.getChannelAxis()))
      obs.setChannelAbsMaxAttr(
          b.getDenseF64ArrayAttr(it->second.channelAbsMax));
    const std::vector<double> &gram = it->second.gram;
    int64_t last = ty.getRank() - 1;
    if (!gram.empty() && obs.getChannelAxis() &&
        int64_t(*obs.getChannelAxis()) == last &&
        int64_t(gram.size()) == ty.getDimSize(last) * ty.getDimSize(last)) {
      std::vector<float> g(gram.begin(), gram.end());
      int64_t c = ty.getDimSize(last);
      obs.setGramAttr(
          createBlobAttr(RankedTensorType::get({c, c}, b.getF32Type()), g,
                         obs.getName().str() + ".gram"));
    }
  });
  if (!missing.empty())
    return err("the calibration statistics have no entry for tensor '" +
               missing + "' (saved for another model or other options?)");
  return Error::success();
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

llvm::json::Value qc::statsToJSON(const CalibrationStats &stats) {
  llvm::json::Object tensors;
  for (auto &[name, s] : stats) {
    llvm::json::Object o{
        {"min", s.min},
        {"max", s.max},
        {"count", s.count},
        {"hist", llvm::json::Array(s.hist)},
        {"abs_hist", llvm::json::Array(s.absHist)},
        {"channel_axis", s.channelAxis},
        {"channel_mean", llvm::json::Array(s.channelMean)},
        {"channel_abs_max", llvm::json::Array(s.channelAbsMax)}};
    tensors[name] = std::move(o);
  }
  return llvm::json::Object{{"format", "qc-calibration-1"},
                            {"tensors", std::move(tensors)}};
}

Expected<CalibrationStats> qc::statsFromJSON(const llvm::json::Value &v) {
  const llvm::json::Object *root = v.getAsObject();
  if (!root || root->getString("format") != "qc-calibration-1")
    return err("not a calibration statistics file (format qc-calibration-1)");
  const llvm::json::Object *tensors = root->getObject("tensors");
  if (!tensors)
    return err("calibration statistics: no 'tensors' object");
  CalibrationStats stats;
  for (auto &[key, value] : *tensors) {
    const llvm::json::Object *o = value.getAsObject();
    auto bad = [&](const llvm::Twine &what) {
      return err("calibration statistics: tensor '" + key.str() + "': " + what);
    };
    if (!o || !o->getNumber("min") || !o->getNumber("max"))
      return bad("lacks min/max");
    TensorStats s;
    s.min = *o->getNumber("min");
    s.max = *o->getNumber("max");
    if (!std::isfinite(s.min) || !std::isfinite(s.max) || s.min > s.max)
      return bad("min and max must be finite with min <= max");
    s.count = o->getInteger("count").value_or(0);
    s.channelAxis = o->getInteger("channel_axis").value_or(-1);
    if (s.count < 0 || s.channelAxis < -1)
      return bad("count must not be negative, channel_axis at least -1");
    // Arrays of finite numbers; histograms of at most kMaxHistogramBins
    // non-negative counts.
    auto numbers = [&](StringRef field, std::vector<double> &out,
                       bool histogram) -> bool {
      const llvm::json::Value *v = o->get(field);
      if (!v)
        return true;
      const llvm::json::Array *a = v->getAsArray();
      if (!a || (histogram && a->size() > size_t(kMaxHistogramBins)))
        return false;
      for (const llvm::json::Value &x : *a) {
        std::optional<double> d = x.getAsNumber();
        if (!d || !std::isfinite(*d) || (histogram && *d < 0))
          return false;
        out.push_back(*d);
      }
      return true;
    };
    if (!numbers("hist", s.hist, true) || !numbers("abs_hist", s.absHist, true))
      return bad("hist and abs_hist must be arrays of at most " +
                 llvm::Twine(kMaxHistogramBins) + " non-negative counts");
    if (!numbers("channel_mean", s.channelMean, false) ||
        !numbers("channel_abs_max", s.channelAbsMax, false))
      return bad("channel_mean and channel_abs_max must be arrays of finite "
                 "numbers");
    stats[key.str()] = std::move(s);
  }
  return stats;
}

//===----------------------------------------------------------------------===//
// Agreement
//===----------------------------------------------------------------------===//
