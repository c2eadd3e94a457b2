//===- Timing.h - the microkernels timed on this machine ----------*- C++ -*-===//
//
// One product timed with the kernel a compiled model would call, on the
// host: the latency table of the bit-width integer program
// (qc::measureLatency) and qc-lower-to-microkernels' lowbit-kernels=auto
// choice between the int8 and the low-bit kernels of a layer. One thread,
// the median of `repeats` calls after a warm-up.
//
//===----------------------------------------------------------------------===//
#ifndef QC_KERNELS_TIMING_H
#define QC_KERNELS_TIMING_H

#include "qc/Kernels/Int8Kernels.h"

#include <functional>
#include <optional>

namespace qc::kernels {

/// The median seconds of `repeats` calls of f after one warm-up call;
/// repeats = 0: as many calls as fit in about 4 ms (5 to 200), so that
/// short kernels are timed over warm caches and allocator, not a handful of
/// cold calls.
double medianSeconds(const std::function<void()> &f, unsigned repeats);

/// Seconds per run of what a 16-bit input adds to a product besides its
/// second int8 product: splitting the int16 input (`inputs` elements) into
/// two byte tensors, and combining the two int32 results (`outputs`
/// elements, `channels` of them per row) with the int64 bias and
/// requantizing them (the passes qc-lower-to-microkernels' split makes),
/// as loops over buffers of those sizes.
double timeWideSplitPasses(int64_t inputs, int64_t outputs, int64_t channels,
                           unsigned repeats);

/// Whether this host runs the AVX-512 int8 (VNNI) and low-bit (VNNI + VBMI)
/// kernels.
bool hostHasVnni();
bool hostHasVbmi();

/// Seconds per call of qc_k_matmul_i8 on M x K x N (requantized output)
/// with B packed by packMatmulB (`p`), stored with `storedBits` (8, 4 or 2)
/// bits per weight as the compiler stores it (`stored`).
double timeMatmulI8(int64_t M, int64_t K, int64_t N, const PackedWeights &p,
                    const std::vector<int8_t> &stored, unsigned storedBits,
                    bool vnni, unsigned repeats);

/// Seconds per call of qc_k_matmul_lut_i8 with B packed by packLutWeights.
double timeMatmulLut(int64_t M, int64_t K, int64_t N, const PackedWeights &p,
                     LowBitFormat f, bool vbmi, unsigned repeats);

/// The same on random weights of `bits` bits (signed, all levels): the int8
/// kernel on the storage the compiler picks (3 bits take 4), and the
/// low-bit kernel (bits <= 4; none on a host without VBMI).
double timeRandomMatmulI8(int64_t M, int64_t K, int64_t N, unsigned bits,
                          bool vnni, unsigned repeats);
std::optional<double> timeRandomMatmulLut(int64_t M, int64_t K, int64_t N,
                                          unsigned bits, unsigned repeats);

/// Seconds per call of qc_k_matmul_mx_i8 (`bits` 4: MXFP4 weights) or
/// qc_k_matmul_mx6_i8 (6: MXFP6 E2M3), K % 32 == 0, on random codes and
/// shifts.
double timeRandomMatmulMx(int64_t M, int64_t K, int64_t N, bool vnni,
                          unsigned repeats, unsigned bits = 4);
/// Seconds of the generic minifloat path: K x N codes of `bits` bits
/// decoded through a table into floats (as qc.block_dequantize's loops do),
/// then the float matmul kernel (AVX-512; a plain loop without it).
double timeRandomDecodedMatmulF32(int64_t M, int64_t K, int64_t N,
                                  unsigned bits, unsigned repeats);

} // namespace qc::kernels

#endif // QC_KERNELS_TIMING_H
