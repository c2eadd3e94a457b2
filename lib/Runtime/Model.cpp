//===- Model.cpp - compiled models: JIT-compiled or dlopen'ed -------------===//
#include "qc/Runtime/Model.h"
#include "qc/Runtime/ElfCheck.h"
#include "qc/Target/CPU/Target.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/Support/DynamicLibrary.h"
#include <dlfcn.h>

using namespace mlir;
using llvm::Error;
using llvm::Expected;

static Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

qc::Model::~Model() {
  if (library)
    dlclose(library);
}

int32_t qc::Model::run(const QCTensor *inputs, QCTensor *outputs) const {
  return runFn(inputs, outputs);
}

Expected<std::unique_ptr<qc::Model>>
qc::Model::jit(ModuleOp lowered, const ModelSignature &sig,
               const cpu::TargetOptions &options) {
  auto tm = cpu::createTargetMachine(options, /*jit=*/true);
  if (!tm)
    return tm.takeError();
  bool ompLoaded = false;
  llvm::TargetMachine *tmPtr = tm->get();
  std::string prefix = "model"; // the C API inside the process
  auto builder = [&](Operation *op, llvm::LLVMContext &ctx) {
    return cpu::translateToLLVMIR(cast<ModuleOp>(op), sig, prefix, ctx);
  };
  auto transformer = [&](llvm::Module *m) {
    return cpu::optimizeModule(*m, *tmPtr, options.optLevel);
  };
  if (options.threads > 1) {
    // The OpenMP runtime, loaded into the process for the JIT to link to.
    auto lib = cpu::openMPRuntime();
    if (!lib)
      return lib.takeError();
    std::string err;
    if (llvm::sys::DynamicLibrary::LoadLibraryPermanently(lib->c_str(), &err))
      return fail("cannot load '" + *lib + "': " + err);
    ompLoaded = true;
  }
  ExecutionEngineOptions engineOptions;
  engineOptions.llvmModuleBuilder = builder;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  engineOptions.enableGDBNotificationListener = false;
  engineOptions.enablePerfNotificationListener = false;
  auto engine = ExecutionEngine::create(lowered, engineOptions, std::move(*tm));
  if (!engine)
    return engine.takeError();
  std::unique_ptr<Model> model(new Model);
  model->sig = sig;
  auto fn = (*engine)->lookup(prefix + "_run");
  if (!fn)
    return fn.takeError();
  model->runFn =
      reinterpret_cast<int32_t (*)(const QCTensor *, QCTensor *)>(*fn);
  model->engine = std::move(*engine);
  model->openMP = ompLoaded;
  if (ompLoaded)
    if (Error e = model->setThreads(options.threads))
      return std::move(e);
  return model;
}

Error qc::Model::setThreads(unsigned threads) const {
  void *fn = library  ? dlsym(library, "omp_set_num_threads")
             : openMP ? llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(
                            "omp_set_num_threads")
                      : nullptr;
  if (!fn && threads == 1)
    return Error::success(); // single-threaded code
  if (!fn)
    return fail(
        "--threads " + Twine(threads) +
        ": this model was compiled for one thread (JIT with --threads, or "
        "quant-compile --threads N, compiles it for several)");
  reinterpret_cast<void (*)(int)>(fn)(int(threads));
  return Error::success();
}

Expected<std::unique_ptr<qc::Model>> qc::Model::load(StringRef path,
                                                     StringRef prefix) {
  // A file with a slash is checked before dlopen maps it (a truncated one
  // would fault); dlopen searches the library path for a bare name.
  if (path.contains('/'))
    if (std::string why = checkSharedLibrary(path.str()); !why.empty())
      return fail("cannot load '" + path + "': " + why);
  void *lib = dlopen(path.str().c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return fail("cannot load '" + path + "': " + dlerror());
  std::unique_ptr<Model> model(new Model);
  model->library = lib;
  auto sym = [&](StringRef name) {
    return dlsym(lib, (prefix + "_" + name).str().c_str());
  };
  using CountFn = int32_t (*)();
  using InfoFn = const QCTensorInfo *(*)(int32_t);
  auto numIn = reinterpret_cast<CountFn>(sym("num_inputs"));
  auto numOut = reinterpret_cast<CountFn>(sym("num_outputs"));
  auto inInfo = reinterpret_cast<InfoFn>(sym("input_info"));
  auto outInfo = reinterpret_cast<InfoFn>(sym("output_info"));
  model->runFn =
      reinterpret_cast<int32_t (*)(const QCTensor *, QCTensor *)>(sym("run"));
  model->timeFn =
      reinterpret_cast<int32_t (*)(const QCTensor *, QCTensor *, int32_t,
                                   int32_t, float *)>(sym("time"));
  model->lastErrorFn = reinterpret_cast<const char *(*)()>(sym("last_error"));
  if (!numIn || !numOut || !inInfo || !outInfo || !model->runFn)
    return fail("'" + path + "' is not a model compiled with prefix '" +
                prefix + "' (no " + prefix +
                "_run and info functions; "
                "pass --prefix)");
  auto read = [](CountFn count, InfoFn info, std::vector<TensorSpec> &specs) {
    for (int32_t i = 0, e = count(); i < e; ++i) {
      const QCTensorInfo *t = info(i);
      specs.push_back({t->name, DType(t->dtype),
                       std::vector<int64_t>(t->shape, t->shape + t->rank)});
    }
  };
  read(numIn, inInfo, model->sig.inputs);
  read(numOut, outInfo, model->sig.outputs);
  return model;
}

std::string qc::Model::lastError() const {
  const char *e = lastErrorFn ? lastErrorFn() : nullptr;
  return e ? e : "";
}

Expected<std::array<float, 3>> qc::Model::time(const QCTensor *inputs,
                                               QCTensor *outputs,
                                               int32_t warmup,
                                               int32_t repeat) const {
  if (!timeFn)
    return fail("not a GPU model: no P_time");
  std::array<float, 3> ms = {0, 0, 0};
  int32_t rc = timeFn(inputs, outputs, warmup, repeat, ms.data());
  if (rc > 0)
    return fail("the model rejected argument " + llvm::Twine(rc - 1));
  if (rc < 0)
    return fail(lastError());
  return ms;
}
