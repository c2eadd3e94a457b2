//===- fuzz_tensors.cpp - libFuzzer target: quant-run's tensor readers ----===//
//
// The first byte picks the reader (modulo 3 - 0: .npy, 1: .npz, with its zip
// directory and deflate, 2: an ONNX TensorProto .pb); the rest is the file.
// Errors are the expected answer; a crash or sanitizer report is a finding.
//
//===----------------------------------------------------------------------===//
#include "qc/Runtime/HostTensor.h"
#include "qc/Target/ONNX/Import.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data) + 1, size - 1);
  if (data[0] % 3 == 0) {
    if (auto t = qc::parseNpy(bytes, "fuzz.npy"); !t)
      llvm::consumeError(t.takeError());
  } else if (data[0] % 3 == 1) {
    if (auto ts = qc::parseNpz(bytes, "fuzz.npz"); !ts)
      llvm::consumeError(ts.takeError());
  } else {
    qc::ONNXTensorFile file;
    std::string error;
    (void)qc::parseONNXTensor(bytes, "fuzz.pb", file, error);
  }
  return 0;
}
