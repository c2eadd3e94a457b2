//===- Pipelines.h - the CPU target's pass pipelines ------------*- C++ -*-===//
//
// From qc graph ops to the LLVM dialect for x86 CPUs, as typed pipelines
// (upstream's buildSparsifierPipeline shape): quant-opt runs them by name
// (qc-lower-to-llvm, qc-compile-model) and qc::cpu::lowerToLLVM builds the
// same passes.
//
//===----------------------------------------------------------------------===//
#ifndef QC_TARGET_CPU_PIPELINES_H
#define QC_TARGET_CPU_PIPELINES_H

#include "qc/Kernels/KernelISA.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace qc::cpu {

/// What the code-generation pipelines are told: kernels already resolved
/// for a CPU (qc::cpu::resolveOptions), threads, the graph to compile.
struct CodegenPipelineOptions
    : mlir::PassPipelineOptions<CodegenPipelineOptions> {
  PassOptions::Option<std::string> graphFunction{
      *this, "graph-function",
      llvm::cl::desc("The imported graph function qc-create-entry-point wraps"),
      llvm::cl::init("main_graph")};
  PassOptions::Option<unsigned> threads{
      *this, "threads",
      llvm::cl::desc(
          "Threads the model runs on (OpenMP worksharing loops when above 1)"),
      llvm::cl::init(1)};
  PassOptions::Option<kernels::Int8ISA> int8Kernels{
      *this, "int8-kernels", llvm::cl::desc("The int8 microkernels to call"),
      llvm::cl::init(kernels::Int8ISA::None), clValues<kernels::Int8ISA>()};
  PassOptions::Option<kernels::LowBitMethod> lowbitKernels{
      *this, "lowbit-kernels",
      llvm::cl::desc("How products of #qc.lowbit weights are computed"),
      llvm::cl::init(kernels::LowBitMethod::Unpack),
      clValues<kernels::LowBitMethod>()};
  PassOptions::Option<bool> reportChoices{
      *this, "report-choices",
      llvm::cl::desc("Remark on products that cannot take the lowbit kernels "
                     "asked for"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> bytePermutes{
      *this, "byte-permutes",
      llvm::cl::desc("The target CPU has AVX-512 VBMI (fused tables)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> bf16Dot{
      *this, "bf16-dot",
      llvm::cl::desc("The target CPU has AVX512-BF16 (the FP8 kernel's "
                     "vdpbf16ps)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> channelsLast{
      *this, "channels-last",
      llvm::cl::desc("Run chains of int8 convolutions channels-last "
                     "(channels-last-convs) when the int8 kernels are on"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> residualAdds{
      *this, "residual-adds",
      llvm::cl::desc("Fuse residual adds into channels-last int8 conv "
                     "epilogues (qc-lower-to-microkernels residual-adds)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> planBuffers{
      *this, "plan-buffers",
      llvm::cl::desc("Place each function's intermediate buffers in one "
                     "arena, sharing bytes by liveness (qc-plan-buffers)"),
      llvm::cl::init(true)};
  PassOptions::Option<kernels::F32ISA> f32Kernels{
      *this, "f32-kernels", llvm::cl::desc("The float microkernels to call"),
      llvm::cl::init(kernels::F32ISA::None), clValues<kernels::F32ISA>()};
};

/// qc graph ops to linalg on tensors: qc-lower-to-microkernels (the kernels
/// `options` name), then convert-qc-to-linalg.
void buildQCToLinalgPassPipeline(mlir::OpPassManager &pm,
                                 const CodegenPipelineOptions &options);

/// linalg on tensors (and tensor, arith, math, vector) to the LLVM dialect:
/// f32 contractions register-tiled and vectorized, the other linalg ops as
/// ordered loops, bufferization, deallocation, the LLVM conversions. With
/// threads > 1, OpenMP worksharing loops.
void buildLinalgToLLVMPassPipeline(mlir::OpPassManager &pm,
                                   const CodegenPipelineOptions &options);

/// qc-lower-to-llvm: buildQCToLinalgPassPipeline, then
/// buildLinalgToLLVMPassPipeline.
void buildCPUCodegenPassPipeline(mlir::OpPassManager &pm,
                                 const CodegenPipelineOptions &options);

/// qc-compile-model: qc-create-entry-point for options.graphFunction, then
/// buildCPUCodegenPassPipeline; what quant-compile and quant-run run.
void buildCompileModelPassPipeline(mlir::OpPassManager &pm,
                                   const CodegenPipelineOptions &options);

/// Registers qc-lower-to-llvm and qc-compile-model (for quant-opt).
void registerCPUPipelines();

} // namespace qc::cpu

#endif // QC_TARGET_CPU_PIPELINES_H
