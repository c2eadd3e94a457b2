//===- RotationTest.cpp - makeRotation's transforms are orthogonal --------===//
//
// T is built by Rotation::apply on the unit rows; T T^T must be the identity
// to float64 rounding, and where n = c 2^k with 4c - 1 prime (192, 768, 120)
// T is a Hadamard matrix: every entry +-1/sqrt(n).
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/Transforms/LinearGroups.h"

#include <cmath>
#include <gtest/gtest.h>
#include <vector>

using namespace qc;

namespace {

std::vector<double> matrix(const Rotation &r) {
  int64_t n = r.n;
  std::vector<double> t(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    t[i * n + i] = 1.0;
    r.apply(&t[i * n]);
  }
  return t;
}

double orthogonalityError(const std::vector<double> &t, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t c = 0; c < n; ++c)
        dot += t[i * n + c] * t[j * n + c];
      worst = std::max(worst, std::fabs(dot - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}

TEST(Rotation, OrthogonalForEverySize) {
  for (int64_t n : {1, 2, 3, 6, 12, 20, 28, 64, 96, 120, 192, 240, 320, 768}) {
    Rotation r = makeRotation(n, 7);
    ASSERT_EQ(r.m * r.p, n) << n;
    ASSERT_EQ(int64_t(r.signs.size()), n);
    EXPECT_LT(orthogonalityError(matrix(r), n), 1e-12) << "n = " << n;
  }
}

TEST(Rotation, HadamardWhereAPaleyFactorExists) {
  // 12 = 12 x 1, 20 = 20 x 1, 120 = 60 x 2, 192 = 12 x 16, 320 = 20 x 16,
  // 768 = 12 x 64: a Paley factor of order 4c (11, 19, 59 prime).
  for (int64_t n : {12, 20, 120, 192, 320, 768}) {
    Rotation r = makeRotation(n, 3);
    std::vector<double> t = matrix(r);
    double e = 1.0 / std::sqrt(double(n)), worst = 0;
    for (double x : t)
      worst = std::max(worst, std::fabs(std::fabs(x) - e));
    EXPECT_LT(worst, 1e-12) << "n = " << n << " (factor " << r.m << ")";
    EXPECT_EQ(r.m % 4, 0) << n;
  }
  // 6 = 3 x 2 (2 < 4) and 28 = 7 x 4 (27 is not prime): a random factor.
  EXPECT_EQ(makeRotation(6, 3).m, 3);
  EXPECT_EQ(makeRotation(28, 3).m, 7);
}

} // namespace
