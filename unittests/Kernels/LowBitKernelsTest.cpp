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

//===----------------------------------------------------------------------===//
// Binary activations: AND + popcount
//===----------------------------------------------------------------------===//

using ConvBinFn = void (*)(QC_KERNEL_PARAMS(conv2d_bin));
using MatmulBinFn = void (*)(QC_KERNEL_PARAMS(matmul_bin));

struct BinVariant {
  const char *name;
  ConvBinFn conv;
  MatmulBinFn matmul;
};

std::vector<BinVariant> binVariants() {
  std::vector<BinVariant> v = {
      {"generic", qc_k_conv2d_bin_generic, qc_k_matmul_bin_generic}};
  if (__builtin_cpu_supports("avx512vpopcntdq") &&
      __builtin_cpu_supports("avx512bw"))
    v.push_back({"vpopcnt", qc_k_conv2d_bin_vpopcnt, qc_k_matmul_bin_vpopcnt});
  else
    std::printf("note: no AVX-512 VPOPCNTDQ here; only the generic binary "
                "kernels are tested\n");
  return v;
}

struct BinCase {
  int64_t batch, C, H, W, F, KH, KW, stride, pad, dil; // matmul: H = 0
  std::vector<int> levels;                              // weights' signed values
  bool xU, wU, outI8, perChannelZp;
  int32_t xLo, xD, xZp; // activation levels xLo, xLo + xD (storage values)
};

/// Draws a binary case's operands, packs, runs `v` in 3 tasks and compares
/// with qc.conv_int / qc.matmul_int + qc.requantize evaluated directly.
void runBin(const BinVariant &v, const BinCase &c, unsigned seed) {
  std::mt19937 rng(seed);
  bool matmul = c.H == 0;
  int64_t H = matmul ? 1 : c.H, taps = c.KH * c.KW;
  int64_t OH = matmul ? 1 : (H + 2 * c.pad - c.dil * (c.KH - 1) - 1) / c.stride + 1;
  int64_t OW = matmul ? c.W : (c.W + 2 * c.pad - c.dil * (c.KW - 1) - 1) / c.stride + 1;
  std::bernoulli_distribution coin(0.5);
  std::vector<uint8_t> x(size_t(c.batch * c.C * H * c.W));
  for (auto &b : x)
    b = uint8_t(c.xLo + (coin(rng) ? c.xD : 0));
  std::uniform_int_distribution<size_t> pick(0, c.levels.size() - 1);
  std::vector<uint8_t> w(size_t(c.F * c.C * taps));
  std::vector<int8_t> signedW(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    signedW[i] = int8_t(c.levels[pick(rng)]);
    w[i] = uint8_t(signedW[i]) ^ (c.wU ? 0x80 : 0);
  }
  qc::kernels::LowBitFormat f =
      qc::kernels::lowBitFormat(signedW.data(), signedW.size());
  ASSERT_LE(f.bits, 4u);
  std::vector<int32_t> zp, bias;
  std::uniform_int_distribution<int32_t> zpd(c.wU ? 126 : -2, c.wU ? 130 : 2),
      biasd(-3000, 3000);
  for (int64_t o = 0; o < (c.perChannelZp ? c.F : 1); ++o)
    zp.push_back(c.perChannelZp ? zpd(rng) : (c.wU ? 128 : 0));
  for (int64_t o = 0; o < c.F; ++o)
    bias.push_back(biasd(rng));
  Epi e = randomEpilogue(rng, c.F, c.outI8, c.xU);
  // A matmul's weights as qc.matmul_int holds them: B [K][N].
  std::vector<uint8_t> wk = w;
  if (matmul)
    for (int64_t o = 0; o < c.F; ++o)
      for (int64_t k = 0; k < c.C; ++k)
        wk[size_t(k * c.F + o)] = w[size_t(o * c.C + k)];
  qc::kernels::BinaryWeights p = qc::kernels::packBinaryWeights(
      wk.data(), c.F, c.C, taps, matmul, c.wU, f, zp.data(), zp.size(),
      bias.data(), c.xLo, c.xD, c.xZp);
  int64_t xXor = c.xU ? 0x80 : 0;
  int64_t thr = int64_t(int8_t(uint8_t(c.xLo + c.xD) ^ uint8_t(xXor)));
  std::vector<uint8_t> out(size_t(c.batch * c.F * OH * OW) * (c.outI8 ? 1 : 4),
                           0xAB);
  for (int64_t t = 0; t < 3; ++t) {
    if (matmul)
      v.matmul(c.W, c.F, c.C, x.data(), xXor, thr, p.planes.data(), f.bits,
               p.pStep, p.xCoef.data(), p.corr.data(), nullptr, 0,
               e.mult.data(), e.shift.data(), e.izp, e.ozp, e.lo, e.hi,
               e.outI8, out.data(), t, 3);
    else
      v.conv(c.batch, c.C, H, c.W, c.F, c.KH, c.KW, OH, OW, c.stride,
             c.stride, c.pad, c.pad, c.dil, c.dil, x.data(), xXor, thr,
             p.planes.data(), f.bits, p.pStep, p.xCoef.data(),
             p.tapCorr.data(), p.corr.data(), nullptr, 0, e.mult.data(),
             e.shift.data(), e.izp, e.ozp, e.lo, e.hi, e.outI8, out.data(), t,
             3);
  }
  int64_t bad = 0;
  auto xv = [&](int64_t b, int64_t ch, int64_t h, int64_t wcol) -> int64_t {
    if (h < 0 || h >= H || wcol < 0 || wcol >= c.W)
      return c.xZp; // padding holds the zero point
    size_t i = matmul ? size_t(wcol * c.C + ch)
                      : size_t(((b * c.C + ch) * H + h) * c.W + wcol);
    return asInt(x[i], c.xU);
  };
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t o = 0; o < c.F; ++o)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t acc = bias[size_t(o)], zw = zp[c.perChannelZp ? size_t(o) : 0];
          for (int64_t ch = 0; ch < c.C; ++ch)
            for (int64_t kh = 0; kh < c.KH; ++kh)
              for (int64_t kw = 0; kw < c.KW; ++kw) {
                int64_t ih = oh * c.stride - c.pad + kh * c.dil,
                        iw = ow * c.stride - c.pad + kw * c.dil;
                int64_t wv = asInt(w[size_t((o * c.C + ch) * taps + kh * c.KW + kw)], c.wU);
                acc += (xv(b, ch, ih, iw) - c.xZp) * (wv - zw);
              }
          size_t idx = matmul ? size_t(ow * c.F + o)
                              : size_t(((b * c.F + o) * OH + oh) * OW + ow);
          int64_t want = acc, got;
          if (c.outI8) {
            want = requantize(acc, e.mult[size_t(o)], e.shift[size_t(o)], e.izp,
                              e.ozp, e.lo, e.hi);
            got = asInt(out[idx], c.xU);
          } else {
            int32_t g;
            std::memcpy(&g, out.data() + idx * 4, 4);
            got = g;
          }
          if (want != got && bad++ < 5)
            ADD_FAILURE() << v.name << (matmul ? " matmul" : " conv") << " b" << b
                          << " f" << o << " (" << oh << "," << ow << "): " << got
                          << " != " << want;
        }
  EXPECT_EQ(bad, 0) << v.name << " binary case C" << c.C << " F" << c.F;
}

TEST(LowBitKernels, BinaryConvAndMatmul) {
  const BinCase cases[] = {
      // batch, C, H, W, F, KH, KW, stride, pad, dil, levels, xU, wU, outI8,
      // perChannelZp, xLo, xD, xZp
      {1, 64, 8, 8, 16, 3, 3, 1, 1, 1, {-1, 1}, false, false, false, false, -1, 2, 0},
      {2, 70, 9, 13, 21, 3, 3, 1, 1, 1, {-1, 1}, false, false, true, true, -1, 2, 0},
      {1, 130, 7, 7, 8, 3, 3, 2, 1, 1, range(-1, 1), true, false, true, false, 100, 50, 128},
      {1, 33, 10, 11, 17, 3, 2, 1, 2, 2, range(-2, 1), false, true, false, true, -5, 9, 3},
      {1, 200, 6, 20, 40, 1, 1, 1, 0, 1, range(-4, 3), false, false, true, false, 0, 1, 0},
      {1, 64, 5, 5, 9, 5, 5, 1, 2, 1, range(-8, 7), true, true, false, true, 0, 255, 7},
      // matmuls (H = 0): W = M rows, C = K, F = N
      {1, 300, 0, 13, 37, 1, 1, 1, 0, 1, {-1, 1}, false, false, true, false, -1, 2, 0},
      {1, 64, 0, 1, 64, 1, 1, 1, 0, 1, range(-1, 1), true, false, false, true, 127, 2, 128},
  };
  unsigned seed = 100;
  for (const BinVariant &v : binVariants())
    for (const BinCase &c : cases)
      runBin(v, c, seed++);
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
