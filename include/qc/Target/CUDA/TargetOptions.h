//===- TargetOptions.h - options of the NVIDIA GPU target -------*- C++ -*-===//
//
// What the cuda code generator is told: the GPU architecture, the form the
// device code is embedded in, and the host CPU of the launching code (the
// host side of a cuda model is a CPU target's code, without kernels).
//
//===----------------------------------------------------------------------===//
#ifndef QC_TARGET_CUDA_TARGETOPTIONS_H
#define QC_TARGET_CUDA_TARGETOPTIONS_H

#include "qc/Support/EnumOptions.h"

#include <string>

namespace qc::cuda {

/// How the device code is embedded in the model.
enum class BinaryFormat {
  Auto,  ///< cubin where ptxas is found (CUDA toolkit), else PTX
  PTX,   ///< PTX text, compiled by the driver when the model loads
  Cubin, ///< a cubin from ptxas (an error without the CUDA toolkit)
};

struct TargetOptions {
  /// The GPU architecture: sm_80, sm_90, sm_90a (--target cuda:sm_90).
  std::string chip = "sm_90";
  BinaryFormat format = BinaryFormat::Auto;
  /// Optimization level of the device code (LLVM's NVPTX back end).
  unsigned optLevel = 3;
  /// Threads per block of the elementwise and loop kernels.
  int64_t blockSize = 256;
  /// The host code's CPU: generic x86-64, since the machine that runs a GPU
  /// model is seldom the one that compiled it.
  std::string hostCPU = "x86-64";
};

/// The CUDA toolkit's ptxas: $CUDA_HOME/bin, /usr/local/cuda/bin or PATH;
/// empty when none is found.
std::string findPtxas();

} // namespace qc::cuda

namespace qc {
template <>
inline llvm::ArrayRef<EnumSpelling<cuda::BinaryFormat>> spellings() {
  static const EnumSpelling<cuda::BinaryFormat> table[] = {
      {cuda::BinaryFormat::Auto, "auto",
       "cubin where the CUDA toolkit's ptxas is found, else PTX"},
      {cuda::BinaryFormat::PTX, "ptx",
       "PTX, compiled by the driver at load time"},
      {cuda::BinaryFormat::Cubin, "cubin", "a cubin made by ptxas"}};
  return table;
}
} // namespace qc

#endif // QC_TARGET_CUDA_TARGETOPTIONS_H
