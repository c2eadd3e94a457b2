//===- TargetOptions.h - options of the x86 CPU target ----------*- C++ -*-===//
//
// What the CPU code generator is told: the CPU, the optimization level, the
// threads and which microkernels may be called. The tools bind these to the
// command line once (qc/Tools/ToolOptions.h); the library never sees a flag.
//
//===----------------------------------------------------------------------===//
#ifndef QC_TARGET_CPU_TARGETOPTIONS_H
#define QC_TARGET_CPU_TARGETOPTIONS_H

#include "qc/Kernels/KernelISA.h"
#include "qc/Support/EnumOptions.h"

#include <string>

namespace qc::cpu {

/// The kernels qc.conv_int / qc.matmul_int / qc.matmul_group_scaled call.
enum class Int8Kernels {
  Auto,    ///< vnni where the target CPU has AVX-512 VNNI, else generic
  VNNI,    ///< AVX-512 VNNI (an error on a CPU without it)
  Generic, ///< portable C++ kernels
  None,    ///< no kernel calls: linalg loops
};

/// The kernels float 2-d convolutions, matmuls, Hadamard transforms and
/// last-axis softmaxes call.
enum class F32Kernels {
  Auto,   ///< avx512 where the target CPU has AVX-512F, else none
  AVX512, ///< AVX-512F (an error on a CPU without it)
  None,   ///< linalg code generation
};

struct TargetOptions {
  /// "native" (the host, with its features) or an LLVM CPU name such as
  /// "x86-64-v4" or "sapphirerapids".
  std::string cpu = "native";
  unsigned optLevel = 3;
  /// Threads the model runs on (OpenMP worksharing when above 1).
  unsigned threads = 1;
  Int8Kernels int8Kernels = Int8Kernels::Auto;
  F32Kernels f32Kernels = F32Kernels::Auto;
  /// Products of 1-4 bit (#qc.lowbit) weights, with the int8 kernels.
  kernels::LowBitMethod lowbitKernels = kernels::LowBitMethod::Auto;
  /// Remarks on each low-bit product's kernel and why (quant-compile
  /// --report; always with --lowbit-kernels popcount).
  bool reportChoices = false;
  /// Chains of int8 convolutions run channels-last (channels-last-convs).
  bool channelsLast = true;
  /// Residual adds fused into channels-last conv epilogues (off: slower as
  /// measured, docs/kernels.md).
  bool residualAdds = false;
  /// Intermediate buffers in one arena per function, by liveness
  /// (qc-plan-buffers).
  bool planBuffers = true;
};

} // namespace qc::cpu

namespace qc {
template <>
inline llvm::ArrayRef<EnumSpelling<cpu::Int8Kernels>> spellings() {
  static const EnumSpelling<cpu::Int8Kernels> table[] = {
      {cpu::Int8Kernels::Auto, "auto",
       "AVX-512 VNNI where the target CPU has it, else generic"},
      {cpu::Int8Kernels::VNNI, "vnni", "AVX-512 VNNI"},
      {cpu::Int8Kernels::Generic, "generic", "portable kernels"},
      {cpu::Int8Kernels::None, "none", "no kernel calls: linalg loops"}};
  return table;
}
template <>
inline llvm::ArrayRef<EnumSpelling<cpu::F32Kernels>> spellings() {
  static const EnumSpelling<cpu::F32Kernels> table[] = {
      {cpu::F32Kernels::Auto, "auto",
       "AVX-512 where the target CPU has it, else none"},
      {cpu::F32Kernels::AVX512, "avx512", "AVX-512F"},
      {cpu::F32Kernels::None, "none", "linalg code generation"}};
  return table;
}
} // namespace qc

#endif // QC_TARGET_CPU_TARGETOPTIONS_H
