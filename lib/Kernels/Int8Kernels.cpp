//===- Int8Kernels.cpp - int8 GEMM and convolution microkernels -----------===//
//
// The kernels compiled models call for qc.matmul_int and qc.conv_int (with
// their qc.requantize fused). clang compiles this file to LLVM bitcode at
// build time; the compiler links the functions a model calls into its LLVM
// module (lib/Target/CPU/Target.cpp), so they are optimized and inlined with
// it. Two variants of each entry point:
//
//  - `_vnni`: AVX-512 VNNI (vpdpbusd), for targets with avx512f/bw/dq/vnni;
//  - `_generic`: the same loops in plain C++, for any x86-64 (the compiler
//    strips its target attributes, so LLVM vectorizes it for the model's
//    target).
//
// Both compute C = A x B on a "broadcast" operand (rows, 4 bytes of a row
// broadcast to all lanes) and a "vector" operand packed in panels of 16
// columns: panel[k4][lane][q] = B[4*k4 + q][16*panel + lane], K padded to a
// multiple of 4 and columns to 16 with zeros. vpdpbusd multiplies unsigned
// by signed bytes, so the activation side is made unsigned by XOR 0x80
// (x + 128 for int8), and the weight side signed (w - 128 for uint8); the
// constant terms that this and the zero points introduce are folded into a
// per-channel correction (see docs/kernels.md):
//
//   sum_k (x - zx)(w - zw) = S_u - (off + zx) sum_k w - zw * sum_k x + K zx zw
//
// with S_u the unsigned-by-signed product sum and off the activation's offset
// (128 or 0). The compiler computes every weight-only term; the kernel adds
// -zw * sum_k x when the weight zero point is not zero.
//
//  - matmul: A (activation, [batch][M][K]) is the broadcast side, B the
//    vector side, packed at compile time (constant B) or per column block at
//    run time (activation B, [batch][K][N]); channels are columns.
//  - conv2d: the weights ([F][Kp], Kp = K rounded up to 4) are the
//    broadcast side and the im2col of the input the vector side, packed per
//    block of 64 output positions at run time; channels are rows.
//
// The epilogue adds the correction and either stores int32 or requantizes
// exactly as qc.requantize does (64-bit multiply, rounding shift, zero
// point, clamp) and stores bytes. Work is split into units (batch x group x
// 64-column block x row chunk); the entry points take (task, ntasks) and do
// their share, so the caller's OpenMP loop over tasks runs them in parallel.
//
//===----------------------------------------------------------------------===//
#define QC_KERNELS_BITCODE
#include "qc/Kernels/Int8Kernels.h"

#include "KernelCommon.h"

#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utility>

#define QC_VNNI                                                                \
  __attribute__((                                                              \
      target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,prfchw")))

namespace {

using namespace qc_kernels;

constexpr int kLanes = 16;    // int32 lanes of a zmm: columns per panel
constexpr int kBlockVecs = 4; // panels per column block (64 columns)
constexpr int kBlockCols = kLanes * kBlockVecs;
/// Rows of a group of register tiles that share a K block of the panels.
constexpr int64_t kGroupRows = 8 * kMR;

inline uint32_t load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

//===----------------------------------------------------------------------===//
// Packing (shared by both variants; plain loops)
//===----------------------------------------------------------------------===//

/// Interleaves 4 rows of 64 bytes r0..r3 (XOR `xr`) into the 4 panels'
/// k4 group: out[(c / 16) * panelStride + (c % 16) * 4 + q] = rq[c] ^ xr.
/// SSE2 (every x86-64): byte then word unpacks.
inline void interleave4From(const uint8_t *r0, const uint8_t *r1,
                            const uint8_t *r2, const uint8_t *r3, uint8_t xr,
                            uint8_t *out, int64_t panelStride) {
  const __m128i x = _mm_set1_epi8(char(xr));
  for (int v = 0; v < kBlockVecs; ++v) {
    __m128i a = _mm_xor_si128(
        x, _mm_loadu_si128(reinterpret_cast<const __m128i *>(r0 + 16 * v)));
    __m128i b = _mm_xor_si128(
        x, _mm_loadu_si128(reinterpret_cast<const __m128i *>(r1 + 16 * v)));
    __m128i c = _mm_xor_si128(
        x, _mm_loadu_si128(reinterpret_cast<const __m128i *>(r2 + 16 * v)));
    __m128i d = _mm_xor_si128(
        x, _mm_loadu_si128(reinterpret_cast<const __m128i *>(r3 + 16 * v)));
    __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
    __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
    __m128i *o = reinterpret_cast<__m128i *>(out + v * panelStride);
    _mm_storeu_si128(o + 0, _mm_unpacklo_epi16(ab0, cd0));
    _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(ab0, cd0));
    _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(ab1, cd1));
    _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(ab1, cd1));
  }
}

/// Interleaves 4 rows of 64 bytes (r[q][c], row stride 64) into the
/// 4 panels' k4 group (see interleave4From).
inline void interleave4(const uint8_t *r, uint8_t *out, int64_t panelStride) {
  interleave4From(r, r + 64, r + 128, r + 192, 0, out, panelStride);
}

/// Packs a [Kp][64] row-major block (rows past K zero) into panels.
inline void packRows(const uint8_t *rows, int64_t K4, uint8_t *panels) {
  for (int64_t k4 = 0; k4 < K4; ++k4)
    interleave4(rows + k4 * 4 * kBlockCols, panels + k4 * 64, K4 * 64);
}

/// Unsigned sums of the 64 columns of a [K][64] block.
inline void columnSums(const uint8_t *rows, int64_t K, int32_t *sums) {
  for (int c = 0; c < kBlockCols; ++c)
    sums[c] = 0;
  for (int64_t k = 0; k < K; ++k)
    for (int c = 0; c < kBlockCols; ++c)
      sums[c] += rows[k * kBlockCols + c];
}

/// Packs columns [n0, n0 + 64) of a row-major [K][N] byte matrix (XOR `xr`)
/// into 4 panels of K4 x 16 x 4 bytes, through `rows` ([Kp][64] scratch);
/// `sums[c]` gets the column sums of the packed (XORed) bytes, signed.
void packColumns(const uint8_t *b, int64_t K, int64_t N, int64_t n0, uint8_t xr,
                 uint8_t *rows, uint8_t *panels, int32_t *sums) {
  int64_t K4 = cdiv(K, 4);
  int64_t cols = N - n0 < kBlockCols ? N - n0 : kBlockCols;
  memset(rows, 0, size_t(K4 * 4 * kBlockCols));
  for (int c = 0; c < kBlockCols; ++c)
    sums[c] = 0;
  for (int64_t k = 0; k < K; ++k) {
    const uint8_t *src = b + k * N + n0;
    uint8_t *dst = rows + k * kBlockCols;
    for (int64_t c = 0; c < cols; ++c) {
      dst[c] = src[c] ^ xr;
      sums[c] += int8_t(dst[c]);
    }
  }
  packRows(rows, K4, panels);
}

/// Geometry of a 2-d convolution of one image and group.
struct ConvShape {
  int64_t C, H, W, F, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, groups;
  int64_t Cg() const { return C / groups; }
  int64_t K() const { return Cg() * KH * KW; }
  int64_t P() const { return OH * OW; }
};

/// The im2col columns [p0, p0 + 64) of image/group input `x` (Cg channels
/// of H x W bytes) as a [Kp][64] block `rows`, XOR `xr`, the raw zero-point
/// byte `pad` outside the image, then packed into panels; with `wantSums`,
/// `sums` gets the unsigned column sums.
void packIm2col(const uint8_t *x, const ConvShape &s, int64_t p0, uint8_t xr,
                uint8_t pad, bool wantSums, uint8_t *rows, uint8_t *panels,
                int32_t *sums) {
  int64_t K = s.K(), K4 = cdiv(K, 4), P = s.P();
  int64_t cols = P - p0 < kBlockCols ? P - p0 : kBlockCols;
  uint8_t padv = pad ^ xr;
  bool pointwise = s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 &&
                   s.ph == 0 && s.pw == 0 && s.OH == s.H && s.OW == s.W;
  memset(rows + K * kBlockCols, 0, size_t((K4 * 4 - K) * kBlockCols));
  if (cols < kBlockCols)
    for (int64_t k = 0; k < K; ++k)
      memset(rows + k * kBlockCols + cols, 0, size_t(kBlockCols - cols));
  if (pointwise && cols == kBlockCols && !wantSums) {
    // Straight from the channel rows: 4 channels per k4 group.
    for (int64_t k4 = 0; k4 < K4; ++k4) {
      const uint8_t *r[4];
      for (int q = 0; q < 4; ++q)
        r[q] = 4 * k4 + q < K ? x + (4 * k4 + q) * s.H * s.W + p0
                              : rows; // rows: zeros
      if (4 * k4 + 3 >= K)
        memset(rows, xr, kBlockCols); // XORed back to 0
      interleave4From(r[0], r[1], r[2], r[3], xr, panels + k4 * 64, K4 * 64);
    }
    return;
  }
  int64_t k = 0;
  for (int64_t c = 0; c < s.Cg(); ++c) {
    const uint8_t *plane = x + c * s.H * s.W;
    if (pointwise) {
      uint8_t *dst = rows + c * kBlockCols;
      for (int64_t j = 0; j < cols; ++j)
        dst[j] = plane[p0 + j] ^ xr;
      ++k;
      continue;
    }
    for (int64_t kh = 0; kh < s.KH; ++kh)
      for (int64_t kw = 0; kw < s.KW; ++kw, ++k) {
        uint8_t *dst = rows + k * kBlockCols;
        forEachRowRun(p0, cols, s.OW,
                      [&](int64_t j, int64_t oh, int64_t ow, int64_t run) {
                        int64_t ih = oh * s.sh - s.ph + kh * s.dh;
                        if (ih < 0 || ih >= s.H) {
                          memset(dst + j, padv, size_t(run));
                        } else {
                          const uint8_t *src = plane + ih * s.W;
                          int64_t iw0 = ow * s.sw - s.pw + kw * s.dw;
                          // In-image positions t0 <= t < t1: iw0 + t * sw in
                          // [0, W).
                          int64_t t0 = iw0 >= 0 ? 0 : cdiv(-iw0, s.sw);
                          int64_t t1 =
                              s.W - iw0 > 0 ? cdiv(s.W - iw0, s.sw) : 0;
                          t0 = t0 < run ? t0 : run;
                          t1 = t1 < run ? t1 : run;
                          t1 = t1 > t0 ? t1 : t0;
                          uint8_t *d = dst + j;
                          memset(d, padv, size_t(t0));
                          if (s.sw == 1) {
                            const uint8_t *in = src + iw0;
                            for (int64_t t = t0; t < t1; ++t)
                              d[t] = in[t] ^ xr;
                          } else {
                            for (int64_t t = t0; t < t1; ++t)
                              d[t] = src[iw0 + t * s.sw] ^ xr;
                          }
                          memset(d + t1, padv, size_t(run - t1));
                        }
                      });
      }
  }
  if (wantSums)
    columnSums(rows, K, sums);
  packRows(rows, K4, panels);
}

/// The per-task scratch: packed panels of one column block and their sums.
struct Scratch {
  uint8_t *panels = nullptr, *rows = nullptr;
  int32_t sums[kBlockCols];
  int64_t key = -1; // the (outer, column block) it holds
  explicit Scratch(int64_t K4) {
    if (K4) {
      panels =
          static_cast<uint8_t *>(alignedAlloc64(size_t(kBlockVecs * K4 * 64)));
      rows =
          static_cast<uint8_t *>(alignedAlloc64(size_t(kBlockVecs * K4 * 64)));
    }
  }
  ~Scratch() {
    free(panels);
    free(rows);
  }
};

/// Expands `n` sub-byte weights (`bits` = 4 or 2, two's complement, the
/// lowest bits of each byte first) into int8: the compile-time panels of
/// layers whose weights are 4 or 2 bits wide are stored this way
/// (qc::kernels::packSubByte) and expanded one column block at a time.
inline void unpackSubByte(const uint8_t *in, int64_t n, int64_t bits,
                          uint8_t *out) {
  if (bits == 4) {
    for (int64_t i = 0; i < n / 2; ++i) {
      int8_t v = int8_t(in[i]);
      out[2 * i] = uint8_t(int8_t(uint8_t(v << 4)) >> 4);
      out[2 * i + 1] = uint8_t(v >> 4);
    }
    return;
  }
  for (int64_t i = 0; i < n / 4; ++i) {
    uint8_t v = in[i];
    for (int q = 0; q < 4; ++q)
      out[4 * i + q] = uint8_t(int8_t(uint8_t(v << (6 - 2 * q))) >> 6);
  }
}

/// unpackSubByte with AVX-512: 64 weights per step. Each input byte is
/// widened to a lane (a dword for 2 bits, a word for 4), its fields are
/// moved to one byte each by shifts and ors, and sign-extended as
/// (f ^ h) - h with h the field's sign bit.
QC_VNNI void unpackSubByteAvx512(const uint8_t *in, int64_t n, int64_t bits,
                                 uint8_t *out) {
  int64_t i = 0;
  if (bits == 4) {
    const __m512i lo = _mm512_set1_epi16(0x0F), h = _mm512_set1_epi8(8);
    for (; i + 64 <= n; i += 64) {
      __m512i x = _mm512_cvtepu8_epi16(
          _mm256_loadu_si256(reinterpret_cast<const __m256i *>(in + i / 2)));
      __m512i f = _mm512_or_si512(_mm512_and_si512(x, lo),
                                  _mm512_slli_epi16(_mm512_srli_epi16(x, 4), 8));
      _mm512_storeu_si512(out + i,
                          _mm512_sub_epi8(_mm512_xor_si512(f, h), h));
    }
  } else {
    const __m512i m = _mm512_set1_epi32(0x03030303), h = _mm512_set1_epi8(2);
    for (; i + 64 <= n; i += 64) {
      __m512i x = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + i / 4)));
      __m512i f = _mm512_or_si512(
          _mm512_or_si512(x, _mm512_slli_epi32(x, 6)),
          _mm512_or_si512(_mm512_slli_epi32(x, 12), _mm512_slli_epi32(x, 18)));
      f = _mm512_and_si512(f, m);
      _mm512_storeu_si512(out + i,
                          _mm512_sub_epi8(_mm512_xor_si512(f, h), h));
    }
  }
  if (i < n)
    unpackSubByte(in + i * bits / 8, n - i, bits, out + i);
}

template <bool Vnni>
void expandSubByte(const uint8_t *in, int64_t n, int64_t bits, uint8_t *out) {
  if (Vnni)
    unpackSubByteAvx512(in, n, bits, out);
  else
    unpackSubByte(in, n, bits, out);
}

//===----------------------------------------------------------------------===//
// Generic tile: scalar loops
//===----------------------------------------------------------------------===//

/// One tile of `mr` rows x `nv` panels: acc[i][c] over K4 groups. The
/// broadcast rows are `bc + i * ldbc` (K bytes),
/// XOR `bxr`; `bcU8` says which side is
/// unsigned.
void tileGeneric(int mr, int nv, const uint8_t *bc, int64_t ldbc, int64_t K,
                 uint8_t bxr, bool bcU8, const uint8_t *vec,
                 int64_t panelStride, int32_t acc[kMR][kBlockCols]) {
  for (int i = 0; i < mr; ++i)
    for (int c = 0; c < nv * kLanes; ++c)
      acc[i][c] = 0;
  for (int i = 0; i < mr; ++i) {
    const uint8_t *row = bc + i * ldbc;
    for (int v = 0; v < nv; ++v) {
      const uint8_t *panel = vec + v * panelStride;
      for (int64_t k = 0; k < K; ++k) {
        uint8_t bb = row[k] ^ bxr;
        int32_t bval = bcU8 ? int32_t(bb) : int32_t(int8_t(bb));
        const uint8_t *vk = panel + (k >> 2) * 64 + (k & 3);
        for (int l = 0; l < kLanes; ++l) {
          uint8_t vb = vk[l * 4];
          int32_t vval = bcU8 ? int32_t(int8_t(vb)) : int32_t(vb);
          acc[i][v * kLanes + l] += bval * vval;
        }
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// VNNI tile
//===----------------------------------------------------------------------===//

template <int MR, int NV, bool BcU8>
QC_VNNI inline void tileVnniT(const uint8_t *bc, int64_t ldbc, int64_t K,
                              uint8_t bxr, const uint8_t *vec,
                              int64_t panelStride,
                              __m512i acc[kMR][kBlockVecs], bool fresh) {
  // acc holds the sums of the previous K blocks (ignored when `fresh`: the
  // first block starts from zero).
  // K is a multiple of 4 and the broadcast bytes need no XOR (the callers
  // pad and XOR them beforehand): each broadcast is a plain 32-bit load.
  // The sums live in a local copy: `acc` may alias the byte loads, so
  // updating it in place would store and reload every accumulator on each
  // step when this tile is not inlined into its caller.
  (void)bxr;
  __m512i r[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v)
      r[i][v] = fresh ? _mm512_setzero_si512() : acc[i][v];
  for (int64_t k4 = 0; k4 < (K >> 2); ++k4) {
    __m512i b[NV];
    for (int v = 0; v < NV; ++v)
      b[v] = _mm512_loadu_si512(vec + v * panelStride + k4 * 64);
    for (int i = 0; i < MR; ++i) {
      __m512i a = _mm512_set1_epi32(int(load32(bc + i * ldbc + k4 * 4)));
      for (int v = 0; v < NV; ++v)
        r[i][v] = BcU8 ? _mm512_dpbusd_epi32(r[i][v], a, b[v])
                       : _mm512_dpbusd_epi32(r[i][v], b[v], a);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v)
      acc[i][v] = r[i][v];
}

template <int MR, bool BcU8>
QC_VNNI void tileVnniRows(int nv, const uint8_t *bc, int64_t ldbc, int64_t K,
                          uint8_t bxr, const uint8_t *vec, int64_t panelStride,
                          __m512i acc[kMR][kBlockVecs], bool fresh) {
  switch (nv) {
  case 1:
    return tileVnniT<MR, 1, BcU8>(bc, ldbc, K, bxr, vec, panelStride, acc,
                                  fresh);
  case 2:
    return tileVnniT<MR, 2, BcU8>(bc, ldbc, K, bxr, vec, panelStride, acc,
                                  fresh);
  case 3:
    return tileVnniT<MR, 3, BcU8>(bc, ldbc, K, bxr, vec, panelStride, acc,
                                  fresh);
  default:
    return tileVnniT<MR, 4, BcU8>(bc, ldbc, K, bxr, vec, panelStride, acc,
                                  fresh);
  }
}

template <bool BcU8>
QC_VNNI void tileVnni(int mr, int nv, const uint8_t *bc, int64_t ldbc,
                      int64_t K, uint8_t bxr, const uint8_t *vec,
                      int64_t panelStride, __m512i acc[kMR][kBlockVecs],
                      bool fresh) {
  switch (mr) {
  case 1:
    return tileVnniRows<1, BcU8>(nv, bc, ldbc, K, bxr, vec, panelStride, acc,
                                 fresh);
  case 2:
    return tileVnniRows<2, BcU8>(nv, bc, ldbc, K, bxr, vec, panelStride, acc,
                                 fresh);
  case 3:
    return tileVnniRows<3, BcU8>(nv, bc, ldbc, K, bxr, vec, panelStride, acc,
                                 fresh);
  case 4:
    return tileVnniRows<4, BcU8>(nv, bc, ldbc, K, bxr, vec, panelStride, acc,
                                 fresh);
  case 5:
    return tileVnniRows<5, BcU8>(nv, bc, ldbc, K, bxr, vec, panelStride, acc,
                                 fresh);
  default:
    return tileVnniRows<6, BcU8>(nv, bc, ldbc, K, bxr, vec, panelStride, acc,
                                 fresh);
  }
}

/// A fused qc.table on `n` stored bytes, in place: 64 at a time by two
/// two-table byte permutes (indices 0-127 and 128-255) and a blend on the
/// index's top bit. Not inlined: its callers lack the VBMI target.
__attribute__((target("avx512f,avx512bw,avx512vbmi"), noinline)) void
translateVbmi(uint8_t *p, int64_t rows, int64_t n, int64_t ld,
              const uint8_t *lut) {
  __m512i t0 = _mm512_loadu_si512(lut), t1 = _mm512_loadu_si512(lut + 64),
          t2 = _mm512_loadu_si512(lut + 128), t3 = _mm512_loadu_si512(lut + 192);
  for (int64_t r = 0; r < rows; ++r, p += ld)
    for (int64_t i = 0; i < n; i += 64) {
      __mmask64 m =
          n - i >= 64 ? ~__mmask64(0) : (__mmask64(1) << (n - i)) - 1;
      __m512i idx = _mm512_maskz_loadu_epi8(m, p + i);
      __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1),
              hi = _mm512_permutex2var_epi8(t2, idx, t3);
      _mm512_mask_storeu_epi8(
          p + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi));
    }
}

/// The same with one load per byte (any x86-64).
__attribute__((noinline)) void translateScalar(uint8_t *p, int64_t rows,
                                               int64_t n, int64_t ld,
                                               const uint8_t *lut) {
  for (int64_t r = 0; r < rows; ++r, p += ld)
    for (int64_t i = 0; i < n; ++i)
      p[i] = lut[p[i]];
}

/// Applies the epilogue's table, if any, to `rows` runs of `n` stored bytes
/// `ld` apart (one call per block: the table is loaded once).
inline void translate(const Epilogue &e, void *out, int64_t rows, int64_t n,
                      int64_t ld) {
  if (!e.lut || rows <= 0)
    return;
  if (e.lutVbmi)
    translateVbmi(static_cast<uint8_t *>(out), rows, n, ld, e.lut);
  else
    translateScalar(static_cast<uint8_t *>(out), rows, n, ld, e.lut);
}

/// The sum of `n` bytes XOR `xr`, 64 at a time by vpsadbw (eight byte sums
/// per instruction; the compiler's widening loop took eight instructions
/// per 64 bytes, and the sum runs once per row, tile and column block when
/// the weights have a zero point).
QC_VNNI inline int64_t rowSumVnni(const uint8_t *p, int64_t n, uint8_t xr) {
  const __m512i x = _mm512_set1_epi8(char(xr)), zero = _mm512_setzero_si512();
  __m512i acc = zero;
  int64_t k = 0;
  for (; k + 64 <= n; k += 64)
    acc = _mm512_add_epi64(
        acc, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(p + k), x),
                             zero));
  int64_t rs = _mm512_reduce_add_epi64(acc);
  for (; k < n; ++k)
    rs += uint8_t(p[k] ^ xr);
  return rs;
}

/// The unsigned sum of n bytes.
template <bool Vnni> int64_t rowSum(const uint8_t *p, int64_t n) {
  if constexpr (Vnni)
    return rowSumVnni(p, n, 0);
  int64_t rs = 0;
  for (int64_t k = 0; k < n; ++k)
    rs += p[k];
  return rs;
}

/// qc.requantize of 8 int64 lanes with per-tensor parameters.
QC_VNNI inline __m512i requant8(__m512i x, int64_t m, int64_t s, int64_t izp,
                                int64_t ozp, int64_t lo, int64_t hi) {
  int64_t half = s > 0 ? int64_t(1) << (s - 1) : 0;
  x = _mm512_mullo_epi64(_mm512_sub_epi64(x, _mm512_set1_epi64(izp)),
                         _mm512_set1_epi64(m));
  x = _mm512_sra_epi64(_mm512_add_epi64(x, _mm512_set1_epi64(half)),
                       _mm_cvtsi64_si128(s));
  x = _mm512_add_epi64(x, _mm512_set1_epi64(ozp));
  return _mm512_min_epi64(_mm512_max_epi64(x, _mm512_set1_epi64(lo)),
                          _mm512_set1_epi64(hi));
}

/// The residual stage (Epilogue::res, KernelCommon.h's `residual`) on 8
/// outputs y (int64 lanes) and their addends' bytes r (int64 lanes).
QC_VNNI inline __m512i residual8(__m512i y, __m512i r, const Epilogue &e) {
  const int64_t *p = e.rp;
  __m512i a = requant8(y, p[0], p[1], p[2], p[3], p[4], p[5]);
  __m512i b = requant8(r, p[6], p[7], p[8], p[9], p[10], p[11]);
  // qc.add on i32 wraps: the sum's low 32 bits, sign-extended.
  __m512i sum =
      _mm512_cvtepi32_epi64(_mm512_cvtepi64_epi32(_mm512_add_epi64(a, b)));
  return requant8(sum, p[12], p[13], p[14], p[15], p[16], p[17]);
}

/// The residual stage's parameters as int32 vectors, built once per block
/// (Epilogue::res32): loads through `e` cannot move out of the store loops,
/// whose byte stores may alias anything.
struct ResidualLanes {
  __m512i m[2], half[2], izp[2], ozp[2], ozp3, lo3, hi3, one;
  __m128i s[2], t, t1;
  bool resUnsigned;
};

QC_VNNI inline ResidualLanes residualLanes(const Epilogue &e) {
  const int64_t *p = e.rp;
  ResidualLanes l;
  for (int q = 0; q < 2; ++q) {
    const int64_t *r = p + 6 * q;
    l.m[q] = _mm512_set1_epi32(int(r[0]));
    l.half[q] = _mm512_set1_epi32(r[1] > 0 ? int32_t(1) << (r[1] - 1) : 0);
    l.izp[q] = _mm512_set1_epi32(int(r[2]));
    l.ozp[q] = _mm512_set1_epi32(int(r[3]));
    l.s[q] = _mm_cvtsi64_si128(r[1]);
  }
  int64_t k = 0;
  while ((int64_t(1) << k) < p[12])
    ++k;
  l.t = _mm_cvtsi64_si128(p[13] - k);
  l.t1 = _mm_cvtsi64_si128(p[13] - k - 1);
  l.ozp3 = _mm512_set1_epi32(int(p[15]));
  l.lo3 = _mm512_set1_epi32(int(p[16]));
  l.hi3 = _mm512_set1_epi32(int(p[17]));
  l.one = _mm512_set1_epi32(1);
  l.resUnsigned = p[18] != 0;
  return l;
}

/// The residual stage on 16 int32 lanes (Epilogue::res32): each addend
/// requantized to int32 ((v - izp) m + half) >> s + ozp, products below
/// 2^30), the wrapping sum, then its rounding shift by t = s - k as
/// (x >> t) + ((x >> (t - 1)) & 1), zero point and clamp.
QC_VNNI inline __m512i residual16x32(__m512i y, __m128i rb,
                                     const ResidualLanes &l) {
  __m512i r = l.resUnsigned ? _mm512_cvtepu8_epi32(rb) : _mm512_cvtepi8_epi32(rb);
  __m512i v[2] = {y, r};
  for (int q = 0; q < 2; ++q) {
    v[q] = _mm512_mullo_epi32(_mm512_sub_epi32(v[q], l.izp[q]), l.m[q]);
    v[q] = _mm512_add_epi32(
        _mm512_sra_epi32(_mm512_add_epi32(v[q], l.half[q]), l.s[q]), l.ozp[q]);
  }
  __m512i sum = _mm512_add_epi32(v[0], v[1]); // wraps like qc.add
  __m512i x = _mm512_add_epi32(
      _mm512_sra_epi32(sum, l.t),
      _mm512_and_si512(_mm512_sra_epi32(sum, l.t1), l.one));
  x = _mm512_add_epi32(x, l.ozp3);
  return _mm512_min_epi32(_mm512_max_epi32(x, l.lo3), l.hi3);
}

/// The requantization of 16 corrected accumulators with per-lane
/// multipliers/shifts, as int64 halves (lanes 0-7, 8-15).
QC_VNNI inline void requant16(__m512i v, __m512i m32, __m512i s32,
                              const Epilogue &e, __m512i (&halves)[2]) {
  const __m512i one = _mm512_set1_epi64(1), izp = _mm512_set1_epi64(e.izp),
                ozp = _mm512_set1_epi64(e.ozp), lo = _mm512_set1_epi64(e.lo),
                hi = _mm512_set1_epi64(e.hi);
  for (int h = 0; h < 2; ++h) {
    __m512i x = _mm512_cvtepi32_epi64(h ? _mm512_extracti64x4_epi64(v, 1)
                                        : _mm512_castsi512_si256(v));
    __m512i m = _mm512_cvtepi32_epi64(h ? _mm512_extracti64x4_epi64(m32, 1)
                                        : _mm512_castsi512_si256(m32));
    __m512i s = _mm512_cvtepi32_epi64(h ? _mm512_extracti64x4_epi64(s32, 1)
                                        : _mm512_castsi512_si256(s32));
    x = _mm512_mullo_epi64(_mm512_sub_epi64(x, izp), m);
    // 2^(s-1), 0 for s = 0 (a shift count of 2^64 - 1 gives 0)
    __m512i half = _mm512_sllv_epi64(one, _mm512_sub_epi64(s, one));
    x = _mm512_add_epi64(_mm512_srav_epi64(_mm512_add_epi64(x, half), s), ozp);
    halves[h] = _mm512_min_epi64(_mm512_max_epi64(x, lo), hi);
  }
}

/// A block's requantization constants in int64 lanes, made once per block
/// (or per row) into locals: read through the Epilogue, they are reloaded
/// and widened for every 16 outputs, since the byte stores between may
/// alias it.
struct RequantConsts {
  __m512i izp, ozp, lo, hi;
};
struct RequantChannels { // per lane (lanes 0-7, 8-15)
  __m512i m[2], s[2], half[2];
};

QC_VNNI inline RequantConsts requantConsts(const Epilogue &e) {
  return {_mm512_set1_epi64(e.izp), _mm512_set1_epi64(e.ozp),
          _mm512_set1_epi64(e.lo), _mm512_set1_epi64(e.hi)};
}

QC_VNNI inline RequantChannels requantChannels(__m512i m32, __m512i s32) {
  RequantChannels q;
  const __m512i one = _mm512_set1_epi64(1);
  for (int h = 0; h < 2; ++h) {
    q.m[h] = _mm512_cvtepi32_epi64(h ? _mm512_extracti64x4_epi64(m32, 1)
                                     : _mm512_castsi512_si256(m32));
    q.s[h] = _mm512_cvtepi32_epi64(h ? _mm512_extracti64x4_epi64(s32, 1)
                                     : _mm512_castsi512_si256(s32));
    // 2^(s-1), 0 for s = 0 (a shift count of 2^64 - 1 gives 0)
    q.half[h] = _mm512_sllv_epi64(one, _mm512_sub_epi64(q.s[h], one));
  }
  return q;
}

/// Requantizes 16 corrected accumulators with the constants made beforehand
/// and stores the `mask`ed lanes as bytes at `out`.
QC_VNNI inline void storeRequantWith16(__m512i v, const RequantChannels &q,
                                       const RequantConsts &c, int8_t *out,
                                       __mmask16 mask) {
  __m256i halves[2];
  for (int h = 0; h < 2; ++h) {
    __m512i x = _mm512_cvtepi32_epi64(h ? _mm512_extracti64x4_epi64(v, 1)
                                        : _mm512_castsi512_si256(v));
    x = _mm512_mullo_epi64(_mm512_sub_epi64(x, c.izp), q.m[h]);
    x = _mm512_add_epi64(
        _mm512_srav_epi64(_mm512_add_epi64(x, q.half[h]), q.s[h]), c.ozp);
    halves[h] = _mm512_cvtepi64_epi32(_mm512_min_epi64(_mm512_max_epi64(x, c.lo), c.hi));
  }
  __m512i r =
      _mm512_inserti64x4(_mm512_castsi256_si512(halves[0]), halves[1], 1);
  _mm_mask_storeu_epi8(out, mask, _mm512_cvtepi32_epi8(r));
}

/// 16 int64-half results as int32 lanes.
QC_VNNI inline __m512i joinHalves(const __m512i (&halves)[2]) {
  return _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm512_cvtepi64_epi32(halves[0])),
      _mm512_cvtepi64_epi32(halves[1]), 1);
}

/// The requantization (requant16) through the residual stage (Epilogue::res), the other
/// addends at `res`: in int32 lanes with `lanes` (Epilogue::res32), else in
/// int64 halves.
QC_VNNI inline void storeRequantResidual16(__m512i v, __m512i m32,
                                           __m512i s32, const Epilogue &e,
                                           int8_t *out, __mmask16 mask,
                                           const uint8_t *res,
                                           const ResidualLanes *lanes) {
  __m512i halves[2];
  requant16(v, m32, s32, e, halves);
  if (!lanes)
    for (int h = 0; h < 2; ++h) {
      __m128i rb =
          _mm_maskz_loadu_epi8(__mmask16(mask >> (8 * h)), res + 8 * h);
      __m512i r =
          e.rp[18] ? _mm512_cvtepu8_epi64(rb) : _mm512_cvtepi8_epi64(rb);
      halves[h] = residual8(halves[h], r, e);
    }
  __m512i r = joinHalves(halves);
  if (lanes)
    r = residual16x32(r, _mm_maskz_loadu_epi8(mask, res), *lanes);
  _mm_mask_storeu_epi8(out, mask, _mm512_cvtepi32_epi8(r));
}

//===----------------------------------------------------------------------===//
// Drivers
//===----------------------------------------------------------------------===//

/// Runs rows [r0, r1) of the broadcast side against one packed column block
/// and stores through the epilogue.
///
/// `chanIsCol`: channel = column (matmul) or row (conv). `rowCh0`: channel
/// of row 0 (conv: group offset). `colSums`: unsigned sums of the packed
/// columns (conv, with a weight zero point: the x sums), or null. `rowSums`
/// (matmul with a weight zero point): the broadcast rows' sums are needed;
/// then `colSums`, if not null, holds them (indexed by row: computed once
/// per call rather than once per column block), else they are computed here.
/// Output element (r, c) is at out + r * ldo + (n0 + c).
template <bool Vnni>
void runBlock(int64_t r0, int64_t r1, const uint8_t *bc, int64_t ldbc,
              int64_t K, uint8_t bxr, bool bcU8, const uint8_t *panels,
              int64_t panelStride, int64_t n0, int64_t N, bool chanIsCol,
              int64_t rowCh0, const int32_t *colSums, bool rowSums,
              const Epilogue &e, void *out, int64_t ldo);

template <>
void runBlock<false>(int64_t r0, int64_t r1, const uint8_t *bc, int64_t ldbc,
                     int64_t K, uint8_t bxr, bool bcU8, const uint8_t *panels,
                     int64_t panelStride, int64_t n0, int64_t N, bool chanIsCol,
                     int64_t rowCh0, const int32_t *colSums, bool rowSums,
                     const Epilogue &e, void *out, int64_t ldo) {
  int64_t cols = N - n0 < kBlockCols ? N - n0 : kBlockCols;
  int nv = int(cdiv(cols, kLanes));
  int32_t acc[kMR][kBlockCols];
  for (int64_t r = r0; r < r1; r += kMR) {
    int mr = int(r1 - r < kMR ? r1 - r : kMR);
    const uint8_t *rows = bc + r * ldbc;
    tileGeneric(mr, nv, rows, ldbc, K, bxr, bcU8, panels, panelStride, acc);
    for (int i = 0; i < mr; ++i) {
      int64_t rs = 0;
      if (rowSums && e.zw) {
        if (colSums)
          rs = colSums[r + i];
        else
          for (int64_t k = 0; k < K; ++k)
            rs += uint8_t(rows[i * ldbc + k] ^ bxr);
        rs -= e.sumOff;
      }
      for (int64_t c = 0; c < cols; ++c) {
        int64_t ch = chanIsCol ? n0 + c : rowCh0 + r + i;
        int64_t v = int64_t(acc[i][c]) + e.corr[ch];
        if (e.zw)
          v -= int64_t(e.zw[ch]) *
               (chanIsCol ? rs : int64_t(colSums[c]) - e.sumOff);
        storeOne(out, (r + i) * ldo + n0 + c, v, ch, e);
      }
    }
  }
}

/// runBlock<true>'s body; `Res`: the epilogue has a residual stage (a
/// separate instantiation: its setup and per-store branch in the common
/// one cost the PP-OCR classifier 5%).
template <bool Res>
QC_VNNI void
runBlockVnni(int64_t r0, int64_t r1, const uint8_t *bc, int64_t ldbc,
             int64_t K, uint8_t bxr, bool bcU8, const uint8_t *panels,
             int64_t panelStride, int64_t n0, int64_t N, bool chanIsCol,
             int64_t rowCh0, const int32_t *colSums, bool rowSums,
             const Epilogue &e, void *out, int64_t ldo) {
  int64_t cols = N - n0 < kBlockCols ? N - n0 : kBlockCols;
  int nv = int(cdiv(cols, kLanes));
  // Per-column vectors (channel = column) and the x sums, per panel.
  __m512i corrV[kBlockVecs], multV[kBlockVecs], shiftV[kBlockVecs],
      zwV[kBlockVecs], sumV[kBlockVecs];
  __mmask16 masks[kBlockVecs];
  for (int v = 0; v < nv; ++v) {
    int64_t left = cols - v * kLanes;
    masks[v] = left >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    if (chanIsCol) {
      const int64_t c0 = n0 + v * kLanes;
      corrV[v] = _mm512_maskz_loadu_epi32(masks[v], e.corr + c0);
      if (e.outI8) {
        multV[v] = _mm512_maskz_loadu_epi32(masks[v], e.mult + c0);
        shiftV[v] = _mm512_maskz_loadu_epi32(masks[v], e.shift + c0);
      }
      if (e.zw)
        zwV[v] = _mm512_maskz_loadu_epi32(masks[v], e.zw + c0);
    } else if (e.zw) {
      sumV[v] = _mm512_sub_epi32(_mm512_loadu_si512(colSums + v * kLanes),
                                 _mm512_set1_epi32(int(e.sumOff)));
    }
  }
  const uint8_t *res = Res ? e.res : nullptr;
  ResidualLanes lanes;
  if (Res && e.res32)
    lanes = residualLanes(e);
  RequantConsts consts;
  RequantChannels colReq[kBlockVecs];
  if (e.outI8) {
    consts = requantConsts(e);
    if (chanIsCol)
      for (int v = 0; v < nv; ++v)
        colReq[v] = requantChannels(multV[v], shiftV[v]);
  }
  // Groups of 8 row tiles, and K blocks of 256 within a group: the block's
  // slice of the packed columns (16 KB) stays in L1 while the group's tiles
  // run over it, and their partial sums (12 KB) wait in `partial` between
  // blocks.
  int64_t K4 = K >> 2, kc = K4 > 96 ? 64 : K4;
  alignas(64) __m512i partial[kGroupRows * kBlockVecs];
  for (int64_t g0 = r0; g0 < r1; g0 += kGroupRows) {
    int64_t g1 = g0 + kGroupRows < r1 ? g0 + kGroupRows : r1;
    for (int64_t kb = 0; kb < K4; kb += kc) {
      int64_t ke = kb + kc < K4 ? kb + kc : K4;
      for (int64_t r = g0; r < g1; r += kMR) {
        int mr = int(g1 - r < kMR ? g1 - r : kMR);
        const uint8_t *rows = bc + r * ldbc;
        // The tile's sums live in `partial` between K blocks; the tile
        // loads and stores them there itself (copies through a local array
        // became memmove calls, 5% of BERT).
        auto acc = reinterpret_cast<__m512i(*)[kBlockVecs]>(
            partial + (r - g0) * kBlockVecs);
        if (ke < K4) {
          // The next K block's slice of the panels, a share per tile: it
          // arrives while this block runs instead of at the group's first
          // tile of the next one (M = 128, K = N = 4096: 5.85 -> 5.58 ms).
          int64_t len = ((ke + kc < K4 ? ke + kc : K4) - ke) * 64,
                  tiles = cdiv(g1 - g0, kMR), per = cdiv(len, tiles * 64) * 64,
                  b0 = (r - g0) / kMR * per,
                  b1 = b0 + per < len ? b0 + per : len;
          for (int v = 0; v < nv; ++v)
            for (int64_t b = b0; b < b1; b += 64)
              __builtin_prefetch(panels + v * panelStride + ke * 64 + b, 0, 3);
        } else {
          // Before the last K block, the tile's output lines are requested
          // for writing: the stores at its end would otherwise wait on
          // their reads from memory (a large int32 result: 14% of 2048^3).
          int64_t bytes = cols * int64_t(e.outI8 ? 1 : 4);
          for (int i = 0; i < mr; ++i) {
            const char *o = static_cast<const char *>(out) +
                            ((r + i) * ldo + n0) * (e.outI8 ? 1 : 4);
            for (int64_t b = 0; b < bytes; b += 64)
              __builtin_prefetch(o + b, 1, 3);
          }
        }
        if (bcU8)
          tileVnni<true>(mr, nv, rows + kb * 4, ldbc, (ke - kb) * 4, bxr,
                         panels + kb * 64, panelStride, acc, kb == 0);
        else
          tileVnni<false>(mr, nv, rows + kb * 4, ldbc, (ke - kb) * 4, bxr,
                          panels + kb * 64, panelStride, acc, kb == 0);
        if (ke < K4)
          continue;
        for (int i = 0; i < mr; ++i) {
          int64_t ch = rowCh0 + r + i;
          __m512i rowSumV = _mm512_setzero_si512();
          if (chanIsCol && e.zw)
            rowSumV = _mm512_set1_epi32(
                int((colSums ? colSums[r + i]
                             : rowSumVnni(rows + i * ldbc, K, bxr)) -
                    e.sumOff));
          // Channel = row: its terms, once for the row's panels.
          __m512i rowCorr, rowZw;
          RequantChannels rowReq;
          if (!chanIsCol) {
            rowCorr = _mm512_set1_epi32(e.corr[ch]);
            if (e.zw)
              rowZw = _mm512_set1_epi32(e.zw[ch]);
            if (e.outI8)
              rowReq = requantChannels(_mm512_set1_epi32(e.mult[ch]),
                                       _mm512_set1_epi32(e.shift[ch]));
          }
          for (int v = 0; v < nv; ++v) {
            __m512i x = acc[i][v];
            __m512i m, s;
            if (chanIsCol) {
              x = _mm512_add_epi32(x, corrV[v]);
              if (e.zw)
                x = _mm512_sub_epi32(x, _mm512_mullo_epi32(zwV[v], rowSumV));
              m = multV[v];
              s = shiftV[v];
            } else {
              x = _mm512_add_epi32(x, rowCorr);
              if (e.zw)
                x = _mm512_sub_epi32(x, _mm512_mullo_epi32(rowZw, sumV[v]));
              if (Res && e.outI8) {
                m = _mm512_set1_epi32(e.mult[ch]);
                s = _mm512_set1_epi32(e.shift[ch]);
              }
            }
            int64_t idx = (r + i) * ldo + n0 + v * kLanes;
            if (e.outI8 && Res)
              storeRequantResidual16(x, m, s, e,
                                     static_cast<int8_t *>(out) + idx,
                                     masks[v], res + idx,
                                     e.res32 ? &lanes : nullptr);
            else if (e.outI8)
              storeRequantWith16(x, chanIsCol ? colReq[v] : rowReq, consts,
                                 static_cast<int8_t *>(out) + idx, masks[v]);
            else
              _mm512_mask_storeu_epi32(static_cast<int32_t *>(out) + idx,
                                       masks[v], x);
          }
        }
      }
    }
  }
  if (e.outI8)
    translate(e, static_cast<int8_t *>(out) + r0 * ldo + n0, r1 - r0, cols,
              ldo);
}

template <>
QC_VNNI void
runBlock<true>(int64_t r0, int64_t r1, const uint8_t *bc, int64_t ldbc,
               int64_t K, uint8_t bxr, bool bcU8, const uint8_t *panels,
               int64_t panelStride, int64_t n0, int64_t N, bool chanIsCol,
               int64_t rowCh0, const int32_t *colSums, bool rowSums,
               const Epilogue &e, void *out, int64_t ldo) {
  (e.res ? runBlockVnni<true> : runBlockVnni<false>)(
      r0, r1, bc, ldbc, K, bxr, bcU8, panels, panelStride, n0, N, chanIsCol,
      rowCh0, colSums, rowSums, e, out, ldo);
}

/// C[b] = A[b] x B[b]: A activation rows (broadcast side), B packed at
/// compile time (`bPacked`, shared by every batch) or packed from a
/// row-major activation per column block. Output [batch][M][N].
template <bool Vnni>
void matmul(int64_t batch, int64_t M, int64_t N, int64_t K, const uint8_t *a,
            int64_t aStride, uint8_t axr, const uint8_t *b, int64_t bStride,
            int64_t bPacked, uint8_t bxr, int64_t aOffZp, const Epilogue &e,
            void *out, int64_t task, int64_t ntasks) {
  int64_t K4 = cdiv(K, 4), colBlocks = cdiv(N, kBlockCols);
  int64_t chunks = rowChunks(batch, colBlocks, M, ntasks);
  int64_t chunkRows = cdiv(M, chunks);
  int64_t ub, ue;
  share(batch * colBlocks * chunks, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  int64_t panelStride = K4 * 64, Kp = K4 * 4;
  // bPacked: 8 = int8 panels; 4 or 2 = the same panels, sub-byte packed.
  bool subByte = bPacked == 4 || bPacked == 2;
  Scratch scratch(bPacked && !subByte ? 0 : K4);
  int32_t corr[kBlockCols];
  size_t esize = e.outI8 ? 1 : 4;
  // The broadcast rows as the tile reads them: XORed to unsigned and padded
  // to Kp with zeros (the packed side is zero there), once per batch.
  bool copyA = axr != 0 || Kp != K;
  uint8_t *aBuf =
      copyA ? static_cast<uint8_t *>(malloc(size_t(M * Kp))) : nullptr;
  // With a weight zero point, the rows' sums: once per batch, not per block.
  int32_t *aSums =
      e.zw ? static_cast<int32_t *>(malloc(size_t(M) * 4)) : nullptr;
  int64_t aKey = -1, sumKey = -1;
  for (int64_t u = ub; u < ue; ++u) {
    int64_t chunk = u % chunks, cb = (u / chunks) % colBlocks,
            bi = u / chunks / colBlocks;
    int64_t n0 = cb * kBlockCols;
    const uint8_t *rowsA = a + bi * aStride;
    if (copyA) {
      if (aKey != bi) {
        for (int64_t m = 0; m < M; ++m) {
          for (int64_t k = 0; k < K; ++k)
            aBuf[m * Kp + k] = rowsA[m * K + k] ^ axr;
          for (int64_t k = K; k < Kp; ++k)
            aBuf[m * Kp + k] = 0;
        }
        aKey = bi;
      }
      rowsA = aBuf;
    }
    if (aSums && sumKey != bi) {
      for (int64_t m = 0; m < M; ++m)
        aSums[m] = int32_t(rowSum<Vnni>(rowsA + m * Kp, Kp));
      sumKey = bi;
    }
    const uint8_t *panels;
    Epilogue eb = e;
    if (subByte) {
      int64_t blockBytes = kBlockVecs * panelStride;
      if (scratch.key != cb) {
        expandSubByte<Vnni>(b + cb * blockBytes * bPacked / 8, blockBytes,
                            bPacked, scratch.panels);
        scratch.key = cb;
      }
      panels = scratch.panels;
    } else if (bPacked) {
      panels = b + cb * kBlockVecs * panelStride;
    } else {
      int64_t key = bi * colBlocks + cb;
      if (scratch.key != key) {
        packColumns(b + bi * bStride, K, N, n0, bxr, scratch.rows,
                    scratch.panels, scratch.sums);
        scratch.key = key;
      }
      panels = scratch.panels;
      // The B column sums are known only now: corr - (off + za) * sum_k b.
      int64_t cols = N - n0 < kBlockCols ? N - n0 : kBlockCols;
      for (int64_t c = 0; c < cols; ++c)
        corr[c] = int32_t(e.corr[n0 + c] - aOffZp * scratch.sums[c]);
      eb.corr = corr - n0;
    }
    int64_t r0 = chunk * chunkRows,
            r1 = r0 + chunkRows < M ? r0 + chunkRows : M;
    if (r0 >= r1)
      continue;
    runBlock<Vnni>(r0, r1, rowsA, Kp, Kp, 0, /*bcU8=*/true, panels, panelStride,
                   n0, N,
                   /*chanIsCol=*/true, 0, aSums, /*rowSums=*/true, eb,
                   static_cast<uint8_t *>(out) + bi * M * N * esize, N);
  }
  free(aBuf);
  free(aSums);
}

//===----------------------------------------------------------------------===//
// Matmul with a scale (and zero point) per group of input channels
//===----------------------------------------------------------------------===//

/// qc_k_matmul_group_i8_*'s arguments.
struct GroupArgs {
  int64_t M, N, K, G;
  const int8_t *a;
  const float *aScales, *aZeros;
  const uint8_t *panels;
  const int32_t *colSums;
  const float *bScales, *bias;
  float *out;
};

/// What the unsigned sums of a group carry beyond (a - z) x b, per unit of
/// the weights' column sum: 128 (the XOR) plus the row's zero point.
inline int32_t groupOffset(const GroupArgs &p, int64_t row, int64_t g) {
  if (!p.aZeros)
    return 128;
  float z = p.aZeros[row * (p.K / p.G) + g];
  return 128 + int32_t(z + (z >= 0 ? 0.5f : -0.5f));
}

/// Rows [r0, r1) x the 64-column block at n0, plain loops.
/// `au`: A made unsigned (XOR 0x80), [M][K].
void groupBlockGeneric(const GroupArgs &p, int64_t r0, int64_t r1, int64_t n0,
                       const uint8_t *au) {
  int64_t cols = p.N - n0 < kBlockCols ? p.N - n0 : kBlockCols,
          groups = p.K / p.G;
  int nv = int(cdiv(cols, kLanes));
  int64_t panelStride = (p.K >> 2) * 64;
  const uint8_t *panels =
      p.panels + (n0 / kBlockCols) * kBlockVecs * panelStride;
  int32_t acc[kMR][kBlockCols];
  float facc[kMR][kBlockCols];
  for (int64_t r = r0; r < r1; r += kMR) {
    int mr = int(r1 - r < kMR ? r1 - r : kMR);
    for (int i = 0; i < mr; ++i)
      for (int64_t c = 0; c < cols; ++c)
        facc[i][c] = 0;
    for (int64_t g = 0; g < groups; ++g) {
      tileGeneric(mr, nv, au + r * p.K + g * p.G, p.K, p.G, 0, /*bcU8=*/true,
                  panels + (g * p.G / 4) * 64, panelStride, acc);
      const int32_t *cs = p.colSums + g * p.N + n0;
      for (int i = 0; i < mr; ++i) {
        int64_t off = groupOffset(p, r + i, g);
        float sa = p.aScales[(r + i) * groups + g];
        for (int64_t c = 0; c < cols; ++c)
          facc[i][c] += float(int64_t(acc[i][c]) - off * cs[c]) * sa;
      }
    }
    for (int i = 0; i < mr; ++i)
      for (int64_t c = 0; c < cols; ++c)
        p.out[(r + i) * p.N + n0 + c] =
            facc[i][c] * p.bScales[n0 + c] + (p.bias ? p.bias[n0 + c] : 0.0f);
  }
}

/// The same with VNNI tiles; each group's int32 sums are corrected and
/// scaled into the float accumulators while they are in registers.
QC_VNNI void groupBlockVnni(const GroupArgs &p, int64_t r0, int64_t r1,
                            int64_t n0, const uint8_t *au) {
  int64_t cols = p.N - n0 < kBlockCols ? p.N - n0 : kBlockCols,
          groups = p.K / p.G;
  int nv = int(cdiv(cols, kLanes));
  int64_t panelStride = (p.K >> 2) * 64;
  const uint8_t *panels =
      p.panels + (n0 / kBlockCols) * kBlockVecs * panelStride;
  __mmask16 masks[kBlockVecs];
  __m512 sbV[kBlockVecs], biasV[kBlockVecs];
  for (int v = 0; v < nv; ++v) {
    int64_t left = cols - v * kLanes;
    masks[v] = left >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    sbV[v] = _mm512_maskz_loadu_ps(masks[v], p.bScales + n0 + v * kLanes);
    biasV[v] = p.bias
                   ? _mm512_maskz_loadu_ps(masks[v], p.bias + n0 + v * kLanes)
                   : _mm512_setzero_ps();
  }
  __m512i acc[kMR][kBlockVecs];
  alignas(64) float facc[kMR][kBlockCols];
  for (int64_t r = r0; r < r1; r += kMR) {
    int mr = int(r1 - r < kMR ? r1 - r : kMR);
    for (int i = 0; i < mr; ++i)
      for (int v = 0; v < nv; ++v)
        _mm512_store_ps(facc[i] + v * kLanes, _mm512_setzero_ps());
    for (int64_t g = 0; g < groups; ++g) {
      tileVnni<true>(mr, nv, au + r * p.K + g * p.G, p.K, p.G, 0,
                     panels + (g * p.G / 4) * 64, panelStride, acc,
                     /*fresh=*/true);
      __m512i csV[kBlockVecs];
      for (int v = 0; v < nv; ++v)
        csV[v] = _mm512_maskz_loadu_epi32(masks[v], p.colSums + g * p.N + n0 +
                                                        v * kLanes);
      for (int i = 0; i < mr; ++i) {
        __m512i offV = _mm512_set1_epi32(groupOffset(p, r + i, g));
        __m512 sa = _mm512_set1_ps(p.aScales[(r + i) * groups + g]);
        for (int v = 0; v < nv; ++v) {
          __m512i x =
              _mm512_sub_epi32(acc[i][v], _mm512_mullo_epi32(offV, csV[v]));
          float *f = facc[i] + v * kLanes;
          _mm512_store_ps(
              f, _mm512_fmadd_ps(_mm512_cvtepi32_ps(x), sa, _mm512_load_ps(f)));
        }
      }
    }
    for (int i = 0; i < mr; ++i)
      for (int v = 0; v < nv; ++v)
        _mm512_mask_storeu_ps(
            p.out + (r + i) * p.N + n0 + v * kLanes, masks[v],
            _mm512_fmadd_ps(_mm512_load_ps(facc[i] + v * kLanes), sbV[v],
                            biasV[v]));
  }
}

/// Work units: 64-column blocks x row chunks, as matmul shares them.
template <bool Vnni>
void matmulGroup(const GroupArgs &p, int64_t task, int64_t ntasks) {
  int64_t colBlocks = cdiv(p.N, kBlockCols);
  int64_t chunks = rowChunks(1, colBlocks, p.M, ntasks),
          chunkRows = cdiv(p.M, chunks);
  int64_t ub, ue;
  share(colBlocks * chunks, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  // A made unsigned (XOR 0x80) once per call, as matmul does, rather than
  // per row tile and column block.
  uint8_t *au = static_cast<uint8_t *>(malloc(size_t(p.M * p.K)));
  const uint8_t *a = reinterpret_cast<const uint8_t *>(p.a);
  for (int64_t i = 0, e = p.M * p.K; i < e; ++i)
    au[i] = a[i] ^ 0x80;
  for (int64_t u = ub; u < ue; ++u) {
    int64_t chunk = u % chunks, cb = u / chunks;
    int64_t r0 = chunk * chunkRows,
            r1 = r0 + chunkRows < p.M ? r0 + chunkRows : p.M;
    if (r0 >= r1)
      continue;
    if constexpr (Vnni)
      groupBlockVnni(p, r0, r1, cb * kBlockCols, au);
    else
      groupBlockGeneric(p, r0, r1, cb * kBlockCols, au);
  }
  free(au);
}

void depthwiseVnni(int64_t batch, const ConvShape &s, const uint8_t *x,
                   uint8_t xr, uint8_t pad, const uint8_t *w, const Epilogue &e,
                   void *out, int64_t task, int64_t ntasks);
void depthwiseGeneric(int64_t batch, const ConvShape &s, const uint8_t *x,
                      uint8_t xr, uint8_t pad, const uint8_t *w,
                      const Epilogue &e, void *out, int64_t task,
                      int64_t ntasks);

/// `rows` image rows of W bytes (`src`, consecutive) into padded rows of
/// Wp <= 64 bytes (`dst`, consecutive): image column q - pw at q for q in
/// [w0, w1), `pad` elsewhere, XOR `xr`. One masked load (masked-out lanes
/// neither load nor fault) and one masked store per row; the plain loops
/// cost more than the convolution's packing on the wake embedding's
/// 2-32-column rows.
QC_VNNI void padRowsVnni(const uint8_t *src, int64_t W, int64_t pw, int64_t Wp,
                         int64_t w0, int64_t w1, uint8_t xr, uint8_t pad,
                         uint8_t *dst, int64_t rows) {
  __mmask64 in = 0;
  if (w1 > w0)
    in = (w1 - w0 >= 64 ? ~__mmask64(0) : (__mmask64(1) << (w1 - w0)) - 1)
         << w0;
  __mmask64 all = Wp >= 64 ? ~__mmask64(0) : (__mmask64(1) << Wp) - 1;
  const __m512i padV = _mm512_set1_epi8(char(pad)),
                xrV = _mm512_set1_epi8(char(xr));
  uintptr_t from = reinterpret_cast<uintptr_t>(src) - uintptr_t(pw);
  for (int64_t r = 0; r < rows; ++r, from += uintptr_t(W), dst += Wp) {
    __m512i v = _mm512_mask_loadu_epi8(
        padV, in, reinterpret_cast<const void *>(from));
    _mm512_mask_storeu_epi8(dst, all, _mm512_xor_si512(v, xrV));
  }
}

/// Copies `rows` runs of n bytes, `srcStride` and `dstStride` apart: one
/// masked load and store per run of at most 64 bytes (the stores of narrow
/// planes' outputs, 2-32 bytes per channel, were a libc call each).
QC_VNNI void copyRunsVnni(uint8_t *dst, int64_t dstStride, const uint8_t *src,
                          int64_t srcStride, int64_t rows, int64_t n) {
  if (n > 64) {
    for (int64_t r = 0; r < rows; ++r)
      memcpy(dst + r * dstStride, src + r * srcStride, size_t(n));
    return;
  }
  __mmask64 m = n >= 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1;
  for (int64_t r = 0; r < rows; ++r)
    _mm512_mask_storeu_epi8(dst + r * dstStride, m,
                            _mm512_maskz_loadu_epi8(m, src + r * srcStride));
}

template <bool Vnni>
inline void copyRuns(uint8_t *dst, int64_t dstStride, const uint8_t *src,
                     int64_t srcStride, int64_t rows, int64_t n) {
  if (n <= 0)
    return;
  if (Vnni)
    return copyRunsVnni(dst, dstStride, src, srcStride, rows, n);
  for (int64_t r = 0; r < rows; ++r)
    memcpy(dst + r * dstStride, src + r * srcStride, size_t(n));
}

/// Rows [ra, rb) of the Cg planes of `x` padded to Hp x Wp (XOR `xr`,
/// `padv` outside the image: rows from -ph, columns from -pw); the planes
/// are `planeStride` bytes apart (Hp x Wp, or more when images are stacked).
/// `vnni`: rows of at most 64 bytes by padRowsVnni.
void padImage(const uint8_t *x, const ConvShape &s, int64_t Hp, int64_t Wp,
              uint8_t xr, uint8_t padv, uint8_t *image, int64_t ra, int64_t rb,
              int64_t planeStride, bool vnni) {
  int64_t w0 = s.pw < Wp ? s.pw : Wp;
  int64_t w1 = s.pw + s.W < Wp ? s.pw + s.W : Wp;
  // The image's rows inside the padded plane, [r0, r1), and the padding
  // rows above and below, all within the rows [ra, rb) wanted.
  int64_t r0 = s.ph < Hp ? s.ph : Hp, r1 = s.ph + s.H < Hp ? s.ph + s.H : Hp;
  auto clampRow = [&](int64_t r) { return r < ra ? ra : r > rb ? rb : r; };
  int64_t t1 = clampRow(r0), i0 = clampRow(r0), i1 = clampRow(r1),
          b0 = clampRow(r1);
  r0 = i0;
  r1 = i1;
  int64_t Cg = s.Cg();
  for (int64_t c = 0; c < Cg; ++c) {
    uint8_t *plane = image + c * planeStride;
    const uint8_t *src = x + (c * s.H + (r0 - s.ph)) * s.W;
    // Whole padding rows at once; rows are often only a few bytes wide,
    // so the image rows are plain loops (no call per row).
    if (t1 > ra)
      memset(plane + ra * Wp, padv, size_t((t1 - ra) * Wp));
    if (vnni && Wp <= 64 && !(w0 == 0 && w1 == Wp && Wp == s.W)) {
      padRowsVnni(src, s.W, s.pw, Wp, w0, w1, xr, uint8_t(padv ^ xr),
                  plane + r0 * Wp, r1 - r0);
    } else if (w0 == 0 && w1 == Wp && Wp == s.W) { // no column padding: one run
      int64_t n = (r1 - r0) * Wp;
      uint8_t *dst = plane + r0 * Wp;
      for (int64_t q = 0; q < n; ++q)
        dst[q] = src[q] ^ xr;
    } else {
      for (int64_t r = r0; r < r1; ++r, src += s.W) {
        uint8_t *dst = plane + r * Wp;
        const uint8_t *row = src - s.pw;
        for (int64_t q = 0; q < w0; ++q)
          dst[q] = padv;
        for (int64_t q = w0; q < w1; ++q)
          dst[q] = row[q] ^ xr;
        for (int64_t q = w1; q < Wp; ++q)
          dst[q] = padv;
      }
    }
    if (rb > b0)
      memset(plane + b0 * Wp, padv, size_t((rb - b0) * Wp));
  }
}

/// The im2col columns [p0, p0 + 64) from the padded image (Hp x Wp planes,
/// already XORed): each output row's run of one tap is a copy with the
/// stride, without bounds checks.
void packStrided(const uint8_t *image, const ConvShape &s, int64_t Hp,
                 int64_t Wp, int64_t p0, bool wantSums, uint8_t *rows,
                 uint8_t *panels, int32_t *sums) {
  int64_t K = s.K(), K4 = cdiv(K, 4), P = s.P();
  int64_t cols = P - p0 < kBlockCols ? P - p0 : kBlockCols;
  memset(rows + K * kBlockCols, 0, size_t((K4 * 4 - K) * kBlockCols));
  int64_t k = 0;
  for (int64_t c = 0; c < s.Cg(); ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh)
      for (int64_t kw = 0; kw < s.KW; ++kw, ++k) {
        uint8_t *dst = rows + k * kBlockCols;
        if (cols < kBlockCols)
          memset(dst + cols, 0, size_t(kBlockCols - cols));
        const uint8_t *plane = image + c * Hp * Wp + kh * s.dh * Wp + kw * s.dw;
        forEachRowRun(p0, cols, s.OW,
                      [&](int64_t j, int64_t oh, int64_t ow, int64_t run) {
                        const uint8_t *src = plane + oh * s.sh * Wp + ow * s.sw;
                        for (int64_t t = 0; t < run; ++t)
                          dst[j + t] = src[t * s.sw];
                      });
      }
  if (wantSums)
    columnSums(rows, K, sums);
  packRows(rows, K4, panels);
}

/// 2-d convolution, NCHW, through im2col panels of 64 output positions.
template <bool Vnni>
void conv2d(int64_t batch, const ConvShape &s, const uint8_t *x, uint8_t xxr,
            uint8_t pad, const uint8_t *w, const Epilogue &e, void *out,
            int64_t task, int64_t ntasks);

/// A convolution whose weights are stored `wBits` (8, 4 or 2) wide: sub-byte
/// weights are expanded to int8 rows once per call (the task's share).
template <bool Vnni>
void conv2dPacked(int64_t batch, const ConvShape &s, const uint8_t *x,
                  uint8_t xxr, uint8_t pad, const uint8_t *w, int64_t wBits,
                  const Epilogue &e, void *out, int64_t task, int64_t ntasks) {
  if (wBits != 4 && wBits != 2)
    return conv2d<Vnni>(batch, s, x, xxr, pad, w, e, out, task, ntasks);
  int64_t n = s.F * cdiv(s.K(), 4) * 4; // [F][Kp] rows
  uint8_t *rows = static_cast<uint8_t *>(malloc(size_t(n)));
  expandSubByte<Vnni>(w, n, wBits, rows);
  conv2d<Vnni>(batch, s, x, xxr, pad, rows, e, out, task, ntasks);
  free(rows);
}

template <bool Vnni>
void conv2d(int64_t batch, const ConvShape &s, const uint8_t *x, uint8_t xxr,
            uint8_t pad, const uint8_t *w, const Epilogue &e, void *out,
            int64_t task, int64_t ntasks) {
  int64_t K = s.K(), K4 = cdiv(K, 4), Kp = K4 * 4, P = s.P(),
          Fg = s.F / s.groups;
  if (s.Cg() == 1 && Fg == 1)
    return Vnni ? depthwiseVnni(batch, s, x, xxr, pad, w, e, out, task, ntasks)
                : depthwiseGeneric(batch, s, x, xxr, pad, w, e, out, task,
                                   ntasks);
  // Stride 1 (not pointwise): the image is padded once per (image, group)
  // into planes of Hp x Wp, and the columns are the Q = OH x Wp positions of
  // the padded width, so the im2col row of tap (c, kh, kw) is one contiguous
  // copy of 64 bytes; the Wp - OW extra columns of each row are computed and
  // dropped when the block is stored.
  bool pointwise = s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 &&
                   s.ph == 0 && s.pw == 0 && s.OH == s.H && s.OW == s.W;
  bool shifted = s.sh == 1 && s.sw == 1 && !pointwise;
  // Strided: the padded image too, each output row's run a strided copy.
  bool strided = !shifted && !pointwise;
  int64_t Wp = shifted   ? s.OW + (s.KW - 1) * s.dw
               : strided ? (s.OW - 1) * s.sw + (s.KW - 1) * s.dw + 1
                         : s.OW;
  int64_t Hp = shifted   ? s.OH + (s.KH - 1) * s.dh
               : strided ? (s.OH - 1) * s.sh + (s.KH - 1) * s.dh + 1
                         : 0;
  // Narrow planes of several images (the wake embedding: 16 images of
  // 2-32 columns): the images' padded planes are stacked into one of
  // batch x Hp rows, and the columns run across them, so blocks are full;
  // the (KH - 1) x dh rows between images are computed and dropped like the
  // padded width. Chosen when it computes fewer columns than one plane per
  // image in blocks of 64.
  int64_t stackN = 1;
  if (shifted && batch > 1) {
    int64_t perImage = batch * cdiv(s.OH * Wp, kBlockCols) * kBlockCols;
    int64_t stacked =
        cdiv((batch - 1) * Hp * Wp + s.OH * Wp, kBlockCols) * kBlockCols;
    if (stacked < perImage)
      stackN = batch;
  }
  int64_t Q = shifted ? (stackN - 1) * Hp * Wp + s.OH * Wp : P;
  int64_t colBlocks = cdiv(Q, kBlockCols);
  int64_t outer = batch / stackN * s.groups;
  int64_t chunks = rowChunks(outer, colBlocks, Fg, ntasks);
  int64_t chunkRows = cdiv(Fg, chunks);
  int64_t ub, ue;
  share(outer * colBlocks * chunks, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  Scratch scratch(K4);
  size_t esize = e.outI8 ? 1 : 4;
  int64_t planeStride = stackN * Hp * Wp, planes = s.Cg() * planeStride,
          slack = (s.KH - 1) * s.dh * Wp + (s.KW - 1) * s.dw + 2 * kBlockCols;
  uint8_t *image = shifted || strided
                       ? static_cast<uint8_t *>(malloc(size_t(planes + slack)))
                       : nullptr;
  uint8_t *tmp =
      shifted && (Wp != s.OW || stackN > 1)
          ? static_cast<uint8_t *>(malloc(size_t(Fg) * kBlockCols * esize))
          : nullptr;
  int64_t imageKey = -1;
  uint8_t padv = pad ^ xxr;
  // The shifted path's im2col row of tap k = (c, kh, kw) starts at
  // image + tapOffset[k] + p0.
  int64_t *tapOffset = nullptr;
  alignas(16) static const uint8_t zeros[kBlockCols] = {};
  if (shifted) {
    tapOffset = static_cast<int64_t *>(malloc(size_t(K) * sizeof(int64_t)));
    int64_t k = 0;
    for (int64_t c = 0; c < s.Cg(); ++c)
      for (int64_t kh = 0; kh < s.KH; ++kh)
        for (int64_t kw = 0; kw < s.KW; ++kw, ++k)
          tapOffset[k] = c * planeStride + kh * s.dh * Wp + kw * s.dw;
  }
  // The padded rows this task's column blocks of (image, group) `og` read:
  // with two tasks on one image each pads only its half (positions p are
  // oh * Wp + ow when shifted, oh * OW + ow when strided).
  auto taskRows = [&](int64_t og) -> std::pair<int64_t, int64_t> {
    int64_t per = colBlocks * chunks;
    int64_t uFirst = ub > og * per ? ub : og * per,
            uLast = (ue < (og + 1) * per ? ue : (og + 1) * per) - 1;
    int64_t pBegin = (uFirst / chunks % colBlocks) * kBlockCols,
            pEnd = (uLast / chunks % colBlocks + 1) * kBlockCols;
    int64_t rowLen = shifted ? Wp : s.OW;
    if (pEnd > Q)
      pEnd = Q;
    int64_t ra = pBegin / rowLen * s.sh,
            rb = (pEnd - 1) / rowLen * s.sh + (s.KH - 1) * s.dh + 1;
    int64_t rows = stackN * Hp;
    return {ra < rows ? ra : rows, rb < rows ? rb : rows};
  };
  for (int64_t u = ub; u < ue; ++u) {
    int64_t chunk = u % chunks, cb = (u / chunks) % colBlocks,
            og = u / chunks / colBlocks;
    int64_t n = og / s.groups * stackN, g = og % s.groups,
            p0 = cb * kBlockCols;
    const uint8_t *xg = x + (n * s.C + g * s.Cg()) * s.H * s.W;
    int64_t key = og * colBlocks + cb;
    if (scratch.key != key) {
      if (shifted) {
        if (imageKey != og) {
          // Rows [ra, rb) of the stacked planes, image by image.
          auto [ra, rb] = taskRows(og);
          for (int64_t i = 0; i < stackN; ++i) {
            int64_t a = ra - i * Hp, b = rb - i * Hp;
            a = a < 0 ? 0 : a;
            b = b > Hp ? Hp : b;
            if (a < b)
              padImage(xg + i * s.C * s.H * s.W, s, Hp, Wp, xxr, padv,
                       image + i * Hp * Wp, a, b, planeStride, Vnni);
          }
          memset(image + planes, padv, size_t(slack));
          imageKey = og;
        }
        if (!e.zw) {
          // Each k4 group straight from its 4 taps' rows (no column sums
          // wanted, so no [Kp][64] copy); taps past K read zeros.
          for (int64_t k4 = 0; k4 < K4; ++k4) {
            const uint8_t *r[4];
            for (int q = 0; q < 4; ++q)
              r[q] = 4 * k4 + q < K ? image + tapOffset[4 * k4 + q] + p0
                                    : zeros;
            interleave4From(r[0], r[1], r[2], r[3], 0,
                            scratch.panels + k4 * 64, K4 * 64);
          }
        } else {
          for (int64_t k = 0; k < K; ++k)
            memcpy(scratch.rows + k * kBlockCols, image + tapOffset[k] + p0,
                   kBlockCols);
          memset(scratch.rows + K * kBlockCols, 0,
                 size_t((K4 * 4 - K) * kBlockCols));
          columnSums(scratch.rows, K, scratch.sums);
          packRows(scratch.rows, K4, scratch.panels);
        }
      } else if (strided) {
        if (imageKey != og) {
          auto [ra, rb] = taskRows(og);
          padImage(xg, s, Hp, Wp, xxr, padv, image, ra, rb, Hp * Wp, Vnni);
          imageKey = og;
        }
        packStrided(image, s, Hp, Wp, p0, e.zw != nullptr, scratch.rows,
                    scratch.panels, scratch.sums);
      } else {
        packIm2col(xg, s, p0, xxr, pad, e.zw != nullptr, scratch.rows,
                   scratch.panels, scratch.sums);
      }
      scratch.key = key;
    }
    int64_t r0 = chunk * chunkRows,
            r1 = r0 + chunkRows < Fg ? r0 + chunkRows : Fg;
    if (r0 >= r1)
      continue;
    int64_t f0 = g * Fg;
    uint8_t *og8 = static_cast<uint8_t *>(out) + (n * s.F + f0) * P * esize;
    if (!tmp) {
      runBlock<Vnni>(r0, r1, w + f0 * Kp, Kp, Kp, 0, /*bcU8=*/false,
                     scratch.panels, K4 * 64, p0, Q, /*chanIsCol=*/false, f0,
                     scratch.sums, /*rowSums=*/false, e, og8, P);
      continue;
    }
    // Through [Fg][64], then the columns of the real width.
    runBlock<Vnni>(r0, r1, w + f0 * Kp, Kp, Kp, 0, /*bcU8=*/false,
                   scratch.panels, K4 * 64, p0, Q, /*chanIsCol=*/false, f0,
                   scratch.sums, /*rowSums=*/false, e,
                   tmp - p0 * int64_t(esize), kBlockCols);
    int64_t cols = Q - p0 < kBlockCols ? Q - p0 : kBlockCols;
    // Stacked row R is row R % Hp of image R / Hp; rows past OH are the
    // ones between images.
    int64_t imageStride = s.F * P * int64_t(esize);
    forEachRowRun(
        p0, cols, Wp, [&](int64_t c, int64_t R, int64_t ow, int64_t run) {
          int64_t oh = R % Hp;
          int64_t valid = ow < s.OW && oh < s.OH
                              ? (s.OW - ow < run ? s.OW - ow : run)
                              : 0;
          uint8_t *o = og8 + R / Hp * imageStride;
          copyRuns<Vnni>(o + (r0 * P + oh * s.OW + ow) * esize,
                         P * int64_t(esize),
                         tmp + (r0 * kBlockCols + c) * esize,
                         kBlockCols * int64_t(esize), r1 - r0,
                         valid * int64_t(esize));
        });
  }
  free(tapOffset);
  free(tmp);
  free(image);
}

/// Depthwise convolution (one input and one output channel per group),
/// direct: each channel's plane is copied, XORed and padded once, then
/// every output row accumulates KH x KW shifted rows times a broadcast
/// weight in int32 (vectorized along the row). Always inlined into the two
/// wrappers below, so it is compiled for each one's target.
__attribute__((always_inline)) inline void
depthwiseBody(int64_t batch, const ConvShape &s, const uint8_t *x, uint8_t xr,
              uint8_t pad, const uint8_t *w, const Epilogue &e, void *out,
              int64_t task, int64_t ntasks) {
  int64_t KK = s.KH * s.KW, Kp = cdiv(KK, 4) * 4, P = s.P();
  int64_t Hp = (s.OH - 1) * s.sh + (s.KH - 1) * s.dh + 1;
  int64_t Wp = (s.OW - 1) * s.sw + (s.KW - 1) * s.dw + 1;
  int64_t ub, ue;
  share(batch * s.C, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  uint8_t *plane = static_cast<uint8_t *>(malloc(size_t(Hp * Wp)));
  int32_t *acc = static_cast<int32_t *>(malloc(size_t(s.OW) * 8));
  int32_t *sum = acc + s.OW;
  uint8_t padv = pad ^ xr;
  int64_t w0 = s.pw < Wp ? s.pw : Wp;
  int64_t w1 = s.pw + s.W < Wp ? s.pw + s.W : Wp; // image columns in the plane
  for (int64_t u = ub; u < ue; ++u) {
    int64_t n = u / s.C, c = u % s.C;
    const uint8_t *src = x + (n * s.C + c) * s.H * s.W;
    for (int64_t r = 0; r < Hp; ++r) {
      uint8_t *dst = plane + r * Wp;
      int64_t ih = r - s.ph;
      if (ih < 0 || ih >= s.H) {
        memset(dst, padv, size_t(Wp));
        continue;
      }
      memset(dst, padv, size_t(w0));
      for (int64_t q = w0; q < w1; ++q)
        dst[q] = src[ih * s.W + q - s.pw] ^ xr;
      if (w1 < Wp)
        memset(dst + w1, padv, size_t(Wp - w1));
    }
    const int8_t *wc = reinterpret_cast<const int8_t *>(w) + c * Kp;
    int32_t corr = e.corr[c], zw = e.zw ? e.zw[c] : 0;
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      for (int64_t ow = 0; ow < s.OW; ++ow)
        acc[ow] = sum[ow] = 0;
      for (int64_t kh = 0; kh < s.KH; ++kh) {
        const uint8_t *row = plane + (oh * s.sh + kh * s.dh) * Wp;
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          int32_t wv = wc[kh * s.KW + kw];
          const uint8_t *in = row + kw * s.dw;
          if (s.sw == 1) {
            for (int64_t ow = 0; ow < s.OW; ++ow)
              acc[ow] += wv * int32_t(in[ow]);
          } else {
            for (int64_t ow = 0; ow < s.OW; ++ow)
              acc[ow] += wv * int32_t(in[ow * s.sw]);
          }
          if (zw)
            for (int64_t ow = 0; ow < s.OW; ++ow)
              sum[ow] += in[ow * s.sw];
        }
      }
      int64_t base = (n * s.C + c) * P + oh * s.OW;
      if (zw)
        for (int64_t ow = 0; ow < s.OW; ++ow)
          acc[ow] -= zw * (sum[ow] - int32_t(e.sumOff));
      if (e.outI8) {
        int64_t m = e.mult[c], sh = e.shift[c];
        int64_t half = sh > 0 ? int64_t(1) << (sh - 1) : 0;
        int8_t *o = static_cast<int8_t *>(out) + base;
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          int64_t v = ((int64_t(acc[ow] + corr) - e.izp) * m + half) >> sh;
          v += e.ozp;
          v = v < e.lo ? e.lo : v;
          v = v > e.hi ? e.hi : v;
          o[ow] = int8_t(e.lut ? int8_t(e.lut[v & 0xFF]) : v);
        }
      } else {
        int32_t *o = static_cast<int32_t *>(out) + base;
        for (int64_t ow = 0; ow < s.OW; ++ow)
          o[ow] = acc[ow] + corr;
      }
    }
  }
  free(acc);
  free(plane);
}

/// The end of a depthwise output row: `NV` vectors of 16 sums (of `left`
/// columns) corrected (corr, the weight zero point zw times the input sums
/// less e.sumOff) and stored through the epilogue.
template <int NV>
QC_VNNI inline void
depthwiseStore(const __m512i *acc, const __m512i *sum, int64_t left,
               int32_t corr, int32_t zw, const RequantChannels &q,
               const RequantConsts &rc, const Epilogue &e, void *out) {
  __m512i corrV = _mm512_set1_epi32(corr), zwV = _mm512_set1_epi32(zw),
          offV = _mm512_set1_epi32(int32_t(e.sumOff));
  for (int v = 0; v < NV; ++v, left -= kLanes) {
    __mmask16 mask =
        left >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    __m512i xv = _mm512_add_epi32(acc[v], corrV);
    if (zw)
      xv = _mm512_sub_epi32(
          xv, _mm512_mullo_epi32(zwV, _mm512_sub_epi32(sum[v], offV)));
    if (e.outI8)
      storeRequantWith16(xv, q, rc, static_cast<int8_t *>(out) + 16 * v, mask);
    else
      _mm512_mask_storeu_epi32(static_cast<int32_t *>(out) + 16 * v, mask, xv);
  }
}

/// Depthwise taps four to a vpdpbusd lane (AVX-512 VBMI): each kernel row's
/// taps in groups of four along kw, a group's bytes for 16 output columns
/// (lane j: the group's taps at column j) gathered by one byte permute of
/// 64 bytes from at most two phase-plane rows (a two-source permute when
/// the group spans two phases). The plan is per convolution: per group its
/// sources (phase plane and first column) and the permute's indices.
struct TapGroups {
  static constexpr int kMaxGroups = 4, kMaxRows = 16; // KW <= 16, KH <= 16
  int n = 0;                                          // groups per row
  bool ok = false;
  bool two[kMaxGroups];
  int64_t phase[kMaxGroups][2], col[kMaxGroups][2];
  alignas(64) uint8_t idx[kMaxGroups][64];
};

/// The plan, or ok = false where a group's taps span more than two phase
/// planes or 48 columns (a permute reads 64 bytes for 16 lanes).
inline TapGroups planTapGroups(const ConvShape &s) {
  TapGroups g;
  g.n = int(cdiv(s.KW, 4));
  if (g.n > TapGroups::kMaxGroups || s.KH > TapGroups::kMaxRows)
    return g;
  TapPhases t(s.dw, s.sw);
  for (int gi = 0; gi < g.n; ++gi) {
    int nsrc = 0, src[4] = {0, 0, 0, 0};
    int64_t tcol[4] = {0, 0, 0, 0}, lo[2] = {0, 0}, hi[2] = {0, 0};
    int taps = int(s.KW - 4 * gi < 4 ? s.KW - 4 * gi : 4);
    for (int tt = 0; tt < taps; ++tt, t.next()) {
      int k = 0;
      while (k < nsrc && g.phase[gi][k] != t.phase)
        ++k;
      if (k == nsrc) {
        if (nsrc == 2)
          return g;
        g.phase[gi][nsrc++] = t.phase;
        lo[k] = hi[k] = t.col;
      }
      lo[k] = t.col < lo[k] ? t.col : lo[k];
      hi[k] = t.col > hi[k] ? t.col : hi[k];
      src[tt] = k;
      tcol[tt] = t.col;
    }
    for (int k = 0; k < nsrc; ++k) {
      if (hi[k] - lo[k] > 48)
        return g;
      g.col[gi][k] = lo[k];
    }
    g.two[gi] = nsrc == 2;
    if (nsrc < 2)
      g.phase[gi][1] = g.phase[gi][0], g.col[gi][1] = g.col[gi][0];
    for (int j = 0; j < 16; ++j)
      for (int tt = 0; tt < 4; ++tt)
        g.idx[gi][4 * j + tt] =
            tt < taps ? uint8_t(src[tt] * 64 + j + tcol[tt] - lo[src[tt]])
                      : uint8_t(0);
  }
  g.ok = true;
  return g;
}

#define QC_VBMI                                                                \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,"       \
                        "avx512vbmi,prfchw")))

/// depthwiseRowVnni's row with the taps grouped (TapGroups): wq holds the
/// channel's weights per (kh, group) as four bytes (0 past KW), ones per
/// group 1 for each tap (the input sums of a weight zero point).
template <int NV>
QC_VBMI inline void
depthwiseRowVbmi(const ConvShape &s, const TapGroups &g, const uint8_t *planes,
                 int64_t Hp, int64_t Wq, int64_t oh, int64_t ow0,
                 const int32_t *wq, const int32_t *ones, int32_t corr,
                 int32_t zw, const RequantChannels &q, const RequantConsts &rc,
                 const Epilogue &e, void *out) {
  __m512i acc[NV], sum[NV];
  for (int v = 0; v < NV; ++v)
    acc[v] = sum[v] = _mm512_setzero_si512();
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    int64_t r = oh * s.sh + kh * s.dh;
    for (int gi = 0; gi < g.n; ++gi) {
      const uint8_t *a =
          planes + (g.phase[gi][0] * Hp + r) * Wq + g.col[gi][0] + ow0;
      const uint8_t *b =
          planes + (g.phase[gi][1] * Hp + r) * Wq + g.col[gi][1] + ow0;
      __m512i idx = _mm512_load_si512(g.idx[gi]);
      __m512i wv = _mm512_set1_epi32(wq[kh * g.n + gi]);
      __m512i ov = _mm512_set1_epi32(ones[gi]);
      for (int v = 0; v < NV; ++v) {
        __m512i va = _mm512_loadu_si512(a + 16 * v);
        __m512i xq = g.two[gi] ? _mm512_permutex2var_epi8(
                                     va, idx, _mm512_loadu_si512(b + 16 * v))
                               : _mm512_permutexvar_epi8(idx, va);
        acc[v] = _mm512_dpbusd_epi32(acc[v], xq, wv);
        if (zw)
          sum[v] = _mm512_dpbusd_epi32(sum[v], xq, ov);
      }
    }
  }
  depthwiseStore<NV>(acc, sum, s.OW - ow0, corr, zw, q, rc, e, out);
}

/// The rows of one channel of depthwiseVnni with grouped taps (its plane
/// filled): wc the channel's weights. Not inlined: its caller lacks the
/// VBMI target.
__attribute__((noinline)) QC_VBMI void
depthwiseChannelVbmi(const ConvShape &s, const TapGroups &g,
                     const uint8_t *planes, int64_t Hp, int64_t Wq,
                     const int8_t *wc, int32_t corr, int32_t zw,
                     const RequantChannels &q, const RequantConsts &rc,
                     const Epilogue &e, uint8_t *out, size_t esize) {
  int32_t wq[TapGroups::kMaxRows * TapGroups::kMaxGroups],
      ones[TapGroups::kMaxGroups];
  for (int gi = 0; gi < g.n; ++gi) {
    uint32_t o = 0;
    for (int tt = 0; tt < 4 && 4 * gi + tt < s.KW; ++tt)
      o |= 1u << (8 * tt);
    ones[gi] = int32_t(o);
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      uint32_t wd = 0;
      for (int tt = 0; tt < 4 && 4 * gi + tt < s.KW; ++tt)
        wd |= uint32_t(uint8_t(wc[kh * s.KW + 4 * gi + tt])) << (8 * tt);
      wq[kh * g.n + gi] = int32_t(wd);
    }
  }
  for (int64_t oh = 0; oh < s.OH; ++oh)
    for (int64_t ow0 = 0; ow0 < s.OW; ow0 += kBlockCols) {
      uint8_t *o = out + (oh * s.OW + ow0) * esize;
      switch (cdiv(s.OW - ow0 < kBlockCols ? s.OW - ow0 : kBlockCols, kLanes)) {
      case 1:
        depthwiseRowVbmi<1>(s, g, planes, Hp, Wq, oh, ow0, wq, ones, corr, zw,
                            q, rc, e, o);
        break;
      case 2:
        depthwiseRowVbmi<2>(s, g, planes, Hp, Wq, oh, ow0, wq, ones, corr, zw,
                            q, rc, e, o);
        break;
      case 3:
        depthwiseRowVbmi<3>(s, g, planes, Hp, Wq, oh, ow0, wq, ones, corr, zw,
                            q, rc, e, o);
        break;
      default:
        depthwiseRowVbmi<4>(s, g, planes, Hp, Wq, oh, ow0, wq, ones, corr, zw,
                            q, rc, e, o);
      }
    }
}

/// One output row of a depthwise channel, `NV` vectors of 16 columns from
/// `ow0`: every tap's row of the phase planes is read contiguously (the
/// bytes zero-extended to dwords, so vpmaddwd's low-word product is the
/// exact u8 x s8 product), accumulated in registers, then corrected and
/// stored through the epilogue.
template <int NV>
QC_VNNI inline void depthwiseRowVnni(const ConvShape &s, const uint8_t *planes,
                                     int64_t Hp, int64_t Wq, int64_t oh,
                                     int64_t ow0, const int8_t *wc,
                                     int32_t corr, int32_t zw,
                                     const RequantChannels &q,
                                     const RequantConsts &rc,
                                     const Epilogue &e, void *out) {
  __m512i acc[NV], sum[NV];
  for (int v = 0; v < NV; ++v)
    acc[v] = sum[v] = _mm512_setzero_si512();
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    int64_t r = oh * s.sh + kh * s.dh;
    TapPhases t(s.dw, s.sw);
    for (int64_t kw = 0; kw < s.KW; ++kw, t.next()) {
      const uint8_t *in = planes + (t.phase * Hp + r) * Wq + t.col + ow0;
      __m512i wv = _mm512_set1_epi32(int32_t(uint16_t(wc[kh * s.KW + kw])));
      for (int v = 0; v < NV; ++v) {
        __m512i xv = _mm512_cvtepu8_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + 16 * v)));
        acc[v] = _mm512_add_epi32(acc[v], _mm512_madd_epi16(xv, wv));
        if (zw)
          sum[v] = _mm512_add_epi32(sum[v], xv);
      }
    }
  }
  depthwiseStore<NV>(acc, sum, s.OW - ow0, corr, zw, q, rc, e, out);
}

/// Depthwise convolution with AVX-512: each channel's padded plane is split
/// into `sw` phase planes (phase p holds the padded columns p, p + sw, ...),
/// so every tap of a strided convolution also reads a contiguous run; each
/// output row runs in chunks of 64 columns with the accumulators in
/// registers over all KH x KW taps, and the requantization is vectorized.
/// The arithmetic is depthwiseBody's, lane by lane.
QC_VNNI void depthwiseVnni(int64_t batch, const ConvShape &s, const uint8_t *x,
                           uint8_t xr, uint8_t pad, const uint8_t *w,
                           const Epilogue &e, void *out, int64_t task,
                           int64_t ntasks) {
  int64_t KK = s.KH * s.KW, Kp = cdiv(KK, 4) * 4, P = s.P();
  int64_t Hp = (s.OH - 1) * s.sh + (s.KH - 1) * s.dh + 1;
  int64_t Wp = (s.OW - 1) * s.sw + (s.KW - 1) * s.dw + 1;
  int64_t Wq = cdiv(Wp, s.sw); // columns of a phase plane
  int64_t ub, ue;
  share(batch * s.C, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  // Rows read up to 64 bytes past an output row's last column: slack.
  size_t bytes = size_t(s.sw * Hp * Wq + 2 * kBlockCols);
  uint8_t *planes = static_cast<uint8_t *>(malloc(bytes));
  memset(planes + bytes - 2 * kBlockCols, 0, 2 * kBlockCols);
  uint8_t padv = pad ^ xr;
  // Taps four to an instruction where the CPU has VBMI (the compiler says
  // so through lutVbmi) and the taps' layout allows.
  TapGroups groups;
  if (e.lutVbmi)
    groups = planTapGroups(s);
  for (int64_t u = ub; u < ue; ++u) {
    int64_t n = u / s.C, c = u % s.C;
    fillPhasePlanes(x + (n * s.C + c) * s.H * s.W, s.H, s.W, s.ph, s.pw,
                    s.sw, Hp, Wq, padv,
                    [xr](uint8_t v) { return uint8_t(v ^ xr); }, planes);
    const int8_t *wc = reinterpret_cast<const int8_t *>(w) + c * Kp;
    int32_t corr = e.corr[c], zw = e.zw ? e.zw[c] : 0;
    int64_t m = e.outI8 ? e.mult[c] : 0, sh = e.outI8 ? e.shift[c] : 0;
    // The channel's requantization constants, once for all its rows.
    RequantChannels q = requantChannels(_mm512_set1_epi32(int32_t(m)),
                                        _mm512_set1_epi32(int32_t(sh)));
    RequantConsts rc = requantConsts(e);
    size_t esize = e.outI8 ? 1 : 4;
    if (groups.ok)
      depthwiseChannelVbmi(
          s, groups, planes, Hp, Wq, wc, corr, zw, q, rc, e,
          static_cast<uint8_t *>(out) + (n * s.C + c) * P * esize, esize);
    else
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        for (int64_t ow0 = 0; ow0 < s.OW; ow0 += kBlockCols) {
          uint8_t *o = static_cast<uint8_t *>(out) +
                       ((n * s.C + c) * P + oh * s.OW + ow0) * esize;
          switch (
              cdiv(s.OW - ow0 < kBlockCols ? s.OW - ow0 : kBlockCols, kLanes)) {
          case 1:
            depthwiseRowVnni<1>(s, planes, Hp, Wq, oh, ow0, wc, corr, zw, q, rc,
                                e, o);
            break;
          case 2:
            depthwiseRowVnni<2>(s, planes, Hp, Wq, oh, ow0, wc, corr, zw, q, rc,
                                e, o);
            break;
          case 3:
            depthwiseRowVnni<3>(s, planes, Hp, Wq, oh, ow0, wc, corr, zw, q, rc,
                                e, o);
            break;
          default:
            depthwiseRowVnni<4>(s, planes, Hp, Wq, oh, ow0, wc, corr, zw, q, rc,
                                e, o);
          }
        }
      }
    if (e.outI8)
      translate(e, static_cast<uint8_t *>(out) + (n * s.C + c) * P, 1, P, P);
  }
  free(planes);
}

void depthwiseGeneric(int64_t batch, const ConvShape &s, const uint8_t *x,
                      uint8_t xr, uint8_t pad, const uint8_t *w,
                      const Epilogue &e, void *out, int64_t task,
                      int64_t ntasks) {
  depthwiseBody(batch, s, x, xr, pad, w, e, out, task, ntasks);
}


/// 2-d convolution of NHWC input into NHWC output (channels last), group 1:
/// the product of the im2col rows, one per output position with the taps in
/// (kh, kw, c) order, and the weights packed as matmul_i8's B ([K][F]), so
/// the channels are columns and the rows are stored as NHWC directly. The
/// rows are built per block of positions (contiguous runs of C bytes, the
/// zero-point byte outside the image); a stride-1 pointwise convolution of
/// unsigned bytes with C a multiple of 4 reads them straight from x.
template <bool Vnni>
void conv2dNhwc(int64_t batch, const ConvShape &s, const uint8_t *x,
                uint8_t xxr, uint8_t pad, const uint8_t *w, int64_t wBits,
                const Epilogue &e, void *out, int64_t task, int64_t ntasks) {
  int64_t K = s.K(), K4 = cdiv(K, 4), Kp = K4 * 4, M = batch * s.P();
  int64_t colBlocks = cdiv(s.F, kBlockCols), panelStride = K4 * 64;
  // Blocks of up to 96 positions, all about the same size (whole register
  // tiles): the tasks' shares of blocks x column blocks are then even too
  // (196 positions as 96 + 96 + 4 gave one task 2.8x the other's rows).
  int64_t rowBlocks = cdiv(M, 16 * kMR);
  int64_t kRows = cdiv(cdiv(M, rowBlocks), kMR) * kMR;
  int64_t ub, ue;
  share(rowBlocks * colBlocks, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  bool pointwise = s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 &&
                   s.ph == 0 && s.pw == 0 && s.OH == s.H && s.OW == s.W;
  bool direct = pointwise && Kp == K && xxr == 0;
  uint8_t *expanded = nullptr;
  if (wBits == 4 || wBits == 2) {
    int64_t n = colBlocks * kBlockVecs * panelStride;
    expanded = static_cast<uint8_t *>(malloc(size_t(n)));
    expandSubByte<Vnni>(w, n, wBits, expanded);
    w = expanded;
  }
  uint8_t *rows =
      direct ? nullptr : static_cast<uint8_t *>(malloc(size_t(kRows * Kp)));
  // With a weight zero point, the rows' sums: once per row block, not once
  // per column block.
  int32_t *rowSumBuf =
      e.zw ? static_cast<int32_t *>(malloc(size_t(kRows) * 4)) : nullptr;
  uint8_t padv = pad ^ xxr;
  size_t esize = e.outI8 ? 1 : 4;
  int64_t rowsKey = -1, sumsKey = -1;
  for (int64_t u = ub; u < ue; ++u) {
    int64_t rb = u / colBlocks, cb = u % colBlocks;
    int64_t p0 = rb * kRows, p1 = p0 + kRows < M ? p0 + kRows : M;
    const uint8_t *a = x + p0 * K;
    if (!direct) {
      if (rowsKey != rb) {
        for (int64_t p = p0; p < p1; ++p) {
          int64_t n = p / s.P(), oh = p % s.P() / s.OW, ow = p % s.OW;
          uint8_t *dst = rows + (p - p0) * Kp;
          for (int64_t kh = 0; kh < s.KH; ++kh) {
            int64_t ih = oh * s.sh - s.ph + kh * s.dh;
            for (int64_t kw = 0; kw < s.KW; ++kw, dst += s.C) {
              int64_t iw = ow * s.sw - s.pw + kw * s.dw;
              if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) {
                memset(dst, padv, size_t(s.C));
                continue;
              }
              const uint8_t *src = x + ((n * s.H + ih) * s.W + iw) * s.C;
              if (xxr)
                for (int64_t c = 0; c < s.C; ++c)
                  dst[c] = src[c] ^ xxr;
              else
                memcpy(dst, src, size_t(s.C));
            }
          }
          memset(dst, 0, size_t(Kp - K));
        }
        rowsKey = rb;
      }
      a = rows;
    }
    if (rowSumBuf && sumsKey != rb) {
      for (int64_t p = p0; p < p1; ++p)
        rowSumBuf[p - p0] = int32_t(rowSum<Vnni>(a + (p - p0) * Kp, Kp));
      sumsKey = rb;
    }
    Epilogue eb = e;
    if (e.res) // the addends, indexed like the block's output
      eb.res = e.res + p0 * s.F;
    runBlock<Vnni>(0, p1 - p0, a, Kp, Kp, 0, /*bcU8=*/true,
                   w + cb * kBlockVecs * panelStride, panelStride,
                   cb * kBlockCols, s.F, /*chanIsCol=*/true, 0, rowSumBuf,
                   /*rowSums=*/true, eb,
                   static_cast<uint8_t *>(out) + p0 * s.F * int64_t(esize),
                   s.F);
  }
  free(rows);
  free(rowSumBuf);
  free(expanded);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points (their signatures: include/qc/Kernels/Kernels.def)
//===----------------------------------------------------------------------===//

#define QC_MATMUL_CALL(V)                                                      \
  matmul<V>(batch, M, N, K, a, aStride, uint8_t(aXor), b, bStride, bPacked,    \
            uint8_t(bXor), aOffZp,                                             \
            makeEpilogue(corr, zw, hasZw, mult, shift, izp, ozp, lo, hi,       \
                         outI8, K * aXor, lut, lutVbmi),                       \
            out, task, ntasks)

#define QC_CONV_CALL(V)                                                        \
  (nhwc ? conv2dNhwc<V> : conv2dPacked<V>)(                                    \
      batch,                                                                   \
      ConvShape{C, H, W, F, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, groups},   \
      x, uint8_t(xXor), uint8_t(pad), w, wBits,                                \
      makeEpilogue(corr, zw, hasZw, mult, shift, izp, ozp, lo, hi, outI8,      \
                   (C / groups) * KH * KW * xXor, lut, lutVbmi,                \
                   nhwc ? res : nullptr, resParams),                           \
      out, task, ntasks)

extern "C" {

#define QC_MATMUL_GROUP_CALL(V)                                                \
  matmulGroup<V>(GroupArgs{M, N, K, G, a, aScales, aZeros, b, colSums,         \
                           bScales, bias, out},                                \
                 task, ntasks)

void qc_k_matmul_i8_generic(QC_KERNEL_PARAMS(matmul_i8)) {
  QC_MATMUL_CALL(false);
}
QC_VNNI void qc_k_matmul_i8_vnni(QC_KERNEL_PARAMS(matmul_i8)) {
  QC_MATMUL_CALL(true);
}
void qc_k_matmul_group_i8_generic(QC_KERNEL_PARAMS(matmul_group_i8)) {
  QC_MATMUL_GROUP_CALL(false);
}
QC_VNNI void qc_k_matmul_group_i8_vnni(QC_KERNEL_PARAMS(matmul_group_i8)) {
  QC_MATMUL_GROUP_CALL(true);
}
void qc_k_conv2d_i8_generic(QC_KERNEL_PARAMS(conv2d_i8)) {
  QC_CONV_CALL(false);
}
QC_VNNI void qc_k_conv2d_i8_vnni(QC_KERNEL_PARAMS(conv2d_i8)) {
  QC_CONV_CALL(true);
}

} // extern "C"
