//===- LinearGroups.cpp - activations read only by linear layers ----------===//
#include "qc/Dialect/QC/Transforms/LinearGroups.h"
#include "qc/Dialect/QC/Transforms/Constants.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include <cmath>
#include <random>

using namespace mlir;
using namespace qc;

static RankedTensorType rankedOf(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

std::optional<std::vector<double>> qc::channelConstant(Value v, int64_t k) {
  auto ty = rankedOf(v);
  if (!ty || ty.getRank() < 1 || !ty.hasStaticShape() ||
      ty.getNumElements() != k || ty.getDimSize(ty.getRank() - 1) != k)
    return std::nullopt;
  std::optional<std::vector<float>> f = readFloatConstant(v);
  if (!f)
    return std::nullopt;
  return std::vector<double>(f->begin(), f->end());
}

Value qc::constantLike(OpBuilder &b, Location loc, Type like,
                       ArrayRef<double> values, StringRef name) {
  std::vector<float> f(values.begin(), values.end());
  auto ty = cast<RankedTensorType>(like);
  // Small vectors (scales, biases of tiny layers) stay readable in the IR.
  if (f.size() <= 16)
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(ty, ArrayRef(f)));
  return createBlobConstant(b, loc, ty, f, name);
}

static std::string nameOf(Operation *op, StringRef suffix) {
  std::string base = "rewritten";
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    base = n.getName().str();
  return base + suffix.str();
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

/// The Add of a constant bias (N values or one) that is the only user of a
/// MatMul's result.
static AddOp biasAddOf(MatMulOp mm, int64_t n) {
  if (!mm.getY().hasOneUse())
    return nullptr;
  auto add = dyn_cast<AddOp>(*mm.getY().getUsers().begin());
  if (!add)
    return nullptr;
  Value other = add.getA() == mm.getY() ? add.getB() : add.getA();
  auto ot = rankedOf(other);
  if (other != mm.getY() && ot && ot.hasStaticShape() &&
      (ot.getNumElements() == 1 || channelConstant(other, n)) &&
      readFloatConstant(other) && add.getC().getType() == mm.getY().getType())
    return add;
  return nullptr;
}

std::optional<Linear> qc::asLinear(Operation *op) {
  Linear l;
  l.op = op;
  if (auto mm = dyn_cast<MatMulOp>(op)) {
    auto a = rankedOf(mm.getA()), w = rankedOf(mm.getB());
    if (!a || !w || a.getRank() < 2 || w.getRank() != 2 ||
        !w.hasStaticShape() || !readFloatConstant(mm.getB()))
      return std::nullopt;
    l.k = w.getDimSize(0);
    l.n = w.getDimSize(1);
    l.biasAdd = biasAddOf(mm, l.n);
    return l;
  }
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    auto w = rankedOf(gemm.getB());
    if (gemm.getTransA() || !w || w.getRank() != 2 || !w.hasStaticShape() ||
        !readFloatConstant(gemm.getB()) ||
        gemm.getAlpha().convertToDouble() == 0)
      return std::nullopt;
    if (gemm.getC() && !readFloatConstant(gemm.getC()))
      return std::nullopt;
    l.k = w.getDimSize(gemm.getTransB() ? 1 : 0);
    l.n = w.getDimSize(gemm.getTransB() ? 0 : 1);
    return l;
  }
  return std::nullopt;
}

/// Rewrites of other groups may have given a MatMul its bias Add since.
static void refreshBias(Linear &l) {
  if (auto mm = dyn_cast<MatMulOp>(l.op); mm && !l.biasAdd)
    l.biasAdd = biasAddOf(mm, l.n);
}

Value Linear::output() {
  refreshBias(*this);
  return biasAdd ? Value(biasAdd.getC()) : op->getResult(0);
}

std::vector<double> Linear::weight() {
  std::vector<float> b = *readFloatConstant(op->getOperand(1));
  std::vector<double> w(k * n);
  double alpha = 1;
  bool trans = false;
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    alpha = gemm.getAlpha().convertToDouble();
    trans = gemm.getTransB();
  }
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      w[i * n + j] = alpha * (trans ? b[j * k + i] : b[i * n + j]);
  return w;
}

void Linear::setWeight(ArrayRef<double> w) {
  double alpha = 1;
  bool trans = false;
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    alpha = gemm.getAlpha().convertToDouble();
    trans = gemm.getTransB();
  }
  std::vector<double> b(k * n);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      (trans ? b[j * k + i] : b[i * n + j]) = w[i * n + j] / alpha;
  OpBuilder builder(op);
  op->setOperand(1, constantLike(builder, op->getLoc(),
                                 op->getOperand(1).getType(), b,
                                 nameOf(op, ".weight")));
}

std::optional<std::vector<double>> Linear::bias() {
  refreshBias(*this);
  Value c;
  double beta = 1;
  if (biasAdd) {
    c = biasAdd.getA() == op->getResult(0) ? biasAdd.getB() : biasAdd.getA();
  } else if (auto gemm = dyn_cast<GemmOp>(op)) {
    c = gemm.getC();
    beta = gemm.getBeta().convertToDouble();
  }
  if (!c)
    return std::vector<double>(n, 0.0);
  std::optional<std::vector<float>> v = readFloatConstant(c);
  if (!v || (int64_t(v->size()) != n && v->size() != 1) ||
      (v->size() == n &&
       rankedOf(c).getDimSize(rankedOf(c).getRank() - 1) != n))
    return std::nullopt;
  std::vector<double> out(n);
  for (int64_t j = 0; j < n; ++j)
    out[j] = beta * (*v)[v->size() == 1 ? 0 : j];
  return out;
}

void Linear::setBias(ArrayRef<double> b) {
  refreshBias(*this);
  if (!biasAdd && !(isa<GemmOp>(op) && cast<GemmOp>(op).getC()) &&
      llvm::all_of(b, [](double x) { return x == 0; }))
    return;
  OpBuilder builder(op);
  Location loc = op->getLoc();
  auto vecTy = RankedTensorType::get({n}, Float32Type::get(op->getContext()));
  if (biasAdd) {
    unsigned idx = biasAdd.getA() == op->getResult(0) ? 1 : 0;
    Value old = biasAdd->getOperand(idx);
    Type ty = rankedOf(old).getNumElements() == n ? old.getType() : Type(vecTy);
    builder.setInsertionPoint(biasAdd);
    biasAdd->setOperand(idx,
                        constantLike(builder, loc, ty, b, nameOf(op, ".bias")));
    return;
  }
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    double beta = gemm.getBeta().convertToDouble();
    if (!gemm.getC() || beta == 0) {
      gemm.setBeta(APFloat(1.0f));
      beta = 1;
    }
    std::vector<double> c(b.begin(), b.end());
    for (double &x : c)
      x /= beta;
    Value cst = constantLike(builder, loc, vecTy, c, nameOf(op, ".bias"));
    if (gemm.getC())
      op->setOperand(2, cst);
    else
      op->insertOperands(2, cst);
    return;
  }
  Value mm = op->getResult(0);
  builder.setInsertionPointAfter(op);
  Value cst = constantLike(builder, loc, vecTy, b, nameOf(op, ".bias"));
  auto add = AddOp::create(builder, loc, mm.getType(), mm, cst);
  mm.replaceAllUsesExcept(add.getC(), add);
  biasAdd = add;
}

//===----------------------------------------------------------------------===//
// Groups
//===----------------------------------------------------------------------===//

std::vector<double> ActivationGroup::gamma() {
  if (kind == ProducerKind::LayerNorm)
    return *channelConstant(norm->getOperand(1), channels);
  if (auto c = channelConstant(mul.getB(), channels))
    return *c;
  return *channelConstant(mul.getA(), channels);
}

std::vector<double> ActivationGroup::beta() {
  if (kind == ProducerKind::LayerNorm)
    return norm->getNumOperands() > 2
               ? *channelConstant(norm->getOperand(2), channels)
               : std::vector<double>(channels, 0.0);
  if (!shift)
    return std::vector<double>(channels, 0.0);
  if (auto c = channelConstant(shift.getB(), channels))
    return *c;
  return *channelConstant(shift.getA(), channels);
}

void ActivationGroup::setGammaBeta(ArrayRef<double> g, ArrayRef<double> b) {
  Operation *op = kind == ProducerKind::LayerNorm ? norm : mul.getOperation();
  OpBuilder builder(op);
  Location loc = op->getLoc();
  auto setConst = [&](Operation *user, unsigned idx, ArrayRef<double> values,
                      StringRef s) {
    builder.setInsertionPoint(user);
    user->setOperand(idx,
                     constantLike(builder, loc, user->getOperand(idx).getType(),
                                  values, nameOf(op, s)));
  };
  bool zeroBeta = llvm::all_of(b, [](double x) { return x == 0; });
  if (kind == ProducerKind::LayerNorm) {
    setConst(norm, 1, g, ".scale");
    if (norm->getNumOperands() > 2)
      setConst(norm, 2, b, ".bias");
    else if (!zeroBeta)
      norm->insertOperands(2, constantLike(builder, loc,
                                           norm->getOperand(1).getType(), b,
                                           nameOf(op, ".bias")));
    return;
  }
  setConst(mul, channelConstant(mul.getB(), channels) ? 1 : 0, g, ".scale");
  if (shift)
    setConst(shift, channelConstant(shift.getB(), channels) ? 1 : 0, b,
             ".bias");
}

/// Classifies the producer of `g.value`.
static void classifyProducer(ActivationGroup &g) {
  Operation *def = g.value.getDefiningOp();
  int64_t k = g.channels;
  if (!def)
    return;
  if (auto ln = dyn_cast<LayerNormalizationOp>(def)) {
    int64_t rank = rankedOf(ln.getX()).getRank();
    int64_t axis = int64_t(ln.getAxis());
    if (axis < 0)
      axis += rank;
    if (axis == rank - 1 && ln.getStats().empty() &&
        channelConstant(ln.getScale(), k) &&
        (!ln.getB() || channelConstant(ln.getB(), k))) {
      g.kind = ProducerKind::LayerNorm;
      g.norm = def;
    }
    return;
  }
  auto scaleOf = [&](MulOp mul) {
    return mul && mul.getC().getType() == g.value.getType() &&
           (channelConstant(mul.getA(), k) || channelConstant(mul.getB(), k));
  };
  if (auto add = dyn_cast<AddOp>(def)) {
    for (auto [x, c] : {std::pair(add.getA(), add.getB()),
                        std::pair(add.getB(), add.getA())}) {
      auto mul = x.getDefiningOp<MulOp>();
      if (channelConstant(c, k) && x.hasOneUse() && scaleOf(mul)) {
        g.kind = ProducerKind::ScaleShift;
        g.mul = mul;
        g.shift = add;
        return;
      }
    }
    for (Value x : {add.getA(), add.getB()})
      if (Operation *mm = x.getDefiningOp())
        if (std::optional<Linear> l = asLinear(mm);
            l && l->biasAdd == add && l->bias()) {
          g.kind = ProducerKind::Linear;
          g.producer = *l;
          return;
        }
    return;
  }
  if (auto mul = dyn_cast<MulOp>(def); scaleOf(mul)) {
    g.kind = ProducerKind::ScaleShift;
    g.mul = mul;
    return;
  }
  if (std::optional<Linear> l = asLinear(def);
      l && l->output() == g.value && l->bias()) {
    g.kind = ProducerKind::Linear;
    g.producer = *l;
  }
}

SmallVector<ActivationGroup> qc::findActivationGroups(Operation *fn) {
  SmallVector<ActivationGroup> groups;
  auto iface = dyn_cast<FunctionOpInterface>(fn);
  if (!iface) {
    fn->walk(
        [&](FunctionOpInterface f) { groups.append(findActivationGroups(f)); });
    return groups;
  }
  llvm::DenseSet<Value> seen;
  if (iface.getFunctionBody().empty())
    return groups;
  for (Operation &op : iface.getFunctionBody().front()) {
    if (!isa<MatMulOp, GemmOp>(op) || !asLinear(&op))
      continue;
    Value a = op.getOperand(0);
    auto obs = a.getDefiningOp<ObserveOp>();
    Value v = obs ? obs.getInput() : a;
    if (!seen.insert(v).second)
      continue;
    auto ty = rankedOf(v);
    if (!ty || !isa<Float32Type>(ty.getElementType()) || ty.getRank() < 1 ||
        ty.isDynamicDim(ty.getRank() - 1) || (obs && !v.hasOneUse()))
      continue;
    ActivationGroup g;
    g.value = v;
    g.observer = obs;
    g.channels = ty.getDimSize(ty.getRank() - 1);
    bool ok = true;
    for (OpOperand &use : g.consumed().getUses()) {
      std::optional<Linear> l =
          use.getOperandNumber() == 0 ? asLinear(use.getOwner()) : std::nullopt;
      if (!l || l->k != g.channels || !l->bias()) {
        ok = false;
        break;
      }
      g.consumers.push_back(*l);
    }
    if (!ok || g.consumers.empty())
      continue;
    classifyProducer(g);
    groups.push_back(std::move(g));
  }
  return groups;
}

//===----------------------------------------------------------------------===//
// Factors and rotations
//===----------------------------------------------------------------------===//

std::vector<double> qc::smoothingFactors(ArrayRef<double> act,
                                         ArrayRef<double> w, double alpha) {
  std::vector<double> s(act.size(), 1.0);
  for (size_t j = 0; j < act.size(); ++j)
    if (act[j] > 0 && w[j] > 0 && std::isfinite(act[j]) && std::isfinite(w[j]))
      s[j] = std::clamp(std::pow(act[j], alpha) / std::pow(w[j], 1 - alpha),
                        1e-4, 1e4);
  return s;
}

std::vector<double> qc::weightAbsMax(ActivationGroup &g) {
  std::vector<double> m(g.channels, 0.0);
  for (Linear &l : g.consumers) {
    std::vector<double> w = l.weight();
    for (int64_t j = 0; j < l.k; ++j)
      for (int64_t n = 0; n < l.n; ++n)
        m[j] = std::max(m[j], std::fabs(w[j * l.n + n]));
  }
  return m;
}

void Rotation::apply(double *x) const {
  double norm = 1.0 / std::sqrt(double(p));
  for (int64_t a = 0; a < m; ++a) {
    double *r = x + a * p;
    for (int64_t h = 1; h < p; h *= 2)
      for (int64_t i = 0; i < p; i += 2 * h)
        for (int64_t j = i; j < i + h; ++j) {
          double u = r[j], v = r[j + h];
          r[j] = u + v;
          r[j + h] = u - v;
        }
    for (int64_t j = 0; j < p; ++j)
      r[j] *= norm;
  }
  if (m == 1)
    return;
  std::vector<double> y(n, 0.0);
  for (int64_t a = 0; a < m; ++a)
    for (int64_t a2 = 0; a2 < m; ++a2) {
      double f = factor[a * m + a2];
      for (int64_t b = 0; b < p; ++b)
        y[a2 * p + b] += x[a * p + b] * f;
    }
  std::copy(y.begin(), y.end(), x);
}

/// Paley's construction I: for a prime q = 3 (mod 4), the Hadamard matrix
/// H = I + S of order q + 1, S = [[0, 1^T], [-1, Q]] with Q[i][j] the
/// quadratic character of j - i modulo q. Row-major, entries +-1: a first
/// row of ones, a first column of -1 below it, and I + Q in the rest.
static std::vector<double> paleyHadamard(int64_t q) {
  std::vector<int> chi(q, -1);
  chi[0] = 0;
  for (int64_t a = 1; a < q; ++a)
    chi[a * a % q] = 1;
  int64_t o = q + 1;
  std::vector<double> h(o * o, 1.0);
  for (int64_t i = 1; i < o; ++i) {
    h[i * o] = -1.0;
    for (int64_t j = 1; j < o; ++j)
      h[i * o + j] = (i == j) + chi[(j - i + q) % q];
  }
  return h;
}

static bool isPrime(int64_t q) {
  if (q < 2)
    return false;
  for (int64_t d = 2; d * d <= q; ++d)
    if (q % d == 0)
      return false;
  return true;
}

Rotation qc::makeRotation(int64_t n, uint64_t seed) {
  Rotation r;
  r.n = n;
  r.p = n & -n;
  r.m = n / r.p;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  if (r.m > 1 && r.p >= 4 && isPrime(4 * r.m - 1)) {
    // n = 4m p/4 with a Hadamard matrix of order 4m (Paley): T is then a
    // Hadamard matrix of order n, every entry +-1/sqrt(n), so each input
    // channel spreads evenly over all outputs (QuaRot's 12 x 2^k for n = 3
    // 2^k). A random orthogonal factor spreads unevenly.
    r.m *= 4;
    r.p /= 4;
    r.factor = paleyHadamard(r.m - 1);
    for (double &x : r.factor)
      x /= std::sqrt(double(r.m));
  } else if (r.m > 1) {
    // Gram-Schmidt on a Gaussian matrix: a random orthogonal factor.
    int64_t m = r.m;
    std::vector<double> &f = r.factor;
    f.resize(m * m);
    for (double &x : f)
      x = normal(rng);
    for (int64_t i = 0; i < m; ++i) {
      for (int pass = 0; pass < 2; ++pass)
        for (int64_t j = 0; j < i; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < m; ++c)
            dot += f[i * m + c] * f[j * m + c];
          for (int64_t c = 0; c < m; ++c)
            f[i * m + c] -= dot * f[j * m + c];
        }
      double nrm = 0;
      for (int64_t c = 0; c < m; ++c)
        nrm += f[i * m + c] * f[i * m + c];
      nrm = std::sqrt(nrm);
      for (int64_t c = 0; c < m; ++c)
        f[i * m + c] /= nrm;
    }
  }
  std::bernoulli_distribution coin;
  for (int64_t j = 0; j < n; ++j)
    r.signs.push_back(coin(rng) ? 1.0 : -1.0);
  return r;
}
