//===- ElementsData.h - the values of constant elements attributes -*- C++
//-*-===//
//
// Weights are arith.constant ops holding DenseResourceElementsAttr blobs (or,
// when small, dense attributes). Every reader of constant data (rewrites,
// kernel packing, ONNX export) goes through these, so the two storage forms
// are decoded in one place.
//
//===----------------------------------------------------------------------===//
#ifndef QC_DIALECT_QC_IR_ELEMENTSDATA_H
#define QC_DIALECT_QC_IR_ELEMENTSDATA_H

#include "mlir/IR/Attributes.h"
#include "mlir/Support/LLVM.h"
#include <cstdint>
#include <optional>
#include <vector>

namespace qc {

/// The row-major bytes of a dense or resource elements attribute as stored
/// (little-endian, splats expanded, i1 as one byte per element); none for
/// another attribute or a blob without data.
std::optional<std::vector<char>> readElementBytes(mlir::Attribute attr);

/// The values of an integer elements attribute of 1-64 bit elements
/// (dense or resource blob of 8/16/32/64-bit elements), sign- or
/// zero-extended by `isSigned`; none for anything else.
std::optional<std::vector<int64_t>> readIntegerElements(mlir::Attribute attr,
                                                        bool isSigned);

/// The row-major values of an f32 elements attribute (resource blob or
/// dense); none for anything else.
std::optional<std::vector<float>> readFloatElements(mlir::Attribute attr);

/// The largest tensor the tools import and compile: 2^36 bytes (64 GiB),
/// far above any real model's tensor, far below what overflows a size
/// computation. A model declaring more (a 2^40-element input, a
/// [2^62, 4] value) is refused, not left to fail allocating at run time.
inline constexpr int64_t kMaxTensorBytes = int64_t(1) << 36;

/// The bytes of a tensor of `shape` (dynamic dims counted as 1) and
/// `elementType`; none when the size overflows 64 bits.
std::optional<int64_t> tensorBytes(llvm::ArrayRef<int64_t> shape,
                                   mlir::Type elementType);

/// Errors at the first op in `root` (block arguments included) with a
/// tensor or memref value over kMaxTensorBytes.
llvm::LogicalResult checkTensorSizes(mlir::Operation *root);

} // namespace qc

#endif
