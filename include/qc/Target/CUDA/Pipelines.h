//===- Pipelines.h - the cuda target's pass pipelines -----------*- C++ -*-===//
//
// qc graph ops -> linalg -> bufferized parallel loops -> gpu.launch
// (qc-map-to-gpu) -> outlined kernels -> NVVM -> PTX or cubin in a
// gpu.binary, and host code calling the runtime (mgpu*) in the LLVM dialect.
//
//===----------------------------------------------------------------------===//
#ifndef QC_TARGET_CUDA_PIPELINES_H
#define QC_TARGET_CUDA_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace qc::cuda {

struct CodegenPipelineOptions
    : mlir::PassPipelineOptions<CodegenPipelineOptions> {
  Option<std::string> graphFunction{
      *this, "graph-function",
      llvm::cl::desc("qc-compile-model-cuda: the function to compile"),
      llvm::cl::init("main_graph")};
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture (sm_80, sm_90, "
                                          "sm_90a)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> binaryFormat{
      *this, "binary-format",
      llvm::cl::desc("isa (PTX), bin (cubin; needs ptxas), or none (stop "
                     "before serializing: NVVM IR in gpu.module)"),
      llvm::cl::init("isa")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit root, for ptxas (binary-format=bin)"),
      llvm::cl::init("")};
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("Device code optimization level"),
                            llvm::cl::init(3)};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block of the loop kernels"),
      llvm::cl::init(256)};
  Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("Run integer matmuls and convolutions as i8 GEMMs on "
                     "the int8 tensor cores (mma.sync, sm_80 and later)"),
      llvm::cl::init(true)};
  Option<bool> w4{
      *this, "w4",
      llvm::cl::desc("With tensor-cores: pack matmul weights that fit in 4 "
                     "bits two a byte (W4A8 kernels)"),
      llvm::cl::init(true)};
};

/// convert-qc-to-linalg, then linalg to GPU kernels and the LLVM dialect.
void buildCUDACodegenPassPipeline(mlir::OpPassManager &pm,
                                  const CodegenPipelineOptions &options);
/// The halves of it: qc to linalg (for reporting what is left of qc), and
/// linalg to the LLVM dialect with the device code serialized.
void buildQCToLinalgPassPipeline(mlir::OpPassManager &pm,
                                 const CodegenPipelineOptions &options);
void buildLinalgToNVVMPassPipeline(mlir::OpPassManager &pm,
                                   const CodegenPipelineOptions &options);
/// create-entry-point, then buildCUDACodegenPassPipeline.
void buildCompileModelPassPipeline(mlir::OpPassManager &pm,
                                   const CodegenPipelineOptions &options);

/// Registers qc-lower-to-nvvm and qc-compile-model-cuda, and the passes.
void registerCUDAPipelines();

} // namespace qc::cuda

#endif // QC_TARGET_CUDA_PIPELINES_H
