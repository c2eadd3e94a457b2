//===- DynamicQuantization.cpp - qc.dynamic_(de)quantize to linalg --------===//
//
// The input [..., K] is viewed as [..., S, G] (S groups of G channels per
// row, S = 1 per token), so that a group is the innermost, contiguous axis:
// reductions read each group for its range (max |x|; or min, then max), a
// small generic turns the ranges into scales (and zero points), and one
// parallel generic quantizes. The arithmetic is the op's
// description, op for op, so the integers are the same as those of the graph
// ops fold-calibration emitted before the op existed.
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include <cfloat>
#include <cmath>

using namespace mlir;
using namespace qc::lowering;

namespace {

/// [..., K] <-> [..., S, G]: every leading dim alone, the last split.
SmallVector<ReassociationIndices> groupReassociation(int64_t rank) {
  SmallVector<ReassociationIndices> r;
  for (int64_t d = 0; d + 1 < rank; ++d)
    r.push_back({d});
  r.push_back({rank - 1, rank});
  return r;
}

/// `v` ([..., K]) viewed as [..., S, G].
Value splitGroups(OpBuilder &b, Location loc, Value v, int64_t groups) {
  auto ty = tensorType(v);
  SmallVector<int64_t> shape(ty.getShape());
  int64_t k = shape.back();
  shape.back() = groups;
  shape.push_back(k / groups);
  return tensor::ExpandShapeOp::create(b, loc, ty.clone(shape), v,
                                       groupReassociation(ty.getRank()));
}

/// The maps of a generic over [..., S, G] reading a [..., S, G] tensor and
/// a [..., S] one.
std::pair<AffineMap, AffineMap> groupMaps(int64_t rank, MLIRContext *ctx) {
  AffineMap full = AffineMap::getMultiDimIdentityMap(rank, ctx);
  return {full, full.dropResult(rank - 1)};
}

bool lowerable(RankedTensorType ty) {
  return ty.hasStaticShape() && ty.getElementType().isF32();
}

struct DynamicQuantizeLowering : OpRewritePattern<qc::DynamicQuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(qc::DynamicQuantizeOp op,
                                PatternRewriter &rw) const override {
    auto ty = op.getInput().getType();
    if (!lowerable(ty))
      return rw.notifyMatchFailure(op, "static f32 tensors only");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type f32 = rw.getF32Type();
    bool zeroPoints = bool(op.getZeroPoints());
    auto scalesTy = op.getScales().getType();
    int64_t rank = ty.getRank() + 1; // of the [..., S, G] iteration space
    Value x = splitGroups(rw, loc, op.getInput(), scalesTy.getShape().back());
    auto [full, perGroup] = groupMaps(rank, ctx);

    // The range of each group: max |x|, or min x and max x, each one
    // reduction with a single result (the form LLVM vectorizes, as
    // qc.reducemax's lowering).
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.back() = utils::IteratorType::reduction;
    auto reduce =
        [&](double init,
            function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
          Value out = filled(rw, loc, scalesTy, fconst(rw, loc, f32, init));
          return linalg::GenericOp::create(
                     rw, loc, TypeRange{scalesTy}, ValueRange{x},
                     ValueRange{out}, ArrayRef<AffineMap>{full, perGroup},
                     iters,
                     [&](OpBuilder &b, Location l, ValueRange a) {
                       linalg::YieldOp::create(
                           b, l, ValueRange{fn(b, l, a[0], a[1])});
                     })
              .getResult(0);
        };
    SmallVector<Value> ranges;
    if (zeroPoints) {
      ranges.push_back(
          reduce(INFINITY, [](OpBuilder &b, Location l, Value v, Value acc) {
            return minOf(b, l, v, acc);
          }));
      ranges.push_back(
          reduce(-INFINITY, [](OpBuilder &b, Location l, Value v, Value acc) {
            return maxOf(b, l, v, acc);
          }));
    } else {
      ranges.push_back(
          reduce(-INFINITY, [](OpBuilder &b, Location l, Value v, Value acc) {
            return maxOf(b, l, math::AbsFOp::create(b, l, v), acc);
          }));
    }

    // The scales (and zero points) of the groups.
    int64_t bits = op.getBits();
    double qmax = double((int64_t(1) << (bits - 1)) - 1),
           qmin = zeroPoints ? -qmax - 1 : -qmax;
    auto clip = [](OpBuilder &b, Location l, Value v, Value lo,
                   Value hi) -> Value {
      v = arith::MaximumFOp::create(b, l, v, lo);
      return hi ? Value(arith::MinimumFOp::create(b, l, v, hi)) : v;
    };
    SmallVector<AffineMap> sMaps(
        zeroPoints ? 4 : 2, AffineMap::getMultiDimIdentityMap(rank - 1, ctx));
    SmallVector<Value> sInits{
        tensor::EmptyOp::create(rw, loc, scalesTy.getShape(), f32)};
    if (zeroPoints)
      sInits.push_back(
          tensor::EmptyOp::create(rw, loc, scalesTy.getShape(), f32));
    auto params = linalg::GenericOp::create(
        rw, loc, SmallVector<Type>(sInits.size(), scalesTy), ranges, sInits,
        sMaps,
        SmallVector<utils::IteratorType>(rank - 1,
                                         utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value tiny = fconst(b, l, f32, 1e-12);
          if (!zeroPoints) {
            Value m = clip(b, l, a[0], tiny, Value());
            linalg::YieldOp::create(b, l,
                                    ValueRange{arith::DivFOp::create(
                                        b, l, m, fconst(b, l, f32, qmax))});
            return;
          }
          Value zero = fconst(b, l, f32, 0.0);
          Value lo = clip(b, l, a[0], fconst(b, l, f32, -FLT_MAX), zero);
          Value hi = clip(b, l, a[1], zero, fconst(b, l, f32, FLT_MAX));
          Value r =
              clip(b, l, arith::SubFOp::create(b, l, hi, lo), tiny, Value());
          Value s =
              arith::DivFOp::create(b, l, r, fconst(b, l, f32, qmax - qmin));
          Value loQ = math::RoundEvenOp::create(
              b, l, arith::DivFOp::create(b, l, lo, s));
          Value z = arith::SubFOp::create(b, l, fconst(b, l, f32, qmin), loQ);
          linalg::YieldOp::create(b, l, ValueRange{s, z});
        });
    Value scales = params.getResult(0);
    Value zeros = zeroPoints ? params.getResult(1) : Value();

    // One pass to quantize.
    auto qTy = cast<RankedTensorType>(x.getType()).clone(rw.getI8Type());
    SmallVector<Value> ins{x, scales};
    if (zeros)
      ins.push_back(zeros);
    SmallVector<AffineMap> qMaps{full, perGroup};
    if (zeros)
      qMaps.push_back(perGroup);
    qMaps.push_back(full);
    Value q =
        linalg::GenericOp::create(
            rw, loc, TypeRange{qTy}, ins,
            ValueRange{tensor::EmptyOp::create(rw, loc, qTy.getShape(),
                                               qTy.getElementType())},
            qMaps,
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value v = math::RoundEvenOp::create(
                  b, l, arith::DivFOp::create(b, l, a[0], a[1]));
              if (zeroPoints)
                v = arith::AddFOp::create(b, l, v, a[2]);
              v = clip(b, l, v, fconst(b, l, f32, qmin),
                       fconst(b, l, f32, qmax));
              linalg::YieldOp::create(
                  b, l,
                  ValueRange{arith::FPToSIOp::create(b, l, b.getI8Type(), v)});
            })
            .getResult(0);
    q = tensor::CollapseShapeOp::create(rw, loc, op.getOutput().getType(), q,
                                        groupReassociation(ty.getRank()));
    SmallVector<Value> results{q, scales};
    if (zeros)
      results.push_back(zeros);
    rw.replaceOp(op, results);
    return success();
  }
};

struct DynamicDequantizeLowering : OpRewritePattern<qc::DynamicDequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(qc::DynamicDequantizeOp op,
                                PatternRewriter &rw) const override {
    auto ty = op.getOutput().getType();
    if (!lowerable(ty) || !op.getInput().getType().hasStaticShape())
      return rw.notifyMatchFailure(op, "static tensors only");
    Location loc = op.getLoc();
    int64_t rank = ty.getRank() + 1;
    Value q = splitGroups(rw, loc, op.getInput(),
                          op.getScales().getType().getShape().back());
    auto [full, perGroup] = groupMaps(rank, op.getContext());
    SmallVector<Value> ins{q, op.getScales()};
    SmallVector<AffineMap> maps{full, perGroup};
    if (Value z = op.getZeroPoints()) {
      ins.push_back(z);
      maps.push_back(perGroup);
    }
    maps.push_back(full);
    auto outTy = cast<RankedTensorType>(q.getType()).clone(ty.getElementType());
    Value y =
        linalg::GenericOp::create(
            rw, loc, TypeRange{outTy}, ins,
            ValueRange{tensor::EmptyOp::create(rw, loc, outTy.getShape(),
                                               outTy.getElementType())},
            maps,
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value v = arith::SIToFPOp::create(b, l, b.getF32Type(), a[0]);
              if (a.size() > 3)
                v = arith::SubFOp::create(b, l, v, a[2]);
              linalg::YieldOp::create(
                  b, l, ValueRange{arith::MulFOp::create(b, l, v, a[1])});
            })
            .getResult(0);
    rw.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, ty, y, groupReassociation(ty.getRank()));
    return success();
  }
};

} // namespace

void qc::lowering::populateDynamicQuantizationPatterns(
    RewritePatternSet &patterns) {
  patterns.add<DynamicQuantizeLowering, DynamicDequantizeLowering>(
      patterns.getContext());
}
