//===- Pipelines.cpp - registered lowering pipelines ----------------------===//
#include "qc/Conversion/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

/// From qc graph ops to the LLVM dialect, through linalg loops (no tiling or
/// vectorization yet); what JIT execution and the tests use.
static const char *kLowerToLLVM =
    "convert-qc-to-linalg,"
    "one-shot-bufferize{bufferize-function-boundaries},"
    "convert-linalg-to-loops,expand-strided-metadata,lower-affine,"
    "convert-scf-to-cf,convert-math-to-libm,convert-math-to-llvm,"
    "finalize-memref-to-llvm,convert-arith-to-llvm,convert-cf-to-llvm,"
    "convert-func-to-llvm,reconcile-unrealized-casts";

LogicalResult qc::buildLowerToLLVMPipeline(OpPassManager &pm) {
  return parsePassPipeline(kLowerToLLVM, pm, llvm::errs());
}

void qc::registerQCPipelines() {
  PassPipelineRegistration<>(
      "qc-lower-to-llvm",
      "Lower qc graph ops through linalg, bufferization and loops to the "
      "LLVM dialect",
      [](OpPassManager &pm) { (void)buildLowerToLLVMPipeline(pm); });
}
