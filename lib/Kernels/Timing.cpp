//===- Timing.cpp - the microkernels timed on this machine ----------------===//
#include "qc/Kernels/Timing.h"

#include <algorithm>
#include <chrono>
#include <random>

using namespace qc::kernels;

bool qc::kernels::hostHasVnni() {
  return __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
}

bool qc::kernels::hostHasVbmi() {
  return hostHasVnni() && __builtin_cpu_supports("avx512vbmi");
}

double qc::kernels::medianSeconds(const std::function<void()> &f,
                                  unsigned repeats) {
  auto t0 = std::chrono::steady_clock::now();
  f(); // warm
  if (repeats == 0) {
    double once = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
    repeats = unsigned(std::clamp(4e-3 / std::max(once, 1e-9), 5.0, 200.0));
  }
  std::vector<double> t;
  for (unsigned r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - t0)
                    .count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

namespace {

/// Activations and an epilogue that requantizes to int8.
struct Operands {
  std::vector<uint8_t> a;
  std::vector<int32_t> mult, shift;
  std::vector<int8_t> out;
  Operands(int64_t M, int64_t K, int64_t N)
      : a(size_t(M * K)), mult(size_t(N), 1 << 30), shift(size_t(N), 40),
        out(size_t(M * N)) {
    std::mt19937 rng(7);
    for (auto &v : a)
      v = uint8_t(rng());
  }
};

std::vector<uint8_t> randomWeights(int64_t K, int64_t N, unsigned bits) {
  std::mt19937 rng(11);
  int half = 1 << (bits - 1);
  std::uniform_int_distribution<int> d(-half, half - 1);
  std::vector<uint8_t> b(size_t(K * N));
  for (auto &v : b)
    v = uint8_t(int8_t(d(rng)));
  return b;
}

} // namespace

double qc::kernels::timeMatmulI8(int64_t M, int64_t K, int64_t N,
                                 const PackedWeights &p,
                                 const std::vector<int8_t> &stored,
                                 unsigned storedBits, bool vnni,
                                 unsigned repeats) {
  Operands o(M, K, N);
  auto fn = vnni ? qc_k_matmul_i8_vnni : qc_k_matmul_i8_generic;
  return medianSeconds(
      [&] {
        fn(1, M, N, K, o.a.data(), 0, 0,
           reinterpret_cast<const uint8_t *>(stored.data()), 0, storedBits, 0,
           0, p.corr.data(), p.zw.data(), p.hasZw, o.mult.data(),
           o.shift.data(), 0, 0, -128, 127, 1, nullptr, 0, o.out.data(), 0, 1);
      },
      repeats);
}

double qc::kernels::timeMatmulLut(int64_t M, int64_t K, int64_t N,
                                  const PackedWeights &p, LowBitFormat f,
                                  bool vbmi, unsigned repeats) {
  Operands o(M, K, N);
  auto fn = vbmi ? qc_k_matmul_lut_i8_vbmi : qc_k_matmul_lut_i8_generic;
  return medianSeconds(
      [&] {
        fn(M, N, K, o.a.data(), 0x80,
           reinterpret_cast<const uint8_t *>(p.data.data()), f.bits, f.step,
           f.base, p.corr.data(), p.zw.data(), p.hasZw, o.mult.data(),
           o.shift.data(), 0, 0, -128, 127, 1, o.out.data(), 0, 1);
      },
      repeats);
}

double qc::kernels::timeRandomMatmulI8(int64_t M, int64_t K, int64_t N,
                                       unsigned bits, bool vnni,
                                       unsigned repeats) {
  unsigned stored = bits > 4 ? 8 : bits > 2 ? 4 : 2;
  std::vector<uint8_t> b = randomWeights(K, N, bits);
  int32_t zp = 0;
  PackedWeights p = packMatmulB(b.data(), K, N, /*bUnsigned=*/false, &zp, 1,
                                nullptr, /*aUnsigned=*/true, 0);
  return timeMatmulI8(M, K, N, p,
                      stored == 8 ? p.data : packSubByte(p.data, stored),
                      stored, vnni, repeats);
}

std::optional<double> qc::kernels::timeRandomMatmulLut(int64_t M, int64_t K,
                                                       int64_t N, unsigned bits,
                                                       unsigned repeats) {
  if (bits > 4 || !hostHasVbmi())
    return std::nullopt;
  std::vector<uint8_t> b = randomWeights(K, N, bits);
  LowBitFormat f =
      lowBitFormat(reinterpret_cast<const int8_t *>(b.data()), b.size());
  int32_t zp = 0;
  PackedWeights p = packLutWeights(b.data(), K, N, /*bUnsigned=*/false, f, &zp,
                                   1, nullptr, /*aUnsigned=*/true, 0);
  return timeMatmulLut(M, K, N, p, f, /*vbmi=*/true, repeats);
}

/// The passes of timeWideSplitPasses, vectorized for AVX-512 where the host
/// has it (as the compiled model's loops are).
__attribute__((target_clones("arch=skylake-avx512", "default"))) static void
wideSplitPasses(const int16_t *x, int8_t *hi, uint8_t *lo, size_t count,
                const int32_t *accHi, const int32_t *accLo, int64_t *acc,
                const int64_t *bias, int16_t *y, int64_t M, int64_t N) {
  for (size_t i = 0; i < count; ++i) {
    hi[i] = int8_t(x[i] >> 8);
    lo[i] = uint8_t(x[i]);
  }
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      size_t i = size_t(m * N + n);
      acc[i] = (int64_t(accHi[i]) << 8) + accLo[i] + bias[n];
    }
  for (size_t i = 0, e = size_t(M * N); i < e; ++i) {
    int64_t v = (acc[i] * 1518500250 + (int64_t(1) << 37)) >> 38;
    y[i] = int16_t(std::clamp<int64_t>(v, -32768, 32767));
  }
}

double qc::kernels::timeWideSplitPasses(int64_t inputs, int64_t outputs,
                                        int64_t channels, unsigned repeats) {
  int64_t N = std::max<int64_t>(1, channels), M = std::max<int64_t>(1, outputs / N);
  std::vector<int16_t> x(size_t(std::max<int64_t>(1, inputs)));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = int16_t(i * 2654435761u);
  std::vector<int8_t> hi(x.size());
  std::vector<uint8_t> lo(x.size());
  std::vector<int32_t> accHi(size_t(M * N), 3), accLo(size_t(M * N), 5);
  std::vector<int64_t> acc(size_t(M * N)), bias(size_t(N), 7);
  std::vector<int16_t> y(size_t(M * N));
  return medianSeconds(
      [&] {
        wideSplitPasses(x.data(), hi.data(), lo.data(), x.size(), accHi.data(),
                        accLo.data(), acc.data(), bias.data(), y.data(), M, N);
      },
      repeats);
}

double qc::kernels::timeRandomMatmulMx(int64_t M, int64_t K, int64_t N,
                                       bool vnni, unsigned repeats,
                                       unsigned bits) {
  std::mt19937 rng(5);
  std::vector<uint8_t> codes(size_t(K * N));
  for (auto &c : codes)
    c = uint8_t(rng() & ((1u << bits) - 1));
  std::vector<int8_t> shifts(size_t(N * (K / 32)));
  for (auto &s : shifts)
    s = int8_t(rng() & 3);
  MxPacked p = packMxWeights(codes.data(), shifts.data(), K, N, bits);
  std::vector<uint8_t> a(size_t(M * K));
  for (auto &v : a)
    v = uint8_t(rng());
  std::vector<int64_t> corr(size_t(N), 0), out(size_t(M * N));
  return medianSeconds(
      [&] {
        auto *f =
            bits == 6
                ? (vnni ? qc_k_matmul_mx6_i8_vnni : qc_k_matmul_mx6_i8_generic)
                : (vnni ? qc_k_matmul_mx_i8_vnni : qc_k_matmul_mx_i8_generic);
        f(M, N, K, a.data(), 0x80, p.weights.data(), p.shifts.data(),
          corr.data(), out.data(), 0, 1);
      },
      repeats);
}

double qc::kernels::timeRandomDecodedMatmulF32(int64_t M, int64_t K, int64_t N,
                                               unsigned bits,
                                               unsigned repeats) {
  std::mt19937 rng(6);
  std::vector<uint8_t> packed(size_t((K * N * bits + 7) / 8 + 1));
  for (auto &v : packed)
    v = uint8_t(rng());
  std::vector<float> table(size_t(1) << bits), scales(size_t(N), 0.5f);
  for (size_t i = 0; i < table.size(); ++i)
    table[i] = float(int(i) - int(table.size() / 2)) * 0.25f;
  std::vector<float> a(size_t(M * K), 0.5f), w(size_t(K * N)),
      out(size_t(M * N));
  bool avx512 = hostHasVnni();
  return medianSeconds(
      [&] {
        for (int64_t i = 0; i < K * N; ++i) {
          int64_t bit = i * bits;
          unsigned word = packed[size_t(bit / 8)] |
                          unsigned(packed[size_t(bit / 8 + 1)]) << 8;
          w[size_t(i)] = table[(word >> (bit % 8)) & ((1u << bits) - 1)] *
                         scales[size_t(i % N)];
        }
        if (avx512) {
          qc_k_matmul_f32_avx512(1, M, N, K, a.data(), 0, w.data(), 0, 0,
                                 nullptr, out.data(), 0, 1);
          return;
        }
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            float s = 0;
            for (int64_t k = 0; k < K; ++k)
              s += a[size_t(m * K + k)] * w[size_t(k * N + n)];
            out[size_t(m * N + n)] = s;
          }
      },
      repeats);
}
