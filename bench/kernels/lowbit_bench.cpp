//===- lowbit_bench.cpp - the low-bit kernels beside the int8 VNNI kernels ===//
//
// One core, one run: each kernel (int8, the W4/W2 unpack and LUT paths,
// MXFP4, MXFP6 E2M3, FP8 through bf16 pairs where the CPU has AVX512-BF16) on
// the same shapes, median of --repeat timed calls after a warm-up, with the
// ratios the targets name (docs/kernels.md, "Low-bit kernels"). Prints
// a table, or JSON with
// --json.
//
//   qc-lowbit-bench [--repeat N] [--json | --markdown]
//
//===----------------------------------------------------------------------===//
#include "qc/Kernels/Int8Kernels.h"
#include "qc/Kernels/Timing.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

unsigned repeat = 21;

double median(const std::function<void()> &f) {
  return qc::kernels::medianSeconds(f, repeat);
}

struct Row {
  std::string shape, kernel;
  double ms;
  double ratio; // against the shape's int8 VNNI time (binary matmul: of the
                // AND + popcount peak)
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
                          nullptr, 0, out.data(), 0, 1);
    });
  };
  int8 = vnni(8);
  rows.push_back({shape, "int8 vnni", int8 * 1e3, 1.0});
  for (unsigned bits : {4u, 2u}) {
    double t = vnni(bits);
    rows.push_back({shape, "W" + std::to_string(bits) + " unpack (vnni)",
                    t * 1e3, int8 / t});
  }
  for (unsigned bits : {4u, 6u}) {
    // MXFP4 (E2M1 codes) and MXFP6 E2M3, blocks of 32 with their shifts:
    // int64 outputs.
    std::uniform_int_distribution<int> code(0, (1 << bits) - 1), sh(0, 3);
    std::vector<uint8_t> codes(size_t(K * N));
    for (auto &c : codes)
      c = uint8_t(code(rng));
    std::vector<int8_t> shifts(size_t(N * (K / 32)));
    for (auto &s : shifts)
      s = int8_t(sh(rng));
    qc::kernels::MxPacked p =
        qc::kernels::packMxWeights(codes.data(), shifts.data(), K, N, bits);
    std::vector<int64_t> corr(size_t(N), 0), acc(size_t(M * N));
    auto *kernel = bits == 6 ? qc_k_matmul_mx6_i8_vnni : qc_k_matmul_mx_i8_vnni;
    double t = median([&] {
      kernel(M, N, K, a.data(), 0, p.weights.data(), p.shifts.data(),
             corr.data(), acc.data(), 0, 1);
    });
    rows.push_back({shape, bits == 6 ? "MXFP6 E2M3 (vnni)" : "MXFP4 (vnni)",
                    t * 1e3, int8 / t});
  }
  if (__builtin_cpu_supports("avx512bf16")) {
    // FP8 E4M3 x E4M3 (qc.matmul_fp8): the weights as bf16 pairs, f32
    // outputs; codes of magnitude below 0x78 (no NaN).
    std::uniform_int_distribution<int> code(0, 0x77), sign(0, 1);
    std::vector<uint16_t> values(size_t(K * N)), table(256);
    for (int c = 0; c < 256; ++c) {
      int e = (c >> 3) & 15, m = c & 7;
      float v =
          e ? std::ldexp(1.0f + m / 8.0f, e - 7) : std::ldexp(m / 8.0f, -6);
      v = c & 0x80 ? -v : v;
      uint32_t w;
      std::memcpy(&w, &v, 4);
      table[size_t(c)] = uint16_t(w >> 16);
    }
    for (auto &v : values)
      v = table[size_t(code(rng) | (sign(rng) << 7))];
    std::vector<uint8_t> codes(size_t(M * K));
    for (auto &c : codes)
      c = uint8_t(code(rng) | (sign(rng) << 7));
    std::vector<uint16_t> packed =
        qc::kernels::packFp8Bf16(values.data(), N, K);
    std::vector<float> y(size_t(M * N));
    double t = median([&] {
      qc_k_matmul_fp8_bf16(M, N, K, codes.data(), table.data(), packed.data(),
                           y.data(), 0, 1);
    });
    rows.push_back({shape, "FP8 E4M3 x E4M3 (bf16 dot)", t * 1e3, int8 / t});
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

/// Int8 VNNI convolution and the binary-activation (AND + popcount)
/// convolution, binary and ternary weights, on C -> C channels, 3x3, pad 1.
void convShapes(int64_t C, int64_t HW) {
  std::mt19937 rng(2);
  int64_t F = C, taps = 9, K = C * taps;
  std::string shape = "conv " + std::to_string(C) + "ch " + std::to_string(HW) +
                      "x" + std::to_string(HW) + " 3x3";
  std::vector<uint8_t> x(size_t(C * HW * HW));
  for (auto &v : x)
    v = rng() & 1 ? 1 : 0xFF; // int8 levels -1, +1
  std::vector<int32_t> mult(size_t(F), 1 << 30), shift(size_t(F), 40);
  std::vector<int8_t> out(size_t(F * HW * HW));
  int32_t zp = 0;
  auto w8 = randomWeights(rng, size_t(F * K), -128, 127);
  auto p8 = qc::kernels::packConvWeights(w8.data(), F, K, false, &zp, 1,
                                         nullptr, false, 0);
  double int8 = median([&] {
    qc_k_conv2d_i8_vnni(1, C, HW, HW, F, 3, 3, HW, HW, 1, 1, 1, 1, 1, 1, 1, /*nhwc=*/0,
                        x.data(), 0x80, 0,
                        reinterpret_cast<const uint8_t *>(p8.data.data()), 8,
                        p8.corr.data(), p8.zw.data(), 0, mult.data(),
                        shift.data(), 0, 0, -128, 127, 1, nullptr, 0, nullptr, nullptr, out.data(), 0,
                        1);
  });
  rows.push_back({shape, "int8 vnni", int8 * 1e3, 1.0});
  for (int levels : {2, 3}) {
    auto w = randomWeights(rng, size_t(F * K), -1, 1);
    if (levels == 2)
      for (auto &v : w)
        v = v == 0 ? 1 : v;
    auto f = qc::kernels::lowBitFormat(reinterpret_cast<const int8_t *>(w.data()),
                                       w.size());
    auto p = qc::kernels::packBinaryWeights(w.data(), F, C, taps, false, false,
                                            f, &zp, 1, nullptr, -1, 2, 0);
    double t = median([&] {
      qc_k_conv2d_bin_vpopcnt(1, C, HW, HW, F, 3, 3, HW, HW, 1, 1, 1, 1, 1, 1,
                              x.data(), 0, 1, p.planes.data(), f.bits, p.pStep,
                              p.xCoef.data(), p.tapCorr.data(), p.corr.data(),
                              nullptr, 0, mult.data(), shift.data(), 0, 0, -128,
                              127, 1, out.data(), 0, 1);
    });
    rows.push_back({shape,
                    levels == 2 ? "binary popcount" : "ternary-w popcount",
                    t * 1e3, int8 / t});
  }
}

__attribute__((target("avx512f,avx512vpopcntdq"))) double andPopcountPeak() {
  // vpandq + vpopcntq + vpaddq triples over 256 words in L1 (loaded, as in
  // a kernel) into 8 accumulators: binary multiply-accumulates (512 a
  // triple) per second, best of 5. (A loop whose AND reads its own
  // accumulator measures the triple's latency instead, 25% lower here.)
  alignas(64) static uint64_t words[256 * 8];
  for (int i = 0; i < 256 * 8; ++i)
    words[i] = 0x0123456789ABCDEFull * uint64_t(i + 1);
  __m512i a = _mm512_set1_epi64(0x5555AAAA), acc[8];
  for (auto &v : acc)
    v = _mm512_setzero_si512();
  const long iters = 20000;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iters; ++i) {
      for (int j = 0; j < 256; j += 8)
        for (int q = 0; q < 8; ++q)
          acc[q] = _mm512_add_epi64(
              acc[q], _mm512_popcnt_epi64(_mm512_and_si512(
                          _mm512_load_si512(words + (j + q) * 8), a)));
      __asm__ volatile("" : "+v"(a));
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             t0)
                   .count();
    best = std::max(best, double(iters) * 256 * 512 / s);
  }
  __m512i sum = acc[0];
  for (int j = 1; j < 8; ++j)
    sum = _mm512_add_epi64(sum, acc[j]);
  volatile long long sink = _mm512_reduce_add_epi64(sum);
  (void)sink;
  return best;
}

/// The same AND stream summed by Harley-Seal carry-save adders (vpternlogq
/// full adders over 16 words, one popcount per 16): fewer popcounts, more
/// logic. Binary multiply-accumulates per second over 256 words in L1.
__attribute__((target("avx512f"))) inline void
csa(__m512i &h, __m512i &l, __m512i a, __m512i b, __m512i c) {
  l = _mm512_ternarylogic_epi64(a, b, c, 0x96); // a ^ b ^ c
  h = _mm512_ternarylogic_epi64(a, b, c, 0xE8); // majority
}

__attribute__((target("avx512f,avx512vpopcntdq"))) double harleySealPeak() {
  alignas(64) static uint64_t words[256 * 8];
  for (int i = 0; i < 256 * 8; ++i)
    words[i] = 0x0123456789ABCDEFull * uint64_t(i + 1);
  __m512i a = _mm512_set1_epi64(0x5555AAAA), zero = _mm512_setzero_si512();
  __m512i total = zero, ones = zero, twos = zero, fours = zero, eights = zero;
  const long iters = 20000;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iters; ++i) {
      for (int j = 0; j < 256; j += 16) {
#define x(k) _mm512_and_si512(_mm512_load_si512(words + (j + (k)) * 8), a)
        __m512i tA, tB, fA, fB, eA, eB, sixteens;
        csa(tA, ones, ones, x(0), x(1));
        csa(tB, ones, ones, x(2), x(3));
        csa(fA, twos, twos, tA, tB);
        csa(tA, ones, ones, x(4), x(5));
        csa(tB, ones, ones, x(6), x(7));
        csa(fB, twos, twos, tA, tB);
        csa(eA, fours, fours, fA, fB);
        csa(tA, ones, ones, x(8), x(9));
        csa(tB, ones, ones, x(10), x(11));
        csa(fA, twos, twos, tA, tB);
        csa(tA, ones, ones, x(12), x(13));
        csa(tB, ones, ones, x(14), x(15));
        csa(fB, twos, twos, tA, tB);
        csa(eB, fours, fours, fA, fB);
        csa(sixteens, eights, eights, eA, eB);
        total = _mm512_add_epi64(total, _mm512_popcnt_epi64(sixteens));
#undef x
      }
      __asm__ volatile("" : "+v"(a));
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             t0)
                   .count();
    best = std::max(best, double(iters) * 256 * 512 / s);
  }
  volatile long long sink =
      _mm512_reduce_add_epi64(total) + _mm512_reduce_add_epi64(ones) +
      _mm512_reduce_add_epi64(twos) + _mm512_reduce_add_epi64(fours) +
      _mm512_reduce_add_epi64(eights);
  (void)sink;
  return best;
}

/// Binary matmul (binary weights and activations) against the peak.
void binaryMatmul(int64_t M, int64_t K, int64_t N, double peak) {
  std::mt19937 rng(3);
  std::vector<uint8_t> a(size_t(M * K));
  for (auto &v : a)
    v = rng() & 1 ? 1 : 0xFF;
  auto w = randomWeights(rng, size_t(K * N), 0, 1);
  for (auto &v : w)
    v = v ? 1 : 0xFF;
  auto f = qc::kernels::lowBitFormat(reinterpret_cast<const int8_t *>(w.data()),
                                     w.size());
  int32_t zp = 0;
  auto p = qc::kernels::packBinaryWeights(w.data(), N, K, 1, true, false, f,
                                          &zp, 1, nullptr, -1, 2, 0);
  std::vector<int32_t> out(size_t(M * N));
  double t = median([&] {
    qc_k_matmul_bin_vpopcnt(M, N, K, a.data(), 0, 1, p.planes.data(), 1,
                            p.pStep, p.xCoef.data(), p.corr.data(), nullptr, 0,
                            nullptr, nullptr, 0, 0, 0, 0, 0, out.data(), 0, 1);
  });
  double rate = double(M) * K * N / t;
  std::string shape = "binary M=" + std::to_string(M) + " K=" +
                      std::to_string(K) + " N=" + std::to_string(N);
  rows.push_back({shape, "AND+popcount peak", double(M) * K * N / peak * 1e3,
                  1.0});
  double hs = harleySealPeak();
  rows.push_back({shape, "AND+Harley-Seal peak", double(M) * K * N / hs * 1e3,
                  hs / peak});
  rows.push_back({shape, "binary popcount", t * 1e3, rate / peak});
}

} // namespace

int main(int argc, char **argv) {
  bool json = false, markdown = false;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json"))
      json = true;
    else if (!strcmp(argv[i], "--markdown"))
      markdown = true;
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
  matmulShapes(1, 4096, 11008);
  matmulShapes(128, 4096, 4096);
  for (int64_t C : {64, 128, 256})
    convShapes(C, 56);
  double peak = andPopcountPeak();
  binaryMatmul(64, 4096, 4096, peak);
  if (json) {
    printf("{\"threads\": 1, \"repeat\": %u, \"rows\": [\n", repeat);
    for (size_t i = 0; i < rows.size(); ++i)
      printf("  {\"shape\": \"%s\", \"kernel\": \"%s\", \"ms\": %.4f, "
             "\"speedup_vs_int8\": %.3f}%s\n",
             rows[i].shape.c_str(), rows[i].kernel.c_str(), rows[i].ms,
             rows[i].ratio, i + 1 < rows.size() ? "," : "");
    printf("]}\n");
  } else if (markdown) {
    std::string cpu = "unknown";
    if (FILE *f = fopen("/proc/cpuinfo", "r")) {
      char line[512];
      while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
          cpu = strchr(line, ':') + 2;
          cpu.erase(cpu.find_last_not_of("\n") + 1);
          break;
        }
      fclose(f);
    }
    printf("CPU: %s, one thread, median of %u calls after a warm-up.\n\n",
           cpu.c_str(), repeat);
    printf("| shape | kernel | ms | speed-up over int8 VNNI (binary matmul: "
           "fraction of the AND+popcount peak) |\n|---|---|---:|---:|\n");
    for (const Row &r : rows)
      printf("| %s | %s | %.4f | %.2f%s |\n", r.shape.c_str(),
             r.kernel.c_str(), r.ms, r.ratio,
             r.shape.rfind("binary", 0) == 0 ? "" : "x");
  } else {
    printf("%-24s %-22s %10s %10s\n", "shape", "kernel", "ms", "vs int8");
    for (const Row &r : rows)
      printf("%-24s %-22s %10.4f %9.2fx\n", r.shape.c_str(), r.kernel.c_str(),
             r.ms, r.ratio);
  }
  return 0;
}
