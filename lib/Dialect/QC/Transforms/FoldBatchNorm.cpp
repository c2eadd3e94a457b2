//===- FoldBatchNorm.cpp - BatchNormalization into Conv / Gemm ------------===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>

namespace qc {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The per-channel factor g = scale / sqrt(var + eps) and offset
/// beta - mean * g of a BatchNormalization with constant parameters.
struct Affine {
  std::vector<float> g, offset, mean, scale;
};

std::optional<Affine> affineOf(qc::BatchNormalizationOp bn) {
  auto scale = qc::readFloatConstant(bn.getScale());
  auto beta = qc::readFloatConstant(bn.getB());
  auto mean = qc::readFloatConstant(bn.getInputMean());
  auto var = qc::readFloatConstant(bn.getInputVar());
  if (!scale || !beta || !mean || !var)
    return std::nullopt;
  size_t n = scale->size();
  if (beta->size() != n || mean->size() != n || var->size() != n)
    return std::nullopt;
  Affine a;
  double eps = bn.getEpsilon().convertToDouble();
  for (size_t i = 0; i < n; ++i) {
    a.g.push_back(float((*scale)[i] / std::sqrt(double((*var)[i]) + eps)));
    a.offset.push_back((*beta)[i]);
  }
  a.mean = *mean;
  a.scale = *scale;
  return a;
}

struct FoldIntoConv : OpRewritePattern<qc::BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::BatchNormalizationOp bn,
                                PatternRewriter &rw) const override {
    Operation *producer = bn.getX().getDefiningOp();
    if (!producer || !producer->hasOneUse() ||
        !isa<qc::ConvOp, qc::GemmOp, qc::ConvTransposeOp>(producer))
      return failure();
    std::optional<Affine> a = affineOf(bn);
    if (!a)
      return rw.notifyMatchFailure(bn, "parameters are not constant");
    int64_t channels = a->g.size();
    Value weight = producer->getOperand(1);
    Value bias =
        producer->getNumOperands() > 2 ? producer->getOperand(2) : Value();
    auto wTy = cast<RankedTensorType>(weight.getType());
    std::optional<std::vector<float>> w = qc::readFloatConstant(weight);
    if (!w)
      return rw.notifyMatchFailure(bn, "weights are not a constant");
    std::vector<float> b(channels, 0.f);
    if (bias) {
      std::optional<std::vector<float>> bv = qc::readFloatConstant(bias);
      if (!bv || (int64_t(bv->size()) != channels && bv->size() != 1))
        return rw.notifyMatchFailure(bn, "bias is not a per-channel constant");
      for (int64_t c = 0; c < channels; ++c)
        b[c] = (*bv)[bv->size() == 1 ? 0 : c];
    }
    // Which weight entries belong to output channel c.
    std::function<int64_t(int64_t)> channelOf;
    float beta = 1.f;
    if (auto gemm = dyn_cast<qc::GemmOp>(producer)) {
      if (gemm.getTransA() || wTy.getRank() != 2)
        return failure();
      beta = gemm.getBeta().convertToFloat();
      int64_t cols = wTy.getDimSize(1);
      if (gemm.getTransB())
        channelOf = [cols](int64_t i) { return i / cols; };
      else
        channelOf = [cols](int64_t i) { return i % cols; };
      if (wTy.getDimSize(gemm.getTransB() ? 0 : 1) != channels)
        return failure();
    } else if (auto ct = dyn_cast<qc::ConvTransposeOp>(producer)) {
      // Weights [C, F / group, k...]: output channel g F/group + f.
      int64_t group = ct.getGroup(), fg = wTy.getDimSize(1);
      if (wTy.getRank() < 3 || fg * group != channels)
        return failure();
      int64_t taps = wTy.getNumElements() / (wTy.getDimSize(0) * fg),
              cg = wTy.getDimSize(0) / group;
      channelOf = [=](int64_t i) {
        int64_t c = i / (fg * taps), f = i / taps % fg;
        return (c / cg) * fg + f;
      };
    } else {
      if (wTy.getDimSize(0) != channels)
        return failure();
      int64_t per = wTy.getNumElements() / channels;
      channelOf = [per](int64_t i) { return i / per; };
    }
    for (int64_t i = 0, e = w->size(); i < e; ++i)
      (*w)[i] *= a->g[channelOf(i)];
    // y = g (alpha A W + beta b - mean) + offset: the bias becomes
    // (g (beta b - mean) + offset) / beta (beta 0: alpha folds instead).
    std::vector<float> nb(channels);
    for (int64_t c = 0; c < channels; ++c)
      nb[c] = a->g[c] * (beta * b[c] - a->mean[c]) + a->offset[c];
    if (beta != 0)
      for (float &v : nb)
        v /= beta;
    else if (isa<qc::GemmOp>(producer))
      return rw.notifyMatchFailure(bn, "Gemm with beta 0");
    rw.setInsertionPoint(producer);
    Location loc = producer->getLoc();
    Value nw = qc::createBlobConstant(rw, loc, wTy, *w, "bn_folded_weight");
    Value nbias = qc::createBlobConstant(
        rw, loc, RankedTensorType::get({channels}, rw.getF32Type()), nb,
        "bn_folded_bias");
    rw.modifyOpInPlace(producer, [&] {
      producer->setOperand(1, nw);
      if (bias)
        producer->setOperand(2, nbias);
      else
        producer->insertOperands(2, nbias);
      // What the BN normalized to: its outputs' expected mean (beta) and
      // spread (|gamma|) per channel, for bias absorption.
      if (isa<qc::ConvOp>(producer)) {
        std::vector<float> stats(a->offset);
        for (float s : a->scale)
          stats.push_back(std::fabs(s));
        producer->setAttr(
            qc::QCDialect::kOutputStatsAttrName,
            DenseFPElementsAttr::get(
                RankedTensorType::get({2, channels}, rw.getF32Type()),
                ArrayRef<float>(stats)));
      }
    });
    rw.replaceOp(bn, producer->getResult(0));
    return success();
  }
};

struct FoldBatchNormPass : qc::impl::FoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoConv>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
