//===- SensitivityLayers.h - the layers bit widths are chosen for -*- C++
//-*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_SENSITIVITYLAYERS_H
#define QC_DIALECT_QC_TRANSFORMS_SENSITIVITYLAYERS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SmallVector.h"

namespace qc {

/// The weight layers whose formats bit-width assignment chooses, in walk
/// order: Conv, Gemm (not transA) and MatMul (2-D weight) with a constant f32
/// weight and a calibrated qc.observe as input. The sensitivity driver and
/// the parameterize-for-sensitivity pass number layers by this list.
llvm::SmallVector<mlir::Operation *>
sensitivityLayers(mlir::func::FuncOp graph);

/// The observers parameterize-for-sensitivity puts a switch on, in the order
/// of its `fq:<g>` arguments: the distinct inputs of `sensitivityLayers` in
/// first-use order, then (with `all`) every other calibrated observer in walk
/// order.
llvm::SmallVector<mlir::Operation *> switchedObservers(mlir::func::FuncOp graph,
                                                       bool all);

} // namespace qc

#endif
