//===- Latency.cpp - per-layer latency of each weight format, measured
//-----===//
//
// The latency table of the bit-width integer program: every layer's product
// timed with the int8 kernel the compiled model calls, its weights stored as
// the compiler stores them for each format (int8 panels, or the same panels
// with 4 or 2 bits per weight, expanded in the kernel).
//
//===----------------------------------------------------------------------===//
#include "qc/Kernels/Int8Kernels.h"
#include "qc/Quantization/BitWidths.h"

#include <algorithm>
#include <chrono>
#include <random>

using namespace qc;

namespace {

/// The storage width of a format: 3-bit weights take 4-bit fields.
unsigned storageBits(unsigned bits) { return bits > 4 ? 8 : bits > 2 ? 4 : 2; }

double timeGemm(int64_t M, int64_t K, int64_t N, unsigned bits,
                unsigned repeats, bool vnni) {
  std::mt19937 rng(7);
  int half = 1 << (bits - 1);
  std::uniform_int_distribution<int> wd(-half, half - 1), ad(0, 255);
  std::vector<uint8_t> a(size_t(M * K)), b(size_t(K * N));
  for (auto &v : a)
    v = uint8_t(ad(rng));
  for (auto &v : b)
    v = uint8_t(int8_t(wd(rng)));
  int32_t zp = 0;
  qc::kernels::PackedWeights p = qc::kernels::packMatmulB(
      b.data(), K, N, /*bUnsigned=*/false, &zp, 1, nullptr,
      /*aUnsigned=*/true, 0);
  std::vector<int8_t> stored =
      bits == 8 ? p.data : qc::kernels::packSubByte(p.data, bits);
  std::vector<int32_t> mult(size_t(N), 1 << 30), shift(size_t(N), 40);
  std::vector<int8_t> out(size_t(M * N));
  auto run = [&] {
    auto fn = vnni ? qc_k_matmul_i8_vnni : qc_k_matmul_i8_generic;
    fn(1, M, N, K, a.data(), 0, 0,
       reinterpret_cast<const uint8_t *>(stored.data()), 0, bits, 0, 0,
       p.corr.data(), p.zw.data(), 0, mult.data(), shift.data(), 0, 0, -128,
       127, 1, out.data(), 0, 1);
  };
  run(); // warm
  std::vector<double> t;
  for (unsigned r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    run();
    t.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

} // namespace

void qc::measureLatency(SensitivityTable &t, unsigned repeats) {
  bool vnni = __builtin_cpu_supports("avx512vnni") &&
              __builtin_cpu_supports("avx512bw");
  t.latency.assign(t.layers.size(),
                   std::vector<double>(t.weightBits.size(), 0.0));
  for (auto [l, info] : llvm::enumerate(t.layers)) {
    int64_t N = std::max<int64_t>(1, info.channels);
    int64_t K = std::max<int64_t>(1, info.params / N);
    int64_t M =
        std::max<int64_t>(1, info.macs / std::max<int64_t>(1, info.params));
    for (auto [j, bits] : llvm::enumerate(t.weightBits))
      t.latency[l][j] =
          timeGemm(M, K, N, storageBits(bits), std::max(1u, repeats), vnni);
  }
}
