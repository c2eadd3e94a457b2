//===- Pipelines.h - registered lowering pipelines --------------*- C++ -*-===//
#ifndef QC_CONVERSION_PIPELINES_H
#define QC_CONVERSION_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace qc {

/// Adds the passes from linalg-on-tensors (and tensor, arith, math) to the
/// LLVM dialect: bufferization, deallocation, loops, LLVM conversions.
llvm::LogicalResult buildLinalgToLLVMPipeline(mlir::OpPassManager &pm,
                                              unsigned threads = 1);

/// Adds the passes from qc graph ops to the LLVM dialect to `pm` (a module
/// pass manager).
llvm::LogicalResult buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                                             unsigned threads = 1);

/// Adds qc-create-entry-point for `graphFunction`, then the lowering to the
/// LLVM dialect: what quant-compile and quant-run run.
llvm::LogicalResult
buildCompileModelPipeline(mlir::OpPassManager &pm,
                          llvm::StringRef graphFunction = "main_graph");

/// Registers `qc-lower-to-llvm` and `qc-compile-model` for quant-opt.
void registerQCPipelines();

} // namespace qc

#endif // QC_CONVERSION_PIPELINES_H
