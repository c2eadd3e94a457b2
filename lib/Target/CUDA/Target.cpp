//===- Target.cpp - the NVIDIA GPU target: lowering, LLVM IR --------------===//
#include "qc/Target/CUDA/Target.h"
#include "qc/Conversion/Passes.h"
#include "qc/Target/CPU/Target.h"
#include "qc/Target/CUDA/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Linker/Linker.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

using namespace mlir;
using llvm::Error;
using namespace qc;
using namespace qc::cuda;

static Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

// The runtime's bitcode (lib/Runtime/CUDA, embedded at build time).
extern const unsigned char qcCudaRuntimeBitcode[];
extern const unsigned long qcCudaRuntimeBitcode_size;

std::string qc::cuda::findPtxas() {
  SmallVector<std::string> candidates;
  if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    candidates.push_back((llvm::Twine(home) + "/bin/ptxas").str());
  candidates.push_back("/usr/local/cuda/bin/ptxas");
  for (const std::string &c : candidates)
    if (llvm::sys::fs::can_execute(c))
      return c;
  if (auto onPath = llvm::sys::findProgramByName("ptxas"))
    return *onPath;
  return "";
}

Error qc::cuda::parseChip(StringRef chip, TargetOptions &options) {
  if (chip.empty())
    return Error::success();
  StringRef digits = chip;
  unsigned arch = 0;
  if (!digits.consume_front("sm_") || (digits.consume_back("a"), false) ||
      digits.getAsInteger(10, arch) || arch < 70)
    return fail("unknown GPU architecture '" + chip +
                "' (expected sm_NN, NN >= 70, such as sm_80, sm_90 or "
                "sm_90a)");
  options.chip = chip.str();
  return Error::success();
}

Error qc::cuda::resolveFormat(TargetOptions &options) {
  if (options.format == BinaryFormat::PTX)
    return Error::success();
  bool found = !findPtxas().empty();
  if (options.format == BinaryFormat::Cubin && !found)
    return fail("a cubin needs the CUDA toolkit's ptxas ($CUDA_HOME/bin, "
                "/usr/local/cuda/bin or PATH); use PTX instead");
  options.format = found ? BinaryFormat::Cubin : BinaryFormat::PTX;
  return Error::success();
}

FailureOr<ModelSignature> qc::cuda::lowerToLLVM(ModuleOp module,
                                                StringRef graphFunction,
                                                const TargetOptions &options) {
  // Serializing the device code translates it to LLVM IR (NVVM, GPU).
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  module.getContext()->appendDialectRegistry(registry);
  TargetOptions resolved = options;
  if (Error e = resolveFormat(resolved)) {
    module.emitError() << llvm::toString(std::move(e));
    return failure();
  }
  CodegenPipelineOptions pipeline;
  pipeline.graphFunction = graphFunction.str();
  pipeline.chip = resolved.chip;
  pipeline.optLevel = resolved.optLevel;
  pipeline.blockSize = resolved.blockSize;
  // The toolkit (where ptxas is) also has libdevice, which the kernels'
  // math functions (__nv_expf, ...) are linked from.
  pipeline.binaryFormat =
      resolved.format == BinaryFormat::Cubin ? "bin" : "isa";
  if (std::string ptxas = findPtxas(); !ptxas.empty())
    pipeline.toolkit =
        llvm::sys::path::parent_path(llvm::sys::path::parent_path(ptxas))
            .str();
  return cpu::lowerInTwoHalves(
      module, graphFunction, "GPU code",
      [&](OpPassManager &pm) { buildQCToLinalgPassPipeline(pm, pipeline); },
      [&](OpPassManager &pm) { buildLinalgToNVVMPassPipeline(pm, pipeline); });
}

/// Links the runtime's bitcode into `m` and makes its functions internal:
/// only the C API is exported.
static Error linkRuntime(llvm::Module &m) {
  llvm::MemoryBufferRef buffer(
      StringRef(reinterpret_cast<const char *>(qcCudaRuntimeBitcode),
                qcCudaRuntimeBitcode_size),
      "qc-cuda-runtime");
  auto runtime = llvm::parseBitcodeFile(buffer, m.getContext());
  if (!runtime)
    return runtime.takeError();
  (*runtime)->setTargetTriple(m.getTargetTriple());
  (*runtime)->setDataLayout(m.getDataLayout());
  for (llvm::Function &f : **runtime)
    for (StringRef a : {"target-cpu", "target-features", "tune-cpu"})
      f.removeFnAttr(a);
  llvm::StringSet<> before;
  for (llvm::Function &f : m.functions())
    if (!f.isDeclaration())
      before.insert(f.getName());
  if (llvm::Linker::linkModules(m, std::move(*runtime)))
    return fail("cannot link the CUDA runtime into the model");
  for (llvm::Function &f : m.functions())
    if (!f.isDeclaration() && !before.contains(f.getName()))
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &g : m.globals())
    if (!g.isDeclaration() && g.hasExternalLinkage() &&
        !g.getName().starts_with("llvm."))
      g.setLinkage(llvm::GlobalValue::InternalLinkage);
  return Error::success();
}

std::unique_ptr<llvm::Module>
qc::cuda::translateToLLVMIR(ModuleOp lowered, const ModelSignature &sig,
                            StringRef prefix, llvm::LLVMContext &llvmContext) {
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  lowered.getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> m =
      translateModuleToLLVMIR(lowered, llvmContext, "model");
  if (!m)
    return nullptr;
  if (!m->getFunction(kEntryPointName)) {
    lowered.emitError() << "lowered module has no @" << kEntryPointName;
    return nullptr;
  }
  if (Error e = linkRuntime(*m)) {
    lowered.emitError() << llvm::toString(std::move(e));
    return nullptr;
  }
  cpu::addCAPI(*m, sig, prefix, cpu::EntryStyle::CUDA);
  return m;
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
qc::cuda::createHostTargetMachine(const TargetOptions &options) {
  cpu::TargetOptions host;
  host.cpu = options.hostCPU;
  return cpu::createTargetMachine(host, /*jit=*/false);
}
