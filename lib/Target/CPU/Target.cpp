//===- Target.cpp - the x86 CPU target: lowering, LLVM IR, emission -------===//
#include "qc/Target/CPU/Target.h"
#include "qc/Conversion/Passes.h"
#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Target/CPU/Pipelines.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include <map>

using namespace mlir;
using llvm::Error;
using llvm::Expected;
using namespace qc;
using namespace qc::cpu;

static Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

// The int8 kernels' bitcode (lib/Kernels, embedded at build time).
extern const unsigned char qcKernelBitcode[];
extern const unsigned long qcKernelBitcode_size;

void qc::cpu::registerDialects(MLIRContext &context) {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<QCDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

LogicalResult qc::cpu::checkLowered(ModuleOp module, StringRef target) {
  // Ops the lowering left: one error per op kind, at its first occurrence
  // (whose location names its ONNX node).
  std::map<std::string, std::pair<Operation *, int>> left;
  module.walk([&](Operation *op) {
    if (isa<QCDialect>(op->getDialect())) {
      auto &entry = left[op->getName().getStringRef().str()];
      if (!entry.first)
        entry.first = op;
      ++entry.second;
    }
  });
  for (auto &[name, entry] : left) {
    InFlightDiagnostic diag = entry.first->emitError()
                              << "'" << name << "' with these types "
                              << "cannot be compiled to " << target << " yet";
    if (entry.second > 1)
      diag << " (" << entry.second << " occurrences)";
  }
  return success(left.empty());
}

FailureOr<ModelSignature> qc::cpu::lowerInTwoHalves(
    ModuleOp module, StringRef graphFunction, StringRef target,
    llvm::function_ref<void(OpPassManager &)> toLinalg,
    llvm::function_ref<void(OpPassManager &)> toLLVM) {
  auto graph = module.lookupSymbol<func::FuncOp>(graphFunction);
  if (!graph) {
    module.emitError() << "no function @" << graphFunction << " to compile";
    return failure();
  }
  FailureOr<ModelSignature> sig = getModelSignature(graph);
  if (failed(sig) || failed(checkTensorSizes(module)))
    return failure();
  PassManager first(module.getContext());
  CreateEntryPointOptions entry;
  entry.graphFunction = graphFunction.str();
  first.addPass(createCreateEntryPoint(entry));
  toLinalg(first);
  if (failed(first.run(module)) || failed(checkLowered(module, target)))
    return failure();
  PassManager second(module.getContext());
  toLLVM(second);
  if (failed(second.run(module)))
    return failure();
  return sig;
}

static Expected<bool> cpuHas(StringRef cpu, ArrayRef<const char *> features);

FailureOr<ModelSignature> qc::cpu::lowerToLLVM(ModuleOp module,
                                               StringRef graphFunction,
                                               const TargetOptions &options) {
  TargetOptions resolved = options;
  if (Error e = resolveKernels(resolved)) {
    module.emitError() << llvm::toString(std::move(e));
    return failure();
  }
  CodegenPipelineOptions pipeline;
  pipeline.graphFunction = graphFunction.str();
  pipeline.threads = std::max(1u, resolved.threads);
  pipeline.int8Kernels = int8ISA(resolved.int8Kernels);
  pipeline.f32Kernels = f32ISA(resolved.f32Kernels);
  pipeline.lowbitKernels = resolved.lowbitKernels;
  pipeline.channelsLast = resolved.channelsLast;
  pipeline.residualAdds = resolved.residualAdds;
  pipeline.planBuffers = resolved.planBuffers;
  // Fused tables: byte permutes where the CPU has VBMI (resolveKernels has
  // checked the CPU name).
  Expected<bool> vbmi = cpuHas(resolved.cpu, {"avx512vbmi"});
  pipeline.bytePermutes = vbmi && *vbmi;
  if (!vbmi)
    llvm::consumeError(vbmi.takeError());
  // FP8 products on vdpbf16ps where the CPU has AVX512-BF16.
  Expected<bool> bf16 = cpuHas(resolved.cpu, {"avx512bf16"});
  pipeline.bf16Dot = bf16 && *bf16;
  if (!bf16)
    llvm::consumeError(bf16.takeError());
  // popcount asked for: every product that cannot take it says why.
  pipeline.reportChoices =
      resolved.reportChoices ||
      resolved.lowbitKernels == kernels::LowBitMethod::Popcount;
  return lowerInTwoHalves(
      module, graphFunction, "native code",
      [&](OpPassManager &pm) { buildQCToLinalgPassPipeline(pm, pipeline); },
      [&](OpPassManager &pm) { buildLinalgToLLVMPassPipeline(pm, pipeline); });
}

Expected<std::unique_ptr<llvm::TargetMachine>>
qc::cpu::createTargetMachine(const TargetOptions &targetOptions, bool jit) {
  StringRef cpu = targetOptions.cpu;
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::InitializeNativeTargetAsmParser();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return fail("no LLVM target for " + triple.str() + ": " + error);
  std::string cpuName = cpu.str();
  llvm::SubtargetFeatures features;
  if (cpu == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    for (auto &f : llvm::sys::getHostCPUFeatures())
      features.AddFeature(f.first(), f.second);
  } else {
    std::unique_ptr<llvm::MCSubtargetInfo> sti(
        target->createMCSubtargetInfo(triple, cpuName, ""));
    if (!sti || !sti->isCPUStringValid(cpuName))
      return fail("unknown CPU '" + cpu + "' for " + triple.str());
  }
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpuName, features.getString(), options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive, jit));
  if (!tm)
    return fail("cannot create a target machine for CPU '" + cpuName + "'");
  return tm;
}

/// The subtarget of LLVM CPU `cpu` on this host's triple; null if unknown.
static std::unique_ptr<llvm::MCSubtargetInfo> subtargetOf(StringRef cpu) {
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target ? target->createMCSubtargetInfo(triple, cpu, "") : nullptr);
  if (!sti || !sti->isCPUStringValid(cpu))
    return nullptr;
  return sti;
}

/// Whether `cpu` ("native": the host) has every one of `features`.
static Expected<bool> cpuHas(StringRef cpu, ArrayRef<const char *> features) {
  bool all = true;
  if (cpu == "native") {
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    for (const char *f : features)
      all &= host.lookup(f);
    return all;
  }
  std::unique_ptr<llvm::MCSubtargetInfo> sti = subtargetOf(cpu);
  if (!sti)
    return fail("unknown CPU '" + cpu + "'");
  for (const char *f : features)
    all &= sti->checkFeatures(std::string("+") + f);
  return all;
}

std::vector<std::string> qc::cpu::missingHostFeatures(StringRef cpu) {
  std::vector<std::string> missing;
  if (cpu == "native")
    return missing;
  std::unique_ptr<llvm::MCSubtargetInfo> sti = subtargetOf(cpu);
  if (!sti)
    return missing;
  // The host's map names the instruction sets it knows of (true or false);
  // tuning features are in neither. Only those compiled code may use count
  // (vector and bit-manipulation sets, APX's registers and forms): system
  // ones (xsaves, rdseed, pku, ...) are often hidden by virtual machines.
  auto codegen = [](StringRef f) {
    for (StringRef p :
         {"sse",        "ssse3",  "avx",   "fma",  "f16c", "bmi",
          "lzcnt",      "popcnt", "movbe", "amx",  "gfni", "vaes",
          "vpclmulqdq", "adx",    "egpr",  "ndd",  "ppx",  "push2pop2",
          "ccmp",       "xop",    "tbm",   "cmov", "cx16", "sahf"})
      if (f.starts_with(p))
        return true;
    return f == "nf" || f == "zu" || f == "cf";
  };
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  for (const llvm::SubtargetFeatureKV &kv : sti->getAllProcessorFeatures())
    if (sti->getFeatureBits()[kv.Value] && codegen(kv.Key)) {
      auto it = host.find(kv.Key);
      if (it != host.end() && !it->second)
        missing.push_back(kv.Key);
    }
  return missing;
}

Error qc::cpu::resolveKernels(TargetOptions &options) {
  StringRef cpu = options.cpu;
  if (options.int8Kernels == Int8Kernels::Auto ||
      options.int8Kernels == Int8Kernels::VNNI) {
    Expected<bool> vnni = cpuHas(
        cpu, {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512vnni"});
    if (!vnni)
      return vnni.takeError();
    if (!*vnni && options.int8Kernels == Int8Kernels::VNNI)
      return fail("int8 kernels 'vnni': CPU '" + cpu +
                  "' lacks AVX-512 VNNI (avx512vnni, "
                  "avx512bw, avx512dq, avx512vl); use auto or generic");
    options.int8Kernels = *vnni ? Int8Kernels::VNNI : Int8Kernels::Generic;
  }
  if (options.f32Kernels == F32Kernels::Auto ||
      options.f32Kernels == F32Kernels::AVX512) {
    Expected<bool> avx512 = cpuHas(cpu, {"avx512f"});
    if (!avx512)
      return avx512.takeError();
    if (!*avx512 && options.f32Kernels == F32Kernels::AVX512)
      return fail("f32 kernels 'avx512': CPU '" + cpu +
                  "' lacks AVX-512F; use auto or none");
    options.f32Kernels = *avx512 ? F32Kernels::AVX512 : F32Kernels::None;
  }
  // The low-bit kernels run with the int8 ones: the table-lookup kernel's
  // AVX-512 variant needs VBMI beside VNNI, popcount VPOPCNTDQ.
  using kernels::LowBitMethod;
  LowBitMethod &lowbit = options.lowbitKernels;
  StringRef name = stringify(lowbit);
  if (lowbit != LowBitMethod::Unpack &&
      options.int8Kernels == Int8Kernels::None) {
    if (lowbit != LowBitMethod::Auto)
      return fail("lowbit kernels '" + name +
                  "' need int8 kernels (--int8-kernels none was given)");
    lowbit = LowBitMethod::Unpack;
  }
  if (lowbit == LowBitMethod::Popcount) {
    Expected<bool> popcnt = cpuHas(cpu, {"avx512f", "avx512vpopcntdq"});
    if (!popcnt)
      return popcnt.takeError();
    if (!*popcnt)
      return fail("lowbit kernels 'popcount': CPU '" + cpu +
                  "' lacks AVX-512 VPOPCNTDQ (avx512vpopcntdq); use auto, "
                  "lut or unpack");
  }
  if ((lowbit == LowBitMethod::Auto || lowbit == LowBitMethod::LUT) &&
      options.int8Kernels == Int8Kernels::VNNI) {
    Expected<bool> vbmi = cpuHas(cpu, {"avx512vbmi"});
    if (!vbmi)
      return vbmi.takeError();
    if (!*vbmi && lowbit == LowBitMethod::LUT)
      return fail("lowbit kernels 'lut': CPU '" + cpu +
                  "' lacks AVX-512 VBMI (avx512vbmi) beside VNNI; use auto, "
                  "unpack or --int8-kernels generic");
    if (!*vbmi)
      lowbit = LowBitMethod::Unpack;
  }
  return Error::success();
}

kernels::Int8ISA qc::cpu::int8ISA(Int8Kernels choice) {
  switch (choice) {
  case Int8Kernels::VNNI:
    return kernels::Int8ISA::VNNI;
  case Int8Kernels::Generic:
    return kernels::Int8ISA::Generic;
  case Int8Kernels::Auto:
  case Int8Kernels::None:
    break;
  }
  return kernels::Int8ISA::None;
}

kernels::F32ISA qc::cpu::f32ISA(F32Kernels choice) {
  return choice == F32Kernels::AVX512 ? kernels::F32ISA::AVX512
                                      : kernels::F32ISA::None;
}

/// Links the kernels that `m` declares (the calls qc-lower-to-microkernels
/// made) from the embedded bitcode and makes them internal. The generic code
/// loses its target attributes, so it is compiled for the model's target; the
/// AVX-512 code (the VNNI and float kernels, chosen only for targets that have
/// it) keeps its own.
static Error linkKernels(llvm::Module &m) {
  bool needed = llvm::any_of(m.functions(), [](llvm::Function &f) {
    return f.isDeclaration() && f.getName().starts_with("qc_k_");
  });
  if (!needed)
    return Error::success();
  llvm::MemoryBufferRef buffer(
      StringRef(reinterpret_cast<const char *>(qcKernelBitcode),
                qcKernelBitcode_size),
      "qc-kernels");
  Expected<std::unique_ptr<llvm::Module>> kernels =
      llvm::parseBitcodeFile(buffer, m.getContext());
  if (!kernels)
    return kernels.takeError();
  (*kernels)->setTargetTriple(m.getTargetTriple());
  (*kernels)->setDataLayout(m.getDataLayout());
  for (llvm::Function &f : **kernels) {
    if (f.getFnAttribute("target-features")
            .getValueAsString()
            .contains("+avx512f"))
      continue;
    for (StringRef a : {"target-cpu", "target-features", "tune-cpu"})
      f.removeFnAttr(a);
  }
  if (llvm::Linker::linkModules(m, std::move(*kernels),
                                llvm::Linker::Flags::LinkOnlyNeeded))
    return fail("cannot link the kernels into the model");
  for (llvm::Function &f : m.functions())
    if (!f.isDeclaration() && f.getName().starts_with("qc_k_"))
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  return Error::success();
}

//===----------------------------------------------------------------------===//
// The C API, in LLVM IR
//===----------------------------------------------------------------------===//

namespace {

struct CAPIBuilder {
  llvm::Module &m;
  const qc::ModelSignature &sig;
  std::string prefix;
  llvm::LLVMContext &ctx;
  llvm::IRBuilder<> b;
  llvm::Type *i32, *i64;
  llvm::PointerType *ptr;
  llvm::StructType *tensorTy, *infoTy;

  CAPIBuilder(llvm::Module &m, const qc::ModelSignature &sig, StringRef prefix)
      : m(m), sig(sig), prefix(prefix.str()), ctx(m.getContext()), b(ctx) {
    i32 = b.getInt32Ty();
    i64 = b.getInt64Ty();
    ptr = b.getPtrTy();
    tensorTy = llvm::StructType::get(ctx, {ptr, ptr, i32, i32});
    infoTy = llvm::StructType::get(ctx, {ptr, i32, i32, ptr});
  }

  llvm::Function *declare(StringRef name, llvm::Type *ret,
                          ArrayRef<llvm::Type *> args) {
    auto *fn = llvm::Function::Create(llvm::FunctionType::get(ret, args, false),
                                      llvm::GlobalValue::ExternalLinkage,
                                      prefix + "_" + name, m);
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", fn));
    return fn;
  }

  /// The qc_tensor_info table of `specs`.
  llvm::GlobalVariable *infoTable(ArrayRef<qc::TensorSpec> specs,
                                  StringRef kind) {
    SmallVector<llvm::Constant *> rows;
    for (auto [i, spec] : llvm::enumerate(specs)) {
      auto *name = b.CreateGlobalString(
          spec.name, prefix + "_" + kind.str() + "_name" + std::to_string(i), 0,
          &m);
      auto *shapeInit =
          llvm::ConstantDataArray::get(ctx, ArrayRef<int64_t>(spec.shape));
      auto *shape = new llvm::GlobalVariable(
          m, shapeInit->getType(), true, llvm::GlobalValue::PrivateLinkage,
          shapeInit, prefix + "_" + kind.str() + "_shape" + std::to_string(i));
      rows.push_back(llvm::ConstantStruct::get(
          infoTy, {name, llvm::ConstantInt::get(i32, int32_t(spec.dtype)),
                   llvm::ConstantInt::get(i32, spec.shape.size()), shape}));
    }
    auto *arrTy = llvm::ArrayType::get(infoTy, rows.size());
    return new llvm::GlobalVariable(m, arrTy, true,
                                    llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(arrTy, rows),
                                    prefix + "_" + kind.str() + "_info_table");
  }

  void infoFunctions(ArrayRef<qc::TensorSpec> specs, StringRef kind) {
    llvm::GlobalVariable *table = infoTable(specs, kind);
    declare(("num_" + kind + "s").str(), i32, {});
    b.CreateRet(llvm::ConstantInt::get(i32, specs.size()));
    llvm::Function *fn = declare((kind + "_info").str(), ptr, {i32});
    llvm::Value *i = fn->getArg(0);
    llvm::Value *inRange =
        b.CreateICmpULT(i, llvm::ConstantInt::get(i32, specs.size()));
    llvm::Value *row = b.CreateGEP(table->getValueType(), table,
                                   {b.getInt64(0), b.CreateZExt(i, i64)});
    b.CreateRet(
        b.CreateSelect(inRange, row, llvm::ConstantPointerNull::get(ptr)));
  }

  /// P_<name>(inputs, outputs, extra...): checks each tensor's dtype, rank
  /// and dims against the compiled ones (returning 1 + its index, inputs
  /// then outputs, on mismatch), then returns what `call` makes of the
  /// array of data pointers (qc_run's argv) and the extra arguments.
  void checkedFunction(
      StringRef name, ArrayRef<llvm::Type *> extra,
      llvm::function_ref<llvm::Value *(llvm::Value *argv,
                                       ArrayRef<llvm::Value *> extra)>
          call) {
    SmallVector<llvm::Type *> params = {ptr, ptr};
    params.append(extra.begin(), extra.end());
    llvm::Function *fn = declare(name, i32, params);
    llvm::BasicBlock *mismatch = llvm::BasicBlock::Create(ctx, "mismatch", fn);
    size_t total = sig.inputs.size() + sig.outputs.size();
    auto *argvTy = llvm::ArrayType::get(ptr, std::max<size_t>(total, 1));
    llvm::Value *argv = b.CreateAlloca(argvTy);
    llvm::PHINode *code;
    {
      llvm::IRBuilder<>::InsertPointGuard guard(b);
      b.SetInsertPoint(mismatch);
      code = b.CreatePHI(i32, 0);
      b.CreateRet(code);
    }
    size_t slot = 0;
    auto check = [&](llvm::Value *cond) {
      llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx, "ok", fn);
      code->addIncoming(llvm::ConstantInt::get(i32, slot + 1),
                        b.GetInsertBlock());
      b.CreateCondBr(cond, next, mismatch);
      b.SetInsertPoint(next);
    };
    auto visit = [&](llvm::Value *array, ArrayRef<qc::TensorSpec> specs) {
      for (auto [i, spec] : llvm::enumerate(specs)) {
        llvm::Value *t = b.CreateGEP(tensorTy, array, b.getInt64(i));
        auto field = [&](unsigned f, llvm::Type *ty) {
          return b.CreateLoad(ty, b.CreateStructGEP(tensorTy, t, f));
        };
        llvm::Value *ok = b.CreateAnd(
            b.CreateICmpEQ(field(3, i32), b.getInt32(int32_t(spec.dtype))),
            b.CreateICmpEQ(field(2, i32), b.getInt32(spec.shape.size())));
        check(ok);
        if (!spec.shape.empty()) {
          llvm::Value *shape = field(1, ptr);
          llvm::Value *dimsOk = b.getTrue();
          for (auto [d, size] : llvm::enumerate(spec.shape))
            dimsOk = b.CreateAnd(
                dimsOk,
                b.CreateICmpEQ(
                    b.CreateLoad(i64, b.CreateGEP(i64, shape, b.getInt64(d))),
                    b.getInt64(size)));
          check(dimsOk);
        }
        b.CreateStore(
            field(0, ptr),
            b.CreateGEP(argvTy, argv, {b.getInt64(0), b.getInt64(slot)}));
        ++slot;
      }
    };
    visit(fn->getArg(0), sig.inputs);
    visit(fn->getArg(1), sig.outputs);
    SmallVector<llvm::Value *> extraArgs;
    for (unsigned i = 0; i < extra.size(); ++i)
      extraArgs.push_back(fn->getArg(2 + i));
    b.CreateRet(call(argv, extraArgs));
  }

  /// The byte sizes of the inputs then the outputs, as a constant table.
  llvm::Value *byteSizes() {
    SmallVector<int64_t> bytes;
    for (ArrayRef<qc::TensorSpec> specs : {ArrayRef(sig.inputs),
                                           ArrayRef(sig.outputs)})
      for (const qc::TensorSpec &spec : specs)
        bytes.push_back(spec.numElements() * qc::dtypeSize(spec.dtype));
    if (bytes.empty())
      bytes.push_back(0);
    auto *init = llvm::ConstantDataArray::get(ctx, ArrayRef<int64_t>(bytes));
    return new llvm::GlobalVariable(m, init->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, init,
                                    prefix + "_tensor_bytes");
  }

  llvm::FunctionCallee runtime(StringRef name, llvm::Type *ret,
                               ArrayRef<llvm::Type *> args) {
    return m.getOrInsertFunction(name,
                                 llvm::FunctionType::get(ret, args, false));
  }

  void build(llvm::Function *entry, EntryStyle style) {
    infoFunctions(sig.inputs, "input");
    infoFunctions(sig.outputs, "output");
    if (style == EntryStyle::Host) {
      checkedFunction("run", {}, [&](llvm::Value *argv, auto) {
        b.CreateCall(entry, {argv});
        return b.getInt32(0);
      });
      return;
    }
    // The cuda target: qc_run takes device pointers and runs on the GPU.
    llvm::Value *bytes = byteSizes();
    llvm::Value *nIn = b.getInt32(sig.inputs.size());
    llvm::Value *nOut = b.getInt32(sig.outputs.size());
    llvm::FunctionCallee runHost = runtime(
        "qcCudaRunHost", i32, {ptr, ptr, ptr, i32, i32});
    checkedFunction("run", {}, [&](llvm::Value *argv, auto) {
      return b.CreateCall(runHost, {entry, argv, bytes, nIn, nOut});
    });
    llvm::FunctionCallee runDevice =
        runtime("qcCudaRunDevice", i32, {ptr, ptr});
    checkedFunction("run_device", {}, [&](llvm::Value *argv, auto) {
      return b.CreateCall(runDevice, {entry, argv});
    });
    llvm::FunctionCallee time = runtime(
        "qcCudaTime", i32, {ptr, ptr, ptr, i32, i32, i32, i32, ptr});
    checkedFunction("time", {i32, i32, ptr},
                    [&](llvm::Value *argv, ArrayRef<llvm::Value *> extra) {
                      return b.CreateCall(time, {entry, argv, bytes, nIn, nOut,
                                                 extra[0], extra[1],
                                                 extra[2]});
                    });
    llvm::FunctionCallee lastError = runtime("qcCudaLastError", ptr, {});
    declare("last_error", ptr, {});
    b.CreateRet(b.CreateCall(lastError));
  }
};

} // namespace

std::unique_ptr<llvm::Module>
qc::cpu::translateToLLVMIR(ModuleOp lowered, const ModelSignature &sig,
                           StringRef prefix, llvm::LLVMContext &llvmContext) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  lowered.getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> m =
      translateModuleToLLVMIR(lowered, llvmContext, "model");
  if (!m)
    return nullptr;
  llvm::Function *entry = m->getFunction(kEntryPointName);
  if (!entry) {
    lowered.emitError() << "lowered module has no @" << kEntryPointName;
    return nullptr;
  }
  if (Error e = linkKernels(*m)) {
    lowered.emitError() << llvm::toString(std::move(e));
    return nullptr;
  }
  addCAPI(*m, sig, prefix, EntryStyle::Host);
  return m;
}

void qc::cpu::addCAPI(llvm::Module &m, const ModelSignature &sig,
                      StringRef prefix, EntryStyle style) {
  llvm::Function *entry = m.getFunction(kEntryPointName);
  CAPIBuilder(m, sig, prefix).build(entry, style);
  // Only the C API is exported; the entry point may be inlined into P_run.
  entry->setLinkage(llvm::GlobalValue::InternalLinkage);
}

Error qc::cpu::optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                              unsigned optLevel) {
  module.setDataLayout(tm.createDataLayout());
  module.setTargetTriple(tm.getTargetTriple());
  return makeOptimizingTransformer(optLevel, 0, &tm)(&module);
}

Error qc::cpu::emitObject(llvm::Module &module, llvm::TargetMachine &tm,
                          StringRef path) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + path + "': " + ec.message());
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr,
                             llvm::CodeGenFileType::ObjectFile))
    return fail("the target cannot emit object files");
  pm.run(module);
  return Error::success();
}

Expected<std::string> qc::cpu::openMPRuntime() {
  for (const char *path : {"/usr/lib/llvm-22/lib/libomp.so",
                           "/usr/lib/x86_64-linux-gnu/libomp.so.5"})
    if (llvm::sys::fs::exists(path))
      return std::string(path);
  return fail("--threads above 1 needs the OpenMP runtime libomp (Debian: "
              "apt-get install libomp-22-dev)");
}

/// Links an object into a shared library with the system C compiler driver.
static Error linkSharedLibrary(StringRef object, StringRef output,
                               bool openMP) {
  std::string driver = "cc";
  if (const char *cc = std::getenv("CC"); cc && *cc)
    driver = cc;
  auto program = llvm::sys::findProgramByName(driver);
  if (!program)
    return fail("cannot link a shared library: no C compiler driver '" +
                driver + "' on PATH (set CC, or use -c for an object)");
  std::string err;
  SmallVector<StringRef> args = {*program, "-shared", "-o",
                                 output,   object,    "-lm"};
  std::string omp, rpath;
  if (openMP) {
    auto lib = openMPRuntime();
    if (!lib)
      return lib.takeError();
    omp = *lib;
    rpath = "-Wl,-rpath," + llvm::sys::path::parent_path(omp).str();
    args.append({omp, rpath});
  }
  int rc =
      llvm::sys::ExecuteAndWait(*program, args, std::nullopt, {}, 0, 0, &err);
  if (rc != 0)
    return fail("linking '" + output + "' with " + *program + " failed" +
                (err.empty() ? "" : ": " + err));
  return Error::success();
}

Error qc::cpu::emitSharedLibrary(llvm::Module &module, llvm::TargetMachine &tm,
                                 StringRef path, unsigned threads) {
  SmallString<128> object;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("quant-compile", "o", object))
    return fail("cannot create a temporary object file: " + ec.message());
  llvm::FileRemover remover(object);
  if (Error e = emitObject(module, tm, object))
    return e;
  return linkSharedLibrary(object, path, threads > 1);
}

Error qc::cpu::emitLLVMIR(llvm::Module &module, StringRef path) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return fail("cannot write '" + path + "': " + ec.message());
  module.print(os, nullptr);
  return Error::success();
}

std::string qc::cpu::prefixFromPath(StringRef path) {
  StringRef stem = llvm::sys::path::stem(path);
  if (stem.starts_with("lib") && stem.size() > 3)
    stem = stem.drop_front(3);
  std::string out;
  for (char c : stem)
    out += llvm::isAlnum(c) ? c : '_';
  if (out.empty() || llvm::isDigit(out[0]))
    out = "m_" + out;
  return out;
}

std::string qc::cpu::generateHeader(const ModelSignature &sig,
                                    StringRef prefix, EntryStyle style) {
  std::string guard = StringRef(prefix).upper() + "_QC_MODEL_H";
  std::string s;
  llvm::raw_string_ostream os(s);
  auto describe = [&](ArrayRef<TensorSpec> specs, StringRef kind) {
    for (auto [i, t] : llvm::enumerate(specs)) {
      os << " *   " << kind << " " << i << ": \"" << t.name << "\" "
         << dtypeName(t.dtype) << " [";
      llvm::interleaveComma(t.shape, os);
      os << "]\n";
    }
  };
  os << "/* Generated by quant-compile: the C API of model '" << prefix
     << "'.\n"
     << " *\n";
  describe(sig.inputs, "input ");
  describe(sig.outputs, "output");
  os << " */\n#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "#ifndef QC_TENSOR_TYPES_DEFINED\n#define QC_TENSOR_TYPES_DEFINED\n"
     << "/* dtype codes are ONNX TensorProto's: 1 float32, 2 uint8, 3 int8,\n"
     << "   4 uint16, 5 int16, 6 int32, 7 int64, 9 bool, 10 float16,\n"
     << "   11 float64, 12 uint32, 13 uint64, 16 bfloat16. */\n"
     << "typedef struct qc_tensor {\n"
     << "  void *data;           /* dense, row-major */\n"
     << "  const int64_t *shape; /* rank dims */\n"
     << "  int32_t rank;\n  int32_t dtype;\n} qc_tensor;\n\n"
     << "typedef struct qc_tensor_info {\n  const char *name;\n"
     << "  int32_t dtype;\n  int32_t rank;\n  const int64_t *shape;\n"
     << "} qc_tensor_info;\n#endif\n\n";
  for (auto [i, t] : llvm::enumerate(sig.inputs))
    os << "#define " << StringRef(prefix).upper() << "_INPUT_" << i
       << "_ELEMENTS " << t.numElements() << "\n";
  for (auto [i, t] : llvm::enumerate(sig.outputs))
    os << "#define " << StringRef(prefix).upper() << "_OUTPUT_" << i
       << "_ELEMENTS " << t.numElements() << "\n";
  os << "\n/* Runs the model. inputs[" << sig.inputs.size() << "] and outputs["
     << sig.outputs.size() << "] are in the order above; each must\n"
     << "   have the dtype and shape above, output buffers allocated by the "
        "caller.\n"
     << "   Returns 0, or 1 + the index (inputs then outputs) of the first "
        "tensor\n"
     << "   whose dtype, rank or shape differs. Reentrant: no global state. "
        "*/\n"
     << "int32_t " << prefix
     << "_run(const qc_tensor *inputs, qc_tensor *outputs);\n\n";
  if (style == EntryStyle::CUDA)
    os << "/* Built for an NVIDIA GPU (quant-compile --target cuda): " << prefix
       << "_run copies\n"
       << "   the inputs to the GPU and the outputs back, and returns -1 on a "
          "CUDA\n"
       << "   error (no driver or GPU, a failed launch) that " << prefix
       << "_last_error()\n   describes (\"\" when none). */\n"
       << "const char *" << prefix << "_last_error(void);\n"
       << "/* As " << prefix
       << "_run, the data pointers in device memory (cuMemAlloc);\n"
       << "   synchronous. */\n"
       << "int32_t " << prefix
       << "_run_device(const qc_tensor *inputs, qc_tensor *outputs);\n"
       << "/* Host tensors, uploaded once; `warmup` untimed runs, then "
          "`repeat` runs\n"
       << "   timed by CUDA events: ms = median, min, mean. */\n"
       << "int32_t " << prefix
       << "_time(const qc_tensor *inputs, qc_tensor *outputs, int32_t "
          "warmup,\n"
       << "    int32_t repeat, float ms[3]);\n\n";
  os
     << "int32_t " << prefix << "_num_inputs(void);\n"
     << "int32_t " << prefix << "_num_outputs(void);\n"
     << "/* NULL when i is out of range. */\n"
     << "const qc_tensor_info *" << prefix << "_input_info(int32_t i);\n"
     << "const qc_tensor_info *" << prefix << "_output_info(int32_t i);\n\n"
     << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return s;
}
