//===- Pipelines.cpp - registered lowering pipelines ----------------------===//
#include "qc/Conversion/Pipelines.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

/// From linalg (on tensors) to the LLVM dialect: f32 contractions
/// register-tiled and vectorized, the other linalg ops as ordered loops
/// (LLVM vectorizes their inner loops). With threads > 1 the contractions'
/// output tiles and every other op's parallel loops become OpenMP
/// worksharing loops.
LogicalResult qc::buildLinalgToLLVMPipeline(OpPassManager &pm, unsigned threads) {
  bool parallel = threads > 1;
  std::string p = "qc-fuse-elementwise,qc-approximate-math,qc-reassociate-reductions,";
  p += parallel ? "qc-linalg-vectorize{parallel=true}," : "qc-linalg-vectorize,";
  p += "qc-linalg-loop-order,"
       "one-shot-bufferize{bufferize-function-boundaries allow-return-allocs-from-loops "
       "function-boundary-type-conversion=identity-layout-map},"
       "cse,canonicalize,fold-memref-alias-ops,qc-hoist-vector-transfers,"
       "buffer-deallocation-pipeline,convert-memref-copy-to-linalg,";
  if (parallel)
    p += "scf-forall-to-parallel,";
  p += "convert-linalg-to-loops,convert-vector-to-scf{full-unroll=true},"
       "expand-strided-metadata,lower-affine,";
  // With threads: OpenMP worksharing loops, whose thread count is the
  // runtime's (omp_set_num_threads, OMP_NUM_THREADS). Their bodies sit in
  // memref.alloca_scope regions, which must become LLVM (one block) before
  // the scf.for loops inside become blocks: vector and memref go to LLVM
  // before scf does.
  p += parallel ? "convert-scf-to-openmp,convert-vector-to-llvm,finalize-memref-to-llvm,"
                  "convert-math-to-funcs,convert-scf-to-cf,"
                : "convert-math-to-funcs,convert-scf-to-cf,convert-vector-to-llvm,";
  p += "convert-math-to-llvm,convert-math-to-libm,";
  if (!parallel)
    p += "finalize-memref-to-llvm,";
  p += "convert-arith-to-llvm,convert-cf-to-llvm,";
  if (parallel)
    p += "convert-openmp-to-llvm,";
  p += "convert-func-to-llvm,convert-ub-to-llvm,reconcile-unrealized-casts";
  return parsePassPipeline(p, pm, llvm::errs());
}

LogicalResult qc::buildLowerToLLVMPipeline(OpPassManager &pm, unsigned threads) {
  pm.addPass(createConvertQCToLinalg());
  return buildLinalgToLLVMPipeline(pm, threads);
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
