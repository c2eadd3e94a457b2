//===- Normalization.cpp - BatchNormalization and global pooling to linalg ===//
#include "Common.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include <functional>
#include <limits>

using namespace mlir;

using namespace qc::lowering;

namespace {

/// Inference BatchNormalization: scale * (x - mean) / sqrt(var + eps) + B
/// with the [C] parameters read along dim 1, one linalg.generic.
struct BatchNormToLinalg : OpRewritePattern<qc::BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::BatchNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloat(op.getX()) || !staticFloat(op.getY()))
      return rewriter.notifyMatchFailure(op, "static float shapes only");
    auto y = cast<RankedTensorType>(op.getY().getType());
    int64_t rank = y.getRank();
    if (rank < 2)
      return rewriter.notifyMatchFailure(op, "needs a channel dim");
    MLIRContext *ctx = rewriter.getContext();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(1, ctx));
    SmallVector<AffineMap> maps = {id, channel, channel, channel, channel, id};
    Location loc = op.getLoc();
    Value init = tensor::EmptyOp::create(rewriter, loc, y.getShape(),
                                         y.getElementType());
    double eps = op.getEpsilon().convertToDouble();
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, y,
        ValueRange{op.getX(), op.getScale(), op.getB(), op.getInputMean(),
                   op.getInputVar()},
        ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Type t = y.getElementType();
          Value centered = arith::SubFOp::create(b, l, a[0], a[3]);
          Value stddev = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, a[4], fconst(b, l, t, eps)));
          Value v = arith::DivFOp::create(
              b, l, arith::MulFOp::create(b, l, centered, a[1]), stddev);
          Value r = arith::AddFOp::create(b, l, v, a[2]);
          linalg::YieldOp::create(b, l, r);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// GlobalAveragePool / GlobalMaxPool: a reduction over the spatial dims into
/// [N, C], the mean's division, then the unit spatial dims back.
template <typename OpTy, bool isMax>
struct GlobalPoolToLinalg : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloat(op.getX()) || !staticFloat(op.getY()))
      return rewriter.notifyMatchFailure(op, "static float shapes only");
    auto x = cast<RankedTensorType>(op.getX().getType());
    auto y = cast<RankedTensorType>(op.getY().getType());
    int64_t rank = x.getRank();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type t = x.getElementType();
    auto reducedTy =
        RankedTensorType::get({x.getDimSize(0), x.getDimSize(1)}, t);
    Value start = arith::ConstantOp::create(
        rewriter, loc,
        isMax
            ? rewriter.getFloatAttr(t, -std::numeric_limits<double>::infinity())
            : rewriter.getZeroAttr(t));
    Value init =
        linalg::FillOp::create(rewriter, loc, start,
                               ValueRange{tensor::EmptyOp::create(
                                   rewriter, loc, reducedTy.getShape(), t)})
            .getResult(0);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::reduction);
    iterators[0] = iterators[1] = utils::IteratorType::parallel;
    AffineMap out = AffineMap::get(
        rank, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    Value reduced =
        linalg::GenericOp::create(
            rewriter, loc, reducedTy, ValueRange{op.getX()}, ValueRange{init},
            SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank), out},
            iterators,
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value r = isMax
                            ? Value(arith::MaximumFOp::create(b, l, a[0], a[1]))
                            : Value(arith::AddFOp::create(b, l, a[0], a[1]));
              linalg::YieldOp::create(b, l, r);
            })
            .getResult(0);
    if (!isMax) {
      int64_t count = 1;
      for (int64_t d = 2; d < rank; ++d)
        count *= x.getDimSize(d);
      reduced = scaleAndAdd(rewriter, loc, reduced, 1.0 / double(count),
                            Value(), 1.0);
    }
    SmallVector<ReassociationIndices> reassoc = {{0}, {}};
    for (int64_t d = 1; d < rank; ++d)
      reassoc[1].push_back(d);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, y, reduced, reassoc);
    return success();
  }
};

} // namespace

void qc::lowering::populateNormalizationPatterns(RewritePatternSet &patterns) {
  patterns.add<BatchNormToLinalg,
               GlobalPoolToLinalg<qc::GlobalAveragePoolOp, false>,
               GlobalPoolToLinalg<qc::GlobalMaxPoolOp, true>>(
      patterns.getContext());
}
