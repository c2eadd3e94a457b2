//===- QCGraphOps.cpp - verifiers and folders of the ONNX-mirroring ops ---===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Support/Index.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>

using namespace mlir;
using namespace qc;

static int64_t rankOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getRank();
}

/// Checks the optional per-spatial-dim attribute arrays of conv-like ops.
static LogicalResult
checkSpatialAttrs(Operation *op, int64_t spatial,
                  std::optional<ArrayRef<int64_t>> strides,
                  std::optional<ArrayRef<int64_t>> dilations,
                  std::optional<ArrayRef<int64_t>> pads,
                  std::optional<ArrayRef<int64_t>> kernel) {
  auto check = [&](StringRef name, std::optional<ArrayRef<int64_t>> a,
                   int64_t expected, bool positive) -> LogicalResult {
    if (!a)
      return success();
    if (int64_t(a->size()) != expected)
      return op->emitOpError() << name << " has " << a->size()
                               << " entries, expected " << expected;
    for (int64_t v : *a)
      if (positive ? v <= 0 : v < 0)
        return op->emitOpError()
               << name << " entries must be "
               << (positive ? "positive" : "non-negative") << ", got " << v;
    return success();
  };
  return success(succeeded(check("strides", strides, spatial, true)) &&
                 succeeded(check("dilations", dilations, spatial, true)) &&
                 succeeded(check("pads", pads, 2 * spatial, false)) &&
                 succeeded(check("kernel_shape", kernel, spatial, true)));
}

LogicalResult ConvOp::verify() {
  int64_t rank = rankOf(getX());
  if (rank < 3)
    return emitOpError() << "input must have rank >= 3 (N, C, spatial...), got "
                         << rank;
  if (rankOf(getW()) != rank)
    return emitOpError() << "weight rank " << rankOf(getW())
                         << " differs from input rank " << rank;
  if (getGroup() == 0)
    return emitOpError("group must be positive");
  auto x = cast<RankedTensorType>(getX().getType());
  auto w = cast<RankedTensorType>(getW().getType());
  int64_t c = x.getDimSize(1), cw = w.getDimSize(1);
  int64_t group = int64_t(getGroup());
  if (!ShapedType::isDynamic(c) && !ShapedType::isDynamic(cw) &&
      c != cw * group)
    return emitOpError() << "input has " << c << " channels but weight expects "
                         << cw << " x group " << group;
  return checkSpatialAttrs(*this, rank - 2, getStrides(), getDilations(),
                           getPads(), getKernelShape());
}

LogicalResult GemmOp::verify() {
  if (rankOf(getA()) != 2 || rankOf(getB()) != 2)
    return emitOpError() << "A and B must be matrices, got ranks "
                         << rankOf(getA()) << " and " << rankOf(getB());
  auto a = cast<RankedTensorType>(getA().getType()).getShape();
  auto b = cast<RankedTensorType>(getB().getType()).getShape();
  int64_t ka = getTransA() ? a[0] : a[1], kb = getTransB() ? b[1] : b[0];
  if (!ShapedType::isDynamic(ka) && !ShapedType::isDynamic(kb) && ka != kb)
    return emitOpError() << "reduction dims differ: " << ka << " vs " << kb;
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getData().getType());
  auto out = cast<RankedTensorType>(getReshaped().getType());
  if (in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return emitOpError() << "reshapes " << in.getNumElements()
                         << " elements into " << out.getNumElements();
  return success();
}

LogicalResult TransposeOp::verify() {
  int64_t rank = rankOf(getData());
  ArrayRef<int64_t> perm = getPerm();
  if (int64_t(perm.size()) != rank)
    return emitOpError() << "perm has " << perm.size()
                         << " entries for a tensor of rank " << rank;
  SmallVector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return emitOpError() << "perm is not a permutation of 0.." << rank - 1;
    seen[p] = true;
  }
  return success();
}

/// A reshape to its input's type is its input; a reshape of a reshape to
/// a constant shape of explicit dims (no 0 or -1, which read the input)
/// reshapes the inner one's input.
OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getData().getType() == getType())
    return getData();
  auto inner = getData().getDefiningOp<ReshapeOp>();
  auto shape = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getShape());
  if (!inner || !shape || !cast<RankedTensorType>(getType()).hasStaticShape() ||
      llvm::any_of(shape.getValues<APInt>(),
                   [](const APInt &d) { return !d.isStrictlyPositive(); }))
    return {};
  if (inner.getData().getType() == getType())
    return inner.getData();
  getDataMutable().assign(inner.getData());
  return getResult();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = cast<RankedTensorType>(getData().getType());
  // The dims [start, end), ONNX's negative and out-of-range rules applied.
  int64_t rank = in.getRank();
  int64_t b = clampIndex(getStartAttr().getInt(), rank);
  int64_t e = getEnd() ? clampIndex(getEndAttr().getInt(), rank) : rank;
  ArrayRef<int64_t> dims = in.getShape().slice(b, std::max<int64_t>(e - b, 0));
  if (llvm::any_of(dims, ShapedType::isDynamic))
    return {};
  auto resultTy = cast<RankedTensorType>(getShape().getType());
  if (!resultTy.hasStaticShape() ||
      resultTy.getNumElements() != int64_t(dims.size()))
    return {};
  return DenseIntElementsAttr::get(resultTy, dims);
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = cast<RankedTensorType>(getData().getType());
  if (!in.hasStaticShape())
    return {};
  auto resultTy = cast<RankedTensorType>(getSize().getType());
  return DenseIntElementsAttr::get(resultTy,
                                   ArrayRef<int64_t>{in.getNumElements()});
}

/// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: input (N, C, d...),
/// target (N, d...) of integers, weight (C), reduction none/sum/mean.
static LogicalResult verifyLoss(Operation *op, Value input, Value target,
                                Value weight, StringRef reduction, Value loss) {
  auto in = cast<RankedTensorType>(input.getType());
  auto tg = cast<RankedTensorType>(target.getType());
  if (in.getRank() < 2)
    return op->emitOpError()
           << "input must have rank >= 2 (N, C, ...), got rank "
           << in.getRank();
  if (!isa<FloatType>(in.getElementType()) || !tg.getElementType().isInteger())
    return op->emitOpError("expects float scores and integer targets");
  if (tg.getRank() != in.getRank() - 1)
    return op->emitOpError() << "target must have rank " << in.getRank() - 1
                             << ", got " << tg.getRank();
  for (int64_t d = 0; d < tg.getRank(); ++d) {
    int64_t a = in.getDimSize(d == 0 ? 0 : d + 1), b = tg.getDimSize(d);
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return op->emitOpError() << "target dim " << d << " is " << b
                               << " but the input's is " << a;
  }
  if (weight) {
    auto w = cast<RankedTensorType>(weight.getType());
    if (w.getRank() != 1 || (!w.isDynamicDim(0) && !in.isDynamicDim(1) &&
                             w.getDimSize(0) != in.getDimSize(1)))
      return op->emitOpError("weight must be 1-d with one entry per class");
  }
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return op->emitOpError()
           << "reduction must be none, sum or mean, got '" << reduction << "'";
  int64_t expectedRank = reduction == "none" ? tg.getRank() : 0;
  if (cast<RankedTensorType>(loss.getType()).getRank() != expectedRank)
    return op->emitOpError() << "loss must have rank " << expectedRank
                             << " with reduction '" << reduction << "'";
  return success();
}

LogicalResult NegativeLogLikelihoodLossOp::verify() {
  return verifyLoss(*this, getInput(), getTarget(), getWeight(), getReduction(),
                    getLoss());
}

LogicalResult SoftmaxCrossEntropyLossOp::verify() {
  if (getLogProb() && getLogProb().getType() != getScores().getType())
    return emitOpError("log_prob must have the scores' type");
  return verifyLoss(*this, getScores(), getLabels(), getWeights(),
                    getReduction(), getOutput());
}

LogicalResult IfOp::verify() {
  auto cond = cast<RankedTensorType>(getCond().getType());
  if (cond.hasStaticShape() && cond.getNumElements() != 1)
    return emitOpError() << "condition must hold one element, got " << cond;
  for (Region *r : {&getThenBranch(), &getElseBranch()}) {
    auto yield = dyn_cast<YieldOp>(r->front().getTerminator());
    if (!yield)
      return emitOpError("branches must end in qc.yield");
    if (yield.getValues().getTypes() != getResultTypes())
      return yield.emitOpError()
             << "yields " << yield.getValues().getTypes()
             << " but the qc.if has results " << getResultTypes();
  }
  return success();
}

namespace {
/// if(constant) { A } else { B } -> A or B inlined before the op.
struct InlineConstantIf : OpRewritePattern<IfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(IfOp op,
                                PatternRewriter &rewriter) const override {
    DenseIntElementsAttr cond;
    if (!matchPattern(op.getCond(), m_Constant(&cond)) ||
        cond.getNumElements() != 1)
      return failure();
    Region &taken = cond.getSplatValue<APInt>().isZero() ? op.getElseBranch()
                                                         : op.getThenBranch();
    Block &block = taken.front();
    auto yield = cast<YieldOp>(block.getTerminator());
    SmallVector<Value> results(yield.getValues());
    rewriter.eraseOp(yield);
    rewriter.inlineBlockBefore(&block, op);
    rewriter.replaceOp(op, results);
    return success();
  }
};
} // namespace

void IfOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                       MLIRContext *context) {
  patterns.add<InlineConstantIf>(context);
}

std::optional<double> qc::evaluateScalar(Operation *op, ArrayRef<double> a) {
  using R = std::optional<double>;
  if (isa<ClipOp>(op)) {
    if (a.empty() || a.size() > 3)
      return std::nullopt;
    double v = a[0];
    if (a.size() > 1)
      v = std::max(v, a[1]);
    if (a.size() > 2)
      v = std::min(v, a[2]);
    return v;
  }
  if (a.size() == 2)
    return llvm::TypeSwitch<Operation *, R>(op)
        .Case([&](AddOp) { return a[0] + a[1]; })
        .Case([&](SubOp) { return a[0] - a[1]; })
        .Case([&](MulOp) { return a[0] * a[1]; })
        .Case([&](DivOp) { return a[0] / a[1]; })
        .Case([&](MaxOp) { return std::max(a[0], a[1]); })
        .Case([&](MinOp) { return std::min(a[0], a[1]); })
        .Default([](Operation *) { return std::nullopt; });
  if (a.size() != 1)
    return std::nullopt;
  double t = a[0];
  return llvm::TypeSwitch<Operation *, R>(op)
      .Case([&](ReluOp) { return std::max(t, 0.0); })
      .Case([&](NegOp) { return -t; })
      .Case([&](AbsOp) { return std::fabs(t); })
      .Case([&](ExpOp) { return std::exp(t); })
      .Case([&](TanhOp) { return std::tanh(t); })
      .Case([&](ErfOp) { return std::erf(t); })
      .Case([&](SigmoidOp) { return 1.0 / (1.0 + std::exp(-t)); })
      .Case([&](SoftplusOp) { return std::log1p(std::exp(t)); })
      .Case([&](MishOp) { return t * std::tanh(std::log1p(std::exp(t))); })
      .Case([&](HardSwishOp) {
        return t * std::min(std::max(t + 3, 0.0), 6.0) / 6;
      })
      .Case([&](HardSigmoidOp h) {
        double alpha = h.getAlpha().convertToDouble(),
               beta = h.getBeta() ? h.getBeta()->convertToDouble() : 0.5;
        return std::min(std::max(alpha * t + beta, 0.0), 1.0);
      })
      .Case([&](LeakyReluOp l) {
        return t >= 0 ? t : l.getAlpha().convertToDouble() * t;
      })
      .Case([&](EluOp l) {
        return t >= 0 ? t : l.getAlpha().convertToDouble() * (std::exp(t) - 1);
      })
      .Case([&](GeluOp g) {
        if (g.getApproximate() == "tanh")
          return 0.5 * t *
                 (1 + std::tanh(std::sqrt(2 / M_PI) *
                                (t + 0.044715 * t * t * t)));
        return 0.5 * t * (1 + std::erf(t / std::sqrt(2.0)));
      })
      .Default([](Operation *) { return std::nullopt; });
}
