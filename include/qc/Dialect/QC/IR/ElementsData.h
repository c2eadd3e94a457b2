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

} // namespace qc

#endif
