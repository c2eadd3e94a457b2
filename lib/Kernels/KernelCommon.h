//===- KernelCommon.h - helpers shared by the int8 and float kernels ------===//
#ifndef QC_LIB_KERNELS_KERNELCOMMON_H
#define QC_LIB_KERNELS_KERNELCOMMON_H

#include <stdint.h>

namespace qc_kernels {

constexpr int kMR = 6; // rows of a register tile

inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Splits `units` among `ntasks`; [b, e) is the share of `task`.
inline void share(int64_t units, int64_t task, int64_t ntasks, int64_t &b, int64_t &e) {
  if (ntasks < 1)
    ntasks = 1;
  b = units * task / ntasks;
  e = units * (task + 1) / ntasks;
}

/// Row chunks per column block: enough units (outer x blocks x chunks) for
/// the tasks to share, each chunk at least two register tiles.
inline int64_t rowChunks(int64_t outer, int64_t colBlocks, int64_t rows, int64_t ntasks) {
  int64_t have = outer * colBlocks;
  if (have >= 2 * ntasks || rows <= 2 * kMR)
    return 1;
  int64_t want = cdiv(2 * ntasks, have), maxChunks = cdiv(rows, 2 * kMR);
  return want < maxChunks ? want : maxChunks;
}

} // namespace qc_kernels

#endif // QC_LIB_KERNELS_KERNELCOMMON_H
