//===- F32Kernels.cpp - float GEMM and convolution microkernels -----------===//
//
// The float counterparts of Int8Kernels.cpp for qc.conv (2-d, group 1) and
// qc.matmul with AVX-512 FMA, linked into models the same way (bitcode).
// The vector side is a block of 64 columns stored as rows [K][64] (four zmm
// per k): packed at compile time for constant matmul B, copied at run time
// for an activation B and for the im2col of a convolution (pointwise: the
// channel rows; stride 1: contiguous runs of the padded image, its padded
// width computed and dropped; other strides: strided runs). The register
// tile is 6 rows x 64 columns (24 zmm of FMAs on broadcast rows); K runs in
// blocks of 128 within groups of 8 row tiles, the partial sums in a buffer
// between blocks. The epilogue adds the bias (per row for conv, per column
// for matmul). Work is split into units (image x 64-column block x row
// chunk) shared among (task, ntasks).
//
//===----------------------------------------------------------------------===//
#define QC_KERNELS_BITCODE
#include "qc/Kernels/Int8Kernels.h"

#include "KernelCommon.h"

#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QC_AVX512 __attribute__((target("avx512f")))

namespace {

using namespace qc_kernels;

constexpr int kLanes = 16, kVecs = 4, kCols = 64;
constexpr int64_t kGroupRows = 8 * kMR, kKBlock = 128;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/// Lanes [0, n - i) of a 16-lane step at i (all when n - i >= 16).
inline __mmask16 tailMask(int64_t n, int64_t i) {
  return n - i >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
}

template <int MR, int NV>
QC_AVX512 inline void tileT(const float *a, int64_t lda, int64_t k0, int64_t k1,
                            const float *b, __m512 acc[kMR][kVecs]) {
  for (int64_t k = k0; k < k1; ++k) {
    __m512 v[NV];
    for (int j = 0; j < NV; ++j)
      v[j] = _mm512_loadu_ps(b + k * kCols + j * kLanes);
    for (int i = 0; i < MR; ++i) {
      __m512 s = _mm512_set1_ps(a[i * lda + k]);
      for (int j = 0; j < NV; ++j)
        acc[i][j] = _mm512_fmadd_ps(s, v[j], acc[i][j]);
    }
  }
}

template <int MR>
QC_AVX512 void tileRows(int nv, const float *a, int64_t lda, int64_t k0,
                        int64_t k1, const float *b, __m512 acc[kMR][kVecs]) {
  switch (nv) {
  case 1:
    return tileT<MR, 1>(a, lda, k0, k1, b, acc);
  case 2:
    return tileT<MR, 2>(a, lda, k0, k1, b, acc);
  case 3:
    return tileT<MR, 3>(a, lda, k0, k1, b, acc);
  default:
    return tileT<MR, 4>(a, lda, k0, k1, b, acc);
  }
}

QC_AVX512 void tile(int mr, int nv, const float *a, int64_t lda, int64_t k0,
                    int64_t k1, const float *b, __m512 acc[kMR][kVecs]) {
  switch (mr) {
  case 1:
    return tileRows<1>(nv, a, lda, k0, k1, b, acc);
  case 2:
    return tileRows<2>(nv, a, lda, k0, k1, b, acc);
  case 3:
    return tileRows<3>(nv, a, lda, k0, k1, b, acc);
  case 4:
    return tileRows<4>(nv, a, lda, k0, k1, b, acc);
  case 5:
    return tileRows<5>(nv, a, lda, k0, k1, b, acc);
  default:
    return tileRows<6>(nv, a, lda, k0, k1, b, acc);
  }
}

/// conv2d_f32's fused epilogue (Kernels.def: res, steps, nsteps; the codes
/// are Int8Kernels.h's QC_F32_EPI_*): after the bias, steps in order, each
/// computing exactly what the op it replaces computes: the residual added,
/// an IEEE maximum or minimum with a constant (NaN-propagating, +0 above
/// -0: arith.maximumf/minimumf), or a leaky ReLU (x < 0 ? x * alpha : x).
struct FloatEpilogue {
  enum Code {
    Add = QC_F32_EPI_ADD,
    Max = QC_F32_EPI_MAX,
    Min = QC_F32_EPI_MIN,
    Leaky = QC_F32_EPI_LEAKY
  };
  static constexpr int kMaxSteps = QC_F32_EPI_MAX_STEPS;
  int n = 0;
  int code[kMaxSteps];
  float value[kMaxSteps];
  /// From the (code, value) pairs; null or empty: none. Steps past
  /// kMaxSteps, or adds without a residual, are not taken (the compiler
  /// emits neither).
  FloatEpilogue(const float *steps, int64_t nsteps, const float *res) {
    for (int64_t i = 0; i < nsteps && n < kMaxSteps; ++i) {
      int c = int(steps[2 * i]);
      if (c < Add || c > Leaky || (c == Add && !res))
        continue;
      code[n] = c;
      value[n++] = steps[2 * i + 1];
    }
  }
  explicit operator bool() const { return n > 0; }
  /// Whether a step reads the residual (and so the output's positions).
  bool adds() const {
    for (int i = 0; i < n; ++i)
      if (code[i] == Add)
        return true;
    return false;
  }
};

/// IEEE maximum (min = false) or minimum of y and c, as arith.maximumf
/// and minimumf: a NaN operand gives NaN, and of two zeros +0 is the
/// larger. vmaxps/vminps return the second operand for a NaN or two equal
/// operands; equal operands take the AND (max) or OR (min) of their bits.
template <bool Max>
QC_AVX512 inline __m512 ieeeMinMax(__m512 y, __m512 c) {
  __m512 r = Max ? _mm512_max_ps(y, c) : _mm512_min_ps(y, c);
  r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(y, y, _CMP_UNORD_Q), y);
  __m512i yi = _mm512_castps_si512(y), ci = _mm512_castps_si512(c);
  __m512 same = _mm512_castsi512_ps(Max ? _mm512_and_si512(yi, ci)
                                        : _mm512_or_si512(yi, ci));
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(y, c, _CMP_EQ_OQ), same);
}

/// The epilogue's steps on 16 values; res (the residual at the same
/// positions) is read under mask m.
QC_AVX512 inline __m512 applyEpilogue(const FloatEpilogue &e, __m512 y,
                                      const float *res, __mmask16 m) {
  for (int i = 0; i < e.n; ++i) {
    __m512 c = _mm512_set1_ps(e.value[i]);
    switch (e.code[i]) {
    case FloatEpilogue::Add:
      y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, res));
      break;
    case FloatEpilogue::Max:
      y = ieeeMinMax<true>(y, c);
      break;
    case FloatEpilogue::Min:
      y = ieeeMinMax<false>(y, c);
      break;
    default:
      y = _mm512_mask_mul_ps(
          y, _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LT_OQ), y, c);
    }
  }
  return y;
}

/// arith.maximumf of two floats: NaN if either is, +0 above -0.
inline float ieeeMax(float a, float b) {
  if (a != a || b != b)
    return a != a ? a : b;
  if (a == b)
    return __builtin_signbit(a) ? b : a;
  return a > b ? a : b;
}

/// The max pools (poolH x poolW, strides equal) of rows [r0, r1) of a
/// block of conv output positions in buf ([row][64]; the block starts at
/// output row oh0, holds `cols` positions, whole window rows), stored into
/// out ([row][OH / poolH][OW / poolW]); buf holds row r at r * 64.
void poolBlock(const float *buf, int64_t r0, int64_t r1, int64_t cols,
               int64_t oh0, int64_t OW, int64_t poolH, int64_t poolW,
               int64_t pooledPlane, float *out) {
  int64_t POW = OW / poolW, rows = cols / OW;
  for (int64_t r = r0; r < r1; ++r) {
    const float *b = buf + r * kCols;
    float *o = out + r * pooledPlane + (oh0 / poolH) * POW;
    for (int64_t pr = 0; pr < rows / poolH; ++pr)
      for (int64_t pc = 0; pc < POW; ++pc) {
        float m = -__builtin_inff();
        for (int64_t i = 0; i < poolH; ++i)
          for (int64_t j = 0; j < poolW; ++j)
            m = ieeeMax(m, b[(pr * poolH + i) * OW + pc * poolW + j]);
        o[pr * POW + pc] = m;
      }
  }
}

/// The epilogue in place over n floats y (res: the residual's n floats).
QC_AVX512 void applyEpilogue(const FloatEpilogue &e, float *y, const float *res,
                             int64_t n) {
  for (int64_t i = 0; i < n; i += kLanes) {
    __mmask16 m = tailMask(n, i);
    _mm512_mask_storeu_ps(y + i, m,
                          applyEpilogue(e, _mm512_maskz_loadu_ps(m, y + i),
                                        res ? res + i : res, m));
  }
}

/// Rows [r0, r1) of `a` (row stride lda, K columns) times one block of 64
/// columns `b` ([K][64]); `cols` of them are stored at out + r * ldo + c,
/// plus bias[r] (biasPerRow) or bias[c0 + c], then the epilogue `epi`
/// (when given; its residual at res + r * ldo + c).
QC_AVX512 void runBlock(int64_t r0, int64_t r1, const float *a, int64_t lda,
                        int64_t K, const float *b, int64_t cols,
                        const float *bias, bool biasPerRow, int64_t c0,
                        float *out, int64_t ldo,
                        const FloatEpilogue *epi = nullptr,
                        const float *res = nullptr) {
  int nv = int(cdiv(cols, kLanes));
  __mmask16 masks[kVecs];
  __m512 colBias[kVecs];
  for (int v = 0; v < nv; ++v) {
    masks[v] = tailMask(cols, v * kLanes);
    colBias[v] = bias && !biasPerRow
                     ? _mm512_maskz_loadu_ps(masks[v], bias + c0 + v * kLanes)
                     : _mm512_setzero_ps();
  }
  alignas(64) __m512 partial[kGroupRows * kVecs];
  __m512 acc[kMR][kVecs];
  for (int64_t g0 = r0; g0 < r1; g0 += kGroupRows) {
    int64_t g1 = min64(g0 + kGroupRows, r1);
    for (int64_t kb = 0; kb < K; kb += kKBlock) {
      int64_t ke = min64(kb + kKBlock, K);
      for (int64_t r = g0; r < g1; r += kMR) {
        int mr = int(min64(g1 - r, kMR));
        __m512 *part = partial + (r - g0) * kVecs;
        for (int i = 0; i < mr; ++i)
          for (int v = 0; v < nv; ++v)
            acc[i][v] = kb ? part[i * kVecs + v] : _mm512_setzero_ps();
        tile(mr, nv, a + r * lda, lda, kb, ke, b, acc);
        if (ke < K) {
          for (int i = 0; i < mr; ++i)
            for (int v = 0; v < nv; ++v)
              part[i * kVecs + v] = acc[i][v];
          continue;
        }
        for (int i = 0; i < mr; ++i) {
          __m512 rb = bias && biasPerRow ? _mm512_set1_ps(bias[r + i])
                                         : _mm512_setzero_ps();
          for (int v = 0; v < nv; ++v) {
            __m512 y = _mm512_add_ps(acc[i][v], biasPerRow ? rb : colBias[v]);
            if (epi)
              y = applyEpilogue(*epi, y,
                                res ? res + (r + i) * ldo + v * kLanes : res,
                                masks[v]);
            _mm512_mask_storeu_ps(out + (r + i) * ldo + v * kLanes, masks[v],
                                  y);
          }
        }
      }
    }
  }
}

struct Shape {
  int64_t C, H, W, F, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw;
  int64_t K() const { return C * KH * KW; }
};

/// n floats from src to dst (src null: zeros), 16 at a time under masks:
/// the rows copied here are short (a few to a few hundred floats), where a
/// call of memcpy or memset costs more than the copy. (The masks also keep
/// LLVM from turning the loop back into such a call.)
QC_AVX512 inline void copyFloats(float *dst, const float *src, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanes) {
    __mmask16 m = tailMask(n, i);
    _mm512_mask_storeu_ps(dst + i, m,
                          src ? _mm512_maskz_loadu_ps(m, src + i)
                              : _mm512_setzero_ps());
  }
}

/// The C planes of `x` padded with zeros to Hp x Wp (rows from -ph,
/// columns from -pw), plus `slack` zeros after them.
QC_AVX512 void padImage(const float *x, const Shape &s, int64_t Hp, int64_t Wp,
                        int64_t slack, float *image) {
  int64_t w0 = min64(s.pw, Wp), w1 = min64(s.pw + s.W, Wp);
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < Hp; ++r) {
      float *dst = image + (c * Hp + r) * Wp;
      int64_t ih = r - s.ph;
      if (ih < 0 || ih >= s.H) {
        copyFloats(dst, nullptr, Wp);
        continue;
      }
      copyFloats(dst, nullptr, w0);
      copyFloats(dst + w0, x + (c * s.H + ih) * s.W + w0 - s.pw, w1 - w0);
      copyFloats(dst + w1, nullptr, Wp - w1);
    }
  memset(image + s.C * Hp * Wp, 0, size_t(slack) * 4);
}

/// One output row of a depthwise channel, NV vectors of 16 columns from
/// ow0, over the sw phase planes of the padded plane (phase p holds the
/// padded columns p, p + sw, ...): every tap reads a contiguous run.
template <int NV>
QC_AVX512 inline void depthwiseRow(const Shape &s, const float *planes,
                                   int64_t Hp, int64_t Wq, int64_t oh,
                                   int64_t ow0, const float *wc, float b,
                                   float *out) {
  __m512 acc[NV];
  for (int v = 0; v < NV; ++v)
    acc[v] = _mm512_set1_ps(b);
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    int64_t r = oh * s.sh + kh * s.dh;
    TapPhases t(s.dw, s.sw);
    for (int64_t kw = 0; kw < s.KW; ++kw, t.next()) {
      const float *in = planes + (t.phase * Hp + r) * Wq + t.col + ow0;
      __m512 wv = _mm512_set1_ps(wc[kh * s.KW + kw]);
      for (int v = 0; v < NV; ++v)
        acc[v] = _mm512_fmadd_ps(_mm512_loadu_ps(in + 16 * v), wv, acc[v]);
    }
  }
  for (int v = 0; v < NV; ++v)
    _mm512_mask_storeu_ps(out + 16 * v, tailMask(s.OW - ow0, 16 * v), acc[v]);
}

/// Depthwise convolution (groups == C == F, weights [F][KH][KW]): each
/// channel's plane padded with zeros and split into sw phase planes, then
/// every output row in chunks of 64 columns, the accumulators in registers
/// over all taps.
QC_AVX512 void depthwise(int64_t batch, const Shape &s, const float *x,
                         const float *w, const float *bias, float *out,
                         const FloatEpilogue &epi, const float *res,
                         int64_t task, int64_t ntasks) {
  int64_t Hp = (s.OH - 1) * s.sh + (s.KH - 1) * s.dh + 1;
  int64_t Wp = (s.OW - 1) * s.sw + (s.KW - 1) * s.dw + 1;
  int64_t Wq = cdiv(Wp, s.sw), P = s.OH * s.OW;
  int64_t ub, ue;
  share(batch * s.C, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  // Rows are read up to 64 floats past an output row's last column.
  size_t n = size_t(s.sw * Hp * Wq + 128);
  float *planes = static_cast<float *>(malloc(n * 4));
  memset(planes + n - 128, 0, 128 * 4);
  for (int64_t u = ub; u < ue; ++u) {
    int64_t c = u % s.C;
    fillPhasePlanes(x + u * s.H * s.W, s.H, s.W, s.ph, s.pw, s.sw, Hp, Wq,
                    0.0f, [](float v) { return v; }, planes);
    const float *wc = w + c * s.KH * s.KW;
    float b = bias ? bias[c] : 0.0f;
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow0 = 0; ow0 < s.OW; ow0 += 64) {
        float *o = out + u * P + oh * s.OW + ow0;
        switch (cdiv(min64(s.OW - ow0, 64), 16)) {
        case 1:
          depthwiseRow<1>(s, planes, Hp, Wq, oh, ow0, wc, b, o);
          break;
        case 2:
          depthwiseRow<2>(s, planes, Hp, Wq, oh, ow0, wc, b, o);
          break;
        case 3:
          depthwiseRow<3>(s, planes, Hp, Wq, oh, ow0, wc, b, o);
          break;
        default:
          depthwiseRow<4>(s, planes, Hp, Wq, oh, ow0, wc, b, o);
        }
      }
    if (epi)
      applyEpilogue(epi, out + u * P, res ? res + u * P : res, P);
  }
  free(planes);
}

/// qc.hadamard on 16 rows at a time, transposed so that each of the n
/// positions of a row is one zmm of the 16 rows' values: the butterflies and
/// the factor's contraction are whole-vector adds and FMAs, in a buffer of
/// n x 16 floats. For p not a multiple of 16 (hadamardRow takes the rest).
QC_AVX512 void hadamardBlock(int64_t nrows, int64_t m, int64_t p,
                             const float *x, const float *factor, float *out,
                             float *buf, float *tmp) {
  int64_t n = m * p;
  for (int64_t j = 0; j < n; ++j)
    for (int l = 0; l < kLanes; ++l)
      buf[j * kLanes + l] = l < nrows ? x[l * n + j] : 0.0f;
  for (int64_t h = 1; h < p; h *= 2)
    for (int64_t a = 0; a < m; ++a)
      for (int64_t g = 0; g < p; g += 2 * h)
        for (int64_t b = g; b < g + h; ++b) {
          float *lo = buf + (a * p + b) * kLanes, *hi = lo + h * kLanes;
          __m512 u = _mm512_loadu_ps(lo), v = _mm512_loadu_ps(hi);
          _mm512_storeu_ps(lo, _mm512_add_ps(u, v));
          _mm512_storeu_ps(hi, _mm512_sub_ps(u, v));
        }
  __m512 norm = _mm512_set1_ps(1.0f / __builtin_sqrtf(float(p)));
  const float *res = buf;
  if (factor) {
    // y[a', b] = sum_a x[a, b] F[a, a']
    for (int64_t a2 = 0; a2 < m; ++a2)
      for (int64_t b = 0; b < p; ++b) {
        __m512 acc = _mm512_setzero_ps();
        for (int64_t a = 0; a < m; ++a)
          acc =
              _mm512_fmadd_ps(_mm512_set1_ps(factor[a * m + a2]),
                              _mm512_loadu_ps(buf + (a * p + b) * kLanes), acc);
        _mm512_storeu_ps(tmp + (a2 * p + b) * kLanes, acc);
      }
    res = tmp;
  }
  for (int64_t j = 0; j < n; ++j) {
    alignas(64) float v[kLanes];
    _mm512_store_ps(v, _mm512_mul_ps(_mm512_loadu_ps(res + j * kLanes), norm));
    for (int l = 0; l < nrows; ++l)
      out[l * n + j] = v[l];
  }
}

/// qc.hadamard on one row when p is a multiple of 16: the butterflies of
/// distance 1, 2, 4 and 8 inside each zmm (a lane permute and a blend of
/// the sum and the difference), the longer ones between zmm, then the
/// factor's contraction on whole vectors of 16 positions b.
QC_AVX512 void hadamardRow(int64_t m, int64_t p, const float *x,
                           const float *factor, float *out, float *tmp) {
  int64_t n = m * p;
  const __m512i lanes =
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  for (int64_t v = 0; v < n; v += kLanes) {
    __m512 z = _mm512_loadu_ps(x + v);
    for (int h = 1; h < kLanes; h *= 2) {
      __m512 sw = _mm512_permutexvar_ps(
          _mm512_xor_si512(lanes, _mm512_set1_epi32(h)), z);
      __mmask16 hiLanes = h == 1   ? 0xAAAA
                          : h == 2 ? 0xCCCC
                          : h == 4 ? 0xF0F0
                                   : 0xFF00;
      z = _mm512_mask_blend_ps(hiLanes, _mm512_add_ps(z, sw),
                               _mm512_sub_ps(sw, z));
    }
    _mm512_storeu_ps(out + v, z);
  }
  for (int64_t h = kLanes; h < p; h *= 2)
    for (int64_t a = 0; a < m; ++a)
      for (int64_t g = a * p; g < (a + 1) * p; g += 2 * h)
        for (int64_t b = g; b < g + h; b += kLanes) {
          __m512 u = _mm512_loadu_ps(out + b), w = _mm512_loadu_ps(out + b + h);
          _mm512_storeu_ps(out + b, _mm512_add_ps(u, w));
          _mm512_storeu_ps(out + b + h, _mm512_sub_ps(u, w));
        }
  __m512 norm = _mm512_set1_ps(1.0f / __builtin_sqrtf(float(p)));
  if (!factor) {
    for (int64_t v = 0; v < n; v += kLanes)
      _mm512_storeu_ps(out + v, _mm512_mul_ps(_mm512_loadu_ps(out + v), norm));
    return;
  }
  // y[a', b] = sum_a x[a, b] F[a, a'], from a copy of the butterflies' output.
  memcpy(tmp, out, size_t(n) * 4);
  for (int64_t a2 = 0; a2 < m; ++a2)
    for (int64_t b = 0; b < p; b += kLanes) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t a = 0; a < m; ++a)
        acc = _mm512_fmadd_ps(_mm512_set1_ps(factor[a * m + a2]),
                              _mm512_loadu_ps(tmp + a * p + b), acc);
      _mm512_storeu_ps(out + a2 * p + b, _mm512_mul_ps(acc, norm));
    }
}

/// exp(x) in 16 lanes: x = k ln 2 + r with |r| <= ln 2 / 2 (ln 2 in two
/// parts), e^r by its Taylor polynomial to degree 7 (truncation below
/// 2^-27), scaled by 2^k with vscalefps, which gives 0 below -104 and
/// infinity above 88.8 (the clamps keep k in range). A NaN stays NaN.
QC_AVX512 inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x); // NaN: the second operand
  x = _mm512_min_ps(_mm512_set1_ps(88.8f), x);
  __m512 k = _mm512_roundscale_ps(
      _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.428606765330187045e-6f), r);
  // e^r = 1 + (r + r^2 q(r)): the small part first, so that the last add
  // rounds once (about half an ulp) instead of Horner's last two steps.
  __m512 q = _mm512_set1_ps(1.0f / 5040);
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 720));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 120));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 24));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 6));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.5f));
  __m512 p = _mm512_add_ps(_mm512_set1_ps(1.0f),
                           _mm512_fmadd_ps(_mm512_mul_ps(r, r), q, r));
  return _mm512_scalef_ps(p, k);
}

} // namespace

extern "C" {

/// qc.softmax over the last axis, a row at a time: the row's maximum, then
/// exp(x - max) stored and summed, then the stored values divided by the sum.
/// Rows are shared among the tasks.
QC_AVX512 void qc_k_softmax_f32_avx512(QC_KERNEL_PARAMS(softmax_f32)) {
  int64_t ub, ue;
  share(rows, task, ntasks, ub, ue);
  for (int64_t row = ub; row < ue; ++row) {
    const float *xr = x + row * n;
    float *o = out + row * n;
    __m512 mx = _mm512_set1_ps(-__builtin_inff());
    for (int64_t i = 0; i < n; i += kLanes) {
      __mmask16 m = tailMask(n, i);
      mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, xr + i));
    }
    // A NaN anywhere in the row makes its exp, the sum and so every output
    // NaN, as the reference's does; so does an infinite maximum.
    __m512 shift = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += kLanes) {
      __mmask16 m = tailMask(n, i);
      __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + i), shift));
      sum = _mm512_mask_add_ps(sum, m, sum, e);
      _mm512_mask_storeu_ps(o + i, m, e);
    }
    // Divided, not multiplied by 1 / sum: one rounding, as the reference.
    __m512 total = _mm512_set1_ps(_mm512_reduce_add_ps(sum));
    for (int64_t i = 0; i < n; i += kLanes) {
      __mmask16 m = tailMask(n, i);
      _mm512_mask_storeu_ps(
          o + i, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, o + i), total));
    }
  }
}

/// qc.hadamard: out[r] = x[r] (F (x) H_p) / sqrt(p) for each of `rows` rows
/// of n = m p values; `factor` is F (m x m, row-major) or null (m = 1).
/// Work units: blocks of 16 rows, transformed row by row when p is a
/// multiple of 16, else transposed (hadamardBlock).
QC_AVX512 void qc_k_hadamard_f32_avx512(QC_KERNEL_PARAMS(hadamard_f32)) {
  int64_t n = m * p, ub, ue;
  share(cdiv(rows, kLanes), task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  // Scratch: one row for the factor's contraction (row by row), or two
  // transposed blocks of 16 rows.
  bool byRow = p % kLanes == 0;
  float *buf = static_cast<float *>(
      alignedAlloc64(size_t(n) * 4 * (byRow ? 1 : 2 * kLanes)));
  if (byRow) {
    for (int64_t r = ub * kLanes, e = min64(rows, ue * kLanes); r < e; ++r)
      hadamardRow(m, p, x + r * n, factor, out + r * n, buf);
  } else {
    for (int64_t u = ub; u < ue; ++u) {
      int64_t r0 = u * kLanes, nrows = min64(rows - r0, kLanes);
      hadamardBlock(nrows, m, p, x + r0 * n, factor, out + r0 * n, buf,
                    buf + n * kLanes);
    }
  }
  free(buf);
}

QC_AVX512 void qc_k_matmul_f32_avx512(QC_KERNEL_PARAMS(matmul_f32)) {
  int64_t colBlocks = cdiv(N, kCols),
          chunks = rowChunks(batch, colBlocks, M, ntasks);
  int64_t chunkRows = cdiv(M, chunks), ub, ue;
  share(batch * colBlocks * chunks, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  float *rows =
      bPacked ? nullptr
              : static_cast<float *>(alignedAlloc64(size_t(K) * kCols * 4));
  int64_t key = -1;
  for (int64_t u = ub; u < ue; ++u) {
    int64_t chunk = u % chunks, cb = (u / chunks) % colBlocks,
            bi = u / chunks / colBlocks;
    int64_t n0 = cb * kCols, cols = min64(N - n0, kCols);
    const float *blk;
    if (bPacked) {
      blk = b + cb * K * kCols;
    } else {
      if (key != bi * colBlocks + cb) {
        const float *src = b + bi * bStride + n0;
        for (int64_t k = 0; k < K; ++k) {
          copyFloats(rows + k * kCols, src + k * N, cols);
          copyFloats(rows + k * kCols + cols, nullptr, kCols - cols);
        }
        key = bi * colBlocks + cb;
      }
      blk = rows;
    }
    int64_t r0 = chunk * chunkRows, r1 = min64(r0 + chunkRows, M);
    if (r0 < r1)
      runBlock(r0, r1, a + bi * aStride, K, K, blk, cols, bias, false, n0,
               out + bi * M * N + n0, N);
  }
  free(rows);
}

QC_AVX512 void qc_k_conv2d_f32_avx512(QC_KERNEL_PARAMS(conv2d_f32)) {
  Shape s{C, H, W, F, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw};
  FloatEpilogue epi(steps, nsteps, res);
  // A fused pool (qc_conv2d_f32_pool_fusable holds: no row buffer, blocks
  // of whole window rows) pools each block from a buffer of its rows.
  bool pool = poolH > 0 && poolW > 0 &&
              qc_conv2d_f32_pool_fusable(C, H, W, KH, KW, OH, OW, sh, sw, ph,
                                         pw, groups, poolH, poolW);
  if ((poolH > 0 || poolW > 0) && (!pool || epi.adds()))
    abort();      // the compiler fuses only what the kernel can pool
  if (groups > 1) // depthwise: groups == C == F (the only grouping taken)
    return depthwise(batch, s, x, w, bias, out, epi, res, task, ntasks);
  int64_t K = s.K(), P = OH * OW;
  bool pointwise = KH == 1 && KW == 1 && sh == 1 && sw == 1 && ph == 0 &&
                   pw == 0 && OH == H && OW == W;
  bool shifted = sh == 1 && sw == 1 && !pointwise;
  int64_t Wp = shifted ? OW + (KW - 1) * dw : (OW - 1) * sw + (KW - 1) * dw + 1;
  int64_t Hp = shifted ? OH + (KH - 1) * dh : (OH - 1) * sh + (KH - 1) * dh + 1;
  int64_t Q =
      shifted ? OH * Wp : P; // columns: padded-width positions when shifted
  int64_t colBlocks = cdiv(Q, kCols),
          chunks = rowChunks(batch, colBlocks, F, ntasks);
  int64_t chunkRows = cdiv(F, chunks), ub, ue;
  share(batch * colBlocks * chunks, task, ntasks, ub, ue);
  if (ub >= ue)
    return;
  int64_t planes = pointwise ? 0 : C * Hp * Wp;
  int64_t slack = (KH - 1) * dh * Wp + (KW - 1) * dw + 2 * kCols;
  float *image = pointwise
                     ? nullptr
                     : static_cast<float *>(malloc(size_t(planes + slack) * 4));
  float *rows = static_cast<float *>(alignedAlloc64(size_t(K) * kCols * 4));
  int64_t pooledPlane = pool ? (OH / poolH) * (OW / poolW) : P;
  float *tmp = (shifted && Wp != OW) || pool
                   ? static_cast<float *>(malloc(size_t(F) * kCols * 4))
                   : nullptr;
  int64_t imageKey = -1, key = -1;
  for (int64_t u = ub; u < ue; ++u) {
    int64_t chunk = u % chunks, cb = (u / chunks) % colBlocks,
            n = u / chunks / colBlocks;
    int64_t p0 = cb * kCols, cols = min64(Q - p0, kCols);
    const float *xn = x + n * C * H * W;
    if (key != n * colBlocks + cb) {
      if (!pointwise && imageKey != n) {
        padImage(xn, s, Hp, Wp, slack, image);
        imageKey = n;
      }
      int64_t k = 0;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw, ++k) {
            float *dst = rows + k * kCols;
            if (pointwise) {
              copyFloats(dst, xn + c * P + p0, cols);
            } else if (shifted) {
              copyFloats(dst, image + c * Hp * Wp + kh * dh * Wp + kw * dw + p0,
                         cols);
            } else {
              const float *plane = image + c * Hp * Wp + kh * dh * Wp + kw * dw;
              forEachRowRun(
                  p0, cols, OW,
                  [&](int64_t j, int64_t oh, int64_t ow, int64_t run) {
                    const float *src = plane + oh * sh * Wp + ow * sw;
                    if (sw == 1) {
                      copyFloats(dst + j, src, run);
                      return;
                    }
                    for (int64_t t = 0; t < run; ++t)
                      dst[j + t] = src[t * sw];
                  });
            }
            if (cols < kCols)
              copyFloats(dst + cols, nullptr, kCols - cols);
          }
      key = n * colBlocks + cb;
    }
    int64_t r0 = chunk * chunkRows, r1 = min64(r0 + chunkRows, F);
    if (r0 >= r1)
      continue;
    float *on = out + n * F * pooledPlane;
    const float *rn = res ? res + n * F * P : res;
    if (pool) {
      runBlock(r0, r1, w, K, K, rows, cols, bias, true, 0, tmp, kCols,
               epi ? &epi : nullptr);
      poolBlock(tmp, r0, r1, cols, p0 / OW, OW, poolH, poolW, pooledPlane, on);
      continue;
    }
    if (!tmp) {
      runBlock(r0, r1, w, K, K, rows, cols, bias, true, 0, on + p0, P,
               epi ? &epi : nullptr, rn ? rn + p0 : rn);
      continue;
    }
    // Without a residual the epilogue runs in registers on the padded
    // columns too; with one, on each copied run at its place.
    bool inPlace = epi && !epi.adds();
    runBlock(r0, r1, w, K, K, rows, cols, bias, true, 0, tmp, kCols,
             inPlace ? &epi : nullptr);
    forEachRowRun(p0, cols, Wp,
                  [&](int64_t c, int64_t oh, int64_t ow, int64_t run) {
                    int64_t valid = ow < OW ? min64(OW - ow, run) : 0;
                    for (int64_t r = r0; r < r1; ++r) {
                      int64_t at = r * P + oh * OW + ow;
                      copyFloats(on + at, tmp + r * kCols + c, valid);
                      if (epi && !inPlace)
                        applyEpilogue(epi, on + at, rn + at, valid);
                    }
                  });
  }
  free(tmp);
  free(rows);
  free(image);
}

} // extern "C"
