//===- quant-compile.cpp - ahead-of-time compilation of a model -----------===//
//
//   quant-compile MODEL.onnx|MODEL.mlir -o libmodel.so  (shared library)
//   quant-compile MODEL.onnx -c -o model.o               (object file)
//     [--input-shape NAME:DIMS]... [--constant-input NAME=FILE.pb]...
//     [--prefix NAME] [--header FILE.h] [--mcpu CPU] [--emit-llvm]
//     [--calibration-data DIR|file.npz [--samples N] [--calibration-method M]
//      [--weight-granularity channel|tensor|block:N] [--activation-type u8|i8]
//      [--no-bias-correction] [--report report.json] [--emit-qdq q.mlir]]
//
// With calibration data (or --load-calibration) the model is quantized to
// integer-only int8 (post-training, calibrated on the samples). A model that
// is quantized already (QDQ, as ONNX Runtime's quantize_static writes it)
// takes the same integer path unless --keep-qdq.
//
// Writes the library or object with the weights embedded as binary data,
// and a C header (next to it, .h) declaring the model's C API.
//
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/Transforms/Quantization.h"
#include "qc/Quantization/Quantize.h"
#include "qc/Target/CPU/Target.h"
#include "qc/Target/ONNX/Import.h"
#include "qc/Tools/CommandLine.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qc;

static cl::OptionCategory category("quant-compile options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx|model.mlir>"),
                                      cl::cat(category));
static cl::opt<std::string> outPath("o", cl::Required,
                                    cl::desc("Output .so (or .o with -c)"),
                                    cl::value_desc("FILE"), cl::cat(category));
static cl::opt<bool> objectOnly("c", cl::desc("Write an object file, not a shared library"),
                                cl::cat(category));
static cl::opt<bool> emitLLVM("emit-llvm", cl::desc("Write LLVM IR text instead"),
                              cl::cat(category));
static cl::list<std::string> inputShapes(
    "input-shape", cl::desc("Static shape of a graph input"),
    cl::value_desc("NAME:DIMS"), cl::cat(category));
static cl::list<std::string> constantInputs(
    "constant-input", cl::desc("Freeze a graph input to a TensorProto"),
    cl::value_desc("NAME=FILE.pb"), cl::cat(category));
static cl::opt<std::string> prefixOpt(
    "prefix", cl::desc("Prefix of the C API symbols (default: from -o, "
                       "libmodel.so -> model_run)"),
    cl::cat(category));
static cl::opt<std::string> headerPath("header", cl::desc("C header to write (default: -o with .h)"),
                                       cl::value_desc("FILE"), cl::cat(category));
static cl::opt<std::string> mcpu("mcpu", cl::desc("Target CPU (default: this host's)"),
                                 cl::init("native"), cl::cat(category));
// libLLVM registers its own "threads" option; --threads is renamed to this
// before parsing.
static cl::opt<unsigned> threads(
    "num-threads",
    cl::desc("Compile for N > 1 threads: OpenMP worksharing loops, the library "
             "linked to libomp (threads at run time: OMP_NUM_THREADS or "
             "omp_set_num_threads); --threads works too"),
    cl::init(1), cl::cat(category));
static cl::opt<std::string> int8Kernels(
    "int8-kernels",
    cl::desc("Kernels of int8 convolutions and matmuls: auto (AVX-512 VNNI where the "
             "target CPU has it, else generic), vnni, generic, or none (linalg loops); "
             "default: $QC_INT8_KERNELS, else auto"),
    cl::init(envOr("QC_INT8_KERNELS", "auto")), cl::cat(category));
static cl::opt<std::string> f32Kernels(
    "f32-kernels",
    cl::desc("Kernels of float 2-d convolutions and matmuls: auto (AVX-512 where the "
             "target CPU has it, else none), avx512, or none (linalg codegen); "
             "default: $QC_F32_KERNELS, else auto"),
    cl::init(envOr("QC_F32_KERNELS", "auto")), cl::cat(category));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level"),
                                  cl::init(3), cl::Prefix, cl::cat(category));

/// The CPU target's options from the flags above.
static Expected<cpu::TargetOptions> targetOptions() {
  cpu::TargetOptions t;
  t.cpu = mcpu;
  t.optLevel = optLevel;
  t.threads = threads;
  using I = cpu::Int8Kernels;
  using F = cpu::F32Kernels;
  std::optional<I> i8 = StringSwitch<std::optional<I>>(int8Kernels)
      .Case("auto", I::Auto).Case("vnni", I::VNNI).Case("generic", I::Generic)
      .Case("none", I::None).Default(std::nullopt);
  if (!i8)
    return createStringError(inconvertibleErrorCode(), "--int8-kernels must be auto, vnni, generic or none, not '" +
                             int8Kernels + "'");
  std::optional<F> f = StringSwitch<std::optional<F>>(f32Kernels)
      .Case("auto", F::Auto).Case("avx512", F::AVX512).Case("none", F::None)
      .Default(std::nullopt);
  if (!f)
    return createStringError(inconvertibleErrorCode(), "--f32-kernels must be auto, avx512 or none, not '" +
                             f32Kernels + "'");
  t.int8Kernels = *i8;
  t.f32Kernels = *f;
  if (Error e = cpu::resolveKernels(t))
    return std::move(e);
  return t;
}

static cl::OptionCategory quantCategory("quantization options");
static cl::opt<std::string> calibrationData(
    "calibration-data",
    cl::desc("Quantize to int8, calibrating on these samples: a directory of .npz "
             "(keys: input names), .npy (one input) or test_data_set_*/input_*.pb, "
             "or one .npz of stacked samples"),
    cl::value_desc("DIR|FILE.npz"), cl::cat(quantCategory));
static cl::opt<unsigned> samples("samples",
                                 cl::desc("Calibration samples (default: all; with --report "
                                          "a quarter is held out for evaluation)"),
                                 cl::init(0), cl::cat(quantCategory));
static cl::opt<unsigned> evalSamples("eval-samples",
                                     cl::desc("Held-out samples the report evaluates on "
                                              "(default: those after the calibration ones)"),
                                     cl::init(0), cl::cat(quantCategory));
static cl::opt<std::string> calibrationMethod(
    "calibration-method", cl::desc("minmax, percentile, mse or entropy"),
    cl::init("minmax"), cl::cat(quantCategory));
static cl::opt<double> percentile("percentile",
                                  cl::desc("Percentile of the percentile method"),
                                  cl::init(99.99), cl::cat(quantCategory));
static cl::opt<unsigned> bins("histogram-bins", cl::desc("Histogram bins per tensor"),
                              cl::init(2048), cl::cat(quantCategory));
static cl::opt<std::string> weightGranularity(
    "weight-granularity",
    cl::desc("Weight scales: channel (default), tensor, or block:N (per output channel and "
             "block of N along the reduction axis)"),
    cl::init("channel"), cl::cat(quantCategory));
static cl::opt<std::string> weightRounding(
    "weight-rounding",
    cl::desc("Weight rounding: auto (default: GPTQ for layers of 4 bits or fewer, else "
             "nearest), nearest, or gptq (GPTQ: each input row's rounding error compensated "
             "in the rows after it through the layer input's calibrated second moments; Gemm "
             "and MatMul layers)"),
    cl::init("auto"), cl::cat(quantCategory));
static cl::opt<std::string> bitsFlag(
    "bits",
    cl::desc("auto: choose each layer's weight (and, with --activation-formats, activation) "
             "bits by integer programming over measured sensitivities, under --size-budget / "
             "--bops-budget"),
    cl::cat(quantCategory));
static cl::opt<std::string> sizeBudget(
    "size-budget", cl::desc("With --bits auto: the model's size (e.g. 1.2MB, 800KB, 250000)"),
    cl::cat(quantCategory));
static cl::opt<std::string> bopsBudget(
    "bops-budget",
    cl::desc("With --bits auto: bit operations per run, sum of MACs x weight bits x "
             "activation bits (e.g. 3.5G)"),
    cl::cat(quantCategory));
static cl::opt<std::string> latencyBudget(
    "latency-budget",
    cl::desc("With --bits auto: the summed latency of the weight layers' products, as this "
             "machine's int8 kernels run them single-threaded (each layer timed in each "
             "weight format; e.g. 2.5ms, 800us)"),
    cl::cat(quantCategory));
static cl::list<unsigned> bitFormats(
    "weight-formats", cl::desc("With --bits auto: candidate weight bits (default 2,3,4,8)"),
    cl::CommaSeparated, cl::cat(quantCategory));
static cl::list<unsigned> activationFormats(
    "activation-formats",
    cl::desc("With --bits auto: candidate activation bits per layer input (default 8)"),
    cl::CommaSeparated, cl::cat(quantCategory));
static cl::opt<std::string> sensitivityMetric(
    "sensitivity-metric",
    cl::desc("With --bits auto: mse (default: outputs' relative squared error), kl (softmax "
             "of the outputs), task (increase of the cross-entropy of --task-labels) "
             "or layer (each layer's own output error from its input's second moments; no "
             "model runs)"),
    cl::init("mse"), cl::cat(quantCategory));
static cl::opt<unsigned> sensitivitySamples(
    "sensitivity-samples", cl::desc("With --bits auto: calibration samples per measurement"),
    cl::init(8), cl::cat(quantCategory));
static cl::opt<std::string> sensitivityCache(
    "sensitivity-cache",
    cl::desc("With --bits auto: reuse the sensitivity table in FILE (JSON) if it matches, "
             "else measure and write it there"),
    cl::value_desc("FILE"), cl::cat(quantCategory));
static cl::opt<std::string> taskLabels(
    "task-labels",
    cl::desc("The calibration samples' labels for the task metric (--sensitivity-metric task, "
             "--rotation-search-metric task): a .npz with one integer array named after the "
             "output it scores, [samples, output shape without its last axis], classes along "
             "that axis (negative: row not scored)"),
    cl::value_desc("FILE"), cl::cat(quantCategory));
static cl::alias sensitivityLabels("sensitivity-labels", cl::desc("Alias for --task-labels"),
                                   cl::aliasopt(taskLabels), cl::cat(quantCategory));
static cl::list<std::string> pins(
    "pin", cl::desc("With --bits auto: hold layer NAME's weights at BITS (NAME=BITS)"),
    cl::value_desc("NAME=BITS"), cl::cat(quantCategory));
static cl::opt<bool> pinFirstLast(
    "pin-first-last",
    cl::desc("With --bits auto: first and last weight layers at the widest format (default true)"),
    cl::init(true), cl::cat(quantCategory));
static cl::opt<std::string> assignmentMethod(
    "bit-assignment",
    cl::desc("With --bits auto: ilp (default, CBC) or greedy (the baseline: narrowest cost "
             "per byte first)"),
    cl::init("ilp"), cl::cat(quantCategory));
static cl::opt<std::string> activationTypeFlag(
    "activation-type",
    cl::desc("Activations: u8 (asymmetric, default) or i8 (symmetric). With "
             "--activation-granularity token or group:G the dynamic scales are symmetric "
             "unless u8 is given: then each row or group also gets a dynamic zero point"),
    cl::init("u8"), cl::cat(quantCategory));
static cl::opt<bool> noBiasCorrection("no-bias-correction",
                                      cl::desc("Do not correct biases for weight quantization"),
                                      cl::cat(quantCategory));
static cl::opt<std::string> saveCalibration("save-calibration",
                                            cl::desc("Write the calibration statistics (JSON)"),
                                            cl::value_desc("FILE"), cl::cat(quantCategory));
static cl::opt<std::string> loadCalibration("load-calibration",
                                            cl::desc("Quantize with saved statistics instead of "
                                                     "running calibration"),
                                            cl::value_desc("FILE"), cl::cat(quantCategory));
static cl::opt<std::string> emitQDQ("emit-qdq",
                                    cl::desc("Also write the quantized model in QDQ form (MLIR; "
                                             "quant-translate --export-onnx-qdq makes it ONNX)"),
                                    cl::value_desc("FILE.mlir"), cl::cat(quantCategory));
static cl::opt<bool> keepQDQ("keep-qdq",
                             cl::desc("Run a QDQ model's quantize/dequantize pairs around float "
                                      "ops as they are (fake quantization) instead of rewriting "
                                      "them to integer ops"),
                             cl::cat(quantCategory));
static cl::opt<std::string> reportPath("report",
                                       cl::desc("Quality report (JSON, and markdown beside it): "
                                                "per-tensor scales and SQNR, outputs against float"),
                                       cl::value_desc("FILE.json"), cl::cat(quantCategory));
static cl::opt<unsigned> weightBits("weight-bits",
                                  cl::desc("Weight bits, 2-8 (symmetric, stored in int8)"),
                                  cl::init(8), cl::cat(quantCategory));
static cl::opt<unsigned> activationBits("activation-bits",
                                      cl::desc("Activation bits, 2-8 (stored in 8-bit integers)"),
                                      cl::init(8), cl::cat(quantCategory));
static cl::opt<std::string> quantizeScope(
    "quantize-scope",
    cl::desc("all (default): integer-only chains, every activation between quantizable ops "
             "quantized; linear: only the inputs of Conv, Gemm and MatMul layers with weights "
             "(integer products, float results; attention's products, residuals and "
             "normalizations stay float); matmul: as linear, convolutions float too"),
    cl::init("all"), cl::cat(quantCategory));
static cl::opt<std::string> activationGranularity(
    "activation-granularity",
    cl::desc("tensor (default): a calibrated scale per activation; token: a dynamic "
             "symmetric scale per row of each linear layer's input (with --quantize-scope "
             "linear; int8 x int8 products scaled per row); group:G: a dynamic symmetric "
             "scale per G consecutive channels of each row (int8 products per group, scaled "
             "and summed in float; rows G does not divide get a scale per row)"),
    cl::init("tensor"), cl::cat(quantCategory));
static cl::opt<bool> smoothActivations(
    "smooth-activations",
    cl::desc("SmoothQuant: migrate activation outliers into the weights of linear layers "
             "read from a LayerNorm or linear layer (calibrates twice)"),
    cl::cat(quantCategory));
static cl::opt<std::string> smoothAlpha(
    "smooth-alpha",
    cl::desc("SmoothQuant migration strength in [0, 1], or auto (searched per layer on the "
             "calibration data); implies --smooth-activations (default 0.5)"),
    cl::init("0.5"), cl::cat(quantCategory));
static cl::opt<bool> rotateHadamard(
    "rotate-hadamard",
    cl::desc("Randomized Hadamard rotation of the linear layers' inputs (QuaRot), folded "
             "into the weights where possible; a transformer's residual stream is rotated "
             "offline (LayerNorms become RMSNorms)"),
    cl::cat(quantCategory));
static cl::opt<bool> rotateResidual(
    "rotate-residual",
    cl::desc("With --rotate-hadamard: rotate the residual stream offline (default true); "
             "false rotates each linear input on its own (online after normalizations)"),
    cl::init(true), cl::cat(quantCategory));
static cl::opt<unsigned> rotationSearch(
    "rotation-search",
    cl::desc("With --rotate-hadamard: try N rotations (seeds --rotation-seed, +1, ...), each "
             "calibrated and quantized, and keep the one whose quantized outputs are closest "
             "to float on the calibration samples by --rotation-search-metric (default 1: no "
             "search)"),
    cl::init(1), cl::cat(quantCategory));
static cl::opt<std::string> rotationSearchMetric(
    "rotation-search-metric",
    cl::desc("With --rotation-search: mse (default: the outputs' relative squared error), kl "
             "(KL divergence of the softmax of the outputs' rows from float's) or task "
             "(cross-entropy of --task-labels)"),
    cl::init("mse"), cl::cat(quantCategory));
static cl::opt<unsigned> rotationSearchSamples(
    "rotation-search-samples",
    cl::desc("With --rotation-search: calibration samples each candidate is scored on "
             "(default 16)"),
    cl::init(16), cl::cat(quantCategory));
static cl::opt<uint64_t> rotationSeed("rotation-seed",
                                      cl::desc("Seed of the rotation's random signs"),
                                      cl::init(0), cl::cat(quantCategory));
static cl::opt<std::string> emitRewritten(
    "emit-rewritten",
    cl::desc("Write the float model after smoothing/rotation (MLIR), before quantization"),
    cl::value_desc("FILE.mlir"), cl::cat(quantCategory));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "quant-compile") << msg << "\n";
  std::exit(1);
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&category, &quantCategory});
  parseToolCommandLine(argc, argv, "quant-compile: compile a model to native code\n");
  if (threads == 0)
    die("--threads must be at least 1");
  ONNXImportOptions options;
  std::string error;
  if (failed(parseImportOptions(inputShapes, constantInputs, options, error)))
    die(error);
  std::string prefix = prefixOpt.empty() ? cpu::prefixFromPath(outPath) : prefixOpt.getValue();

  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  cpu::registerDialects(context);
  bool quantize = !calibrationData.empty() || !loadCalibration.empty();
  if (!quantize) {
    for (cl::Option *opt : {(cl::Option *)&samples, (cl::Option *)&reportPath,
                            (cl::Option *)&emitQDQ, (cl::Option *)&saveCalibration,
                            (cl::Option *)&evalSamples, (cl::Option *)&weightBits,
                            (cl::Option *)&activationBits, (cl::Option *)&smoothActivations,
                            (cl::Option *)&smoothAlpha, (cl::Option *)&rotateHadamard,
                            (cl::Option *)&rotateResidual, (cl::Option *)&rotationSearch,
                            (cl::Option *)&rotationSearchMetric,
                            (cl::Option *)&rotationSearchSamples,
                            (cl::Option *)&emitRewritten, (cl::Option *)&quantizeScope, (cl::Option *)&taskLabels,
                            (cl::Option *)&activationGranularity,
                            (cl::Option *)&weightRounding, (cl::Option *)&bitsFlag})
      if (opt->getNumOccurrences())
        die("--" + opt->ArgStr + " needs --calibration-data (or --load-calibration)");
  }
  if (!isCalibrationMethod(calibrationMethod))
    die("unknown --calibration-method '" + calibrationMethod +
        "' (minmax, percentile, mse or entropy)");
  if (activationTypeFlag != "u8" && activationTypeFlag != "i8")
    die("unknown --activation-type '" + activationTypeFlag + "' (u8 or i8)");
  if (weightGranularity != "channel" && weightGranularity != "tensor" &&
      !weightBlockSize(weightGranularity))
    die("--weight-granularity '" + weightGranularity +
        "' is not supported (channel, tensor or block:N with N >= 1, e.g. block:64)");
  if (!(percentile > 50 && percentile <= 100))
    die("--percentile must be in (50, 100]");
  if (bins < 16)
    die("--histogram-bins must be at least 16");
  if (weightBits < 2 || weightBits > 8)
    die("--weight-bits must be in [2, 8], got " + Twine(weightBits));
  if (activationBits < 2 || activationBits > 8)
    die("--activation-bits must be in [2, 8], got " + Twine(activationBits));
  if (quantizeScope != "all" && quantizeScope != "linear" && quantizeScope != "matmul")
    die("unknown --quantize-scope '" + quantizeScope + "' (all, linear or matmul)");
  if (weightRounding != "nearest" && weightRounding != "gptq" && weightRounding != "auto")
    die("unknown --weight-rounding '" + weightRounding + "' (auto, nearest or gptq)");
  std::optional<double> sizeBytes, bops;
  if (!bitsFlag.empty() && bitsFlag != "auto")
    die("unknown --bits '" + bitsFlag + "' (auto; uniform widths are --weight-bits)");
  bool bitsAuto = bitsFlag == "auto";
  for (cl::Option *opt : {(cl::Option *)&sizeBudget, (cl::Option *)&bopsBudget,
                          (cl::Option *)&latencyBudget, (cl::Option *)&bitFormats,
                          (cl::Option *)&activationFormats, (cl::Option *)&sensitivityMetric,
                          (cl::Option *)&sensitivitySamples, (cl::Option *)&sensitivityCache,
                          (cl::Option *)&pins,
                          (cl::Option *)&pinFirstLast,
                          (cl::Option *)&assignmentMethod})
    if (opt->getNumOccurrences() && !bitsAuto)
      die("--" + opt->ArgStr + " needs --bits auto");
  std::optional<double> latency;
  if (!latencyBudget.empty()) {
    StringRef text = StringRef(latencyBudget).trim();
    double unit = text.consume_back("us") ? 1e-6 : text.consume_back("ms") ? 1e-3
                  : text.consume_back("s") ? 1.0 : 0.0;
    double v;
    if (!unit || text.trim().getAsDouble(v) || !(v > 0) || !std::isfinite(v))
      die("--latency-budget '" + latencyBudget + "' is not a duration (e.g. 2.5ms, 800us, 0.01s)");
    latency = v * unit;
  }
  if (!sizeBudget.empty() && !(sizeBytes = parseQuantity(sizeBudget)))
    die("--size-budget '" + sizeBudget + "' is not a size (e.g. 1.2MB, 800KB, 250000)");
  if (!bopsBudget.empty() && !(bops = parseQuantity(bopsBudget)))
    die("--bops-budget '" + bopsBudget + "' is not a count (e.g. 3.5G, 1e9)");
  if (bitsAuto && !sizeBytes && !bops && !latency)
    die("--bits auto needs --size-budget, --bops-budget or --latency-budget");
  if (!isSensitivityMetric(sensitivityMetric))
    die("unknown --sensitivity-metric '" + sensitivityMetric + "' (mse, kl, task or layer)");
  if (sensitivityMetric == "task" && taskLabels.empty())
    die("--sensitivity-metric task needs --task-labels");
  if (assignmentMethod != "ilp" && assignmentMethod != "greedy")
    die("unknown --bit-assignment '" + assignmentMethod + "' (ilp or greedy)");
  for (unsigned b : bitFormats)
    if (b < 2 || b > 8)
      die("--weight-formats: " + std::to_string(b) + " bits is not in 2-8");
  for (unsigned b : activationFormats)
    if (b < 2 || b > 8)
      die("--activation-formats: " + std::to_string(b) + " bits is not in 2-8");
  std::vector<std::pair<std::string, unsigned>> pinned;
  for (const std::string &p : pins) {
    StringRef name, bits;
    std::tie(name, bits) = StringRef(p).rsplit('=');
    unsigned b;
    if (name.empty() || bits.getAsInteger(10, b) || b < 2 || b > 8)
      die("--pin '" + p + "' is not NAME=BITS with BITS in 2-8");
    pinned.push_back({name.str(), b});
  }
  bool dynamicActivations =
      activationGranularity == "token" || qc::activationGroupSize(activationGranularity);
  if (activationGranularity != "tensor" && !dynamicActivations)
    die("unknown --activation-granularity '" + activationGranularity +
        "' (tensor, token or group:G with G >= 1)");
  if (dynamicActivations && quantizeScope == "all")
    die("--activation-granularity " + activationGranularity +
        " needs --quantize-scope linear or matmul (dynamic scales have no integer-only chain)");
  bool smooth = smoothActivations || smoothAlpha.getNumOccurrences();
  double alpha = 0.5;
  if (smoothAlpha != "auto" &&
      (StringRef(smoothAlpha).getAsDouble(alpha) || !(alpha >= 0 && alpha <= 1)))
    die("--smooth-alpha must be a number in [0, 1] or auto, got '" + smoothAlpha + "'");
  if (rotationSearch.getNumOccurrences() && !rotateHadamard)
    die("--rotation-search needs --rotate-hadamard");
  if (rotationSearch == 0)
    die("--rotation-search must be at least 1");
  if ((rotationSearchMetric.getNumOccurrences() || rotationSearchSamples.getNumOccurrences()) &&
      rotationSearch < 2)
    die(std::string(rotationSearchMetric.getNumOccurrences() ? "--rotation-search-metric"
                                                             : "--rotation-search-samples") +
        " needs --rotation-search N with N > 1");
  if (rotationSearchMetric != "mse" && rotationSearchMetric != "kl" &&
      rotationSearchMetric != "task")
    die("unknown --rotation-search-metric '" + rotationSearchMetric + "' (mse, kl or task)");
  if (rotationSearchMetric == "task" && taskLabels.empty())
    die("--rotation-search-metric task needs --task-labels");
  if (rotationSearchSamples == 0)
    die("--rotation-search-samples must be at least 1");
  if (!taskLabels.empty() && sensitivityMetric != "task" && rotationSearchMetric != "task")
    die("--task-labels needs --sensitivity-metric task or --rotation-search-metric task");
  if (!emitRewritten.empty() && !smooth && !rotateHadamard)
    die("--emit-rewritten needs --smooth-activations or --rotate-hadamard");

  mlir::OwningOpRef<mlir::ModuleOp> module = loadModel(modelPath, options, &context);
  if (!module)
    return 1;
  if (quantize) {
    QuantizeOptions q;
    q.calibrationData = calibrationData;
    q.samples = samples;
    q.evalSamples = evalSamples;
    q.calibration.method = calibrationMethod;
    q.calibration.percentile = percentile;
    q.calibration.bins = bins;
    q.calibration.signedActivations = activationTypeFlag == "i8";
    q.dynamicZeroPoints = dynamicActivations && activationTypeFlag.getNumOccurrences() &&
                          activationTypeFlag == "u8";
    q.calibration.progress = true;
    q.weightGranularity = weightGranularity;
    q.weightRounding = weightRounding;
    q.bitsAuto = bitsAuto;
    q.budget.bytes = sizeBytes;
    q.budget.bops = bops;
    q.budget.latency = latency;
    if (!bitFormats.empty())
      q.sensitivity.weightBits.assign(bitFormats.begin(), bitFormats.end());
    if (!activationFormats.empty())
      q.sensitivity.activationBits.assign(activationFormats.begin(), activationFormats.end());
    q.sensitivity.metric = sensitivityMetric;
    q.sensitivity.samples = sensitivitySamples;
    q.sensitivityCache = sensitivityCache;
    q.taskLabels = taskLabels;
    q.pins = pinned;
    q.pinFirstLast = pinFirstLast;
    q.assignment = assignmentMethod;
    q.biasCorrection = !noBiasCorrection;
    q.saveCalibration = saveCalibration;
    q.loadCalibration = loadCalibration;
    q.reportPath = reportPath;
    q.emitQDQPath = emitQDQ;
    q.modelName = sys::path::filename(modelPath).str();
    q.weightBits = weightBits;
    q.scope = quantizeScope;
    q.activationGranularity = activationGranularity;
    q.activationBits = activationBits;
    q.smooth = smooth;
    q.smoothAlphaAuto = smoothAlpha == "auto";
    q.smoothAlpha = alpha;
    q.rotate = rotateHadamard;
    q.rotationSeed = rotationSeed;
    q.rotationCandidates = rotationSearch;
    q.rotationSearchMetric = rotationSearchMetric;
    q.rotationSearchSamples = rotationSearchSamples;
    q.rotateResidual = rotateResidual;
    q.emitRewrittenPath = emitRewritten;
    if (Error e = quantizeModel(*module, q, outs()))
      die(toString(std::move(e)));
  } else if (!keepQDQ && hasQuantizeDequantize(*module)) {
    // A model quantized elsewhere (QDQ): the same integer path.
    if (Error e = lowerQuantizeDequantize(*module))
      die(toString(std::move(e)));
  }
  Expected<cpu::TargetOptions> target = targetOptions();
  if (!target)
    die(toString(target.takeError()));
  FailureOr<ModelSignature> sig = cpu::lowerToLLVM(*module, "main_graph", *target);
  if (failed(sig))
    return 1;
  auto tm = cpu::createTargetMachine(*target, /*jit=*/false);
  if (!tm)
    die(toString(tm.takeError()));
  LLVMContext llvmContext;
  std::unique_ptr<Module> llvmModule =
      cpu::translateToLLVMIR(*module, *sig, prefix, llvmContext);
  if (!llvmModule)
    return 1;
  if (Error e = cpu::optimizeModule(*llvmModule, **tm, optLevel))
    die(toString(std::move(e)));
  Error emitted = emitLLVM     ? cpu::emitLLVMIR(*llvmModule, outPath)
                  : objectOnly ? cpu::emitObject(*llvmModule, **tm, outPath)
                               : cpu::emitSharedLibrary(*llvmModule, **tm, outPath, threads);
  if (emitted)
    die(toString(std::move(emitted)));

  SmallString<256> header(headerPath.empty() ? StringRef(outPath) : StringRef(headerPath));
  if (headerPath.empty())
    sys::path::replace_extension(header, ".h");
  std::error_code ec;
  raw_fd_ostream os(header, ec);
  if (ec)
    die("cannot write '" + header + "': " + ec.message());
  os << cpu::generateHeader(*sig, prefix);
  return 0;
}
