//===- LowBitKernels.cpp - 1- to 4-bit weights without unpacking ----------===//
//
// The kernels of qc.matmul_lowbit (docs/kernels.md, "Low-bit kernels"):
//
//  - matmul_lut_i8: weights of 1 to 4 bits times int8 activations by table
//    lookup (T-MAC's method). Each weight is an unsigned code u (w = base +
//    step * u) stored as bit planes. For every 4 consecutive activations
//    x0..x3 of a row the kernel builds a 16-entry table T(i) = sum_j
//    bit_j(i) x_j; one plane's 4 one-bit weights of a column then select
//    T(nibble), and the planes are shift-added: sum_k x_k u_k = sum_p 2^p
//    sum_groups T(nibble_p). The cost grows with the number of planes, not
//    with the weights' width in an int8 product.
//
//    AVX-512 (`_vbmi`): the tables of 4 groups (64 entries) sit in one zmm,
//    split into their low bytes (unsigned) and high bytes (signed, T fits
//    10 bits); an index byte is a nibble plus 16 times its group's position
//    in the quad, so one vpermb looks up 64 nibbles of 16 columns x 4
//    groups, and vpdpbusd sums each column's 4 groups into an int32 lane,
//    times the plane's weight 2^p. Nothing is widened or flushed: the sums
//    are exact int32.
//
//  - `_generic`: the same definition on the same packed layout in plain
//    loops, for any x86-64.
//
// Packed layout (qc::kernels::packLutWeights): 64-column blocks of 4 panels
// of 16 columns; per block and quad of 16 k values, 4 x bits index vectors
// t = panel * bits + plane, of 64 nibbles each (byte j: column j / 4 of the
// panel, group j % 4 of the quad, bit i: code bit `plane` of k = 16 q + 4
// (j % 4) + i), two vectors per 64 bytes (t even: the low nibbles).
//
// Work is split into 64-column blocks; (task, ntasks) is the caller's share.
//
//===----------------------------------------------------------------------===//
#define QC_KERNELS_BITCODE
#include "qc/Kernels/Int8Kernels.h"

#include "KernelCommon.h"

#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QC_VBMI                                                                \
  __attribute__((target(                                                       \
      "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi")))

namespace {

using namespace qc_kernels;

constexpr int kLutCols = 64; // columns of a block
constexpr int kQuadK = 16;   // k values of a quad (4 groups of 4)
constexpr int kPrefetch = 4096; // bytes ahead in the weight stream

/// The call's rows as signed int8 (a ^ aXor), zero-padded to Kp, and each
/// row's sum.
struct Rows {
  int8_t *x = nullptr;
  int32_t *sums = nullptr;
  Rows(const uint8_t *a, int64_t M, int64_t K, int64_t Kp, uint8_t axr) {
    x = static_cast<int8_t *>(aligned_alloc(64, size_t(M * Kp)));
    sums = static_cast<int32_t *>(malloc(size_t(M) * sizeof(int32_t)));
    for (int64_t m = 0; m < M; ++m) {
      int32_t s = 0;
      for (int64_t k = 0; k < K; ++k) {
        int8_t v = int8_t(a[m * K + k] ^ axr);
        x[m * Kp + k] = v;
        s += v;
      }
      for (int64_t k = K; k < Kp; ++k)
        x[m * Kp + k] = 0;
      sums[m] = s;
    }
  }
  ~Rows() {
    free(x);
    free(sums);
  }
};

/// Applies the epilogue to `cols` column sums acc (sum_k x u) of row m.
inline void finishRow(const int32_t *acc, int64_t m, int64_t n0, int64_t cols,
                      int64_t N, int64_t rowSum, int64_t step, int64_t base,
                      const Epilogue &e, void *out) {
  for (int64_t c = 0; c < cols; ++c) {
    int64_t n = n0 + c;
    int64_t zw = e.zw ? e.zw[n] : 0;
    int64_t v = step * int64_t(acc[c]) + e.corr[n] + (base - zw) * rowSum;
    storeOne(out, m * N + n, v, n, e);
  }
}

//===----------------------------------------------------------------------===//
// Generic: the definition on the packed layout
//===----------------------------------------------------------------------===//

void lutGeneric(int64_t M, int64_t N, int64_t K, const uint8_t *a, uint8_t axr,
                const uint8_t *w, int64_t bits, int64_t step, int64_t base,
                const Epilogue &e, void *out, int64_t task, int64_t ntasks) {
  int64_t Q = cdiv(K, kQuadK), Kp = Q * kQuadK, blocks = cdiv(N, kLutCols);
  int64_t b0, b1;
  share(blocks, task, ntasks, b0, b1);
  if (b0 >= b1)
    return;
  Rows rows(a, M, K, Kp, axr);
  int32_t acc[kLutCols];
  for (int64_t cb = b0; cb < b1; ++cb) {
    int64_t n0 = cb * kLutCols,
            cols = N - n0 < kLutCols ? N - n0 : kLutCols;
    for (int64_t m = 0; m < M; ++m) {
      const int8_t *x = rows.x + m * Kp;
      memset(acc, 0, sizeof(acc));
      for (int64_t q = 0; q < Q; ++q) {
        const uint8_t *blk = w + lutQuadOffset(cb, q, Q, blocks, bits);
        for (int64_t t = 0; t < 4 * bits; ++t) {
          int64_t panel = t / bits, plane = t % bits;
          const uint8_t *vec = blk + (t / 2) * 64;
          for (int j = 0; j < 64; ++j) {
            int nib = (t % 2 ? vec[j] >> 4 : vec[j]) & 15;
            const int8_t *xs = x + q * kQuadK + 4 * (j % 4);
            int32_t tv = 0;
            for (int i = 0; i < 4; ++i)
              tv += (nib >> i & 1) * xs[i];
            acc[panel * 16 + j / 4] += tv << plane;
          }
        }
      }
      finishRow(acc, m, n0, cols, N, rows.sums[m], step, base, e, out);
    }
  }
}

//===----------------------------------------------------------------------===//
// AVX-512 VBMI + VNNI
//===----------------------------------------------------------------------===//

/// The lookup tables of one row: per quad 64 low bytes then 64 high bytes,
/// entry 16 g + i = T_g(i) of the quad's group g.
QC_VBMI void buildTables(const int8_t *x, int64_t Q, uint8_t *tables) {
  // Lane e of a half (groups 2h, 2h + 1): group 2h + e / 16, index e % 16;
  // T = sum_j [bit j of e % 16] x[4 g + j].
  alignas(64) int16_t perm[2][4][32];
  __mmask32 bitMask[4] = {0, 0, 0, 0};
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j)
      for (int e = 0; e < 32; ++e)
        perm[h][j][e] = int16_t(4 * (2 * h + e / 16) + j);
  for (int j = 0; j < 4; ++j)
    for (int e = 0; e < 32; ++e)
      if ((e % 16) >> j & 1)
        bitMask[j] |= __mmask32(1) << e;
  __m512i idx[2][4];
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j)
      idx[h][j] = _mm512_load_si512(perm[h][j]);
  for (int64_t q = 0; q < Q; ++q) {
    __m512i xq = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(x + q * kQuadK))));
    uint8_t *lo = tables + q * 128, *hi = lo + 64;
    for (int h = 0; h < 2; ++h) {
      __m512i t = _mm512_maskz_permutexvar_epi16(bitMask[0], idx[h][0], xq);
      for (int j = 1; j < 4; ++j)
        t = _mm512_add_epi16(
            t, _mm512_maskz_permutexvar_epi16(bitMask[j], idx[h][j], xq));
      _mm256_store_si256(reinterpret_cast<__m256i *>(lo + 32 * h),
                         _mm512_cvtepi16_epi8(t));
      _mm256_store_si256(reinterpret_cast<__m256i *>(hi + 32 * h),
                         _mm512_cvtepi16_epi8(_mm512_srai_epi16(t, 8)));
    }
  }
}

/// One 64-column block of one row over Q quads (consecutive in w, tables):
/// acc[c] += sum_k x_k u_k[c].
template <int B>
QC_VBMI void lutBlock(const uint8_t *tables, const uint8_t *w, int64_t Q,
                      int32_t *acc) {
  const __m512i nibble = _mm512_set1_epi8(15);
  // Index byte j carries its group's table offset 16 (j % 4).
  const __m512i offs = _mm512_set1_epi32(0x30201000);
  __m512i lo[4], hi[4], wLo[B], wHi[B];
  for (int p = 0; p < B; ++p) {
    wLo[p] = _mm512_set1_epi8(char(1 << p));
    wHi[p] = wLo[p];
  }
  for (int i = 0; i < 4; ++i)
    lo[i] = hi[i] = _mm512_setzero_si512();
  for (int64_t q = 0; q < Q; ++q) {
    __m512i tLo = _mm512_load_si512(tables + q * 128);
    __m512i tHi = _mm512_load_si512(tables + q * 128 + 64);
    const uint8_t *blk = w + q * 128 * B;
#pragma unroll
    for (int s = 0; s < 2 * B; ++s) {
      __m512i v = _mm512_loadu_si512(blk + 64 * s);
      _mm_prefetch(reinterpret_cast<const char *>(blk + 64 * s) + kPrefetch,
                   _MM_HINT_T0);
      // (v & 15) | offs and ((v >> 4) & 15) | offs, one ternlog each.
      __m512i i0 = _mm512_ternarylogic_epi32(v, nibble, offs, 0xEA);
      __m512i i1 = _mm512_ternarylogic_epi32(_mm512_srli_epi16(v, 4), nibble,
                                             offs, 0xEA);
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        int t = 2 * s + half, panel = t / B, plane = t % B;
        __m512i ix = half ? i1 : i0;
        __m512i l = _mm512_permutexvar_epi8(ix, tLo);
        __m512i h = _mm512_permutexvar_epi8(ix, tHi);
        lo[panel] = _mm512_dpbusd_epi32(lo[panel], l, wLo[plane]);
        hi[panel] = _mm512_dpbusd_epi32(hi[panel], wHi[plane], h);
      }
    }
  }
  for (int i = 0; i < 4; ++i)
    _mm512_storeu_si512(
        acc + 16 * i,
        _mm512_add_epi32(_mm512_loadu_si512(acc + 16 * i),
                         _mm512_add_epi32(lo[i], _mm512_slli_epi32(hi[i], 8))));
}

QC_VBMI void lutVbmi(int64_t M, int64_t N, int64_t K, const uint8_t *a,
                     uint8_t axr, const uint8_t *w, int64_t bits, int64_t step,
                     int64_t base, const Epilogue &e, void *out, int64_t task,
                     int64_t ntasks) {
  int64_t Q = cdiv(K, kQuadK), Kp = Q * kQuadK, blocks = cdiv(N, kLutCols);
  int64_t b0, b1;
  share(blocks, task, ntasks, b0, b1);
  if (b0 >= b1)
    return;
  Rows rows(a, M, K, Kp, axr);
  uint8_t *tables =
      static_cast<uint8_t *>(aligned_alloc(64, size_t(M * Q * 128)));
  for (int64_t m = 0; m < M; ++m)
    buildTables(rows.x + m * Kp, Q, tables + m * Q * 128);
  // Per chunk of quads (its tables stay in L1 for one row), every block of
  // the share, every row: the sums build up in acc, one row of the share's
  // columns per row.
  int64_t cols = (b1 - b0) * kLutCols;
  int32_t *acc =
      static_cast<int32_t *>(aligned_alloc(64, size_t(M * cols) * 4));
  memset(acc, 0, size_t(M * cols) * 4);
  for (int64_t q0 = 0; q0 < Q; q0 += kLutChunkQuads) {
    int64_t qn = Q - q0 < kLutChunkQuads ? Q - q0 : kLutChunkQuads;
    for (int64_t cb = b0; cb < b1; ++cb) {
      const uint8_t *blk = w + lutQuadOffset(cb, q0, Q, blocks, bits);
      for (int64_t m = 0; m < M; ++m) {
        const uint8_t *tm = tables + (m * Q + q0) * 128;
        int32_t *am = acc + m * cols + (cb - b0) * kLutCols;
        switch (bits) {
        case 1:
          lutBlock<1>(tm, blk, qn, am);
          break;
        case 2:
          lutBlock<2>(tm, blk, qn, am);
          break;
        case 3:
          lutBlock<3>(tm, blk, qn, am);
          break;
        default:
          lutBlock<4>(tm, blk, qn, am);
          break;
        }
      }
    }
  }
  for (int64_t m = 0; m < M; ++m)
    for (int64_t cb = b0; cb < b1; ++cb) {
      int64_t n0 = cb * kLutCols;
      finishRow(acc + m * cols + (cb - b0) * kLutCols, m, n0,
                N - n0 < kLutCols ? N - n0 : kLutCols, N, rows.sums[m], step,
                base, e, out);
    }
  free(acc);
  free(tables);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points (their signatures: include/qc/Kernels/Kernels.def)
//===----------------------------------------------------------------------===//

#define QC_LUT_CALL(fn)                                                        \
  fn(M, N, K, a, uint8_t(aXor), w, bits, wStep, wBase,                         \
     makeEpilogue(corr, zw, hasZw, mult, shift, izp, ozp, lo, hi, outI8, 0),   \
     out, task, ntasks)

extern "C" {

void qc_k_matmul_lut_i8_generic(QC_KERNEL_PARAMS(matmul_lut_i8)) {
  QC_LUT_CALL(lutGeneric);
}
QC_VBMI void qc_k_matmul_lut_i8_vbmi(QC_KERNEL_PARAMS(matmul_lut_i8)) {
  QC_LUT_CALL(lutVbmi);
}

} // extern "C"
