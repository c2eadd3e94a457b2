//===- Pipelines.cpp - the cuda target's pass pipelines -------------------===//
#include "qc/Target/CUDA/Pipelines.h"
#include "qc/Conversion/Passes.h"
#include "qc/Target/CUDA/Passes.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void qc::cuda::buildQCToLinalgPassPipeline(
    OpPassManager &pm, const CodegenPipelineOptions &options) {
  if (options.tensorCores) {
    qc::cuda::FormInt8GemmOptions form;
    form.w4 = options.w4;
    pm.addPass(createFormInt8Gemm(form));
  }
  pm.addPass(createConvertQCToLinalg());
}

void qc::cuda::buildLinalgToNVVMPassPipeline(
    OpPassManager &pm, const CodegenPipelineOptions &options) {
  pm.addPass(createFuseElementwise());
  pm.addPass(createApproximateMath());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createFoldMemRefAliasOpsPass());
  // No buffer deallocation pipeline: its ownership bookkeeping is host
  // memory the kernels would be handed; qc-map-to-gpu frees each device
  // buffer after its last use instead.
  pm.addPass(createConvertMemRefCopyToLinalg());
  // The i8 GEMMs qc-cuda-form-int8-gemm made become tensor-core kernels
  // (gpu.launch) before the other linalg ops become loops.
  if (options.tensorCores) {
    // wgmma exists only in the architecture-specific sm_90a.
    Int8GemmToMMAOptions mma;
    mma.wgmma = options.chip.getValue() == "sm_90a";
    pm.addPass(createInt8GemmToMMA(mma));
  }
  // The other matmuls (f32 and i32 accumulators): shared-memory tiles
  // instead of a thread per output.
  pm.addPass(createTileFloatMatmul());
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  MapToGPUOptions map;
  map.blockSize = options.blockSize;
  pm.addPass(createMapToGPU(map));
  // Constants the canonicalizer hoisted out of the launches go back in
  // (else they become kernel parameters: divisions by a parameter, ...).
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  // PTX 8.4: the dense FP8 mma.sync (sm_89 and later).
  target.features = "+ptx84";
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  // Index arithmetic in 32 bits where the ranges of the thread and block
  // ids (known from the launch) and of the loops prove it fits: 64-bit
  // integer multiplies and divisions are emulated on the GPU.
  arith::ArithIntRangeNarrowingOptions narrow;
  narrow.bitwidthsSupported = {32};
  device.addPass(arith::createArithIntRangeNarrowing(narrow));
  device.addPass(createCanonicalizerPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  device.addPass(createConvertNVGPUToNVVMPass());
  device.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  // NVVM ops without an LLVM intrinsic (wgmma.mma_async) as inline PTX.
  device.addPass(createConvertNVVMToLLVMPass());
  device.addPass(createCanonicalizerPass());
  device.addPass(createCSEPass());
  device.addPass(createReconcileUnrealizedCastsPass());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (options.binaryFormat.getValue() != "none") {
    GpuModuleToBinaryPassOptions binary;
    binary.compilationTarget = options.binaryFormat;
    binary.toolkitPath = options.toolkit;
    pm.addPass(createGpuModuleToBinaryPass(binary));
  }
  pm.addPass(createCanonicalizerPass());
}

void qc::cuda::buildCUDACodegenPassPipeline(
    OpPassManager &pm, const CodegenPipelineOptions &options) {
  buildQCToLinalgPassPipeline(pm, options);
  buildLinalgToNVVMPassPipeline(pm, options);
}

void qc::cuda::buildCompileModelPassPipeline(
    OpPassManager &pm, const CodegenPipelineOptions &options) {
  CreateEntryPointOptions entry;
  entry.graphFunction = options.graphFunction.getValue();
  pm.addPass(createCreateEntryPoint(entry));
  buildCUDACodegenPassPipeline(pm, options);
}

void qc::cuda::registerCUDAPipelines() {
  registerQCCUDAPasses();
  PassPipelineRegistration<CodegenPipelineOptions>(
      "qc-lower-to-nvvm",
      "Lower qc graph ops to GPU kernels (NVVM, serialized to PTX or a "
      "cubin) and host code calling the CUDA runtime, in the LLVM dialect",
      buildCUDACodegenPassPipeline);
  PassPipelineRegistration<CodegenPipelineOptions>(
      "qc-compile-model-cuda",
      "Wrap the graph function in the qc_run entry point, then "
      "qc-lower-to-nvvm",
      buildCompileModelPassPipeline);
}
