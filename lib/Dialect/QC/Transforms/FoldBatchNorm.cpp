//===- FoldBatchNorm.cpp - BatchNormalization and bias Adds into products ===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/Transforms/LinearGroups.h"
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
    std::optional<std::vector<float>> bv = qc::readChannelBias(bias, channels);
    if (!bv)
      return rw.notifyMatchFailure(bn, "bias is not a per-channel constant");
    std::vector<float> &b = *bv;
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

/// Add of a Conv's, ConvTranspose's or Gemm's only result and a constant
/// with one value per output channel (or one): the constant joins the bias
/// (divided by a Gemm's beta), so the product's output is what gets
/// quantized and no float Add follows it.
struct FoldBiasAdd : OpRewritePattern<qc::AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::AddOp add,
                                PatternRewriter &rw) const override {
    for (int side = 0; side < 2; ++side) {
      Operation *producer = add->getOperand(side).getDefiningOp();
      if (!producer || !producer->hasOneUse() ||
          !isa<qc::ConvOp, qc::GemmOp, qc::ConvTransposeOp>(producer) ||
          add.getType() != producer->getResult(0).getType())
        continue;
      auto out = cast<RankedTensorType>(producer->getResult(0).getType());
      if (out.getRank() < 2 || out.isDynamicDim(1))
        continue;
      int64_t channels = out.getDimSize(1);
      std::optional<std::vector<float>> c =
          qc::perChannelConstant(add->getOperand(1 - side), out, channels);
      if (!c)
        continue;
      Value bias =
          producer->getNumOperands() > 2 ? producer->getOperand(2) : Value();
      std::optional<std::vector<float>> bv =
          qc::readChannelBias(bias, channels);
      if (!bv)
        continue;
      std::vector<float> &b = *bv;
      auto gemm = dyn_cast<qc::GemmOp>(producer);
      float beta = gemm && bias ? gemm.getBeta().convertToFloat() : 1.f;
      if (beta == 0)
        continue;
      for (int64_t f = 0; f < channels; ++f)
        b[f] += (*c)[f] / beta;
      rw.setInsertionPoint(producer);
      Value nbias = qc::createBlobConstant(
          rw, producer->getLoc(),
          RankedTensorType::get({channels}, rw.getF32Type()), b, "bias_folded");
      rw.modifyOpInPlace(producer, [&] {
        if (bias)
          producer->setOperand(2, nbias);
        else
          producer->insertOperands(2, nbias);
        if (gemm && !bias)
          gemm.setBetaAttr(rw.getF32FloatAttr(1.f));
        // The outputs' expected mean moves with the bias.
        if (auto stats = producer->getAttrOfType<DenseFPElementsAttr>(
                qc::QCDialect::kOutputStatsAttrName)) {
          std::vector<float> v(stats.getValues<float>().begin(),
                               stats.getValues<float>().end());
          if (int64_t(v.size()) == 2 * channels) {
            for (int64_t f = 0; f < channels; ++f)
              v[f] += (*c)[f];
            producer->setAttr(qc::QCDialect::kOutputStatsAttrName,
                              DenseFPElementsAttr::get(stats.getType(),
                                                       ArrayRef<float>(v)));
          }
        }
      });
      rw.replaceOp(add, producer->getResult(0));
      return success();
    }
    return failure();
  }
};

/// Add(MatMul(a, W), b) with W a constant [K, N] matrix, b a constant of N
/// values (or one) along the last axis and `a` of static shape [..., M, K]:
/// a Gemm with bias on `a` flattened to [rows, K], reshaped back. The bias
/// then lands in the product's int32 accumulators, and what follows the
/// layer (GELU, a residual Add) reads its quantized output directly.
struct MatMulBiasToGemm : OpRewritePattern<qc::AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::AddOp add,
                                PatternRewriter &rw) const override {
    for (int side = 0; side < 2; ++side) {
      // qc::asLinear recognizes a MatMul with its bias Add (linear-groups').
      auto mm = add->getOperand(side).getDefiningOp<qc::MatMulOp>();
      if (!mm)
        continue;
      std::optional<qc::Linear> l = qc::asLinear(mm);
      auto aTy = dyn_cast<RankedTensorType>(mm.getA().getType());
      if (!l || l->biasAdd != add || !aTy || !aTy.hasStaticShape())
        continue;
      std::optional<std::vector<double>> bv = l->bias();
      if (!bv)
        continue;
      auto out = cast<RankedTensorType>(mm.getType());
      int64_t k = l->k, n = l->n;
      std::vector<float> bias(bv->begin(), bv->end());
      int64_t rows = aTy.getNumElements() / k;
      Location loc = mm.getLoc();
      Value a = mm.getA();
      if (aTy.getRank() != 2)
        a = qc::createReshape(rw, loc, a, {rows, k});
      Value b = qc::createBlobConstant(
          rw, loc, RankedTensorType::get({n}, rw.getF32Type()), bias,
          "matmul_bias");
      Value y = qc::GemmOp::create(
          rw, loc, RankedTensorType::get({rows, n}, rw.getF32Type()), a,
          mm.getB(), b, rw.getF32FloatAttr(1.f), rw.getF32FloatAttr(1.f),
          rw.getI64IntegerAttr(0), rw.getI64IntegerAttr(0));
      if (out.getRank() != 2)
        y = qc::createReshape(rw, loc, y, out.getShape());
      rw.replaceOp(add, y);
      rw.eraseOp(mm);
      return success();
    }
    return failure();
  }
};

} // namespace

void qc::populateFoldBiasAddPatterns(RewritePatternSet &patterns) {
  patterns.add<FoldBiasAdd>(patterns.getContext());
}

namespace {

struct FoldBatchNormPass : qc::impl::FoldBatchNormBase<FoldBatchNormPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoConv, FoldBiasAdd>(&getContext());
    if (matmulBiasToGemm)
      patterns.add<MatMulBiasToGemm>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
