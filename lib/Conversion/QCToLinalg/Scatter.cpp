//===- Scatter.cpp - scatters, TopK and the other data-dependent ops ------===//
//
// Gather-like ops whose source index depends on data (OneHot, GatherND,
// ReverseSequence) are one linalg generic over the result reading with
// tensor.extract, as in Indexing.cpp. Scatters (ScatterElements, ScatterND)
// write where the data says, in order: a copy of the data carried through an
// scf.for nest over the updates, one tensor.insert per update. TopK ranks
// every element of a row by counting the elements that precede it (larger,
// or equal at a lower index) and inserts the ones ranked below k. LRN sums
// the squares of the channel window, unrolled.
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qc::lowering;

namespace {

/// Index constants 0 and 1 for loop bounds.
SmallVector<Value> indexConsts(OpBuilder &b, Location loc,
                               ArrayRef<int64_t> v) {
  SmallVector<Value> out;
  for (int64_t x : v)
    out.push_back(cindex(b, loc, x));
  return out;
}

/// An scf.for nest over `shape` carrying `inits`; `body` gets the induction
/// variables and the carried values and returns the next ones.
SmallVector<Value>
loopNest(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ValueRange inits,
         function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange,
                                         ValueRange)>
             body) {
  SmallVector<Value> lbs =
      indexConsts(b, loc, SmallVector<int64_t>(shape.size(), 0));
  SmallVector<Value> ubs = indexConsts(b, loc, shape);
  SmallVector<Value> steps =
      indexConsts(b, loc, SmallVector<int64_t>(shape.size(), 1));
  scf::LoopNest nest =
      scf::buildLoopNest(b, loc, lbs, ubs, steps, inits,
                         [&](OpBuilder &nb, Location l, ValueRange ivs,
                             ValueRange args) -> scf::ValueVector {
                           SmallVector<Value> next = body(nb, l, ivs, args);
                           return scf::ValueVector(next.begin(), next.end());
                         });
  return SmallVector<Value>(nest.results.begin(), nest.results.end());
}

/// The scatter reductions of ONNX: none (replace), add, mul, max, min.
Value combine(OpBuilder &b, Location loc, StringRef reduction, Value old,
              Value upd) {
  if (reduction == "add")
    return addOf(b, loc, old, upd);
  if (reduction == "mul")
    return mulOf(b, loc, old, upd);
  if (reduction == "max")
    return maxOf(b, loc, old, upd);
  if (reduction == "min")
    return minOf(b, loc, old, upd);
  return upd;
}

bool knownReduction(StringRef r) {
  return llvm::is_contained({"none", "add", "mul", "max", "min"}, r);
}

/// The scatter of `op` (data, indices, updates at operands 0..2): out =
/// data, then for each index u of updates, out[dst(u)] = combine(out[dst(u)],
/// updates[u]) in order; `dst` maps u to the destination index.
using Destination =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;
LogicalResult scatter(PatternRewriter &rewriter, Operation *op,
                      StringRef reduction, Destination dst) {
  if (!lowerableTypes(op) || !knownReduction(reduction))
    return failure();
  Value data = op->getOperand(0), updates = op->getOperand(2);
  SmallVector<Value> out = loopNest(
      rewriter, op->getLoc(), tensorType(updates).getShape(), ValueRange{data},
      [&](OpBuilder &b, Location l, ValueRange ivs,
          ValueRange acc) -> SmallVector<Value> {
        SmallVector<Value> at = dst(b, l, ivs);
        Value upd = tensor::ExtractOp::create(b, l, updates, ivs);
        Value old = tensor::ExtractOp::create(b, l, acc[0], at);
        return {tensor::InsertOp::create(
            b, l, combine(b, l, reduction, old, upd), acc[0], at)};
      });
  rewriter.replaceOp(op, out);
  return success();
}

/// ScatterElements: dst(u) is u with u[axis] replaced by indices[u].
struct ScatterElementsLowering : OpRewritePattern<qc::ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ScatterElementsOp op,
                                PatternRewriter &rewriter) const override {
    auto data = tensorType(op.getData());
    int64_t axis = normAxis(op.getAxisAttr().getInt(), data.getRank());
    Value indices = op.getIndices();
    return scatter(rewriter, op, op.getReduction(),
                   [&](OpBuilder &b, Location l, ValueRange ivs) {
                     SmallVector<Value> at(ivs);
                     at[axis] = wrapIndex(
                         b, l, tensor::ExtractOp::create(b, l, indices, ivs),
                         data.getDimSize(axis));
                     return at;
                   });
  }
};

/// ScatterND: u = (batch ivs of indices, trailing data dims); dst(u) =
/// (indices[batch, :], trailing).
struct ScatterNDLowering : OpRewritePattern<qc::ScatterNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ScatterNDOp op,
                                PatternRewriter &rewriter) const override {
    auto data = tensorType(op.getData());
    auto indicesTy = tensorType(op.getIndices());
    int64_t q = indicesTy.getRank(), k = indicesTy.getDimSize(q - 1);
    Value indices = op.getIndices();
    return scatter(rewriter, op, op.getReduction(),
                   [&](OpBuilder &b, Location l, ValueRange ivs) {
                     SmallVector<Value> at, pos(ivs.take_front(q - 1));
                     pos.push_back(Value());
                     for (int64_t j = 0; j < k; ++j) {
                       pos.back() = cindex(b, l, j);
                       at.push_back(wrapIndex(
                           b, l, tensor::ExtractOp::create(b, l, indices, pos),
                           data.getDimSize(j)));
                     }
                     llvm::append_range(at, ivs.drop_front(q - 1));
                     return at;
                   });
  }
};

/// output[i..., t...] = data[i[:b], indices[i..., :], t...] with b batch
/// dims shared by data and indices.
struct GatherNDLowering : OpRewritePattern<qc::GatherNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::GatherNDOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto data = tensorType(op.getData());
    auto indicesTy = tensorType(op.getIndices());
    int64_t q = indicesTy.getRank(), k = indicesTy.getDimSize(q - 1);
    int64_t batch = op.getBatchDims();
    Value d = op.getData(), indices = op.getIndices();
    rewriter.replaceOp(
        op, indexGeneric(
                rewriter, op.getLoc(), tensorType(op.getOutput()),
                [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
                  SmallVector<Value> src(ivs.take_front(batch)),
                      at(ivs.take_front(q - 1));
                  at.push_back(Value());
                  for (int64_t j = 0; j < k; ++j) {
                    at.back() = cindex(b, l, j);
                    src.push_back(wrapIndex(
                        b, l, tensor::ExtractOp::create(b, l, indices, at),
                        data.getDimSize(batch + j)));
                  }
                  llvm::append_range(src, ivs.drop_front(q - 1));
                  return tensor::ExtractOp::create(b, l, d, src);
                }));
    return success();
  }
};

/// output[..., j (at axis), ...] = values[indices[...] == j ? 1 : 0], the
/// index wrapped by depth when negative.
struct OneHotLowering : OpRewritePattern<qc::OneHotOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::OneHotOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto out = tensorType(op.getOutput());
    int64_t axis = normAxis(op.getAxisAttr().getInt(), out.getRank());
    int64_t depth = out.getDimSize(axis);
    Value indices = op.getIndices(), values = op.getValues();
    rewriter.replaceOp(
        op,
        indexGeneric(
            rewriter, op.getLoc(), out,
            [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
              SmallVector<Value> at(ivs);
              at.erase(at.begin() + axis);
              Value i = tensor::ExtractOp::create(b, l, indices, at);
              i = convertScalar(b, l, i, b.getI64Type(), wasUnsigned(op, 0));
              Value hit =
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                        wrapIndex(b, l, i, depth), ivs[axis]);
              Value on = tensor::ExtractOp::create(b, l, values,
                                                   ValueRange{cindex(b, l, 1)});
              Value off = tensor::ExtractOp::create(
                  b, l, values, ValueRange{cindex(b, l, 0)});
              return arith::SelectOp::create(b, l, hit, on, off);
            }));
    return success();
  }
};

/// Y[..b.., ..t..] = X[.., len[b] > t ? len[b] - 1 - t : t, ..].
struct ReverseSequenceLowering : OpRewritePattern<qc::ReverseSequenceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ReverseSequenceOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    int64_t batchAxis = op.getBatchAxis(), timeAxis = op.getTimeAxis();
    Value x = op.getInput(), lens = op.getSequenceLens();
    rewriter.replaceOp(
        op,
        indexGeneric(
            rewriter, op.getLoc(), tensorType(op.getY()),
            [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
              Value len = convertScalar(
                  b, l, tensor::ExtractOp::create(b, l, lens, ivs[batchAxis]),
                  b.getIndexType());
              Value t = ivs[timeAxis];
              Value inside = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::slt, t, len);
              Value rev = arith::SubIOp::create(
                  b, l, arith::SubIOp::create(b, l, len, cindex(b, l, 1)), t);
              SmallVector<Value> src(ivs);
              src[timeAxis] = arith::SelectOp::create(b, l, inside, rev, t);
              return tensor::ExtractOp::create(b, l, x, src);
            }));
    return success();
  }
};

/// TopK with a constant k (the static result dim): per row along the axis,
/// element i's rank is the number of elements before it in the order
/// (larger first, or smaller with largest = 0; ties by lower index); the
/// ones ranked below k are inserted at their rank, so the output is sorted.
struct TopKLowering : OpRewritePattern<qc::TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::TopKOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    auto xt = tensorType(op.getX());
    auto vt = tensorType(op.getValues()), it = tensorType(op.getIndices());
    int64_t axis = normAxis(op.getAxisAttr().getInt(), xt.getRank());
    int64_t n = xt.getDimSize(axis), k = vt.getDimSize(axis);
    bool largest = op.getLargest() != 0;
    bool fp = isa<FloatType>(xt.getElementType());
    Location loc = op.getLoc();
    Value x = op.getX();
    SmallVector<int64_t> rows(xt.getShape());
    rows[axis] = 1;
    Value values = tensor::EmptyOp::create(rewriter, loc, vt.getShape(),
                                           vt.getElementType());
    Value indices = tensor::EmptyOp::create(rewriter, loc, it.getShape(),
                                            it.getElementType());
    if (k == 0) {
      rewriter.replaceOp(op, {values, indices});
      return success();
    }
    auto precedes = [&](OpBuilder &b, Location l, Value a, Value c) -> Value {
      if (fp)
        return arith::CmpFOp::create(b, l,
                                     largest ? arith::CmpFPredicate::OGT
                                             : arith::CmpFPredicate::OLT,
                                     a, c);
      return arith::CmpIOp::create(
          b, l, largest ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::slt,
          a, c);
    };
    auto equal = [&](OpBuilder &b, Location l, Value a, Value c) -> Value {
      if (fp)
        return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, a, c);
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a, c);
    };
    rows.push_back(n); // the row's elements, innermost
    SmallVector<Value> out = loopNest(
        rewriter, loc, rows, ValueRange{values, indices},
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange acc) -> SmallVector<Value> {
          Value i = ivs.back();
          SmallVector<Value> at(ivs.drop_back());
          at[axis] = i;
          Value xi = tensor::ExtractOp::create(b, l, x, at);
          SmallVector<Value> rank = loopNest(
              b, l, {n}, ValueRange{cindex(b, l, 0)},
              [&](OpBuilder &ib, Location il, ValueRange m,
                  ValueRange r) -> SmallVector<Value> {
                SmallVector<Value> atm(at);
                atm[axis] = m[0];
                Value xm = tensor::ExtractOp::create(ib, il, x, atm);
                Value tie = arith::AndIOp::create(
                    ib, il, equal(ib, il, xm, xi),
                    arith::CmpIOp::create(ib, il, arith::CmpIPredicate::ult,
                                          m[0], i));
                Value before =
                    arith::OrIOp::create(ib, il, precedes(ib, il, xm, xi), tie);
                Value one = arith::SelectOp::create(
                    ib, il, before, cindex(ib, il, 1), cindex(ib, il, 0));
                return {arith::AddIOp::create(ib, il, r[0], one)};
              });
          Value kept = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                             rank[0], cindex(b, l, k));
          auto ifOp = scf::IfOp::create(
              b, l, kept,
              [&](OpBuilder &tb, Location tl) {
                SmallVector<Value> dst(at);
                dst[axis] = rank[0];
                Value v = tensor::InsertOp::create(tb, tl, xi, acc[0], dst);
                Value idx = convertScalar(tb, tl, i, it.getElementType());
                Value ix = tensor::InsertOp::create(tb, tl, idx, acc[1], dst);
                scf::YieldOp::create(tb, tl, ValueRange{v, ix});
              },
              [&](OpBuilder &eb, Location el) {
                scf::YieldOp::create(eb, el, acc);
              });
          return SmallVector<Value>(ifOp.getResults());
        });
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// LRN across channels (dim 1): y = x / (bias + alpha / size * sum of the
/// squares over channels c - floor((size-1)/2) .. c + ceil((size-1)/2))^beta.
struct LRNLowering : OpRewritePattern<qc::LRNOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::LRNOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    auto xt = tensorType(op.getX());
    Type et = xt.getElementType();
    if (!isa<FloatType>(et) || xt.getRank() < 2)
      return failure();
    int64_t size = op.getSize(), channels = xt.getDimSize(1);
    double alpha = op.getAlpha().convertToDouble(),
           beta = op.getBeta().convertToDouble(),
           bias = op.getBias().convertToDouble();
    Value x = op.getX();
    rewriter.replaceOp(
        op, indexGeneric(
                rewriter, op.getLoc(), xt,
                [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
                  Value sum = fconst(b, l, et, 0.0);
                  for (int64_t o = -((size - 1) / 2); o <= size / 2; ++o) {
                    Value c =
                        arith::AddIOp::create(b, l, ivs[1], cindex(b, l, o));
                    Value inside = arith::AndIOp::create(
                        b, l,
                        arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge,
                                              c, cindex(b, l, 0)),
                        arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                              c, cindex(b, l, channels)));
                    SmallVector<Value> src(ivs);
                    src[1] = arith::MinSIOp::create(
                        b, l, arith::MaxSIOp::create(b, l, c, cindex(b, l, 0)),
                        cindex(b, l, channels - 1));
                    Value v = tensor::ExtractOp::create(b, l, x, src);
                    Value sq = arith::MulFOp::create(b, l, v, v);
                    sum = arith::AddFOp::create(
                        b, l, sum,
                        arith::SelectOp::create(b, l, inside, sq,
                                                fconst(b, l, et, 0.0)));
                  }
                  Value scaled = arith::AddFOp::create(
                      b, l, fconst(b, l, et, bias),
                      arith::MulFOp::create(
                          b, l, sum, fconst(b, l, et, alpha / double(size))));
                  Value denom = math::PowFOp::create(b, l, scaled,
                                                     fconst(b, l, et, beta));
                  Value xv = tensor::ExtractOp::create(b, l, x, ivs);
                  return arith::DivFOp::create(b, l, xv, denom);
                }));
    return success();
  }
};

} // namespace

void qc::lowering::populateScatterPatterns(RewritePatternSet &patterns) {
  patterns
      .add<ScatterElementsLowering, ScatterNDLowering, GatherNDLowering,
           OneHotLowering, ReverseSequenceLowering, TopKLowering, LRNLowering>(
          patterns.getContext());
}
