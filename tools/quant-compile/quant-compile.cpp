//===- quant-compile.cpp - ahead-of-time compilation of a model -----------===//
//
//   quant-compile MODEL.onnx|MODEL.mlir -o libmodel.so  (shared library)
//   quant-compile MODEL.onnx -c -o model.o               (object file)
//     [--input-shape NAME:DIMS]... [--constant-input NAME=FILE.pb]...
//     [--prefix NAME] [--header FILE.h] [--mcpu CPU] [--emit-llvm]
//
// Writes the library or object with the weights embedded as binary data,
// and a C header (next to it, .h) declaring the model's C API.
//
//===----------------------------------------------------------------------===//
#include "qc/Runtime/Compiler.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/IR/LLVMContext.h"
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
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level"),
                                  cl::init(3), cl::Prefix, cl::cat(category));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "quant-compile") << msg << "\n";
  std::exit(1);
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  parseToolCommandLine(argc, argv, "quant-compile: compile a model to native code\n");
  if (threads == 0)
    die("--threads must be at least 1");
  ONNXImportOptions options;
  std::string error;
  if (failed(parseImportOptions(inputShapes, constantInputs, options, error)))
    die(error);
  std::string prefix = prefixOpt.empty() ? prefixFromPath(outPath) : prefixOpt.getValue();

  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  registerModelDialects(context);
  mlir::OwningOpRef<mlir::ModuleOp> module = loadModel(modelPath, options, &context);
  if (!module)
    return 1;
  FailureOr<ModelSignature> sig = lowerModel(*module, "main_graph", threads);
  if (failed(sig))
    return 1;
  auto tm = createTargetMachine(mcpu, /*jit=*/false);
  if (!tm)
    die(toString(tm.takeError()));
  LLVMContext llvmContext;
  std::unique_ptr<Module> llvmModule = translateModel(*module, *sig, prefix, llvmContext);
  if (!llvmModule)
    return 1;
  if (Error e = optimizeModule(*llvmModule, **tm, optLevel))
    die(toString(std::move(e)));

  if (emitLLVM) {
    std::error_code ec;
    raw_fd_ostream os(outPath, ec);
    if (ec)
      die("cannot write '" + outPath + "': " + ec.message());
    llvmModule->print(os, nullptr);
  } else if (objectOnly) {
    if (Error e = emitObject(*llvmModule, **tm, outPath))
      die(toString(std::move(e)));
  } else {
    SmallString<128> object;
    if (std::error_code ec = sys::fs::createTemporaryFile("quant-compile", "o", object))
      die("cannot create a temporary object file: " + ec.message());
    llvm::FileRemover remover(object);
    if (Error e = emitObject(*llvmModule, **tm, object))
      die(toString(std::move(e)));
    if (Error e = linkSharedLibrary(object, outPath, threads > 1))
      die(toString(std::move(e)));
  }

  SmallString<256> header(headerPath.empty() ? StringRef(outPath) : StringRef(headerPath));
  if (headerPath.empty())
    sys::path::replace_extension(header, ".h");
  std::error_code ec;
  raw_fd_ostream os(header, ec);
  if (ec)
    die("cannot write '" + header + "': " + ec.message());
  os << generateHeader(*sig, prefix);
  return 0;
}
