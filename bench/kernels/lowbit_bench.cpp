//===- lowbit_bench.cpp - the low-bit kernels beside the int8 VNNI kernels ===//
//
// One core, one run: each kernel on the same shapes, median of --repeat
// timed calls after a warm-up, with the ratios the targets name
// (docs/kernels.md, "Low-bit kernels"). Prints a table, or JSON with
// --json.
//
//   qc-lowbit-bench [--repeat N] [--json]
//
//===----------------------------------------------------------------------===//
#include "qc/Kernels/Int8Kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

unsigned repeat = 21;

double median(const std::function<void()> &f) {
  f();
  std::vector<double> t;
  for (unsigned r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - t0)
                    .count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

struct Row {
  std::string shape, kernel;
  double ms;
  double ratio; // against the shape's int8 VNNI time
};
std::vector<Row> rows;

std::vector<uint8_t> randomWeights(std::mt19937 &rng, size_t n, int lo,
                                   int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<uint8_t> v(n);
  for (auto &x : v)
    x = uint8_t(int8_t(d(rng)));
  return v;
}

/// Int8 VNNI, today's unpack path (4 and 2 bits) and the LUT kernel (1-4
/// bits) on M x K x N with requantized int8 output.
void matmulShapes(int64_t M, int64_t K, int64_t N) {
  std::mt19937 rng(1);
  std::vector<uint8_t> a(size_t(M * K));
  for (auto &v : a)
    v = uint8_t(rng());
  std::vector<int32_t> mult(size_t(N), 1 << 30), shift(size_t(N), 40);
  std::vector<int8_t> out(size_t(M * N));
  int32_t zp = 0;
  std::string shape = "M=" + std::to_string(M) + " K=" + std::to_string(K) +
                      " N=" + std::to_string(N);
  double int8 = 0;
  auto vnni = [&](unsigned bits) {
    int half = 1 << (bits - 1);
    auto b = randomWeights(rng, size_t(K * N), -half, half - 1);
    auto p = qc::kernels::packMatmulB(b.data(), K, N, false, &zp, 1, nullptr,
                                      true, 0);
    auto stored = bits == 8 ? p.data : qc::kernels::packSubByte(p.data, bits);
    return median([&] {
      qc_k_matmul_i8_vnni(1, M, N, K, a.data(), 0, 0,
                          reinterpret_cast<const uint8_t *>(stored.data()), 0,
                          bits, 0, 0, p.corr.data(), p.zw.data(), 0,
                          mult.data(), shift.data(), 0, 0, -128, 127, 1,
                          out.data(), 0, 1);
    });
  };
  int8 = vnni(8);
  rows.push_back({shape, "int8 vnni", int8 * 1e3, 1.0});
  for (unsigned bits : {4u, 2u}) {
    double t = vnni(bits);
    rows.push_back({shape, "W" + std::to_string(bits) + " unpack (vnni)",
                    t * 1e3, int8 / t});
  }
  for (unsigned bits : {4u, 3u, 2u, 1u}) {
    int half = 1 << (bits - 1);
    auto b = randomWeights(rng, size_t(K * N), -half, half - 1);
    qc::kernels::LowBitFormat f = qc::kernels::lowBitFormat(
        reinterpret_cast<const int8_t *>(b.data()), b.size());
    auto p = qc::kernels::packLutWeights(b.data(), K, N, false, f, &zp, 1,
                                         nullptr, true, 0);
    double t = median([&] {
      qc_k_matmul_lut_i8_vbmi(M, N, K, a.data(), 0x80,
                              reinterpret_cast<const uint8_t *>(p.data.data()),
                              f.bits, f.step, f.base, p.corr.data(),
                              p.zw.data(), 0, mult.data(), shift.data(), 0, 0,
                              -128, 127, 1, out.data(), 0, 1);
    });
    rows.push_back(
        {shape, "W" + std::to_string(bits) + " lut (vbmi)", t * 1e3, int8 / t});
  }
}

} // namespace

int main(int argc, char **argv) {
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json"))
      json = true;
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
      repeat = unsigned(std::max(1, atoi(argv[++i])));
    else {
      fprintf(stderr, "qc-lowbit-bench: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (!__builtin_cpu_supports("avx512vnni") ||
      !__builtin_cpu_supports("avx512vbmi") ||
      !__builtin_cpu_supports("avx512vpopcntdq")) {
    fprintf(stderr, "qc-lowbit-bench: needs AVX-512 VNNI, VBMI and VPOPCNTDQ\n");
    return 1;
  }
  matmulShapes(1, 4096, 4096);
  matmulShapes(128, 4096, 4096);
  if (json) {
    printf("{\"threads\": 1, \"repeat\": %u, \"rows\": [\n", repeat);
    for (size_t i = 0; i < rows.size(); ++i)
      printf("  {\"shape\": \"%s\", \"kernel\": \"%s\", \"ms\": %.4f, "
             "\"speedup_vs_int8\": %.3f}%s\n",
             rows[i].shape.c_str(), rows[i].kernel.c_str(), rows[i].ms,
             rows[i].ratio, i + 1 < rows.size() ? "," : "");
    printf("]}\n");
  } else {
    printf("%-24s %-22s %10s %10s\n", "shape", "kernel", "ms", "vs int8");
    for (const Row &r : rows)
      printf("%-24s %-22s %10.4f %9.2fx\n", r.shape.c_str(), r.kernel.c_str(),
             r.ms, r.ratio);
  }
  return 0;
}
