//===- Reductions.cpp - reductions, softmax and normalizations to linalg --===//
//
// A reduction is one linalg.generic with reduction iterators into the
// result without the reduced dims (then reshaped to keepdims' shape); the
// composite ops (Softmax, LayerNormalization, ...) chain such reductions
// with elementwise generics that read the reduced values broadcast back.
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include <limits>
#include <map>

using namespace mlir;
using namespace qc::lowering;

namespace {

using Combine = function_ref<Value(OpBuilder &, Location, Value x, Value acc)>;

/// The map from the full iteration space to the dims `reduced` keeps.
AffineMap keptMap(int64_t rank, ArrayRef<bool> reduced, MLIRContext *ctx) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d])
      exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// Reduces `input` over the dims marked in `reduced`: acc = combine(x, acc)
/// from `init`. The result drops the reduced dims.
Value reduce(OpBuilder &b, Location loc, Value input, ArrayRef<bool> reduced,
             Value init, Combine combine) {
  auto in = tensorType(input);
  int64_t rank = in.getRank();
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d])
      shape.push_back(in.getDimSize(d));
  auto outTy = RankedTensorType::get(shape, init.getType());
  Value acc = filled(b, loc, outTy, init);
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < rank; ++d)
    iters.push_back(reduced[d] ? utils::IteratorType::reduction
                               : utils::IteratorType::parallel);
  MLIRContext *ctx = b.getContext();
  return linalg::GenericOp::create(
             b, loc, outTy, ValueRange{input}, ValueRange{acc},
             SmallVector<AffineMap>{
                 AffineMap::getMultiDimIdentityMap(rank, ctx),
                 keptMap(rank, reduced, ctx)},
             iters,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, combine(nb, l, a[0], a[1]));
             })
      .getResult(0);
}

/// An elementwise generic over `resultTy`: `full` operands are read with the
/// identity map, `kept` ones (reduced tensors) with keptMap.
Value withReduced(OpBuilder &b, Location loc, RankedTensorType resultTy,
                  ValueRange full, ValueRange kept, ArrayRef<bool> reduced,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = resultTy.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  SmallVector<Value> ins;
  for (Value v : full) {
    maps.push_back(broadcastMap(tensorType(v), resultTy));
    ins.push_back(v);
  }
  for (Value v : kept) {
    maps.push_back(keptMap(rank, reduced, ctx));
    ins.push_back(v);
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = tensor::EmptyOp::create(b, loc, resultTy.getShape(),
                                       resultTy.getElementType());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, resultTy, ins, ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, body(nb, l, a.drop_back()));
             })
      .getResult(0);
}

/// The lowest (or highest) value of an element type.
Value extreme(OpBuilder &b, Location l, Type t, bool highest) {
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(
        b, l, b.getFloatAttr(t, highest ? INFINITY : -INFINITY));
  unsigned w = t.getIntOrFloatBitWidth();
  APInt v = highest ? APInt::getSignedMaxValue(w) : APInt::getSignedMinValue(w);
  return arith::ConstantOp::create(b, l, b.getIntegerAttr(t, v));
}

Value constOf(OpBuilder &b, Location l, Type t, double v) {
  if (isa<FloatType>(t))
    return fconst(b, l, t, v);
  return arith::ConstantOp::create(b, l, b.getIntegerAttr(t, int64_t(v)));
}

enum class Kind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  LogSum,
  LogSumExp,
  SumSquare
};

template <typename OpTy, Kind kind>
struct ReduceLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    Value data = op.getData();
    auto in = tensorType(data);
    auto out = tensorType(op.getReduced());
    Type et = in.getElementType();
    bool fl = isa<FloatType>(et);
    if (!fl && kind != Kind::Sum && kind != Kind::Max && kind != Kind::Min &&
        kind != Kind::Prod && kind != Kind::SumSquare && kind != Kind::L1)
      return rewriter.notifyMatchFailure(op,
                                         "float-only reduction on integers");
    int64_t rank = in.getRank();
    ArrayRef<int64_t> axes = op.getAxes();
    Location loc = op.getLoc();
    if (axes.empty() && op.getNoopWithEmptyAxes()) {
      rewriter.replaceOp(op, reshapeTo(rewriter, loc, data, out));
      return success();
    }
    SmallVector<bool> reduced(rank, axes.empty());
    for (int64_t a : axes)
      reduced[a < 0 ? a + rank : a] = true;
    int64_t count = 1;
    for (int64_t d = 0; d < rank; ++d)
      if (reduced[d])
        count *= in.getDimSize(d);
    auto pre = [&](OpBuilder &b, Location l, Value x) -> Value {
      switch (kind) {
      case Kind::L1:
        return fl ? Value(math::AbsFOp::create(b, l, x))
                  : Value(math::AbsIOp::create(b, l, x));
      case Kind::L2:
      case Kind::SumSquare:
        return mulOf(b, l, x, x);
      case Kind::LogSumExp:
        return math::ExpOp::create(b, l, x);
      default:
        return x;
      }
    };
    Value init;
    switch (kind) {
    case Kind::Max:
      init = extreme(rewriter, loc, et, false);
      break;
    case Kind::Min:
      init = extreme(rewriter, loc, et, true);
      break;
    case Kind::Prod:
      init = constOf(rewriter, loc, et, 1);
      break;
    default:
      init = constOf(rewriter, loc, et, 0);
      break;
    }
    Value r =
        reduce(rewriter, loc, data, reduced, init,
               [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
                 x = pre(b, l, x);
                 switch (kind) {
                 case Kind::Max:
                   return maxOf(b, l, x, acc);
                 case Kind::Min:
                   return minOf(b, l, x, acc);
                 case Kind::Prod:
                   return mulOf(b, l, x, acc);
                 default:
                   return addOf(b, l, x, acc);
                 }
               });
    if (kind == Kind::Mean || kind == Kind::L2 || kind == Kind::LogSum ||
        kind == Kind::LogSumExp) {
      auto rt = tensorType(r);
      r = broadcastGeneric(
          rewriter, loc, rt, ValueRange{r},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            switch (kind) {
            case Kind::Mean:
              return arith::DivFOp::create(b, l, a[0],
                                           fconst(b, l, et, double(count)));
            case Kind::L2:
              return math::SqrtOp::create(b, l, a[0]);
            default:
              return math::LogOp::create(b, l, a[0]);
            }
          });
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, r, out));
    return success();
  }
};

/// ArgMax / ArgMin: value and index reduced together along the axis.
Value argReduce(OpBuilder &b, Location loc, Value data, int64_t axis,
                bool isMax, bool lastIndex) {
  auto in = tensorType(data);
  int64_t rank = in.getRank();
  SmallVector<bool> reduced(rank, false);
  reduced[axis] = true;
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis)
      shape.push_back(in.getDimSize(d));
  Type et = in.getElementType();
  auto valTy = RankedTensorType::get(shape, et);
  auto idxTy = RankedTensorType::get(shape, b.getI64Type());
  Value vals = filled(b, loc, valTy, extreme(b, loc, et, !isMax));
  Value idxs =
      filled(b, loc, idxTy,
             arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(-1)));
  MLIRContext *ctx = b.getContext();
  AffineMap kept = keptMap(rank, reduced, ctx);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters[axis] = utils::IteratorType::reduction;
  auto g = linalg::GenericOp::create(
      b, loc, TypeRange{valTy, idxTy}, ValueRange{data}, ValueRange{vals, idxs},
      SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx), kept,
                             kept},
      iters, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value i = arith::IndexCastOp::create(
            nb, l, nb.getI64Type(), linalg::IndexOp::create(nb, l, axis));
        Value better;
        if (isFloat(a[0]))
          better = arith::CmpFOp::create(
              nb, l,
              isMax ? (lastIndex ? arith::CmpFPredicate::OGE
                                 : arith::CmpFPredicate::OGT)
                    : (lastIndex ? arith::CmpFPredicate::OLE
                                 : arith::CmpFPredicate::OLT),
              a[0], a[1]);
        else
          better = arith::CmpIOp::create(
              nb, l,
              isMax ? (lastIndex ? arith::CmpIPredicate::sge
                                 : arith::CmpIPredicate::sgt)
                    : (lastIndex ? arith::CmpIPredicate::sle
                                 : arith::CmpIPredicate::slt),
              a[0], a[1]);
        // The first element always wins (index -1 marks "none yet").
        Value first = arith::CmpIOp::create(
            nb, l, arith::CmpIPredicate::slt, a[2],
            arith::ConstantOp::create(nb, l, nb.getI64IntegerAttr(0)));
        better = arith::OrIOp::create(nb, l, better, first);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::SelectOp::create(nb, l, better, a[0], a[1]),
                       arith::SelectOp::create(nb, l, better, i, a[2])});
      });
  return g.getResult(1);
}

template <typename OpTy, bool isMax>
struct ArgLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    auto in = tensorType(op.getData());
    int64_t axis = op.getAxisAttr().getInt();
    if (axis < 0)
      axis += in.getRank();
    Value r = argReduce(rewriter, op.getLoc(), op.getData(), axis, isMax,
                        op.getSelectLastIndex() != 0);
    rewriter.replaceOp(
        op, reshapeTo(rewriter, op.getLoc(), r, tensorType(op.getReduced())));
    return success();
  }
};

enum class SoftKind { Softmax, LogSoftmax, Hardmax };

template <typename OpTy, SoftKind kind>
struct SoftmaxLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    Value x = op.getInput();
    auto ty = tensorType(x);
    if (!isa<FloatType>(ty.getElementType()))
      return failure();
    int64_t rank = ty.getRank();
    int64_t axis = op.getAxisAttr().getInt();
    if (axis < 0)
      axis += rank;
    Location loc = op.getLoc();
    Type et = ty.getElementType();
    SmallVector<bool> reduced(rank, false);
    reduced[axis] = true;
    if (kind == SoftKind::Hardmax) {
      Value arg = argReduce(rewriter, loc, x, axis, true, false);
      rewriter.replaceOp(
          op, withReduced(rewriter, loc, ty, {}, {arg}, reduced,
                          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                            Value i = arith::IndexCastOp::create(
                                b, l, b.getI64Type(),
                                linalg::IndexOp::create(b, l, axis));
                            Value hit = arith::CmpIOp::create(
                                b, l, arith::CmpIPredicate::eq, i, a[0]);
                            return arith::SelectOp::create(
                                b, l, hit, fconst(b, l, et, 1.0),
                                fconst(b, l, et, 0.0));
                          }));
      return success();
    }
    Value mx =
        reduce(rewriter, loc, x, reduced, extreme(rewriter, loc, et, false),
               [](OpBuilder &b, Location l, Value v, Value acc) {
                 return maxOf(b, l, v, acc);
               });
    Value shifted =
        withReduced(rewriter, loc, ty, {x}, {mx}, reduced,
                    [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                      return arith::SubFOp::create(b, l, a[0], a[1]);
                    });
    Value sum = reduce(
        rewriter, loc, shifted, reduced, fconst(rewriter, loc, et, 0.0),
        [](OpBuilder &b, Location l, Value v, Value acc) -> Value {
          return arith::AddFOp::create(b, l, math::ExpOp::create(b, l, v), acc);
        });
    rewriter.replaceOp(
        op, withReduced(rewriter, loc, ty, {shifted}, {sum}, reduced,
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          if (kind == SoftKind::LogSoftmax)
                            return arith::SubFOp::create(
                                b, l, a[0], math::LogOp::create(b, l, a[1]));
                          return arith::DivFOp::create(
                              b, l, math::ExpOp::create(b, l, a[0]), a[1]);
                        }));
    return success();
  }
};

/// Mean and 1/sqrt(var + eps) of `x` over the `reduced` dims.
std::pair<Value, Value> moments(OpBuilder &b, Location loc, Value x,
                                ArrayRef<bool> reduced, double eps) {
  auto ty = tensorType(x);
  Type et = ty.getElementType();
  int64_t count = 1;
  for (int64_t d = 0; d < ty.getRank(); ++d)
    if (reduced[d])
      count *= ty.getDimSize(d);
  auto addF = [](OpBuilder &nb, Location l, Value v, Value acc) -> Value {
    return arith::AddFOp::create(nb, l, v, acc);
  };
  Value sum = reduce(b, loc, x, reduced, fconst(b, loc, et, 0.0), addF);
  Value mean =
      broadcastGeneric(b, loc, tensorType(sum), ValueRange{sum},
                       [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                         return arith::DivFOp::create(
                             nb, l, a[0], fconst(nb, l, et, double(count)));
                       });
  Value sq = withReduced(b, loc, ty, {x}, {mean}, reduced,
                         [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                           Value c = arith::SubFOp::create(nb, l, a[0], a[1]);
                           return arith::MulFOp::create(nb, l, c, c);
                         });
  Value var = reduce(b, loc, sq, reduced, fconst(b, loc, et, 0.0), addF);
  Value inv = broadcastGeneric(
      b, loc, tensorType(var), ValueRange{var},
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value v = arith::DivFOp::create(nb, l, a[0],
                                        fconst(nb, l, et, double(count)));
        return math::RsqrtOp::create(
            nb, l, arith::AddFOp::create(nb, l, v, fconst(nb, l, et, eps)));
      });
  return {mean, inv};
}

struct LayerNormLowering : OpRewritePattern<qc::LayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::LayerNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op) ||
        !isa<FloatType>(tensorType(op.getX()).getElementType()))
      return failure();
    Value x = op.getX();
    auto ty = tensorType(x);
    int64_t rank = ty.getRank();
    int64_t axis = op.getAxisAttr().getInt();
    if (axis < 0)
      axis += rank;
    SmallVector<bool> reduced(rank, false);
    for (int64_t d = axis; d < rank; ++d)
      reduced[d] = true;
    Location loc = op.getLoc();
    auto [mean, inv] =
        moments(rewriter, loc, x, reduced, op.getEpsilon().convertToDouble());
    SmallVector<Value> full = {x, op.getScale()};
    if (op.getB())
      full.push_back(op.getB());
    auto yTy = tensorType(op.getY());
    Value y = withReduced(
        rewriter, loc, yTy, full, {mean, inv}, reduced,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          bool hasB = full.size() == 3;
          Value m = a[full.size()], s = a[full.size() + 1];
          Value v = arith::MulFOp::create(
              b, l, arith::SubFOp::create(b, l, a[0], m), s);
          v = arith::MulFOp::create(b, l, v, a[1]);
          return hasB ? Value(arith::AddFOp::create(b, l, v, a[2])) : v;
        });
    SmallVector<Value> results = {y};
    auto stats = op.getStats();
    if (stats.size() > 0)
      results.push_back(reshapeTo(rewriter, loc, mean, tensorType(stats[0])));
    if (stats.size() > 1)
      results.push_back(reshapeTo(rewriter, loc, inv, tensorType(stats[1])));
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct InstanceNormLowering : OpRewritePattern<qc::InstanceNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::InstanceNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op) ||
        !isa<FloatType>(tensorType(op.getInput()).getElementType()))
      return failure();
    Value x = op.getInput();
    auto ty = tensorType(x);
    int64_t rank = ty.getRank();
    if (rank < 3)
      return failure();
    SmallVector<bool> reduced(rank, true);
    reduced[0] = reduced[1] = false;
    Location loc = op.getLoc();
    auto [mean, inv] =
        moments(rewriter, loc, x, reduced, op.getEpsilon().convertToDouble());
    // Scale and B are [C]: read along dim 1, like the reduced [N, C] stats.
    SmallVector<bool> notChannel(rank, true);
    notChannel[1] = false;
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineMap> maps = {
        AffineMap::getMultiDimIdentityMap(rank, ctx),
        keptMap(rank, reduced, ctx),
        keptMap(rank, reduced, ctx),
        keptMap(rank, notChannel, ctx),
        keptMap(rank, notChannel, ctx),
        AffineMap::getMultiDimIdentityMap(rank, ctx)};
    Value init = tensor::EmptyOp::create(rewriter, loc, ty.getShape(),
                                         ty.getElementType());
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    auto g = linalg::GenericOp::create(
        rewriter, loc, ty, ValueRange{x, mean, inv, op.getScale(), op.getB()},
        ValueRange{init}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value v = arith::MulFOp::create(
              b, l, arith::SubFOp::create(b, l, a[0], a[1]), a[2]);
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::AddFOp::create(
                  b, l, arith::MulFOp::create(b, l, v, a[3]), a[4])});
        });
    rewriter.replaceOp(op, g.getResults());
    return success();
  }
};

struct MVNLowering : OpRewritePattern<qc::MeanVarianceNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MeanVarianceNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op) ||
        !isa<FloatType>(tensorType(op.getX()).getElementType()))
      return failure();
    Value x = op.getX();
    auto ty = tensorType(x);
    int64_t rank = ty.getRank();
    SmallVector<bool> reduced(rank, false);
    for (int64_t a : op.getAxes())
      reduced[a < 0 ? a + rank : a] = true;
    Location loc = op.getLoc();
    auto [mean, inv] = moments(rewriter, loc, x, reduced, 1e-9);
    rewriter.replaceOp(
        op, withReduced(rewriter, loc, ty, {x}, {mean, inv}, reduced,
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return arith::MulFOp::create(
                              b, l, arith::SubFOp::create(b, l, a[0], a[1]),
                              a[2]);
                        }));
    return success();
  }
};

/// NegativeLogLikelihoodLoss over log-probabilities `logp` (N, C, d...):
/// per target element -logp[n, t, d...] * weight[t] (weight 1 without one),
/// 0 where t is ignore_index; "sum" adds them, "mean" divides that sum by the
/// weights' sum (the ONNX reference, also without weights).
Value negativeLogLikelihood(OpBuilder &rw, Location loc, Value logp,
                            Value target, Value weight,
                            std::optional<int64_t> ignore,
                            StringRef reduction) {
  auto xt = tensorType(logp);
  auto tt = tensorType(target);
  Type et = xt.getElementType();
  int64_t classes = xt.getDimSize(1);
  auto perElem = RankedTensorType::get(tt.getShape(), et);
  auto perTarget = [&](bool weightsOnly) {
    return indexGeneric(
        rw, loc, perElem,
        [&](OpBuilder &b, Location l, ArrayRef<Value> iv) -> Value {
          Value t = tensor::ExtractOp::create(b, l, target, iv);
          Type it = t.getType();
          auto iconst = [&](int64_t v) -> Value {
            return arith::ConstantOp::create(b, l, b.getIntegerAttr(it, v));
          };
          // Clamped like the reference's np.take(mode="clip"): an ignored (or
          // out-of-range) target must not read out of bounds.
          Value tc = arith::MinSIOp::create(
              b, l, arith::MaxSIOp::create(b, l, t, iconst(0)),
              iconst(classes - 1));
          Value ti = arith::IndexCastOp::create(b, l, b.getIndexType(), tc);
          Value w = weight ? Value(tensor::ExtractOp::create(b, l, weight,
                                                             ValueRange{ti}))
                           : fconst(b, l, et, 1.0);
          Value r = w;
          if (!weightsOnly) {
            SmallVector<Value> xi{iv[0], ti};
            xi.append(iv.begin() + 1, iv.end());
            Value x = tensor::ExtractOp::create(b, l, logp, xi);
            r = arith::MulFOp::create(b, l, arith::NegFOp::create(b, l, x), w);
          }
          if (ignore) {
            Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, t,
                                              iconst(*ignore));
            r = arith::SelectOp::create(b, l, hit, fconst(b, l, et, 0.0), r);
          }
          return r;
        });
  };
  Value loss = perTarget(false);
  if (reduction == "none")
    return loss;
  SmallVector<bool> all(tt.getRank(), true);
  auto addF = [](OpBuilder &b, Location l, Value v, Value acc) -> Value {
    return arith::AddFOp::create(b, l, v, acc);
  };
  Value sum = reduce(rw, loc, loss, all, fconst(rw, loc, et, 0.0), addF);
  if (reduction == "sum")
    return sum;
  Value wsum =
      reduce(rw, loc, perTarget(true), all, fconst(rw, loc, et, 0.0), addF);
  return broadcastGeneric(rw, loc, tensorType(sum), ValueRange{sum, wsum},
                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                            return arith::DivFOp::create(b, l, a[0], a[1]);
                          });
}

struct NLLLossLowering : OpRewritePattern<qc::NegativeLogLikelihoodLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::NegativeLogLikelihoodLossOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    rewriter.replaceOp(
        op, negativeLogLikelihood(rewriter, op.getLoc(), op.getInput(),
                                  op.getTarget(), op.getWeight(),
                                  op.getIgnoreIndex(), op.getReduction()));
    return success();
  }
};

/// SoftmaxCrossEntropyLoss = NegativeLogLikelihoodLoss of LogSoftmax over the
/// class axis (which is also the optional second result).
struct SCELossLowering : OpRewritePattern<qc::SoftmaxCrossEntropyLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::SoftmaxCrossEntropyLossOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    Location loc = op.getLoc();
    Value logp =
        qc::LogSoftmaxOp::create(rewriter, loc, op.getScores().getType(),
                                 op.getScores(), rewriter.getI64IntegerAttr(1));
    Value loss = negativeLogLikelihood(rewriter, loc, logp, op.getLabels(),
                                       op.getWeights(), op.getIgnoreIndex(),
                                       op.getReduction());
    SmallVector<Value> results{loss};
    if (op.getLogProb())
      results.push_back(logp);
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Einsum: one linalg.generic whose loops are the output's labels
/// (parallel) then the others (reduction); each operand's map lists its
/// labels' loops (a repeated label reads a diagonal). "..." stands for the
/// same run of unnamed dims in every term, aligned on the right; without
/// "->" the output is those dims, then the labels used once, sorted.
struct EinsumLowering : OpRewritePattern<qc::EinsumOp> {
  using OpRewritePattern::OpRewritePattern;

  /// Labels of one term: a letter's code, or 1000 + k for the k-th of
  /// `ellipsis` unnamed dims; empty on a malformed term.
  static std::optional<SmallVector<int>>
  labels(StringRef term, int64_t rank, int64_t &ellipsis, bool output) {
    SmallVector<int> out;
    size_t dots = term.find("...");
    int64_t named = int64_t(term.size()) - (dots == StringRef::npos ? 0 : 3);
    int64_t unnamed = output ? ellipsis : rank - named;
    if (unnamed < 0 || (dots == StringRef::npos && unnamed != 0 && !output))
      return std::nullopt;
    if (!output)
      ellipsis = std::max(ellipsis, unnamed);
    for (size_t i = 0; i < term.size(); ++i) {
      if (i == dots) {
        for (int64_t k = 0; k < unnamed; ++k)
          out.push_back(1000 + int(k));
        i += 2;
        continue;
      }
      if (!llvm::isAlpha(term[i]))
        return std::nullopt;
      out.push_back(term[i]);
    }
    return out;
  }

  LogicalResult matchAndRewrite(qc::EinsumOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    std::string eq;
    for (char c : op.getEquation())
      if (c != ' ')
        eq += c;
    StringRef lhs = eq, rhs;
    bool explicitOut = false;
    if (size_t arrow = lhs.find("->"); arrow != StringRef::npos) {
      rhs = lhs.drop_front(arrow + 2);
      lhs = lhs.take_front(arrow);
      explicitOut = true;
    }
    SmallVector<StringRef> terms;
    lhs.split(terms, ',');
    auto inputs = op.getInputs();
    if (terms.size() != inputs.size())
      return rewriter.notifyMatchFailure(op, "terms do not match the inputs");
    // Unnamed dims align right: term t's k-th is the (E - n_t + k)-th.
    int64_t ellipsis = 0;
    SmallVector<SmallVector<int>> in;
    for (auto [t, v] : llvm::zip(terms, inputs)) {
      auto l = labels(t, tensorType(v).getRank(), ellipsis, false);
      if (!l || int64_t(l->size()) != tensorType(v).getRank())
        return rewriter.notifyMatchFailure(op, "malformed term");
      in.push_back(*l);
    }
    for (auto [t, l] : llvm::zip(terms, in)) {
      int64_t n = 0;
      for (int x : l)
        n += x >= 1000;
      for (int &x : l)
        if (x >= 1000)
          x += int(ellipsis - n);
    }
    SmallVector<int> outLabels;
    if (explicitOut) {
      auto l = labels(rhs, 0, ellipsis, true);
      if (!l)
        return rewriter.notifyMatchFailure(op, "malformed output term");
      outLabels = *l;
    } else {
      for (int64_t k = 0; k < ellipsis; ++k)
        outLabels.push_back(1000 + int(k));
      std::map<int, int> count;
      for (auto &l : in)
        for (int x : l)
          if (x < 1000)
            ++count[x];
      for (auto [x, c] : count)
        if (c == 1)
          outLabels.push_back(x);
    }
    auto out = tensorType(op.getOutput());
    if (int64_t(outLabels.size()) != out.getRank())
      return rewriter.notifyMatchFailure(op, "output rank");
    // Loops: the output's labels, then the reduced ones; sizes from operands.
    SmallVector<int> loops(outLabels);
    std::map<int, int64_t> size;
    for (auto [l, v] : llvm::zip(in, inputs))
      for (auto [k, x] : llvm::enumerate(l)) {
        int64_t d = tensorType(v).getDimSize(k);
        size[x] = std::max(size.count(x) ? size[x] : 1, d);
        if (!llvm::is_contained(loops, x))
          loops.push_back(x);
      }
    MLIRContext *ctx = rewriter.getContext();
    auto pos = [&](int x) { return int(llvm::find(loops, x) - loops.begin()); };
    SmallVector<AffineMap> maps;
    for (auto [l, v] : llvm::zip(in, inputs)) {
      SmallVector<AffineExpr> exprs;
      for (auto [k, x] : llvm::enumerate(l)) {
        bool broadcast = tensorType(v).getDimSize(k) == 1 && size[x] != 1;
        exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                                  : getAffineDimExpr(pos(x), ctx));
      }
      maps.push_back(AffineMap::get(loops.size(), 0, exprs, ctx));
    }
    SmallVector<AffineExpr> outExprs;
    for (int x : outLabels)
      outExprs.push_back(getAffineDimExpr(pos(x), ctx));
    maps.push_back(AffineMap::get(loops.size(), 0, outExprs, ctx));
    SmallVector<utils::IteratorType> iters(loops.size(),
                                           utils::IteratorType::reduction);
    for (size_t i = 0; i < outLabels.size(); ++i)
      iters[i] = utils::IteratorType::parallel;
    Location loc = op.getLoc();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, out, inputs, ValueRange{zeros(rewriter, loc, out)}, maps,
        iters, [&](OpBuilder &b, Location l, ValueRange a) {
          Value prod = a[0];
          for (Value v : a.drop_front().drop_back())
            prod = mulOf(b, l, prod, v);
          linalg::YieldOp::create(b, l, addOf(b, l, a.back(), prod));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void qc::lowering::populateReductionPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns
      .add<ReduceLowering<qc::ReduceSumOp, Kind::Sum>,
           ReduceLowering<qc::ReduceMeanOp, Kind::Mean>,
           ReduceLowering<qc::ReduceMaxOp, Kind::Max>,
           ReduceLowering<qc::ReduceMinOp, Kind::Min>,
           ReduceLowering<qc::ReduceProdOp, Kind::Prod>,
           ReduceLowering<qc::ReduceL1Op, Kind::L1>,
           ReduceLowering<qc::ReduceL2Op, Kind::L2>,
           ReduceLowering<qc::ReduceLogSumOp, Kind::LogSum>,
           ReduceLowering<qc::ReduceLogSumExpOp, Kind::LogSumExp>,
           ReduceLowering<qc::ReduceSumSquareOp, Kind::SumSquare>,
           ArgLowering<qc::ArgMaxOp, true>, ArgLowering<qc::ArgMinOp, false>,
           SoftmaxLowering<qc::SoftmaxOp, SoftKind::Softmax>,
           SoftmaxLowering<qc::LogSoftmaxOp, SoftKind::LogSoftmax>,
           SoftmaxLowering<qc::HardmaxOp, SoftKind::Hardmax>, LayerNormLowering,
           InstanceNormLowering, MVNLowering, NLLLossLowering, SCELossLowering,
           EinsumLowering>(ctx);
}
