//===- Session.cpp - post-training quantization, stage by stage -----------===//
#include "Stages.h"
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Pipelines.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Quantization/Rewrites.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <cmath>

using namespace mlir;
using namespace qc;
using namespace qc::detail;
using llvm::Error;
using llvm::Expected;

//===----------------------------------------------------------------------===//
// Helpers shared with the rotation search
//===----------------------------------------------------------------------===//

Error qc::detail::runPasses(ModuleOp module,
                            llvm::function_ref<void(OpPassManager &)> build,
                            StringRef what) {
  PassManager pm(module.getContext());
  build(pm);
  if (failed(pm.run(module)))
    return error(what + " failed (see the diagnostics above)");
  return Error::success();
}

FoldCalibrationOptions qc::detail::foldOptions(const QuantizeOptions &o) {
  FoldCalibrationOptions fo;
  fo.weightRounding = o.weightRounding;
  fo.gptqDamp = o.gptqDamp;
  fo.reconstructionSteps = o.reconstructionSteps;
  fo.weightBits = o.weightBits;
  fo.activationBits = o.activationBits;
  fo.activationGranularity = o.activationGranularity;
  fo.dynamicZeroPoints = o.dynamicZeroPoints;
  fo.activationType = o.activationType;
  fo.weightGranularity = o.weightGranularity;
  fo.weightFormat = o.weightFormat;
  fo.blockScale = o.blockScale;
  fo.biasCorrection = o.biasCorrection;
  return fo;
}

RotateHadamardOptions qc::detail::rotateOptions(const QuantizeOptions &o,
                                                uint64_t seed) {
  RotateHadamardOptions ro;
  ro.seed = seed;
  ro.residual = o.rotateResidual;
  return ro;
}

Expected<ObservedModel>
qc::detail::compileQuantized(ModuleOp module,
                             const cpu::TargetOptions &target) {
  return compileObserved(module, target, /*quantized=*/true, [](ModuleOp m) {
    PassManager pm(m.getContext());
    buildLowerToIntegerPipeline(pm);
    return pm.run(m);
  });
}

/// `f(x)` into the file `path`; `what` names it in the error.
static Error writeFile(StringRef path,
                       llvm::function_ref<void(llvm::raw_ostream &)> f) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return error("cannot write '" + path + "': " + ec.message());
  f(os);
  return Error::success();
}

static Expected<llvm::json::Value> readJSON(StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buf)
    return error("cannot read '" + path + "': " + buf.getError().message());
  auto json = llvm::json::parse((*buf)->getBuffer());
  if (!json)
    return error(path + ": " + llvm::toString(json.takeError()));
  return std::move(*json);
}

//===----------------------------------------------------------------------===//
// The session
//===----------------------------------------------------------------------===//

struct QuantizationSession::State {
  ModelSignature sig;
  bool rewrite = false; // smoothing or rotation
  bool gptq = false;    // second moments wanted
  std::vector<Sample> samples;
  ArrayRef<Sample> calib, held;
  bool heldOut = false;
  /// The float model with its observers exposed: calibration's, and the
  /// report's reference (the rewritten one after rewrite()).
  std::optional<ObservedModel> floatModel;
  CalibrationStats stats;
  PatchGrams patchGrams;   // the convolutions' input patches (GPTQ)
  CalibrationStats before; // the imported model's, with rewrites
  bool statsApplied = false;
  std::map<std::string, double> alphas;
  std::vector<double> floatDiff;
  std::optional<SensitivityTable> table;
  std::optional<BitAssignment> assigned;
  std::optional<QualityReport> report;
  std::shared_ptr<const Attribution> attribution;
};

QuantizationSession::QuantizationSession(ModuleOp module,
                                         const QuantizeOptions &options,
                                         llvm::raw_ostream &log)
    : module(module), o(options), log(log), s(std::make_unique<State>()) {}

QuantizationSession::~QuantizationSession() = default;

const QualityReport *QuantizationSession::report() const {
  return s->report ? &*s->report : nullptr;
}

Error QuantizationSession::prepare() {
  auto graph = module.lookupSymbol<func::FuncOp>("main_graph");
  if (!graph)
    return error("no function @main_graph to quantize");
  FailureOr<ModelSignature> sig = getModelSignature(graph);
  if (failed(sig))
    return error("the model's inputs need static shapes to calibrate");
  s->sig = *sig;
  s->rewrite = o.smooth || o.rotate;
  if (s->rewrite && !o.loadCalibration.empty())
    return error("loaded statistics cannot be used with smoothing or rotation: "
                 "the rewrites "
                 "calibrate the model again as they change it");
  // Second moments for GPTQ: always for gptq, at <= 4 bits for auto.
  auto low = [](unsigned b) { return b <= 4; };
  unsigned formatWidth = o.weightFormat == WeightFormat::Int
                             ? o.weightBits
                             : formatBits(0, o.weightFormat);
  s->gptq = roundsWithSecondMoments(o.weightRounding) ||
            (o.weightRounding == WeightRounding::Auto &&
             (low(formatWidth) ||
              (o.bitsAuto && llvm::any_of(o.sensitivity.weightBits, low))));
  if (o.rotationCandidates > 1 && (o.smooth || o.bitsAuto))
    return error(
        "the rotation search cannot be combined with smoothing or bit-width "
        "assignment");
  if (roundsWithSecondMoments(o.weightRounding) && !o.loadCalibration.empty())
    return error("GPTQ/AdaRound/AdaQuant rounding cannot use loaded statistics: it needs the "
                 "layers' input "
                 "second moments, which calibration records in-process");

  PrepareCalibrationOptions prep;
  prep.bins = o.calibration.bins;
  prep.scope = o.scope;
  prep.equalize = o.equalize;
  // Rotation and smoothing find linear layers as MatMul + bias Add; dynamic
  // (per-token, per-group) activations quantize the MatMul's input at run
  // time and add the bias in float after it, as they are.
  prep.matmulBiasToGemm =
      !o.rotate && !o.smooth && !o.activationGranularity.isDynamic();
  if (Error e = runPasses(
          module,
          [&](OpPassManager &pm) { buildPrepareCalibrationPipeline(pm, prep); },
          "inserting observers"))
    return e;

  if (!o.calibrationData.empty()) {
    auto read =
        readSamples(o.calibrationData, s->sig.inputs,
                    o.samples && o.evalSamples ? o.samples + o.evalSamples : 0);
    if (!read)
      return read.takeError();
    s->samples = std::move(*read);
    // A NaN or infinity would make every range it enters meaningless (an
    // all-NaN input once quantized with scales of 1.0, silently).
    for (auto [i, sample] : llvm::enumerate(s->samples))
      for (const HostTensor &t : sample) {
        if (t.dtype != DType::Float)
          continue;
        const float *v = reinterpret_cast<const float *>(t.data.data());
        for (size_t j = 0; j < t.data.size() / sizeof(float); ++j)
          if (!std::isfinite(v[j]))
            return error(
                "calibration data '" + o.calibrationData + "': sample " +
                Twine(i) + ", input '" + t.name + "' holds " +
                (std::isnan(v[j]) ? "NaN" : "an infinity") + " at element " +
                Twine(j) + ": calibration needs finite values");
      }
  }
  // Calibration samples first, then the held-out ones the report scores (a
  // quarter of them unless a count is given).
  size_t n = s->samples.size();
  size_t nCalib = o.samples ? std::min(o.samples, n) : n;
  if (!o.samples && !o.reportPath.empty() && n >= 4)
    nCalib = n - std::max<size_t>(1, n / 4);
  s->calib = ArrayRef<Sample>(s->samples).take_front(nCalib);
  s->held = ArrayRef<Sample>(s->samples).drop_front(nCalib);
  if (o.evalSamples && s->held.size() > o.evalSamples)
    s->held = s->held.take_front(o.evalSamples);
  s->heldOut = !s->held.empty();
  if (!s->heldOut)
    s->held = s->calib;
  return Error::success();
}

Error QuantizationSession::calibrate() {
  if (o.loadCalibration.empty() || !o.reportPath.empty()) {
    auto m = compileObserved(module, o.target);
    if (!m)
      return m.takeError();
    s->floatModel = std::move(*m);
  }
  if (!o.loadCalibration.empty()) {
    auto json = readJSON(o.loadCalibration);
    if (!json)
      return json.takeError();
    auto loaded = statsFromJSON(*json);
    if (!loaded)
      return error(o.loadCalibration + ": " +
                   llvm::toString(loaded.takeError()));
    s->stats = std::move(*loaded);
    return Error::success();
  }
  if (s->calib.empty())
    return error("quantization needs calibration samples or saved statistics");
  // Second moments for the model that is quantized: after the rewrites.
  return collect(s->gptq && !s->rewrite);
}

Error QuantizationSession::collect(bool secondMoments) {
  CalibrationOptions co = o.calibration;
  co.secondMoments = secondMoments;
  if (secondMoments)
    co.convPatches = convPatchSpecs(module);
  s->patchGrams.clear();
  auto collected =
      collectStatistics(*s->floatModel, s->calib, co, &s->patchGrams);
  if (!collected)
    return collected.takeError();
  s->stats = std::move(*collected);
  return Error::success();
}

Error QuantizationSession::rewrite() {
  if (!s->rewrite)
    return Error::success();
  // Each rewrite changes the observed activations, so the model is
  // calibrated again after it; `before` keeps the imported model's
  // statistics for the report.
  s->before = s->stats;
  ObservedModel original = std::move(*s->floatModel);
  s->floatModel.reset();
  auto recalibrate = [&]() -> Error {
    auto m = compileObserved(module, o.target);
    if (!m)
      return m.takeError();
    s->floatModel = std::move(*m);
    return collect(s->gptq);
  };
  if (o.rotate) {
    uint64_t seed = o.rotationSeed;
    if (o.rotationCandidates > 1) {
      auto chosen = searchRotation(module, original, s->calib, s->sig.outputs,
                                   o, s->gptq, log);
      if (!chosen)
        return chosen.takeError();
      seed = *chosen;
    }
    if (Error e = runPasses(
            module,
            [&](OpPassManager &pm) {
              pm.nest<func::FuncOp>().addPass(
                  createRotateHadamard(rotateOptions(o, seed)));
            },
            "rotating"))
      return e;
    if (Error e = recalibrate())
      return e;
  }
  if (o.smooth) {
    if (Error e = applyCalibration(module, s->stats, o.calibration))
      return e;
    if (o.smoothAlphaAuto) {
      AlphaSearchOptions ao;
      ao.weightBits = o.weightBits;
      ao.activationBits = o.activationBits;
      ao.signedActivations = o.calibration.signedActivations;
      auto chosen = searchSmoothingAlpha(
          module, s->floatModel ? *s->floatModel : original, s->calib, ao);
      if (!chosen)
        return chosen.takeError();
      s->alphas = std::move(*chosen);
    }
    if (Error e = runPasses(
            module,
            [&](OpPassManager &pm) {
              SmoothActivationsOptions so;
              so.alpha = o.smoothAlpha;
              pm.nest<func::FuncOp>().addPass(createSmoothActivations(so));
            },
            "smoothing"))
      return e;
    if (Error e = recalibrate())
      return e;
  }
  // The rewrites keep the float function: the largest difference of each
  // output, relative to the output's largest magnitude.
  s->floatDiff.assign(original.numOutputs, 0.0);
  std::vector<double> peak(original.numOutputs, 0.0);
  for (const Sample &sample : s->held) {
    auto a = original.run(sample);
    if (!a)
      return a.takeError();
    auto b = s->floatModel->run(sample);
    if (!b)
      return b.takeError();
    for (size_t k = 0; k < original.numOutputs; ++k) {
      if ((*a)[k].dtype != DType::Float)
        continue;
      const float *x = reinterpret_cast<const float *>((*a)[k].data.data());
      const float *y = reinterpret_cast<const float *>((*b)[k].data.data());
      for (int64_t i = 0, n = (*a)[k].numElements(); i < n; ++i) {
        peak[k] = std::max(peak[k], std::fabs(double(x[i])));
        s->floatDiff[k] =
            std::max(s->floatDiff[k], std::fabs(double(x[i]) - y[i]));
      }
    }
  }
  const ModelSignature &fsig = original.model->signature();
  for (size_t k = 0; k < s->floatDiff.size(); ++k) {
    double &d = s->floatDiff[k];
    d = peak[k] > 0 ? d / peak[k] : d;
    log << "rewritten float model vs original, output '" << fsig.outputs[k].name
        << "': max |difference| / max |output| = " << llvm::formatv("{0:e2}", d)
        << " on " << s->held.size() << " samples\n";
  }
  if (o.emitRewrittenPath.empty())
    return Error::success();
  OwningOpRef<ModuleOp> copy = module.clone();
  if (Error e = runPasses(
          *copy,
          [](OpPassManager &pm) {
            pm.nest<func::FuncOp>().addPass(createStripObservers());
          },
          "removing the observers"))
    return e;
  return writeFile(o.emitRewrittenPath,
                   [&](llvm::raw_ostream &os) { copy->print(os); });
}

/// The statistics (after any rewrite) onto the observers, once; saved
/// first when asked.
static Error applyStatistics(ModuleOp module, const QuantizeOptions &o,
                             const CalibrationStats &stats, bool &applied) {
  if (applied)
    return Error::success();
  applied = true;
  if (!o.saveCalibration.empty())
    if (Error e = writeFile(o.saveCalibration, [&](llvm::raw_ostream &os) {
          os << llvm::formatv("{0:2}", statsToJSON(stats)) << "\n";
        }))
      return e;
  return applyCalibration(module, stats, o.calibration);
}

/// The sensitivity table of the calibrated module: the cache's when it
/// describes this model with these formats, else measured (and cached).
static Expected<SensitivityTable> sensitivityTable(ModuleOp module,
                                                   ArrayRef<Sample> calib,
                                                   ArrayRef<TensorSpec> outputs,
                                                   const QuantizeOptions &o,
                                                   llvm::raw_ostream &log) {
  if (!o.sensitivityCache.empty() &&
      llvm::sys::fs::exists(o.sensitivityCache)) {
    auto t = readSensitivityTable(o.sensitivityCache);
    if (!t)
      return t.takeError();
    if (t->metric == o.sensitivity.metric &&
        t->weightBits == o.sensitivity.weightBits &&
        t->weightFormats.size() == o.sensitivity.weightFormats.size() &&
        llvm::equal(t->weightFormats, o.sensitivity.weightFormats) &&
        t->activationBits == o.sensitivity.activationBits) {
      log << "sensitivity: " << t->layers.size() << " layers from "
          << o.sensitivityCache << "\n";
      return t;
    }
    log << "sensitivity: " << o.sensitivityCache
        << " holds other formats or another metric; measuring again\n";
  }
  SensitivityOptions so = o.sensitivity;
  if (!o.taskLabels.empty())
    if (Error e = readTaskLabels(o.taskLabels, outputs, so))
      return std::move(e);
  so.signedActivations = o.calibration.signedActivations;
  so.progress = o.calibration.progress;
  so.gptq = o.weightRounding !=
            WeightRounding::Nearest; // as fold-calibration at low bits
  auto t = measureSensitivity(module, calib, so, o.target);
  if (!t)
    return t.takeError();
  log << "sensitivity: " << t->layers.size() << " layers x "
      << t->weightBits.size() << " weight formats, " << t->activations.size()
      << " activations x " << t->activationBits.size()
      << " activation formats, metric " << stringify(t->metric) << "\n";
  if (!o.sensitivityCache.empty())
    if (Error e = writeFile(o.sensitivityCache, [&](llvm::raw_ostream &os) {
          os << llvm::formatv("{0:2}", tableToJSON(*t)) << "\n";
        }))
      return std::move(e);
  return t;
}

/// The pins, the program and a summary of the choice.
static Expected<BitAssignment> chooseBitWidths(const SensitivityTable &t,
                                               const QuantizeOptions &o,
                                               llvm::raw_ostream &log) {
  BitBudget b = o.budget;
  unsigned widest = *std::max_element(t.weightBits.begin(), t.weightBits.end());
  if (o.pinFirstLast) {
    b.weightPins.push_back({0, widest});
    b.weightPins.push_back({t.layers.size() - 1, widest});
  }
  for (auto &[name, bits] : o.pins) {
    auto it = llvm::find_if(t.layers,
                            [&](const LayerInfo &l) { return l.name == name; });
    if (it == t.layers.end())
      return error("pinned layer '" + name +
                   "' is not a weight layer of the model");
    b.weightPins.push_back({size_t(it - t.layers.begin()), bits});
  }
  if (!b.bytes && !b.bops && !b.latency)
    return error("choosing bit widths needs a size, BOPs or latency budget");
  Expected<BitAssignment> a = qc::assignBitWidths(t, b, o.assignment);
  if (!a)
    return a.takeError();
  std::map<std::string, int> counts;
  for (auto [i, w] : llvm::enumerate(a->weightBits))
    ++counts[weightLabel(w, i < a->weightFormats.size() ? a->weightFormats[i]
                                                        : WeightFormat::Int)];
  log << "bit widths (" << stringify(o.assignment) << "): " << a->status
      << "; size " << llvm::formatv("{0:f0}", a->bytes) << " bytes, "
      << llvm::formatv("{0:e3}", a->bops) << " BOPs, "
      << (t.latency.empty()
              ? std::string()
              : llvm::formatv("{0:f1} us (kernels), ", a->latency * 1e6).str())
      << "summed sensitivity " << llvm::formatv("{0:e4}", a->cost)
      << "; weights:";
  for (auto &[label, n] : counts)
    log << " " << n << " x "
        << (llvm::all_of(label, llvm::isDigit) ? label + "-bit" : label);
  log << "\n";
  for (auto [i, l] : llvm::enumerate(t.layers))
    log << "  " << l.name << ": W"
        << weightLabel(a->weightBits[i], i < a->weightFormats.size()
                                             ? a->weightFormats[i]
                                             : WeightFormat::Int)
        << "A" << a->activationBits[l.activation] << "\n";
  std::map<unsigned, int> actCounts;
  for (unsigned bits : a->activationBits)
    ++actCounts[bits];
  log << "activations:";
  for (auto &[bits, n] : actCounts)
    log << " " << n << " x " << bits << "-bit";
  log << "\n";
  for (auto [g, name] : llvm::enumerate(t.activations))
    if (a->activationBits[g] > 8)
      log << "  " << name << ": A" << a->activationBits[g] << "\n";
  return a;
}

Error QuantizationSession::assignBitWidths() {
  if (Error e = applyStatistics(module, o, s->stats, s->statsApplied))
    return e;
  if (!o.bitsAuto)
    return Error::success();
  auto t = sensitivityTable(module, s->calib, s->sig.outputs, o, log);
  if (!t)
    return t.takeError();
  s->table = std::move(*t);
  SensitivityTable &table = *s->table;
  if (o.budget.latency) {
    // Timed once per table: a cached table keeps its latencies (the
    // machine that wrote it), so repeated compiles see the same numbers.
    bool cached = !table.latency.empty();
    if (!cached) {
      measureLatency(table);
      if (!o.sensitivityCache.empty())
        if (Error e = writeFile(o.sensitivityCache, [&](llvm::raw_ostream &os) {
              os << llvm::formatv("{0:2}", tableToJSON(table)) << "\n";
            }))
          return e;
    }
    size_t widest =
        std::max_element(table.weightBits.begin(), table.weightBits.end()) -
        table.weightBits.begin();
    double all = 0;
    for (auto &row : table.latency)
      all += row[widest];
    log << "latency: " << table.layers.size() << " layers x "
        << table.weightBits.size()
        << " weight formats "
        << (cached ? "from " + o.sensitivityCache
                   : std::string("timed with the kernels"))
        << "; all at the widest: " << llvm::formatv("{0:f1}", all * 1e6)
        << " us\n";
  }
  auto a = chooseBitWidths(table, o, log);
  if (!a)
    return a.takeError();
  s->assigned = std::move(*a);
  return applyBitWidths(module, table, *s->assigned);
}

Error QuantizationSession::attribute() {
  if (o.attributionPath.empty())
    return Error::success();
  if (Error e = applyStatistics(module, o, s->stats, s->statsApplied))
    return e;
  auto a = attributeError(module, s->calib, o.attribution, o.target);
  if (!a)
    return a.takeError();
  s->attribution = std::make_shared<const Attribution>(*a);
  if (Error e = writeFile(o.attributionPath, [&](llvm::raw_ostream &os) {
        os << llvm::formatv("{0:2}", attributionToJSON(*a)) << "\n";
      }))
    return e;
  llvm::SmallString<256> md(o.attributionPath);
  llvm::sys::path::replace_extension(md, ".md");
  if (Error e = writeFile(md, [&](llvm::raw_ostream &os) {
        writeAttributionMarkdown(*a, os);
      }))
    return e;
  log << "attribution: " << a->rows.size() << " tensors on " << a->samples
      << " samples, everything quantized: decision "
      << llvm::formatv("{0:f4}", a->allDecision) << "; " << o.attributionPath
      << ", " << md << "\n";
  return Error::success();
}

/// Sequential reconstruction (AdaRound / AdaQuant): the second moments of
/// each layer's input in the quantized model (weights rounded to nearest,
/// activations at their formats), from a calibration run of that model,
/// as each layer's qc.quantized_input_gram: conv patches, and the rows of
/// Gemm / MatMul inputs.
static Error attachQuantizedGrams(ModuleOp module, ArrayRef<Sample> calib,
                                  const QuantizeOptions &o,
                                  llvm::raw_ostream &log) {
  std::vector<ConvPatches> specs = convPatchSpecs(module);
  std::map<std::string, int64_t> axes; // observers with a channel axis
  module.walk([&](ObserveOp obs) {
    if (obs.getChannelAxis())
      axes[obs.getName().str()] = int64_t(*obs.getChannelAxis());
  });
  OwningOpRef<ModuleOp> quantized = module.clone();
  FoldCalibrationOptions fo = foldOptions(o);
  fo.weightRounding = WeightRounding::Nearest;
  if (Error e = runPasses(
          *quantized,
          [&](OpPassManager &pm) {
            pm.nest<func::FuncOp>().addPass(createFoldCalibration(fo));
          },
          "quantizing for the sequential reconstruction"))
    return e;
  auto model = compileObserved(*quantized, o.target, /*quantized=*/true);
  if (!model)
    return model.takeError();
  for (auto [i, name] : llvm::enumerate(model->observed))
    if (auto it = axes.find(name); it != axes.end())
      model->channelAxes[i] = it->second;
  CalibrationOptions co = o.calibration;
  co.method = CalibrationMethod::MinMax; // only the second moments count
  co.secondMoments = true;
  co.convPatches = specs;
  PatchGrams patches;
  auto stats = collectStatistics(*model, calib, co, &patches);
  if (!stats)
    return stats.takeError();
  // Convolutions: their patches' moments, as for GPTQ; Gemm / MatMul with
  // constant weights: their input rows'.
  int attached = attachPatchGrams(module, patches, kQuantizedGramAttrName);
  MLIRContext *ctx = module.getContext();
  module.walk([&](Operation *op) {
    if (!isa<GemmOp, MatMulOp>(op))
      return;
    auto name = dyn_cast<NameLoc>(op->getLoc());
    auto obs = op->getOperand(0).getDefiningOp<ObserveOp>();
    if (!name || !obs || !readFloatConstant(op->getOperand(1)))
      return;
    auto it = stats->find(obs.getName().str());
    if (it == stats->end() || it->second.gram.empty())
      return;
    int64_t k = int64_t(std::sqrt(double(it->second.gram.size())));
    std::vector<float> g(it->second.gram.begin(), it->second.gram.end());
    op->setAttr(kQuantizedGramAttrName,
                createBlobAttr(RankedTensorType::get({k, k}, Float32Type::get(ctx)),
                               g, name.getName().str() + ".quantized_input_gram"));
    ++attached;
  });
  log << "sequential reconstruction: " << attached
      << " layers' inputs measured in the quantized model\n";
  return Error::success();
}

Error QuantizationSession::fold() {
  if (Error e = applyStatistics(module, o, s->stats, s->statsApplied))
    return e;
  attachPatchGrams(module, s->patchGrams);
  if (o.weightRounding == WeightRounding::AdaRound ||
      o.weightRounding == WeightRounding::AdaQuant)
    if (Error e = attachQuantizedGrams(module, s->calib, o, log))
      return e;
  if (Error e = runPasses(
          module,
          [&](OpPassManager &pm) {
            pm.nest<func::FuncOp>().addPass(
                createFoldCalibration(foldOptions(o)));
          },
          "folding the calibration"))
    return e;
  if (o.emitQDQPath.empty())
    return Error::success();
  return writeFile(o.emitQDQPath,
                   [&](llvm::raw_ostream &os) { module.print(os); });
}

static llvm::json::Value bitWidthsJSON(const std::optional<SensitivityTable> &t,
                                       const std::optional<BitAssignment> &a) {
  if (!t || !a)
    return nullptr;
  llvm::json::Array layers;
  for (auto [i, l] : llvm::enumerate(t->layers))
    layers.push_back(llvm::json::Object{
        {"layer", l.name},
        {"weight_bits", int64_t(a->weightBits[i])},
        {"weight_format",
         stringify(i < a->weightFormats.size() ? a->weightFormats[i]
                                               : WeightFormat::Int)},
        {"activation_bits", int64_t(a->activationBits[l.activation])}});
  llvm::json::Array activations;
  for (auto [g, name] : llvm::enumerate(t->activations))
    activations.push_back(llvm::json::Object{
        {"tensor", name}, {"bits", int64_t(a->activationBits[g])}});
  return llvm::json::Object{{"status", a->status},
                            {"bytes", a->bytes},
                            {"bops", a->bops},
                            {"latency_s", a->latency},
                            {"sensitivity", a->cost},
                            {"layers", std::move(layers)},
                            {"activations", std::move(activations)}};
}

Error QuantizationSession::evaluate() {
  if (s->held.empty())
    return error("the quality report needs samples to evaluate on");
  auto quantModel = compileQuantized(module, o.target);
  if (!quantModel)
    return quantModel.takeError();
  QualityReport r;
  r.options = &o;
  r.rewritten = s->rewrite;
  r.floatMaxRelDiff = s->floatDiff;
  r.bitWidths = bitWidthsJSON(s->table, s->assigned);
  r.attribution = s->attribution;
  r.calibrationSamples = s->calib.size();
  r.evalSamples = s->held.size();
  r.heldOut = s->heldOut;
  // Per-layer parameters, from the tagged dequantize ops.
  std::map<std::string, size_t> layerIndex;
  module.walk([&](Operation *dq) {
    auto tag = dq->getAttrOfType<StringAttr>(QCDialect::kObservedAttrName);
    if (!tag || layerIndex.count(tag.str()))
      return;
    QualityReport::Layer l;
    if (auto mf = dyn_cast<MinifloatDequantizeOp>(dq)) {
      l.format = stringifyElementFormat(mf.getFormat()).str();
      l.isSigned = true;
      l.scale = mf.getScale().convertToDouble();
    } else if (isa<DequantizeOp>(dq)) {
      auto qt = dyn_cast<quant::UniformQuantizedType>(
          cast<RankedTensorType>(dq->getOperand(0).getType()).getElementType());
      if (!qt)
        return;
      l.bits = unsigned(llvm::Log2_64_Ceil(
          uint64_t(qt.getStorageTypeMax() - qt.getStorageTypeMin() + 1)));
      l.isSigned = qt.isSigned();
      l.scale = qt.getScale();
      l.zeroPoint = qt.getZeroPoint();
    } else {
      return;
    }
    layerIndex[tag.str()] = r.layers.size();
    l.tensor = tag.str();
    if (auto it = s->stats.find(l.tensor); it != s->stats.end())
      l.ratio = it->second.outlierRatio();
    if (auto it = s->before.find(l.tensor); it != s->before.end())
      l.ratioBefore = it->second.outlierRatio();
    if (auto it = s->alphas.find(l.tensor); it != s->alphas.end())
      l.smoothAlpha = it->second;
    r.layers.push_back(std::move(l));
  });
  const ObservedModel &floatModel = *s->floatModel;
  r.outputs.resize(floatModel.numOutputs);
  for (auto [k, out] : llvm::enumerate(r.outputs))
    out.name = floatModel.model->signature().outputs[k].name;
  std::map<std::string, size_t> floatIndex;
  for (auto [i, name] : llvm::enumerate(floatModel.observed))
    floatIndex[name] = floatModel.numOutputs + i;
  for (const Sample &sample : s->held) {
    auto ref = floatModel.run(sample);
    if (!ref)
      return ref.takeError();
    auto got = quantModel->run(sample);
    if (!got)
      return got.takeError();
    for (size_t k = 0; k < r.outputs.size(); ++k)
      r.outputs[k].agreement.add((*ref)[k], (*got)[k]);
    for (auto [i, name] : llvm::enumerate(quantModel->observed)) {
      auto f = floatIndex.find(name);
      auto l = layerIndex.find(name);
      if (f != floatIndex.end() && l != layerIndex.end())
        r.layers[l->second].agreement.add((*ref)[f->second],
                                          (*got)[quantModel->numOutputs + i]);
    }
  }
  for (QualityReport::Output &out : r.outputs)
    out.agreement.finish();
  for (QualityReport::Layer &l : r.layers)
    l.agreement.finish();
  s->report = std::move(r);
  s->report->printSummary(log);
  if (o.reportPath.empty())
    return Error::success();
  if (Error e = s->report->write(o.reportPath))
    return e;
  llvm::SmallString<256> md(o.reportPath);
  llvm::sys::path::replace_extension(md, ".md");
  log << "report: " << o.reportPath << ", " << md << "\n";
  return Error::success();
}

Error QuantizationSession::lowerToInteger() {
  return runPasses(module, buildLowerToIntegerPipeline,
                   "lowering to integer ops");
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

Error qc::quantizeModel(ModuleOp module, const QuantizeOptions &options,
                        llvm::raw_ostream &log,
                        std::optional<QualityReport> *report) {
  QuantizationSession session(module, options, log);
  for (Error (QuantizationSession::*stage)() :
       {&QuantizationSession::prepare, &QuantizationSession::calibrate,
        &QuantizationSession::rewrite, &QuantizationSession::assignBitWidths,
        &QuantizationSession::attribute, &QuantizationSession::fold})
    if (Error e = (session.*stage)())
      return e;
  if (!options.reportPath.empty()) {
    if (Error e = session.evaluate())
      return e;
    if (report)
      *report = *session.report();
  }
  return session.lowerToInteger();
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
  return runPasses(module, buildLowerToIntegerPipeline,
                   "lowering the quantized model to integer ops");
}
