//===- Passes.h - passes of the quantization library ------------*- C++ -*-===//
#ifndef QC_QUANTIZATION_PASSES_H
#define QC_QUANTIZATION_PASSES_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace qc {

#define GEN_PASS_DECL
#include "qc/Quantization/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qc/Quantization/Passes.h.inc"

} // namespace qc

#endif // QC_QUANTIZATION_PASSES_H
