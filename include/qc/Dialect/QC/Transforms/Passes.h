//===- Passes.h - qc passes -------------------------------------*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_PASSES_H
#define QC_DIALECT_QC_TRANSFORMS_PASSES_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"

#include "mlir/Pass/Pass.h"

namespace qc {

#define GEN_PASS_DECL
#include "qc/Dialect/QC/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qc/Dialect/QC/Transforms/Passes.h.inc"

} // namespace qc

#endif // QC_DIALECT_QC_TRANSFORMS_PASSES_H
