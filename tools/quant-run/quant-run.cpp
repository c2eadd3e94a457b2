//===- quant-run.cpp - run a model (JIT or compiled .so) on tensor files
//---===//
//
//   quant-run MODEL.onnx|MODEL.mlir|libMODEL.so [--input-shape NAME:DIMS]...
//             -i [NAME=]FILE.npy|.npz|.pb ... [-o OUTDIR]
//             [--expected [NAME=]FILE]... [--rtol R] [--atol A]
//             [--repeat N] [--warmup W] [--threads T] [--test-data DIR]
//             [--target cpu|cuda[:sm_NN]]
//   quant-run MODEL --samples DIR|FILE.npz [-o OUTDIR] [--reference-outputs
//   DIR]
//   ... [--json]
//
// A library built with --target cuda (or a model compiled here with
// --target cuda, through a temporary library) runs on the GPU; --repeat
// then times it by CUDA events (P_time: device time, inputs uploaded once).
//
// --samples runs every sample of a set (the format of quant-compile
// --calibration-data) in one process; -o then writes each output stacked
// over the samples, and --reference-outputs compares them with stacked
// reference outputs (SQNR, cosine, top-1 agreement, as the quality report
// measures them). --json prints one JSON object on stdout.
//
// Any failure (unreadable file, missing input, shape or dtype mismatch,
// output beyond tolerance) ends with a one-line reason and a non-zero exit.
//
//===----------------------------------------------------------------------===//
#include "qc/Runtime/HostTensor.h"
#include "qc/Runtime/Model.h"
#include "qc/Runtime/Samples.h"
#include "qc/Target/CPU/Target.h"
#include "qc/Target/CUDA/Target.h"
#include "qc/Target/ONNX/Import.h"
#include "qc/Tools/ToolOptions.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
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
#include <unistd.h>

using namespace llvm;
using namespace qc;

static cl::OptionCategory category("quant-run options");
static cl::opt<std::string>
    modelPath(cl::Positional, cl::Required,
              cl::desc("<model.onnx|model.mlir|lib.so>"), cl::cat(category));
static cl::list<std::string> inputSpecs(
    "i",
    cl::desc("Input tensor: [NAME=]FILE (.npy, .npz, .pb); unnamed ones "
             "bind by the name stored in the file, else in order"),
    cl::value_desc("[NAME=]FILE"), cl::cat(category));
static cl::alias inputAlias("input", cl::aliasopt(inputSpecs));
static cl::opt<std::string>
    outDir("o",
           cl::desc("Write outputs as OUTDIR/<output name>.npy "
                    "(stacked over the samples with --samples)"),
           cl::value_desc("OUTDIR"), cl::cat(category));
static cl::list<std::string>
    expectedSpecs("expected", cl::desc("Expected output: [NAME=]FILE"),
                  cl::value_desc("[NAME=]FILE"), cl::cat(category));
static cl::opt<double> rtolOpt("rtol", cl::desc("Relative tolerance (floats)"),
                               cl::init(1e-3), cl::cat(category));
static cl::opt<double> atolOpt("atol", cl::desc("Absolute tolerance (floats)"),
                               cl::init(1e-4), cl::cat(category));
static cl::opt<unsigned> repeat("repeat",
                                cl::desc("Time N runs (after warm-up)"),
                                cl::init(0), cl::cat(category));
static cl::opt<unsigned> warmup("warmup",
                                cl::desc("Untimed runs before timing"),
                                cl::init(3), cl::cat(category));
static cl::opt<std::string> testData(
    "test-data",
    cl::desc("An ONNX backend test data set directory: its "
             "input_*.pb are the inputs, output_*.pb the expected outputs"),
    cl::value_desc("DIR"), cl::cat(category));
static cl::opt<std::string> samplesPath(
    "samples",
    cl::desc(
        "Run every sample of a set: a directory of .npz (keys: input names), "
        ".npy (one input) or test_data_set_*/input_*.pb, or one .npz of "
        "stacked samples (the model needs static input shapes)"),
    cl::value_desc("DIR|FILE.npz"), cl::cat(category));
static cl::opt<std::string> referenceOutputs(
    "reference-outputs",
    cl::desc(
        "With --samples: DIR/<output name>.npy holds each output's reference, "
        "stacked "
        "over the samples; prints SQNR, cosine and top-1 agreement per output"),
    cl::value_desc("DIR"), cl::cat(category));
static cl::opt<std::string>
    prefixOpt("prefix",
              cl::desc("C API prefix of a .so (default: from its file name)"),
              cl::cat(category));
static cl::opt<bool> jsonOutput("json",
                                cl::desc("Print one JSON object on stdout"),
                                cl::cat(category));

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
  for (sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
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
    StringRef name =
        !g.name.empty() ? StringRef(g.name) : StringRef(g.tensor.name);
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
      die("more " + kind + " files than the model has " + kind + "s (" + names +
          ")");
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

/// ONNX keeps bfloat16 test data as uint16 bit patterns.
static void asBFloat16(HostTensor *t, DType want) {
  if (t && want == DType::BFloat16 && t->dtype == DType::UInt16)
    t->dtype = DType::BFloat16;
}

/// The model: loaded from a .so, or imported (shapes from --input-shape, else
/// from the input files) and JIT-compiled for `target`.
/// A GPU build of `module` through a temporary shared library.
static std::unique_ptr<Model> compileForGPU(mlir::ModuleOp module,
                                            const cuda::TargetOptions &gpu) {
  FailureOr<ModelSignature> sig = cuda::lowerToLLVM(module, "main_graph", gpu);
  if (failed(sig))
    std::exit(1);
  auto tm = cuda::createHostTargetMachine(gpu);
  if (!tm)
    die(toString(tm.takeError()));
  LLVMContext llvmContext;
  std::unique_ptr<Module> m =
      cuda::translateToLLVMIR(module, *sig, "qc_jit", llvmContext);
  if (!m)
    std::exit(1);
  if (Error e = cpu::optimizeModule(*m, **tm, 3))
    die(toString(std::move(e)));
  SmallString<128> lib;
  if (std::error_code ec =
          sys::fs::createTemporaryFile("quant-run-cuda", "so", lib))
    die("cannot create a temporary library: " + ec.message());
  FileRemover remover(lib);
  if (Error e = cpu::emitSharedLibrary(*m, **tm, lib, 1))
    die(toString(std::move(e)));
  auto loaded = Model::load(lib, "qc_jit");
  if (!loaded)
    die(toString(loaded.takeError()));
  return std::move(*loaded);
}

static std::unique_ptr<Model> loadOrCompile(mlir::MLIRContext &context,
                                            const ImportFlags &flags,
                                            cpu::TargetOptions target,
                                            const ModelFlags &modelFlags,
                                            std::vector<Given> &inputs) {
  if (sys::path::extension(modelPath) == ".so") {
    if (!flags.inputShapes.empty() || !flags.constantInputs.empty())
      die("--input-shape and --constant-input apply when compiling; a .so has "
          "fixed shapes");
    std::string prefix =
        prefixOpt.empty() ? cpu::prefixFromPath(modelPath) : prefixOpt;
    // dlopen searches the library path for a name without a slash.
    SmallString<256> path(modelPath);
    sys::fs::make_absolute(path);
    auto loaded = Model::load(path, prefix);
    if (!loaded)
      die(toString(loaded.takeError()));
    if (Error e = (*loaded)->setThreads(target.threads))
      die(toString(std::move(e)));
    return std::move(*loaded);
  }
  cpu::registerDialects(context);
  Expected<ONNXImportOptions> imported = flags.importOptions();
  if (!imported)
    die(toString(imported.takeError()));
  ONNXImportOptions &options = *imported;
  // Inputs without --input-shape take the shapes of their files: the input
  // names come from the model (or, for .mlir, its function).
  std::vector<std::string> inputNames;
  if (sys::path::extension(modelPath) == ".mlir") {
    mlir::OwningOpRef<mlir::ModuleOp> probe =
        loadModel(modelPath, options, &context);
    if (!probe)
      std::exit(1);
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
  if (samplesPath.empty()) {
    std::vector<TensorSpec> names;
    for (auto &name : inputNames)
      names.push_back({name, DType::Float, {}});
    std::vector<Given> probe;
    for (Given &g : inputs)
      probe.push_back(
          {g.name,
           HostTensor{g.tensor.name, g.tensor.dtype, g.tensor.shape, {}}});
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
  }
  mlir::OwningOpRef<mlir::ModuleOp> module =
      loadModel(modelPath, options, &context);
  if (!module)
    std::exit(1);
  if (modelFlags.gpu)
    return compileForGPU(*module, modelFlags.gpuTarget);
  if (Error e = cpu::resolveKernels(target))
    die(toString(std::move(e)));
  FailureOr<ModelSignature> sig =
      cpu::lowerToLLVM(*module, "main_graph", target);
  if (failed(sig))
    std::exit(1);
  auto jitted = Model::jit(*module, *sig, target);
  if (!jitted)
    die(toString(jitted.takeError()));
  return std::move(*jitted);
}

/// Output buffers of the signature's shapes, and their C API views.
struct OutputBuffers {
  std::vector<HostTensor> tensors;
  std::vector<QCTensor> args;
  explicit OutputBuffers(const ModelSignature &sig)
      : tensors(sig.outputs.size()) {
    for (auto [i, spec] : llvm::enumerate(sig.outputs)) {
      HostTensor &t = tensors[i];
      t = HostTensor{spec.name, spec.dtype, spec.shape, {}};
      // Output sizes are bounded when compiling (qc::kMaxTensorBytes), not
      // by this machine's memory.
      uint64_t bytes = uint64_t(spec.numElements()) * dtypeSize(spec.dtype);
      uint64_t memory =
          uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGE_SIZE));
      if (bytes > memory)
        die("output '" + spec.name + "' of shape " + formatShape(spec.shape) +
            " needs " + Twine(bytes) + " bytes, more than this machine's " +
            Twine(memory));
      t.data.assign(bytes, 0);
      args.push_back({t.data.data(), t.shape.data(), int32_t(t.shape.size()),
                      int32_t(t.dtype)});
    }
  }
};

/// The C API views of one input set, checked against the signature.
static std::vector<QCTensor> inputArgs(const ModelSignature &sig,
                                       std::vector<HostTensor *> in) {
  std::vector<QCTensor> args;
  for (auto [i, t] : llvm::enumerate(in)) {
    const TensorSpec &spec = sig.inputs[i];
    asBFloat16(t, spec.dtype);
    if (t->dtype != spec.dtype)
      die("input '" + spec.name + "' is " + dtypeName(t->dtype) +
          " but the model takes " + dtypeName(spec.dtype));
    if (t->shape != spec.shape)
      die("input '" + spec.name + "' has shape " + formatShape(t->shape) +
          " but the model was compiled for " + formatShape(spec.shape));
    args.push_back({t->data.data(), t->shape.data(), int32_t(t->shape.size()),
                    int32_t(t->dtype)});
  }
  return args;
}

static void runModel(const Model &model, const std::vector<QCTensor> &in,
                     OutputBuffers &out) {
  int32_t rc = model.run(in.data(), out.args.data());
  if (rc < 0)
    die("the model failed on the GPU: " + model.lastError());
  if (rc)
    die("the model rejected argument " + Twine(rc - 1) +
        " (dtype or shape differs from the compiled signature)");
}

/// OUTDIR/<name>.npy for each tensor.
static void writeOutputs(ArrayRef<HostTensor> tensors) {
  if (std::error_code ec = sys::fs::create_directories(outDir))
    die("cannot create '" + outDir + "': " + ec.message());
  for (const HostTensor &t : tensors) {
    std::string file = t.name;
    std::replace(file.begin(), file.end(), '/', '_');
    SmallString<256> path(outDir);
    sys::path::append(path, file + ".npy");
    if (Error e = writeNpy(path, t))
      die(toString(std::move(e)));
  }
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  OptionsBinder binder(category);
  ModelFlags flags;
  bindModelFlags(binder, flags);
  ImportFlags &importFlags = flags.import;
  cpu::TargetOptions &target = flags.target;
  cl::HideUnrelatedOptions(category);
  if (Error e =
          parseAndVerify(argc, argv, "quant-run: run a model on tensor files\n",
                         binder, flags))
    die(toString(std::move(e)));
  // quant-run runs what it compiles here: a CPU beyond this host's would
  // stop with an illegal instruction.
  if (std::vector<std::string> missing =
          cpu::missingHostFeatures(flags.target.cpu);
      !missing.empty() && !flags.gpu)
    die("--mcpu " + flags.target.cpu + ": this host lacks " +
        llvm::join(missing, ", ") +
        ", so the code would stop with an illegal instruction (quant-compile "
        "builds for other CPUs)");
  if (!samplesPath.empty() &&
      (!inputSpecs.empty() || !testData.empty() || !expectedSpecs.empty()))
    die("--samples runs a sample set: it cannot be combined with -i, "
        "--test-data or --expected");
  if (!referenceOutputs.empty() && samplesPath.empty())
    die("--reference-outputs needs --samples");

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
  llvm::erase_if(inputs, [&](const Given &g) {
    StringRef name =
        g.name.empty() ? StringRef(g.tensor.name) : StringRef(g.name);
    return llvm::any_of(
        importFlags.constantInputs, [&](const std::string &spec) {
          return !name.empty() && StringRef(spec).split('=').first == name;
        });
  });

  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  std::unique_ptr<Model> model =
      loadOrCompile(context, importFlags, target, flags, inputs);
  const ModelSignature &sig = model->signature();

  // The input sets: the -i / --test-data files, or every sample of --samples.
  std::vector<Sample> sets;
  if (!samplesPath.empty()) {
    auto read = readSamples(samplesPath, sig.inputs);
    if (!read)
      die(toString(read.takeError()));
    sets = std::move(*read);
  } else {
    Sample one;
    for (HostTensor *t :
         bindTensors(inputs, sig.inputs, "input", /*required=*/true))
      one.push_back(std::move(*t));
    sets.push_back(std::move(one));
  }
  OutputBuffers out(sig);
  // Each output stacked over the sets, when there are several.
  std::vector<HostTensor> stacked;
  for (const TensorSpec &spec : sig.outputs) {
    HostTensor t{spec.name, spec.dtype, spec.shape, {}};
    t.shape.insert(t.shape.begin(), int64_t(sets.size()));
    stacked.push_back(std::move(t));
  }
  std::vector<std::vector<QCTensor>> args;
  for (Sample &set : sets) {
    std::vector<HostTensor *> ptrs;
    for (HostTensor &t : set)
      ptrs.push_back(&t);
    args.push_back(inputArgs(sig, ptrs));
  }
  for (auto &a : args) {
    runModel(*model, a, out);
    if (!samplesPath.empty())
      for (auto [k, t] : llvm::enumerate(out.tensors))
        stacked[k].data.insert(stacked[k].data.end(), t.data.begin(),
                               t.data.end());
  }

  json::Object report{{"model", modelPath.getValue()},
                      {"threads", int64_t(target.threads)},
                      {"inputs", toJSON(sig.inputs)},
                      {"outputs", toJSON(sig.outputs)},
                      {"samples", int64_t(sets.size())},
                      {"timing", nullptr},
                      {"outputs_dir", outDir.empty()
                                          ? json::Value(nullptr)
                                          : json::Value(outDir.getValue())}};
  if (repeat > 0 && model->isCUDA()) {
    // Device time by CUDA events around each run.
    auto ms = model->time(args.front().data(), out.args.data(), warmup, repeat);
    if (!ms)
      die("the model failed on the GPU: " + toString(ms.takeError()));
    report["timing"] = json::Object{{"median_ms", (*ms)[0]},
                                    {"min_ms", (*ms)[1]},
                                    {"mean_ms", (*ms)[2]},
                                    {"clock", "cuda_events"},
                                    {"runs", int64_t(repeat)},
                                    {"warmup", int64_t(warmup)}};
    if (!jsonOutput)
      outs() << format("median_ms=%.4f min_ms=%.4f mean_ms=%.4f", (*ms)[0],
                       (*ms)[1], (*ms)[2])
             << " runs=" << repeat << " warmup=" << warmup
             << " clock=cuda_events\n";
  } else if (repeat > 0) {
    for (unsigned i = 0; i < warmup; ++i)
      runModel(*model, args.front(), out);
    std::vector<double> ms;
    for (unsigned i = 0; i < repeat; ++i) {
      auto start = std::chrono::steady_clock::now();
      runModel(*model, args.front(), out);
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms.size() % 2
                        ? ms[ms.size() / 2]
                        : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    report["timing"] = json::Object{{"median_ms", median},
                                    {"min_ms", ms.front()},
                                    {"max_ms", ms.back()},
                                    {"runs", int64_t(repeat)},
                                    {"warmup", int64_t(warmup)}};
    if (!jsonOutput)
      outs() << format("median_ms=%.4f min_ms=%.4f max_ms=%.4f", median,
                       ms.front(), ms.back())
             << " runs=" << repeat << " warmup=" << warmup << "\n";
  }

  ArrayRef<HostTensor> results = samplesPath.empty()
                                     ? ArrayRef<HostTensor>(out.tensors)
                                     : ArrayRef<HostTensor>(stacked);
  if (!outDir.empty())
    writeOutputs(results);

  auto maxAbsErr = [](const HostTensor &a, const HostTensor &b) {
    double m = 0;
    for (int64_t k = 0, n = b.numElements(); k < n; ++k) {
      double d = std::fabs(a.elementAsDouble(k) - b.elementAsDouble(k));
      if (!std::isnan(d))
        m = std::max(m, d);
    }
    return m;
  };
  if (!expected.empty()) {
    json::Array checks;
    std::vector<HostTensor *> want =
        bindTensors(expected, sig.outputs, "output", /*required=*/false);
    for (auto [i, e] : llvm::enumerate(want)) {
      if (!e)
        continue;
      const HostTensor &got = out.tensors[i];
      asBFloat16(e, got.dtype);
      if (e->dtype != got.dtype)
        die("output '" + got.name + "' is " + dtypeName(got.dtype) +
            " but the expected file holds " + dtypeName(e->dtype));
      if (Error err = compareTensors(got, *e, rtolOpt, atolOpt))
        die(toString(std::move(err)));
      double maxErr = maxAbsErr(got, *e);
      checks.push_back(json::Object{
          {"output", got.name}, {"max_abs_err", maxErr}, {"matches", true}});
      if (!jsonOutput)
        outs() << "output '" << got.name << "' " << dtypeName(got.dtype) << " "
               << formatShape(got.shape) << ": matches (max abs err "
               << format("%.3g", maxErr) << ")\n";
    }
    report["expected"] = std::move(checks);
  }

  if (!referenceOutputs.empty()) {
    json::Array comparisons;
    for (const HostTensor &got : results) {
      std::string file = got.name;
      std::replace(file.begin(), file.end(), '/', '_');
      SmallString<256> path(referenceOutputs);
      sys::path::append(path, file + ".npy");
      HostTensor ref = orDie(readTensorFile(path));
      if (ref.dtype != got.dtype || ref.shape != got.shape)
        die(path + ": " + dtypeName(ref.dtype) + " " + formatShape(ref.shape) +
            ", but output '" + got.name + "' over the samples is " +
            dtypeName(got.dtype) + " " + formatShape(got.shape));
      Agreement a;
      if (got.dtype == DType::Float) {
        // Rows of the last axis of each sample; the samples one by one.
        int64_t per = got.numElements() / std::max<int64_t>(got.shape[0], 1);
        for (int64_t s = 0; s < got.shape[0]; ++s) {
          HostTensor r{got.name,
                       got.dtype,
                       {got.shape.begin() + 1, got.shape.end()},
                       {}};
          HostTensor g = r;
          size_t bytes = per * sizeof(float);
          r.data.assign(ref.data.begin() + s * bytes,
                        ref.data.begin() + (s + 1) * bytes);
          g.data.assign(got.data.begin() + s * bytes,
                        got.data.begin() + (s + 1) * bytes);
          a.add(r, g);
        }
      }
      a.finish();
      double err = maxAbsErr(got, ref);
      auto finite = [](double v) { return std::isinf(v) ? 999.0 : v; };
      comparisons.push_back(json::Object{
          {"output", got.name},
          {"sqnr_db",
           got.dtype == DType::Float ? json::Value(finite(a.sqnrDb)) : nullptr},
          {"cosine",
           got.dtype == DType::Float ? json::Value(a.cosine) : nullptr},
          {"top1_agreement",
           std::isnan(a.top1) ? json::Value(nullptr) : json::Value(a.top1)},
          {"max_abs_err", err}});
      if (!jsonOutput) {
        outs() << "output '" << got.name << "' against " << path << ": ";
        if (got.dtype == DType::Float) {
          outs() << "SQNR " << formatv("{0:f2}", a.sqnrDb) << " dB, cosine "
                 << formatv("{0:f5}", a.cosine);
          if (!std::isnan(a.top1))
            outs() << ", top-1 agreement " << formatv("{0:f2}", 100 * a.top1)
                   << "%";
          outs() << ", ";
        }
        outs() << "max abs err " << format("%.3g", err) << "\n";
      }
    }
    report["comparison"] = std::move(comparisons);
  }
  if (jsonOutput)
    outs() << formatv("{0:2}", json::Value(std::move(report))) << "\n";
  return 0;
}
