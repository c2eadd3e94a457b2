//===- Quantize.cpp - post-training int8 quantization driver --------------===//
#include "qc/Quantization/Quantize.h"
#include "qc/Quantization/OutputMetric.h"
#include "qc/Quantization/Rewrites.h"

#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <cmath>

using namespace mlir;
using namespace qc;
using llvm::Error;

static Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static Error runPasses(ModuleOp module, llvm::function_ref<void(OpPassManager &)> build,
                       StringRef what) {
  PassManager pm(module.getContext());
  build(pm.nest<func::FuncOp>());
  if (failed(pm.run(module)))
    return err(what + " failed (see the diagnostics above)");
  return Error::success();
}

static void integerPasses(OpPassManager &pm) {
  pm.addPass(createLowerQuantizedToInteger());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

namespace {
struct LayerReport {
  std::string name;
  double ratio = 0, ratioBefore = 0; // channel max |x| over their mean
  double scale = 0;
  int64_t zeroPoint = 0;
  bool isSigned = false;
  Agreement agreement;
  unsigned bits = 8; // of the storage range (per layer with --bits auto)
};
} // namespace

static std::string fmt(double v) {
  if (std::isinf(v))
    return "inf";
  return llvm::formatv("{0:f2}", v).str();
}

static llvm::json::Value bitWidthsJSON(const std::optional<SensitivityTable> &t,
                                       const std::optional<BitAssignment> &a) {
  if (!t || !a)
    return nullptr;
  llvm::json::Array layers;
  for (auto [i, l] : llvm::enumerate(t->layers))
    layers.push_back(llvm::json::Object{{"layer", l.name},
                                        {"weight_bits", int64_t(a->weightBits[i])},
                                        {"activation_bits",
                                         int64_t(a->activationBits[l.activation])}});
  return llvm::json::Object{{"status", a->status}, {"bytes", a->bytes}, {"bops", a->bops},
                            {"sensitivity", a->cost}, {"layers", std::move(layers)}};
}

/// The sensitivity table of the calibrated module: the cache's when it
/// describes this model with these formats, else measured (and cached).
static llvm::Expected<SensitivityTable> sensitivityTable(ModuleOp module, ArrayRef<Sample> calib,
                                                   ArrayRef<TensorSpec> outputs,
                                                   const QuantizeOptions &o,
                                                   llvm::raw_ostream &os) {
  if (!o.sensitivityCache.empty() && llvm::sys::fs::exists(o.sensitivityCache)) {
    auto buf = llvm::MemoryBuffer::getFile(o.sensitivityCache, /*IsText=*/true);
    if (!buf)
      return err("cannot read '" + o.sensitivityCache + "': " + buf.getError().message());
    auto json = llvm::json::parse((*buf)->getBuffer());
    if (!json)
      return err(o.sensitivityCache + ": " + llvm::toString(json.takeError()));
    auto t = tableFromJSON(*json);
    if (!t)
      return err(o.sensitivityCache + ": " + llvm::toString(t.takeError()));
    if (t->metric == o.sensitivity.metric && t->weightBits == o.sensitivity.weightBits &&
        t->activationBits == o.sensitivity.activationBits) {
      os << "sensitivity: " << t->layers.size() << " layers from " << o.sensitivityCache
         << "\n";
      return t;
    }
    os << "sensitivity: " << o.sensitivityCache
       << " holds other formats or another metric; measuring again\n";
  }
  SensitivityOptions so = o.sensitivity;
  if (!o.taskLabels.empty())
    if (llvm::Error e = readTaskLabels(o.taskLabels, outputs, so))
      return std::move(e);
  so.signedActivations = o.calibration.signedActivations;
  so.progress = o.calibration.progress;
  if (o.weightRounding != "nearest")
    so.weightRounding = "gptq"; // the rounding fold-calibration will use at low bits
  auto t = measureSensitivity(module, calib, so);
  if (!t)
    return t.takeError();
  os << "sensitivity: " << t->layers.size() << " layers x " << t->weightBits.size()
     << " weight formats, " << t->activations.size() << " layer inputs x "
     << t->activationBits.size() << " activation formats, metric " << t->metric << "\n";
  if (!o.sensitivityCache.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream f(o.sensitivityCache, ec);
    if (ec)
      return err("cannot write '" + o.sensitivityCache + "': " + ec.message());
    f << llvm::formatv("{0:2}", tableToJSON(*t)) << "\n";
  }
  return t;
}

/// The pins, the program and a summary of the choice.
static llvm::Expected<BitAssignment> assignBitWidths(const SensitivityTable &t,
                                               const QuantizeOptions &o,
                                               llvm::raw_ostream &os) {
  BitBudget b = o.budget;
  unsigned widest = *std::max_element(t.weightBits.begin(), t.weightBits.end());
  if (o.pinFirstLast) {
    b.weightPins.push_back({0, widest});
    b.weightPins.push_back({t.layers.size() - 1, widest});
  }
  for (auto &[name, bits] : o.pins) {
    auto it = llvm::find_if(t.layers, [&](const LayerInfo &l) { return l.name == name; });
    if (it == t.layers.end())
      return err("--pin: the model has no weight layer '" + name + "'");
    b.weightPins.push_back({size_t(it - t.layers.begin()), bits});
  }
  if (!b.bytes && !b.bops && !b.latency)
    return err("--bits auto needs a budget (--size-budget, --bops-budget or --latency-budget)");
  llvm::Expected<BitAssignment> a = err("unknown assignment method '" + o.assignment + "'");
  if (o.assignment == "ilp") {
    llvm::consumeError(a.takeError());
    a = solveBitWidths(t, b);
  } else if (o.assignment == "greedy") {
    llvm::consumeError(a.takeError());
    std::optional<BitAssignment> g = greedyBitWidths(t, b);
    if (g)
      a = *g;
    else
      a = err("the greedy assignment finds no choice within the budget");
  }
  if (!a)
    return a.takeError();
  std::map<unsigned, int> counts;
  for (unsigned w : a->weightBits)
    ++counts[w];
  os << "bit widths (" << o.assignment << "): " << a->status << "; size "
     << llvm::formatv("{0:f0}", a->bytes) << " bytes, "
     << llvm::formatv("{0:e3}", a->bops) << " BOPs, "
     << (t.latency.empty() ? std::string()
                           : llvm::formatv("{0:f1} us (kernels), ", a->latency * 1e6).str())
     << "summed sensitivity "
     << llvm::formatv("{0:e4}", a->cost) << "; weights:";
  for (auto &[bits, n] : counts)
    os << " " << n << " x " << bits << "-bit";
  os << "\n";
  for (auto [i, l] : llvm::enumerate(t.layers))
    os << "  " << l.name << ": W" << a->weightBits[i] << "A"
       << a->activationBits[l.activation] << "\n";
  return a;
}

/// The quantized model (after fold-calibration), lowered to integer ops
/// and JIT-compiled with its tagged activations exposed.
static llvm::Expected<ObservedModel> compileQuantized(ModuleOp module) {
  return compileObserved(module, /*quantized=*/true, [](ModuleOp m) {
    PassManager pm(m.getContext());
    integerPasses(pm.nest<func::FuncOp>());
    return pm.run(m);
  });
}

static FoldCalibrationOptions foldOptions(const QuantizeOptions &o) {
  FoldCalibrationOptions fo;
  fo.weightRounding = o.weightRounding;
  fo.weightBits = o.weightBits;
  fo.activationBits = o.activationBits;
  fo.activationGranularity = o.activationGranularity;
  fo.dynamicZeroPoints = o.dynamicZeroPoints;
  fo.activationType = o.calibration.signedActivations ? "i8" : "u8";
  fo.weightGranularity = o.weightGranularity;
  fo.biasCorrection = o.biasCorrection;
  return fo;
}

static RotateHadamardOptions rotateOptions(const QuantizeOptions &o, uint64_t seed) {
  RotateHadamardOptions ro;
  ro.seed = seed;
  ro.residual = o.rotateResidual;
  return ro;
}

/// A searched rotation (as SpinQuant observes, random rotations differ in
/// how well the model quantizes): each candidate seed's rotation of a copy
/// of `module` (observers in, not yet rotated) is calibrated and quantized
/// with the options of the run, and scored against the float model
/// `reference` on the first calibration samples by o.rotationSearchMetric
/// (mse, kl, or task: the cross-entropy of o.taskLabels). Returns the best.
static llvm::Expected<uint64_t> searchRotation(ModuleOp module, const ObservedModel &reference,
                                               ArrayRef<Sample> calib,
                                               ArrayRef<TensorSpec> outputs,
                                               const QuantizeOptions &o, bool gptq,
                                               llvm::raw_ostream &os) {
  ArrayRef<Sample> scored = calib.take_front(std::max<size_t>(1, o.rotationSearchSamples));
  const std::string &metric = o.rotationSearchMetric;
  bool task = metric == "task";
  if (metric != "mse" && metric != "kl" && !task)
    return err("unknown rotation search metric '" + metric + "' (mse, kl or task)");
  SensitivityOptions labelled; // the labels, read as the sensitivity reads them
  if (task) {
    if (o.taskLabels.empty())
      return err("the task metric of the rotation search needs task labels (--task-labels)");
    if (Error e = readTaskLabels(o.taskLabels, outputs, labelled))
      return std::move(e);
    if (labelled.labels.size() < scored.size())
      return err(o.taskLabels + ": labels for " + llvm::Twine(labelled.labels.size()) +
                 " samples; the rotation search scores " + llvm::Twine(scored.size()) +
                 " calibration samples");
  }
  std::vector<std::vector<HostTensor>> refs;
  for (const Sample &s : scored) {
    auto ref = reference.run(s);
    if (!ref)
      return ref.takeError();
    refs.push_back(std::move(*ref));
  }
  std::vector<bool> probabilities(reference.numOutputs, true);
  for (auto &ref : refs)
    for (size_t k = 0; k < reference.numOutputs; ++k)
      probabilities[k] = probabilities[k] && holdsProbabilities(ref[k]);
  auto compare = [&](OutputComparison &c, size_t r, const std::vector<HostTensor> &out) {
    for (size_t k = 0; k < reference.numOutputs; ++k)
      if (!task || k == labelled.labelOutput)
        c.add(refs[r][k], out[k], probabilities[k],
              task ? ArrayRef<int64_t>(labelled.labels[r]) : ArrayRef<int64_t>());
  };
  double floatLoss = 0;
  if (task) {
    OutputComparison c{metric};
    for (size_t r = 0; r < refs.size(); ++r)
      compare(c, r, refs[r]);
    if (c.den == 0)
      return err(o.taskLabels + ": no labelled row in the samples the rotation search scores");
    floatLoss = c.value();
  }
  auto describe = [&](double v) -> std::string {
    if (metric == "mse")
      return llvm::formatv("quantized outputs vs float, SQNR {0:f2} dB",
                           v > 0 ? -10 * std::log10(v) : INFINITY);
    if (metric == "kl")
      return llvm::formatv("KL divergence from float {0:e3} per row", v);
    return llvm::formatv("cross-entropy {0:f5} (float {1:f5})", v, floatLoss);
  };
  uint64_t best = o.rotationSeed;
  double bestCost = std::numeric_limits<double>::infinity();
  for (unsigned i = 0; i < o.rotationCandidates; ++i) {
    uint64_t seed = o.rotationSeed + i;
    OwningOpRef<ModuleOp> copy = module.clone();
    if (Error e = runPasses(*copy, [&](OpPassManager &pm) {
          pm.addPass(createRotateHadamard(rotateOptions(o, seed)));
        }, "rotating"))
      return std::move(e);
    auto observed = compileObserved(*copy);
    if (!observed)
      return observed.takeError();
    CalibrationOptions co = o.calibration;
    co.secondMoments = gptq;
    co.progress = false;
    auto st = collectStatistics(*observed, calib, co);
    if (!st)
      return st.takeError();
    if (Error e = applyCalibration(*copy, *st, o.calibration))
      return std::move(e);
    if (Error e = runPasses(*copy, [&](OpPassManager &pm) {
          pm.addPass(createFoldCalibration(foldOptions(o)));
        }, "folding the calibration"))
      return std::move(e);
    auto quant = compileQuantized(*copy);
    if (!quant)
      return quant.takeError();
    OutputComparison c{metric};
    for (auto [r, s] : llvm::enumerate(scored)) {
      auto got = quant->run(s);
      if (!got)
        return got.takeError();
      compare(c, r, *got);
    }
    double cost = c.value();
    os << "rotation seed " << seed << ": " << describe(cost) << " on " << scored.size()
       << " calibration samples\n";
    if (cost < bestCost) {
      bestCost = cost;
      best = seed;
    }
  }
  os << "rotation search: seed " << best << " of " << o.rotationCandidates << " kept\n";
  return best;
}

Error qc::quantizeModel(ModuleOp module, const QuantizeOptions &o, llvm::raw_ostream &os) {
  auto graph = module.lookupSymbol<func::FuncOp>("main_graph");
  if (!graph)
    return err("no function @main_graph to quantize");
  FailureOr<ModelSignature> sig = getModelSignature(graph);
  if (failed(sig))
    return err("the model's inputs need static shapes to calibrate (give --input-shape)");
  bool rewrite = o.smooth || o.rotate;
  if (rewrite && !o.loadCalibration.empty())
    return err("--load-calibration cannot be combined with --smooth-activations or "
               "--rotate-hadamard: the rewrites calibrate the model again as they change it");
  // Second moments for GPTQ: always for gptq, at <= 4 bits for auto.
  bool gptq = o.weightRounding == "gptq" ||
              (o.weightRounding == "auto" &&
               (o.weightBits <= 4 ||
                (o.bitsAuto && llvm::any_of(o.sensitivity.weightBits,
                                            [](unsigned b) { return b <= 4; }))));
  if (o.weightRounding == "gptq" && !o.loadCalibration.empty())
    return err("--load-calibration cannot be combined with --weight-rounding gptq: GPTQ needs "
               "the layers' input second moments, which calibration records in-process");

  if (Error e = runPasses(module, [&](OpPassManager &pm) {
        pm.addPass(mlir::createCanonicalizerPass());
        pm.addPass(createFoldBatchNorm());
        InsertObserversOptions io;
        io.bins = o.calibration.bins;
        io.scope = o.scope;
        pm.addPass(createInsertObservers(io));
      }, "inserting observers"))
    return e;

  std::vector<Sample> samples;
  if (!o.calibrationData.empty()) {
    auto read = readSamples(o.calibrationData, sig->inputs,
                            o.samples && o.evalSamples ? o.samples + o.evalSamples : 0);
    if (!read)
      return read.takeError();
    samples = std::move(*read);
  }
  size_t nCalib = o.samples ? std::min(o.samples, samples.size()) : samples.size();
  if (!o.samples && !o.reportPath.empty() && samples.size() >= 4)
    nCalib = samples.size() - std::max<size_t>(1, samples.size() / 4);
  llvm::ArrayRef<Sample> calib(samples.data(), nCalib);
  llvm::ArrayRef<Sample> held(samples.data() + nCalib, samples.size() - nCalib);
  if (o.evalSamples && held.size() > o.evalSamples)
    held = held.take_front(o.evalSamples);
  bool heldOut = !held.empty();
  if (!heldOut)
    held = calib;

  // The float model with its observers exposed: calibration, and the
  // reference of the report.
  std::optional<ObservedModel> floatModel;
  bool needFloat = o.loadCalibration.empty() || !o.reportPath.empty();
  if (needFloat) {
    auto m = compileObserved(module);
    if (!m)
      return m.takeError();
    floatModel = std::move(*m);
  }
  CalibrationStats stats;
  if (!o.loadCalibration.empty()) {
    auto buf = llvm::MemoryBuffer::getFile(o.loadCalibration, /*IsText=*/true);
    if (!buf)
      return err("cannot read '" + o.loadCalibration + "': " + buf.getError().message());
    auto json = llvm::json::parse((*buf)->getBuffer());
    if (!json)
      return err(o.loadCalibration + ": " + llvm::toString(json.takeError()));
    auto loaded = statsFromJSON(*json);
    if (!loaded)
      return err(o.loadCalibration + ": " + llvm::toString(loaded.takeError()));
    stats = std::move(*loaded);
  } else {
    if (calib.empty())
      return err("quantization needs calibration data (--calibration-data DIR|file.npz) "
                 "or saved statistics (--load-calibration)");
    CalibrationOptions co = o.calibration;
    co.secondMoments = gptq && !rewrite; // for the model that is quantized
    auto collected = collectStatistics(*floatModel, calib, co);
    if (!collected)
      return collected.takeError();
    stats = std::move(*collected);
  }
  // Rewrites: each changes the observed activations, so the model is
  // calibrated again after it; `before` keeps the imported model's
  // statistics for the report.
  CalibrationStats before;
  std::map<std::string, double> alphas;
  std::vector<double> floatDiff;
  if (rewrite) {
    before = stats;
    ObservedModel original = std::move(*floatModel);
    floatModel.reset(); // the rewritten model, once there is one
    auto recalibrate = [&]() -> Error {
      auto m = compileObserved(module);
      if (!m)
        return m.takeError();
      floatModel = std::move(*m);
      CalibrationOptions co = o.calibration;
      co.secondMoments = gptq;
      auto collected = collectStatistics(*floatModel, calib, co);
      if (!collected)
        return collected.takeError();
      stats = std::move(*collected);
      return Error::success();
    };
    if (o.rotate) {
      uint64_t seed = o.rotationSeed;
      if (o.rotationCandidates > 1) {
        if (o.smooth || o.bitsAuto)
          return err("--rotation-search cannot be combined with smoothing or --bits auto");
        auto chosen = searchRotation(module, original, calib, sig->outputs, o, gptq, os);
        if (!chosen)
          return chosen.takeError();
        seed = *chosen;
      }
      if (Error e = runPasses(module, [&](OpPassManager &pm) {
            pm.addPass(createRotateHadamard(rotateOptions(o, seed)));
          }, "rotating"))
        return e;
      if (Error e = recalibrate())
        return e;
    }
    if (o.smooth) {
      if (Error e = applyCalibration(module, stats, o.calibration))
        return e;
      if (o.smoothAlphaAuto) {
        AlphaSearchOptions ao;
        ao.weightBits = o.weightBits;
        ao.activationBits = o.activationBits;
        ao.signedActivations = o.calibration.signedActivations;
        auto chosen =
            searchSmoothingAlpha(module, floatModel ? *floatModel : original, calib, ao);
        if (!chosen)
          return chosen.takeError();
        alphas = std::move(*chosen);
      }
      if (Error e = runPasses(module, [&](OpPassManager &pm) {
            SmoothActivationsOptions so;
            so.alpha = o.smoothAlpha;
            pm.addPass(createSmoothActivations(so));
          }, "smoothing"))
        return e;
      if (Error e = recalibrate())
        return e;
    }
    // The rewrites keep the float function: the largest difference of each
    // output, relative to the output's largest magnitude.
    floatDiff.assign(original.numOutputs, 0.0);
    std::vector<double> peak(original.numOutputs, 0.0);
    for (const Sample &s : held) {
      auto a = original.run(s);
      if (!a)
        return a.takeError();
      auto b = floatModel->run(s);
      if (!b)
        return b.takeError();
      for (size_t k = 0; k < original.numOutputs; ++k) {
        if ((*a)[k].dtype != DType::Float)
          continue;
        const float *x = reinterpret_cast<const float *>((*a)[k].data.data());
        const float *y = reinterpret_cast<const float *>((*b)[k].data.data());
        for (int64_t i = 0, n = (*a)[k].numElements(); i < n; ++i) {
          peak[k] = std::max(peak[k], std::fabs(double(x[i])));
          floatDiff[k] = std::max(floatDiff[k], std::fabs(double(x[i]) - y[i]));
        }
      }
    }
    const ModelSignature &fsig = original.model->signature();
    for (size_t k = 0; k < floatDiff.size(); ++k) {
      floatDiff[k] = peak[k] > 0 ? floatDiff[k] / peak[k] : floatDiff[k];
      os << "rewritten float model vs original, output '" << fsig.outputs[k].name
         << "': max |difference| / max |output| = " << llvm::formatv("{0:e2}", floatDiff[k])
         << " on " << held.size() << " samples\n";
    }
    if (!o.emitRewrittenPath.empty()) {
      OwningOpRef<ModuleOp> copy = module.clone();
      copy->walk([](ObserveOp obs) {
        obs.replaceAllUsesWith(obs.getInput());
        obs.erase();
      });
      std::error_code ec;
      llvm::raw_fd_ostream f(o.emitRewrittenPath, ec);
      if (ec)
        return err("cannot write '" + o.emitRewrittenPath + "': " + ec.message());
      copy->print(f);
    }
  }
  if (!o.saveCalibration.empty()) { // the statistics applied (after any rewrite)
    std::error_code ec;
    llvm::raw_fd_ostream f(o.saveCalibration, ec);
    if (ec)
      return err("cannot write '" + o.saveCalibration + "': " + ec.message());
    f << llvm::formatv("{0:2}", statsToJSON(stats)) << "\n";
  }
  if (Error e = applyCalibration(module, stats, o.calibration))
    return e;
  std::optional<BitAssignment> assigned;
  std::optional<SensitivityTable> table;
  if (o.bitsAuto) {
    auto t = sensitivityTable(module, calib, sig->outputs, o, os);
    if (!t)
      return t.takeError();
    table = std::move(*t);
    if (o.budget.latency) {
      measureLatency(*table);
      double all8 = 0;
      for (auto &row : table->latency)
        all8 += row[std::max_element(table->weightBits.begin(), table->weightBits.end()) -
                    table->weightBits.begin()];
      os << "latency: " << table->layers.size() << " layers x " << table->weightBits.size()
         << " weight formats timed with the int8 kernels; all at the widest: "
         << llvm::formatv("{0:f1}", all8 * 1e6) << " us\n";
    }
    auto a = assignBitWidths(*table, o, os);
    if (!a)
      return a.takeError();
    assigned = std::move(*a);
    if (Error e = applyBitWidths(module, *table, *assigned))
      return e;
  }
  if (Error e = runPasses(module, [&](OpPassManager &pm) {
        pm.addPass(createFoldCalibration(foldOptions(o)));
      }, "folding the calibration"))
    return e;
  if (!o.emitQDQPath.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream f(o.emitQDQPath, ec);
    if (ec)
      return err("cannot write '" + o.emitQDQPath + "': " + ec.message());
    module.print(f);
  }

  if (!o.reportPath.empty()) {
    if (held.empty())
      return err("the report needs samples to evaluate on (--calibration-data)");
    auto quantModel = compileQuantized(module);
    if (!quantModel)
      return quantModel.takeError();
    // Per-layer parameters, from the tagged dequantize ops.
    std::vector<LayerReport> layers;
    std::map<std::string, size_t> layerIndex;
    module.walk([&](DequantizeOp dq) {
      auto tag = dq->getAttrOfType<StringAttr>(QCDialect::kObservedAttrName);
      if (!tag)
        return;
      auto qt = dyn_cast<quant::UniformQuantizedType>(
          cast<RankedTensorType>(dq.getInput().getType()).getElementType());
      if (!qt || layerIndex.count(tag.str()))
        return;
      layerIndex[tag.str()] = layers.size();
      layers.push_back({tag.str(), 0, 0, qt.getScale(), qt.getZeroPoint(), qt.isSigned(), {},
                        unsigned(llvm::Log2_64_Ceil(
                            uint64_t(qt.getStorageTypeMax() - qt.getStorageTypeMin() + 1)))});
      if (auto it = stats.find(tag.str()); it != stats.end())
        layers.back().ratio = it->second.outlierRatio();
      if (auto it = before.find(tag.str()); it != before.end())
        layers.back().ratioBefore = it->second.outlierRatio();
    });
    std::vector<Agreement> outputs(floatModel->numOutputs);
    std::map<std::string, size_t> floatIndex;
    for (auto [i, name] : llvm::enumerate(floatModel->observed))
      floatIndex[name] = floatModel->numOutputs + i;
    for (const Sample &s : held) {
      auto ref = floatModel->run(s);
      if (!ref)
        return ref.takeError();
      auto got = quantModel->run(s);
      if (!got)
        return got.takeError();
      for (size_t k = 0; k < outputs.size(); ++k)
        outputs[k].add((*ref)[k], (*got)[k]);
      for (auto [i, name] : llvm::enumerate(quantModel->observed)) {
        auto f = floatIndex.find(name);
        auto l = layerIndex.find(name);
        if (f != floatIndex.end() && l != layerIndex.end())
          layers[l->second].agreement.add((*ref)[f->second], (*got)[quantModel->numOutputs + i]);
      }
    }
    for (Agreement &a : outputs)
      a.finish();
    for (LayerReport &l : layers)
      l.agreement.finish();

    const ModelSignature &fsig = floatModel->model->signature();
    llvm::json::Array jl, jo;
    auto ratioJSON = [](double r) { return r > 0 ? llvm::json::Value(r) : llvm::json::Value(nullptr); };
    for (LayerReport &l : layers) {
      llvm::json::Object jlayer{{"tensor", l.name}, {"bits", int64_t(l.bits)},
                                {"type", l.isSigned ? "i8" : "u8"},
                                {"scale", l.scale}, {"zero_point", l.zeroPoint},
                                {"sqnr_db", std::isinf(l.agreement.sqnrDb) ? 999.0 : l.agreement.sqnrDb},
                                {"channel_max_over_mean", ratioJSON(l.ratio)}};
      if (rewrite)
        jlayer["channel_max_over_mean_before"] = ratioJSON(l.ratioBefore);
      if (auto a = alphas.find(l.name); a != alphas.end())
        jlayer["smooth_alpha"] = a->second;
      jl.push_back(std::move(jlayer));
    }
    for (size_t k = 0; k < outputs.size(); ++k)
      jo.push_back(llvm::json::Object{{"output", fsig.outputs[k].name},
                                      {"sqnr_db", std::isinf(outputs[k].sqnrDb) ? 999.0 : outputs[k].sqnrDb},
                                      {"cosine", outputs[k].cosine},
                                      {"top1_agreement", std::isnan(outputs[k].top1) ? llvm::json::Value(nullptr)
                                                                                     : llvm::json::Value(outputs[k].top1)}});
    llvm::json::Object report{
        {"model", o.modelName},
        {"calibration_method", o.calibration.method},
        {"activation_type", o.calibration.signedActivations ? "i8" : "u8"},
        {"weight_granularity", o.weightGranularity},
        {"weight_rounding", o.weightRounding},
        {"bit_widths", bitWidthsJSON(table, assigned)},
        {"bias_correction", o.biasCorrection},
        {"scope", o.scope},
        {"activation_granularity", o.activationGranularity},
        {"weight_bits", int64_t(o.weightBits)},
        {"activation_bits", int64_t(o.activationBits)},
        {"smooth", o.smooth ? (o.smoothAlphaAuto ? llvm::json::Value("auto")
                                                 : llvm::json::Value(o.smoothAlpha))
                            : llvm::json::Value(nullptr)},
        {"rotate", o.rotate},
        {"rotate_residual", o.rotate && o.rotateResidual},
        {"rewritten_float_max_rel_diff", llvm::json::Array(floatDiff)},
        {"calibration_samples", int64_t(calib.size())},
        {"eval_samples", int64_t(held.size())},
        {"eval_held_out", heldOut},
        {"layers", std::move(jl)},
        {"outputs", std::move(jo)}};
    std::error_code ec;
    llvm::raw_fd_ostream f(o.reportPath, ec);
    if (ec)
      return err("cannot write '" + o.reportPath + "': " + ec.message());
    f << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";

    llvm::SmallString<256> md(o.reportPath);
    llvm::sys::path::replace_extension(md, ".md");
    llvm::raw_fd_ostream m(md, ec);
    if (ec)
      return err("cannot write '" + md + "': " + ec.message());
    m << "# Quantization report: " << o.modelName << "\n\n"
      << "W" << o.weightBits << "A" << o.activationBits << " ("
      << (o.calibration.signedActivations ? "i8" : "u8") << " activations, "
      << o.weightGranularity << " weight scales"
      << (o.weightRounding == "gptq" ? ", GPTQ rounding" : "") << "), calibration " << o.calibration.method
      << " on " << calib.size() << " samples, bias correction "
      << (o.biasCorrection ? "on" : "off") << "; evaluated on " << held.size()
      << (heldOut ? " held-out" : " calibration") << " samples"
      << (o.scope == "linear"   ? "; only the inputs of linear layers quantized"
          : o.scope == "matmul" ? "; only the inputs of MatMul/Gemm layers quantized"
                                : "")
      << (o.activationGranularity == "token" ? ", per token (dynamic scales"
          : o.activationGranularity == "tensor"
              ? ""
              : ", per group of " +
                    std::to_string(qc::activationGroupSize(o.activationGranularity).value_or(0)) +
                    " channels of a token (dynamic scales")
      << (o.activationGranularity == "tensor" ? ""
          : o.dynamicZeroPoints              ? " and zero points)"
                                             : ")")
      << (o.rotate ? (o.rotateResidual ? "; Hadamard rotation (residual stream offline)"
                                       : "; Hadamard rotation")
                   : "")
      << (o.smooth ? (o.smoothAlphaAuto ? std::string("; SmoothQuant, alpha searched per layer")
                                        : "; SmoothQuant alpha " + fmt(o.smoothAlpha))
                   : std::string())
      << ".\n\n"
      << "| output | SQNR (dB) | cosine | top-1 agreement |\n| --- | ---: | ---: | ---: |\n";
    for (size_t k = 0; k < outputs.size(); ++k)
      m << "| " << fsig.outputs[k].name << " | " << fmt(outputs[k].sqnrDb) << " | "
        << llvm::formatv("{0:f5}", outputs[k].cosine) << " | "
        << (std::isnan(outputs[k].top1) ? std::string("-") : fmt(100 * outputs[k].top1) + "%")
        << " |\n";
    auto ratioText = [](double r) { return r > 0 ? fmt(r) : std::string("-"); };
    m << "\nchannel max/mean: the largest per-channel max |x| over their mean (inputs of "
         "Conv, Gemm and MatMul)"
      << (rewrite ? "; before: the model as imported" : "") << ".\n\n"
      << "| tensor | bits | type | scale | zero point | SQNR vs float (dB) |"
      << (rewrite ? " channel max/mean before | after |" : " channel max/mean |")
      << (alphas.empty() ? "" : " alpha |") << "\n"
      << "| --- | ---: | --- | ---: | ---: | ---: |" << (rewrite ? " ---: | ---: |" : " ---: |")
      << (alphas.empty() ? "" : " ---: |") << "\n";
    for (LayerReport &l : layers) {
      m << "| " << l.name << " | " << o.activationBits << " | " << (l.isSigned ? "i8" : "u8")
        << " | " << llvm::formatv("{0:e4}", l.scale) << " | " << l.zeroPoint << " | "
        << fmt(l.agreement.sqnrDb) << " | ";
      if (rewrite)
        m << ratioText(l.ratioBefore) << " | ";
      m << ratioText(l.ratio) << " |";
      if (!alphas.empty()) {
        auto a = alphas.find(l.name);
        m << " " << (a != alphas.end() ? fmt(a->second) : std::string("-")) << " |";
      }
      m << "\n";
    }
    for (size_t k = 0; k < outputs.size(); ++k) {
      os << "quantized vs float, output '" << fsig.outputs[k].name << "' on " << held.size()
         << (heldOut ? " held-out" : " calibration") << " samples: SQNR "
         << fmt(outputs[k].sqnrDb) << " dB, cosine " << llvm::formatv("{0:f5}", outputs[k].cosine);
      if (!std::isnan(outputs[k].top1))
        os << ", top-1 agreement " << fmt(100 * outputs[k].top1) << "%";
      os << "\n";
    }
    os << "report: " << o.reportPath << ", " << md << "\n";
  }
  return runPasses(module, integerPasses, "lowering to integer ops");
}

bool qc::hasQuantizeDequantize(ModuleOp module) {
  return module
      .walk([](Operation *op) {
        return isa<QuantizeOp, DequantizeOp>(op) ? WalkResult::interrupt()
                                                  : WalkResult::advance();
      })
      .wasInterrupted();
}

Error qc::lowerQuantizeDequantize(ModuleOp module) {
  return runPasses(module, integerPasses, "lowering the quantized model to integer ops");
}
