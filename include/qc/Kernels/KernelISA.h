//===- KernelISA.h - the instruction sets the microkernels exist for -*- C++ -*-===//
//
// Which compiled variant of the microkernels (Kernels.def) a model calls:
// qc-lower-to-microkernels' typed options, and what the CPU target resolves
// its Auto choices to for a given CPU (qc::cpu::resolveKernels).
//
//===----------------------------------------------------------------------===//
#ifndef QC_KERNELS_KERNELISA_H
#define QC_KERNELS_KERNELISA_H

namespace qc::kernels {

/// The int8 kernels (qc.conv_int, qc.matmul_int, qc.matmul_group_scaled).
enum class Int8ISA {
  None,    ///< no kernel calls: the linalg lowering
  Generic, ///< portable C++ (any x86-64): qc_k_*_i8_generic
  VNNI,    ///< AVX-512 VNNI: qc_k_*_i8_vnni
};

/// The float kernels (2-d convolution, matmul, Hadamard transform).
enum class F32ISA {
  None,   ///< no kernel calls: the linalg lowering
  AVX512, ///< AVX-512F: qc_k_*_f32_avx512
};

/// The entry-point suffix of a variant ("generic", "vnni", "avx512"); null
/// for None.
inline const char *variantSuffix(Int8ISA isa) {
  return isa == Int8ISA::VNNI ? "vnni" : isa == Int8ISA::Generic ? "generic" : nullptr;
}
inline const char *variantSuffix(F32ISA isa) {
  return isa == F32ISA::AVX512 ? "avx512" : nullptr;
}

} // namespace qc::kernels

#endif // QC_KERNELS_KERNELISA_H
