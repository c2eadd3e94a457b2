//===- Pipelines.h - registered lowering pipelines --------------*- C++ -*-===//
#ifndef QC_CONVERSION_PIPELINES_H
#define QC_CONVERSION_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace qc {

/// Adds the passes from qc graph ops to the LLVM dialect to `pm` (a module
/// pass manager).
llvm::LogicalResult buildLowerToLLVMPipeline(mlir::OpPassManager &pm);

/// Registers `qc-lower-to-llvm` for quant-opt.
void registerQCPipelines();

} // namespace qc

#endif // QC_CONVERSION_PIPELINES_H
