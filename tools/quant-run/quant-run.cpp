//===- quant-run.cpp - run a model (JIT or compiled .so) on tensor files ---===//
//
//   quant-run MODEL.onnx|MODEL.mlir|libMODEL.so [--input-shape NAME:DIMS]...
//             -i [NAME=]FILE.npy|.npz|.pb ... [-o OUTDIR]
//             [--expected [NAME=]FILE]... [--rtolOpt R] [--atolOpt A]
//             [--repeat N] [--warmup W] [--threads T] [--test-data DIR]
//
// Any failure (unreadable file, missing input, shape or dtype mismatch,
// output beyond tolerance) ends with a one-line reason and a non-zero exit.
//
//===----------------------------------------------------------------------===//
#include "qc/Runtime/Model.h"
#include "qc/Target/CPU/Target.h"
#include "qc/Target/ONNX/Import.h"
#include "qc/Tools/CommandLine.h"
#include "qc/Runtime/HostTensor.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <malloc.h>
#include <map>

using namespace llvm;
using namespace qc;

static cl::OptionCategory category("quant-run options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx|model.mlir|lib.so>"),
                                      cl::cat(category));
static cl::list<std::string> inputSpecs(
    "i", cl::desc("Input tensor: [NAME=]FILE (.npy, .npz, .pb); unnamed ones "
                  "bind by the name stored in the file, else in order"),
    cl::value_desc("[NAME=]FILE"), cl::cat(category));
static cl::alias inputAlias("input", cl::aliasopt(inputSpecs));
static cl::list<std::string> inputShapes(
    "input-shape", cl::desc("Static shape of a graph input, NAME:1x3x224x224 "
                            "(default: the shape of its input file)"),
    cl::value_desc("NAME:DIMS"), cl::cat(category));
static cl::list<std::string> constantInputs(
    "constant-input", cl::desc("Freeze a graph input to a TensorProto"),
    cl::value_desc("NAME=FILE.pb"), cl::cat(category));
static cl::opt<std::string> outDir("o", cl::desc("Write outputs as OUTDIR/<output name>.npy"),
                                   cl::value_desc("OUTDIR"), cl::cat(category));
static cl::list<std::string> expectedSpecs(
    "expected", cl::desc("Expected output: [NAME=]FILE"),
    cl::value_desc("[NAME=]FILE"), cl::cat(category));
static cl::opt<double> rtolOpt("rtol", cl::desc("Relative tolerance (floats)"),
                            cl::init(1e-3), cl::cat(category));
static cl::opt<double> atolOpt("atol", cl::desc("Absolute tolerance (floats)"),
                            cl::init(1e-4), cl::cat(category));
static cl::opt<unsigned> repeat("repeat", cl::desc("Time N runs (after warm-up)"),
                                cl::init(0), cl::cat(category));
static cl::opt<unsigned> warmup("warmup", cl::desc("Untimed runs before timing"),
                                cl::init(3), cl::cat(category));
// libLLVM registers its own "threads" option; --threads is renamed to this
// before parsing.
static cl::opt<unsigned> threads("num-threads", cl::desc("Threads (OpenMP; a .so must be compiled with quant-compile --threads); --threads works too"),
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
static cl::opt<std::string> testData(
    "test-data", cl::desc("An ONNX backend test data set directory: its "
                          "input_*.pb are the inputs, output_*.pb the expected outputs"),
    cl::value_desc("DIR"), cl::cat(category));
static cl::opt<std::string> prefixOpt(
    "prefix", cl::desc("C API prefix of a .so (default: from its file name)"),
    cl::cat(category));
static cl::opt<std::string> mcpu("mcpu", cl::desc("JIT target CPU"),
                                 cl::init("native"), cl::cat(category));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "quant-run") << msg << "\n";
  std::exit(1);
}

static HostTensor orDie(Expected<HostTensor> t) {
  if (!t)
    die(toString(t.takeError()));
  return std::move(*t);
}

/// A tensor given on the command line, with the name it binds to ("" when
/// it binds by position).
struct Given {
  std::string name;
  HostTensor tensor;
};

/// Reads "[NAME=]FILE"; a .npz without a name gives all its arrays.
static void readSpec(StringRef spec, std::vector<Given> &out) {
  std::string name, path = spec.str();
  if (!sys::fs::exists(spec) && spec.contains('=')) {
    auto [n, p] = spec.split('=');
    name = n.str();
    path = p.str();
  }
  if (sys::path::extension(path) == ".npz" && name.empty()) {
    auto all = readNpz(path);
    if (!all)
      die(toString(all.takeError()));
    for (HostTensor &t : *all)
      out.push_back({t.name, std::move(t)});
    return;
  }
  HostTensor t = orDie(readTensorFile(path));
  out.push_back({name, std::move(t)});
}

/// The files of `dir` named `stem`_<k>.pb, in order of k.
static std::vector<std::string> numberedFiles(StringRef dir, StringRef stem) {
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    StringRef file = sys::path::filename(it->path());
    int k;
    if (file.consume_front((stem + "_").str()) && file.consume_back(".pb") &&
        !file.getAsInteger(10, k))
      found.push_back({k, it->path()});
  }
  if (ec)
    die("cannot read test data directory '" + dir + "': " + ec.message());
  llvm::sort(found);
  std::vector<std::string> paths;
  for (auto &f : found)
    paths.push_back(f.second);
  return paths;
}

/// Binds given tensors to the spec names: explicit names first, then a
/// tensor's own name when it is one of `specs`, then by position.
static std::vector<HostTensor *> bindTensors(std::vector<Given> &given,
                                      ArrayRef<TensorSpec> specs,
                                      StringRef kind, bool required) {
  std::vector<HostTensor *> bound(specs.size(), nullptr);
  auto indexOf = [&](StringRef name) -> int {
    for (auto [i, s] : llvm::enumerate(specs))
      if (s.name == name)
        return int(i);
    return -1;
  };
  std::string names;
  for (auto &s : specs)
    names += (names.empty() ? "" : ", ") + s.name;
  std::vector<Given *> unnamed;
  for (Given &g : given) {
    StringRef name = !g.name.empty() ? StringRef(g.name) : StringRef(g.tensor.name);
    int i = indexOf(name);
    if (i < 0 && !g.name.empty())
      die("the model has no " + kind + " named '" + g.name + "' (its " + kind +
          "s: " + names + ")");
    if (i < 0) {
      unnamed.push_back(&g);
      continue;
    }
    if (bound[i])
      die(kind + " '" + name + "' is given twice");
    bound[i] = &g.tensor;
  }
  size_t next = 0;
  for (Given *g : unnamed) {
    while (next < bound.size() && bound[next])
      ++next;
    if (next == bound.size())
      die("more " + kind + " files than the model has " + kind + "s (" + names + ")");
    bound[next] = &g->tensor;
  }
  for (auto [i, t] : llvm::enumerate(bound)) {
    if (t)
      t->name = specs[i].name;
    else if (required)
      die("missing " + kind + " '" + specs[i].name + "' (give -i " +
          specs[i].name + "=FILE)");
  }
  return bound;
}

/// The graph function's input names and types, before lowering.
static std::vector<std::pair<std::string, mlir::RankedTensorType>>
graphInputs(mlir::ModuleOp module) {
  std::vector<std::pair<std::string, mlir::RankedTensorType>> result;
  auto fn = module.lookupSymbol<mlir::func::FuncOp>("main_graph");
  if (!fn)
    return result;
  auto names = fn->getAttrOfType<mlir::ArrayAttr>("qc.input_names");
  for (auto [i, t] : llvm::enumerate(fn.getArgumentTypes())) {
    std::string name = "input" + std::to_string(i);
    if (names && i < names.size())
      name = cast<mlir::StringAttr>(names[i]).str();
    result.push_back({name, dyn_cast<mlir::RankedTensorType>(t)});
  }
  return result;
}

/// The CPU target's options from the flags above.
static Expected<cpu::TargetOptions> targetOptions() {
  cpu::TargetOptions t;
  t.cpu = mcpu;
  t.threads = threads;
  using I = cpu::Int8Kernels;
  using F = cpu::F32Kernels;
  std::optional<I> i8 = StringSwitch<std::optional<I>>(int8Kernels)
      .Case("auto", I::Auto).Case("vnni", I::VNNI).Case("generic", I::Generic)
      .Case("none", I::None).Default(std::nullopt);
  if (!i8)
    return createStringError(inconvertibleErrorCode(),
                             "--int8-kernels must be auto, vnni, generic or none, not '" +
                                 int8Kernels + "'");
  std::optional<F> f = StringSwitch<std::optional<F>>(f32Kernels)
      .Case("auto", F::Auto).Case("avx512", F::AVX512).Case("none", F::None)
      .Default(std::nullopt);
  if (!f)
    return createStringError(inconvertibleErrorCode(),
                             "--f32-kernels must be auto, avx512 or none, not '" +
                                 f32Kernels + "'");
  t.int8Kernels = *i8;
  t.f32Kernels = *f;
  if (Error e = cpu::resolveKernels(t))
    return std::move(e);
  return t;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  parseToolCommandLine(argc, argv, "quant-run: run a model on tensor files\n");
  if (threads == 0)
    die("--threads must be at least 1");

  // Compiled models malloc their intermediate tensors on each run; keep
  // freed memory in the heap instead of returning large blocks to the kernel
  // (mmap/munmap and page faults every run), as an arena allocator would.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);

  std::vector<Given> inputs, expected;
  for (const std::string &spec : inputSpecs)
    readSpec(spec, inputs);
  for (const std::string &spec : expectedSpecs)
    readSpec(spec, expected);
  if (!testData.empty()) {
    for (const std::string &p : numberedFiles(testData, "input"))
      inputs.push_back({"", orDie(readTensorProto(p))});
    for (const std::string &p : numberedFiles(testData, "output"))
      expected.push_back({"", orDie(readTensorProto(p))});
  }

  // Inputs frozen with --constant-input are no longer graph inputs: files
  // for them (a backend test's data set holds all inputs) are dropped.
  llvm::erase_if(inputs, [](const Given &g) {
    StringRef name = g.name.empty() ? StringRef(g.tensor.name) : StringRef(g.name);
    return llvm::any_of(constantInputs, [&](const std::string &spec) {
      return !name.empty() && StringRef(spec).split('=').first == name;
    });
  });
  // ONNX keeps bfloat16 test data as uint16 bit patterns.
  auto asBFloat16 = [](HostTensor *t, DType want) {
    if (t && want == DType::BFloat16 && t->dtype == DType::UInt16)
      t->dtype = DType::BFloat16;
  };

  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  std::unique_ptr<Model> model;
  if (sys::path::extension(modelPath) == ".so") {
    if (!inputShapes.empty() || !constantInputs.empty())
      die("--input-shape and --constant-input apply when compiling; a .so has "
          "fixed shapes");
    std::string prefix = prefixOpt.empty() ? cpu::prefixFromPath(modelPath) : prefixOpt;
    auto loaded = Model::load(modelPath, prefix);
    if (!loaded)
      die(toString(loaded.takeError()));
    model = std::move(*loaded);
    if (Error e = model->setThreads(threads))
      die(toString(std::move(e)));
  } else {
    cpu::registerDialects(context);
    ONNXImportOptions options;
    std::string error;
    if (failed(parseImportOptions(inputShapes, constantInputs, options, error)))
      die(error);
    // Inputs without --input-shape take the shapes of their files: the
    // input names come from the model (or, for .mlir, its function).
    std::vector<std::string> inputNames;
    if (sys::path::extension(modelPath) == ".mlir") {
      mlir::OwningOpRef<mlir::ModuleOp> probe = loadModel(modelPath, options, &context);
      if (!probe)
        return 1;
      for (auto &in : graphInputs(*probe))
        inputNames.push_back(in.first);
    } else {
      auto buf = MemoryBuffer::getFile(modelPath, /*IsText=*/false);
      if (!buf)
        die("cannot read '" + modelPath + "': " + buf.getError().message());
      // A file that is no ONNX model is reported by the import below.
      if (failed(readONNXInputNames((*buf)->getBuffer(), inputNames)))
        inputNames.clear();
    }
    std::vector<TensorSpec> names;
    for (auto &name : inputNames)
      names.push_back({name, DType::Float, {}});
    std::vector<Given> probe;
    for (Given &g : inputs)
      probe.push_back({g.name, HostTensor{g.tensor.name, g.tensor.dtype, g.tensor.shape, {}}});
    std::vector<HostTensor *> files;
    if (!inputNames.empty())
      files = bindTensors(probe, names, "input", /*required=*/false);
    for (auto [i, name] : llvm::enumerate(inputNames)) {
      if (options.constantInputs.count(name))
        continue;
      if (!files[i])
        die("missing input '" + name + "' (give -i " + name + "=FILE)");
      if (!options.inputShapes.count(name))
        options.inputShapes[name] = files[i]->shape;
    }
    mlir::OwningOpRef<mlir::ModuleOp> module = loadModel(modelPath, options, &context);
    if (!module)
      return 1;
    Expected<cpu::TargetOptions> target = targetOptions();
    if (!target)
      die(toString(target.takeError()));
    FailureOr<ModelSignature> sig = cpu::lowerToLLVM(*module, "main_graph", *target);
    if (failed(sig))
      return 1;
    auto jitted = Model::jit(*module, *sig, *target);
    if (!jitted)
      die(toString(jitted.takeError()));
    model = std::move(*jitted);
  }

  const ModelSignature &sig = model->signature();
  std::vector<HostTensor *> in = bindTensors(inputs, sig.inputs, "input", /*required=*/true);
  std::vector<QCTensor> inArgs, outArgs;
  for (auto [i, t] : llvm::enumerate(in)) {
    const TensorSpec &spec = sig.inputs[i];
    asBFloat16(t, spec.dtype);
    if (t->dtype != spec.dtype)
      die("input '" + spec.name + "' is " + dtypeName(t->dtype) +
          " but the model takes " + dtypeName(spec.dtype));
    if (t->shape != spec.shape)
      die("input '" + spec.name + "' has shape " + formatShape(t->shape) +
          " but the model was compiled for " + formatShape(spec.shape));
    inArgs.push_back({t->data.data(), t->shape.data(), int32_t(t->shape.size()),
                      int32_t(t->dtype)});
  }
  std::vector<HostTensor> outputs(sig.outputs.size());
  for (auto [i, spec] : llvm::enumerate(sig.outputs)) {
    HostTensor &t = outputs[i];
    t.name = spec.name;
    t.dtype = spec.dtype;
    t.shape = spec.shape;
    t.data.assign(spec.numElements() * dtypeSize(spec.dtype), 0);
    outArgs.push_back({t.data.data(), t.shape.data(), int32_t(t.shape.size()),
                       int32_t(t.dtype)});
  }
  auto runOnce = [&] {
    if (int32_t rc = model->run(inArgs.data(), outArgs.data()))
      die("the model rejected argument " + Twine(rc - 1) +
          " (dtype or shape differs from the compiled signature)");
  };
  runOnce();
  if (repeat > 0) {
    for (unsigned i = 0; i < warmup; ++i)
      runOnce();
    std::vector<double> ms;
    for (unsigned i = 0; i < repeat; ++i) {
      auto start = std::chrono::steady_clock::now();
      runOnce();
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms.size() % 2 ? ms[ms.size() / 2]
                                  : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    outs() << format("median_ms=%.4f min_ms=%.4f max_ms=%.4f", median,
                     ms.front(), ms.back())
           << " runs=" << repeat << " warmup=" << warmup << "\n";
  }

  if (!outDir.empty()) {
    if (std::error_code ec = sys::fs::create_directories(outDir))
      die("cannot create '" + outDir + "': " + ec.message());
    for (HostTensor &t : outputs) {
      std::string file = t.name;
      std::replace(file.begin(), file.end(), '/', '_');
      SmallString<256> path(outDir);
      sys::path::append(path, file + ".npy");
      if (Error e = writeNpy(path, t))
        die(toString(std::move(e)));
    }
  }

  if (!expected.empty()) {
    std::vector<HostTensor *> want =
        bindTensors(expected, sig.outputs, "output", /*required=*/false);
    for (auto [i, e] : llvm::enumerate(want)) {
      if (!e)
        continue;
      asBFloat16(e, outputs[i].dtype);
      if (e->dtype != outputs[i].dtype)
        die("output '" + outputs[i].name + "' is " + dtypeName(outputs[i].dtype) +
            " but the expected file holds " + dtypeName(e->dtype));
      if (Error err = compareTensors(outputs[i], *e, rtolOpt, atolOpt))
        die(toString(std::move(err)));
      double maxErr = 0;
      for (int64_t k = 0, n = e->numElements(); k < n; ++k) {
        double d = std::fabs(outputs[i].elementAsDouble(k) - e->elementAsDouble(k));
        if (!std::isnan(d))
          maxErr = std::max(maxErr, d);
      }
      outs() << "output '" << outputs[i].name << "' " << dtypeName(outputs[i].dtype)
             << " " << formatShape(outputs[i].shape) << ": matches (max abs err "
             << format("%.3g", maxErr) << ")\n";
    }
  }
  return 0;
}
