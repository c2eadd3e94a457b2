//===- Passes.h - linalg, memref and math transforms ------------*- C++ -*-===//
#ifndef QC_TRANSFORMS_PASSES_H
#define QC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace qc {

#define GEN_PASS_DECL
#include "qc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qc/Transforms/Passes.h.inc"

} // namespace qc

#endif // QC_TRANSFORMS_PASSES_H
