//===- Quantization.h - quantization parameters from ranges -----*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_QUANTIZATION_H
#define QC_DIALECT_QC_TRANSFORMS_QUANTIZATION_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"

namespace qc {

/// The 8-bit activation type of the range [lo, hi] (widened to include 0):
/// asymmetric uint8 (scale (hi - lo) / 255, zero point in [0, 255]) or
/// symmetric int8 (scale max(|lo|, |hi|) / 127, zero point 0).
mlir::quant::UniformQuantizedType activationType(mlir::MLIRContext *ctx,
                                                 double lo, double hi,
                                                 bool isSigned,
                                                 mlir::Type expressed);

} // namespace qc

#endif
