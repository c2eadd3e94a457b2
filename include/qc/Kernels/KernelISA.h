//===- KernelISA.h - the instruction sets the microkernels exist for -*- C++
//-*-===//
//
// Which compiled variant of the microkernels (Kernels.def) a model calls:
// qc-lower-to-microkernels' typed options, and what the CPU target resolves
// its Auto choices to for a given CPU (qc::cpu::resolveKernels).
//
//===----------------------------------------------------------------------===//
#ifndef QC_KERNELS_KERNELISA_H
#define QC_KERNELS_KERNELISA_H

#include "qc/Support/EnumOptions.h"

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

/// How qc.matmul_int ops whose weights are #qc.lowbit are computed.
enum class LowBitMethod {
  Auto,     ///< lut or unpack per layer, whichever is faster (timed)
  LUT,      ///< table lookup over the weights' bit planes (T-MAC)
  Popcount, ///< AND + popcount over bit planes (binary activations)
  Unpack,   ///< the weights expanded to int8 for the int8 kernels
};

/// The entry-point suffix of a variant ("generic", "vnni", "avx512"); null
/// for None.
const char *variantSuffix(Int8ISA isa);
const char *variantSuffix(F32ISA isa);

} // namespace qc::kernels

namespace qc {
// The spellings of the pass and pipeline options (qc::clValues).
template <>
inline llvm::ArrayRef<EnumSpelling<kernels::Int8ISA>> spellings() {
  static const EnumSpelling<kernels::Int8ISA> table[] = {
      {kernels::Int8ISA::VNNI, "vnni", "AVX-512 VNNI"},
      {kernels::Int8ISA::Generic, "generic", "portable (any x86-64)"},
      {kernels::Int8ISA::None, "none", "no int8 kernel calls"}};
  return table;
}
template <>
inline llvm::ArrayRef<EnumSpelling<kernels::F32ISA>> spellings() {
  static const EnumSpelling<kernels::F32ISA> table[] = {
      {kernels::F32ISA::AVX512, "avx512", "AVX-512F"},
      {kernels::F32ISA::None, "none", "no float kernel calls"}};
  return table;
}
template <>
inline llvm::ArrayRef<EnumSpelling<kernels::LowBitMethod>> spellings() {
  static const EnumSpelling<kernels::LowBitMethod> table[] = {
      {kernels::LowBitMethod::Auto, "auto",
       "per layer, lut or unpack, whichever this machine runs faster"},
      {kernels::LowBitMethod::LUT, "lut",
       "table lookup over the weights' bit planes"},
      {kernels::LowBitMethod::Popcount, "popcount",
       "AND + popcount over bit planes (binary activations)"},
      {kernels::LowBitMethod::Unpack, "unpack",
       "weights expanded to int8 for the int8 kernels"}};
  return table;
}
} // namespace qc

inline const char *qc::kernels::variantSuffix(Int8ISA isa) {
  return isa == Int8ISA::None ? nullptr : stringify(isa).data();
}
inline const char *qc::kernels::variantSuffix(F32ISA isa) {
  return isa == F32ISA::None ? nullptr : stringify(isa).data();
}

#endif // QC_KERNELS_KERNELISA_H
