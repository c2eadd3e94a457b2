//===- RotateHadamard.cpp - QuaRot-style rotation of linear inputs --------===//
#include "qc/Dialect/QC/Transforms/LinearGroups.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

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
    factor = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(fTy, ArrayRef(f)));
  }
  auto h = HadamardOp::create(b, loc, v.getType(), x, factor);
  if (!first)
    first = h;
  SmallPtrSet<Operation *, 4> except{first, h};
  v.replaceAllUsesExcept(h.getOutput(), except);
}

void rotate(ActivationGroup &g, const Rotation &r) {
  int64_t k = g.channels;
  bool norm = g.kind == ProducerKind::LayerNorm || g.kind == ProducerKind::ScaleShift;
  // The readers' rows are scaled by D (and gamma, folded out of a
  // normalization) before T^T; beta W joins their bias.
  std::vector<double> rowScale(r.signs), beta(k, 0.0);
  if (norm) {
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
    g.setGammaBeta(r.signs, std::vector<double>(k, 0.0));
    rotateOnline(g.value, r, /*applySigns=*/false);
    break;
  case ProducerKind::ScaleShift: {
    g.setGammaBeta(r.signs, std::vector<double>(k, 0.0));
    Value v = g.mul.getC();
    if (g.shift) {
      g.shift.getC().replaceAllUsesWith(v);
      g.shift.erase();
    }
    rotateOnline(v, r, /*applySigns=*/false);
    break;
  }
  case ProducerKind::Other:
    rotateOnline(g.value, r, /*applySigns=*/true);
    break;
  }
  if (ObserveOp obs = g.observer) {
    obs.removeMinAttr();
    obs.removeMaxAttr();
    obs.removeChannelMeanAttr();
    obs.removeChannelAbsMaxAttr();
  }
}

struct RotateHadamardPass : qc::impl::RotateHadamardBase<RotateHadamardPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<ActivationGroup> groups = findActivationGroups(getOperation());
    for (auto [i, g] : llvm::enumerate(groups))
      rotate(g, makeRotation(g.channels, seed * 1000003 + i));
  }
};

} // namespace
