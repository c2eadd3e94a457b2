//===- QCAttrs.h - qc attributes --------------------------------*- C++ -*-===//
#ifndef QC_DIALECT_QC_IR_QCATTRS_H
#define QC_DIALECT_QC_IR_QCATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include <optional>

#include "qc/Dialect/QC/IR/QCEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qc/Dialect/QC/IR/QCAttrs.h.inc"

#include "qc/Support/Minifloat.h"

namespace qc {
/// The qc::minifloat format of a minifloat element format (or e8m0); none
/// for int.
std::optional<minifloat::Format> minifloatFormat(ElementFormat format);
/// The element format of a qc::minifloat format.
std::optional<ElementFormat> elementFormatOf(minifloat::Format format);
} // namespace qc

#endif // QC_DIALECT_QC_IR_QCATTRS_H
