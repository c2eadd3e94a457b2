//===- Passes.h - qc passes -------------------------------------*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_PASSES_H
#define QC_DIALECT_QC_TRANSFORMS_PASSES_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace qc {

#define GEN_PASS_DECL
#include "qc/Dialect/QC/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qc/Dialect/QC/Transforms/Passes.h.inc"

/// fold-batch-norm's folding of a constant per-channel Add into the bias of
/// the Conv, ConvTranspose or Gemm before it (equalize-layers uses it too).
void populateFoldBiasAddPatterns(mlir::RewritePatternSet &patterns);

} // namespace qc

#endif // QC_DIALECT_QC_TRANSFORMS_PASSES_H
