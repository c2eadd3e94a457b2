//===- Int8Kernels.h - int8 microkernel entry points and weight packing ---===//
//
// The C entry points of lib/Kernels/Int8Kernels.cpp (compiled to bitcode and
// linked into models that call them), and the compile-time packing of
// constant weights into the layout they read. docs/kernels.md describes the
// layout and the correction terms.
//
//===----------------------------------------------------------------------===//
#ifndef QC_KERNELS_INT8KERNELS_H
#define QC_KERNELS_INT8KERNELS_H

#include <stdint.h>

#define QC_MATMUL_ARGS                                                                   \
  int64_t batch, int64_t M, int64_t N, int64_t K, const uint8_t *a, int64_t aStride,       \
      int64_t aXor, const uint8_t *b, int64_t bStride, int64_t bPacked, int64_t bXor,      \
      int64_t aOffZp, const int32_t *corr, const int32_t *zw, int64_t hasZw,               \
      const int32_t *mult, const int32_t *shift, int64_t izp, int64_t ozp, int64_t lo,     \
      int64_t hi, int64_t outI8, void *out, int64_t task, int64_t ntasks

#define QC_CONV_ARGS                                                                     \
  int64_t batch, int64_t C, int64_t H, int64_t W, int64_t F, int64_t KH, int64_t KW,       \
      int64_t OH, int64_t OW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,  \
      int64_t dw, int64_t groups, const uint8_t *x, int64_t xXor, int64_t pad,             \
      const uint8_t *w, int64_t wBits, const int32_t *corr, const int32_t *zw, int64_t hasZw,             \
      const int32_t *mult, const int32_t *shift, int64_t izp, int64_t ozp, int64_t lo,     \
      int64_t hi, int64_t outI8, void *out, int64_t task, int64_t ntasks

#define QC_MATMUL_GROUP_ARGS                                                             \
  int64_t M, int64_t N, int64_t K, int64_t G, const int8_t *a, const float *aScales,       \
      const float *aZeros, const uint8_t *b, const int32_t *colSums, const float *bScales, \
      const float *bias, float *out, int64_t task, int64_t ntasks

#ifdef __cplusplus
extern "C" {
#endif
/// out[b] = epilogue(A[b] x B[b]). A: [batch][M][K] bytes (aStride bytes
/// apart, 0 to share), XOR aXor (0x80 for int8) makes them unsigned. B:
/// packed by qc::kernels::packMatmulB (bPacked = 8, shared by every batch;
/// 4 or 2: those panels with 4 or 2 bits per weight, by packSubByte),
/// or row-major [K][N] bytes bStride apart, XOR bXor (0x80 for uint8) makes
/// them signed, packed per column block at run time; then the kernel
/// subtracts aOffZp (= 128 or 0, plus A's zero point) times each B column
/// sum from corr. Channels (corr, zw, mult, shift) are the N columns.
void qc_k_matmul_i8_generic(QC_MATMUL_ARGS);
void qc_k_matmul_i8_vnni(QC_MATMUL_ARGS);
/// qc.matmul_group_scaled: out[m][n] = bias[n] + bScales[n] * sum_g
/// aScales[m][g] * sum_{k in group g} (a[m][k] - aZeros[m][g]) * B[k][n].
/// A: [M][K] int8; aScales, aZeros (integer values, or null): [M][K/G];
/// B packed by qc::kernels::packMatmulB (8 bits, signed, no zero point);
/// colSums [K/G][N]: B's column sums per group; bScales [N]; bias [N] or
/// null. G is a multiple of 4.
void qc_k_matmul_group_i8_generic(QC_MATMUL_GROUP_ARGS);
void qc_k_matmul_group_i8_vnni(QC_MATMUL_GROUP_ARGS);
/// 2-d NCHW convolution; w packed by qc::kernels::packConvWeights (wBits =
/// 8; 4 or 2: those rows with 4 or 2 bits per weight, by packSubByte); pad
/// is the raw input zero-point byte; channels are the F output channels.
void qc_k_conv2d_i8_generic(QC_CONV_ARGS);
void qc_k_conv2d_i8_vnni(QC_CONV_ARGS);
/// Float (lib/Kernels/F32Kernels.cpp, AVX-512F): out[b] = A[b] x B[b] (+
/// bias per column); B packed by qc::kernels::packMatmulBF32 (bPacked = 1)
/// or row-major [K][N] floats bStride apart. bias may be null.
void qc_k_matmul_f32_avx512(int64_t batch, int64_t M, int64_t N, int64_t K, const float *a,
                            int64_t aStride, const float *b, int64_t bStride, int64_t bPacked,
                            const float *bias, float *out, int64_t task, int64_t ntasks);
/// qc.hadamard (AVX-512F): out[r] = x[r] (F (x) H_p) / sqrt(p) for `rows`
/// rows of n = m p floats; factor is the m x m F (row-major) or null.
void qc_k_hadamard_f32_avx512(int64_t rows, int64_t m, int64_t p, const float *x,
                              const float *factor, float *out, int64_t task, int64_t ntasks);
/// 2-d NCHW float convolution, group 1, zero padding; w is [F][C*KH*KW]
/// as ONNX stores it; bias (per F) may be null.
void qc_k_conv2d_f32_avx512(int64_t batch, int64_t C, int64_t H, int64_t W, int64_t F,
                            int64_t KH, int64_t KW, int64_t OH, int64_t OW, int64_t sh,
                            int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                            const float *x, const float *w, const float *bias, float *out,
                            int64_t task, int64_t ntasks);
#ifdef __cplusplus
}
#endif

#if defined(__cplusplus) && !defined(QC_KERNELS_BITCODE)
#include <cstddef>
#include <vector>

namespace qc::kernels {

/// Constant weights in kernel layout with their per-channel epilogue terms.
struct PackedWeights {
  std::vector<int8_t> data;
  std::vector<int32_t> corr; // bias and weight-only zero-point terms
  std::vector<int32_t> zw;   // weight zero points after the signed offset
  bool hasZw = false;
};

/// The weight zero points of `channels` channels (one given: per tensor)
/// after the offset that makes uint8 weights signed.
std::vector<int32_t> signedZeroPoints(const int32_t *zp, size_t nZp, int64_t channels,
                                      bool wUnsigned);

/// B [K][N] (bytes, row-major; uint8 when bUnsigned) in 16-column panels
/// for qc_k_matmul_i8_*, with corr = bias - (off + aZp) colsum + K aZp zb.
/// `bZp` has 1 or N entries, `bias` 0 or N.
PackedWeights packMatmulB(const uint8_t *b, int64_t K, int64_t N, bool bUnsigned,
                          const int32_t *bZp, size_t nZp, const int32_t *bias, bool aUnsigned,
                          int32_t aZp);

/// The corr and zw of a run-time-packed (activation) B: bias + K aZp zb.
PackedWeights matmulActivationB(int64_t K, int64_t N, bool bUnsigned, const int32_t *bZp,
                                size_t nZp, const int32_t *bias, int32_t aZp);

/// Conv weights [F][K] (K = C/group * KH * KW, row-major) as rows padded to
/// a multiple of 4 for qc_k_conv2d_i8_*, with corr = bias - (off + xZp)
/// rowsum + K xZp zw.
PackedWeights packConvWeights(const uint8_t *w, int64_t F, int64_t K, bool wUnsigned,
                              const int32_t *wZp, size_t nZp, const int32_t *bias,
                              bool xUnsigned, int32_t xZp);

/// The narrowest of 8, 4 and 2 bits that holds every packed weight (signed:
/// [-8, 7] for 4, [-2, 1] for 2).
unsigned packedBits(const std::vector<int8_t> &data);

/// Packed int8 weights (a multiple of 8 / bits of them) with `bits` (4 or
/// 2) bits each, two's complement, the first in the lowest bits of a byte.
std::vector<int8_t> packSubByte(const std::vector<int8_t> &data, unsigned bits);

/// Float B [K][N] as blocks of 64 columns, each [K][64] (zero-padded), for
/// qc_k_matmul_f32_avx512.
std::vector<float> packMatmulBF32(const float *b, int64_t K, int64_t N);

} // namespace qc::kernels
#endif

#endif // QC_KERNELS_INT8KERNELS_H
