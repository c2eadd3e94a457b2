//===- Quantize.cpp - post-training int8 quantization driver --------------===//
#include "qc/Quantization/Quantize.h"

#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

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
  double scale = 0;
  int64_t zeroPoint = 0;
  bool isSigned = false;
  Agreement agreement;
};
} // namespace

static std::string fmt(double v) {
  if (std::isinf(v))
    return "inf";
  return llvm::formatv("{0:f2}", v).str();
}

Error qc::quantizeModel(ModuleOp module, const QuantizeOptions &o, llvm::raw_ostream &os) {
  auto graph = module.lookupSymbol<func::FuncOp>("main_graph");
  if (!graph)
    return err("no function @main_graph to quantize");
  FailureOr<ModelSignature> sig = getModelSignature(graph);
  if (failed(sig))
    return err("the model's inputs need static shapes to calibrate (give --input-shape)");
  for (const TensorSpec &in : sig->inputs)
    if (in.dtype != DType::Float)
      return err("input '" + in.name + "' is " + dtypeName(in.dtype) +
                 "; calibration feeds float inputs only");

  if (Error e = runPasses(module, [&](OpPassManager &pm) {
        pm.addPass(mlir::createCanonicalizerPass());
        pm.addPass(createFoldBatchNorm());
        InsertObserversOptions io;
        io.bins = o.calibration.bins;
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
    auto collected = collectStatistics(*floatModel, calib, o.calibration);
    if (!collected)
      return collected.takeError();
    stats = std::move(*collected);
  }
  if (!o.saveCalibration.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream f(o.saveCalibration, ec);
    if (ec)
      return err("cannot write '" + o.saveCalibration + "': " + ec.message());
    f << llvm::formatv("{0:2}", statsToJSON(stats)) << "\n";
  }
  if (Error e = applyCalibration(module, stats, o.calibration))
    return e;
  if (Error e = runPasses(module, [&](OpPassManager &pm) {
        FoldCalibrationOptions fo;
        fo.activationType = o.calibration.signedActivations ? "i8" : "u8";
        fo.weightGranularity = o.weightGranularity;
        fo.biasCorrection = o.biasCorrection;
        pm.addPass(createFoldCalibration(fo));
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
    auto quantModel = compileObserved(module, /*quantized=*/true, [](ModuleOp m) {
      PassManager pm(m.getContext());
      integerPasses(pm.nest<func::FuncOp>());
      return pm.run(m);
    });
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
      layers.push_back({tag.str(), qt.getScale(), qt.getZeroPoint(), qt.isSigned(), {}});
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
    for (LayerReport &l : layers)
      jl.push_back(llvm::json::Object{{"tensor", l.name}, {"bits", 8},
                                      {"type", l.isSigned ? "i8" : "u8"},
                                      {"scale", l.scale}, {"zero_point", l.zeroPoint},
                                      {"sqnr_db", std::isinf(l.agreement.sqnrDb) ? 999.0 : l.agreement.sqnrDb}});
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
        {"bias_correction", o.biasCorrection},
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
      << "W8A8 (" << (o.calibration.signedActivations ? "i8" : "u8") << " activations, "
      << o.weightGranularity << " weight scales), calibration " << o.calibration.method
      << " on " << calib.size() << " samples, bias correction "
      << (o.biasCorrection ? "on" : "off") << "; evaluated on " << held.size()
      << (heldOut ? " held-out" : " calibration") << " samples.\n\n"
      << "| output | SQNR (dB) | cosine | top-1 agreement |\n| --- | ---: | ---: | ---: |\n";
    for (size_t k = 0; k < outputs.size(); ++k)
      m << "| " << fsig.outputs[k].name << " | " << fmt(outputs[k].sqnrDb) << " | "
        << llvm::formatv("{0:f5}", outputs[k].cosine) << " | "
        << (std::isnan(outputs[k].top1) ? std::string("-") : fmt(100 * outputs[k].top1) + "%")
        << " |\n";
    m << "\n| tensor | bits | type | scale | zero point | SQNR vs float (dB) |\n"
      << "| --- | ---: | --- | ---: | ---: | ---: |\n";
    for (LayerReport &l : layers)
      m << "| " << l.name << " | 8 | " << (l.isSigned ? "i8" : "u8") << " | "
        << llvm::formatv("{0:e4}", l.scale) << " | " << l.zeroPoint << " | "
        << fmt(l.agreement.sqnrDb) << " |\n";
    for (size_t k = 0; k < outputs.size(); ++k) {
      os << "int8 vs float, output '" << fsig.outputs[k].name << "' on " << held.size()
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
