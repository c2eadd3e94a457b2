//===- Hadamard.cpp - qc.hadamard to butterfly stages ---------------------===//
//
// x T with T = F (x) H / sqrt(p) over the last axis (n = m p): the leading
// dims collapse to M rows, the last axis splits into [m, p], then log2(p)
// butterfly generics (the fast Walsh-Hadamard transform, O(n log n) per row)
// and, for m > 1, one contraction with the m x m factor.
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include <cmath>

using namespace mlir;
using namespace qc::lowering;

namespace {

struct HadamardLowering : OpRewritePattern<qc::HadamardOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(qc::HadamardOp op,
                                PatternRewriter &rw) const override {
    auto ty = tensorType(op.getInput());
    if (!ty.hasStaticShape() || !ty.getElementType().isF32())
      return rw.notifyMatchFailure(op, "static f32 tensors only");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type f32 = ty.getElementType();
    int64_t rank = ty.getRank(), n = ty.getDimSize(rank - 1);
    int64_t m = op.getFactorSize(), p = n / m, rows = ty.getNumElements() / n;

    // [..., n] -> [M, m, p]
    auto t3 = RankedTensorType::get({rows, m, p}, f32);
    Value x = reshapeTo(rw, loc, op.getInput(), t3);
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    double norm = 1.0 / std::sqrt(double(p));
    for (int64_t h = 1; h < p; h *= 2) {
      int64_t groups = p / (2 * h);
      auto t5 = RankedTensorType::get({rows, m, groups, 2, h}, f32);
      Value x5 = tensor::ExpandShapeOp::create(
          rw, loc, t5, x,
          SmallVector<ReassociationIndices>{{0}, {1}, {2, 3, 4}});
      AffineMap lo = AffineMap::get(
          5, 0, {d(0), d(1), d(2), getAffineConstantExpr(0, ctx), d(4)}, ctx);
      AffineMap hi = AffineMap::get(
          5, 0, {d(0), d(1), d(2), getAffineConstantExpr(1, ctx), d(4)}, ctx);
      AffineMap id = AffineMap::getMultiDimIdentityMap(5, ctx);
      bool last = 2 * h == p;
      Value init = tensor::EmptyOp::create(rw, loc, t5.getShape(), f32);
      Value y5 =
          linalg::GenericOp::create(
              rw, loc, TypeRange{t5}, ValueRange{x5, x5}, ValueRange{init},
              ArrayRef<AffineMap>{lo, hi, id},
              SmallVector<utils::IteratorType>(5,
                                               utils::IteratorType::parallel),
              [&](OpBuilder &b, Location l, ValueRange a) {
                Value t = linalg::IndexOp::create(b, l, 3);
                Value zero = arith::ConstantIndexOp::create(b, l, 0);
                Value isLo = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::eq, t, zero);
                Value sum = arith::AddFOp::create(b, l, a[0], a[1]);
                Value diff = arith::SubFOp::create(b, l, a[0], a[1]);
                Value r = arith::SelectOp::create(b, l, isLo, sum, diff);
                if (last)
                  r = arith::MulFOp::create(b, l, r, fconst(b, l, f32, norm));
                linalg::YieldOp::create(b, l, r);
              })
              .getResult(0);
      x = tensor::CollapseShapeOp::create(
          rw, loc, t3, y5,
          SmallVector<ReassociationIndices>{{0}, {1}, {2, 3, 4}});
    }
    if (m > 1) {
      // y[i, a', b] = sum_a x[i, a, b] F[a, a']
      AffineMap xm = AffineMap::get(4, 0, {d(0), d(3), d(2)}, ctx);
      AffineMap fm = AffineMap::get(4, 0, {d(3), d(1)}, ctx);
      AffineMap ym = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
      auto par = utils::IteratorType::parallel;
      x = linalg::GenericOp::create(
              rw, loc, TypeRange{t3}, ValueRange{x, op.getFactor()},
              ValueRange{zeros(rw, loc, t3)}, ArrayRef<AffineMap>{xm, fm, ym},
              SmallVector<utils::IteratorType>{par, par, par,
                                               utils::IteratorType::reduction},
              [&](OpBuilder &b, Location l, ValueRange a) {
                Value prod = arith::MulFOp::create(b, l, a[0], a[1]);
                linalg::YieldOp::create(
                    b, l, ValueRange{arith::AddFOp::create(b, l, a[2], prod)});
              })
              .getResult(0);
    }
    rw.replaceOp(op, reshapeTo(rw, loc, x, ty));
    return success();
  }
};

} // namespace

void qc::lowering::populateHadamardPatterns(RewritePatternSet &patterns) {
  patterns.add<HadamardLowering>(patterns.getContext());
}
