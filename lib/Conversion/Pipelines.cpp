//===- Pipelines.cpp - registered lowering pipelines ----------------------===//
#include "qc/Conversion/Pipelines.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

/// From qc graph ops to the LLVM dialect: f32 contractions register-tiled
/// and vectorized, the other linalg ops as ordered loops (LLVM vectorizes
/// their inner loops); what JIT execution and the tests use.
static const char *kLinalgToLLVM =
    "qc-linalg-vectorize,qc-linalg-loop-order,"
    "one-shot-bufferize{bufferize-function-boundaries allow-return-allocs-from-loops "
    "function-boundary-type-conversion=identity-layout-map},"
    "cse,canonicalize,fold-memref-alias-ops,qc-hoist-vector-transfers,"
    "buffer-deallocation-pipeline,convert-memref-copy-to-linalg,"
    "convert-linalg-to-loops,convert-vector-to-scf{full-unroll=true},"
    "expand-strided-metadata,lower-affine,"
    "convert-math-to-funcs,convert-scf-to-cf,convert-vector-to-llvm,"
    "convert-math-to-llvm,convert-math-to-libm,"
    "finalize-memref-to-llvm,convert-arith-to-llvm,convert-cf-to-llvm,"
    "convert-func-to-llvm,convert-ub-to-llvm,reconcile-unrealized-casts";

LogicalResult qc::buildLinalgToLLVMPipeline(OpPassManager &pm) {
  return parsePassPipeline(kLinalgToLLVM, pm, llvm::errs());
}

LogicalResult qc::buildLowerToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createConvertQCToLinalg());
  return buildLinalgToLLVMPipeline(pm);
}

LogicalResult qc::buildCompileModelPipeline(OpPassManager &pm,
                                            llvm::StringRef graphFunction) {
  CreateEntryPointOptions options;
  options.graphFunction = graphFunction.str();
  pm.addPass(createCreateEntryPoint(options));
  return buildLowerToLLVMPipeline(pm);
}

void qc::registerQCPipelines() {
  PassPipelineRegistration<>(
      "qc-lower-to-llvm",
      "Lower qc graph ops through linalg, bufferization and loops to the "
      "LLVM dialect",
      [](OpPassManager &pm) { (void)buildLowerToLLVMPipeline(pm); });
  PassPipelineRegistration<>(
      "qc-compile-model",
      "Wrap @main_graph in the qc_run entry point, then qc-lower-to-llvm",
      [](OpPassManager &pm) { (void)buildCompileModelPipeline(pm); });
}
