//===- ToolOptions.cpp - the option blocks the tools share ----------------===//
#include "qc/Tools/ToolOptions.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"
#include "qc/Target/CPU/Target.h"
#include "qc/Target/CUDA/Target.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include <cmath>
#include <cstdlib>

using namespace qc;
using llvm::Error;
using llvm::StringRef;

static Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

//===----------------------------------------------------------------------===//
// Import
//===----------------------------------------------------------------------===//

llvm::Expected<ONNXImportOptions> ImportFlags::importOptions() const {
  ONNXImportOptions options;
  std::string error;
  if (failed(parseImportOptions(inputShapes, constantInputs, options, error)))
    return fail(error);
  options.allowInvalid = allowInvalid;
  options.externalDataAnywhere = externalDataAnywhere;
  return options;
}

void qc::bindImportFlags(OptionsBinder &b, ImportFlags &f) {
  b.list("input-shape", f.inputShapes,
         "Static shape of a graph input, NAME:1x3x224x224 (quant-run: default "
         "the shape of "
         "its input file)",
         "NAME:DIMS");
  b.list("constant-input", f.constantInputs,
         "Freeze a graph input to a TensorProto", "NAME=FILE.pb");
  b.opt("allow-invalid", f.allowInvalid,
         "Import ONNX models that break the ONNX checker's rules where they "
         "can still be read (duplicate definitions, unknown attributes, "
         "unsorted nodes), for salvage");
  b.opt("allow-external-data-anywhere", f.externalDataAnywhere,
        "Read ONNX external data outside the model's directory (absolute "
        "paths, '..', symbolic links out)");
}

//===----------------------------------------------------------------------===//
// CPU target
//===----------------------------------------------------------------------===//

void qc::bindTargetOptions(OptionsBinder &b, cpu::TargetOptions &t) {
  // A whole test run can pin the kernels (an unknown value is reported by
  // verifyTargetOptions).
  if (const char *v = std::getenv("QC_INT8_KERNELS"))
    t.int8Kernels = symbolize<cpu::Int8Kernels>(v).value_or(t.int8Kernels);
  if (const char *v = std::getenv("QC_F32_KERNELS"))
    t.f32Kernels = symbolize<cpu::F32Kernels>(v).value_or(t.f32Kernels);
  b.opt("mcpu", t.cpu,
        "Target CPU: native (this host, default) or an LLVM CPU name", "CPU");
  b.opt("O", t.optLevel, "LLVM optimization level (default 3)")
      .setFormattingFlag(llvm::cl::Prefix);
  // libLLVM registers its own "threads" option; parseToolCommandLine
  // renames --threads to this.
  b.opt("num-threads", t.threads,
        "Threads: N > 1 compiles OpenMP worksharing loops and links libomp "
        "(threads at run "
        "time: OMP_NUM_THREADS or omp_set_num_threads); --threads works too");
  b.enumOpt("int8-kernels", t.int8Kernels,
            "Kernels of int8 convolutions and matmuls (default: "
            "$QC_INT8_KERNELS, else auto)");
  b.opt("channels-last", t.channelsLast,
        "Run chains of int8 convolutions channels-last (NHWC) in the int8 "
        "kernels (default true)");
  b.opt("fuse-residual-adds", t.residualAdds,
        "Fuse residual adds into channels-last int8 conv epilogues (default "
        "false: slower than the separate loop as measured)");
  b.opt("plan-buffers", t.planBuffers,
        "Place the intermediate tensors in one arena per call, sharing bytes "
        "by liveness (default true)");
  b.enumOpt("lowbit-kernels", t.lowbitKernels,
            "Products of 1-4 bit weights: auto (per layer, the faster of "
            "lut and unpack on this machine), lut, popcount or unpack "
            "(default auto)");
  b.enumOpt("f32-kernels", t.f32Kernels,
            "Kernels of float 2-d convolutions, matmuls, Hadamard "
            "transforms and last-axis softmaxes (default: "
            "$QC_F32_KERNELS, else auto)");
}

Error qc::verifyTargetOptions(const OptionsBinder &b,
                              const cpu::TargetOptions &t) {
  for (const char *var : {"QC_INT8_KERNELS", "QC_F32_KERNELS"}) {
    const char *v = std::getenv(var);
    if (!v || !*v)
      continue;
    bool ok = StringRef(var) == "QC_INT8_KERNELS"
                  ? symbolize<cpu::Int8Kernels>(v).has_value()
                  : symbolize<cpu::F32Kernels>(v).has_value();
    if (!ok)
      return fail("$" + StringRef(var) + " '" + v + "' is not a kernel choice");
  }
  if (t.threads == 0)
    return fail("--threads must be at least 1");
  if (t.optLevel > 3)
    return fail("-O must be 0-3, got " + llvm::Twine(t.optLevel));
  std::vector<std::string> missing = cpu::missingHostFeatures(t.cpu);
  if (!missing.empty())
    llvm::WithColor::warning()
        << "--mcpu " << t.cpu << " has instruction sets this host lacks ("
        << llvm::join(missing, ", ")
        << "): code built for it stops with an illegal instruction here\n";
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// A duration: "2.5ms", "800us", "0.01s".
static std::optional<double> parseDuration(StringRef text) {
  text = text.trim();
  double unit = text.consume_back("us")   ? 1e-6
                : text.consume_back("ms") ? 1e-3
                : text.consume_back("s")  ? 1.0
                                          : 0.0;
  double v;
  if (!unit || text.trim().getAsDouble(v) || !(v > 0) || !std::isfinite(v))
    return std::nullopt;
  return v * unit;
}

/// A parser of a flag whose absence is an empty optional: a parsed value,
/// or none when `parse` rejects the text.
static std::function<std::optional<std::optional<double>>(StringRef)>
given(std::optional<double> (*parse)(StringRef)) {
  return [parse](StringRef t) -> std::optional<std::optional<double>> {
    if (std::optional<double> v = parse(t))
      return v;
    return std::nullopt;
  };
}

void qc::bindQuantizeFlags(OptionsBinder &b, QuantizeFlags &f) {
  QuantizeOptions &o = f.options;
  b.setGroup("quantize");
  b.opt("calibration-data", o.calibrationData,
        "Quantize, calibrating on these samples: a directory of .npz (keys: "
        "input names), .npy "
        "(one input) or test_data_set_*/input_*.pb, or one .npz of stacked "
        "samples",
        "DIR|FILE.npz");
  b.opt("load-calibration", o.loadCalibration,
        "Quantize with saved statistics instead of running calibration",
        "FILE");
  b.setGroup("needs-calibration");
  b.opt("samples", o.samples,
        "Calibration samples (default: all; with --report a quarter is held "
        "out for "
        "evaluation)");
  b.opt("eval-samples", o.evalSamples,
        "Held-out samples the report evaluates on (default: those after the "
        "calibration ones)");
  b.enumOpt("calibration-method", o.calibration.method,
            "How a tensor's range is chosen");
  b.opt("percentile", o.calibration.percentile,
        "Percentile of the percentile method");
  b.opt("histogram-bins", o.calibration.bins, "Histogram bins per tensor");
  b.parsed<WeightGranularity>("weight-granularity", o.weightGranularity,
                              "Weight scales: channel (default), tensor, or "
                              "block:N (per output channel and block of "
                              "N along the reduction axis)",
                              "channel|tensor|block:N",
                              WeightGranularity::parse,
                              "is not supported (channel, tensor or block:N "
                              "with N >= 1, e.g. block:64)");
  b.enumOpt("weight-format", o.weightFormat,
            "Weight element format (default int, --weight-bits wide)");
  b.enumOpt("block-scale", o.blockScale,
            "How minifloat block scales are chosen (default max)");
  b.enumOpt("weight-rounding", o.weightRounding,
            "Weight rounding (default auto)");
  b.opt("reconstruction-steps", o.reconstructionSteps,
        "Adam steps per layer of --weight-rounding adaround|adaquant "
        "(default 300; compile time grows with them)");
  b.opt("gptq-damp", o.gptqDamp,
        "GPTQ's dampening: this fraction of the second moments' mean diagonal "
        "is added to "
        "their diagonal (default 0.01)");
  b.enumOpt("activation-type", f.activationType,
            "Activations (default u8). With --activation-granularity token or "
            "group:G the "
            "dynamic scales are symmetric unless u8 is given: then each row or "
            "group also "
            "gets a dynamic zero point");
  b.opt("no-bias-correction", f.noBiasCorrection,
        "Do not correct biases for weight quantization");
  b.opt("save-calibration", o.saveCalibration,
        "Write the calibration statistics (JSON)", "FILE");
  b.opt("emit-qdq", o.emitQDQPath,
        "Also write the quantized model in QDQ form (MLIR; quant-translate "
        "--export-onnx-qdq "
        "makes it ONNX)",
        "FILE.mlir");
  b.opt("report", o.reportPath,
        "Quality report (JSON, and markdown beside it): per-tensor scales and "
        "SQNR, outputs "
        "against float",
        "FILE.json");
  b.opt("attribution", o.attributionPath,
        "Per-tensor error attribution (JSON, and markdown beside it): each "
        "weight layer and quantized activation fake-quantized alone, and "
        "everything but it, on the calibrated float model; outputs' squared "
        "error and a decision metric against float",
        "FILE.json");
  b.opt("attribution-samples", o.attribution.samples,
        "With --attribution: calibration samples per measurement (default 4)");
  b.opt("attribution-steps", o.attribution.cumulative,
        "With --attribution: how many tensors, worst alone first, are left "
        "float together in turn (default 24)");
  b.parsed<std::optional<double>>(
      "attribution-mask", o.attribution.maskThreshold,
      "With --attribution: the decision metric is the IoU of the output maps "
      "above T with float's (detection, segmentation), not argmax agreement",
      "T",
      [](StringRef text) -> std::optional<std::optional<double>> {
        double t;
        if (text.getAsDouble(t) || !std::isfinite(t))
          return std::nullopt;
        return std::optional<double>(t);
      },
      "is not a number");
  b.opt("weight-bits", o.weightBits,
        "Weight bits, 2-8 (symmetric, stored in int8)");
  b.opt("activation-bits", o.activationBits,
        "Activation bits, 2-8 (stored in 8-bit integers) or 16 (W8A16: "
        "int16 activations, int64 accumulation)");
  b.enumOpt("quantize-scope", o.scope,
            "Which activations are quantized (default all)");
  b.parsed<ActivationGranularity>(
      "activation-granularity", o.activationGranularity,
      "tensor (default): a calibrated scale per activation; token: a dynamic "
      "scale per row "
      "of each linear layer's input (with --quantize-scope linear or matmul); "
      "group:G: a "
      "dynamic scale per G consecutive channels of each row (rows G does not "
      "divide get a "
      "scale per row)",
      "tensor|token|group:G", ActivationGranularity::parse,
      "is not supported (tensor, token or group:G with G >= 1)");
  b.opt("smooth-activations", f.smoothActivations,
        "SmoothQuant: migrate activation outliers into the weights of linear "
        "layers read from "
        "a LayerNorm or linear layer (calibrates twice)");
  b.parsed<std::optional<double>>(
      "smooth-alpha", f.smoothAlpha,
      "SmoothQuant migration strength in [0, 1], or auto (searched per layer "
      "on the "
      "calibration data); implies --smooth-activations (default 0.5)",
      "ALPHA|auto",
      [](StringRef text) -> std::optional<std::optional<double>> {
        double a;
        if (text == "auto")
          return std::optional<double>();
        if (text.getAsDouble(a) || !(a >= 0 && a <= 1))
          return std::nullopt;
        return std::optional<double>(a);
      },
      "is not a number in [0, 1] or auto");
  b.opt("narrow-ranges", o.calibration.narrowRanges,
        "Narrow each activation range to where its elementwise consumers "
        "change (a Conv's output into HardSwish starts at its -3; default "
        "false: the calibrated range as it is)");
  b.opt("equalize-layers", o.equalize,
        "Cross-layer equalization (Nagel et al.): constant Mul/Add after a "
        "convolution folded into it, and Conv -> [Relu] -> Conv pairs "
        "rescaled per channel so both layers' weight ranges match; the float "
        "function is unchanged");
  b.opt("rotate-hadamard", o.rotate,
        "Randomized Hadamard rotation of the linear layers' inputs (QuaRot), "
        "folded into the "
        "weights where possible; a transformer's residual stream is rotated "
        "offline "
        "(LayerNorms become RMSNorms)");
  b.opt("rotate-residual", o.rotateResidual,
        "With --rotate-hadamard: rotate the residual stream offline (default "
        "true); false "
        "rotates each linear input on its own (online after normalizations)");
  b.opt("rotation-search", o.rotationCandidates,
        "With --rotate-hadamard: try N rotations (seeds --rotation-seed, +1, "
        "...), each "
        "calibrated and quantized, and keep the one whose quantized outputs "
        "are closest to "
        "float on the calibration samples by --rotation-search-metric (default "
        "1: no search)");
  b.enumOpt("rotation-search-metric", o.rotationSearchMetric,
            "With --rotation-search: how candidates are scored (default mse)");
  b.opt("rotation-search-samples", o.rotationSearchSamples,
        "With --rotation-search: calibration samples each candidate is scored "
        "on (default 16)");
  b.opt("rotation-seed", o.rotationSeed, "Seed of the rotation's random signs");
  b.opt("emit-rewritten", o.emitRewrittenPath,
        "Write the float model after smoothing/rotation (MLIR), before "
        "quantization",
        "FILE.mlir");
  b.opt("task-labels", o.taskLabels,
        "The calibration samples' labels for the task metric "
        "(--sensitivity-metric task, "
        "--rotation-search-metric task): a .npz with one integer array named "
        "after the output "
        "it scores, [samples, output shape without its last axis] (negative: "
        "row not scored)",
        "FILE");
  b.alias("sensitivity-labels", "task-labels", "Alias for --task-labels");
  b.parsed<bool>(
      "bits", f.bitsAuto,
      "auto: choose each layer's weight (and, with --activation-formats, "
      "activation) bits by "
      "integer programming over measured sensitivities, under --size-budget / "
      "--bops-budget / "
      "--latency-budget",
      "auto",
      [](StringRef text) -> std::optional<bool> {
        if (text == "auto")
          return true;
        return std::nullopt;
      },
      "is not supported (auto; uniform widths are --weight-bits)");
  b.setGroup("bits-auto");
  b.parsed<std::optional<double>>(
      "size-budget", f.sizeBudget,
      "With --bits auto: the model's size (e.g. 1.2MB, 800KB, 250000)", "SIZE",
      given(parseQuantity),
      "is not a size (e.g. 1.2MB, 800KB, 250000)");
  b.parsed<std::optional<double>>(
      "bops-budget", f.bopsBudget,
      "With --bits auto: bit operations per run, sum of MACs x weight bits x "
      "activation bits "
      "(e.g. 3.5G)",
      "COUNT",
      given(parseQuantity),
      "is not a count (e.g. 3.5G, 1e9)");
  b.parsed<std::optional<double>>(
      "latency-budget", f.latencyBudget,
      "With --bits auto: the summed latency of the weight layers' products, as "
      "this machine's "
      "int8 kernels run them single-threaded (e.g. 2.5ms, 800us)",
      "DURATION",
      given(parseDuration),
      "is not a duration (e.g. 2.5ms, 800us, 0.01s)");
  b.list("weight-formats", f.weightFormats,
         "With --bits auto: candidate weight formats: integer bits (2-8) and "
         "minifloat formats (mxfp4, fp4_e2m1, fp8_e4m3, mxfp6_e2m3, ...; "
         "default 2,3,4,8)",
         "BITS|FORMAT", true);
  b.list(
      "activation-formats", f.activationFormats,
      "With --bits auto: candidate activation bits (2-8, 16) per quantized "
      "tensor (default 8)",
      "BITS", true);
  b.enumOpt(
      "sensitivity-metric", o.sensitivity.metric,
      "With --bits auto: what a layer's sensitivity measures (default mse)");
  b.opt("sensitivity-samples", o.sensitivity.samples,
        "With --bits auto: calibration samples per measurement");
  b.opt("sensitivity-cache", o.sensitivityCache,
        "With --bits auto: reuse the sensitivity table in FILE (JSON) if it "
        "matches, else "
        "measure and write it there",
        "FILE");
  b.list("pin", f.pins,
         "With --bits auto: hold layer NAME's weights at BITS (NAME=BITS)",
         "NAME=BITS");
  b.opt("pin-first-last", o.pinFirstLast,
        "With --bits auto: first and last weight layers at the widest format "
        "(default true)");
  b.enumOpt("bit-assignment", o.assignment,
            "With --bits auto: how the widths are chosen (default ilp)");
  b.setGroup("");
}

bool QuantizeFlags::enabled() const {
  return !options.calibrationData.empty() || !options.loadCalibration.empty();
}

Error QuantizeFlags::finish(const OptionsBinder &b, StringRef modelPath) {
  QuantizeOptions &o = options;
  if (Error e = b.verify())
    return e;
  if (!enabled()) {
    std::string flag = b.givenInGroup("needs-calibration");
    if (flag.empty())
      flag = b.givenInGroup("bits-auto");
    if (!flag.empty())
      return fail(flag + " needs --calibration-data (or --load-calibration)");
    return Error::success();
  }
  if (!weightFormats.empty()) {
    o.sensitivity.weightBits.clear();
    o.sensitivity.weightFormats.clear();
    for (const std::string &w : weightFormats) {
      unsigned bits = 0;
      std::optional<WeightFormat> f = symbolize<WeightFormat>(w);
      if (!llvm::StringRef(w).getAsInteger(10, bits)) {
        f = WeightFormat::Int;
      } else if (!f || *f == WeightFormat::Int) {
        return fail("--weight-formats: '" + w +
                    "' is neither a bit width nor a weight format (" +
                    spellingList<WeightFormat>() + ")");
      } else if (*f == WeightFormat::NVFP4) {
        return fail("--weight-formats: nvfp4 is not a per-layer candidate (its "
                    "tensor scale is not a layer scheme's); use "
                    "--weight-format nvfp4 for the whole model");
      } else {
        bits = formatBits(0, *f);
      }
      o.sensitivity.weightBits.push_back(bits);
      o.sensitivity.weightFormats.push_back(*f);
    }
  }
  if (!activationFormats.empty())
    o.sensitivity.activationBits = activationFormats;
  const CalibrationOptions &c = o.calibration;
  if (!(c.percentile > 50 && c.percentile <= 100))
    return fail("--percentile must be in (50, 100]");
  if (c.bins < 16 || c.bins > kMaxHistogramBins)
    return fail(llvm::formatv("--histogram-bins must be in [16, {0}], got {1}",
                              kMaxHistogramBins, c.bins));
  if (o.reconstructionSteps < 1 || o.reconstructionSteps > 100000)
    return fail(llvm::formatv("--reconstruction-steps must be in [1, 100000], "
                              "got {0}",
                              o.reconstructionSteps));
  if (!(o.gptqDamp > 0 && o.gptqDamp <= 1))
    return fail(
        llvm::formatv("--gptq-damp must be in (0, 1], got {0}", o.gptqDamp));
  if (o.weightBits < 2 || o.weightBits > 8)
    return fail("--weight-bits must be in [2, 8], got " +
                llvm::Twine(o.weightBits));
  if (!isActivationWidth(o.activationBits))
    return fail("--activation-bits must be in [2, 8] or 16, got " +
                llvm::Twine(o.activationBits));
  if (o.weightFormat != WeightFormat::Int) {
    // Flags that a minifloat format decides itself: its width, and for
    // the MX formats and NVFP4 its blocks and scales.
    std::string format = stringify(o.weightFormat).str();
    if (b.given("weight-bits"))
      return fail("--weight-bits does not apply to --weight-format " + format +
                  " (its width is the format's)");
    std::optional<MinifloatScheme> m = minifloatScheme(o.weightFormat);
    if (m && m->scale != MinifloatScheme::Scale::F32 &&
        b.given("weight-granularity"))
      return fail("--weight-granularity does not apply to --weight-format " +
                  format + " (blocks of " + llvm::Twine(m->block) +
                  " with their own scales)");
    if (o.weightGranularity.kind == WeightGranularity::Tensor)
      return fail("--weight-format " + format +
                  " takes a scale per channel or per block, not per tensor");
    if (bitsAuto)
      return fail("--weight-format " + format +
                  " with --bits auto: give the candidate formats with "
                  "--weight-formats (e.g. 4,8,mxfp4,fp8_e4m3)");
  } else if (b.given("block-scale")) {
    return fail("--block-scale applies to minifloat --weight-format only");
  }
  std::string bitsFlag = b.givenInGroup("bits-auto");
  if (!bitsFlag.empty() && !bitsAuto)
    return fail(bitsFlag + " needs --bits auto");
  o.bitsAuto = bitsAuto;
  o.budget.bytes = sizeBudget;
  o.budget.bops = bopsBudget;
  o.budget.latency = latencyBudget;
  if (bitsAuto && !sizeBudget && !bopsBudget && !latencyBudget)
    return fail(
        "--bits auto needs --size-budget, --bops-budget or --latency-budget");
  bool task = o.sensitivity.metric == SensitivityMetric::Task;
  if (task && o.taskLabels.empty())
    return fail("--sensitivity-metric task needs --task-labels");
  for (auto [j, bits] : llvm::enumerate(o.sensitivity.weightBits))
    if ((j >= o.sensitivity.weightFormats.size() ||
         o.sensitivity.weightFormats[j] == WeightFormat::Int) &&
        (bits < 2 || bits > 8))
      return fail("--weight-formats: " + llvm::Twine(bits) +
                  " bits is not in 2-8");
  for (unsigned bits : o.sensitivity.activationBits)
    if (!isActivationWidth(bits))
      return fail("--activation-formats: " + llvm::Twine(bits) +
                  " bits is not in 2-8 or 16");
  o.pins.clear();
  for (const std::string &p : pins) {
    auto [name, text] = StringRef(p).rsplit('=');
    unsigned bits;
    if (name.empty() || text.getAsInteger(10, bits) || bits < 2 || bits > 8)
      return fail("--pin '" + p + "' is not NAME=BITS with BITS in 2-8");
    o.pins.push_back({name.str(), bits});
  }
  bool dynamic = o.activationGranularity.isDynamic();
  if (dynamic && (o.activationBits > 8 ||
                  hasWideActivations(o.sensitivity.activationBits)))
    return fail("16-bit activations need --activation-granularity tensor "
                "(dynamic scales quantize to at most 8 bits)");
  if (dynamic && o.scope == QuantizeScope::All)
    return fail("--activation-granularity " +
                toString(o.activationGranularity) +
                " needs --quantize-scope linear or matmul (dynamic scales have "
                "no integer-only "
                "chain)");
  bool fp8Acts = activationType == ActivationType::FP8E4M3 ||
                 activationType == ActivationType::FP8E5M2;
  if (fp8Acts) {
    std::string name = stringify(activationType).str();
    if (dynamic)
      return fail("--activation-type " + name +
                  " takes a calibrated scale per tensor, not --activation-"
                  "granularity " +
                  toString(o.activationGranularity));
    if (b.given("activation-bits"))
      return fail("--activation-type " + name +
                  " is 8 bits: --activation-bits does not apply");
    if (!o.sensitivity.activationBits.empty() && b.given("activation-formats"))
      return fail("--activation-type " + name +
                  " with --activation-formats: the bit-width program chooses "
                  "integer activation widths only");
  }
  o.activationType = activationType;
  o.calibration.signedActivations = activationType != ActivationType::U8;
  // Dynamic scales are symmetric unless u8 is asked for explicitly.
  o.dynamicZeroPoints = dynamic && b.given("activation-type") &&
                        activationType == ActivationType::U8;
  o.smooth = smoothActivations || b.given("smooth-alpha");
  o.smoothAlphaAuto = b.given("smooth-alpha") && !smoothAlpha;
  o.smoothAlpha = smoothAlpha.value_or(0.5);
  o.biasCorrection = !noBiasCorrection;
  if (b.given("rotation-search") && !o.rotate)
    return fail("--rotation-search needs --rotate-hadamard");
  if (o.rotationCandidates == 0)
    return fail("--rotation-search must be at least 1");
  for (const char *flag : {"rotation-search-metric", "rotation-search-samples"})
    if (b.given(flag) && o.rotationCandidates < 2)
      return fail("--" + StringRef(flag) +
                  " needs --rotation-search N with N > 1");
  bool rotationTask = o.rotationSearchMetric == OutputMetric::Task;
  if (rotationTask && o.taskLabels.empty())
    return fail("--rotation-search-metric task needs --task-labels");
  if (o.rotationSearchSamples == 0)
    return fail("--rotation-search-samples must be at least 1");
  if (!o.taskLabels.empty() && !task && !rotationTask)
    return fail("--task-labels needs --sensitivity-metric task or "
                "--rotation-search-metric task");
  if (!o.emitRewrittenPath.empty() && !o.smooth && !o.rotate)
    return fail(
        "--emit-rewritten needs --smooth-activations or --rotate-hadamard");
  if (o.rotationCandidates > 1 && (o.smooth || o.bitsAuto))
    return fail(
        "--rotation-search cannot be combined with smoothing or --bits auto");
  if ((o.smooth || o.rotate) && !o.loadCalibration.empty())
    return fail(
        "--load-calibration cannot be combined with --smooth-activations or "
        "--rotate-hadamard: the rewrites calibrate the model again as they "
        "change it");
  if (roundsWithSecondMoments(o.weightRounding) && !o.loadCalibration.empty())
    return fail("--load-calibration cannot be combined with --weight-rounding " +
                stringify(o.weightRounding) +
                ": it needs the layers' input second moments, which "
                "calibration records in-process");
  for (const char *flag :
       {"attribution-samples", "attribution-mask", "attribution-steps"})
    if (b.given(flag) && o.attributionPath.empty())
      return fail("--" + StringRef(flag) + " needs --attribution");
  if (o.attribution.samples == 0)
    return fail("--attribution-samples must be at least 1");
  o.attribution.weightBits = o.weightBits;
  o.attribution.activationBits = o.activationBits;
  o.attribution.signedActivations = o.calibration.signedActivations;
  o.attribution.progress = true;
  o.calibration.progress = true;
  o.modelName = llvm::sys::path::filename(modelPath).str();
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

void qc::parseToolCommandLine(int argc, char **argv, StringRef overview) {
  std::vector<std::string> args(argv, argv + argc);
  for (std::string &a : args)
    for (StringRef spelling : {"--threads", "-threads"})
      if (StringRef(a) == spelling ||
          StringRef(a).starts_with((spelling + "=").str()))
        a = "--num-threads" + a.substr(spelling.size());
  std::vector<const char *> cargs;
  for (const std::string &a : args)
    cargs.push_back(a.c_str());
  llvm::cl::ParseCommandLineOptions(int(cargs.size()), cargs.data(), overview);
}

void qc::bindModelFlags(OptionsBinder &b, ModelFlags &f) {
  bindImportFlags(b, f.import);
  b.opt("target", f.targetName,
        "What the model runs on: cpu (default; --mcpu picks the CPU) or "
        "cuda[:sm_NN] (an NVIDIA GPU; default sm_90)",
        "cpu|cuda[:ARCH]");
  b.enumOpt("gpu-binary", f.gpuTarget.format,
            "With --target cuda: how the device code is embedded (default "
            "auto)");
  bindTargetOptions(b, f.target);
}

Error qc::parseAndVerify(int argc, char **argv, StringRef overview,
                         const OptionsBinder &b, ModelFlags &f) {
  parseToolCommandLine(argc, argv, overview);
  if (Error e = b.verify())
    return e;
  StringRef target = f.targetName;
  auto [kind, arch] = target.split(':');
  if (kind == "cuda") {
    f.gpu = true;
    if (Error e = cuda::parseChip(arch, f.gpuTarget))
      return fail("--target " + target + ": " + toString(std::move(e)));
  } else if (kind != "cpu" || target.contains(':')) {
    return fail("--target '" + target +
                "' is not a target: cpu or cuda[:sm_NN]");
  }
  return verifyTargetOptions(b, f.target);
}

llvm::json::Array qc::toJSON(llvm::ArrayRef<TensorSpec> specs) {
  llvm::json::Array out;
  for (const TensorSpec &t : specs)
    out.push_back(llvm::json::Object{{"name", t.name},
                                     {"dtype", dtypeName(t.dtype)},
                                     {"shape", llvm::json::Array(t.shape)}});
  return out;
}
