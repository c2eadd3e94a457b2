//===- LinalgLoopOrder.cpp - contractions with the contiguous dim innermost
//===//
//
// convert-linalg-to-loops nests loops in iterator order, which puts the
// reduction dims of a matmul or convolution innermost: a float reduction
// LLVM's vectorizer may not reassociate. This pass generalizes such ops and
// interchanges their iterators to (parallel..., reduction..., j), j being
// the output's innermost dim, when every operand reads j only in its
// innermost (contiguous) position: the inner loop then updates a contiguous
// row of the output from contiguous inputs (or a broadcast scalar), which
// LLVM turns into packed FMAs of the target's widest vectors (AVX-512 here).
//
//===----------------------------------------------------------------------===//
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_LINALGLOOPORDER
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

constexpr StringLiteral kDone = "qc.loop_order";

/// The permutation (new loop i = old loop perm[i]) putting the output's
/// innermost dim last and reductions just outside it; empty when it does
/// not apply.
SmallVector<unsigned> vectorizableOrder(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0)
    return {};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap out = maps.back();
  if (out.getNumResults() == 0)
    return {};
  auto j = dyn_cast<AffineDimExpr>(out.getResults().back());
  if (!j)
    return {};
  unsigned jd = j.getPosition();
  for (AffineMap m : ArrayRef(maps).drop_back()) {
    for (auto [k, e] : llvm::enumerate(m.getResults()))
      if (e.isFunctionOfDim(jd) && k + 1 != m.getNumResults())
        return {};
  }
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  SmallVector<unsigned> perm;
  for (unsigned d = 0; d < iters.size(); ++d)
    if (d != jd && iters[d] == utils::IteratorType::parallel)
      perm.push_back(d);
  for (unsigned d = 0; d < iters.size(); ++d)
    if (iters[d] == utils::IteratorType::reduction)
      perm.push_back(d);
  perm.push_back(jd);
  return perm;
}

struct ReorderLoops : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op->hasAttr(kDone) || !op.hasPureTensorSemantics())
      return failure();
    SmallVector<unsigned> perm = vectorizableOrder(op);
    if (perm.empty())
      return failure();
    linalg::GenericOp generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic) {
      FailureOr<linalg::GenericOp> g = linalg::generalizeNamedOp(rewriter, op);
      if (failed(g))
        return failure();
      generic = *g;
    }
    FailureOr<linalg::GenericOp> reordered =
        linalg::interchangeGenericOp(rewriter, generic, perm);
    if (failed(reordered))
      return failure();
    rewriter.modifyOpInPlace(*reordered, [&] {
      (*reordered)->setAttr(kDone, rewriter.getUnitAttr());
    });
    return success();
  }
};

/// A 2-d NCHW convolution whose output rows are too short to vectorize
/// (width below 16) or that is 1x1 becomes im2col + a matmul-like
/// contraction over (C*KH*KW) whose inner dim is OH*OW.
struct ShortRowConvToIm2Col : OpRewritePattern<linalg::Conv2DNchwFchwOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::Conv2DNchwFchwOp op,
                                PatternRewriter &rewriter) const override {
    auto out = dyn_cast<RankedTensorType>(op.getResultTypes()[0]);
    auto filter = dyn_cast<RankedTensorType>(op.getInputs()[1].getType());
    if (!out || !filter || !out.hasStaticShape() || !filter.hasStaticShape())
      return failure();
    bool pointwise = filter.getDimSize(2) == 1 && filter.getDimSize(3) == 1;
    if (out.getDimSize(3) >= 16 && !pointwise)
      return failure();
    if (failed(linalg::rewriteInIm2Col(rewriter, op)))
      return failure();
    return success();
  }
};

struct LinalgLoopOrderPass
    : qc::impl::LinalgLoopOrderBase<LinalgLoopOrderPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ReorderLoops>(&getContext());
    patterns.add<ShortRowConvToIm2Col>(&getContext(), /*benefit=*/2);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    getOperation()->walk([](Operation *op) { op->removeAttr(kDone); });
  }
};

} // namespace
