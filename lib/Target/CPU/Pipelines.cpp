//===- Pipelines.cpp - the CPU target's pass pipelines --------------------===//
#include "qc/Target/CPU/Pipelines.h"
#include "qc/Conversion/Passes.h"
#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void qc::cpu::buildQCToLinalgPassPipeline(
    OpPassManager &pm, const CodegenPipelineOptions &options) {
  LowerToMicrokernelsOptions kernels;
  kernels.int8Kernels = options.int8Kernels.getValue();
  kernels.f32Kernels = options.f32Kernels.getValue();
  kernels.lowbitKernels = options.lowbitKernels.getValue();
  kernels.reportChoices = options.reportChoices.getValue();
  kernels.bytePermutes = options.bytePermutes.getValue();
  kernels.bf16Dot = options.bf16Dot.getValue();
  kernels.kernelTasks = options.threads.getValue();
  kernels.residualAdds = options.residualAdds.getValue();
  // Float builds too: upsampling ConvTranspose as a 1x1 conv the kernels run.
  pm.addPass(createDecomposeConvTranspose());
  if (options.channelsLast && options.int8Kernels != kernels::Int8ISA::None)
    pm.addNestedPass<func::FuncOp>(createChannelsLastConvs());
  pm.addPass(createLowerToMicrokernels(kernels));
  pm.addPass(createConvertQCToLinalg());
}

void qc::cpu::buildLinalgToLLVMPassPipeline(
    OpPassManager &pm, const CodegenPipelineOptions &options) {
  bool parallel = options.threads.getValue() > 1;
  pm.addPass(createFuseElementwise());
  pm.addPass(createApproximateMath());
  pm.addPass(createReassociateReductions());
  LinalgVectorizeOptions vectorize;
  vectorize.parallel = parallel;
  pm.addPass(createLinalgVectorize(vectorize));
  pm.addPass(createLinalgLoopOrder());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createForwardOutputBuffers());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createFoldMemRefAliasOpsPass());
  pm.addPass(createHoistVectorTransfers());
  bufferization::buildBufferDeallocationPipeline(pm);
  if (options.planBuffers)
    pm.addNestedPass<func::FuncOp>(createPlanBuffers());
  pm.addPass(createConvertMemRefCopyToLinalg());
  if (parallel)
    pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // With threads: OpenMP worksharing loops, whose thread count is the
  // runtime's (omp_set_num_threads, OMP_NUM_THREADS). Their bodies sit in
  // memref.alloca_scope regions, which must become LLVM (one block) before
  // the scf.for loops inside become blocks: vector and memref go to LLVM
  // before scf does.
  if (parallel) {
    pm.addPass(createConvertSCFToOpenMPPass());
    pm.addPass(createConvertVectorToLLVMPass());
    pm.addPass(createFinalizeMemRefToLLVMConversionPass());
    pm.addPass(createConvertMathToFuncs());
    pm.addPass(createSCFToControlFlowPass());
  } else {
    pm.addPass(createConvertMathToFuncs());
    pm.addPass(createSCFToControlFlowPass());
    pm.addPass(createConvertVectorToLLVMPass());
  }
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  if (!parallel)
    pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  if (parallel)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void qc::cpu::buildCPUCodegenPassPipeline(
    OpPassManager &pm, const CodegenPipelineOptions &options) {
  buildQCToLinalgPassPipeline(pm, options);
  buildLinalgToLLVMPassPipeline(pm, options);
}

void qc::cpu::buildCompileModelPassPipeline(
    OpPassManager &pm, const CodegenPipelineOptions &options) {
  CreateEntryPointOptions entry;
  entry.graphFunction = options.graphFunction.getValue();
  pm.addPass(createCreateEntryPoint(entry));
  buildCPUCodegenPassPipeline(pm, options);
}

void qc::cpu::registerCPUPipelines() {
  PassPipelineRegistration<CodegenPipelineOptions>(
      "qc-lower-to-llvm",
      "Lower qc graph ops (through the microkernels the options name, linalg, "
      "bufferization and loops) to the LLVM dialect",
      buildCPUCodegenPassPipeline);
  PassPipelineRegistration<CodegenPipelineOptions>(
      "qc-compile-model",
      "Wrap the graph function in the qc_run entry point, then "
      "qc-lower-to-llvm",
      buildCompileModelPassPipeline);
}
