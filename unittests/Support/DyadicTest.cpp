//===- DyadicTest.cpp - dyadic requantization against a real reference ----===//
//
// The reference is round-half-to-even of x * scale in 80-bit long double
// (64-bit mantissa: exact enough that the only disagreement left is the
// dyadic approximation and the tie-breaking rule), saturated like the result.
//
//===----------------------------------------------------------------------===//
#include "qc/Support/Dyadic.h"

#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace qc;

namespace {

int64_t reference(int64_t x, double scale, int64_t zp, int64_t lo, int64_t hi) {
  long double v = std::nearbyintl((long double)x * (long double)scale);
  // Saturate in long double first: v can exceed int64.
  if (v < (long double)lo - zp)
    return lo;
  if (v > (long double)hi - zp)
    return hi;
  return saturate(zp + (int64_t)v, lo, hi);
}

std::vector<int64_t> edgeAccumulators() {
  std::vector<int64_t> v = {
      0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
  for (int k = 1; k < 31; ++k) {
    v.push_back(int64_t(1) << k);
    v.push_back(-(int64_t(1) << k));
    v.push_back((int64_t(1) << k) - 1);
    v.push_back(-(int64_t(1) << k) + 1);
  }
  return v;
}

struct OutputRange {
  const char *name;
  int64_t zp, lo, hi;
};

// int8 symmetric, uint8 asymmetric, int8 with a fused Relu6-like clamp, int32.
const OutputRange kRanges[] = {{"i8", 0, -128, 127},
                               {"u8 zp=128", 128, 0, 255},
                               {"i8 zp=-5 relu", -5, -5, 90},
                               {"i32", 0, INT32_MIN, INT32_MAX}};

/// Checks every (scale, accumulator) pair; returns the count of results that
/// differ from the reference at all (by exactly one, else the test fails).
int64_t checkPairs(const std::vector<double> &scales,
                   const std::vector<int64_t> &accs, int64_t &checked) {
  int64_t offByOne = 0;
  for (double scale : scales) {
    std::optional<Dyadic> d = computeDyadic(scale);
    EXPECT_TRUE(d.has_value()) << "scale " << scale;
    if (!d)
      continue;
    for (int64_t x : accs) {
      for (const OutputRange &r : kRanges) {
        int64_t got = requantize(x, *d, 0, r.zp, r.lo, r.hi);
        int64_t want = reference(x, scale, r.zp, r.lo, r.hi);
        ++checked;
        if (got != want)
          ++offByOne;
        if (std::llabs(got - want) > 1) {
          ADD_FAILURE() << "scale " << scale << " (m=" << d->multiplier
                        << ", s=" << d->shift << ") acc " << x << " range "
                        << r.name << ": got " << got << ", want " << want;
          return offByOne;
        }
      }
    }
  }
  return offByOne;
}

TEST(Dyadic, RejectsScalesWithoutAnInt32Result) {
  EXPECT_FALSE(computeDyadic(0.0));
  EXPECT_FALSE(computeDyadic(-0.5));
  EXPECT_FALSE(computeDyadic(std::nan("")));
  EXPECT_FALSE(computeDyadic(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(computeDyadic(2147483648.0));
  EXPECT_TRUE(computeDyadic(2147483647.0));
  EXPECT_TRUE(computeDyadic(std::numeric_limits<double>::denorm_min()));
}

TEST(Dyadic, PowersOfTwoAreExact) {
  for (int e = -62 + 31; e < 31; ++e) {
    std::optional<Dyadic> d = computeDyadic(std::ldexp(1.0, e));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->value(), std::ldexp(1.0, e)) << "2^" << e;
  }
}

TEST(Dyadic, MultiplierIsNormalizedTo31Bits) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> logScale(-31.0, 31.0);
  for (int i = 0; i < 200000; ++i) {
    double scale = std::exp2(logScale(rng));
    std::optional<Dyadic> d = computeDyadic(scale);
    ASSERT_TRUE(d);
    ASSERT_GE(d->multiplier, 1 << 30) << scale;
    ASSERT_GE(d->shift, 0);
    ASSERT_LE(d->shift, kMaxDyadicShift);
    // Rounding m to an integer in [2^30, 2^31) errs by at most 2^-31 relative.
    ASSERT_LE(std::fabs(d->value() - scale), scale * std::ldexp(1.0, -31))
        << scale;
  }
}

TEST(Dyadic, RoundingShiftIsFloorOfHalfUp) {
  // Against exact rational arithmetic: floor((v + 2^(s-1)) / 2^s) with a
  // true floor division in 128 bits.
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<int64_t> val(-(int64_t(1) << 62),
                                             (int64_t(1) << 62) - 1);
  for (int i = 0; i < 1000000; ++i) {
    int64_t v = val(rng);
    int s = int(rng() % 64);
    __int128 num = (__int128)v + (s ? ((__int128)1 << (s - 1)) : 0);
    __int128 den = (__int128)1 << s;
    __int128 q = num / den;
    if ((num % den != 0) && (num < 0))
      --q;
    ASSERT_EQ(rshiftRound(v, s), (int64_t)q) << v << " >> " << s;
  }
}

TEST(Dyadic, WithinOneUnitOfRealRescaleOnRandomPairs) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  std::mt19937_64 rng(3);
  // Scales log-uniform over the whole accepted range, tiny ones included.
  std::uniform_real_distribution<double> logScale(-45.0, 31.0);
  std::uniform_int_distribution<int64_t> acc(INT32_MIN, INT32_MAX);
  std::vector<double> scales(2000);
  for (double &s : scales)
    s = std::exp2(logScale(rng));
  std::vector<int64_t> accs = edgeAccumulators();
  for (int i = 0; i < 1000; ++i)
    accs.push_back(acc(rng));
  int64_t checked = 0;
  int64_t off = checkPairs(scales, accs, checked);
  EXPECT_GE(checked, 8000000);
  std::printf("checked %lld (scale, acc, range) triples, %lld off by one\n",
              (long long)checked, (long long)off);
}

TEST(Dyadic, TypicalRequantizationIsAlmostAlwaysExact) {
  // Conv/matmul accumulators of int8 products and scales s_in*s_w/s_out.
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> logScale(-20.0, -1.0);
  std::uniform_int_distribution<int64_t> acc(-(1 << 22), 1 << 22);
  std::vector<double> scales(1000);
  for (double &s : scales)
    s = std::exp2(logScale(rng));
  std::vector<int64_t> accs(2000);
  for (int64_t &a : accs)
    a = acc(rng);
  int64_t checked = 0;
  int64_t off = checkPairs(scales, accs, checked);
  // Disagreements come only from ties (half-up vs half-even) and the 2^-31
  // relative error of the multiplier; both are rare at these magnitudes.
  EXPECT_LT(double(off) / double(checked), 1e-3)
      << off << " of " << checked << " differ by one";
}

TEST(Dyadic, EdgeScales) {
  std::vector<double> scales = {std::numeric_limits<double>::denorm_min(),
                                1e-300,
                                std::ldexp(1.0, -33),
                                std::ldexp(1.0, -32),
                                std::ldexp(0.75, -31),
                                0.5,
                                0.999999999,
                                1.0,
                                1.000000001,
                                3.0,
                                65535.5,
                                std::ldexp(1.0, 30),
                                2147483647.0,
                                std::nextafter(2147483648.0, 0)};
  int64_t checked = 0;
  checkPairs(scales, edgeAccumulators(), checked);
  EXPECT_GT(checked, 0);
}

TEST(Dyadic, InputZeroPointIsSubtractedFirst) {
  std::optional<Dyadic> d = computeDyadic(0.25);
  ASSERT_TRUE(d);
  // (10 - 2) * 0.25 = 2, + zp 3 = 5.
  EXPECT_EQ(requantize(10, *d, 2, 3, -128, 127), 5);
  // Half rounds up: (6 - 0) * 0.25 = 1.5 -> 2; -1.5 -> -1.
  EXPECT_EQ(requantize(6, *d, 0, 0, -128, 127), 2);
  EXPECT_EQ(requantize(-6, *d, 0, 0, -128, 127), -1);
  // Clamp to a fused Relu range.
  EXPECT_EQ(requantize(-400, *d, 0, 3, 3, 127), 3);
}

TEST(IntegerRange, NarrowAndWideTypes) {
  EXPECT_EQ(integerRange(1, false).max, 1);
  EXPECT_EQ(integerRange(1, true).min, -1);
  EXPECT_EQ(integerRange(1, true).max, 0);
  EXPECT_EQ(integerRange(4, true).min, -8);
  EXPECT_EQ(integerRange(4, true).max, 7);
  EXPECT_EQ(integerRange(4, false).max, 15);
  EXPECT_EQ(integerRange(8, false).max, 255);
  EXPECT_EQ(integerRange(32, true).min, INT32_MIN);
  EXPECT_EQ(integerRange(64, true).max, INT64_MAX);
}

} // namespace

// Fewer multiplier bits (an int64 accumulator's requantization): the
// multiplier stays below 2^b, the value within 2^-(b-1) of the scale, and a
// 42-bit accumulator times it stays inside int64.
TEST(Dyadic, FewerMultiplierBits) {
  for (unsigned bits : {8u, 20u, 24u, 30u}) {
    for (double scale : {3.1e-9, 0.000173, 0.5, 0.75, 1.0, 37.25}) {
      std::optional<Dyadic> d = computeDyadic(scale, bits);
      ASSERT_TRUE(d) << scale << " at " << bits;
      EXPECT_LT(d->multiplier, int64_t(1) << bits);
      EXPECT_GE(d->multiplier, int64_t(1) << (bits - 1));
      EXPECT_NEAR(d->value() / scale, 1.0, std::ldexp(1.0, 1 - int(bits)));
      if (bits <= 20) { // against 128-bit arithmetic
        for (int64_t x : {(int64_t(1) << 42) - 1, -(int64_t(1) << 42) + 7}) {
          __int128 p = __int128(x) * d->multiplier;
          __int128 ref = d->shift ? (p + (__int128(1) << (d->shift - 1))) >> d->shift : p;
          EXPECT_EQ(requantize(x, *d, 0, 0, INT64_MIN, INT64_MAX), int64_t(ref));
        }
      }
    }
  }
  // A scale the bits cannot hold: refused.
  EXPECT_FALSE(computeDyadic(300.0, 8));
  EXPECT_FALSE(computeDyadic(0.5, 0));
}
