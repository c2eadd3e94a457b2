//===- Latency.cpp - per-layer latency of each weight format, measured ----===//
//
// The latency table of the bit-width integer program: every layer's product
// timed with each kernel a compiled model can call for a weight format (the
// int8 kernel on int8 panels, or on the same panels with 4 or 2 bits per
// weight expanded in the kernel; for 1-4 bits also the table-lookup kernel
// on bit planes), the fastest counting, as qc-lower-to-microkernels'
// lowbit-kernels=auto picks it; MXFP4 and MXFP6 E2M3 on the MX kernels, other
// minifloats as their decode and a float product.
//
//===----------------------------------------------------------------------===//
#include "qc/Kernels/Timing.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"
#include "qc/Quantization/BitWidths.h"

#include <algorithm>

using namespace qc;

void qc::measureLatency(SensitivityTable &t, unsigned repeats) {
  bool vnni = qc::kernels::hostHasVnni();
  t.latency.assign(t.layers.size(),
                   std::vector<double>(t.weightBits.size(), 0.0));
  for (auto [l, info] : llvm::enumerate(t.layers)) {
    int64_t N = std::max<int64_t>(1, info.channels);
    int64_t K = std::max<int64_t>(1, info.params / N);
    int64_t M =
        std::max<int64_t>(1, info.macs / std::max<int64_t>(1, info.params));
    for (auto [j, bits] : llvm::enumerate(t.weightBits)) {
      unsigned r = repeats; // 0: as many runs as fit in a few ms
      WeightFormat f = weightFormatOf(t, j);
      if (f != WeightFormat::Int) {
        // MXFP4 and MXFP6 E2M3 products of a matmul with K % 32 == 0 run
        // on the MX kernels; every other minifloat weight is decoded, then
        // a float product.
        bool mx = f == WeightFormat::MXFP4 || f == WeightFormat::MXFP6E2M3;
        t.latency[l][j] =
            mx && !info.conv && K % 32 == 0
                ? qc::kernels::timeRandomMatmulMx(
                      M, K, N, vnni, r, f == WeightFormat::MXFP4 ? 4 : 6)
                : qc::kernels::timeRandomDecodedMatmulF32(
                      M, K, N, formatBits(bits, f), r);
        continue;
      }
      double s = qc::kernels::timeRandomMatmulI8(M, K, N, bits, vnni, r);
      if (!info.conv)
        if (std::optional<double> lut =
                qc::kernels::timeRandomMatmulLut(M, K, N, bits, r))
          s = std::min(s, *lut);
      t.latency[l][j] = s;
    }
  }
  // 16-bit inputs: two int8 products (8-bit weights) and the passes around
  // them.
  auto w8 = llvm::find(t.weightBits, 8u);
  bool wide = hasWideActivations(t.activationBits);
  t.latencyWide.clear();
  if (!wide || w8 == t.weightBits.end())
    return;
  for (auto [l, info] : llvm::enumerate(t.layers)) {
    int64_t N = std::max<int64_t>(1, info.channels);
    int64_t M =
        std::max<int64_t>(1, info.macs / std::max<int64_t>(1, info.params));
    int64_t outputs = info.outputs ? info.outputs : M * N;
    int64_t inputs = info.inputs ? info.inputs : M * (info.params / N);
    t.latencyWide.push_back(
        2 * t.latency[l][w8 - t.weightBits.begin()] +
        qc::kernels::timeWideSplitPasses(inputs, outputs, N, repeats));
  }
}
