//===- EqualizeLayers.cpp - cross-layer equalization (Nagel et al.) -------===//
//
// Data-free rewrites that keep the float function and make it quantize
// better:
//  - a Mul or Add by a constant (one value, or one per channel) after a
//    Conv folds into the Conv's weights and bias, so that the product's
//    output is quantized once instead of before and after the affine
//    (PP-LCNet's learnable affine blocks, Conv -> Mul -> Add);
//  - cross-layer equalization: for Conv1 -> [Relu] -> Conv2, output channel
//    c of Conv1 is divided by s_c and the weights reading input channel c of
//    Conv2 multiplied by it, s_c = sqrt(r1_c / r2_c) with r1_c, r2_c the
//    channel's weight ranges in the two layers; both ranges become
//    sqrt(r1_c r2_c). Relu commutes with a positive scale and Conv2's zero
//    padding stays zero, so the function is unchanged. The intermediate
//    activation's channels are rescaled with it: a channel Conv2 amplifies
//    gets more of the per-tensor range. Chains are swept until the scales
//    settle;
//  - bias absorption: where fold-batch-norm recorded the expected mean and
//    spread of Conv1's outputs (qc.output_stats), the part of a Relu-ed
//    channel that is almost always positive moves into Conv2's bias.
//
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>

namespace qc {
#define GEN_PASS_DEF_EQUALIZELAYERS
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The conv's weights and per-channel bias (zeros where it has none).
struct ConvParams {
  std::vector<float> w, b;
  RankedTensorType wTy;
  int64_t channels = 0, per = 0;
  // qc.output_stats: the outputs' expected mean and spread per channel.
  std::vector<float> mean, spread;
};

std::optional<ConvParams> paramsOf(qc::ConvOp conv) {
  ConvParams p;
  p.wTy = cast<RankedTensorType>(conv.getW().getType());
  std::optional<std::vector<float>> w = qc::readFloatConstant(conv.getW());
  if (!w || !p.wTy.hasStaticShape() || p.wTy.getRank() < 3)
    return std::nullopt;
  p.w = std::move(*w);
  p.channels = p.wTy.getDimSize(0);
  p.per = int64_t(p.w.size()) / p.channels;
  std::optional<std::vector<float>> b =
      qc::readChannelBias(conv.getB(), p.channels);
  if (!b)
    return std::nullopt;
  p.b = std::move(*b);
  if (auto stats = conv->getAttrOfType<DenseFPElementsAttr>(
          qc::QCDialect::kOutputStatsAttrName)) {
    std::vector<float> v(stats.getValues<float>().begin(),
                         stats.getValues<float>().end());
    if (int64_t(v.size()) == 2 * p.channels) {
      p.mean.assign(v.begin(), v.begin() + p.channels);
      p.spread.assign(v.begin() + p.channels, v.end());
    }
  }
  return p;
}

void setParams(RewriterBase &rw, qc::ConvOp conv, const ConvParams &p,
               StringRef what) {
  rw.setInsertionPoint(conv);
  Location loc = conv.getLoc();
  Value w = qc::createBlobConstant(rw, loc, p.wTy, p.w, (what + "_weight").str());
  Value b = qc::createBlobConstant(
      rw, loc, RankedTensorType::get({p.channels}, rw.getF32Type()), p.b,
      (what + "_bias").str());
  rw.modifyOpInPlace(conv, [&] {
    conv->setOperand(1, w);
    if (conv.getB())
      conv->setOperand(2, b);
    else
      conv->insertOperands(2, b);
    if (!p.mean.empty()) {
      std::vector<float> v(p.mean);
      v.insert(v.end(), p.spread.begin(), p.spread.end());
      conv->setAttr(qc::QCDialect::kOutputStatsAttrName,
                    DenseFPElementsAttr::get(
                        RankedTensorType::get({2, p.channels}, rw.getF32Type()),
                        ArrayRef<float>(v)));
    }
  });
}

/// Mul of a Conv's only result by a per-channel constant (constant Adds:
/// populateFoldBiasAddPatterns).
struct FoldScaleIntoConv : OpRewritePattern<qc::MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MulOp op,
                                PatternRewriter &rw) const override {
    for (int side = 0; side < 2; ++side) {
      auto conv = op->getOperand(side).getDefiningOp<qc::ConvOp>();
      if (!conv || !conv->hasOneUse() || op.getType() != conv.getType())
        continue;
      std::optional<ConvParams> p = paramsOf(conv);
      if (!p)
        continue;
      auto out = cast<RankedTensorType>(conv.getType());
      std::optional<std::vector<float>> c =
          qc::perChannelConstant(op->getOperand(1 - side), out, p->channels);
      if (!c)
        continue;
      for (int64_t f = 0; f < p->channels; ++f) {
        for (int64_t i = 0; i < p->per; ++i)
          p->w[f * p->per + i] *= (*c)[f];
        p->b[f] *= (*c)[f];
        if (!p->mean.empty()) {
          p->mean[f] *= (*c)[f];
          p->spread[f] *= std::fabs((*c)[f]);
        }
      }
      setParams(rw, conv, *p, "affine_folded");
      rw.replaceOp(op, conv.getResult());
      return success();
    }
    return failure();
  }
};

/// Conv1 -> [Relu] -> Conv2 pairs, equalized in place.
struct Pair {
  qc::ConvOp first, second;
  bool relu = false;
};

SmallVector<Pair> findPairs(func::FuncOp fn) {
  SmallVector<Pair> pairs;
  fn.walk([&](qc::ConvOp second) {
    Value x = second.getX();
    bool relu = false;
    if (auto r = x.getDefiningOp<qc::ReluOp>(); r && r->hasOneUse()) {
      x = r.getX();
      relu = true;
    }
    auto first = x.getDefiningOp<qc::ConvOp>();
    if (!first || !first->hasOneUse() || first == second)
      return;
    auto w2 = cast<RankedTensorType>(second.getW().getType());
    auto w1 = cast<RankedTensorType>(first.getW().getType());
    if (!w1.hasStaticShape() || !w2.hasStaticShape() ||
        w2.getRank() != w1.getRank())
      return;
    int64_t cin = w2.getDimSize(1) * second.getGroup();
    if (cin != w1.getDimSize(0))
      return;
    pairs.push_back({first, second, relu});
  });
  return pairs;
}

/// One equalization of a pair; returns the largest |log s_c|.
double equalize(RewriterBase &rw, Pair pair) {
  std::optional<ConvParams> p1 = paramsOf(pair.first),
                            p2 = paramsOf(pair.second);
  if (!p1 || !p2)
    return 0;
  int64_t channels = p1->channels, group = pair.second.getGroup();
  int64_t inPer = p2->wTy.getDimSize(1); // input channels per group
  int64_t outPer = p2->channels / group; // filters per group
  int64_t kernel = p2->per / inPer;
  // Input channel c of Conv2 is entry j = c % inPer of the filters of group
  // c / inPer.
  auto forEach = [&](int64_t c, auto fn) {
    int64_t g = c / inPer, j = c % inPer;
    for (int64_t f = g * outPer; f < (g + 1) * outPer; ++f)
      for (int64_t k = 0; k < kernel; ++k)
        fn(p2->w[(f * inPer + j) * kernel + k]);
  };
  std::vector<double> s(channels, 1.0);
  double moved = 0;
  for (int64_t c = 0; c < channels; ++c) {
    double r1 = 0, r2 = 0;
    for (int64_t i = 0; i < p1->per; ++i)
      r1 = std::max(r1, double(std::abs(p1->w[c * p1->per + i])));
    forEach(c, [&](float &v) { r2 = std::max(r2, double(std::abs(v))); });
    if (r1 <= 0 || r2 <= 0 || !std::isfinite(r1) || !std::isfinite(r2))
      continue;
    s[c] = std::sqrt(r1 / r2);
    moved = std::max(moved, std::abs(std::log(s[c])));
  }
  if (moved < 1e-6)
    return 0;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < p1->per; ++i)
      p1->w[c * p1->per + i] = float(p1->w[c * p1->per + i] / s[c]);
    p1->b[c] = float(p1->b[c] / s[c]);
    if (!p1->mean.empty()) {
      p1->mean[c] = float(p1->mean[c] / s[c]);
      p1->spread[c] = float(p1->spread[c] / s[c]);
    }
    forEach(c, [&](float &v) { v = float(v * s[c]); });
  }
  setParams(rw, pair.first, *p1, "equalized");
  setParams(rw, pair.second, *p2, "equalized");
  return moved;
}

/// Bias absorption of a Conv1 -> Relu -> Conv2 pair whose Conv1 has output
/// statistics and whose Conv2 pads nothing: a_c = max(0, mean_c - 3
/// spread_c) leaves Conv1's bias and enters Conv2's through its weights.
/// Returns whether anything moved.
bool absorbPairBias(RewriterBase &rw, Pair pair) {
  if (!pair.relu)
    return false;
  auto pads = pair.second.getPads();
  StringRef autoPad = pair.second.getAutoPad();
  if ((pads && llvm::any_of(*pads, [](int64_t v) { return v != 0; })) ||
      (autoPad != "NOTSET" && autoPad != "VALID"))
    return false;
  std::optional<ConvParams> p1 = paramsOf(pair.first),
                            p2 = paramsOf(pair.second);
  if (!p1 || !p2 || p1->mean.empty())
    return false;
  int64_t group = pair.second.getGroup();
  int64_t inPer = p2->wTy.getDimSize(1), outPer = p2->channels / group;
  int64_t kernel = p2->per / inPer;
  bool moved = false;
  for (int64_t c = 0; c < p1->channels; ++c) {
    double a = std::max(0.0, double(p1->mean[c]) - 3 * double(p1->spread[c]));
    if (!(a > 0) || !std::isfinite(a))
      continue;
    moved = true;
    p1->b[c] = float(p1->b[c] - a);
    p1->mean[c] = float(p1->mean[c] - a);
    int64_t g = c / inPer, j = c % inPer;
    for (int64_t f = g * outPer; f < (g + 1) * outPer; ++f) {
      double sum = 0;
      for (int64_t k = 0; k < kernel; ++k)
        sum += p2->w[(f * inPer + j) * kernel + k];
      p2->b[f] = float(p2->b[f] + sum * a);
    }
  }
  if (!moved)
    return false;
  setParams(rw, pair.first, *p1, "bias_absorbed");
  setParams(rw, pair.second, *p2, "bias_absorbed");
  return true;
}

struct EqualizeLayersPass
    : qc::impl::EqualizeLayersBase<EqualizeLayersPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldScaleIntoConv>(&getContext());
    qc::populateFoldBiasAddPatterns(patterns);
    if (failed(applyPatternsGreedily(fn, std::move(patterns))))
      return signalPassFailure();
    SmallVector<Pair> pairs = findPairs(fn);
    IRRewriter rw(&getContext());
    for (int64_t sweep = 0; sweep < sweeps && !pairs.empty(); ++sweep) {
      double moved = 0;
      for (Pair p : pairs)
        moved = std::max(moved, equalize(rw, p));
      if (moved < 1e-3) // scales within 0.1% of 1: settled
        break;
    }
    if (absorbBias)
      for (Pair p : pairs)
        (void)absorbPairBias(rw, p);
    // The replaced constants.
    RewritePatternSet cleanup(&getContext());
    (void)applyPatternsGreedily(fn, std::move(cleanup));
  }
};

} // namespace
