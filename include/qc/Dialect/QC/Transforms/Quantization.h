//===- Quantization.h - quantization parameters from ranges -----*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_QUANTIZATION_H
#define QC_DIALECT_QC_TRANSFORMS_QUANTIZATION_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/ADT/StringRef.h"
#include <optional>

namespace qc {

/// The activation type of the range [lo, hi] (widened to include 0) with
/// `bits` levels' worth of storage in an 8-bit container: asymmetric uint8
/// (scale (hi - lo) / (2^bits - 1), zero point in [0, 2^bits - 1]) or
/// symmetric int8 (scale max(|lo|, |hi|) / (2^(bits-1) - 1), zero point 0,
/// storage [-2^(bits-1), 2^(bits-1) - 1]).
mlir::quant::UniformQuantizedType activationType(mlir::MLIRContext *ctx,
                                                 double lo, double hi,
                                                 bool isSigned,
                                                 mlir::Type expressed,
                                                 unsigned bits = 8);

/// N of a weight granularity "block:N" (N >= 1); none for anything else.
inline std::optional<int64_t> weightBlockSize(llvm::StringRef granularity) {
  int64_t n;
  if (!granularity.consume_front("block:") || granularity.getAsInteger(10, n) || n < 1)
    return std::nullopt;
  return n;
}

} // namespace qc

#endif
