//===- fuzz_tensors.cpp - libFuzzer target: the .npy / .npz readers -------===//
//
// The first byte picks the reader (even: .npy, odd: .npz, with its zip
// directory and deflate); the rest is the file. Errors are the expected
// answer; a crash or sanitizer report is a finding.
//
//===----------------------------------------------------------------------===//
#include "qc/Runtime/HostTensor.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    if (auto t = qc::parseNpy(bytes, "fuzz.npy"); !t)
      llvm::consumeError(t.takeError());
  } else if (auto ts = qc::parseNpz(bytes, "fuzz.npz"); !ts) {
    llvm::consumeError(ts.takeError());
  }
  return 0;
}
