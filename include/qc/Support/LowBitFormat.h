//===- LowBitFormat.h - weights of 1 to 4 bits as codes -----------*- C++ -*-===//
//
// The format of #qc.lowbit (QCAttrs.td) and of the low-bit kernels' packed
// weights: every weight is base + step * u with u an unsigned code of `bits`
// bits. Plain C++: the kernels' packing and the dialect's passes share it.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_LOWBITFORMAT_H
#define QC_SUPPORT_LOWBITFORMAT_H

#include <cstddef>
#include <cstdint>

namespace qc::kernels {

/// A low-bit weight format: every weight is base + step * u with u an
/// unsigned code of `bits` bits (1-4); bits = 8 when there is none.
struct LowBitFormat {
  unsigned bits = 8;
  int32_t base = 0, step = 1;
};

/// The narrowest format that holds `values` exactly (bits 1-4; step the
/// gcd of the values' distances to the smallest), or bits = 8 when none of
/// 4 bits or fewer does.
template <typename T> LowBitFormat lowBitFormat(const T *values, size_t n);

} // namespace qc::kernels

#endif // QC_SUPPORT_LOWBITFORMAT_H
