//===- BitWidthsTest.cpp - the bit-width program against exhaustive search ===//
#include "qc/Quantization/BitWidths.h"

#include "llvm/Support/Error.h"
#include <gtest/gtest.h>
#include <random>

using namespace qc;

namespace {

/// A random table: `layers` layers over `acts` activations, costs falling
/// with the width (as measured ones do), sizes and MACs of a few orders.
SensitivityTable randomTable(std::mt19937 &rng, size_t layers, size_t acts,
                             std::vector<unsigned> wBits,
                             std::vector<unsigned> aBits) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  SensitivityTable t;
  t.metric = qc::SensitivityMetric::MSE;
  t.weightBits = wBits;
  t.activationBits = aBits;
  t.fixedBytes = 1000;
  for (size_t g = 0; g < acts; ++g) {
    t.activations.push_back("a" + std::to_string(g));
    std::vector<double> c;
    for (unsigned b : aBits)
      c.push_back(u(rng) * std::pow(2.0, -2.0 * b));
    t.activationCost.push_back(c);
  }
  for (size_t l = 0; l < layers; ++l) {
    LayerInfo info;
    info.name = "l" + std::to_string(l);
    info.activation = l % acts;
    info.params = int64_t(1000 * (1 + 20 * u(rng)));
    info.channels = 16;
    info.macs = info.params * int64_t(1 + 50 * u(rng));
    t.layers.push_back(info);
    std::vector<double> c;
    double sens = std::exp(4 * u(rng));
    for (unsigned b : wBits)
      c.push_back(sens * std::pow(2.0, -2.0 * b) * (0.5 + u(rng)));
    t.weightCost.push_back(c);
  }
  return t;
}

double extreme(const SensitivityTable &t, bool wide, bool bops) {
  unsigned w =
      wide ? *std::max_element(t.weightBits.begin(), t.weightBits.end())
           : *std::min_element(t.weightBits.begin(), t.weightBits.end());
  unsigned a =
      wide
          ? *std::max_element(t.activationBits.begin(), t.activationBits.end())
          : *std::min_element(t.activationBits.begin(), t.activationBits.end());
  std::vector<unsigned> wb(t.layers.size(), w), ab(t.activations.size(), a);
  return bops ? assignmentBops(t, wb, ab) : assignmentBytes(t, wb);
}

/// A latency budget between the fastest and the slowest choice, and with
/// `withSize` a size budget between the extremes too.
BitBudget latencyBudget(const SensitivityTable &t, std::mt19937 &rng,
                        double fastest, double slowest, bool withSize) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  BitBudget b;
  b.latency = fastest + u(rng) * (slowest - fastest);
  if (withSize)
    b.bytes = extreme(t, false, false) +
              u(rng) * (extreme(t, true, false) - extreme(t, false, false));
  return b;
}

/// CBC against exhaustive search on one instance: both infeasible (0), or
/// the same optimum within every budget and pin, greedy never below it (1).
int checkAgainstExhaustive(const SensitivityTable &t, const BitBudget &b,
                           int trial) {
  std::optional<BitAssignment> best = exhaustiveBitWidths(t, b);
  llvm::Expected<BitAssignment> ilp = solveBitWidths(t, b);
  if (!best) {
    EXPECT_FALSE(bool(ilp));
    if (!ilp)
      llvm::consumeError(ilp.takeError());
    return 0;
  }
  if (!ilp) {
    ADD_FAILURE() << "trial " << trial << ": "
                  << llvm::toString(ilp.takeError());
    return 0;
  }
  EXPECT_NEAR(ilp->cost, best->cost, 1e-9 * std::max(1.0, best->cost))
      << "trial " << trial;
  if (b.bytes) {
    EXPECT_LE(ilp->bytes, *b.bytes * (1 + 1e-9));
  }
  if (b.bops) {
    EXPECT_LE(ilp->bops, *b.bops * (1 + 1e-9));
  }
  if (b.latency) {
    EXPECT_LE(ilp->latency, *b.latency * (1 + 1e-9));
  }
  for (auto [layer, bits] : b.weightPins)
    EXPECT_EQ(ilp->weightBits[layer], bits);
  // The greedy baseline is feasible and never better than the optimum.
  if (std::optional<BitAssignment> g = greedyBitWidths(t, b)) {
    EXPECT_GE(g->cost, ilp->cost - 1e-12);
  }
  return 1;
}

TEST(BitWidths, IlpMatchesExhaustiveSearch) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    size_t layers = 2 + trial % 4, acts = 1 + trial % 3;
    std::vector<unsigned> aBits =
        trial % 2 ? std::vector<unsigned>{4, 8} : std::vector<unsigned>{8};
    SensitivityTable t =
        randomTable(rng, layers, std::min(acts, layers), {2, 3, 4, 8}, aBits);
    BitBudget b;
    int kind = trial % 3; // size, BOPs, both
    if (kind != 1)
      b.bytes = extreme(t, false, false) +
                u(rng) * (extreme(t, true, false) - extreme(t, false, false));
    if (kind != 0)
      b.bops = extreme(t, false, true) +
               u(rng) * (extreme(t, true, true) - extreme(t, false, true));
    if (trial % 5 == 0)
      b.weightPins.push_back({0, 8});
    checked += checkAgainstExhaustive(t, b, trial);
  }
  EXPECT_GE(checked, 40);
}

/// With a latency table (not monotone in the width: sub-byte weights are
/// expanded in the kernel), alone and with a size budget.
TEST(BitWidths, LatencyBudgetMatchesExhaustiveSearch) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int checked = 0;
  for (int trial = 0; trial < 40; ++trial) {
    size_t layers = 2 + trial % 4;
    SensitivityTable t =
        randomTable(rng, layers, 1 + trial % 2, {2, 3, 4, 8}, {8});
    double fastest = 0, slowest = 0;
    for (size_t l = 0; l < layers; ++l) {
      std::vector<double> row;
      for (size_t j = 0; j < t.weightBits.size(); ++j)
        row.push_back(1e-5 * (1 + 3 * u(rng)));
      fastest += *std::min_element(row.begin(), row.end());
      slowest += *std::max_element(row.begin(), row.end());
      t.latency.push_back(row);
    }
    BitBudget b = latencyBudget(t, rng, fastest, slowest, trial % 2);
    checked += checkAgainstExhaustive(t, b, trial);
  }
  EXPECT_GE(checked, 30);
  // Below the fastest choice: refused, naming it.
  std::mt19937 rng2(2);
  SensitivityTable t = randomTable(rng2, 2, 1, {4, 8}, {8});
  t.latency = {{2e-6, 1e-6}, {3e-6, 5e-6}};
  BitBudget b;
  b.latency = 1e-6;
  llvm::Expected<BitAssignment> r = solveBitWidths(t, b);
  ASSERT_FALSE(bool(r));
  std::string msg = llvm::toString(r.takeError());
  EXPECT_NE(msg.find("takes 4.0 us"), std::string::npos) << msg;
}

/// 16-bit activations (W8A16): only with 8-bit weights, and a 16-bit
/// input doubles its layer's product latency (two int8 products); the
/// program, exhaustive search and greedy agree on that model.
TEST(BitWidths, SixteenBitActivationsMatchExhaustiveSearch) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int checked = 0, wide = 0;
  for (int trial = 0; trial < 40; ++trial) {
    size_t layers = 2 + trial % 3, acts = std::min<size_t>(layers, 1 + trial % 3);
    SensitivityTable t = randomTable(rng, layers, acts, {4, 8}, {8, 16});
    double fastest = 0, slowest = 0;
    for (size_t l = 0; l < layers; ++l) {
      std::vector<double> row = {1e-5 * (1 + u(rng)), 1e-5 * (1 + u(rng))};
      fastest += std::min(row[0], row[1]);
      slowest += 2 * row[1];
      t.latency.push_back(row);
    }
    BitBudget b = latencyBudget(t, rng, fastest, slowest, trial % 2);
    checked += checkAgainstExhaustive(t, b, trial);
    if (llvm::Expected<BitAssignment> r = solveBitWidths(t, b)) {
      double latency = 0;
      for (auto [l, info] : llvm::enumerate(t.layers)) {
        unsigned a = r->activationBits[info.activation];
        if (a == 16) {
          EXPECT_EQ(r->weightBits[l], 8u) << "trial " << trial;
          ++wide;
        }
        latency += t.latency[l][r->weightBits[l] == 8] * (a == 16 ? 2 : 1);
      }
      EXPECT_NEAR(r->latency, latency, 1e-12);
    } else {
      llvm::consumeError(r.takeError());
    }
  }
  EXPECT_GE(checked, 30);
  EXPECT_GE(wide, 10); // the budgets leave room for some 16-bit inputs
}

TEST(BitWidths, InfeasibleBudgetNamesTheSmallest) {
  std::mt19937 rng(1);
  SensitivityTable t = randomTable(rng, 3, 2, {4, 8}, {8});
  BitBudget b;
  b.bytes = 10; // below the fixed bytes alone
  llvm::Expected<BitAssignment> r = solveBitWidths(t, b);
  ASSERT_FALSE(bool(r));
  std::string msg = llvm::toString(r.takeError());
  std::string smallest =
      std::to_string(int64_t(std::ceil(extreme(t, false, false))));
  EXPECT_NE(msg.find("infeasible"), std::string::npos) << msg;
  EXPECT_NE(msg.find(smallest + " bytes"), std::string::npos) << msg;
}

TEST(BitWidths, BudgetsParse) {
  EXPECT_EQ(parseQuantity("1.2MB"), 1.2e6);
  EXPECT_EQ(parseQuantity("800KB"), 8e5);
  EXPECT_EQ(parseQuantity("2MiB"), 2.0 * 1048576);
  EXPECT_EQ(parseQuantity("3.5G"), 3.5e9);
  EXPECT_EQ(parseQuantity("250000"), 250000.0);
  EXPECT_FALSE(parseQuantity("big"));
  EXPECT_FALSE(parseQuantity("-3MB"));
}

} // namespace

namespace {

/// Candidates of the same width in different formats (int4 and MXFP4,
/// int8 and FP8): sizes count the MX scales (8 bits per 32 weights), the
/// program matches exhaustive search, and the table's JSON keeps the
/// formats.
TEST(BitWidths, FormatCandidates) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int checked = 0;
  for (int trial = 0; trial < 30; ++trial) {
    SensitivityTable t =
        randomTable(rng, 2 + trial % 4, 1 + trial % 2, {4, 4, 8, 8}, {8});
    t.weightFormats = {WeightFormat::Int, WeightFormat::MXFP4,
                       WeightFormat::Int, WeightFormat::FP8E4M3};
    // All layers in MXFP4: 4.25 bits a weight.
    std::vector<unsigned> wb(t.layers.size(), 4);
    std::vector<WeightFormat> wf(t.layers.size(), WeightFormat::MXFP4);
    double params = 0;
    for (const LayerInfo &l : t.layers)
      params += double(l.params);
    EXPECT_DOUBLE_EQ(assignmentBytes(t, wb, wf),
                     double(t.fixedBytes) + params * 4.25 / 8);
    EXPECT_DOUBLE_EQ(assignmentBytes(t, wb),
                     double(t.fixedBytes) + params * 4 / 8);
    BitBudget b;
    double lo = assignmentBytes(t, wb), hi = extreme(t, true, false);
    b.bytes = lo + u(rng) * (hi - lo);
    checked += checkAgainstExhaustive(t, b, trial);
    if (std::optional<BitAssignment> a = exhaustiveBitWidths(t, b)) {
      ASSERT_EQ(a->weightFormats.size(), t.layers.size());
      // Each layer's (bits, format) is one of the candidates.
      for (size_t l = 0; l < t.layers.size(); ++l) {
        bool found = false;
        for (size_t j = 0; j < t.weightBits.size(); ++j)
          found |= t.weightBits[j] == a->weightBits[l] &&
                   t.weightFormats[j] == a->weightFormats[l];
        EXPECT_TRUE(found) << "layer " << l;
      }
    }
  }
  EXPECT_GE(checked, 20);

  SensitivityTable t = randomTable(rng, 3, 1, {4, 4, 8}, {8});
  t.weightFormats = {WeightFormat::Int, WeightFormat::MXFP4,
                     WeightFormat::FP8E4M3};
  llvm::Expected<SensitivityTable> back = tableFromJSON(tableToJSON(t));
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->weightFormats, t.weightFormats);
  EXPECT_EQ(back->weightBits, t.weightBits);
  EXPECT_EQ(weightLabel(4, WeightFormat::MXFP4), "mxfp4");
  EXPECT_EQ(weightLabel(4, WeightFormat::Int), "4");
}

} // namespace
