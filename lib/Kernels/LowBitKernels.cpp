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
//  - conv2d_bin / matmul_bin: activations of two levels (binary: bit v,
//    x = lo + d v) times weights of 1-4 bit planes by AND + popcount: sum_k
//    v_k u_k = sum_p 2^p popcount(V & U_p) over 64 channels a word. The
//    activations are binarized once per call into a bit image of one plane
//    per 64-channel word ([C / 64][H + 2 ph][W + 2 pw], zero border; AVX-512
//    byte compares, then 64 x 64 bit transposes for NCHW input); the
//    weights are packed at compile time (qc::kernels::packBinaryWeights) as
//    [filter][tap][word][plane]. The AVX-512 variant (`_vpopcnt`,
//    VPOPCNTDQ) puts 16 output pixels in the lanes of two zmm and keeps
//    them against 8 filters in registers: per word of a tap, two loads of
//    the pixels' words, then per filter a broadcast of its word and
//    vpandq + vpopcntq + vpaddq. The epilogue, vectorized over the pixels,
//    adds the constant terms (corr), the activations' popcount times
//    xCoef, removes the terms of taps that fall in the padding (tapCorr:
//    the padding holds the input zero point, not a level), and
//    requantizes.
//
//===----------------------------------------------------------------------===//
#define QC_KERNELS_BITCODE
#include "qc/Kernels/Int8Kernels.h"

#include "KernelCommon.h"

#include <immintrin.h>

#include <array>
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
constexpr int kPrefetch = 2048; // bytes ahead in the weight stream
constexpr int64_t kLutRows = 8;  // rows whose tables are built at once

/// The call's rows as signed int8 (a ^ aXor), zero-padded to Kp, and each
/// row's sum.
struct Rows {
  int8_t *x = nullptr;
  int32_t *sums = nullptr;
  Rows(const uint8_t *a, int64_t M, int64_t K, int64_t Kp, uint8_t axr) {
    x = static_cast<int8_t *>(alignedAlloc64(size_t(M * Kp)));
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
  // Rows in blocks of kLutRows (bounded scratch: tables and sums of a block,
  // not of the whole call). Per chunk of quads (its tables stay in L1 for
  // one row), every column block of the share, every row of the block: the
  // sums build up in acc, one row of the share's columns per row.
  int64_t cols = (b1 - b0) * kLutCols, mb = M < kLutRows ? M : kLutRows;
  uint8_t *tables =
      static_cast<uint8_t *>(alignedAlloc64(size_t(mb * Q * 128)));
  int32_t *acc = static_cast<int32_t *>(alignedAlloc64(size_t(mb * cols) * 4));
  for (int64_t r0 = 0; r0 < M; r0 += kLutRows) {
    int64_t rn = M - r0 < kLutRows ? M - r0 : kLutRows;
    Rows rows(a + r0 * K, rn, K, Kp, axr);
    for (int64_t m = 0; m < rn; ++m)
      buildTables(rows.x + m * Kp, Q, tables + m * Q * 128);
    memset(acc, 0, size_t(rn * cols) * 4);
    for (int64_t q0 = 0; q0 < Q; q0 += kLutChunkQuads) {
      int64_t qn = Q - q0 < kLutChunkQuads ? Q - q0 : kLutChunkQuads;
      for (int64_t cb = b0; cb < b1; ++cb) {
        const uint8_t *blk = w + lutQuadOffset(cb, q0, Q, blocks, bits);
        for (int64_t m = 0; m < rn; ++m) {
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
    for (int64_t m = 0; m < rn; ++m)
      for (int64_t cb = b0; cb < b1; ++cb) {
        int64_t n0 = cb * kLutCols;
        finishRow(acc + m * cols + (cb - b0) * kLutCols, r0 + m, n0,
                  N - n0 < kLutCols ? N - n0 : kLutCols, N, rows.sums[m], step,
                  base, e, out);
      }
  }
  free(acc);
  free(tables);
}

//===----------------------------------------------------------------------===//
// Binary activations: AND + popcount
//===----------------------------------------------------------------------===//

/// One binary product's shape: a 2-d convolution, or a matmul as a 1 x 1
/// convolution of one image row of M "pixels".
struct BinShape {
  int64_t batch, C, H, W, F, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw;
  int64_t Cw() const { return cdiv(C, 64); }
  int64_t Hp() const { return H + 2 * ph; }
  int64_t Wp() const { return W + 2 * pw; }
  int64_t taps() const { return KH * KW; }
};

/// The terms beyond the popcounts (see Kernels.def's conv2d_bin).
struct BinTerms {
  int64_t pStep;
  const int32_t *xCoef, *tapCorr;
};

/// Transposes a 64 x 64 bit matrix in place: bit j of a[i] <-> bit i of
/// a[j] (swapping ever smaller off-diagonal blocks).
inline void transpose64(uint64_t a[64]) {
  uint64_t m = 0x00000000FFFFFFFFull;
  for (int j = 32; j; j >>= 1, m ^= m << j)
    for (int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
      uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
      a[k | j] ^= t;
      a[k] ^= t << j;
    }
}

/// The bit image of one batch item (zero border): bit c of pixel (h, w) is
/// int8(x ^ xr) >= thr, x NCHW (rows = false) or [W][C] rows (rows = true),
/// and each pixel's popcount. Bytes are compared 8 at a time into masks
/// (the SWAR form of a byte compare, which LLVM vectorizes); NCHW masks
/// (one channel, 64 pixels) are transposed to pixel words 64 x 64 at once.
template <typename Mask>
inline void binarizeWith(const uint8_t *x, bool rows, const BinShape &s,
                         uint64_t *img, int32_t *pc, Mask mask) {
  int64_t Cw = s.Cw(), Wp = s.Wp();
  memset(img, 0, size_t(s.Hp() * Wp * Cw) * 8);
  memset(pc, 0, size_t(s.Hp() * Wp) * 4);
  uint64_t a[64];
  for (int64_t h = 0; h < s.H; ++h)
    for (int64_t cb = 0; cb < Cw; ++cb) {
      int64_t nc = s.C - cb * 64 < 64 ? s.C - cb * 64 : 64;
      for (int64_t w0 = 0; w0 < s.W; w0 += 64) {
        int64_t nw = s.W - w0 < 64 ? s.W - w0 : 64;
        if (rows) {
          for (int64_t j = 0; j < nw; ++j)
            a[j] = mask(x + (w0 + j) * s.C + cb * 64, nc);
        } else {
          for (int64_t i = 0; i < 64; ++i)
            a[i] = i < nc ? mask(x + ((cb * 64 + i) * s.H + h) * s.W + w0, nw)
                          : 0;
          transpose64(a);
        }
        for (int64_t j = 0; j < nw; ++j) {
          int64_t at = (h + s.ph) * Wp + (w0 + j + s.pw);
          img[cb * s.Hp() * Wp + at] = a[j];
          pc[at] += __builtin_popcountll(a[j]);
        }
      }
    }
}

/// n (<= 64) bytes from p as a mask of int8(b ^ xr) >= thr, in plain code.
void binarize(const uint8_t *x, bool rows, const BinShape &s, uint8_t xr,
              int64_t thr, uint64_t *img, int32_t *pc) {
  binarizeWith(x, rows, s, img, pc, [&](const uint8_t *p, int64_t n) {
    uint64_t mk = 0;
    for (int64_t i = 0; i < n; ++i)
      mk |= uint64_t(int8_t(p[i] ^ xr) >= thr) << i;
    return mk;
  });
}

/// What one output row's pixels share across filters: the activations'
/// popcount over the taps inside the image, and which taps fall in the
/// padding (none for most pixels).
struct RowTerms {
  static constexpr int kMasks = 32; // distinct padding-tap sets remembered
  int64_t *X;
  uint64_t *taps;   // per pixel: the taps in the padding (bit kh KW + kw)
  int8_t *maskId;   // per pixel: its tap set's index, -1: none, -2: unknown
  uint8_t *border8; // bit i of [j]: pixel 8 j + i has taps in the padding
  uint64_t masks[kMasks];
  int32_t *maskCorr = nullptr; // [kMasks][F]: sum of tapCorr over the set
  int nMasks = 0;
  explicit RowTerms(int64_t OW)
      : X(static_cast<int64_t *>(malloc(size_t(OW + 16) * 8))),
        taps(static_cast<uint64_t *>(malloc(size_t(OW + 16) * 8))),
        maskId(static_cast<int8_t *>(malloc(size_t(OW + 16)))),
        border8(static_cast<uint8_t *>(malloc(size_t(OW / 8 + 2)))) {}
  ~RowTerms() {
    free(X);
    free(taps);
    free(maskId);
    free(border8);
    free(maskCorr);
  }
  /// Row oh. X needs no bounds: the padding's popcounts are zero. Tap sets
  /// are worked out only for the pixels whose window leaves the image.
  void compute(const BinShape &s, const int32_t *pc, const int32_t *tapCorr,
               int64_t oh) {
    int64_t Wp = s.Wp(), T = s.taps();
    for (int64_t ow = 0; ow < s.OW + 16; ++ow)
      X[ow] = 0;
    bool rowOut = false;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      int64_t ih = oh * s.sh + kh * s.dh;
      rowOut |= ih < s.ph || ih >= s.ph + s.H;
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int32_t *pr = pc + ih * Wp + kw * s.dw;
        if (s.sw == 1)
          for (int64_t ow = 0; ow < s.OW; ++ow)
            X[ow] += pr[ow];
        else
          for (int64_t ow = 0; ow < s.OW; ++ow)
            X[ow] += pr[ow * s.sw];
      }
    }
    for (int64_t j = 0; j <= s.OW / 8 + 1; ++j)
      border8[j] = 0;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      int64_t iw0 = ow * s.sw, iw1 = iw0 + (s.KW - 1) * s.dw;
      maskId[ow] = -1;
      taps[ow] = 0;
      if (!rowOut && iw0 >= s.pw && iw1 < s.pw + s.W)
        continue;
      for (int64_t kh = 0; kh < s.KH; ++kh)
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          int64_t ih = oh * s.sh + kh * s.dh, iw = iw0 + kw * s.dw;
          if (ih < s.ph || ih >= s.ph + s.H || iw < s.pw || iw >= s.pw + s.W)
            taps[ow] |= uint64_t(1) << ((kh * s.KW + kw) & 63);
        }
      border8[ow / 8] |= uint8_t(1) << (ow % 8);
      maskId[ow] = T <= 64 ? int8_t(idOf(taps[ow], s, tapCorr)) : -2;
    }
  }
  /// The index of tap set m (registered with its sums per filter), or -2.
  int idOf(uint64_t m, const BinShape &s, const int32_t *tapCorr) {
    for (int i = 0; i < nMasks; ++i)
      if (masks[i] == m)
        return i;
    if (nMasks == kMasks)
      return -2;
    if (!maskCorr)
      maskCorr = static_cast<int32_t *>(malloc(size_t(kMasks * s.F) * 4));
    int64_t T = s.taps();
    for (int64_t f = 0; f < s.F; ++f) {
      int64_t v = 0;
      for (uint64_t b = m; b; b &= b - 1)
        v += tapCorr[f * T + __builtin_ctzll(b)];
      maskCorr[nMasks * s.F + f] = int32_t(v);
    }
    masks[nMasks] = m;
    return nMasks++;
  }
  /// The terms of filter f's taps in the padding at pixel ow.
  int64_t paddingTerms(const BinShape &s, const int32_t *tapCorr, int64_t f,
                       int64_t oh, int64_t ow) const {
    if (maskId[ow] >= 0)
      return maskCorr[maskId[ow] * s.F + f];
    int64_t v = 0;
    for (int64_t kh = 0; kh < s.KH; ++kh)
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        int64_t ih = oh * s.sh + kh * s.dh, iw = ow * s.sw + kw * s.dw;
        if (ih < s.ph || ih >= s.ph + s.H || iw < s.pw || iw >= s.pw + s.W)
          v += tapCorr[f * s.taps() + kh * s.KW + kw];
      }
    return v;
  }
};

/// Finishes output (f, oh, ow) from P = sum_p 2^p popcount(V & U_p).
inline void binFinish(int64_t P, int64_t f, int64_t oh, int64_t ow,
                      const BinShape &s, const RowTerms &rt, const BinTerms &t,
                      const Epilogue &e, void *out, int64_t outIdx) {
  int64_t v = e.corr[f] + t.pStep * P + t.xCoef[f] * rt.X[ow];
  if (rt.border8[ow / 8] >> (ow % 8) & 1)
    v -= rt.paddingTerms(s, t.tapCorr, f, oh, ow);
  storeOne(out, outIdx, v, f, e);
}

/// The output index of (bi, f, pixel): NCHW for a convolution, [M][N] for a
/// matmul (rows).
inline int64_t binOutIdx(const BinShape &s, bool rows, int64_t bi, int64_t f,
                         int64_t pix) {
  return rows ? pix * s.F + f : (bi * s.F + f) * s.OH * s.OW + pix;
}

/// Generic: P of (f, oh, ow) word by word (image [Cw][Hp][Wp], weights
/// [F][tap][word][plane]).
int64_t binDot(const uint64_t *img, const uint64_t *w, int64_t bits,
               const BinShape &s, int64_t f, int64_t oh, int64_t ow) {
  int64_t Cw = s.Cw(), Wp = s.Wp(), plane = s.Hp() * Wp, P = 0;
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      int64_t t = kh * s.KW + kw;
      const uint64_t *px =
          img + (oh * s.sh + kh * s.dh) * Wp + ow * s.sw + kw * s.dw;
      for (int64_t c = 0; c < Cw; ++c)
        for (int64_t p = 0; p < bits; ++p) {
          uint64_t u = w[((f * s.taps() + t) * Cw + c) * bits + p];
          P += int64_t(__builtin_popcountll(px[c * plane] & u)) << p;
        }
    }
  return P;
}

/// The call's work: batch x output rows x filter groups of 16 (the groups
/// of a row consecutive, so they share its bit image and row terms).
template <typename Body>
void binUnits(const BinShape &s, int64_t task, int64_t ntasks, Body body) {
  int64_t fBlocks = cdiv(s.F, 16), units = s.batch * fBlocks * s.OH;
  int64_t u0, u1;
  share(units, task, ntasks, u0, u1);
  for (int64_t u = u0; u < u1; ++u)
    body(u / (fBlocks * s.OH), u % fBlocks * 16, (u / fBlocks) % s.OH);
}

/// One task's bit image of the current batch item (built when the item
/// changes), its pixels' popcounts, and the row terms of the current row.
struct BitImages {
  uint64_t *img;
  int32_t *pc;
  RowTerms row;
  int64_t key = -1, rowKey = -1;
  explicit BitImages(const BinShape &s)
      : img(static_cast<uint64_t *>(
            alignedAlloc64(size_t(s.Hp() * s.Wp() * s.Cw() * 8 + 64)))),
        pc(static_cast<int32_t *>(malloc(size_t(s.Hp() * s.Wp()) * 4))),
        row(s.OW) {}
  /// The row terms of output row oh of the current item.
  const RowTerms &rowTerms(const BinShape &s, const int32_t *tapCorr,
                           int64_t oh) {
    if (rowKey != key * s.OH + oh) {
      row.compute(s, pc, tapCorr, oh);
      rowKey = key * s.OH + oh;
    }
    return row;
  }
  ~BitImages() {
    free(img);
    free(pc);
  }
  template <typename Binarize>
  void ensure(int64_t bi, const uint8_t *x, bool rows, const BinShape &s,
              uint8_t xr, int64_t thr, Binarize binarizeFn) {
    if (key == bi)
      return;
    binarizeFn(x + bi * s.C * s.H * s.W, rows, s, xr, thr, img, pc);
    key = bi;
  }
};

void binGeneric(const BinShape &s, bool rows, const uint8_t *x, uint8_t xr,
                int64_t thr, const uint64_t *w, int64_t bits,
                const BinTerms &t, const Epilogue &e, void *out, int64_t task,
                int64_t ntasks) {
  BitImages im(s);
  binUnits(s, task, ntasks, [&](int64_t bi, int64_t f0, int64_t oh) {
    im.ensure(bi, x, rows, s, xr, thr, binarize);
    const RowTerms &rt = im.rowTerms(s, t.tapCorr, oh);
    for (int64_t f = f0; f < f0 + 16 && f < s.F; ++f)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        binFinish(binDot(im.img, w, bits, s, f, oh, ow), f, oh, ow, s, rt, t,
                  e, out, binOutIdx(s, rows, bi, f, oh * s.OW + ow));
  });
}

#define QC_VPOPCNT                                                             \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vpopcntdq")))

constexpr int kBinR = 2; // vectors of 8 output pixels in a register tile
constexpr int kBinF = 8; // filters of a register tile (transpose8x8)

/// A mask of n (<= 64) bytes with AVX-512 byte compares (a functor: a
/// lambda would not carry the target attributes).
struct Avx512Mask {
  uint8_t xr;
  int64_t thr;
  QC_VPOPCNT uint64_t operator()(const uint8_t *p, int64_t n) const {
    __mmask64 in = n >= 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1;
    __m512i b = _mm512_xor_si512(_mm512_maskz_loadu_epi8(in, p),
                                 _mm512_set1_epi8(char(xr)));
    return uint64_t(
        _mm512_mask_cmpge_epi8_mask(in, b, _mm512_set1_epi8(char(thr))));
  }
};

/// binarize with AVX-512 byte compares.
QC_VPOPCNT void binarizeAvx512(const uint8_t *x, bool rows, const BinShape &s,
                               uint8_t xr, int64_t thr, uint64_t *img,
                               int32_t *pc) {
  binarizeWith(x, rows, s, img, pc, Avx512Mask{xr, thr});
}

/// P of kBinR x 8 pixels (ow0 ..) x NF filters from f0, B planes: the
/// pixels in the lanes, each filter's weight word broadcast.
template <int B, int NF>
QC_VPOPCNT void binTile(const uint64_t *img, const uint64_t *w,
                        const BinShape &s, int64_t f0, int64_t oh,
                        int64_t ow0, const __mmask8 lanes[kBinR],
                        __m512i out[kBinR][kBinF]) {
  int64_t Cw = s.Cw(), Wp = s.Wp(), plane = s.Hp() * Wp, T = s.taps();
  __m512i acc[kBinR][NF]; // in registers, copied out at the end
  for (int r = 0; r < kBinR; ++r)
    for (int f = 0; f < NF; ++f)
      acc[r][f] = _mm512_setzero_si512();
  const __m512i strided = _mm512_mullo_epi64(
      _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi64(s.sw));
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      int64_t t = kh * s.KW + kw;
      const uint64_t *row =
          img + (oh * s.sh + kh * s.dh) * Wp + ow0 * s.sw + kw * s.dw;
      for (int64_t c = 0; c < Cw; ++c) {
        __m512i xv[kBinR];
        for (int r = 0; r < kBinR; ++r) {
          const uint64_t *px = row + c * plane + r * 8 * s.sw;
          xv[r] = s.sw == 1
                      ? _mm512_maskz_loadu_epi64(lanes[r], px)
                      : _mm512_mask_i64gather_epi64(_mm512_setzero_si512(),
                                                    lanes[r], strided, px, 8);
        }
        const uint64_t *wc = w + ((f0 * T + t) * Cw + c) * B;
#pragma unroll
        for (int f = 0; f < NF; ++f)
#pragma unroll
          for (int p = 0; p < B; ++p) {
            __m512i u = _mm512_set1_epi64(int64_t(wc[f * T * Cw * B + p]));
#pragma unroll
            for (int r = 0; r < kBinR; ++r) {
              __m512i cnt = _mm512_popcnt_epi64(_mm512_and_si512(xv[r], u));
              acc[r][f] = _mm512_add_epi64(
                  acc[r][f], p ? _mm512_slli_epi64(cnt, p) : cnt);
            }
          }
      }
    }
  for (int r = 0; r < kBinR; ++r)
    for (int f = 0; f < NF; ++f)
      out[r][f] = acc[r][f];
}

/// The epilogue of one output row of filter f from its P (OW values),
/// vectorized over the pixels: v = corr + pStep P + xCoef X (less the
/// padding taps' terms of border pixels), then qc.requantize in 64-bit
/// lanes (the products' factors fit 32 bits), stored as bytes or int32.
QC_VPOPCNT void binRowEpilogue(const int64_t *P, int64_t f, int64_t oh,
                               const BinShape &s, const RowTerms &rt,
                               const BinTerms &t, const Epilogue &e,
                               void *out, int64_t outIdx) {
  const __m512i corr = _mm512_set1_epi64(e.corr[f]),
                pStep = _mm512_set1_epi64(t.pStep),
                xCoef = _mm512_set1_epi64(t.xCoef[f]);
  int64_t sh = e.outI8 ? e.shift[f] : 0;
  const __m512i izp = _mm512_set1_epi64(e.izp),
                mult = _mm512_set1_epi64(e.outI8 ? e.mult[f] : 0),
                half = _mm512_set1_epi64(sh > 0 ? int64_t(1) << (sh - 1) : 0),
                ozp = _mm512_set1_epi64(e.ozp), lo = _mm512_set1_epi64(e.lo),
                hi = _mm512_set1_epi64(e.hi);
  for (int64_t ow = 0; ow < s.OW; ow += 8) {
    __mmask8 lanes = s.OW - ow >= 8 ? 0xFF : __mmask8((1u << (s.OW - ow)) - 1);
    __m512i v = _mm512_add_epi64(
        _mm512_add_epi64(corr, _mm512_mul_epi32(_mm512_loadu_si512(P + ow),
                                                pStep)),
        _mm512_mul_epi32(_mm512_loadu_si512(rt.X + ow), xCoef));
    if (__mmask8 border = rt.border8[ow / 8] & lanes) {
      // Each border pixel's tap set's terms: gathered from maskCorr.
      __m512i ids = _mm512_cvtepi8_epi64(
          _mm_loadl_epi64(reinterpret_cast<const __m128i *>(rt.maskId + ow)));
      if (_mm512_mask_cmplt_epi64_mask(border, ids, _mm512_setzero_si512())) {
        alignas(64) int64_t lane[8]; // a set not remembered: the slow way
        _mm512_store_si512(lane, v);
        for (int i = 0; i < 8; ++i)
          if (border >> i & 1)
            lane[i] -= rt.paddingTerms(s, t.tapCorr, f, oh, ow + i);
        v = _mm512_load_si512(lane);
      } else {
        __m512i at = _mm512_add_epi64(
            _mm512_mullo_epi64(ids, _mm512_set1_epi64(s.F)),
            _mm512_set1_epi64(f));
        __m256i terms = _mm512_mask_i64gather_epi32(
            _mm256_setzero_si256(), border, at, rt.maskCorr, 4);
        v = _mm512_sub_epi64(v, _mm512_cvtepi32_epi64(terms));
      }
    }
    if (!e.outI8) {
      _mm256_mask_storeu_epi32(static_cast<int32_t *>(out) + outIdx + ow,
                               lanes, _mm512_cvtepi64_epi32(v));
      continue;
    }
    v = _mm512_mul_epi32(_mm512_sub_epi64(v, izp), mult);
    v = _mm512_sra_epi64(_mm512_add_epi64(v, half),
                         _mm_cvtsi64_si128(sh > 0 ? sh : 0));
    v = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(v, ozp), lo), hi);
    _mm_mask_storeu_epi8(static_cast<int8_t *>(out) + outIdx + ow, lanes,
                         _mm512_cvtepi64_epi8(v));
  }
}

/// out[j][i] = in[i][j] for 8 x 8 64-bit lanes.
QC_VPOPCNT inline void transpose8x8(const __m512i in[8], __m512i out[8]) {
  __m512i t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm512_unpacklo_epi64(in[i], in[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi64(in[i], in[i + 1]);
  }
  const __m512i lo128 = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0),
                hi128 = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2),
                lo256 = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0),
                hi256 = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
  for (int h = 0; h < 8; h += 4) {
    u[h] = _mm512_permutex2var_epi64(t[h], lo128, t[h + 2]);     // col 0, 4
    u[h + 1] = _mm512_permutex2var_epi64(t[h], hi128, t[h + 2]); // col 2, 6
    u[h + 2] = _mm512_permutex2var_epi64(t[h + 1], lo128, t[h + 3]); // 1, 5
    u[h + 3] = _mm512_permutex2var_epi64(t[h + 1], hi128, t[h + 3]); // 3, 7
  }
  const int col[4] = {0, 2, 1, 3};
  for (int q = 0; q < 4; ++q) {
    out[col[q]] = _mm512_permutex2var_epi64(u[q], lo256, u[q + 4]);
    out[col[q] + 4] = _mm512_permutex2var_epi64(u[q], hi256, u[q + 4]);
  }
}

/// The epilogue of a matmul's rows (1 x 1, no padding: no border terms)
/// from the row buffer ([pixel][16 filters]: binRow transposes the tiles),
/// vectorized over 8 filters: v = corr + pStep P + xCoef X, then
/// qc.requantize with each lane's multiplier and shift, stored side by side
/// (output [M][N]).
QC_VPOPCNT void binRowsEpilogue(const int64_t *Prow, int64_t f0,
                                int64_t fEnd, int64_t oh, const BinShape &s,
                                const RowTerms &rt, const BinTerms &t,
                                const Epilogue &e, void *out) {
  const __m512i pStep = _mm512_set1_epi64(t.pStep),
                izp = _mm512_set1_epi64(e.izp), ozp = _mm512_set1_epi64(e.ozp),
                lo = _mm512_set1_epi64(e.lo), hi = _mm512_set1_epi64(e.hi),
                one = _mm512_set1_epi64(1), zero = _mm512_setzero_si512();
  for (int64_t f = f0; f < fEnd; f += 8) {
    __mmask8 lanes =
        fEnd - f >= 8 ? 0xFF : __mmask8((1u << (fEnd - f)) - 1);
    __m512i corr = _mm512_cvtepi32_epi64(
                _mm256_maskz_loadu_epi32(lanes, e.corr + f)),
            xCoef = _mm512_cvtepi32_epi64(
                _mm256_maskz_loadu_epi32(lanes, t.xCoef + f)),
            mult = zero, sh = zero, half = zero;
    if (e.outI8) {
      mult = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(lanes, e.mult + f));
      sh = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(lanes, e.shift + f));
      __mmask8 pos = _mm512_cmpgt_epi64_mask(sh, zero);
      half = _mm512_maskz_sllv_epi64(pos, one, _mm512_sub_epi64(sh, one));
    }
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      if (rt.border8[ow / 8] >> (ow % 8) & 1) { // not for a matmul: scalar
        for (int64_t i = 0; i < 8 && f + i < fEnd; ++i)
          binFinish(Prow[ow * 16 + f + i - f0], f + i, oh, ow, s, rt, t, e,
                    out, binOutIdx(s, true, 0, f + i, oh * s.OW + ow));
        continue;
      }
      __m512i P = _mm512_maskz_loadu_epi64(lanes, Prow + ow * 16 + f - f0);
      __m512i v = _mm512_add_epi64(
          _mm512_add_epi64(corr, _mm512_mul_epi32(P, pStep)),
          _mm512_mul_epi32(xCoef, _mm512_set1_epi64(rt.X[ow])));
      int64_t at = binOutIdx(s, true, 0, f, oh * s.OW + ow);
      if (!e.outI8) {
        _mm256_mask_storeu_epi32(static_cast<int32_t *>(out) + at, lanes,
                                 _mm512_cvtepi64_epi32(v));
        continue;
      }
      v = _mm512_mul_epi32(_mm512_sub_epi64(v, izp), mult);
      v = _mm512_srav_epi64(_mm512_add_epi64(v, half), sh);
      v = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(v, ozp), lo), hi);
      _mm_mask_storeu_epi8(static_cast<int8_t *>(out) + at, lanes,
                           _mm512_cvtepi64_epi8(v));
    }
  }
}

/// One output row of up to 16 filters from f0: the popcounts of every
/// pixel into a row buffer (tiles of 16 pixels x 8 filters), then each
/// filter's epilogue over the row (NCHW output: consecutive pixels; a
/// matmul's rows are N apart, finished one by one).
template <int B>
QC_VPOPCNT void binRow(const uint64_t *img, const uint64_t *w,
                       const BinShape &s, bool rows, int64_t bi, int64_t f0,
                       int64_t oh, const RowTerms &rt, const BinTerms &t,
                       const Epilogue &e, void *out, int64_t *Prow) {
  int64_t fEnd = f0 + 16 < s.F ? f0 + 16 : s.F, ld = s.OW + 8 * kBinR;
  __m512i acc[kBinR][kBinF];
  for (int64_t ow = 0; ow < s.OW; ow += 8 * kBinR) {
    __mmask8 lanes[kBinR];
    for (int r = 0; r < kBinR; ++r) {
      int64_t left = s.OW - (ow + 8 * r);
      lanes[r] = left >= 8 ? 0xFF
                 : left <= 0 ? 0
                             : __mmask8((1u << left) - 1);
    }
    for (int64_t f = f0; f < fEnd;) {
      int64_t nf = fEnd - f >= kBinF ? kBinF : 1;
      if (nf == kBinF)
        binTile<B, kBinF>(img, w, s, f, oh, ow, lanes, acc);
      else
        binTile<B, 1>(img, w, s, f, oh, ow, lanes, acc);
      if (!rows) {
        for (int64_t i = 0; i < nf; ++i)
          for (int r = 0; r < kBinR; ++r)
            _mm512_storeu_si512(Prow + (f + i - f0) * ld + ow + 8 * r,
                                acc[r][i]);
      } else if (nf == kBinF) { // [pixel][16 filters]
        for (int r = 0; r < kBinR; ++r) {
          __m512i px[8];
          transpose8x8(acc[r], px);
          for (int j = 0; j < 8; ++j)
            _mm512_storeu_si512(Prow + (ow + 8 * r + j) * 16 + f - f0, px[j]);
        }
      } else {
        for (int r = 0; r < kBinR; ++r) {
          alignas(64) int64_t lane[8];
          _mm512_store_si512(lane, acc[r][0]);
          for (int j = 0; j < 8; ++j)
            Prow[(ow + 8 * r + j) * 16 + f - f0] = lane[j];
        }
      }
      f += nf;
    }
  }
  if (!rows) {
    for (int64_t f = f0; f < fEnd; ++f)
      binRowEpilogue(Prow + (f - f0) * ld, f, oh, s, rt, t, e, out,
                     binOutIdx(s, false, bi, f, oh * s.OW));
    return;
  }
  // A matmul's row m holds the filters' outputs side by side.
  binRowsEpilogue(Prow, f0, fEnd, oh, s, rt, t, e, out);
}

QC_VPOPCNT void binVpopcnt(const BinShape &s, bool rows, const uint8_t *x,
                           uint8_t xr, int64_t thr, const uint64_t *w,
                           int64_t bits, const BinTerms &t, const Epilogue &e,
                           void *out, int64_t task, int64_t ntasks) {
  BitImages im(s);
  int64_t *Prow = static_cast<int64_t *>(
      alignedAlloc64(size_t(16 * (s.OW + 8 * kBinR)) * 8));
  binUnits(s, task, ntasks, [&](int64_t bi, int64_t f0, int64_t oh) {
    im.ensure(bi, x, rows, s, xr, thr, binarizeAvx512);
    const RowTerms &rt = im.rowTerms(s, t.tapCorr, oh);
    switch (bits) {
    case 1:
      binRow<1>(im.img, w, s, rows, bi, f0, oh, rt, t, e, out, Prow);
      break;
    case 2:
      binRow<2>(im.img, w, s, rows, bi, f0, oh, rt, t, e, out, Prow);
      break;
    case 3:
      binRow<3>(im.img, w, s, rows, bi, f0, oh, rt, t, e, out, Prow);
      break;
    default:
      binRow<4>(im.img, w, s, rows, bi, f0, oh, rt, t, e, out, Prow);
      break;
    }
  });
  free(Prow);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points (their signatures: include/qc/Kernels/Kernels.def)
//===----------------------------------------------------------------------===//

#define QC_LUT_CALL(fn)                                                        \
  fn(M, N, K, a, uint8_t(aXor), w, bits, wStep, wBase,                         \
     makeEpilogue(corr, zw, hasZw, mult, shift, izp, ozp, lo, hi, outI8, 0),   \
     out, task, ntasks)

#define QC_BIN_TERMS BinTerms{pStep, xCoef, tapCorr}
#define QC_CONV_BIN_CALL(fn)                                                   \
  fn(BinShape{batch, C, H, W, F, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw},      \
     /*rows=*/false, x, uint8_t(xXor), xThr, w, wBits, QC_BIN_TERMS,           \
     makeEpilogue(corr, zw, hasZw, mult, shift, izp, ozp, lo, hi, outI8, 0),   \
     out, task, ntasks)
#define QC_MATMUL_BIN_CALL(fn)                                                 \
  fn(BinShape{1, K, 1, M, N, 1, 1, 1, M, 1, 1, 0, 0, 1, 1}, /*rows=*/true, a,  \
     uint8_t(aXor), aThr, w, wBits, BinTerms{pStep, xCoef, nullptr},           \
     makeEpilogue(corr, zw, hasZw, mult, shift, izp, ozp, lo, hi, outI8, 0),   \
     out, task, ntasks)

extern "C" {

void qc_k_conv2d_bin_generic(QC_KERNEL_PARAMS(conv2d_bin)) {
  QC_CONV_BIN_CALL(binGeneric);
}
QC_VPOPCNT void qc_k_conv2d_bin_vpopcnt(QC_KERNEL_PARAMS(conv2d_bin)) {
  QC_CONV_BIN_CALL(binVpopcnt);
}
void qc_k_matmul_bin_generic(QC_KERNEL_PARAMS(matmul_bin)) {
  QC_MATMUL_BIN_CALL(binGeneric);
}
QC_VPOPCNT void qc_k_matmul_bin_vpopcnt(QC_KERNEL_PARAMS(matmul_bin)) {
  QC_MATMUL_BIN_CALL(binVpopcnt);
}

void qc_k_matmul_lut_i8_generic(QC_KERNEL_PARAMS(matmul_lut_i8)) {
  QC_LUT_CALL(lutGeneric);
}
QC_VBMI void qc_k_matmul_lut_i8_vbmi(QC_KERNEL_PARAMS(matmul_lut_i8)) {
  QC_LUT_CALL(lutVbmi);
}

} // extern "C"

namespace {

//===----------------------------------------------------------------------===//
// matmul_mx_i8 / matmul_mx6_i8: MX weights as exact int8 (Kernels.def)
//===----------------------------------------------------------------------===//

/// 2 x every E2M1 value: the integers the codes stand for.
constexpr int8_t kE2M1x2[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                0, -1, -2, -3, -4, -6, -8, -12};
/// 8 x every E2M3 value: code s ee mmm is m (e = 0) or (8 + m) << (e - 1).
constexpr std::array<int8_t, 64> e2m3x8() {
  std::array<int8_t, 64> t{};
  for (int c = 0; c < 64; ++c) {
    int e = (c >> 3) & 3, m = c & 7, v = e ? (8 + m) << (e - 1) : m;
    t[size_t(c)] = int8_t(c & 32 ? -v : v);
  }
  return t;
}
constexpr std::array<int8_t, 64> kE2M3x8 = e2m3x8();
constexpr int64_t kMxRows = 4; // rows kept in registers against a panel

/// The bytes of one panel-block of packed weights (Int8Kernels.h).
constexpr int64_t mxBlockBytes(int bits) { return bits == 6 ? 384 : 256; }

/// The integer of column c, k = 32 b + j, in a panel-block.
template <int Bits>
inline int mxValue(const uint8_t *pb, int64_t c, int64_t j) {
  int64_t lane = 4 * c + (j % 4), v = 2 * (j / 8) + (j % 8) / 4;
  uint8_t byte = pb[(j / 8) * 64 + lane];
  int code = v % 2 ? byte >> 4 : byte & 0xF;
  if constexpr (Bits == 4)
    return kE2M1x2[code];
  code |= ((pb[256 + (v / 4) * 64 + lane] >> (2 * (v % 4))) & 3) << 4;
  return kE2M3x8[size_t(code)];
}

template <int Bits>
void mxGeneric(int64_t M, int64_t N, int64_t K, const uint8_t *a, uint8_t aXor,
               const uint8_t *w, const uint8_t *shifts, const int64_t *corr,
               int64_t *out, int64_t task, int64_t ntasks) {
  int64_t panels = (N + 15) / 16, blocks = K / 32, p0, p1;
  constexpr int64_t bytes = mxBlockBytes(Bits);
  share(panels, task, ntasks, p0, p1);
  for (int64_t p = p0; p < p1; ++p)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t c = 0; c < 16 && p * 16 + c < N; ++c) {
        int64_t n = p * 16 + c, acc = corr[n];
        for (int64_t b = 0; b < blocks; ++b) {
          uint8_t sh = shifts[(p * blocks + b) * 16 + c];
          if (sh > 63)
            continue;
          const uint8_t *pb = w + (p * blocks + b) * bytes;
          int32_t part = 0;
          for (int64_t j = 0; j < 32; ++j)
            part += int32_t(uint8_t(a[m * K + b * 32 + j] ^ aXor)) *
                    mxValue<Bits>(pb, c, j);
          acc += int64_t(part) * (int64_t(1) << sh);
        }
        out[m * N + n] = acc;
      }
}

/// The rows a ^ aXor (a copy only when aXor is set).
struct MxRows {
  const uint8_t *rows;
  uint8_t *owned = nullptr;
  MxRows(const uint8_t *a, int64_t n, uint8_t aXor) : rows(a) {
    if (!aXor)
      return;
    owned = static_cast<uint8_t *>(malloc(size_t(n)));
    for (int64_t i = 0; i < n; ++i)
      owned[i] = a[i] ^ aXor;
    rows = owned;
  }
  ~MxRows() { free(owned); }
};

#define QC_MX_TARGET "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni"

/// Per panel of 16 columns and up to kMxRows rows: per block of 32 k, the
/// packed bytes become 8 vectors of int8 weights, 8 vpdpbusd give each
/// row's int32 block sums, which are widened, shifted by the block's
/// per-column shifts (vpsllvq; a count of 0xFF gives 0) and added in int64.
/// FP4: the nibbles through a vpshufb table of 2 x the E2M1 values. FP6:
/// the nibbles through two tables of 8 x the E2M3 magnitudes, one for each
/// value of the exponent's high bit (a mask tested from the top-bits
/// bytes, merged by a masked vpshufb), negated where the sign bit is set.
template <int Bits>
__attribute__((target(QC_MX_TARGET))) void
mxVnni(int64_t M, int64_t N, int64_t K, const uint8_t *a, uint8_t aXor,
       const uint8_t *w, const uint8_t *shifts, const int64_t *corr,
       int64_t *out, int64_t task, int64_t ntasks) {
  int64_t panels = (N + 15) / 16, blocks = K / 32, p0, p1;
  constexpr int64_t bytes = mxBlockBytes(Bits);
  share(panels, task, ntasks, p0, p1);
  MxRows rows(a, M * K, aXor);
  const __m512i lut = _mm512_broadcast_i32x4(_mm_loadu_si128(
      reinterpret_cast<const __m128i *>(Bits == 4 ? kE2M1x2 : kE2M3x8.data())));
  const __m512i lut1 = _mm512_broadcast_i32x4(
      _mm_loadu_si128(reinterpret_cast<const __m128i *>(kE2M3x8.data() + 16)));
  const __m512i nib = _mm512_set1_epi8(0x0F), zero = _mm512_setzero_si512();
  for (int64_t p = p0; p < p1; ++p) {
    int64_t cols = N - p * 16 < 16 ? N - p * 16 : 16;
    __mmask8 mLo = __mmask8(cols >= 8 ? 0xFF : (1u << cols) - 1);
    __mmask8 mHi = __mmask8(cols <= 8 ? 0 : (1u << (cols - 8)) - 1);
    __m512i cLo = _mm512_maskz_loadu_epi64(mLo, corr + p * 16);
    __m512i cHi = _mm512_maskz_loadu_epi64(mHi, corr + p * 16 + 8);
    for (int64_t m0 = 0; m0 < M; m0 += kMxRows) {
      int64_t nr = M - m0 < kMxRows ? M - m0 : kMxRows;
      __m512i accLo[kMxRows], accHi[kMxRows];
      for (int64_t r = 0; r < kMxRows; ++r)
        accLo[r] = cLo, accHi[r] = cHi;
      const uint8_t *pw = w + p * blocks * bytes;
      const uint8_t *ps = shifts + p * blocks * 16;
      for (int64_t b = 0; b < blocks; ++b, pw += bytes, ps += 16) {
        for (int64_t o = 0; o < bytes; o += 64)
          _mm_prefetch(reinterpret_cast<const char *>(pw + 8 * bytes + o),
                       _MM_HINT_T0);
        __m512i wv[8];
        for (int q = 0; q < 4; ++q) {
          __m512i v = _mm512_loadu_si512(pw + 64 * q);
          __m512i lo = _mm512_and_si512(v, nib);
          __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
          wv[2 * q] = _mm512_shuffle_epi8(lut, lo);
          wv[2 * q + 1] = _mm512_shuffle_epi8(lut, hi);
          if constexpr (Bits == 6) {
            // Vectors 2q and 2q + 1: top bits at 2u, 2u + 1 of byte
            // vector q / 2, u = 2q % 4 and u + 1.
            __m512i top = _mm512_loadu_si512(pw + 256 + 64 * (q / 2));
            for (int h = 0; h < 2; ++h) {
              int u = (2 * q + h) % 4;
              __mmask64 e1 = _mm512_test_epi8_mask(
                  top, _mm512_set1_epi8(char(1 << (2 * u))));
              __mmask64 sign = _mm512_test_epi8_mask(
                  top, _mm512_set1_epi8(char(2 << (2 * u))));
              __m512i x = _mm512_mask_shuffle_epi8(wv[2 * q + h], e1, lut1,
                                                   h ? hi : lo);
              wv[2 * q + h] = _mm512_mask_sub_epi8(x, sign, zero, x);
            }
          }
        }
        __m128i sh = _mm_loadu_si128(reinterpret_cast<const __m128i *>(ps));
        __m512i shLo = _mm512_cvtepu8_epi64(sh);
        __m512i shHi = _mm512_cvtepu8_epi64(_mm_srli_si128(sh, 8));
        for (int64_t r = 0; r < nr; ++r) {
          const uint8_t *ar = rows.rows + (m0 + r) * K + b * 32;
          __m512i s = _mm512_setzero_si512();
          for (int q = 0; q < 8; ++q) {
            int32_t x;
            memcpy(&x, ar + 4 * q, 4);
            s = _mm512_dpbusd_epi32(s, _mm512_set1_epi32(x), wv[q]);
          }
          __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(s));
          __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(s, 1));
          accLo[r] = _mm512_add_epi64(accLo[r], _mm512_sllv_epi64(lo, shLo));
          accHi[r] = _mm512_add_epi64(accHi[r], _mm512_sllv_epi64(hi, shHi));
        }
      }
      for (int64_t r = 0; r < nr; ++r) {
        int64_t *o = out + (m0 + r) * N + p * 16;
        _mm512_mask_storeu_epi64(o, mLo, accLo[r]);
        _mm512_mask_storeu_epi64(o + 8, mHi, accHi[r]);
      }
    }
  }
}

} // namespace

extern "C" {

void qc_k_matmul_mx_i8_generic(QC_KERNEL_PARAMS(matmul_mx_i8)) {
  mxGeneric<4>(M, N, K, a, uint8_t(aXor), w, shifts, corr, out, task, ntasks);
}
__attribute__((target(QC_MX_TARGET))) void
qc_k_matmul_mx_i8_vnni(QC_KERNEL_PARAMS(matmul_mx_i8)) {
  mxVnni<4>(M, N, K, a, uint8_t(aXor), w, shifts, corr, out, task, ntasks);
}
void qc_k_matmul_mx6_i8_generic(QC_KERNEL_PARAMS(matmul_mx6_i8)) {
  mxGeneric<6>(M, N, K, a, uint8_t(aXor), w, shifts, corr, out, task, ntasks);
}
__attribute__((target(QC_MX_TARGET))) void
qc_k_matmul_mx6_i8_vnni(QC_KERNEL_PARAMS(matmul_mx6_i8)) {
  mxVnni<6>(M, N, K, a, uint8_t(aXor), w, shifts, corr, out, task, ntasks);
}

} // extern "C"

namespace {

//===----------------------------------------------------------------------===//
// matmul_fp8: FP8 x FP8 through bf16 pairs (Kernels.def)
//===----------------------------------------------------------------------===//

constexpr int64_t kFp8Rows = 8; // rows kept in registers against a panel

inline float bf16(uint16_t bits) {
  uint32_t w = uint32_t(bits) << 16;
  float f;
  memcpy(&f, &w, 4);
  return f;
}

/// The rows of `a` as bf16 values, K rounded up to even (the padding 0):
/// a [M][pairs] array of 32-bit pairs.
struct Fp8Rows {
  uint32_t *pairs;
  Fp8Rows(const uint8_t *a, const uint16_t *table, int64_t M, int64_t K) {
    int64_t np = (K + 1) / 2;
    pairs = static_cast<uint32_t *>(malloc(size_t(M * np) * 4 + 4));
    for (int64_t m = 0; m < M; ++m)
      for (int64_t q = 0; q < np; ++q) {
        uint32_t lo = table[a[m * K + 2 * q]];
        uint32_t hi = 2 * q + 1 < K ? table[a[m * K + 2 * q + 1]] : 0;
        pairs[m * np + q] = lo | (hi << 16);
      }
  }
  ~Fp8Rows() { free(pairs); }
};

void fp8Generic(int64_t M, int64_t N, int64_t K, const uint8_t *a,
                const uint16_t *table, const uint16_t *b, float *out,
                int64_t task, int64_t ntasks) {
  int64_t panels = (N + 15) / 16, np = (K + 1) / 2, p0, p1;
  share(panels, task, ntasks, p0, p1);
  Fp8Rows rows(a, table, M, K);
  for (int64_t p = p0; p < p1; ++p)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t c = 0; c < 16 && p * 16 + c < N; ++c) {
        float acc = 0;
        for (int64_t q = 0; q < np; ++q) {
          uint32_t x = rows.pairs[m * np + q];
          const uint16_t *w = b + (p * np + q) * 32 + 2 * c;
          // vdpbf16ps's order: the odd product, then the even one.
          acc += bf16(uint16_t(x >> 16)) * bf16(w[1]);
          acc += bf16(uint16_t(x)) * bf16(w[0]);
        }
        out[m * N + p * 16 + c] = acc;
      }
}

/// Per panel of 16 columns and up to kFp8Rows rows: per pair of k, one
/// 64-byte load of the panel's weights and a vdpbf16ps per row against the
/// row's pair broadcast.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void
fp8Bf16(int64_t M, int64_t N, int64_t K, const uint8_t *a,
        const uint16_t *table, const uint16_t *b, float *out, int64_t task,
        int64_t ntasks) {
  int64_t panels = (N + 15) / 16, np = (K + 1) / 2, p0, p1;
  share(panels, task, ntasks, p0, p1);
  Fp8Rows rows(a, table, M, K);
  for (int64_t p = p0; p < p1; ++p) {
    int64_t cols = N - p * 16 < 16 ? N - p * 16 : 16;
    __mmask16 mask = __mmask16((1u << cols) - 1);
    const uint16_t *pw = b + p * np * 32;
    for (int64_t m0 = 0; m0 < M; m0 += kFp8Rows) {
      int64_t nr = M - m0 < kFp8Rows ? M - m0 : kFp8Rows;
      __m512 acc[kFp8Rows];
      for (int64_t r = 0; r < kFp8Rows; ++r)
        acc[r] = _mm512_setzero_ps();
      for (int64_t q = 0; q < np; ++q) {
        __m512i w = _mm512_loadu_si512(pw + q * 32);
        _mm_prefetch(reinterpret_cast<const char *>(pw + (q + 16) * 32),
                     _MM_HINT_T0);
        for (int64_t r = 0; r < nr; ++r) {
          __m512i x = _mm512_set1_epi32(int32_t(rows.pairs[(m0 + r) * np + q]));
          acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)x, (__m512bh)w);
        }
      }
      for (int64_t r = 0; r < nr; ++r)
        _mm512_mask_storeu_ps(out + (m0 + r) * N + p * 16, mask, acc[r]);
    }
  }
}

} // namespace

extern "C" {

void qc_k_matmul_fp8_generic(QC_KERNEL_PARAMS(matmul_fp8)) {
  fp8Generic(M, N, K, a, aTable, b, out, task, ntasks);
}
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void
qc_k_matmul_fp8_bf16(QC_KERNEL_PARAMS(matmul_fp8)) {
  fp8Bf16(M, N, K, a, aTable, b, out, task, ntasks);
}

} // extern "C"
