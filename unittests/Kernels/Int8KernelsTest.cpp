//===- Int8KernelsTest.cpp - the int8 kernels against a scalar reference --===//
//
// Each case draws random operands, packs the weights as the compiler does
// (qc::kernels::pack*), runs a kernel variant split into several tasks, and
// compares every output with a direct evaluation of the qc.conv_int /
// qc.matmul_int and qc.requantize definitions (QCOps.td) in 64-bit
// arithmetic. Shapes are chosen off the kernels' tiles (rows not multiples
// of 6, columns not of 16/64, K not of 4); zero points are non-zero, weights
// per channel and unsigned, and the multipliers large enough to saturate.
//
//===----------------------------------------------------------------------===//
#include "qc/Kernels/Int8Kernels.h"

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace qc_test;

using MatmulFn = void (*)(QC_KERNEL_PARAMS(matmul_i8));
using ConvFn = void (*)(QC_KERNEL_PARAMS(conv2d_i8));

struct Variant {
  const char *name;
  MatmulFn matmul;
  ConvFn conv;
  int64_t vbmi; // a fused table looked up with VBMI (lutVbmi)
};

std::vector<Variant> variants() {
  std::vector<Variant> v = {
      {"generic", qc_k_matmul_i8_generic, qc_k_conv2d_i8_generic, 0}};
  if (__builtin_cpu_supports("avx512vnni") &&
      __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    v.push_back({"vnni", qc_k_matmul_i8_vnni, qc_k_conv2d_i8_vnni, 0});
    if (__builtin_cpu_supports("avx512vbmi"))
      v.push_back({"vnni+vbmi", qc_k_matmul_i8_vnni, qc_k_conv2d_i8_vnni, 1});
  } else
    std::printf("note: this CPU has no AVX-512 VNNI; only the generic kernels "
                "are tested\n");
  return v;
}

/// A qc.table fused after the requantization (`want`), as the kernels take
/// it: entry b the value of the output byte b, in the output type's range;
/// empty without one.
std::vector<uint8_t> randomTable(std::mt19937 &rng, bool want) {
  if (!want)
    return {};
  std::vector<uint8_t> t(256);
  for (auto &v : t)
    v = uint8_t(rng());
  return t;
}

struct MatmulCase {
  int64_t batch, M, N, K;
  bool aU, bU, constB, outI8, perChannelZp;
  int32_t aZp, bZp;
};

/// Weight bytes whose signed values (after the XOR that makes uint8
/// signed) take `bits` bits: all of [-2^(bits-1), 2^(bits-1) - 1].
std::vector<uint8_t> randomWeights(std::mt19937 &rng, size_t n, unsigned bits,
                                   bool isUnsigned) {
  if (bits == 8)
    return randomBytes(rng, n);
  int half = 1 << (bits - 1);
  std::uniform_int_distribution<int> d(-half, half - 1);
  std::vector<uint8_t> v(n);
  for (auto &x : v)
    x = uint8_t(int8_t(d(rng))) ^ (isUnsigned ? 0x80 : 0);
  return v;
}

/// The packed weights as the compiler stores them at `bits` (8, 4 or 2).
std::vector<int8_t> storeWeights(const std::vector<int8_t> &data,
                                 unsigned bits) {
  EXPECT_LE(qc::kernels::packedBits(data), bits);
  if (bits == 8)
    return data;
  std::vector<int8_t> packed = qc::kernels::packSubByte(data, bits);
  EXPECT_EQ(packed.size() * 8, data.size() * bits);
  return packed;
}

void runMatmul(const Variant &v, const MatmulCase &c, unsigned seed,
               unsigned bits = 8) {
  std::mt19937 rng(seed);
  int64_t bBatch = c.constB ? 1 : c.batch;
  auto a = randomBytes(rng, size_t(c.batch * c.M * c.K));
  auto b = randomWeights(rng, size_t(bBatch * c.K * c.N), bits, c.bU);
  std::vector<int32_t> bzp, bias;
  std::uniform_int_distribution<int32_t> zpd(c.bU ? 100 : -20, c.bU ? 150 : 20),
      biasd(-5000, 5000);
  for (int64_t n = 0; n < (c.perChannelZp ? c.N : 1); ++n)
    bzp.push_back(c.perChannelZp ? zpd(rng) : c.bZp);
  for (int64_t n = 0; n < c.N; ++n)
    bias.push_back(biasd(rng));
  Epi e = randomEpilogue(rng, c.N, c.outI8, c.aU);
  qc::kernels::PackedWeights p =
      c.constB ? qc::kernels::packMatmulB(b.data(), c.K, c.N, c.bU, bzp.data(),
                                          bzp.size(), bias.data(), c.aU, c.aZp)
               : qc::kernels::matmulActivationB(c.K, c.N, c.bU, bzp.data(),
                                                bzp.size(), bias.data(), c.aZp);
  std::vector<int8_t> stored =
      c.constB ? storeWeights(p.data, bits) : std::vector<int8_t>();
  size_t outSize = size_t(c.batch * c.M * c.N);
  std::vector<uint8_t> out(outSize * (c.outI8 ? 1 : 4), 0xAB);
  std::vector<uint8_t> lut = randomTable(rng, c.outI8 && seed % 2);
  int64_t ntasks = 3;
  for (int64_t t = 0; t < ntasks; ++t) {
    // A constant B: batches are rows (the compiler flattens them).
    int64_t batch = c.constB ? 1 : c.batch, M = c.constB ? c.batch * c.M : c.M;
    v.matmul(
        batch, M, c.N, c.K, a.data(), c.constB ? 0 : c.M * c.K, c.aU ? 0 : 0x80,
        c.constB ? reinterpret_cast<const uint8_t *>(stored.data()) : b.data(),
        c.constB ? 0 : c.K * c.N, c.constB ? bits : 0, c.bU ? 0x80 : 0,
        (c.aU ? 0 : 128) + c.aZp, p.corr.data(), p.zw.data(), p.hasZw,
        e.mult.data(), e.shift.data(), e.izp, e.ozp, e.lo, e.hi, e.outI8,
        lut.empty() ? nullptr : lut.data(), v.vbmi, out.data(), t, ntasks);
  }
  int64_t bad = 0, saturated = 0;
  for (int64_t bi = 0; bi < c.batch; ++bi)
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t n = 0; n < c.N; ++n) {
        const uint8_t *bm = b.data() + (c.constB ? 0 : bi * c.K * c.N);
        int64_t acc = bias[size_t(n)];
        int64_t zb = bzp[c.perChannelZp ? size_t(n) : 0];
        for (int64_t k = 0; k < c.K; ++k)
          acc += (asInt(a[size_t((bi * c.M + m) * c.K + k)], c.aU) - c.aZp) *
                 (asInt(bm[k * c.N + n], c.bU) - zb);
        size_t idx = size_t((bi * c.M + m) * c.N + n);
        int64_t want, got;
        if (c.outI8) {
          want = requantize(acc, e.mult[size_t(n)], e.shift[size_t(n)], e.izp,
                            e.ozp, e.lo, e.hi);
          saturated += want == e.lo || want == e.hi;
          if (!lut.empty())
            want = asInt(lut[size_t(want & 0xFF)], c.aU);
          got = asInt(out[idx], c.aU);
        } else {
          want = acc;
          int32_t g;
          std::memcpy(&g, out.data() + idx * 4, 4);
          got = g;
        }
        if (want != got && bad++ < 5)
          ADD_FAILURE() << v.name << " matmul b" << bi << " m" << m << " n" << n
                        << ": " << got << " != " << want;
      }
  EXPECT_EQ(bad, 0) << v.name << " matmul " << c.batch << "x" << c.M << "x"
                    << c.N << "x" << c.K;
  if (c.outI8 && outSize >= 64) {
    EXPECT_GT(saturated, 0) << "the case should saturate some outputs";
  }
}

TEST(Int8Kernels, MatmulOddShapes) {
  const MatmulCase cases[] = {
      // batch, M, N, K, aU, bU, constB, outI8, perChannelZp, aZp, bZp
      {1, 1, 1, 1, false, false, true, true, false, 0, 0},
      {1, 7, 17, 5, false, false, true, true, false, 3, 0},
      {2, 13, 67, 33, true, false, true, true, true, 131, 0},
      {1, 6, 64, 64, false, true, true, false, false, -7, 128},
      {3, 5, 130, 71, false, false, false, true, false, 9, -4},
      {2, 19, 40, 30, true, true, false, false, true, 100, 0},
      {1, 128, 200, 257, false, false, true, true, true, -2, 0},
      {1, 61, 70, 1001, false, false, true, true, false, 4,
       0}, // K in 4 blocks of 256
      {2, 9, 33, 515, true, true, false, false, false, 0,
       128}, // run-time B, 3 blocks
  };
  unsigned seed = 1;
  for (const Variant &v : variants())
    for (const MatmulCase &c : cases)
      runMatmul(v, c, seed++);
}

/// 4- and 2-bit weights stored two and four per byte, expanded by the
/// kernel one column block at a time: the same exact results.
TEST(Int8Kernels, MatmulSubByteWeights) {
  const MatmulCase cases[] = {
      {1, 1, 1, 1, false, false, true, true, false, 0, 0},
      {1, 7, 17, 5, false, false, true, true, false, 3, 0},
      {2, 13, 67, 33, true, false, true, false, true, 131, 0},
      {1, 6, 64, 64, false, true, true, false, false, -7, 128},
      {1, 128, 200, 257, false, false, true, true, true, -2, 0},
      {1, 61, 70, 1001, false, false, true, false, false, 4, 0},
  };
  unsigned seed = 50;
  for (const Variant &v : variants())
    for (unsigned bits : {4u, 2u})
      for (const MatmulCase &c : cases)
        runMatmul(v, c, seed++, bits);
}

struct ConvCase {
  int64_t N, C, H, W, F, KH, KW, sh, sw, ph, pw, dh, dw, groups;
  bool xU, wU, outI8, perChannelZp;
  int32_t xZp;
};

/// With `nhwc`, the kernel's channels-last form (group 1): the same input
/// transposed to NHWC, the output read as NHWC; with `residualAdd` too (an
/// int8 output, no table), a residual add fused after the requantization,
/// checked against qc.requantize / qc.add's definitions.
void runConv(const Variant &v, const ConvCase &c, unsigned seed,
             unsigned bits = 8, bool nhwc = false, bool residualAdd = false) {
  std::mt19937 rng(seed);
  // Symmetric pads.
  int64_t OH = (c.H + 2 * c.ph - c.dh * (c.KH - 1) - 1) / c.sh + 1;
  int64_t OW = (c.W + 2 * c.pw - c.dw * (c.KW - 1) - 1) / c.sw + 1;
  int64_t Cg = c.C / c.groups, Fg = c.F / c.groups, K = Cg * c.KH * c.KW;
  auto x = randomBytes(rng, size_t(c.N * c.C * c.H * c.W));
  auto w = randomWeights(rng, size_t(c.F * K), bits, c.wU);
  std::vector<int32_t> wzp, bias;
  std::uniform_int_distribution<int32_t> zpd(c.wU ? 100 : -20, c.wU ? 150 : 20),
      biasd(-5000, 5000);
  for (int64_t f = 0; f < (c.perChannelZp ? c.F : 1); ++f)
    wzp.push_back(c.perChannelZp || c.wU ? zpd(rng) : 0);
  for (int64_t f = 0; f < c.F; ++f)
    bias.push_back(biasd(rng));
  Epi e = randomEpilogue(rng, c.F, c.outI8, c.xU);
  qc::kernels::PackedWeights p =
      nhwc ? qc::kernels::packConvWeightsNhwc(
                 w.data(), c.F, c.C, c.KH * c.KW, c.wU, wzp.data(), wzp.size(),
                 bias.data(), c.xU, c.xZp)
           : qc::kernels::packConvWeights(w.data(), c.F, K, c.wU, wzp.data(),
                                          wzp.size(), bias.data(), c.xU,
                                          c.xZp);
  std::vector<int8_t> stored = storeWeights(p.data, bits);
  std::vector<uint8_t> xIn = x;
  if (nhwc)
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t ci = 0; ci < c.C; ++ci)
        for (int64_t i = 0; i < c.H * c.W; ++i)
          xIn[size_t((n * c.H * c.W + i) * c.C + ci)] =
              x[size_t((n * c.C + ci) * c.H * c.W + i)];
  size_t outSize = size_t(c.N * c.F * OH * OW);
  std::vector<uint8_t> out(outSize * (c.outI8 ? 1 : 4), 0xAB);
  std::vector<uint8_t> lut =
      randomTable(rng, c.outI8 && seed % 2 && !residualAdd);
  // The other addend (unsigned like x) and the three requantizations: to a
  // fine int32 scale (21-bit multipliers), then back with a Relu's clamp.
  std::vector<uint8_t> res;
  std::vector<int64_t> rp;
  if (residualAdd) {
    res = randomBytes(rng, outSize);
    std::uniform_int_distribution<int64_t> md(1 << 20, (1 << 21) - 1),
        sd(0, 2), zd(-20, 20);
    int64_t zo = c.xU ? 3 : -100;
    int64_t hi = c.xU ? 255 : 127;
    rp = {md(rng), sd(rng), zd(rng),                   0, INT32_MIN, INT32_MAX,
          md(rng), sd(rng), zd(rng) + (c.xU ? 128 : 0), 0, INT32_MIN, INT32_MAX,
          // a power of two (the int32-lane path) or not (int64 lanes)
          seed % 2 ? 1 << 30 : 1518500250, 50, 0,         zo, zo,        hi,
          c.xU ? 1 : 0};
  }
  int64_t ntasks = 4;
  for (int64_t t = 0; t < ntasks; ++t)
    v.conv(c.N, c.C, c.H, c.W, c.F, c.KH, c.KW, OH, OW, c.sh, c.sw, c.ph, c.pw,
           c.dh, c.dw, c.groups, nhwc, xIn.data(), c.xU ? 0 : 0x80,
           uint8_t(c.xZp),
           reinterpret_cast<const uint8_t *>(stored.data()), bits,
           p.corr.data(), p.zw.data(), p.hasZw, e.mult.data(), e.shift.data(),
           e.izp, e.ozp, e.lo, e.hi, e.outI8,
           lut.empty() ? nullptr : lut.data(), v.vbmi,
           res.empty() ? nullptr : res.data(), rp.data(), out.data(), t,
           ntasks);
  int64_t bad = 0;
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t f = 0; f < c.F; ++f)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t g = f / Fg, acc = bias[size_t(f)];
          int64_t zw = wzp[c.perChannelZp ? size_t(f) : 0];
          for (int64_t ci = 0; ci < Cg; ++ci)
            for (int64_t kh = 0; kh < c.KH; ++kh)
              for (int64_t kw = 0; kw < c.KW; ++kw) {
                int64_t ih = oh * c.sh - c.ph + kh * c.dh,
                        iw = ow * c.sw - c.pw + kw * c.dw;
                int64_t xv = c.xZp; // padding inserts the zero point
                if (ih >= 0 && ih < c.H && iw >= 0 && iw < c.W)
                  xv = asInt(
                      x[size_t(((n * c.C + g * Cg + ci) * c.H + ih) * c.W +
                               iw)],
                      c.xU);
                int64_t wv = asInt(
                    w[size_t(f * K + (ci * c.KH + kh) * c.KW + kw)], c.wU);
                acc += (xv - c.xZp) * (wv - zw);
              }
          size_t idx = nhwc ? size_t(((n * OH + oh) * OW + ow) * c.F + f)
                            : size_t(((n * c.F + f) * OH + oh) * OW + ow);
          int64_t want, got;
          if (c.outI8) {
            want = requantize(acc, e.mult[size_t(f)], e.shift[size_t(f)], e.izp,
                              e.ozp, e.lo, e.hi);
            if (!lut.empty())
              want = asInt(lut[size_t(want & 0xFF)], c.xU);
            if (residualAdd) {
              int64_t a = requantize(want, rp[0], rp[1], rp[2], rp[3], rp[4],
                                     rp[5]),
                      b = requantize(asInt(res[idx], c.xU), rp[6], rp[7],
                                     rp[8], rp[9], rp[10], rp[11]);
              int64_t sum = int64_t(int32_t(uint32_t(a + b)));
              want = requantize(sum, rp[12], rp[13], rp[14], rp[15], rp[16],
                                rp[17]);
            }
            got = asInt(out[idx], c.xU);
          } else {
            want = acc;
            int32_t gv;
            std::memcpy(&gv, out.data() + idx * 4, 4);
            got = gv;
          }
          if (want != got && bad++ < 5)
            ADD_FAILURE() << v.name << " conv n" << n << " f" << f << " (" << oh
                          << "," << ow << "): " << got << " != " << want;
        }
  EXPECT_EQ(bad, 0) << v.name << (nhwc ? " nhwc" : "") << " conv C" << c.C
                    << " F" << c.F << " " << c.KH << "x" << c.KW << " groups "
                    << c.groups << " bits " << bits;
}

/// qc.matmul_group_scaled's kernels against a direct float64 evaluation of
/// its definition: shapes off the tiles, one to many groups, zero points or
/// none, per-channel weight scales, a bias or none, 1 to 4 tasks.
struct GroupCase {
  int64_t M, N, K, G;
  bool zeros, bias;
};

using GroupFn = void (*)(QC_KERNEL_PARAMS(matmul_group_i8));

void runGroup(const char *variant, GroupFn fn, const GroupCase &c,
              unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(-128, 127), zp(-128, 127);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f), bias(-2.0f, 2.0f);
  int64_t groups = c.K / c.G;
  std::vector<int8_t> a(size_t(c.M * c.K)), b(size_t(c.K * c.N));
  for (int8_t &v : a)
    v = int8_t(byte(rng));
  for (int8_t &v : b)
    v = int8_t(byte(rng) /
               2); // signed weights of 7 bits, as symmetric int8 weights are
  std::vector<float> sa(size_t(c.M * groups)), za(size_t(c.M * groups)),
      sb(size_t(c.N)), bs(size_t(c.N));
  for (float &v : sa)
    v = scale(rng);
  for (float &v : za)
    v = float(zp(rng));
  for (float &v : sb)
    v = scale(rng);
  for (float &v : bs)
    v = bias(rng);
  int32_t noZp = 0;
  qc::kernels::PackedWeights p =
      qc::kernels::packMatmulB(reinterpret_cast<const uint8_t *>(b.data()), c.K,
                               c.N, false, &noZp, 1, nullptr, false, 0);
  std::vector<int32_t> colSums(size_t(groups * c.N), 0);
  for (int64_t k = 0; k < c.K; ++k)
    for (int64_t n = 0; n < c.N; ++n)
      colSums[size_t(k / c.G * c.N + n)] += b[size_t(k * c.N + n)];
  for (int64_t tasks : {1, 4}) {
    std::vector<float> out(size_t(c.M * c.N), NAN);
    for (int64_t t = 0; t < tasks; ++t)
      fn(c.M, c.N, c.K, c.G, a.data(), sa.data(), c.zeros ? za.data() : nullptr,
         reinterpret_cast<const uint8_t *>(p.data.data()), colSums.data(),
         sb.data(), c.bias ? bs.data() : nullptr, out.data(), t, tasks);
    double worst = 0, largest = 0;
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t n = 0; n < c.N; ++n) {
        double want = c.bias ? bs[size_t(n)] : 0.0;
        for (int64_t g = 0; g < groups; ++g) {
          double sum = 0;
          for (int64_t k = g * c.G; k < (g + 1) * c.G; ++k)
            sum += (double(a[size_t(m * c.K + k)]) -
                    (c.zeros ? double(za[size_t(m * groups + g)]) : 0.0)) *
                   b[size_t(k * c.N + n)];
          want += double(sb[size_t(n)]) * sa[size_t(m * groups + g)] * sum;
        }
        double got = out[size_t(m * c.N + n)];
        ASSERT_FALSE(std::isnan(got))
            << variant << " left (" << m << ", " << n << ") unwritten";
        worst = std::max(worst, std::abs(got - want));
        largest = std::max(largest, std::abs(want));
      }
    // float32 accumulation over the groups: a few ulps of the largest output.
    EXPECT_LE(worst, 1e-5 * largest)
        << variant << " M=" << c.M << " N=" << c.N << " K=" << c.K
        << " G=" << c.G << " zeros=" << c.zeros << " tasks=" << tasks;
  }
}

TEST(Int8Kernels, MatmulGroupScaled) {
  const GroupCase cases[] = {
      {1, 1, 4, 4, false, false},        {5, 17, 8, 4, true, true},
      {7, 64, 64, 32, true, false},      {13, 70, 96, 32, false, true},
      {61, 130, 192, 32, true, true},    {6, 33, 768, 16, true, true},
      {128, 200, 256, 128, true, false},
  };
  unsigned seed = 100;
  std::vector<std::pair<const char *, GroupFn>> fns = {
      {"generic", qc_k_matmul_group_i8_generic}};
  for (const Variant &v : variants())
    if (std::string(v.name) == "vnni")
      fns.push_back({"vnni", qc_k_matmul_group_i8_vnni});
  for (auto [name, fn] : fns)
    for (const GroupCase &c : cases)
      runGroup(name, fn, c, seed++);
}

TEST(Int8Kernels, ConvOddShapes) {
  const ConvCase cases[] = {
      // N, C, H, W, F, KH, KW, sh, sw, ph, pw, dh, dw, groups, xU, wU, outI8,
      // perChZp, xZp
      {1, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, false, true, false,
       -3},
      {2, 8, 7, 7, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1, true, false, true, true, 128},
      {1, 10, 8, 17, 20, 1, 1, 1, 1, 0, 0, 1, 1, 1, false, false, true, false,
       3}, // pointwise, P 136
      {1, 6, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6, false, false, true, false,
       5}, // depthwise
      {1, 4, 12, 12, 8, 3, 2, 1, 2, 2, 0, 2, 1, 2, false, true, false, false,
       0}, // dilated
      {1, 5, 1, 40, 7, 1, 5, 1, 3, 0, 2, 1, 1, 1, true, true, true, true,
       77}, // 1-d
      {1, 16, 17, 15, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, false, true, true,
       2},
      {1, 64, 6, 7, 50, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, false, true, true,
       6}, // K = 576
      {1, 6, 10, 12, 9, 3, 3, 1, 1, 2, 1, 2, 1, 3, false, false, true, true,
       -1}, // grouped, dilated
      {2, 3, 5, 70, 4, 1, 3, 1, 1, 0, 1, 1, 1, 1, true, false, false, false,
       200}, // 1x3, wide
      {2, 8, 13, 21, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, true, true, true, true,
       130}, // depthwise
      {1, 5, 9, 17, 5, 5, 5, 1, 1, 2, 2, 1, 1, 5, false, false, false, true,
       -9}, // depthwise
      {1, 4, 11, 11, 4, 3, 3, 2, 2, 2, 2, 2, 2, 4, false, false, true, false,
       0}, // depthwise
      {1, 3, 7, 150, 3, 3, 3, 2, 1, 1, 1, 1, 1, 3, false, false, true, true,
       4}, // depthwise, stride (2, 1), rows of 150: three column chunks
      {2, 4, 6, 131, 4, 3, 5, 1, 3, 1, 2, 1, 2, 4, true, false, true, false,
       60}, // depthwise, column stride 3 (three phase planes), dilated
      {1, 2, 5, 40, 2, 1, 7, 1, 2, 0, 3, 1, 1, 2, false, false, false, true,
       -7}, // depthwise 1x7, stride 2, int32 out, weight zero points
      {1, 3, 8, 70, 3, 2, 9, 1, 1, 1, 4, 1, 1, 3, true, true, true, true,
       9}, // depthwise 2x9: three groups of taps (VBMI), weight zero points
      {2, 5, 9, 33, 5, 3, 3, 1, 2, 3, 3, 1, 3, 5, false, false, true, false,
       -4}, // depthwise, stride 2 dilated 3: taps of two phases in a group
      // Narrow planes of several images, stacked into one plane:
      {5, 12, 10, 2, 24, 1, 3, 1, 1, 0, 1, 1, 1, 1, true, false, true, false,
       3}, // 1x3 on 2 columns
      {4, 8, 8, 2, 16, 3, 1, 1, 1, 0, 0, 1, 1, 1, false, false, true, true,
       -2}, // 3x1, weight zero points (column sums)
      {3, 6, 6, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, true, true, false, false,
       10}, // grouped 3x3, int32 out
      {16, 7, 12, 4, 9, 3, 1, 1, 1, 1, 0, 2, 1, 1, false, false, true, false,
       0}, // dilated 3x1, row padding
  };
  unsigned seed = 100;
  for (const Variant &v : variants())
    for (const ConvCase &c : cases)
      runConv(v, c, seed++);
}

TEST(Int8Kernels, ConvSubByteWeights) {
  const ConvCase cases[] = {
      {1, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, false, true, false,
       -3},
      {2, 8, 7, 7, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1, true, false, true, true, 128},
      {1, 6, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6, false, false, true, false,
       5}, // depthwise
      {1, 5, 1, 40, 7, 1, 5, 1, 3, 0, 2, 1, 1, 1, true, true, true, true,
       77}, // 1-d
      {1, 64, 6, 7, 50, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, false, false, true,
       6}, // K = 576
      {1, 6, 10, 12, 9, 3, 3, 1, 1, 2, 1, 2, 1, 3, false, false, true, true,
       -1}, // grouped
  };
  unsigned seed = 300;
  for (const Variant &v : variants())
    for (unsigned bits : {4u, 2u})
      for (const ConvCase &c : cases)
        runConv(v, c, seed++, bits);
}

TEST(Int8Kernels, ConvChannelsLast) {
  const ConvCase cases[] = {
      // N, C, H, W, F, KH, KW, sh, sw, ph, pw, dh, dw, groups, xU, wU, outI8,
      // perChZp, xZp
      {1, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, false, true, false,
       -3}, // K = 27, int8 input
      {2, 8, 7, 7, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1, true, false, true, true,
       128}, // pointwise, rows read in place
      {1, 10, 8, 17, 70, 1, 1, 1, 1, 0, 0, 1, 1, 1, true, false, false, false,
       3}, // pointwise, C not a multiple of 4, int32 out, two column blocks
      {1, 16, 14, 14, 24, 1, 1, 2, 2, 0, 0, 1, 1, 1, true, false, true, false,
       7}, // strided pointwise
      {1, 4, 12, 12, 8, 3, 2, 1, 2, 2, 0, 2, 1, 1, false, true, false, false,
       0}, // dilated, uint8 weights
      {3, 24, 10, 2, 24, 1, 3, 1, 1, 0, 1, 1, 1, 1, true, false, true, false,
       2}, // 1x3 on narrow planes
      {2, 64, 6, 7, 130, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, false, true, true,
       6}, // K = 576, weight zero points, 3 column blocks
      {1, 32, 23, 19, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, true, false, true, false,
       9}, // stride 2, 110 positions: two row blocks
  };
  unsigned seed = 500;
  for (const Variant &v : variants())
    for (unsigned bits : {8u, 4u})
      for (const ConvCase &c : cases)
        runConv(v, c, seed++, bits, /*nhwc=*/true);
  for (const Variant &v : variants())
    for (const ConvCase &c : cases)
      if (c.outI8)
        runConv(v, c, seed++, 8, /*nhwc=*/true, /*residualAdd=*/true);
}

} // namespace

//===----------------------------------------------------------------------===//
// Float kernels (AVX-512F) against a float64 evaluation
//===----------------------------------------------------------------------===//

namespace {

bool hasAvx512() { return __builtin_cpu_supports("avx512f"); }

std::vector<float> randomFloats(std::mt19937 &rng, size_t n) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto &x : v)
    x = d(rng);
  return v;
}

/// |got - want| <= 1e-4 * (1 + sum |terms|), the float rounding of a sum.
void expectClose(double got, double want, double scale, const char *what,
                 int64_t &bad) {
  if (std::abs(got - want) > 1e-4 * (1 + scale) && bad++ < 5)
    ADD_FAILURE() << what << ": " << got << " != " << want;
}

/// qc.hadamard's kernel against x (F (x) H_p) / sqrt(p) evaluated directly
/// (H_p the Sylvester matrix, F a random m x m matrix): p a multiple of 16
/// (row by row) and not (16 rows transposed), with and without a factor,
/// row counts off the 16-row blocks, 1 and 3 tasks.
TEST(F32Kernels, Hadamard) {
  if (!hasAvx512())
    GTEST_SKIP() << "no AVX-512F on this CPU";
  struct Case {
    int64_t rows, m, p;
  };
  const Case cases[] = {{1, 1, 16},   {5, 1, 64}, {37, 12, 16},
                        {20, 12, 64}, {3, 3, 32}, {17, 3, 4},
                        {33, 5, 8},   {2, 1, 2},  {16, 1, 1}};
  unsigned seed = 400;
  for (const Case &c : cases) {
    std::mt19937 rng(seed++);
    int64_t n = c.m * c.p;
    auto x = randomFloats(rng, size_t(c.rows * n));
    auto f = randomFloats(rng, size_t(c.m * c.m));
    for (int64_t tasks : {1, 3}) {
      std::vector<float> out(size_t(c.rows * n), NAN);
      for (int64_t t = 0; t < tasks; ++t)
        qc_k_hadamard_f32_avx512(c.rows, c.m, c.p, x.data(),
                                 c.m > 1 ? f.data() : nullptr, out.data(), t,
                                 tasks);
      int64_t bad = 0;
      for (int64_t r = 0; r < c.rows; ++r)
        for (int64_t a2 = 0; a2 < c.m; ++a2)
          for (int64_t b2 = 0; b2 < c.p; ++b2) {
            double want = 0, scale = 0;
            for (int64_t a = 0; a < c.m; ++a)
              for (int64_t b = 0; b < c.p; ++b) {
                double h =
                    (__builtin_popcountll(uint64_t(b & b2)) & 1) ? -1.0 : 1.0;
                double fa = c.m > 1 ? double(f[size_t(a * c.m + a2)]) : 1.0;
                double v = double(x[size_t(r * n + a * c.p + b)]) * fa * h /
                           std::sqrt(double(c.p));
                want += v;
                scale += std::abs(v);
              }
            float got = out[size_t(r * n + a2 * c.p + b2)];
            ASSERT_FALSE(std::isnan(got)) << "row " << r << " left unwritten";
            expectClose(got, want, scale, "hadamard", bad);
          }
      EXPECT_EQ(bad, 0) << c.rows << " rows, m " << c.m << ", p " << c.p << ", "
                        << tasks << " tasks";
    }
  }
}

/// qc.softmax's kernel against exp(x - max) / sum in double: row lengths
/// on and off the 16 lanes, values spread over [-60, 60] (each row's exps
/// span many binades, some underflow), rows with -inf entries (masked
/// attention: exactly 0 there), a NaN row (all NaN), 1 and 3 tasks.
/// Tolerance: 4 float ulps of the value (relative 5e-7) plus 1e-30.
TEST(F32Kernels, Softmax) {
  if (!hasAvx512())
    GTEST_SKIP() << "no AVX-512F on this CPU";
  const int64_t lengths[] = {1, 5, 16, 17, 64, 128, 1000};
  std::mt19937 rng(500);
  std::uniform_real_distribution<float> wide(-60.0f, 60.0f);
  for (int64_t n : lengths) {
    int64_t rows = 7;
    std::vector<float> x(size_t(rows * n));
    for (float &v : x)
      v = wide(rng);
    for (int64_t i = 1; i < n; i += 3) // row 2: every third masked
      x[size_t(2 * n + i)] = -INFINITY;
    x[size_t(5 * n + n / 2)] = NAN; // row 5: NaN
    for (int64_t tasks : {1, 3}) {
      std::vector<float> out(size_t(rows * n), 12345.0f);
      for (int64_t t = 0; t < tasks; ++t)
        qc_k_softmax_f32_avx512(rows, n, x.data(), out.data(), t, tasks);
      int64_t bad = 0;
      for (int64_t r = 0; r < rows; ++r) {
        const float *xr = &x[size_t(r * n)];
        const float *o = &out[size_t(r * n)];
        if (r == 5) {
          for (int64_t i = 0; i < n; ++i)
            EXPECT_TRUE(std::isnan(o[i])) << "NaN row, n " << n << ", " << i;
          continue;
        }
        double mx = -INFINITY, sum = 0;
        for (int64_t i = 0; i < n; ++i)
          mx = std::max(mx, double(xr[i]));
        for (int64_t i = 0; i < n; ++i)
          sum += std::exp(double(xr[i]) - mx);
        for (int64_t i = 0; i < n; ++i) {
          double want = std::exp(double(xr[i]) - mx) / sum;
          if (std::abs(o[i] - want) > 5e-7 * want + 1e-30 && bad++ < 5)
            ADD_FAILURE() << "softmax n " << n << " row " << r << " [" << i
                          << "]: " << o[i] << " != " << want;
        }
      }
      EXPECT_EQ(bad, 0) << "n " << n << ", " << tasks << " tasks";
    }
  }
}

TEST(F32Kernels, MatmulOddShapes) {
  if (!hasAvx512())
    GTEST_SKIP() << "no AVX-512F on this CPU";
  struct Case {
    int64_t batch, M, N, K;
    bool constB;
  };
  const Case cases[] = {{1, 1, 1, 1, true},      {1, 7, 17, 5, true},
                        {2, 13, 67, 300, true},  {3, 5, 130, 71, false},
                        {2, 50, 64, 129, false}, {1, 97, 200, 257, true}};
  unsigned seed = 300;
  for (const Case &c : cases) {
    std::mt19937 rng(seed++);
    auto a = randomFloats(rng, size_t(c.batch * c.M * c.K));
    auto b = randomFloats(rng, size_t((c.constB ? 1 : c.batch) * c.K * c.N));
    std::vector<float> packed = qc::kernels::packMatmulBF32(b.data(), c.K, c.N);
    std::vector<float> out(size_t(c.batch * c.M * c.N), -1.0f);
    for (int64_t t = 0; t < 3; ++t) {
      int64_t batch = c.constB ? 1 : c.batch,
              M = c.constB ? c.batch * c.M : c.M;
      qc_k_matmul_f32_avx512(
          batch, M, c.N, c.K, a.data(), c.constB ? 0 : c.M * c.K,
          c.constB ? packed.data() : b.data(), c.constB ? 0 : c.K * c.N,
          c.constB, nullptr, out.data(), t, 3);
    }
    int64_t bad = 0;
    for (int64_t bi = 0; bi < c.batch; ++bi)
      for (int64_t m = 0; m < c.M; ++m)
        for (int64_t n = 0; n < c.N; ++n) {
          const float *bm = b.data() + (c.constB ? 0 : bi * c.K * c.N);
          double want = 0, scale = 0;
          for (int64_t k = 0; k < c.K; ++k) {
            double p =
                double(a[size_t((bi * c.M + m) * c.K + k)]) * bm[k * c.N + n];
            want += p;
            scale += std::abs(p);
          }
          expectClose(out[size_t((bi * c.M + m) * c.N + n)], want, scale,
                      "f32 matmul", bad);
        }
    EXPECT_EQ(bad, 0) << c.batch << "x" << c.M << "x" << c.N << "x" << c.K;
  }
}

TEST(F32Kernels, ConvOddShapes) {
  if (!hasAvx512())
    GTEST_SKIP() << "no AVX-512F on this CPU";
  struct Case {
    int64_t N, C, H, W, F, KH, KW, sh, sw, ph, pw, dh, dw;
    bool bias;
    int64_t groups = 1; // 1, or C = F: depthwise
  };
  const Case cases[] = {
      {1, 6, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, true, 6},      // depthwise
      {2, 3, 7, 150, 3, 3, 3, 2, 1, 1, 1, 1, 1, false, 3},    // rows of 150
      {1, 4, 6, 131, 4, 3, 5, 1, 3, 1, 2, 1, 2, true, 4},     // col stride 3
      {1, 5, 9, 17, 5, 5, 5, 1, 1, 2, 2, 1, 1, true, 5},      // 5x5
      {1, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {2, 8, 7, 7, 13, 1, 1, 1, 1, 0, 0, 1, 1, false},
      {1, 10, 8, 17, 20, 1, 1, 1, 1, 0, 0, 1, 1, true},
      {1, 6, 10, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1, true},
      {1, 4, 12, 12, 8, 3, 2, 1, 2, 2, 0, 2, 1, false},
      {1, 3, 15, 15, 9, 7, 7, 2, 2, 3, 3, 1, 1, true},
      {1, 64, 6, 7, 50, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {1, 16, 9, 9, 70, 1, 1, 2, 2, 0, 0, 1, 1, true},
  };
  unsigned seed = 400;
  for (const Case &c : cases) {
    std::mt19937 rng(seed++);
    int64_t OH = (c.H + 2 * c.ph - c.dh * (c.KH - 1) - 1) / c.sh + 1;
    int64_t OW = (c.W + 2 * c.pw - c.dw * (c.KW - 1) - 1) / c.sw + 1;
    int64_t Cg = c.C / c.groups, Fg = c.F / c.groups, K = Cg * c.KH * c.KW;
    auto x = randomFloats(rng, size_t(c.N * c.C * c.H * c.W));
    auto w = randomFloats(rng, size_t(c.F * K));
    auto bias = randomFloats(rng, size_t(c.F));
    std::vector<float> out(size_t(c.N * c.F * OH * OW), -1.0f);
    for (int64_t t = 0; t < 4; ++t)
      qc_k_conv2d_f32_avx512(c.N, c.C, c.H, c.W, c.F, c.KH, c.KW, OH, OW, c.sh,
                             c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, x.data(),
                             w.data(), c.bias ? bias.data() : nullptr, nullptr,
                             nullptr, 0, 0, 0, out.data(), t, 4);
    int64_t bad = 0;
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t f = 0; f < c.F; ++f)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            double want = c.bias ? bias[size_t(f)] : 0.0,
                   scale = std::abs(want);
            for (int64_t ci = 0; ci < Cg; ++ci)
              for (int64_t kh = 0; kh < c.KH; ++kh)
                for (int64_t kw = 0; kw < c.KW; ++kw) {
                  int64_t ih = oh * c.sh - c.ph + kh * c.dh,
                          iw = ow * c.sw - c.pw + kw * c.dw;
                  if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W)
                    continue;
                  int64_t cx = (f / Fg) * Cg + ci;
                  double p =
                      double(
                          x[size_t(((n * c.C + cx) * c.H + ih) * c.W + iw)]) *
                      w[size_t(f * K + (ci * c.KH + kh) * c.KW + kw)];
                  want += p;
                  scale += std::abs(p);
                }
            expectClose(out[size_t(((n * c.F + f) * OH + oh) * OW + ow)], want,
                        scale, "f32 conv", bad);
          }
    EXPECT_EQ(bad, 0) << "conv C" << c.C << " F" << c.F << " " << c.KH << "x"
                      << c.KW;
  }
}

/// The fused epilogue of the float conv kernel against the ops it
/// replaces, step by step in scalar code on the kernel's own unfused output:
/// bit for bit (any NaN matching any NaN), NaNs, both zeros and the four
/// code paths (pointwise, shifted rows through the row buffer, strided,
/// depthwise) included.
TEST(F32Kernels, ConvEpilogue) {
  if (!hasAvx512())
    GTEST_SKIP() << "no AVX-512F on this CPU";
  struct Case {
    int64_t C, H, W, F, KH, KW, s, p, groups;
  };
  const Case cases[] = {{8, 5, 9, 13, 1, 1, 1, 0, 1},  // pointwise
                        {5, 7, 6, 70, 3, 3, 1, 1, 1},  // shifted, Wp != OW
                        {6, 9, 11, 9, 3, 3, 2, 1, 1},  // strided
                        {7, 6, 20, 7, 3, 3, 1, 1, 7}}; // depthwise
  enum { Add = 0, Max = 1, Min = 2, Leaky = 3 };
  const std::vector<std::vector<float>> programs = {
      {Add, 0, Max, 0},
      {Leaky, 0.2f, Max, -0.4f},
      {Add, 0, Min, -0.0f, Max, -1.5f, Leaky, 0.1f},
      {Add, 0, Min, -0.0f, Max, 0.0f}, // +0 -> -0 -> +0
      {Add, 0, Max, 0.0f, Min, -0.0f}, // +0 -> +0 -> -0
      {Max, 0.25f, Min, 0.5f}};
  auto maximum = [](float a, float b) {
    if (std::isnan(a) || std::isnan(b))
      return std::nanf("");
    if (a == b)
      return std::signbit(a) ? b : a;
    return a > b ? a : b;
  };
  auto minimum = [](float a, float b) {
    if (std::isnan(a) || std::isnan(b))
      return std::nanf("");
    if (a == b)
      return std::signbit(a) ? a : b;
    return a < b ? a : b;
  };
  unsigned seed = 500;
  for (const Case &c : cases) {
    std::mt19937 rng(seed++);
    int64_t OH = (c.H + 2 * c.p - c.KH) / c.s + 1,
            OW = (c.W + 2 * c.p - c.KW) / c.s + 1, N = 2;
    int64_t K = c.C / c.groups * c.KH * c.KW;
    auto x = randomFloats(rng, size_t(N * c.C * c.H * c.W));
    auto w = randomFloats(rng, size_t(c.F * K));
    auto bias = randomFloats(rng, size_t(c.F));
    size_t n = size_t(N * c.F * OH * OW);
    std::vector<float> plain(n);
    auto run = [&](const float *res, const std::vector<float> &steps,
                   float *out) {
      for (int64_t t = 0; t < 3; ++t)
        qc_k_conv2d_f32_avx512(N, c.C, c.H, c.W, c.F, c.KH, c.KW, OH, OW, c.s,
                               c.s, c.p, c.p, 1, 1, c.groups, x.data(),
                               w.data(), bias.data(), res,
                               steps.empty() ? nullptr : steps.data(),
                               int64_t(steps.size() / 2), 0, 0, out, t, 3);
    };
    run(nullptr, {}, plain.data());
    // The residual: random, the negated output (sums of +0), NaN, -0.
    auto res = randomFloats(rng, n);
    for (size_t i = 0; i < n; i += 7)
      res[i] = -plain[i];
    for (size_t i = 3; i < n; i += 29)
      res[i] = std::nanf("");
    for (size_t i = 5; i < n; i += 31)
      res[i] = -0.0f;
    for (const std::vector<float> &steps : programs) {
      std::vector<float> out(n, -7.0f);
      run(res.data(), steps, out.data());
      int64_t bad = 0;
      for (size_t i = 0; i < n; ++i) {
        float want = plain[i];
        for (size_t s = 0; s < steps.size(); s += 2) {
          float v = steps[s + 1];
          switch (int(steps[s])) {
          case Add:
            want = want + res[i];
            break;
          case Max:
            want = maximum(want, v);
            break;
          case Min:
            want = minimum(want, v);
            break;
          default:
            want = want < 0 ? want * v : want;
          }
        }
        bool same = std::isnan(want) ? std::isnan(out[i])
                                     : std::memcmp(&want, &out[i], 4) == 0;
        if (!same && bad++ < 5)
          ADD_FAILURE() << "[" << i << "]: " << out[i] << " != " << want;
      }
      EXPECT_EQ(bad, 0) << "conv C" << c.C << " F" << c.F << " " << c.KH << "x"
                        << c.KW << ", " << steps.size() / 2 << " steps";
    }
  }
}

/// A max pool fused into the float conv kernel against the kernel's own
/// unpooled output pooled in scalar code (arith.maximumf from -inf), bit
/// for bit: the shapes qc_conv2d_f32_pool_fusable accepts (direct stores,
/// blocks of whole window rows), with an epilogue, NaNs among the inputs.
TEST(F32Kernels, ConvMaxPool) {
  if (!hasAvx512())
    GTEST_SKIP() << "no AVX-512F on this CPU";
  struct Case {
    int64_t C, H, W, F, KH, KW, s, p, poolH, poolW;
  };
  const Case cases[] = {{6, 10, 32, 9, 3, 1, 1, 0, 2, 2},  // 3x1, OW 32
                        {8, 12, 16, 70, 1, 1, 1, 0, 2, 2}, // pointwise
                        {5, 15, 15, 7, 3, 3, 2, 1, 2, 2},  // strided, OW 8
                        {4, 6, 4, 13, 3, 1, 1, 0, 1, 2},   // 1x2 pools
                        {3, 10, 2, 5, 3, 1, 1, 1, 2, 2}};  // OW 4, OH 10
  const std::vector<float> steps = {3, 0.2f, 1, -0.4f};    // leaky, max
  unsigned seed = 600;
  for (const Case &c : cases) {
    std::mt19937 rng(seed++);
    int64_t N = 2, OH = (c.H + 2 * c.p - c.KH) / c.s + 1,
            OW = (c.W + 2 * c.p - c.KW) / c.s + 1;
    ASSERT_TRUE(qc_conv2d_f32_pool_fusable(c.C, c.H, c.W, c.KH, c.KW, OH, OW,
                                           c.s, c.s, c.p, c.p, 1, c.poolH,
                                           c.poolW))
        << c.KH << "x" << c.KW << " OW " << OW;
    auto x = randomFloats(rng, size_t(N * c.C * c.H * c.W));
    x[3] = std::nanf("");
    auto w = randomFloats(rng, size_t(c.F * c.C * c.KH * c.KW));
    auto bias = randomFloats(rng, size_t(c.F));
    int64_t POH = OH / c.poolH, POW = OW / c.poolW;
    std::vector<float> full(size_t(N * c.F * OH * OW)),
        pooled(size_t(N * c.F * POH * POW), -7.0f);
    for (int64_t t = 0; t < 3; ++t) {
      qc_k_conv2d_f32_avx512(N, c.C, c.H, c.W, c.F, c.KH, c.KW, OH, OW, c.s,
                             c.s, c.p, c.p, 1, 1, 1, x.data(), w.data(),
                             bias.data(), nullptr, steps.data(), 2, 0, 0,
                             full.data(), t, 3);
      qc_k_conv2d_f32_avx512(N, c.C, c.H, c.W, c.F, c.KH, c.KW, OH, OW, c.s,
                             c.s, c.p, c.p, 1, 1, 1, x.data(), w.data(),
                             bias.data(), nullptr, steps.data(), 2, c.poolH,
                             c.poolW, pooled.data(), t, 3);
    }
    int64_t bad = 0;
    for (int64_t nf = 0; nf < N * c.F; ++nf)
      for (int64_t pr = 0; pr < POH; ++pr)
        for (int64_t pc = 0; pc < POW; ++pc) {
          float want = -INFINITY;
          for (int64_t i = 0; i < c.poolH; ++i)
            for (int64_t j = 0; j < c.poolW; ++j) {
              float v = full[size_t((nf * OH + pr * c.poolH + i) * OW +
                                    pc * c.poolW + j)];
              want = std::isnan(want) || std::isnan(v) ? std::nanf("")
                     : want == v ? (std::signbit(want) ? v : want)
                                 : std::max(want, v);
            }
          float got = pooled[size_t((nf * POH + pr) * POW + pc)];
          bool same = std::isnan(want) ? std::isnan(got)
                                       : std::memcmp(&want, &got, 4) == 0;
          if (!same && bad++ < 5)
            ADD_FAILURE() << "[" << nf << "][" << pr << "][" << pc
                          << "]: " << got << " != " << want;
        }
    EXPECT_EQ(bad, 0) << c.KH << "x" << c.KW << " pool " << c.poolH << "x"
                      << c.poolW;
  }
}

} // namespace
