//===- Target.h - the NVIDIA GPU target -------------------------*- C++ -*-===//
//
// Code generation for NVIDIA GPUs: the qc graph in @main_graph becomes GPU
// kernels (serialized to PTX or a cubin, embedded as data) and host code
// that allocates, launches and frees through the runtime of
// lib/Runtime/CUDA (linked in as bitcode; it loads libcuda.so.1 with
// dlopen). The host side is compiled by the CPU target's back end, and the
// library has the CPU target's C API (qc::cpu::EntryStyle::CUDA): P_run
// with host pointers, plus P_run_device, P_time and P_last_error.
//
//===----------------------------------------------------------------------===//
#ifndef QC_TARGET_CUDA_TARGET_H
#define QC_TARGET_CUDA_TARGET_H

#include "qc/Conversion/EntryPoint.h"
#include "qc/Target/CUDA/TargetOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

namespace qc::cuda {

/// Parses a --target value's architecture part: "" (the default) or
/// "sm_NN[a]" into options.chip.
llvm::Error parseChip(llvm::StringRef chip, TargetOptions &options);

/// Resolves options.format (Auto: cubin when ptxas is found) in place; an
/// error for Cubin without ptxas.
llvm::Error resolveFormat(TargetOptions &options);

/// Lowers @`graphFunction` of `module` to GPU kernels and LLVM-dialect host
/// code around qc_run (qc-compile-model-cuda), with the device code
/// serialized; returns the model's signature. Ops the GPU path does not
/// lower are errors at their locations (their ONNX nodes).
llvm::FailureOr<ModelSignature> lowerToLLVM(mlir::ModuleOp module,
                                            llvm::StringRef graphFunction,
                                            const TargetOptions &options);

/// Host LLVM IR of a lowered module: the launches, the embedded device code,
/// the runtime linked in and the C API with `prefix`. Null after a
/// diagnostic on failure.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp lowered,
                                                const ModelSignature &sig,
                                                llvm::StringRef prefix,
                                                llvm::LLVMContext &llvmContext);

/// The host code's target machine (options.hostCPU).
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createHostTargetMachine(const TargetOptions &options);

} // namespace qc::cuda

#endif // QC_TARGET_CUDA_TARGET_H
