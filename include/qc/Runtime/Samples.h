//===- Samples.h - model inputs from files, outputs against references -*- C++
//-*-===//
//
// What the tools read and compare: sample sets (calibration data, quant-run
// --samples) and the agreement of outputs with reference outputs (the
// quality report, quant-run --reference-outputs).
//
//===----------------------------------------------------------------------===//
#ifndef QC_RUNTIME_SAMPLES_H
#define QC_RUNTIME_SAMPLES_H

#include "qc/Runtime/HostTensor.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include <vector>

namespace qc {

/// One model input set, in the order of the graph's inputs.
using Sample = std::vector<HostTensor>;

/// Reads calibration samples for a graph with these inputs: a directory of
/// .npz files (keys: input names), of .npy files (single-input models), or of
/// ONNX backend test sets (test_data_set_*/input_*.pb); or one .npz whose
/// arrays stack samples along a leading dim. Files in name order; at most
/// `limit` samples (0: all).
llvm::Expected<std::vector<Sample>>
readSamples(llvm::StringRef path, llvm::ArrayRef<TensorSpec> inputs,
            size_t limit = 0);

/// Agreement of a quantized tensor with its float reference.
struct Agreement {
  double sqnrDb = 0; // 10 log10(sum f^2 / sum (f - q)^2)
  double cosine = 0;
  double top1 = 0; // fraction of rows (last dim) with the same argmax
  void add(const HostTensor &ref, const HostTensor &got);
  void finish();
  double signal = 0, noise = 0, dot = 0, refNorm = 0, gotNorm = 0;
  int64_t rows = 0, agree = 0;
};

} // namespace qc

#endif // QC_RUNTIME_SAMPLES_H
