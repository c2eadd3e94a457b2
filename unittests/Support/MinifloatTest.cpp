//===- MinifloatTest.cpp - minifloat encodings against the specifications -===//
//
// qc::minifloat against the OCP OFP8 and MX v1.0 definitions written out
// here independently: every code point's value from its sign, exponent and
// mantissa fields with the format's bias and special encodings; the
// specifications' table values (largest finite, smallest subnormal and
// normal); rounding to nearest, ties to even, checked against a search
// over all code points at every midpoint, just beside it and at random
// values; saturation; NaN and infinity refused.
//
//===----------------------------------------------------------------------===//
#include "qc/Support/Minifloat.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace {

using namespace qc::minifloat;

struct Spec {
  Format f;
  unsigned e, m;
  int bias;
  double max, minSub, minNormal;
};

// OCP OFP8 (E4M3, E5M2) and MX v1.0 section 5.3 (E2M3, E3M2, E2M1).
const Spec kSpecs[] = {
    {Format::E4M3, 4, 3, 7, 448.0, std::ldexp(1.0, -9), std::ldexp(1.0, -6)},
    {Format::E5M2, 5, 2, 15, 57344.0, std::ldexp(1.0, -16),
     std::ldexp(1.0, -14)},
    {Format::E2M3, 2, 3, 1, 7.5, 0.125, 1.0},
    {Format::E3M2, 3, 2, 3, 28.0, 0.0625, 0.25},
    {Format::E2M1, 2, 1, 1, 6.0, 0.5, 1.0},
};

/// The value of `code` by the specifications' field definitions.
double reference(const Spec &s, uint32_t code) {
  uint32_t sign = (code >> (s.e + s.m)) & 1,
           exp = (code >> s.m) & ((1u << s.e) - 1),
           man = code & ((1u << s.m) - 1);
  uint32_t expMax = (1u << s.e) - 1, manMax = (1u << s.m) - 1;
  double v;
  if (s.f == Format::E4M3 && exp == expMax && man == manMax)
    return std::nan(""); // S.1111.111
  if (s.f == Format::E5M2 && exp == expMax)
    v = man ? std::nan("") : INFINITY; // S.11111.00: infinity, else NaN
  else if (exp == 0)
    v = std::ldexp(double(man), 1 - s.bias - int(s.m));
  else
    v = std::ldexp(1.0 + double(man) / double(1u << s.m), int(exp) - s.bias);
  return sign ? -v : v;
}

bool sameValue(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) ||
         (a == b && std::signbit(a) == std::signbit(b));
}

/// Round to nearest, ties to the even code, saturated: a search over the
/// finite codes of x's sign.
uint32_t nearestCode(const Spec &s, double x) {
  unsigned bits = 1 + s.e + s.m;
  uint32_t best = 0;
  double bestDist = INFINITY;
  bool neg = std::signbit(x);
  double ax = std::min(std::fabs(x), s.max);
  for (uint32_t c = 0; c < (1u << bits); ++c) {
    double v = reference(s, c);
    if (!std::isfinite(v) || std::signbit(v) != neg)
      continue;
    double d = std::fabs(std::fabs(v) - ax);
    if (d < bestDist || (d == bestDist && (c & 1) == 0 && (best & 1))) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

TEST(Minifloat, EveryCodePointDecodes) {
  for (const Spec &s : kSpecs) {
    Layout l = layout(s.f);
    ASSERT_EQ(l.bits, 1 + s.e + s.m) << name(s.f);
    ASSERT_EQ(l.exponentBits, s.e);
    ASSERT_EQ(l.mantissaBits, s.m);
    double maxSeen = 0;
    for (uint32_t c = 0; c < (1u << l.bits); ++c) {
      double want = reference(s, c), got = decode(s.f, c);
      EXPECT_TRUE(sameValue(want, got))
          << name(s.f) << " code " << c << ": " << got << " != " << want;
      if (std::isfinite(want))
        maxSeen = std::max(maxSeen, want);
    }
    EXPECT_EQ(maxSeen, s.max) << name(s.f);
    EXPECT_EQ(maxFinite(s.f), s.max) << name(s.f);
    EXPECT_EQ(decode(s.f, 1), s.minSub) << name(s.f);
    EXPECT_EQ(decode(s.f, 1u << s.m), s.minNormal) << name(s.f);
  }
  // FP4 E2M1's magnitudes (MX v1.0 table): 0, 0.5, 1, 1.5, 2, 3, 4, 6.
  const double e2m1[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (uint32_t c = 0; c < 8; ++c) {
    EXPECT_EQ(decode(Format::E2M1, c), e2m1[c]);
    EXPECT_EQ(decode(Format::E2M1, c | 8), -e2m1[c]);
  }
  // E8M0: 2^(e - 127), 0xFF NaN.
  for (uint32_t c = 0; c < 255; ++c)
    EXPECT_EQ(decode(Format::E8M0, c), std::ldexp(1.0, int(c) - 127)) << c;
  EXPECT_TRUE(std::isnan(decode(Format::E8M0, 255)));
  EXPECT_EQ(e8m0Code(0), 127u);
  EXPECT_EQ(e8m0Code(-127), 0u);
  EXPECT_EQ(e8m0Code(200), 254u);
  EXPECT_EQ(e8m0Code(-300), 0u);
}

TEST(Minifloat, RoundsToNearestEvenAndSaturates) {
  std::mt19937 rng(7);
  for (const Spec &s : kSpecs) {
    unsigned bits = 1 + s.e + s.m;
    std::vector<double> finite;
    for (uint32_t c = 0; c < (1u << bits); ++c)
      if (std::isfinite(reference(s, c)))
        finite.push_back(reference(s, c));
    std::sort(finite.begin(), finite.end());
    // Every code point, every midpoint between neighbours, and the floats
    // just beside them; then random values over twice the range.
    std::vector<float> xs;
    for (size_t i = 0; i < finite.size(); ++i) {
      float v = float(finite[i]);
      xs.insert(xs.end(),
                {v, std::nextafter(v, -INFINITY), std::nextafter(v, INFINITY)});
      if (i + 1 < finite.size()) {
        float mid = float((finite[i] + finite[i + 1]) / 2);
        xs.insert(xs.end(), {mid, std::nextafter(mid, -INFINITY),
                             std::nextafter(mid, INFINITY)});
      }
    }
    std::uniform_real_distribution<double> wide(-2 * s.max, 2 * s.max),
        tiny(-4 * s.minNormal, 4 * s.minNormal);
    for (int i = 0; i < 20000; ++i)
      xs.insert(xs.end(), {float(wide(rng)), float(tiny(rng))});
    xs.insert(xs.end(), {0.0f, -0.0f, float(s.max) * 1.5f, -1e30f, 1e30f,
                         std::numeric_limits<float>::max(),
                         std::numeric_limits<float>::denorm_min()});
    int64_t bad = 0;
    for (float x : xs) {
      std::optional<uint32_t> got = encode(s.f, x);
      uint32_t want = nearestCode(s, x);
      if ((!got || *got != want) && bad++ < 5)
        ADD_FAILURE() << name(s.f) << " " << x << ": code "
                      << (got ? int64_t(*got) : -1) << " != " << want;
    }
    EXPECT_EQ(bad, 0) << name(s.f);
    // Ties go to the even mantissa: 1.0625 lies halfway between E4M3's 1
    // (mantissa 0) and 1.125 (mantissa 1).
    if (s.f == Format::E4M3) {
      EXPECT_EQ(decode(s.f, *encode(s.f, 1.0625f)), 1.0);
      EXPECT_EQ(decode(s.f, *encode(s.f, 1.1875f)), 1.25);
    }
    // Saturation, not NaN or infinity.
    EXPECT_EQ(decode(s.f, *encode(s.f, 1e6f)), s.max) << name(s.f);
    EXPECT_EQ(decode(s.f, *encode(s.f, -1e6f)), -s.max) << name(s.f);
    // NaN and infinity are refused.
    EXPECT_FALSE(encode(s.f, std::nanf("")));
    EXPECT_FALSE(encode(s.f, INFINITY));
    EXPECT_FALSE(encode(s.f, -INFINITY));
  }
}

TEST(Minifloat, MxBlocks) {
  // emax_elem of MX v1.0 table 1.
  EXPECT_EQ(maxExponent(Format::E4M3), 8);
  EXPECT_EQ(maxExponent(Format::E5M2), 15);
  EXPECT_EQ(maxExponent(Format::E2M3), 2);
  EXPECT_EQ(maxExponent(Format::E3M2), 4);
  EXPECT_EQ(maxExponent(Format::E2M1), 2);
  // A block whose values FP4 holds exactly at scale 1: max 6 = 1.5 * 2^2.
  const float exact[8] = {0, 0.5f, -1, 1.5f, 2, -3, 4, 6};
  uint32_t scale, codes[32];
  ASSERT_TRUE(quantizeMxBlock(Format::E2M1, exact, 8, scale, codes));
  EXPECT_EQ(scale, 127u);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(decode(Format::E2M1, codes[i]), exact[i]);
  // Random blocks of 32 over many magnitudes: the scale is 2^(floor(log2
  // amax) - emax), each element the round-to-nearest-even of v / scale.
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::uniform_int_distribution<int> ed(-30, 30);
  for (const Spec &s : kSpecs)
    for (int b = 0; b < 500; ++b) {
      float v[32];
      int e = ed(rng);
      for (float &x : v)
        x = std::ldexp(nd(rng), e);
      ASSERT_TRUE(quantizeMxBlock(s.f, v, 32, scale, codes));
      float amax = 0;
      for (float x : v)
        amax = std::max(amax, std::fabs(x));
      int want = int(std::floor(std::log2(double(amax)))) - maxExponent(s.f);
      ASSERT_EQ(int(scale) - 127, want) << name(s.f);
      for (int i = 0; i < 32; ++i) {
        double scaled = std::ldexp(double(v[i]), -want);
        ASSERT_LE(std::fabs(scaled), s.max * 2) << name(s.f);
        EXPECT_EQ(codes[i], nearestCode(s, scaled)) << name(s.f) << " " << v[i];
      }
    }
  // Zeros: the smallest scale; a NaN or infinity: refused with its index.
  const float zeros[4] = {0, 0, -0.0f, 0};
  ASSERT_TRUE(quantizeMxBlock(Format::E4M3, zeros, 4, scale, codes));
  EXPECT_EQ(scale, 0u);
  float withNan[5] = {1, 2, 3, std::nanf(""), 5};
  size_t bad = 99;
  EXPECT_FALSE(quantizeMxBlock(Format::E4M3, withNan, 5, scale, codes, &bad));
  EXPECT_EQ(bad, 3u);
  withNan[3] = -INFINITY;
  EXPECT_FALSE(quantizeMxBlock(Format::E2M1, withNan, 5, scale, codes, &bad));
  EXPECT_EQ(bad, 3u);
}

TEST(Minifloat, Packing) {
  // FP4: two to a byte, the first in the low nibble.
  const uint32_t fp4[3] = {0x1, 0xF, 0x7};
  EXPECT_EQ(packCodes(fp4, 3, 4), (std::vector<uint8_t>{0xF1, 0x07}));
  // FP6: four to three bytes, least significant bit first:
  // 0x3F | 0x00 << 6 | 0x15 << 12 | 0x2A << 18 = 0xA9503F.
  const uint32_t fp6[4] = {0x3F, 0x00, 0x15, 0x2A};
  EXPECT_EQ(packCodes(fp6, 4, 6), (std::vector<uint8_t>{0x3F, 0x50, 0xA9}));
  std::mt19937 rng(5);
  for (unsigned bits : {4u, 6u, 8u})
    for (size_t n : {size_t(1), size_t(3), size_t(32), size_t(33)}) {
      std::vector<uint32_t> codes(n);
      for (uint32_t &c : codes)
        c = rng() & ((1u << bits) - 1);
      std::vector<uint8_t> packed = packCodes(codes.data(), n, bits);
      EXPECT_EQ(packed.size(), (n * bits + 7) / 8);
      EXPECT_EQ(unpackCodes(packed.data(), n, bits), codes) << bits << " " << n;
    }
}

} // namespace
