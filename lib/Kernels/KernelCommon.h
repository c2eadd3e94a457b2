//===- KernelCommon.h - helpers shared by the int8 and float kernels ------===//
#ifndef QC_LIB_KERNELS_KERNELCOMMON_H
#define QC_LIB_KERNELS_KERNELCOMMON_H

#include <stdint.h>

namespace qc_kernels {

constexpr int kMR = 6; // rows of a register tile

inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Splits `units` among `ntasks`; [b, e) is the share of `task`.
inline void share(int64_t units, int64_t task, int64_t ntasks, int64_t &b,
                  int64_t &e) {
  if (ntasks < 1)
    ntasks = 1;
  b = units * task / ntasks;
  e = units * (task + 1) / ntasks;
}

/// Row chunks per column block: enough units (outer x blocks x chunks) for
/// the tasks to share, each chunk at least two register tiles.
inline int64_t rowChunks(int64_t outer, int64_t colBlocks, int64_t rows,
                         int64_t ntasks) {
  int64_t have = outer * colBlocks;
  if (have >= 2 * ntasks || rows <= 2 * kMR)
    return 1;
  int64_t want = cdiv(2 * ntasks, have), maxChunks = cdiv(rows, 2 * kMR);
  return want < maxChunks ? want : maxChunks;
}

/// Calls f(j, row, col, run) for each run of the positions p0 + j (0 <= j <
/// cols) of a row-major plane with rows of `rowLen` that lies in one row:
/// positions p0 + j .. p0 + j + run - 1 are (row, col) .. (row, col + run - 1).
template <typename F>
inline void forEachRowRun(int64_t p0, int64_t cols, int64_t rowLen, F &&f) {
  int64_t j = 0, row = p0 / rowLen, col = p0 % rowLen;
  while (j < cols) {
    int64_t run = rowLen - col < cols - j ? rowLen - col : cols - j;
    f(j, row, col, run);
    j += run;
    col = 0;
    ++row;
  }
}

} // namespace qc_kernels

#endif // QC_LIB_KERNELS_KERNELCOMMON_H
