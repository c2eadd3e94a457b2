//===- Int8Kernels.h - int8 microkernel entry points and weight packing ---===//
//
// The C entry points of lib/Kernels (compiled to bitcode and linked into
// models that call them), declared from the table in Kernels.def, and the
// compile-time packing of constant weights into the layout they read.
// docs/kernels.md describes the layout and the correction terms.
//
//===----------------------------------------------------------------------===//
#ifndef QC_KERNELS_INT8KERNELS_H
#define QC_KERNELS_INT8KERNELS_H

#include <stdint.h>

#include "qc/Kernels/Kernels.def"

/// The parameter list of kernel `name` (Kernels.def), for its definitions:
///   void qc_k_matmul_i8_vnni(QC_KERNEL_PARAMS(matmul_i8)) { ... }
#define QC_KERNEL_C_PARAM(type, name) type name,
#define QC_KERNEL_PARAMS(name)                                                 \
  QC_KERNEL_ARGS_##name(QC_KERNEL_C_PARAM) int64_t task, int64_t ntasks

#ifdef __cplusplus
extern "C" {
#endif
#define QC_KERNEL_C_DECLARE(name, isa)                                         \
  void qc_k_##name##_##isa(QC_KERNEL_PARAMS(name));
QC_KERNEL_VARIANTS(QC_KERNEL_C_DECLARE)
#undef QC_KERNEL_C_DECLARE
#ifdef __cplusplus
}
#endif

/// The codes of qc_k_conv2d_f32_avx512's epilogue steps (Kernels.def), and
/// how many steps it takes at most: shared by the kernel and the compiler.
enum {
  QC_F32_EPI_ADD = 0,   /* the residual */
  QC_F32_EPI_MAX = 1,   /* arith.maximumf with the step's constant */
  QC_F32_EPI_MIN = 2,   /* arith.minimumf with the step's constant */
  QC_F32_EPI_LEAKY = 3, /* x < 0 ? x * constant : x */
  QC_F32_EPI_MAX_STEPS = 8
};

/// Whether qc_k_conv2d_f32_avx512 can fuse a poolH x poolW max pool
/// (Kernels.def): a group-1 convolution whose blocks of 64 output positions
/// the kernel stores directly (not through its row buffer of padded-width
/// columns) hold whole windows' rows.
static inline int qc_conv2d_f32_pool_fusable(int64_t C, int64_t H, int64_t W,
                                             int64_t KH, int64_t KW, int64_t OH,
                                             int64_t OW, int64_t sh, int64_t sw,
                                             int64_t ph, int64_t pw,
                                             int64_t groups, int64_t poolH,
                                             int64_t poolW) {
  (void)C;
  int pointwise = KH == 1 && KW == 1 && sh == 1 && sw == 1 && ph == 0 &&
                  pw == 0 && OH == H && OW == W;
  int rowBuffer = sh == 1 && sw == 1 && !pointwise && KW > 1;
  return groups == 1 && !rowBuffer && poolH > 0 && poolW > 0 &&
         OH % poolH == 0 && OW % poolW == 0 && 64 % (poolH * OW) == 0;
}

#if defined(__cplusplus) && !defined(QC_KERNELS_BITCODE)
#include <cstddef>
#include <vector>

#include "qc/Support/LowBitFormat.h"

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
std::vector<int32_t> signedZeroPoints(const int32_t *zp, size_t nZp,
                                      int64_t channels, bool wUnsigned);

/// B [K][N] (bytes, row-major; uint8 when bUnsigned) in 16-column panels
/// for qc_k_matmul_i8_*, with corr = bias - (off + aZp) colsum + K aZp zb.
/// `bZp` has 1 or N entries, `bias` 0 or N.
PackedWeights packMatmulB(const uint8_t *b, int64_t K, int64_t N,
                          bool bUnsigned, const int32_t *bZp, size_t nZp,
                          const int32_t *bias, bool aUnsigned, int32_t aZp);

/// The corr and zw of a run-time-packed (activation) B: bias + K aZp zb.
PackedWeights matmulActivationB(int64_t K, int64_t N, bool bUnsigned,
                                const int32_t *bZp, size_t nZp,
                                const int32_t *bias, int32_t aZp);

/// Conv weights [F][K] (K = C/group * KH * KW, row-major) as rows padded to
/// a multiple of 4 for qc_k_conv2d_i8_*, with corr = bias - (off + xZp)
/// rowsum + K xZp zw.
PackedWeights packConvWeights(const uint8_t *w, int64_t F, int64_t K,
                              bool wUnsigned, const int32_t *wZp, size_t nZp,
                              const int32_t *bias, bool xUnsigned, int32_t xZp);

/// Conv weights [F][C][KH x KW] (group 1) for qc_k_conv2d_i8_* with nhwc = 1:
/// matmul_i8's B of the taps in (kh, kw, c) order, packMatmulB's corr.
PackedWeights packConvWeightsNhwc(const uint8_t *w, int64_t F, int64_t C,
                                  int64_t KHW, bool wUnsigned,
                                  const int32_t *wZp, size_t nZp,
                                  const int32_t *bias, bool xUnsigned,
                                  int32_t xZp);

/// The narrowest of 8, 4 and 2 bits that holds every packed weight (signed:
/// [-8, 7] for 4, [-2, 1] for 2).
unsigned packedBits(const std::vector<int8_t> &data);

/// Packed int8 weights (a multiple of 8 / bits of them) with `bits` (4 or
/// 2) bits each, two's complement, the first in the lowest bits of a byte.
std::vector<int8_t> packSubByte(const std::vector<int8_t> &data, unsigned bits);

/// Constant B [K][N] (bytes; uint8 when bUnsigned, made signed by XOR
/// 0x80 like packMatmulB) whose signed values are all base + step * u of
/// `f`, packed as bit planes for qc_k_matmul_lut_i8_* (LowBitKernels.cpp's
/// layout), with corr = bias + (off - aZp) (colsum - K zb) for activations
/// that are x + off (off = 128 for uint8, 0 for int8). `bZp` has 1 or N
/// entries, `bias` 0 or N.
PackedWeights packLutWeights(const uint8_t *b, int64_t K, int64_t N,
                             bool bUnsigned, LowBitFormat f,
                             const int32_t *bZp, size_t nZp,
                             const int32_t *bias, bool aUnsigned, int32_t aZp);

/// Weights packed for the binary-activation kernels (qc_k_conv2d_bin_*,
/// qc_k_matmul_bin_*) with their epilogue terms (Kernels.def).
struct BinaryWeights {
  std::vector<uint64_t> planes;
  std::vector<int32_t> corr, tapCorr, xCoef;
  int64_t pStep = 0;
};

/// F filters of C x taps weights (bytes; uint8 when wUnsigned, signed by
/// XOR 0x80), each weight base + step * u of `f`: w[(f C + c) taps + t]
/// for a convolution (ONNX's layout) or, with kMajor, B[c][f] of a matmul
/// [K = C][N = F] (taps = 1). The activations take two levels, lo and lo +
/// d (the values the zero point xZp is subtracted from). `wZp` has 1 or F
/// entries, `bias` 0 or F.
BinaryWeights packBinaryWeights(const uint8_t *w, int64_t F, int64_t C,
                                int64_t taps, bool kMajor, bool wUnsigned,
                                LowBitFormat f, const int32_t *wZp,
                                size_t nZp, const int32_t *bias, int32_t lo,
                                int32_t d, int32_t xZp);

/// Float B [K][N] as blocks of 64 columns, each [K][64] (zero-padded), for
/// qc_k_matmul_f32_avx512.
std::vector<float> packMatmulBF32(const float *b, int64_t K, int64_t N);

/// MX weights for qc_k_matmul_mx_i8 (`bits` 4: E2M1 codes) and
/// qc_k_matmul_mx6_i8 (`bits` 6: E2M3 codes): `codes` the K x N codes (one
/// per byte, row-major), `shifts` [N][K / 32] (-1 drops a block).
/// Weights: per panel of 16 columns and block of 32 k, first 256 bytes of
/// low nibbles: per pair q of 4-k quads 64 bytes, byte 4 c + i holding
/// column c's code of k = 32 b + 8 q + i in its low nibble and of k + 4 in
/// its high one. Vector v = 2 q + h of the block is the 64 nibbles of quad
/// pair q, h the high nibbles. With 6 bits, 128 bytes follow: byte
/// 64 t + 4 c + i holds in bits 2 u, 2 u + 1 the top two bits of the code in
/// lane 4 c + i of vector v = 4 t + u. Shifts: per panel and block, 16
/// bytes (0xFF: dropped, or a padding column).
struct MxPacked {
  std::vector<uint8_t> weights, shifts;
};
MxPacked packMxWeights(const uint8_t *codes, const int8_t *shifts, int64_t K,
                       int64_t N, unsigned bits = 4);

/// FP8 weights for qc_k_matmul_fp8: `values` the [N][K] bf16 bits of each
/// weight. Per panel of 16 columns (the last zero-padded) and pair q of k
/// (K rounded up to even, the padding zero): 32 values, column c's k = 2q
/// at 2c and k = 2q + 1 at 2c + 1.
std::vector<uint16_t> packFp8Bf16(const uint16_t *values, int64_t N, int64_t K);

} // namespace qc::kernels
#endif

#endif // QC_KERNELS_INT8KERNELS_H
