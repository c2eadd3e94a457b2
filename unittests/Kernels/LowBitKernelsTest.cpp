//===- LowBitKernelsTest.cpp - the low-bit kernels against the definition -===//
//
// Each case draws weights in one low-bit format (signed b-bit ranges,
// binary {-1, +1}, ternary {-1, 0, +1}, a shifted unsigned range), packs
// them as the compiler does (qc::kernels::packLutWeights), runs every
// variant this CPU has, split into several tasks, and compares each output
// with a direct evaluation of qc.matmul_int and qc.requantize (QCOps.td) in
// 64-bit arithmetic on the unpacked operands.
//
//===----------------------------------------------------------------------===//
#include "qc/Kernels/Int8Kernels.h"

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace {

using namespace qc_test;

using LutFn = void (*)(QC_KERNEL_PARAMS(matmul_lut_i8));

bool hasVbmi() {
  return __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx512vbmi") &&
         __builtin_cpu_supports("avx512bw");
}

std::vector<std::pair<const char *, LutFn>> lutVariants() {
  std::vector<std::pair<const char *, LutFn>> v = {
      {"generic", qc_k_matmul_lut_i8_generic}};
  if (hasVbmi())
    v.push_back({"vbmi", qc_k_matmul_lut_i8_vbmi});
  else
    std::printf("note: no AVX-512 VBMI + VNNI here; only the generic "
                "low-bit kernels are tested\n");
  return v;
}

struct LutCase {
  int64_t M, N, K;
  std::vector<int> levels; // the signed weight values drawn
  bool aU, bU, outI8, perChannelZp;
  int32_t aZp;
  unsigned bits; // the format lowBitFormat must find
};

void runLut(const char *name, LutFn fn, const LutCase &c, unsigned seed) {
  std::mt19937 rng(seed);
  auto a = randomBytes(rng, size_t(c.M * c.K));
  std::uniform_int_distribution<size_t> pick(0, c.levels.size() - 1);
  std::vector<uint8_t> b(size_t(c.K * c.N));
  std::vector<int8_t> signedB(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    signedB[i] = int8_t(c.levels[pick(rng)]);
    b[i] = uint8_t(signedB[i]) ^ (c.bU ? 0x80 : 0);
  }
  qc::kernels::LowBitFormat f =
      qc::kernels::lowBitFormat(signedB.data(), signedB.size());
  ASSERT_EQ(f.bits, c.bits) << "format of the case's levels";
  std::vector<int32_t> bzp, bias;
  std::uniform_int_distribution<int32_t> zpd(c.bU ? 125 : -3, c.bU ? 131 : 3),
      biasd(-5000, 5000);
  for (int64_t n = 0; n < (c.perChannelZp ? c.N : 1); ++n)
    bzp.push_back(c.perChannelZp ? zpd(rng) : (c.bU ? 128 : 0));
  for (int64_t n = 0; n < c.N; ++n)
    bias.push_back(biasd(rng));
  Epi e = randomEpilogue(rng, c.N, c.outI8, c.aU);
  qc::kernels::PackedWeights p =
      qc::kernels::packLutWeights(b.data(), c.K, c.N, c.bU, f, bzp.data(),
                                  bzp.size(), bias.data(), c.aU, c.aZp);
  std::vector<uint8_t> out(size_t(c.M * c.N) * (c.outI8 ? 1 : 4), 0xAB);
  int64_t ntasks = 3;
  for (int64_t t = 0; t < ntasks; ++t)
    fn(c.M, c.N, c.K, a.data(), c.aU ? 0x80 : 0,
       reinterpret_cast<const uint8_t *>(p.data.data()), f.bits, f.step,
       f.base, p.corr.data(), p.zw.data(), p.hasZw, e.mult.data(),
       e.shift.data(), e.izp, e.ozp, e.lo, e.hi, e.outI8, out.data(), t,
       ntasks);
  int64_t bad = 0;
  for (int64_t m = 0; m < c.M; ++m)
    for (int64_t n = 0; n < c.N; ++n) {
      int64_t acc = bias[size_t(n)], zb = bzp[c.perChannelZp ? size_t(n) : 0];
      for (int64_t k = 0; k < c.K; ++k)
        acc += (asInt(a[size_t(m * c.K + k)], c.aU) - c.aZp) *
               (asInt(b[size_t(k * c.N + n)], c.bU) - zb);
      size_t idx = size_t(m * c.N + n);
      int64_t want = acc, got;
      if (c.outI8) {
        want = requantize(acc, e.mult[size_t(n)], e.shift[size_t(n)], e.izp,
                          e.ozp, e.lo, e.hi);
        got = asInt(out[idx], c.aU);
      } else {
        int32_t g;
        std::memcpy(&g, out.data() + idx * 4, 4);
        got = g;
      }
      if (want != got && bad++ < 5)
        ADD_FAILURE() << name << " lut m" << m << " n" << n << ": " << got
                      << " != " << want;
    }
  EXPECT_EQ(bad, 0) << name << " lut " << c.M << "x" << c.N << "x" << c.K
                    << " bits " << c.bits;
}

std::vector<int> range(int lo, int hi) {
  std::vector<int> v;
  for (int i = lo; i <= hi; ++i)
    v.push_back(i);
  return v;
}

TEST(LowBitKernels, LutMatmulFormats) {
  const LutCase cases[] = {
      // M, N, K, levels, aU, bU, outI8, perChannelZp, aZp, bits
      {1, 64, 16, range(-2, 1), false, false, false, false, 0, 2},
      {1, 1, 1, {-1, 1}, false, false, false, false, 0, 1},
      {3, 70, 37, {-1, 1}, true, false, true, false, 131, 1},
      {2, 129, 100, range(-1, 1), false, false, true, true, -4, 2},
      {1, 200, 4096, range(-2, 1), false, false, true, false, 3, 2},
      {5, 96, 333, range(-4, 3), true, true, false, true, 100, 3},
      {4, 130, 250, range(-8, 7), false, false, true, true, 0, 4},
      {1, 64, 1024, range(-8, 7), true, false, false, false, 255, 4},
      {7, 33, 48, {0, 1}, false, false, true, false, -9, 1},
      {2, 100, 80, {-6, -2, 2, 6}, false, true, false, true, 5, 2},
      {16, 256, 512, range(3, 10), true, false, true, true, 17, 3},
  };
  unsigned seed = 1;
  for (auto &[name, fn] : lutVariants())
    for (const LutCase &c : cases)
      runLut(name, fn, c, seed++);
}

TEST(LowBitKernels, FormatDetection) {
  auto fmt = [](std::vector<int8_t> v) {
    return qc::kernels::lowBitFormat(v.data(), v.size());
  };
  qc::kernels::LowBitFormat f = fmt({-1, 1, 1, -1});
  EXPECT_EQ(f.bits, 1u);
  EXPECT_EQ(f.base, -1);
  EXPECT_EQ(f.step, 2);
  f = fmt({-1, 0, 1});
  EXPECT_EQ(f.bits, 2u);
  EXPECT_EQ(f.base, -1);
  EXPECT_EQ(f.step, 1);
  EXPECT_EQ(fmt({-8, 7}).bits, 1u); // two levels, step 15
  EXPECT_EQ(fmt({-8, 0, 7}).bits, 4u);
  EXPECT_EQ(fmt({-9, 7, 0}).bits, 8u); // 17 levels
  EXPECT_EQ(fmt({}).bits, 8u);
}

} // namespace
