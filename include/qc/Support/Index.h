//===- Index.h - ONNX index normalization -----------------------*- C++ -*-===//
#ifndef QC_SUPPORT_INDEX_H
#define QC_SUPPORT_INDEX_H

#include <algorithm>
#include <cstdint>

namespace qc {

/// ONNX's rule for Shape's start/end and Slice's starts/ends: a negative
/// index counts from the back, then the result is clamped to [0, size].
inline int64_t clampIndex(int64_t index, int64_t size) {
  if (index < 0)
    index += size;
  return std::clamp<int64_t>(index, 0, size);
}

} // namespace qc

#endif // QC_SUPPORT_INDEX_H
