//===- RotateHadamard.cpp - QuaRot-style rotation of linear inputs --------===//
#include "qc/Dialect/QC/Transforms/LinearGroups.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "qc/Dialect/QC/Transforms/Constants.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include <functional>

namespace qc {
#define GEN_PASS_DEF_ROTATEHADAMARD
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

/// An online `x D T` after `v`: a Mul by the signs (unless the producer
/// already applied them) and a qc.hadamard; every other reader of `v` reads
/// the result.
void rotateOnline(Value v, const Rotation &r, bool applySigns) {
  OpBuilder b(v.getContext());
  b.setInsertionPointAfterValue(v);
  std::string base = "rotation";
  if (auto n = dyn_cast<NameLoc>(v.getLoc()))
    base = n.getName().str();
  Location loc = NameLoc::get(b.getStringAttr(base + ".rotation"), v.getLoc());
  Operation *first = nullptr;
  Value x = v;
  if (applySigns) {
    auto vecTy = RankedTensorType::get({r.n}, b.getF32Type());
    Value d = constantLike(b, loc, vecTy, r.signs, base + ".rotation_signs");
    auto mul = MulOp::create(b, loc, v.getType(), v, d);
    first = mul;
    x = mul.getC();
  }
  Value factor;
  if (r.m > 1) {
    std::vector<float> f(r.factor.begin(), r.factor.end());
    auto fTy = RankedTensorType::get({r.m, r.m}, b.getF32Type());
    factor = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(fTy, ArrayRef(f)));
  }
  auto h = HadamardOp::create(b, loc, v.getType(), x, factor);
  if (!first)
    first = h;
  SmallPtrSet<Operation *, 4> except{first, h};
  v.replaceAllUsesExcept(h.getOutput(), except);
}

/// The readers' side of a rotation: W := T^T D diag(gamma) W and bias +=
/// beta W, with the normalization's gamma and beta where `foldNorm`.
void rotateReaders(ActivationGroup &g, const Rotation &r, bool foldNorm) {
  int64_t k = g.channels;
  // The readers' rows are scaled by D (and gamma, folded out of a
  // normalization) before T^T; beta W joins their bias.
  std::vector<double> rowScale(r.signs), beta(k, 0.0);
  if (foldNorm) {
    std::vector<double> gamma = g.gamma();
    beta = g.beta();
    for (int64_t j = 0; j < k; ++j)
      rowScale[j] *= gamma[j];
  }
  for (Linear &l : g.consumers) {
    std::vector<double> w = l.weight(), col(k);
    if (llvm::any_of(beta, [](double x) { return x != 0; })) {
      std::vector<double> bias = *l.bias();
      for (int64_t j = 0; j < k; ++j)
        for (int64_t n = 0; n < l.n; ++n)
          bias[n] += beta[j] * w[j * l.n + n];
      l.setBias(bias);
    }
    for (int64_t n = 0; n < l.n; ++n) {
      for (int64_t j = 0; j < k; ++j)
        col[j] = w[j * l.n + n] * rowScale[j];
      r.apply(col.data());
      for (int64_t j = 0; j < k; ++j)
        w[j * l.n + n] = col[j];
    }
    l.setWeight(w);
  }
}

/// Drops an observer's statistics: what it observes changed.
void resetObserver(ObserveOp obs) {
  if (!obs)
    return;
  obs.removeMinAttr();
  obs.removeMaxAttr();
  obs.removeChannelMeanAttr();
  obs.removeChannelAbsMaxAttr();
  obs.removeGramAttr();
}

void rotate(ActivationGroup &g, const Rotation &r) {
  int64_t k = g.channels;
  rotateReaders(g, r, /*foldNorm=*/false);
  switch (g.kind) {
  case ProducerKind::Linear: {
    std::vector<double> w = g.producer.weight(), b = *g.producer.bias();
    for (int64_t i = 0; i <= g.producer.k; ++i) {
      double *row = i < g.producer.k ? &w[i * k] : b.data();
      for (int64_t j = 0; j < k; ++j)
        row[j] *= r.signs[j];
      r.apply(row);
    }
    g.producer.setWeight(w);
    g.producer.setBias(b);
    break;
  }
  case ProducerKind::LayerNorm:
  case ProducerKind::ScaleShift: {
    // The signs join gamma and beta, which stay: what is rotated and then
    // quantized is the normalization's output gamma x^ + beta, as the
    // readers saw it. (Folding gamma into the weights instead, as the
    // residual stream must, quantizes x^, whose channels that a small
    // gamma silences can be large: the rotation spreads them over all.)
    std::vector<double> gamma = g.gamma(), beta = g.beta();
    for (int64_t j = 0; j < k; ++j) {
      gamma[j] *= r.signs[j];
      beta[j] *= r.signs[j];
    }
    g.setGammaBeta(gamma, beta);
    rotateOnline(g.value, r, /*applySigns=*/false);
    break;
  }
  case ProducerKind::Other:
    rotateOnline(g.value, r, /*applySigns=*/true);
    break;
  }
  resetObserver(g.observer);
}

//===----------------------------------------------------------------------===//
// The residual stream
//===----------------------------------------------------------------------===//

Value throughObservers(Value v) {
  while (auto obs = v.getDefiningOp<ObserveOp>())
    v = obs.getInput();
  return v;
}

/// A reduction over the last axis only, keeping dims.
bool reducesLastAxis(ReduceMeanOp r) {
  auto ty = cast<RankedTensorType>(r.getData().getType());
  ArrayRef<int64_t> axes = r.getAxes();
  return r.getKeepdims() && axes.size() == 1 &&
         (axes[0] == ty.getRank() - 1 || axes[0] == -1);
}

/// A normalization of the residual stream whose readers are all linear: a
/// LayerNormalization, or the decomposed form
/// `(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * gamma (+ beta)`.
struct Norm {
  ActivationGroup group;
  Value input;       // x (a stream value, observers stripped)
  SubOp center;      // decomposed: x - mean(x)
  ReduceMeanOp mean; // decomposed: mean(x)
  DivOp divide;      // decomposed: (x - mean) / sqrt(...)
};

std::optional<Norm> asNorm(ActivationGroup &g) {
  Norm n;
  n.group = g;
  if (g.kind == ProducerKind::LayerNorm) {
    auto ln = cast<LayerNormalizationOp>(g.norm);
    n.input = throughObservers(ln.getX());
    return n;
  }
  if (g.kind != ProducerKind::ScaleShift)
    return std::nullopt;
  Value z =
      channelConstant(g.mul.getB(), g.channels) ? g.mul.getA() : g.mul.getB();
  auto div = z.getDefiningOp<DivOp>();
  auto sub = div ? div.getA().getDefiningOp<SubOp>() : nullptr;
  auto mean = sub ? sub.getB().getDefiningOp<ReduceMeanOp>() : nullptr;
  if (!mean || mean.getData() != sub.getA() || !reducesLastAxis(mean) ||
      !z.hasOneUse())
    return std::nullopt;
  // The denominator: sqrt(mean(sub^2) + eps), sub^2 as Pow(sub, 2) or Mul(sub,
  // sub).
  auto sqrt = div.getB().getDefiningOp<SqrtOp>();
  auto addEps = sqrt ? sqrt.getX().getDefiningOp<AddOp>() : nullptr;
  if (!addEps)
    return std::nullopt;
  ReduceMeanOp var;
  for (Value v : {addEps.getA(), addEps.getB()})
    if (auto r = v.getDefiningOp<ReduceMeanOp>())
      var = r;
  if (!var || !reducesLastAxis(var))
    return std::nullopt;
  Operation *sq = var.getData().getDefiningOp();
  bool square = false;
  if (auto pow = dyn_cast_or_null<PowOp>(sq)) {
    std::optional<std::vector<float>> e = readFloatConstant(pow.getB());
    square = pow.getA() == sub.getC() && e && e->size() == 1 && (*e)[0] == 2.0f;
  } else if (auto mul = dyn_cast_or_null<MulOp>(sq)) {
    square = mul.getA() == sub.getC() && mul.getB() == sub.getC();
  }
  if (!square)
    return std::nullopt;
  // The centered value feeds only the square and the division.
  for (Operation *u : sub.getC().getUsers())
    if (u != sq && u != div.getOperation())
      return std::nullopt;
  n.input = throughObservers(sub.getA());
  n.center = sub;
  n.mean = mean;
  n.divide = div;
  return n;
}

/// A value written into the stream: a linear layer's output (its weight's
/// rows and bias), an embedding lookup (the table's rows) or a constant
/// (e.g. positions; its rows).
struct Writer {
  std::optional<Linear> linear;
  Operation *table = nullptr; // Gather: operand 0 constant; or the constant op
  Value constant;
};

std::optional<Writer> asWriter(Value v, int64_t d) {
  v = throughObservers(v);
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  // A linear layer (with its bias Add) whose output only enters the stream.
  Operation *mm = def;
  if (auto add = dyn_cast<AddOp>(def))
    for (Value x : {add.getA(), add.getB()})
      if (isa_and_nonnull<MatMulOp>(x.getDefiningOp()))
        mm = x.getDefiningOp();
  if (std::optional<Linear> l = asLinear(mm)) {
    if (l->n != d || l->output() != v || !l->bias() || !v.hasOneUse())
      return std::nullopt;
    Writer w;
    w.linear = l;
    return w;
  }
  if (auto gather = dyn_cast<GatherOp>(def)) {
    auto t = dyn_cast<RankedTensorType>(gather.getData().getType());
    if (gather.getAxis() != 0 || !t || t.getRank() != 2 ||
        t.getDimSize(1) != d || !readFloatConstant(gather.getData()) ||
        !v.hasOneUse())
      return std::nullopt;
    Writer w;
    w.table = gather;
    return w;
  }
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (t && t.hasStaticShape() && t.getRank() >= 1 &&
      t.getDimSize(t.getRank() - 1) == d && readFloatConstant(v) &&
      v.hasOneUse()) {
    Writer w;
    w.constant = v;
    w.table = def;
    return w;
  }
  return std::nullopt;
}

/// Rows of `values` (last dim d): centered, times D, times T.
void centerAndRotate(std::vector<double> &values, int64_t d,
                     const Rotation &r) {
  for (size_t row = 0; row + d <= values.size(); row += d) {
    double *x = &values[row];
    double mean = 0;
    for (int64_t j = 0; j < d; ++j)
      mean += x[j];
    mean /= double(d);
    for (int64_t j = 0; j < d; ++j)
      x[j] = (x[j] - mean) * r.signs[j];
    r.apply(x);
  }
}

/// QuaRot / SliceGPT on the residual stream of a pre-LN transformer: the
/// sums x = embeddings + attention and FFN outputs that only normalizations
/// (and the next sums) read. Every writer is centered (so that x has zero
/// mean and each LayerNorm computes an RMSNorm) and rotated by D T offline;
/// the normalizations become RMSNorms (rotation-invariant), their gamma and
/// beta and T^T D folded into their linear readers. Nothing runs online.
/// Returns the normalizations' outputs (now rotated), or nothing when `fn`
/// has no such stream (then nothing changed).
SmallVector<Value> rotateResidualStream(Operation *fn, uint64_t seed) {
  SmallVector<Norm> norms;
  llvm::DenseMap<Value, size_t> normOf; // stream value -> a norm reading it
  int64_t d = 0;
  for (ActivationGroup &g : findActivationGroups(fn)) {
    std::optional<Norm> n = asNorm(g);
    if (!n)
      continue;
    if (d && g.channels != d)
      return {};
    d = g.channels;
    normOf[n->input] = norms.size();
    norms.push_back(*n);
  }
  if (norms.empty())
    return {};
  // The stream: from the normalizations' inputs up through the sums.
  llvm::SetVector<Value> stream;
  SmallVector<Writer> writers;
  SmallVector<ObserveOp> observers;
  SmallVector<Value> work;
  for (Norm &n : norms)
    work.push_back(n.input);
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!stream.insert(v))
      continue;
    auto add = v.getDefiningOp<AddOp>();
    auto ty = add ? dyn_cast<RankedTensorType>(add.getC().getType()) : nullptr;
    if (!ty || !ty.hasStaticShape() || ty.getDimSize(ty.getRank() - 1) != d)
      return {};
    for (Value x : {add.getA(), add.getB()}) {
      if (std::optional<Writer> w = asWriter(x, d))
        writers.push_back(*w);
      else if (throughObservers(x).getDefiningOp<AddOp>())
        work.push_back(throughObservers(x));
      else
        return {};
    }
  }
  // Every reader of a stream value: a sum of the stream, its normalization,
  // or an observer of it (whose readers are the same).
  llvm::DenseSet<Operation *> sums;
  for (Value v : stream)
    sums.insert(v.getDefiningOp());
  std::function<bool(Value)> readersOk = [&](Value v) {
    Value root = throughObservers(v);
    auto it = normOf.find(root);
    for (Operation *u : v.getUsers()) {
      if (sums.contains(u))
        continue;
      if (auto obs = dyn_cast<ObserveOp>(u)) {
        observers.push_back(obs);
        if (!readersOk(obs.getOutput()))
          return false;
        continue;
      }
      if (it == normOf.end())
        return false;
      Norm &n = norms[it->second];
      if (n.group.kind == ProducerKind::LayerNorm
              ? u != n.group.norm
              : u != n.mean.getOperation() && u != n.center.getOperation())
        return false;
    }
    return true;
  };
  for (Value v : stream)
    if (!readersOk(v))
      return {};
  for (Norm &n : norms)
    if (!stream.contains(n.input))
      return {};

  // Rewrite. Writers: centered and rotated rows.
  Rotation r = makeRotation(d, seed * 1000003 + 999983);
  for (Writer &w : writers) {
    if (w.linear) {
      Linear &l = *w.linear;
      std::vector<double> weight = l.weight(), bias = *l.bias();
      centerAndRotate(weight, d, r);
      centerAndRotate(bias, d, r);
      l.setWeight(weight);
      l.setBias(bias);
      continue;
    }
    Value c = w.constant ? w.constant : w.table->getOperand(0);
    std::vector<float> f = *readFloatConstant(c);
    std::vector<double> values(f.begin(), f.end());
    centerAndRotate(values, d, r);
    OpBuilder b(w.table);
    std::string name = "residual";
    if (auto nl = dyn_cast<NameLoc>(w.table->getLoc()))
      name = nl.getName().str();
    Value cst = constantLike(b, w.table->getLoc(), c.getType(), values,
                             name + ".rotated");
    if (w.constant)
      w.constant.replaceAllUsesWith(cst);
    else
      w.table->setOperand(0, cst);
  }
  // Normalizations: readers take gamma, beta and T^T D; the norm becomes
  // x / sqrt(mean(x^2) + eps).
  SmallVector<Value> rotated;
  for (Norm &n : norms) {
    ActivationGroup &g = n.group;
    rotateReaders(g, r, /*foldNorm=*/true);
    Value out;
    if (g.kind == ProducerKind::LayerNorm) {
      auto ln = cast<LayerNormalizationOp>(g.norm);
      OpBuilder b(ln);
      Location loc = ln.getLoc();
      Value x = ln.getX();
      auto ty = cast<RankedTensorType>(x.getType());
      SmallVector<int64_t> rowShape(ty.getShape());
      rowShape.back() = 1;
      auto rowTy = ty.clone(rowShape);
      Value sq = MulOp::create(b, loc, ty, x, x);
      Value ms = ReduceMeanOp::create(
          b, loc, rowTy, sq, b.getDenseI64ArrayAttr({ty.getRank() - 1}), 1, 0);
      Value eps = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                 ln.getEpsilon().convertToFloat()));
      Value rms =
          SqrtOp::create(b, loc, rowTy, AddOp::create(b, loc, rowTy, ms, eps));
      out = DivOp::create(b, loc, ty, x, rms);
      ln.getY().replaceAllUsesWith(out);
      ln.erase();
    } else {
      n.center.getC().replaceAllUsesWith(n.center.getA());
      n.center.erase();
      if (n.mean->use_empty())
        n.mean.erase();
      out = n.divide.getC();
      Value top = g.shift ? g.shift.getC() : g.mul.getC();
      top.replaceAllUsesWith(out);
      if (g.shift)
        g.shift.erase();
      g.mul.erase();
    }
    resetObserver(g.observer);
    rotated.push_back(out);
  }
  for (ObserveOp obs : observers)
    resetObserver(obs);
  return rotated;
}

struct RotateHadamardPass : qc::impl::RotateHadamardBase<RotateHadamardPass> {
  using Base::Base;

  void runOnOperation() override {
    llvm::DenseSet<Value> done;
    if (residual)
      getOperation()->walk([&](FunctionOpInterface f) {
        for (Value v : rotateResidualStream(f, seed))
          done.insert(v);
      });
    SmallVector<ActivationGroup> groups = findActivationGroups(getOperation());
    for (auto [i, g] : llvm::enumerate(groups))
      if (!done.contains(g.value))
        rotate(g, makeRotation(g.channels, seed * 1000003 + i));
  }
};

} // namespace
