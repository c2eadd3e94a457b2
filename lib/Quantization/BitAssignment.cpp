//===- BitAssignment.cpp - the bit-width integer program (CBC) ------------===//
#include "qc/Dialect/QC/Transforms/Quantization.h"
#include "qc/Quantization/BitWidths.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include <Cbc_C_Interface.h>
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

using namespace qc;

static llvm::Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

double qc::assignmentBytes(const SensitivityTable &t,
                           llvm::ArrayRef<unsigned> wBits,
                           llvm::ArrayRef<WeightFormat> formats) {
  double bytes = double(t.fixedBytes);
  for (auto [i, l] : llvm::enumerate(t.layers))
    bytes +=
        double(l.params) *
        storedBitsPerWeight(wBits[i], i < formats.size() ? formats[i]
                                                         : WeightFormat::Int) /
        8.0;
  return bytes;
}

std::string qc::weightLabel(unsigned bits, WeightFormat format) {
  return format == WeightFormat::Int ? std::to_string(bits)
                                     : stringify(format).str();
}

double qc::assignmentBops(const SensitivityTable &t,
                          llvm::ArrayRef<unsigned> wBits,
                          llvm::ArrayRef<unsigned> aBits) {
  double bops = 0;
  for (auto [i, l] : llvm::enumerate(t.layers))
    bops += double(l.macs) * wBits[i] * aBits[l.activation];
  return bops;
}

namespace {

/// The weight formats layer `l` may take (its pin, or all).
std::vector<size_t> allowedWeights(const SensitivityTable &t,
                                   const BitBudget &b, size_t l) {
  for (auto [layer, bits] : b.weightPins)
    if (layer == l)
      for (auto [j, w] : llvm::enumerate(t.weightBits))
        if (w == bits)
          return {j};
  std::vector<size_t> all(t.weightBits.size());
  for (size_t j = 0; j < all.size(); ++j)
    all[j] = j;
  return all;
}

double costOf(const SensitivityTable &t, llvm::ArrayRef<size_t> w,
              llvm::ArrayRef<size_t> a) {
  double c = 0;
  for (size_t l = 0; l < w.size(); ++l)
    c += t.weightCost[l][w[l]];
  for (size_t g = 0; g < a.size(); ++g)
    c += t.activationCost[g][a[g]];
  return c;
}

BitAssignment assignmentOf(const SensitivityTable &t, llvm::ArrayRef<size_t> w,
                           llvm::ArrayRef<size_t> a, std::string status) {
  BitAssignment r;
  for (size_t j : w) {
    r.weightBits.push_back(t.weightBits[j]);
    r.weightFormats.push_back(weightFormatOf(t, j));
  }
  for (size_t j : a)
    r.activationBits.push_back(t.activationBits[j]);
  r.cost = costOf(t, w, a);
  r.bytes = assignmentBytes(t, r.weightBits, r.weightFormats);
  r.bops = assignmentBops(t, r.weightBits, r.activationBits);
  if (!t.latency.empty())
    for (size_t l = 0; l < w.size(); ++l)
      r.latency += productLatency(t, l, w[l],
                                  r.activationBits[t.layers[l].activation]);
  r.status = std::move(status);
  return r;
}

/// Every layer's weight format can read its input's format.
bool compatible(const SensitivityTable &t, const BitAssignment &a) {
  for (auto [l, info] : llvm::enumerate(t.layers))
    if (!compatibleFormats(a.weightBits[l], a.activationBits[info.activation]))
      return false;
  return true;
}

bool fits(const BitBudget &b, const BitAssignment &a) {
  // A relative slack for the solver's floating-point row activities.
  return (!b.bytes || a.bytes <= *b.bytes * (1 + 1e-9)) &&
         (!b.bops || a.bops <= *b.bops * (1 + 1e-9)) &&
         (!b.latency || a.latency <= *b.latency * (1 + 1e-9));
}

llvm::Error checkPins(const SensitivityTable &t, const BitBudget &b) {
  for (auto [layer, bits] : b.weightPins) {
    if (layer >= t.layers.size())
      return err("a pinned layer index " + llvm::Twine(layer) +
                 " is out of range");
    if (!llvm::is_contained(t.weightBits, bits))
      return err("layer '" + t.layers[layer].name + "' is pinned to " +
                 llvm::Twine(bits) + " bits, which is not a candidate format");
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<BitAssignment> qc::solveBitWidths(const SensitivityTable &t,
                                                 const BitBudget &b) {
  if (llvm::Error e = checkPins(t, b))
    return std::move(e);
  size_t nw = t.weightBits.size(), na = t.activationBits.size();
  if (!nw || !na || t.layers.empty())
    return err("the bit-width table has no layer or no format");
  if (b.latency && t.latency.size() != t.layers.size())
    return err("a latency budget needs the layers' measured latencies");
  if (b.latency) {
    // The lowest latency: each layer in its fastest allowed format (not
    // always the narrowest: sub-byte weights are expanded in the kernel).
    double fastest = 0;
    for (size_t l = 0; l < t.layers.size(); ++l) {
      double best = INFINITY;
      for (size_t j : allowedWeights(t, b, l))
        best = std::min(best, t.latency[l][j]);
      fastest += best;
    }
    if (fastest > *b.latency)
      return err(llvm::formatv(
          "the latency budget of {0:f1} us is infeasible: the fastest "
          "choice these formats allow takes {1:f1} us per run",
          *b.latency * 1e6, fastest * 1e6));
  }
  // The smallest budgets any assignment meets: every layer (unpinned) at its
  // narrowest format.
  std::vector<size_t> narrowW(t.layers.size()), narrowA(t.activations.size());
  for (size_t l = 0; l < t.layers.size(); ++l) {
    std::vector<size_t> allowed = allowedWeights(t, b, l);
    narrowW[l] = *std::min_element(
        allowed.begin(), allowed.end(),
        [&](size_t x, size_t y) { return t.weightBits[x] < t.weightBits[y]; });
  }
  size_t minA =
      std::min_element(t.activationBits.begin(), t.activationBits.end()) -
      t.activationBits.begin();
  std::fill(narrowA.begin(), narrowA.end(), minA);
  BitAssignment smallest = assignmentOf(t, narrowW, narrowA, "");
  if (b.bytes && smallest.bytes > *b.bytes)
    return err(llvm::formatv(
        "the size budget of {0} bytes is infeasible: the smallest "
        "model these formats allow has {1} bytes",
        int64_t(*b.bytes), int64_t(std::ceil(smallest.bytes))));
  if (b.bops && smallest.bops > *b.bops)
    return err(llvm::formatv(
        "the BOPs budget of {0:e3} is infeasible: the fewest these "
        "formats allow are {1:e3} BOPs",
        *b.bops, smallest.bops));

  // Columns: x[l][w], z[g][a] (binary), p[l][w][a] (continuous, with a BOPs
  // budget and several activation formats).
  std::unique_ptr<Cbc_Model, void (*)(Cbc_Model *)> m(Cbc_newModel(),
                                                      Cbc_deleteModel);
  Cbc_setLogLevel(m.get(), 0);
  double maxCost = 0;
  for (auto &row : t.weightCost)
    for (double c : row)
      maxCost = std::max(maxCost, std::fabs(c));
  for (auto &row : t.activationCost)
    for (double c : row)
      maxCost = std::max(maxCost, std::fabs(c));
  double scale = maxCost > 0 ? 1e6 / maxCost : 1.0; // well-scaled objective
  int col = 0;
  std::vector<std::vector<int>> x(t.layers.size()), z(t.activations.size());
  for (size_t l = 0; l < t.layers.size(); ++l) {
    std::vector<size_t> allowed = allowedWeights(t, b, l);
    for (size_t j = 0; j < nw; ++j) {
      bool ok = llvm::is_contained(allowed, j);
      std::string name = "x_" + std::to_string(l) + "_" +
                         weightLabel(t.weightBits[j], weightFormatOf(t, j));
      Cbc_addCol(m.get(), name.c_str(), 0, ok ? 1 : 0,
                 scale * t.weightCost[l][j], 1, 0, nullptr, nullptr);
      x[l].push_back(col++);
    }
  }
  for (size_t g = 0; g < t.activations.size(); ++g)
    for (size_t j = 0; j < na; ++j) {
      std::string name =
          "z_" + std::to_string(g) + "_" + std::to_string(t.activationBits[j]);
      Cbc_addCol(m.get(), name.c_str(), 0, 1, scale * t.activationCost[g][j], 1,
                 0, nullptr, nullptr);
      z[g].push_back(col++);
    }
  bool products = b.bops && na > 1;
  std::vector<std::vector<std::vector<int>>> p(t.layers.size());
  if (products)
    for (size_t l = 0; l < t.layers.size(); ++l) {
      p[l].assign(nw, std::vector<int>(na));
      for (size_t j = 0; j < nw; ++j)
        for (size_t k = 0; k < na; ++k) {
          std::string name = "p_" + std::to_string(l) + "_" +
                             std::to_string(j) + "_" + std::to_string(k);
          Cbc_addCol(m.get(), name.c_str(), 0, 1, 0, 0, 0, nullptr, nullptr);
          p[l][j][k] = col++;
        }
    }
  auto addRow = [&](const std::vector<int> &cols,
                    const std::vector<double> &coefs, char sense, double rhs) {
    Cbc_addRow(m.get(), "", int(cols.size()), cols.data(), coefs.data(), sense,
               rhs);
  };
  for (auto &v : x)
    addRow(v, std::vector<double>(v.size(), 1.0), 'E', 1);
  for (auto &v : z)
    addRow(v, std::vector<double>(v.size(), 1.0), 'E', 1);
  if (b.bytes) {
    // Rows in kilobytes keep the coefficients near 1.
    std::vector<int> cols;
    std::vector<double> coefs;
    for (size_t l = 0; l < t.layers.size(); ++l)
      for (size_t j = 0; j < nw; ++j) {
        cols.push_back(x[l][j]);
        coefs.push_back(
            double(t.layers[l].params) *
            storedBitsPerWeight(t.weightBits[j], weightFormatOf(t, j)) / 8.0 /
            1e3);
      }
    addRow(cols, coefs, 'L', (*b.bytes - double(t.fixedBytes)) / 1e3);
  }
  if (b.bops) {
    std::vector<int> cols;
    std::vector<double> coefs;
    for (size_t l = 0; l < t.layers.size(); ++l) {
      const LayerInfo &info = t.layers[l];
      for (size_t j = 0; j < nw; ++j) {
        if (!products) {
          cols.push_back(x[l][j]);
          coefs.push_back(double(info.macs) * t.weightBits[j] *
                          t.activationBits[0] / 1e9);
          continue;
        }
        for (size_t k = 0; k < na; ++k) {
          cols.push_back(p[l][j][k]);
          coefs.push_back(double(info.macs) * t.weightBits[j] *
                          t.activationBits[k] / 1e9);
          // p >= x + z - 1
          addRow({x[l][j], z[info.activation][k], p[l][j][k]}, {1.0, 1.0, -1.0},
                 'L', 1);
        }
      }
    }
    addRow(cols, coefs, 'L', *b.bops / 1e9);
  }
  // A 16-bit input needs 8-bit weights: z[g][a16] <= sum of x[l][w8].
  std::optional<size_t> w8;
  for (size_t j = 0; j < nw; ++j)
    if (t.weightBits[j] == 8)
      w8 = j;
  for (size_t l = 0; l < t.layers.size(); ++l)
    for (size_t k = 0; k < na; ++k)
      if (t.activationBits[k] > 8) {
        std::vector<int> cols = {z[t.layers[l].activation][k]};
        std::vector<double> coefs = {1.0};
        for (size_t j = 0; j < nw; ++j)
          if (compatibleFormats(t.weightBits[j], t.activationBits[k])) {
            cols.push_back(x[l][j]);
            coefs.push_back(-1.0);
          }
        addRow(cols, coefs, 'L', 0);
      }
  if (b.latency) { // in microseconds
    std::vector<int> cols;
    std::vector<double> coefs;
    // A 16-bit input (with 8-bit weights, above) adds the second product of
    // each layer reading it: one coefficient per column (CBC takes no
    // repeated column in a row).
    std::vector<std::vector<double>> extra(t.activations.size(),
                                           std::vector<double>(na, 0.0));
    for (size_t l = 0; l < t.layers.size(); ++l) {
      for (size_t j = 0; j < nw; ++j) {
        cols.push_back(x[l][j]);
        coefs.push_back(t.latency[l][j] * 1e6);
      }
      for (size_t k = 0; k < na && w8; ++k)
        extra[t.layers[l].activation][k] +=
            productLatency(t, l, *w8, t.activationBits[k]) - t.latency[l][*w8];
    }
    for (size_t g = 0; g < t.activations.size(); ++g)
      for (size_t k = 0; k < na; ++k)
        if (extra[g][k] > 0) {
          cols.push_back(z[g][k]);
          coefs.push_back(extra[g][k] * 1e6);
        }
    addRow(cols, coefs, 'L', *b.latency * 1e6);
  }
  Cbc_setParameter(m.get(), "ratioGap", "0");
  Cbc_setAllowableGap(m.get(), 1e-7);
  Cbc_solve(m.get());
  if (Cbc_isProvenInfeasible(m.get()))
    return err(
        "the integer program is infeasible under these budgets and pins");
  if (!Cbc_isProvenOptimal(m.get()))
    return err(llvm::formatv(
        "CBC did not prove an optimum (status {0}, secondary {1})",
        Cbc_status(m.get()), Cbc_secondaryStatus(m.get())));
  const double *sol = Cbc_getColSolution(m.get());
  std::vector<size_t> w(t.layers.size()), a(t.activations.size());
  for (size_t l = 0; l < t.layers.size(); ++l)
    for (size_t j = 0; j < nw; ++j)
      if (sol[x[l][j]] > 0.5)
        w[l] = j;
  for (size_t g = 0; g < t.activations.size(); ++g)
    for (size_t j = 0; j < na; ++j)
      if (sol[z[g][j]] > 0.5)
        a[g] = j;
  BitAssignment r = assignmentOf(t, w, a, "optimal");
  r.status = llvm::formatv("optimal (CBC {0}, objective {1:e4})",
                           Cbc_getVersion(), r.cost);
  if (!fits(b, r) || !compatible(t, r))
    return err("CBC's solution does not meet the budget (numerical trouble)");
  return r;
}

std::optional<BitAssignment> qc::exhaustiveBitWidths(const SensitivityTable &t,
                                                     const BitBudget &b) {
  if (checkPins(t, b))
    return std::nullopt;
  size_t nl = t.layers.size(), ng = t.activations.size();
  std::vector<size_t> w(nl, 0), a(ng, 0);
  std::optional<BitAssignment> best;
  std::vector<std::vector<size_t>> allowed(nl);
  for (size_t l = 0; l < nl; ++l)
    allowed[l] = allowedWeights(t, b, l);
  std::function<void(size_t)> visit = [&](size_t d) {
    if (d < nl) {
      for (size_t j : allowed[d]) {
        w[d] = j;
        visit(d + 1);
      }
      return;
    }
    if (d < nl + ng) {
      for (size_t j = 0; j < t.activationBits.size(); ++j) {
        a[d - nl] = j;
        visit(d + 1);
      }
      return;
    }
    BitAssignment r = assignmentOf(t, w, a, "exhaustive");
    if (fits(b, r) && compatible(t, r) && (!best || r.cost < best->cost))
      best = r;
  };
  visit(0);
  return best;
}

std::optional<BitAssignment> qc::greedyBitWidths(const SensitivityTable &t,
                                                 const BitBudget &b) {
  if (checkPins(t, b))
    return std::nullopt;
  size_t nl = t.layers.size(), ng = t.activations.size();
  // Formats by width, widest first.
  auto widest = [](const std::vector<unsigned> &bits,
                   const std::vector<size_t> &allowed) {
    return *std::max_element(
        allowed.begin(), allowed.end(),
        [&](size_t x, size_t y) { return bits[x] < bits[y]; });
  };
  std::vector<std::vector<size_t>> allowed(nl);
  std::vector<size_t> w(nl), a(ng);
  for (size_t l = 0; l < nl; ++l) {
    allowed[l] = allowedWeights(t, b, l);
    w[l] = widest(t.weightBits, allowed[l]);
  }
  std::vector<size_t> allA(t.activationBits.size());
  for (size_t j = 0; j < allA.size(); ++j)
    allA[j] = j;
  for (size_t g = 0; g < ng; ++g)
    a[g] = widest(t.activationBits, allA);
  // Inputs of layers whose weights cannot read the widest format: the
  // widest they can.
  for (size_t l = 0; l < nl; ++l) {
    size_t g = t.layers[l].activation;
    if (compatibleFormats(t.weightBits[w[l]], t.activationBits[a[g]]))
      continue;
    std::vector<size_t> fit;
    for (size_t j : allA)
      if (compatibleFormats(t.weightBits[w[l]], t.activationBits[j]))
        fit.push_back(j);
    if (fit.empty())
      return std::nullopt;
    a[g] = widest(t.activationBits, fit);
  }
  // The next narrower allowed format, if any.
  auto narrower = [](const std::vector<unsigned> &bits,
                     const std::vector<size_t> &allowed,
                     size_t cur) -> std::optional<size_t> {
    std::optional<size_t> best;
    for (size_t j : allowed)
      if (bits[j] < bits[cur] && (!best || bits[j] > bits[*best]))
        best = j;
    return best;
  };
  while (true) {
    BitAssignment cur = assignmentOf(t, w, a, "greedy");
    if (fits(b, cur))
      return cur;
    // The step with the least cost increase per unit of the violated budget
    // saved.
    double bestRatio = INFINITY;
    std::optional<std::pair<std::vector<size_t>, std::vector<size_t>>> step;
    auto consider = [&](bool isWeight, size_t idx, size_t to) {
      std::vector<size_t> w2 = w, a2 = a;
      (isWeight ? w2[idx] : a2[idx]) = to;
      // Weights narrower than 8 bits take their input down to 8 bits or
      // fewer with them (16-bit activations need 8-bit weights).
      if (isWeight) {
        size_t g = t.layers[idx].activation;
        if (!compatibleFormats(t.weightBits[to], t.activationBits[a2[g]])) {
          std::optional<size_t> fit;
          for (size_t j : allA)
            if (compatibleFormats(t.weightBits[to], t.activationBits[j]) &&
                (!fit || t.activationBits[j] > t.activationBits[*fit]))
              fit = j;
          if (!fit)
            return;
          a2[g] = *fit;
        }
      }
      BitAssignment next = assignmentOf(t, w2, a2, "");
      double saved = 0;
      if (b.bytes && cur.bytes > *b.bytes)
        saved += (cur.bytes - next.bytes) / std::max(cur.bytes - *b.bytes, 1.0);
      if (b.bops && cur.bops > *b.bops)
        saved += (cur.bops - next.bops) / std::max(cur.bops - *b.bops, 1.0);
      if (b.latency && cur.latency > *b.latency)
        saved += (cur.latency - next.latency) /
                 std::max(cur.latency - *b.latency, 1e-9);
      if (saved <= 0)
        return;
      double ratio = std::max(next.cost - cur.cost, 0.0) / saved;
      if (ratio < bestRatio) {
        bestRatio = ratio;
        step = {w2, a2};
      }
    };
    for (size_t l = 0; l < nl; ++l)
      if (auto to = narrower(t.weightBits, allowed[l], w[l]))
        consider(true, l, *to);
    for (size_t g = 0; g < ng; ++g)
      if (auto to = narrower(t.activationBits, allA, a[g]))
        consider(false, g, *to);
    if (!step)
      return std::nullopt;
    w = step->first;
    a = step->second;
  }
}

std::optional<double> qc::parseQuantity(llvm::StringRef text) {
  text = text.trim();
  double mult = 1;
  struct Suffix {
    const char *s;
    double m;
  };
  for (Suffix s :
       {Suffix{"KiB", 1024.0}, Suffix{"MiB", 1048576.0},
        Suffix{"GiB", 1073741824.0}, Suffix{"KB", 1e3}, Suffix{"MB", 1e6},
        Suffix{"GB", 1e9}, Suffix{"K", 1e3}, Suffix{"M", 1e6}, Suffix{"G", 1e9},
        Suffix{"T", 1e12}, Suffix{"B", 1}})
    if (text.consume_back_insensitive(s.s)) {
      mult = s.m;
      break;
    }
  double v;
  if (text.trim().getAsDouble(v) || !(v > 0) || !std::isfinite(v))
    return std::nullopt;
  return v * mult;
}

llvm::Expected<BitAssignment> qc::assignBitWidths(const SensitivityTable &t,
                                                  const BitBudget &b,
                                                  BitAssignmentMethod method) {
  switch (method) {
  case BitAssignmentMethod::ILP:
    return solveBitWidths(t, b);
  case BitAssignmentMethod::Greedy:
    if (std::optional<BitAssignment> g = greedyBitWidths(t, b))
      return *g;
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the greedy assignment finds no choice within the budget");
  }
  llvm_unreachable("unknown bit assignment method");
}
