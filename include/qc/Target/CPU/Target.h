//===- Target.h - the x86 CPU target ----------------------------*- C++ -*-===//
//
// Code generation for x86 CPUs: from an imported module of qc graph ops to
// the LLVM dialect (Pipelines.h), to LLVM IR with the microkernels linked in
// and the model's C API added, to an object, a shared library and its C
// header. lib/Runtime loads what this produces (qc::Model); a GPU target
// would sit beside this one (lib/Target/CUDA) with the same shape.
//
// The C API of a model compiled with prefix P (see generateHeader):
//   int32_t P_run(const qc_tensor *inputs, qc_tensor *outputs);
//   int32_t P_num_inputs(void), P_num_outputs(void);
//   const qc_tensor_info *P_input_info(int32_t), *P_output_info(int32_t);
//
//===----------------------------------------------------------------------===//
#ifndef QC_TARGET_CPU_TARGET_H
#define QC_TARGET_CPU_TARGET_H

#include "qc/Conversion/EntryPoint.h"
#include "qc/Kernels/KernelISA.h"
#include "qc/Target/CPU/TargetOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"
#include <memory>

namespace qc::cpu {

/// Resolves the kernel choices of `options` for options.cpu, in place: Auto
/// becomes the best variant the CPU has (int8: VNNI, else Generic; f32:
/// AVX512, else None). An explicit instruction set the CPU lacks, or an
/// unknown CPU, is an error. Idempotent.
llvm::Error resolveKernels(TargetOptions &options);

/// The instruction-set features CPU `cpu` (an LLVM CPU name; "native": none)
/// has and this host lacks: code built for it may stop with SIGILL here.
/// Unknown CPUs give none (resolveKernels reports them).
std::vector<std::string> missingHostFeatures(llvm::StringRef cpu);

/// The instruction sets of resolved kernel choices (None for Auto).
kernels::Int8ISA int8ISA(Int8Kernels choice);
kernels::F32ISA f32ISA(F32Kernels choice);

/// Registers with `context` every dialect a model module may contain, the
/// dialects the lowering produces and their translations to LLVM IR.
void registerDialects(mlir::MLIRContext &context);

/// Lowers the qc graph in @`graphFunction` of `module` to the LLVM dialect
/// around the qc_run entry point (qc-compile-model with the kernels
/// resolveKernels picks for `options`) and returns the model's signature. Ops
/// the lowering does not cover are reported (with their location) as errors, as
/// is a kernel choice the CPU cannot run.
llvm::FailureOr<ModelSignature> lowerToLLVM(mlir::ModuleOp module,
                                            llvm::StringRef graphFunction,
                                            const TargetOptions &options);

/// Reports each kind of qc op left in `module` after its lowering to linalg
/// (one error at the first occurrence, naming `target`); failure if any.
llvm::LogicalResult checkLowered(mlir::ModuleOp module, llvm::StringRef target);

/// What every target's lowering does around its pipelines: finds
/// @`graphFunction` and its signature, runs create-entry-point and
/// `toLinalg`'s passes, reports the qc ops left (checkLowered, naming
/// `target`), then runs `toLLVM`'s passes. Returns the signature.
llvm::FailureOr<ModelSignature>
lowerInTwoHalves(mlir::ModuleOp module, llvm::StringRef graphFunction,
                 llvm::StringRef target,
                 llvm::function_ref<void(mlir::OpPassManager &)> toLinalg,
                 llvm::function_ref<void(mlir::OpPassManager &)> toLLVM);

/// A target machine for options.cpu on the host's triple.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetOptions &options, bool jit);

/// Translates a lowered module to LLVM IR, links the microkernels it
/// declares (from the embedded bitcode) and adds the C API with `prefix`.
/// Null (after a diagnostic) on failure.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp lowered,
                                                const ModelSignature &sig,
                                                llvm::StringRef prefix,
                                                llvm::LLVMContext &llvmContext);

/// Runs LLVM's optimization pipeline at `optLevel` for `tm`.
llvm::Error optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                           unsigned optLevel);

/// Writes `module` as LLVM IR text, an object file, or a shared library (an
/// object linked by the system C compiler driver, $CC else cc; with the
/// OpenMP runtime when `threads` > 1).
llvm::Error emitLLVMIR(llvm::Module &module, llvm::StringRef path);
llvm::Error emitObject(llvm::Module &module, llvm::TargetMachine &tm,
                       llvm::StringRef path);
llvm::Error emitSharedLibrary(llvm::Module &module, llvm::TargetMachine &tm,
                              llvm::StringRef path, unsigned threads);

/// How the C API reaches the qc_run entry point: directly (host code), or
/// through the CUDA runtime (lib/Runtime/CUDA), where qc_run takes device
/// pointers: P_run uploads and downloads, and P_run_device, P_time and
/// P_last_error are added.
enum class EntryStyle { Host, CUDA };

/// Adds the model's C API with `prefix` around qc_run in `m` (which it makes
/// internal).
void addCAPI(llvm::Module &m, const ModelSignature &sig, llvm::StringRef prefix,
             EntryStyle style);

/// The C header declaring the API of a model compiled with `prefix`.
std::string generateHeader(const ModelSignature &sig, llvm::StringRef prefix,
                           EntryStyle style = EntryStyle::Host);

/// A C identifier made from a file name: "libmodel.so" -> "model".
std::string prefixFromPath(llvm::StringRef path);

/// The OpenMP runtime (libomp) multi-threaded models call: its path, or an
/// error saying what to install.
llvm::Expected<std::string> openMPRuntime();

} // namespace qc::cpu

#endif // QC_TARGET_CPU_TARGET_H
