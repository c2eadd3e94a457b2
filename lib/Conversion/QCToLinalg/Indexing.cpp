//===- Indexing.cpp - qc data-movement ops to linalg and tensor -----------===//
//
// Reshapes, transposes, concatenation and slices map onto tensor/linalg ops;
// gathers, pads, tiles and the other index-mapping ops become one linalg
// generic over the result whose body computes the source index from the
// result's (linalg.index) and reads it with tensor.extract.
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace qc::lowering;

namespace {

Value idx(OpBuilder &b, Location loc, int64_t v) { return cindex(b, loc, v); }

/// Reshape, Flatten, Squeeze, Unsqueeze: row-major order is kept, so a
/// tensor.reshape to the (static) result type.
template <typename OpTy>
struct ReshapeLike : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto in = tensorType(op->getOperand(0));
    auto out = cast<RankedTensorType>(op->getResult(0).getType());
    if (!in.hasStaticShape() || !out.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "static shapes only");
    rewriter.replaceOp(
        op, reshapeTo(rewriter, op.getLoc(), op->getOperand(0), out));
    return success();
  }
};

struct TransposeLowering : OpRewritePattern<qc::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto out = tensorType(op.getTransposed());
    Value init = tensor::EmptyOp::create(rewriter, op.getLoc(), out.getShape(),
                                         out.getElementType());
    rewriter.replaceOp(op, linalg::TransposeOp::create(rewriter, op.getLoc(),
                                                       op.getData(), init,
                                                       op.getPerm())
                               .getResult()[0]);
    return success();
  }
};

struct ConcatLowering : OpRewritePattern<qc::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Location loc = op.getLoc();
    auto out = tensorType(op.getConcatResult());
    int64_t axis = normAxis(op.getAxisAttr().getInt(), out.getRank());
    Value acc = tensor::EmptyOp::create(rewriter, loc, out.getShape(),
                                        out.getElementType());
    int64_t offset = 0;
    for (Value in : op.getInputs()) {
      auto t = tensorType(in);
      if (t.getDimSize(axis) == 0)
        continue;
      SmallVector<OpFoldResult> offsets(out.getRank(),
                                        rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes,
          strides(out.getRank(), rewriter.getIndexAttr(1));
      for (int64_t d : t.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      acc = tensor::InsertSliceOp::create(rewriter, loc, in, acc, offsets,
                                          sizes, strides);
      offset += t.getDimSize(axis);
    }
    rewriter.replaceOp(op, acc);
    return success();
  }
};

struct SplitLowering : OpRewritePattern<qc::SplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::SplitOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Location loc = op.getLoc();
    auto in = tensorType(op.getInput());
    int64_t axis = normAxis(op.getAxisAttr().getInt(), in.getRank());
    SmallVector<Value> results;
    int64_t offset = 0;
    for (Value r : op.getOutputs()) {
      auto t = tensorType(r);
      SmallVector<OpFoldResult> offsets(in.getRank(), rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes,
          strides(in.getRank(), rewriter.getIndexAttr(1));
      for (int64_t d : t.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      // An empty piece may start at the end, which extract_slice rejects.
      results.push_back(
          t.getNumElements() == 0
              ? Value(tensor::EmptyOp::create(rewriter, loc, t.getShape(),
                                              t.getElementType()))
              : Value(tensor::ExtractSliceOp::create(
                    rewriter, loc, t, op.getInput(), offsets, sizes, strides)));
      offset += t.getDimSize(axis);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Slice with constant starts/ends/axes/steps: positive steps are an
/// extract_slice, negative ones an index generic.
struct SliceLowering : OpRewritePattern<qc::SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::SliceOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto in = tensorType(op.getData());
    auto out = tensorType(op.getOutput());
    int64_t rank = in.getRank();
    auto starts = constantInts(op.getStarts());
    if (!starts)
      return rewriter.notifyMatchFailure(op, "non-constant starts");
    SmallVector<int64_t> axes, steps(starts->size(), 1);
    for (int64_t i = 0; i < int64_t(starts->size()); ++i)
      axes.push_back(i);
    auto extra = op.getAxesAndSteps();
    if (!extra.empty()) {
      auto a = constantInts(extra[0]);
      if (!a)
        return rewriter.notifyMatchFailure(op, "non-constant axes");
      axes = *a;
    }
    if (extra.size() > 1) {
      auto s = constantInts(extra[1]);
      if (!s)
        return rewriter.notifyMatchFailure(op, "non-constant steps");
      steps = *s;
    }
    SmallVector<int64_t> begin(rank, 0), step(rank, 1);
    for (auto [k, axis] : llvm::enumerate(axes)) {
      int64_t d = normAxis(axis, rank), dim = in.getDimSize(d);
      int64_t s = (*starts)[k];
      if (s < 0)
        s += dim;
      step[d] = steps[k];
      s = steps[k] > 0 ? std::clamp<int64_t>(s, 0, dim)
                       : std::clamp<int64_t>(s, 0, dim - 1);
      begin[d] = s;
    }
    Location loc = op.getLoc();
    if (out.getNumElements() == 0) { // may start at the end
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, out.getShape(),
                                                   out.getElementType());
      return success();
    }
    if (llvm::all_of(step, [](int64_t s) { return s > 0; })) {
      SmallVector<OpFoldResult> offsets, sizes, strides;
      for (int64_t d = 0; d < rank; ++d) {
        offsets.push_back(rewriter.getIndexAttr(begin[d]));
        sizes.push_back(rewriter.getIndexAttr(out.getDimSize(d)));
        strides.push_back(rewriter.getIndexAttr(step[d]));
      }
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          op, out, op.getData(), offsets, sizes, strides);
      return success();
    }
    Value data = op.getData();
    rewriter.replaceOp(
        op, indexGeneric(rewriter, loc, out,
                         [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) {
                           SmallVector<Value> src;
                           for (int64_t d = 0; d < rank; ++d)
                             src.push_back(arith::AddIOp::create(
                                 b, l, idx(b, l, begin[d]),
                                 arith::MulIOp::create(b, l, ivs[d],
                                                       idx(b, l, step[d]))));
                           return tensor::ExtractOp::create(b, l, data, src);
                         }));
    return success();
  }
};

struct GatherLowering : OpRewritePattern<qc::GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::GatherOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto data = tensorType(op.getData());
    auto indicesTy = tensorType(op.getIndices());
    int64_t axis = normAxis(op.getAxisAttr().getInt(), data.getRank());
    int64_t r = indicesTy.getRank();
    Value d = op.getData(), indices = op.getIndices();
    rewriter.replaceOp(
        op,
        indexGeneric(rewriter, op.getLoc(), tensorType(op.getOutput()),
                     [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) {
                       Value i = tensor::ExtractOp::create(b, l, indices,
                                                           ivs.slice(axis, r));
                       SmallVector<Value> src(ivs.take_front(axis));
                       src.push_back(wrapIndex(b, l, i, data.getDimSize(axis)));
                       llvm::append_range(src, ivs.drop_front(axis + r));
                       return tensor::ExtractOp::create(b, l, d, src);
                     }));
    return success();
  }
};

struct GatherElementsLowering : OpRewritePattern<qc::GatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::GatherElementsOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto data = tensorType(op.getData());
    int64_t axis = normAxis(op.getAxisAttr().getInt(), data.getRank());
    Value d = op.getData(), indices = op.getIndices();
    rewriter.replaceOp(
        op, indexGeneric(rewriter, op.getLoc(), tensorType(op.getOutput()),
                         [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) {
                           SmallVector<Value> src(ivs);
                           src[axis] = wrapIndex(
                               b, l,
                               tensor::ExtractOp::create(b, l, indices, ivs),
                               data.getDimSize(axis));
                           return tensor::ExtractOp::create(b, l, d, src);
                         }));
    return success();
  }
};

struct ExpandLowering : OpRewritePattern<qc::ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ExpandOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    rewriter.replaceOp(op, broadcastGeneric(rewriter, op.getLoc(),
                                            tensorType(op.getOutput()),
                                            ValueRange{op.getInput()},
                                            [](OpBuilder &, Location,
                                               ValueRange a) { return a[0]; }));
    return success();
  }
};

struct TileLowering : OpRewritePattern<qc::TileOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::TileOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto in = tensorType(op.getInput());
    Value input = op.getInput();
    rewriter.replaceOp(
        op, indexGeneric(rewriter, op.getLoc(), tensorType(op.getOutput()),
                         [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) {
                           SmallVector<Value> src;
                           for (auto [d, iv] : llvm::enumerate(ivs))
                             src.push_back(arith::RemUIOp::create(
                                 b, l, iv, idx(b, l, in.getDimSize(d))));
                           return tensor::ExtractOp::create(b, l, input, src);
                         }));
    return success();
  }
};

/// Pad in constant, reflect, edge and wrap modes; negative pads crop.
struct PadLowering : OpRewritePattern<qc::PadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::PadOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto in = tensorType(op.getData());
    int64_t rank = in.getRank();
    auto pads = constantInts(op.getPads());
    if (!pads || int64_t(pads->size()) != 2 * rank)
      return rewriter.notifyMatchFailure(
          op, "pads must be a constant for every dim");
    StringRef mode = op.getMode();
    if (mode != "constant" && mode != "reflect" && mode != "edge" &&
        mode != "wrap")
      return rewriter.notifyMatchFailure(op, "unknown mode");
    Value data = op.getData(), cv = op.getConstantValue();
    Type et = in.getElementType();
    rewriter.replaceOp(
        op,
        indexGeneric(
            rewriter, op.getLoc(), tensorType(op.getOutput()),
            [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
              SmallVector<Value> src;
              Value inside =
                  arith::ConstantOp::create(b, l, b.getBoolAttr(true));
              for (int64_t d = 0; d < rank; ++d) {
                int64_t n = in.getDimSize(d);
                Value j =
                    arith::SubIOp::create(b, l, ivs[d], idx(b, l, (*pads)[d]));
                Value lo = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::slt, j, idx(b, l, 0));
                Value hi = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::sge, j, idx(b, l, n));
                if (mode == "constant") {
                  inside = arith::AndIOp::create(
                      b, l, inside,
                      arith::AndIOp::create(
                          b, l,
                          arith::XOrIOp::create(b, l, lo,
                                                arith::ConstantOp::create(
                                                    b, l, b.getBoolAttr(true))),
                          arith::XOrIOp::create(
                              b, l, hi,
                              arith::ConstantOp::create(b, l,
                                                        b.getBoolAttr(true)))));
                  j = arith::MinSIOp::create(
                      b, l, arith::MaxSIOp::create(b, l, j, idx(b, l, 0)),
                      idx(b, l, n - 1));
                } else if (mode == "edge") {
                  j = arith::MinSIOp::create(
                      b, l, arith::MaxSIOp::create(b, l, j, idx(b, l, 0)),
                      idx(b, l, n - 1));
                } else if (mode == "reflect") {
                  // Mirror without repeating the edge; n == 1 reads element 0.
                  if (n == 1) {
                    j = idx(b, l, 0);
                  } else {
                    Value period = idx(b, l, 2 * (n - 1));
                    Value m = arith::RemSIOp::create(b, l, j, period);
                    m = arith::SelectOp::create(
                        b, l,
                        arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                              m, idx(b, l, 0)),
                        arith::AddIOp::create(b, l, m, period), m);
                    Value back = arith::SubIOp::create(b, l, period, m);
                    j = arith::SelectOp::create(
                        b, l,
                        arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge,
                                              m, idx(b, l, n)),
                        back, m);
                  }
                } else { // wrap
                  Value m = arith::RemSIOp::create(b, l, j, idx(b, l, n));
                  j = arith::SelectOp::create(
                      b, l,
                      arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, m,
                                            idx(b, l, 0)),
                      arith::AddIOp::create(b, l, m, idx(b, l, n)), m);
                }
                src.push_back(j);
              }
              Value v = tensor::ExtractOp::create(b, l, data, src);
              if (mode != "constant")
                return v;
              Value pad;
              if (cv && tensorType(cv).getNumElements() > 0)
                pad = tensor::ExtractOp::create(
                    b, l, cv,
                    SmallVector<Value>(tensorType(cv).getRank(), idx(b, l, 0)));
              else
                pad = arith::ConstantOp::create(b, l, b.getZeroAttr(et));
              return arith::SelectOp::create(b, l, inside, v, pad);
            }));
    return success();
  }
};

struct RangeLowering : OpRewritePattern<qc::RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::RangeOp op,
                                PatternRewriter &rewriter) const override {
    auto out = tensorType(op.getOutput());
    if (out.getRank() != 1 || !llvm::all_of(op->getOperands(), [](Value v) {
          return tensorType(v).hasStaticShape();
        }))
      return failure();
    Value start = op.getStart(), delta = op.getDelta();
    Type et = out.getElementType();
    Location loc = op.getLoc();
    // A length known only at run time: max(ceil((limit - start) / delta), 0).
    SmallVector<Value> sizes;
    if (out.isDynamicDim(0)) {
      auto scalar = [&](Value t) {
        Value v = tensor::ExtractOp::create(rewriter, loc, t, ValueRange{});
        return convertScalar(rewriter, loc, v, rewriter.getF64Type(),
                             wasUnsigned(op, 0));
      };
      Value n = arith::DivFOp::create(
          rewriter, loc,
          arith::SubFOp::create(rewriter, loc, scalar(op.getLimit()),
                                scalar(start)),
          scalar(delta));
      n = math::CeilOp::create(rewriter, loc, n);
      n = arith::MaximumFOp::create(
          rewriter, loc, n, fconst(rewriter, loc, rewriter.getF64Type(), 0.0));
      n = arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(), n);
      sizes.push_back(arith::IndexCastOp::create(rewriter, loc,
                                                 rewriter.getIndexType(), n));
    }
    rewriter.replaceOp(
        op,
        indexGeneric(
            rewriter, loc, out,
            [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
              Value s = tensor::ExtractOp::create(b, l, start, ValueRange{});
              Value d = tensor::ExtractOp::create(b, l, delta, ValueRange{});
              Value i = convertScalar(b, l, ivs[0], et);
              if (isa<FloatType>(et))
                return arith::AddFOp::create(b, l, s,
                                             arith::MulFOp::create(b, l, i, d));
              return arith::AddIOp::create(b, l, s,
                                           arith::MulIOp::create(b, l, i, d));
            },
            sizes));
    return success();
  }
};

struct ConstantOfShapeLowering : OpRewritePattern<qc::ConstantOfShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ConstantOfShapeOp op,
                                PatternRewriter &rewriter) const override {
    auto out = tensorType(op.getOutput());
    auto value = dyn_cast<DenseElementsAttr>(op.getValue());
    if (value && value.getElementType() != out.getElementType() &&
        value.getElementType().getIntOrFloatBitWidth() ==
            out.getElementType().getIntOrFloatBitWidth())
      value = value.bitcast(out.getElementType()); // a uint8 value, now i8
    if (!out.hasStaticShape() || !value || value.getNumElements() != 1 ||
        value.getElementType() != out.getElementType())
      return rewriter.notifyMatchFailure(op,
                                         "static shape and dense value only");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(out, value.getValues<Attribute>()[0]));
    return success();
  }
};

/// Trilu and EyeLike: a select on the position relative to a diagonal.
struct TriluLowering : OpRewritePattern<qc::TriluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::TriluOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    int64_t k = 0;
    if (!op.getK().empty()) {
      auto kv = constantInts(op.getK()[0]);
      if (!kv || kv->size() != 1)
        return rewriter.notifyMatchFailure(op, "non-constant k");
      k = (*kv)[0];
    }
    bool upper = op.getUpper() != 0;
    Value input = op.getInput();
    auto out = tensorType(op.getOutput());
    int64_t rank = out.getRank();
    rewriter.replaceOp(
        op, indexGeneric(
                rewriter, op.getLoc(), out,
                [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
                  Value diff =
                      arith::SubIOp::create(b, l, ivs[rank - 1], ivs[rank - 2]);
                  Value keep =
                      arith::CmpIOp::create(b, l,
                                            upper ? arith::CmpIPredicate::sge
                                                  : arith::CmpIPredicate::sle,
                                            diff, idx(b, l, k));
                  Value v = tensor::ExtractOp::create(b, l, input, ivs);
                  return arith::SelectOp::create(
                      b, l, keep, v,
                      arith::ConstantOp::create(
                          b, l, b.getZeroAttr(out.getElementType())));
                }));
    return success();
  }
};

struct EyeLikeLowering : OpRewritePattern<qc::EyeLikeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::EyeLikeOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto out = tensorType(op.getOutput());
    int64_t k = op.getK();
    rewriter.replaceOp(
        op, indexGeneric(
                rewriter, op.getLoc(), out,
                [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
                  Value diff = arith::SubIOp::create(b, l, ivs[1], ivs[0]);
                  Value on = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::eq, diff, idx(b, l, k));
                  return convertScalar(b, l, on, out.getElementType());
                }));
    return success();
  }
};

struct DepthToSpaceLowering : OpRewritePattern<qc::DepthToSpaceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::DepthToSpaceOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true) ||
        tensorType(op.getInput()).getRank() != 4)
      return failure();
    int64_t bs = op.getBlocksize();
    bool dcr = op.getMode() != "CRD";
    auto out = tensorType(op.getOutput());
    int64_t c2 = out.getDimSize(1);
    Value input = op.getInput();
    rewriter.replaceOp(
        op, indexGeneric(
                rewriter, op.getLoc(), out,
                [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
                  Value bsv = idx(b, l, bs);
                  Value hb = arith::RemUIOp::create(b, l, ivs[2], bsv);
                  Value wb = arith::RemUIOp::create(b, l, ivs[3], bsv);
                  Value blk = arith::AddIOp::create(
                      b, l, arith::MulIOp::create(b, l, hb, bsv), wb);
                  Value c =
                      dcr ? arith::AddIOp::create(
                                b, l,
                                arith::MulIOp::create(b, l, blk, idx(b, l, c2)),
                                ivs[1])
                          : arith::AddIOp::create(
                                b, l,
                                arith::MulIOp::create(b, l, ivs[1],
                                                      idx(b, l, bs * bs)),
                                blk);
                  return tensor::ExtractOp::create(
                      b, l, input,
                      ValueRange{ivs[0], c,
                                 arith::DivUIOp::create(b, l, ivs[2], bsv),
                                 arith::DivUIOp::create(b, l, ivs[3], bsv)});
                }));
    return success();
  }
};

struct SpaceToDepthLowering : OpRewritePattern<qc::SpaceToDepthOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::SpaceToDepthOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true) ||
        tensorType(op.getInput()).getRank() != 4)
      return failure();
    int64_t bs = op.getBlocksize();
    int64_t c = tensorType(op.getInput()).getDimSize(1);
    Value input = op.getInput();
    rewriter.replaceOp(
        op,
        indexGeneric(
            rewriter, op.getLoc(), tensorType(op.getOutput()),
            [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
              Value bsv = idx(b, l, bs), cv = idx(b, l, c);
              Value ci = arith::RemUIOp::create(b, l, ivs[1], cv);
              Value blk = arith::DivUIOp::create(b, l, ivs[1], cv);
              Value bh = arith::DivUIOp::create(b, l, blk, bsv),
                    bw = arith::RemUIOp::create(b, l, blk, bsv);
              return tensor::ExtractOp::create(
                  b, l, input,
                  ValueRange{
                      ivs[0], ci,
                      arith::AddIOp::create(
                          b, l, arith::MulIOp::create(b, l, ivs[2], bsv), bh),
                      arith::AddIOp::create(
                          b, l, arith::MulIOp::create(b, l, ivs[3], bsv), bw)});
            }));
    return success();
  }
};

/// CumSum: a generic over the result plus a reduction dim j along the axis,
/// adding x[.., j, ..] where j precedes (or follows, reversed) the position.
struct CumSumLowering : OpRewritePattern<qc::CumSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::CumSumOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto axisV = constantInts(op.getAxis());
    if (!axisV || axisV->size() != 1)
      return rewriter.notifyMatchFailure(op, "non-constant axis");
    auto out = tensorType(op.getY());
    int64_t rank = out.getRank(), axis = normAxis((*axisV)[0], rank);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> inExprs;
    for (int64_t d = 0; d < rank; ++d)
      inExprs.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
    AffineMap inMap = AffineMap::get(rank + 1, 0, inExprs, ctx);
    AffineMap outMap =
        AffineMap::getMultiDimIdentityMap(rank + 1, ctx).getMajorSubMap(rank);
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    Type et = out.getElementType();
    Location loc = op.getLoc();
    Value acc = zeros(rewriter, loc, out);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, out, ValueRange{op.getX()}, ValueRange{acc},
        SmallVector<AffineMap>{inMap, outMap}, iters,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value i = linalg::IndexOp::create(b, l, axis);
          Value j = linalg::IndexOp::create(b, l, rank);
          arith::CmpIPredicate p =
              reverse ? (exclusive ? arith::CmpIPredicate::ugt
                                   : arith::CmpIPredicate::uge)
                      : (exclusive ? arith::CmpIPredicate::ult
                                   : arith::CmpIPredicate::ule);
          Value take = arith::CmpIOp::create(b, l, p, j, i);
          Value x = arith::SelectOp::create(
              b, l, take, a[0],
              arith::ConstantOp::create(b, l, b.getZeroAttr(et)));
          Value r = isa<FloatType>(et)
                        ? Value(arith::AddFOp::create(b, l, a[1], x))
                        : Value(arith::AddIOp::create(b, l, a[1], x));
          linalg::YieldOp::create(b, l, r);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void qc::lowering::populateIndexingPatterns(RewritePatternSet &patterns) {
  patterns.add<ReshapeLike<qc::ReshapeOp>, ReshapeLike<qc::FlattenOp>,
               ReshapeLike<qc::SqueezeOp>, ReshapeLike<qc::UnsqueezeOp>,
               TransposeLowering, ConcatLowering, SplitLowering, SliceLowering,
               GatherLowering, GatherElementsLowering, ExpandLowering,
               TileLowering, PadLowering, RangeLowering,
               ConstantOfShapeLowering, TriluLowering, EyeLikeLowering,
               DepthToSpaceLowering, SpaceToDepthLowering, CumSumLowering>(
      patterns.getContext());
}
