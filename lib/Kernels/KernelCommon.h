//===- KernelCommon.h - helpers shared by the int8 and float kernels ------===//
#ifndef QC_LIB_KERNELS_KERNELCOMMON_H
#define QC_LIB_KERNELS_KERNELCOMMON_H

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

namespace qc_kernels {

constexpr int kMR = 6; // rows of a register tile

inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// 64-byte aligned scratch (free() it): C11's aligned_alloc takes a size
/// that is a multiple of the alignment (ASan refuses others).
inline void *alignedAlloc64(size_t bytes) {
  return aligned_alloc(64, (bytes + 63) & ~size_t(63));
}

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

/// The phase plane and column of a depthwise row's taps kw = 0, 1, ...:
/// tap kw reads phase plane (kw dw) % sw at column (kw dw) / sw, stepped
/// per tap rather than divided (a division per tap was most of the depthwise
/// kernels' time on the PP-OCR classifier's 3x3 and 5x5 taps).
struct TapPhases {
  int64_t sw, dq, dp, phase = 0, col = 0;
  TapPhases(int64_t dw, int64_t sw) : sw(sw), dq(dw / sw), dp(dw % sw) {}
  void next() {
    col += dq;
    phase += dp;
    if (phase >= sw) {
      phase -= sw;
      ++col;
    }
  }
};

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

/// The LUT kernels' weight layout (LowBitKernels.cpp): quads of 16 k values
/// in chunks of kLutChunkQuads, and per chunk the 64-column blocks, each
/// holding its quads of the chunk (128 * bits bytes each) one after another.
constexpr int64_t kLutChunkQuads = 64;

/// The byte offset of block `cb`'s quad `q` (Q quads, `blocks` blocks).
inline int64_t lutQuadOffset(int64_t cb, int64_t q, int64_t Q, int64_t blocks,
                             int64_t bits) {
  int64_t c = q / kLutChunkQuads, q0 = c * kLutChunkQuads;
  int64_t inChunk = Q - q0 < kLutChunkQuads ? Q - q0 : kLutChunkQuads;
  return (q0 * blocks + cb * inChunk + (q - q0)) * 128 * bits;
}

/// The requantization parameters and correction of one call.
struct Epilogue {
  const int32_t *corr;  // per channel: bias and weight-only zero-point terms
  const int32_t *zw;    // per channel weight zero point, or null
  const int32_t *mult;  // per channel multiplier (out_i8)
  const int32_t *shift; // per channel shift (out_i8)
  int64_t izp, ozp, lo, hi;
  int64_t outI8;  // 1: requantized bytes, 0: int32
  int64_t sumOff; // K * off: subtracted from the unsigned sums of x
  const uint8_t *lut; // qc.table after the requantization (out_i8), or null
  int64_t lutVbmi;    // lut applied with AVX-512 VBMI
  /// A residual add after the requantization (out_i8, no lut), or null:
  /// out = rq3(wrap32(rq1(y) + rq2(res))), res the other addend's bytes at
  /// the output's index; rp (Kernels.def's resParams): m, s, input and
  /// output zero points, lo, hi of rq1, rq2 and rq3, then whether res is
  /// unsigned.
  const uint8_t *res = nullptr;
  const int64_t *rp = nullptr;
  /// rp allows int32 lanes (residualFits32).
  bool res32 = false;
};

/// Whether the residual stage's parameters let it run in int32 lanes
/// exactly: the addends' requantizations of 8-bit values with multipliers
/// below 2^21 (products below 2^30) to the whole int32 range, and the sum's
/// a power-of-two multiplier 2^k with a shift s > k and no input zero point
/// (a rounding shift by s - k, computed as (x >> t) + ((x >> (t - 1)) & 1)
/// so that nothing overflows).
inline bool residualFits32(const int64_t *p) {
  for (int q = 0; q < 2; ++q) {
    const int64_t *r = p + 6 * q;
    if (r[0] < 0 || r[0] >= (1 << 21) || r[1] < 0 || r[1] > 31 ||
        r[2] < -256 || r[2] > 255 || r[3] < -(1 << 20) || r[3] > (1 << 20) ||
        r[4] != INT32_MIN || r[5] != INT32_MAX)
      return false;
  }
  // The shifted sum is below 2^30 in magnitude; an output zero point below
  // 2^30 keeps their int32 sum from wrapping before the clamp.
  const int64_t *r = p + 12;
  if (r[0] <= 0 || (r[0] & (r[0] - 1)) || r[2] != 0 || r[4] < INT32_MIN ||
      r[5] > INT32_MAX || r[3] <= -(int64_t(1) << 30) ||
      r[3] >= (int64_t(1) << 30))
    return false;
  int64_t k = 0;
  while ((int64_t(1) << k) < r[0])
    ++k;
  return r[1] > k && r[1] - k <= 31;
}

/// qc.requantize of one value with per-tensor parameters.
inline int64_t requantValue(int64_t v, int64_t m, int64_t s, int64_t izp,
                            int64_t ozp, int64_t lo, int64_t hi) {
  int64_t half = s > 0 ? int64_t(1) << (s - 1) : 0;
  v = (((v - izp) * m + half) >> s) + ozp;
  return v < lo ? lo : v > hi ? hi : v;
}

/// The residual stage of the epilogue (Epilogue::res) on output y, the
/// other addend's byte at `idx`.
inline int64_t residual(int64_t y, int64_t idx, const Epilogue &e) {
  const int64_t *p = e.rp;
  int64_t r = p[18] ? int64_t(e.res[idx]) : int64_t(int8_t(e.res[idx]));
  int64_t a = requantValue(y, p[0], p[1], p[2], p[3], p[4], p[5]);
  int64_t b = requantValue(r, p[6], p[7], p[8], p[9], p[10], p[11]);
  int64_t sum = int32_t(uint32_t(a) + uint32_t(b)); // qc.add on i32 wraps
  return requantValue(sum, p[12], p[13], p[14], p[15], p[16], p[17]);
}

/// Scalar requantization, qc.requantize's definition.
inline int32_t requant(int64_t v, int64_t m, int64_t s, const Epilogue &e) {
  v = (v - e.izp) * m;
  int64_t half = s > 0 ? int64_t(1) << (s - 1) : 0;
  v = ((v + half) >> s) + e.ozp;
  v = v < e.lo ? e.lo : v;
  v = v > e.hi ? e.hi : v;
  return e.lut ? int32_t(int8_t(e.lut[v & 0xFF])) : int32_t(v);
}

/// Stores one value of channel `ch` (acc already corrected).
inline void storeOne(void *out, int64_t idx, int64_t acc, int64_t ch,
                     const Epilogue &e) {
  if (e.outI8 && e.res)
    static_cast<int8_t *>(out)[idx] =
        int8_t(residual(requant(acc, e.mult[ch], e.shift[ch], e), idx, e));
  else if (e.outI8)
    static_cast<int8_t *>(out)[idx] =
        int8_t(requant(acc, e.mult[ch], e.shift[ch], e));
  else
    static_cast<int32_t *>(out)[idx] = int32_t(acc);
}

/// One channel's H x W plane padded (rows from -ph, columns from -pw, `pad`
/// outside) and split into `sw` phase planes of Hp x Wq: phase p holds the
/// padded columns p, p + sw, ..., so that every tap of a convolution with
/// column stride sw reads a contiguous run. Elements inside the plane are
/// `map`ped (the int8 kernels' XOR). The depthwise kernels' layout.
template <typename T, typename Map>
inline void fillPhasePlanes(const T *src, int64_t H, int64_t W, int64_t ph,
                            int64_t pw, int64_t sw, int64_t Hp, int64_t Wq,
                            T pad, Map map, T *planes) {
  for (int64_t r = 0; r < Hp; ++r) {
    int64_t ih = r - ph;
    bool inside = ih >= 0 && ih < H;
    for (int64_t p = 0; p < sw; ++p) {
      T *dst = planes + (p * Hp + r) * Wq;
      for (int64_t q = 0; q < Wq; ++q) {
        int64_t iw = q * sw + p - pw;
        dst[q] = inside && iw >= 0 && iw < W ? map(src[ih * W + iw]) : pad;
      }
    }
  }
}

inline Epilogue makeEpilogue(const int32_t *corr, const int32_t *zw, int64_t hasZw,
                      const int32_t *mult, const int32_t *shift, int64_t izp,
                      int64_t ozp, int64_t lo, int64_t hi, int64_t outI8,
                      int64_t sumOff, const uint8_t *lut = nullptr,
                      int64_t lutVbmi = 0, const uint8_t *res = nullptr,
                      const int64_t *rp = nullptr) {
  return Epilogue{corr,  hasZw ? zw : nullptr,
                  mult,  shift,
                  izp,   ozp,
                  lo,    hi,
                  outI8, sumOff,
                  lut,   lutVbmi,
                  res,   res ? rp : nullptr,
                  res && residualFits32(rp)};
}

} // namespace qc_kernels

#endif // QC_LIB_KERNELS_KERNELCOMMON_H
