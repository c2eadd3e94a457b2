//===- Constants.h - reading and writing constant tensors -------*- C++ -*-===//
//
// Weights are arith.constant ops holding DenseResourceElementsAttr blobs (or,
// when small, dense attributes). Rewrites that compute new weights read them
// as flat vectors and write new blobs.
//
//===----------------------------------------------------------------------===//
#ifndef QC_DIALECT_QC_TRANSFORMS_CONSTANTS_H
#define QC_DIALECT_QC_TRANSFORMS_CONSTANTS_H

#include "qc/Dialect/QC/IR/ElementsData.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include <optional>
#include <vector>

namespace qc {

/// The row-major values of a constant f32 tensor (resource blob or dense
/// attribute); none when `v` is not one.
std::optional<std::vector<float>> readFloatConstant(mlir::Value v);

/// The row-major values of a constant 8-bit integer tensor (resource blob
/// or dense attribute), widened; none when `v` is not one.
std::optional<std::vector<int32_t>> readInt8Constant(mlir::Value v);

/// An f32 resource blob attribute of `type` holding `values`.
mlir::DenseResourceElementsAttr createBlobAttr(mlir::RankedTensorType type,
                                               llvm::ArrayRef<float> values,
                                               llvm::StringRef name);

/// A constant of `type` (f32 or an integer type of at most 32 bits) holding
/// `values` as a resource blob named `name`.
mlir::Value createBlobConstant(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::RankedTensorType type,
                               llvm::ArrayRef<float> values,
                               llvm::StringRef name);
mlir::Value createBlobConstant(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::RankedTensorType type,
                               llvm::ArrayRef<int32_t> values,
                               llvm::StringRef name);

/// `v` reshaped to the static `shape` (qc.Reshape with a constant i64 shape).
mlir::Value createReshape(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          llvm::ArrayRef<int64_t> shape);

/// A product's bias as `channels` values: zeros for none, a single value
/// repeated, or one per channel; none when it is another shape or not a
/// constant.
std::optional<std::vector<float>> readChannelBias(mlir::Value bias,
                                                  int64_t channels);

/// The per-channel values of a constant that broadcasts against an
/// [N, C, ...] tensor `out` of `channels` channels (axis 1) without changing
/// its shape: one value (repeated), or one per channel along axis 1 with
/// every other dim 1; none otherwise.
std::optional<std::vector<float>>
perChannelConstant(mlir::Value v, mlir::RankedTensorType out, int64_t channels);

} // namespace qc

#endif
