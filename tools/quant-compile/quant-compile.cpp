//===- quant-compile.cpp - ahead-of-time compilation of a model -----------===//
//
//   quant-compile MODEL.onnx|MODEL.mlir -o libmodel.so  (shared library)
//   quant-compile MODEL.onnx -c -o model.o               (object file)
//     [--input-shape NAME:DIMS]... [--constant-input NAME=FILE.pb]...
//     [--prefix NAME] [--header FILE.h] [--mcpu CPU] [--emit-llvm] [--json]
//     [--target cpu|cuda[:sm_NN] [--gpu-binary auto|ptx|cubin]]
//     [--calibration-data DIR|file.npz [quantization options]]
//
// With calibration data (or --load-calibration) the model is quantized to
// integer-only int8 (post-training, calibrated on the samples). A model that
// is quantized already (QDQ, as ONNX Runtime's quantize_static writes it)
// takes the same integer path unless --keep-qdq.
//
// Writes the library or object with the weights embedded as binary data,
// and a C header (next to it, .h) declaring the model's C API. With --json
// the progress goes to stderr and stdout is one JSON object describing what
// was written (and the quality report, with --report).
//
//===----------------------------------------------------------------------===//
#include "qc/Quantization/Quantize.h"
#include "qc/Target/CPU/Target.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"
#include "qc/Target/CUDA/Target.h"
#include "qc/Target/ONNX/Import.h"
#include "qc/Tools/ToolOptions.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qc;

static cl::OptionCategory category("quant-compile options");
static cl::OptionCategory quantCategory("quantization options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx|model.mlir>"),
                                      cl::cat(category));
static cl::opt<std::string> outPath("o", cl::Required,
                                    cl::desc("Output .so (or .o with -c)"),
                                    cl::value_desc("FILE"), cl::cat(category));
static cl::opt<bool>
    objectOnly("c", cl::desc("Write an object file, not a shared library"),
               cl::cat(category));
static cl::opt<bool> emitLLVM("emit-llvm",
                              cl::desc("Write LLVM IR text instead"),
                              cl::cat(category));
static cl::opt<std::string>
    prefixOpt("prefix",
              cl::desc("Prefix of the C API symbols (default: from -o, "
                       "libmodel.so -> model_run)"),
              cl::cat(category));
static cl::opt<std::string>
    headerPath("header", cl::desc("C header to write (default: -o with .h)"),
               cl::value_desc("FILE"), cl::cat(category));
static cl::opt<bool>
    keepQDQ("keep-qdq",
            cl::desc("Run a QDQ model's quantize/dequantize pairs around float "
                     "ops as they are (fake quantization) instead of rewriting "
                     "them to integer ops"),
            cl::cat(quantCategory));
static cl::opt<bool> jsonOutput(
    "json",
    cl::desc("Print one JSON object on stdout (what was written, the "
             "model's signature, the quality report); progress to stderr"),
    cl::cat(category));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "quant-compile") << msg << "\n";
  std::exit(1);
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  OptionsBinder binder(category);
  ModelFlags flags;
  bindModelFlags(binder, flags);
  ImportFlags &importFlags = flags.import;
  cpu::TargetOptions &target = flags.target;
  binder.setCategory(quantCategory);
  QuantizeFlags quantFlags;
  bindQuantizeFlags(binder, quantFlags);
  cl::HideUnrelatedOptions({&category, &quantCategory});
  if (Error e = parseAndVerify(
          argc, argv, "quant-compile: compile a model to native code\n", binder,
          flags))
    die(toString(std::move(e)));
  if (Error e = quantFlags.finish(binder, modelPath))
    die(toString(std::move(e)));
  // 16-bit activations run on the CPU's split int8 products; the cuda
  // target's int8 GEMMs take 8-bit operands only.
  const QuantizeOptions &qo = quantFlags.options;
  if (flags.gpu && quantFlags.enabled() &&
      (qo.activationBits > 8 ||
       (qo.bitsAuto && hasWideActivations(qo.sensitivity.activationBits))))
    die("16-bit activations (--activation-bits 16, --activation-formats "
        "...,16) are not supported with --target cuda yet");
  Expected<ONNXImportOptions> options = importFlags.importOptions();
  if (!options)
    die(toString(options.takeError()));
  // The kernels the target CPU has, decided before the (long) quantization.
  if (Error e = cpu::resolveKernels(target))
    die(toString(std::move(e)));
  // --report: the low-bit products' kernel choices, with their reasons.
  target.reportChoices = !quantFlags.options.reportPath.empty();
  std::string prefix =
      prefixOpt.empty() ? cpu::prefixFromPath(outPath) : prefixOpt.getValue();
  // The prefix starts the C functions' names and the header guard.
  if (prefix.empty() || isDigit(prefix[0]) ||
      !llvm::all_of(prefix, [](char c) { return isAlnum(c) || c == '_'; }))
    die("--prefix '" + prefix +
        "' is not a C identifier (letters, digits and '_', not starting with a "
        "digit)");
  SmallString<256> header(headerPath.empty() ? StringRef(outPath)
                                             : StringRef(headerPath));
  if (headerPath.empty())
    sys::path::replace_extension(header, ".h");
  // Unwritable outputs fail now, not after the (long) compilation.
  for (StringRef file : {StringRef(outPath), StringRef(header)}) {
    SmallString<256> dir = sys::path::parent_path(file);
    if (dir.empty())
      dir = ".";
    if (!sys::fs::is_directory(dir))
      die("cannot write '" + file + "': no directory '" + dir + "'");
    if (sys::fs::is_directory(file))
      die("cannot write '" + file + "': it is a directory");
    if (sys::fs::access(dir, sys::fs::AccessMode::Write) ||
        (sys::fs::exists(file) &&
         sys::fs::access(file, sys::fs::AccessMode::Write)))
      die("cannot write '" + file + "': permission denied");
  }
  // With --json, stdout carries only the JSON object.
  raw_ostream &log = jsonOutput ? errs() : outs();

  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  // MLIR's default handler prints errors only: warnings always, and with
  // --report the remarks (the low-bit kernels' choices), go to stderr too.
  mlir::ScopedDiagnosticHandler remarks(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
      return mlir::failure(); // the default handler's
    if (d.getSeverity() == mlir::DiagnosticSeverity::Remark &&
        !target.reportChoices)
      return mlir::success();
    errs() << d.getLocation() << ": "
           << (d.getSeverity() == mlir::DiagnosticSeverity::Warning
                   ? "warning: "
                   : "remark: ")
           << d.str() << "\n";
    return mlir::success();
  });
  cpu::registerDialects(context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      loadModel(modelPath, *options, &context);
  if (!module)
    return 1;
  std::optional<QualityReport> report;
  if (quantFlags.enabled()) {
    QuantizeOptions &q = quantFlags.options;
    q.target = target;
    if (Error e = quantizeModel(*module, q, log, &report))
      die(toString(std::move(e)));
  } else if (!keepQDQ && hasQuantizeDequantize(*module)) {
    // A model quantized elsewhere (QDQ): the same integer path.
    if (Error e = lowerQuantizeDequantize(*module))
      die(toString(std::move(e)));
  }
  // The GPU target's host code is CPU code without kernels, for a generic
  // x86-64 (the GPU machine is seldom this one).
  FailureOr<ModelSignature> sig =
      flags.gpu ? cuda::lowerToLLVM(*module, "main_graph", flags.gpuTarget)
                : cpu::lowerToLLVM(*module, "main_graph", target);
  if (failed(sig))
    return 1;
  auto tm = flags.gpu ? cuda::createHostTargetMachine(flags.gpuTarget)
                      : cpu::createTargetMachine(target, /*jit=*/false);
  if (!tm)
    die(toString(tm.takeError()));
  LLVMContext llvmContext;
  std::unique_ptr<Module> llvmModule =
      flags.gpu
          ? cuda::translateToLLVMIR(*module, *sig, prefix, llvmContext)
          : cpu::translateToLLVMIR(*module, *sig, prefix, llvmContext);
  if (!llvmModule)
    return 1;
  if (Error e = cpu::optimizeModule(*llvmModule, **tm, target.optLevel))
    die(toString(std::move(e)));
  unsigned threads = flags.gpu ? 1 : target.threads;
  Error emitted = emitLLVM     ? cpu::emitLLVMIR(*llvmModule, outPath)
                  : objectOnly ? cpu::emitObject(*llvmModule, **tm, outPath)
                               : cpu::emitSharedLibrary(*llvmModule, **tm,
                                                        outPath, threads);
  if (emitted) {
    sys::fs::remove(outPath); // no partial library
    die(toString(std::move(emitted)));
  }

  std::error_code ec;
  raw_fd_ostream os(header, ec);
  if (ec) {
    sys::fs::remove(outPath); // the library without its header
    die("cannot write '" + header + "': " + ec.message());
  }
  os << cpu::generateHeader(*sig, prefix,
                            flags.gpu ? cpu::EntryStyle::CUDA
                                      : cpu::EntryStyle::Host);
  if (jsonOutput) {
    json::Object out{
        {"model", modelPath.getValue()},
        {"output", outPath.getValue()},
        {"header", header.str()},
        {"kind", emitLLVM     ? "llvm_ir"
                 : objectOnly ? "object"
                              : "shared_library"},
        {"prefix", prefix},
        {"target", flags.gpu ? "cuda:" + flags.gpuTarget.chip : "cpu"},
        {"threads", int64_t(threads)},
        {"inputs", toJSON(sig->inputs)},
        {"outputs", toJSON(sig->outputs)},
        {"quantized", quantFlags.enabled()},
        {"report", report ? report->toJSON() : json::Value(nullptr)}};
    outs() << formatv("{0:2}", json::Value(std::move(out))) << "\n";
  }
  return 0;
}
