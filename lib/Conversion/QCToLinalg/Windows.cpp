//===- Windows.cpp - pooling and general convolutions to linalg -----------===//
//
// Sliding-window ops in any spatial rank: one linalg.generic over the output
// dims plus reduction dims for the window (and input channels), a dummy
// window-shaped operand fixing those dims' extents. The body computes the
// input position from the output position and window offset, reads it with
// tensor.extract when inside the input and takes the padding value
// otherwise. 2-d group-1 Conv keeps its named linalg op (Linear.cpp).
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace qc::lowering;

namespace {

/// Strides, dilations and begin pads of a window op over `spatial` dims,
/// auto_pad resolved against the input and output sizes.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padBegin, padEnd;
};

LogicalResult resolveWindow(Operation *op, ArrayRef<int64_t> inSpatial,
                            ArrayRef<int64_t> outSpatial,
                            ArrayRef<int64_t> kernel, StringRef autoPad,
                            std::optional<ArrayRef<int64_t>> pads,
                            std::optional<ArrayRef<int64_t>> strides,
                            std::optional<ArrayRef<int64_t>> dilations,
                            Window &w) {
  size_t n = inSpatial.size();
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides.assign(n, 1);
  w.dilations.assign(n, 1);
  if (strides && strides->size() == n)
    w.strides.assign(strides->begin(), strides->end());
  if (dilations && dilations->size() == n)
    w.dilations.assign(dilations->begin(), dilations->end());
  w.padBegin.assign(n, 0);
  w.padEnd.assign(n, 0);
  if (autoPad == "NOTSET") {
    if (pads && pads->size() == 2 * n) {
      w.padBegin.assign(pads->begin(), pads->begin() + n);
      w.padEnd.assign(pads->begin() + n, pads->end());
    }
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < n; ++i) {
      int64_t total = std::max<int64_t>(
          0, (outSpatial[i] - 1) * w.strides[i] +
                 (kernel[i] - 1) * w.dilations[i] + 1 - inSpatial[i]);
      w.padBegin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.padEnd[i] = total - w.padBegin[i];
    }
  } else if (autoPad != "VALID") {
    return failure();
  }
  return success();
}

/// A generic over [outDims..., windowDims...] (window dims reductions) with
/// a dummy operand of the window's shape; `body` gets all indices and the
/// accumulators, returns the new ones. `inputs` are extra operands read
/// with `inputMaps`.
SmallVector<Value> windowGeneric(
    OpBuilder &b, Location loc, ArrayRef<RankedTensorType> outTypes,
    ArrayRef<Value> inits, ArrayRef<int64_t> windowShape, Type windowElt,
    ValueRange inputs, ArrayRef<AffineMap> inputMaps,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ArrayRef<Value>,
                                    ValueRange, ValueRange)>
        body) {
  MLIRContext *ctx = b.getContext();
  int64_t outRank = outTypes[0].getRank(), wRank = windowShape.size();
  int64_t total = outRank + wRank;
  Value window = tensor::EmptyOp::create(b, loc, windowShape, windowElt);
  SmallVector<AffineMap> maps;
  SmallVector<AffineExpr> wExprs, oExprs;
  for (int64_t d = 0; d < wRank; ++d)
    wExprs.push_back(getAffineDimExpr(outRank + d, ctx));
  for (int64_t d = 0; d < outRank; ++d)
    oExprs.push_back(getAffineDimExpr(d, ctx));
  maps.push_back(AffineMap::get(total, 0, wExprs, ctx));
  llvm::append_range(maps, inputMaps);
  for (size_t i = 0; i < outTypes.size(); ++i)
    maps.push_back(AffineMap::get(total, 0, oExprs, ctx));
  SmallVector<utils::IteratorType> iters(outRank,
                                         utils::IteratorType::parallel);
  iters.append(wRank, utils::IteratorType::reduction);
  SmallVector<Value> ins = {window};
  llvm::append_range(ins, inputs);
  SmallVector<Type> types(outTypes.begin(), outTypes.end());
  auto g = linalg::GenericOp::create(
      b, loc, types, ins, inits, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        SmallVector<Value> ivs;
        for (int64_t d = 0; d < total; ++d)
          ivs.push_back(linalg::IndexOp::create(nb, l, d));
        size_t nIn = inputs.size();
        linalg::YieldOp::create(
            nb, l, body(nb, l, ivs, a.slice(1, nIn), a.drop_front(1 + nIn)));
      });
  return SmallVector<Value>(g.getResults());
}

/// The input coordinate o * stride + k * dilation - padBegin and whether it
/// lies in [lo, hi).
std::pair<Value, Value> windowCoord(OpBuilder &b, Location l, Value o, Value k,
                                    int64_t stride, int64_t dilation,
                                    int64_t pad, int64_t lo, int64_t hi) {
  Value i = arith::SubIOp::create(
      b, l,
      arith::AddIOp::create(
          b, l, arith::MulIOp::create(b, l, o, cindex(b, l, stride)),
          arith::MulIOp::create(b, l, k, cindex(b, l, dilation))),
      cindex(b, l, pad));
  Value in = arith::AndIOp::create(
      b, l,
      arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i,
                            cindex(b, l, lo)),
      arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i,
                            cindex(b, l, hi)));
  return {i, in};
}

/// y + bias[c] along dim 1 (no-op without a bias).
Value addChannelBias(OpBuilder &b, Location loc, Value y, Value bias) {
  if (!bias)
    return y;
  auto out = tensorType(y);
  SmallVector<int64_t> shape(out.getRank() - 1, 1);
  shape[0] = out.getDimSize(1);
  Value bv = reshapeTo(b, loc, bias,
                       RankedTensorType::get(shape, out.getElementType()));
  return scaleAndAdd(b, loc, y, 1.0, bv, 1.0);
}

enum class PoolKind { Max, Average, Lp };

template <typename OpTy, PoolKind kind>
struct PoolLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/kind == PoolKind::Max))
      return failure();
    bool isUnsigned = wasUnsigned(op, 0);
    // MaxPool's Indices: the flat index of the first maximum in x, row-major
    // (storage_order 0) or with the spatial dims column-major (1).
    bool withIndices = op.getIndices() && !op.getIndices().use_empty();
    bool columnMajor = op.getStorageOrder() && *op.getStorageOrder() != 0;
    Value x = op.getX();
    auto in = tensorType(x);
    auto out = tensorType(op.getY());
    Type et = in.getElementType();
    if (!isa<FloatType>(et) && kind != PoolKind::Max)
      return failure();
    int64_t rank = in.getRank(), ns = rank - 2;
    Window w;
    if (failed(resolveWindow(op, in.getShape().drop_front(2),
                             out.getShape().drop_front(2), op.getKernelShape(),
                             op.getAutoPad(), op.getPads(), op.getStrides(),
                             op.getDilations(), w)))
      return rewriter.notifyMatchFailure(op, "unknown auto_pad");
    bool includePad = kind == PoolKind::Average && op.getCountIncludePad() &&
                      *op.getCountIncludePad() != 0;
    int64_t p = kind == PoolKind::Lp && op.getP() ? int64_t(*op.getP()) : 2;
    Location loc = op.getLoc();
    Value init =
        kind == PoolKind::Max
            ? arith::ConstantOp::create(
                  rewriter, loc,
                  isa<FloatType>(et)
                      ? TypedAttr(rewriter.getFloatAttr(et, -INFINITY))
                      : TypedAttr(rewriter.getIntegerAttr(
                            et, isUnsigned
                                    ? APInt::getZero(et.getIntOrFloatBitWidth())
                                    : APInt::getSignedMinValue(
                                          et.getIntOrFloatBitWidth()))))
            : arith::ConstantOp::create(rewriter, loc,
                                        rewriter.getZeroAttr(et));
    SmallVector<RankedTensorType> outTypes = {out};
    SmallVector<Value> inits = {filled(rewriter, loc, out, init)};
    if (kind == PoolKind::Average) {
      outTypes.push_back(out);
      inits.push_back(
          filled(rewriter, loc, out, fconst(rewriter, loc, et, 0.0)));
    }
    if (withIndices) {
      auto it = tensorType(op.getIndices());
      outTypes.push_back(it);
      inits.push_back(zeros(rewriter, loc, it));
    }
    auto results = windowGeneric(
        rewriter, loc, outTypes, inits, w.kernel, et, ValueRange{}, {},
        [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange,
            ValueRange acc) {
          SmallVector<Value> idx = {ivs[0], ivs[1]};
          Value inside = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          Value counted = inside;
          for (int64_t s = 0; s < ns; ++s) {
            int64_t dim = in.getDimSize(2 + s);
            auto [i, ok] =
                windowCoord(b, l, ivs[2 + s], ivs[rank + s], w.strides[s],
                            w.dilations[s], w.padBegin[s], 0, dim);
            inside = arith::AndIOp::create(b, l, inside, ok);
            if (includePad)
              counted = arith::AndIOp::create(
                  b, l, counted,
                  windowCoord(b, l, ivs[2 + s], ivs[rank + s], w.strides[s],
                              w.dilations[s], w.padBegin[s], -w.padBegin[s],
                              dim + w.padEnd[s])
                      .second);
            idx.push_back(arith::MinSIOp::create(
                b, l, arith::MaxSIOp::create(b, l, i, cindex(b, l, 0)),
                cindex(b, l, dim - 1)));
          }
          Value v = tensor::ExtractOp::create(b, l, x, idx);
          SmallVector<Value> next;
          if (kind == PoolKind::Max) {
            Value m = isa<FloatType>(et)
                          ? Value(arith::MaximumFOp::create(b, l, acc[0], v))
                      : isUnsigned
                          ? Value(arith::MaxUIOp::create(b, l, acc[0], v))
                          : Value(arith::MaxSIOp::create(b, l, acc[0], v));
            next.push_back(arith::SelectOp::create(b, l, inside, m, acc[0]));
            if (withIndices) {
              // Strictly greater: the first maximum keeps its index. The
              // first window element always counts (acc holds the init).
              Value gt = isa<FloatType>(et)
                             ? Value(arith::CmpFOp::create(
                                   b, l, arith::CmpFPredicate::OGT, v, acc[0]))
                             : Value(arith::CmpIOp::create(
                                   b, l,
                                   isUnsigned ? arith::CmpIPredicate::ugt
                                              : arith::CmpIPredicate::sgt,
                                   v, acc[0]));
              Value first = cindex(b, l, 0);
              Value isFirst =
                  arith::ConstantOp::create(b, l, b.getBoolAttr(true));
              for (int64_t s = 0; s < ns; ++s)
                isFirst = arith::AndIOp::create(
                    b, l, isFirst,
                    arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                          ivs[rank + s], first));
              Value take = arith::AndIOp::create(
                  b, l, inside, arith::OrIOp::create(b, l, gt, isFirst));
              // Flat index: (n * C + c) * spatial + spatial offset.
              Value flat = arith::AddIOp::create(
                  b, l,
                  arith::MulIOp::create(b, l, idx[0],
                                        cindex(b, l, in.getDimSize(1))),
                  idx[1]);
              SmallVector<int64_t> order;
              for (int64_t s = 0; s < ns; ++s)
                order.push_back(columnMajor ? ns - 1 - s : s);
              for (int64_t s : order)
                flat = arith::AddIOp::create(
                    b, l,
                    arith::MulIOp::create(b, l, flat,
                                          cindex(b, l, in.getDimSize(2 + s))),
                    idx[2 + s]);
              Value flat64 =
                  arith::IndexCastOp::create(b, l, b.getI64Type(), flat);
              next.push_back(
                  arith::SelectOp::create(b, l, take, flat64, acc[1]));
            }
          } else if (kind == PoolKind::Lp) {
            Value a = math::AbsFOp::create(b, l, v);
            Value pw = p == 1   ? a
                       : p == 2 ? Value(arith::MulFOp::create(b, l, a, a))
                                : Value(math::PowFOp::create(
                                      b, l, a, fconst(b, l, et, double(p))));
            next.push_back(arith::SelectOp::create(
                b, l, inside, arith::AddFOp::create(b, l, acc[0], pw), acc[0]));
          } else {
            next.push_back(arith::SelectOp::create(
                b, l, inside, arith::AddFOp::create(b, l, acc[0], v), acc[0]));
            Value c = includePad ? counted : inside;
            next.push_back(arith::SelectOp::create(
                b, l, c,
                arith::AddFOp::create(b, l, acc[1], fconst(b, l, et, 1.0)),
                acc[1]));
          }
          return next;
        });
    Value y = results[0];
    if (kind == PoolKind::Average)
      y = broadcastGeneric(rewriter, loc, out,
                           ValueRange{results[0], results[1]},
                           [](OpBuilder &b, Location l, ValueRange a) -> Value {
                             return arith::DivFOp::create(b, l, a[0], a[1]);
                           });
    if (kind == PoolKind::Lp && p != 1)
      y = broadcastGeneric(
          rewriter, loc, out, ValueRange{y},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            if (p == 2)
              return math::SqrtOp::create(b, l, a[0]);
            return math::PowFOp::create(b, l, a[0],
                                        fconst(b, l, et, 1.0 / double(p)));
          });
    SmallVector<Value> repl = {y};
    if (withIndices) {
      repl.push_back(results[1]);
    } else if (op.getIndices()) {
      // Unused Indices output (checked above): an empty tensor stands in.
      auto it = tensorType(op.getIndices());
      repl.push_back(tensor::EmptyOp::create(rewriter, loc, it.getShape(),
                                             it.getElementType()));
    }
    rewriter.replaceOp(op, repl);
    return success();
  }
};

/// Conv of any spatial rank and group count (the 2-d group-1 case has its
/// own pattern with a higher benefit).
struct GeneralConvLowering : OpRewritePattern<qc::ConvOp> {
  GeneralConvLowering(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/0) {}
  LogicalResult matchAndRewrite(qc::ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    Value x = op.getX(), wt = op.getW();
    auto in = tensorType(x), wTy = tensorType(wt), out = tensorType(op.getY());
    Type et = in.getElementType();
    // Float, or the i32 of an integer convolution (qc.conv_int's operands
    // shifted by their zero points) that the 2-d patterns do not take.
    bool isInt = et.isInteger(32) || et.isInteger(64);
    if (!isa<FloatType>(et) && !isInt)
      return failure();
    int64_t rank = in.getRank(), ns = rank - 2;
    int64_t group = op.getGroup();
    int64_t cg = wTy.getDimSize(1), fg = out.getDimSize(1) / group;
    Window w;
    if (failed(resolveWindow(
            op, in.getShape().drop_front(2), out.getShape().drop_front(2),
            wTy.getShape().drop_front(2), op.getAutoPad(), op.getPads(),
            op.getStrides(), op.getDilations(), w)))
      return rewriter.notifyMatchFailure(op, "unknown auto_pad");
    Location loc = op.getLoc();
    // Iteration space: [n, f, o...] + [c, k...]; W read as [f, c, k...].
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<int64_t> window = {cg};
    llvm::append_range(window, wTy.getShape().drop_front(2));
    SmallVector<AffineExpr> wExprs = {getAffineDimExpr(1, ctx)};
    for (int64_t d = 0; d <= ns; ++d)
      wExprs.push_back(getAffineDimExpr(rank + d, ctx));
    AffineMap wMap = AffineMap::get(rank + 1 + ns, 0, wExprs, ctx);
    auto results = windowGeneric(
        rewriter, loc, {out}, {zeros(rewriter, loc, out)}, window, et,
        ValueRange{wt}, {wMap},
        [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange ins,
            ValueRange acc) {
          Value g = arith::DivUIOp::create(b, l, ivs[1], cindex(b, l, fg));
          Value c = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, g, cindex(b, l, cg)),
              ivs[rank]);
          SmallVector<Value> idx = {ivs[0], c};
          Value inside = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          for (int64_t s = 0; s < ns; ++s) {
            int64_t dim = in.getDimSize(2 + s);
            auto [i, ok] =
                windowCoord(b, l, ivs[2 + s], ivs[rank + 1 + s], w.strides[s],
                            w.dilations[s], w.padBegin[s], 0, dim);
            inside = arith::AndIOp::create(b, l, inside, ok);
            idx.push_back(arith::MinSIOp::create(
                b, l, arith::MaxSIOp::create(b, l, i, cindex(b, l, 0)),
                cindex(b, l, dim - 1)));
          }
          Value v = tensor::ExtractOp::create(b, l, x, idx);
          Value zero = arith::ConstantOp::create(b, l, b.getZeroAttr(et));
          v = arith::SelectOp::create(b, l, inside, v, zero);
          if (isInt)
            return SmallVector<Value>{arith::AddIOp::create(
                b, l, acc[0], arith::MulIOp::create(b, l, v, ins[0]))};
          return SmallVector<Value>{arith::AddFOp::create(
              b, l, acc[0], arith::MulFOp::create(b, l, v, ins[0]))};
        });
    rewriter.replaceOp(op,
                       addChannelBias(rewriter, loc, results[0], op.getB()));
    return success();
  }
};

/// ConvTranspose: y[n, f, o] = sum over c, k of x[n, c, i] * W[c, f', k]
/// where o = i * stride + k * dilation - padBegin.
struct ConvTransposeLowering : OpRewritePattern<qc::ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    Value x = op.getX(), wt = op.getW();
    auto in = tensorType(x), wTy = tensorType(wt), out = tensorType(op.getY());
    Type et = in.getElementType();
    if (!isa<FloatType>(et))
      return failure();
    int64_t rank = in.getRank(), ns = rank - 2, group = op.getGroup();
    int64_t cg = in.getDimSize(1) / group, fg = wTy.getDimSize(1);
    SmallVector<int64_t> strides(ns, 1), dil(ns, 1), outPad(ns, 0),
        padBegin(ns, 0);
    if (auto s = op.getStrides())
      strides.assign(s->begin(), s->end());
    if (auto d = op.getDilations())
      dil.assign(d->begin(), d->end());
    if (auto p = op.getOutputPadding())
      outPad.assign(p->begin(), p->end());
    auto pads = op.getPads();
    if (op.getAutoPad() == "NOTSET" && pads && !op.getOutputShape()) {
      padBegin.assign(pads->begin(), pads->begin() + ns);
    } else if (op.getAutoPad() != "VALID") {
      for (int64_t s = 0; s < ns; ++s) {
        int64_t k = wTy.getDimSize(2 + s);
        int64_t total = strides[s] * (in.getDimSize(2 + s) - 1) + outPad[s] +
                        (k - 1) * dil[s] + 1 - out.getDimSize(2 + s);
        // Python's floor division, as ONNX's reference (total may be negative).
        int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
        padBegin[s] = op.getAutoPad() == "SAME_UPPER" ? half : total - half;
      }
    }
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<int64_t> window = {cg};
    llvm::append_range(window, wTy.getShape().drop_front(2));
    auto results = windowGeneric(
        rewriter, loc, {out}, {zeros(rewriter, loc, out)}, window, et,
        ValueRange{}, {},
        [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange,
            ValueRange acc) {
          Value g = arith::DivUIOp::create(b, l, ivs[1], cindex(b, l, fg));
          Value fIn = arith::RemUIOp::create(b, l, ivs[1], cindex(b, l, fg));
          Value c = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, g, cindex(b, l, cg)),
              ivs[rank]);
          SmallVector<Value> xi = {ivs[0], c}, wi = {c, fIn};
          Value ok = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          for (int64_t s = 0; s < ns; ++s) {
            Value k = ivs[rank + 1 + s];
            // t = o + pad - k * dilation must be a multiple of the stride.
            Value t = arith::SubIOp::create(
                b, l,
                arith::AddIOp::create(b, l, ivs[2 + s],
                                      cindex(b, l, padBegin[s])),
                arith::MulIOp::create(b, l, k, cindex(b, l, dil[s])));
            Value st = cindex(b, l, strides[s]);
            Value i = arith::DivSIOp::create(b, l, t, st);
            Value exact = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::eq,
                arith::RemSIOp::create(b, l, t, st), cindex(b, l, 0));
            Value inRange = arith::AndIOp::create(
                b, l,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, t,
                                      cindex(b, l, 0)),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i,
                                      cindex(b, l, in.getDimSize(2 + s))));
            ok = arith::AndIOp::create(
                b, l, ok, arith::AndIOp::create(b, l, exact, inRange));
            xi.push_back(arith::MinSIOp::create(
                b, l, arith::MaxSIOp::create(b, l, i, cindex(b, l, 0)),
                cindex(b, l, in.getDimSize(2 + s) - 1)));
            wi.push_back(k);
          }
          Value v = arith::MulFOp::create(
              b, l, tensor::ExtractOp::create(b, l, x, xi),
              tensor::ExtractOp::create(b, l, wt, wi));
          v = arith::SelectOp::create(b, l, ok, v, fconst(b, l, et, 0.0));
          return SmallVector<Value>{arith::AddFOp::create(b, l, acc[0], v)};
        });
    (void)ctx;
    rewriter.replaceOp(op,
                       addChannelBias(rewriter, loc, results[0], op.getB()));
    return success();
  }
};

} // namespace

void qc::lowering::populateWindowPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<PoolLowering<qc::MaxPoolOp, PoolKind::Max>,
               PoolLowering<qc::AveragePoolOp, PoolKind::Average>,
               PoolLowering<qc::LpPoolOp, PoolKind::Lp>, ConvTransposeLowering>(
      ctx);
  patterns.add<GeneralConvLowering>(ctx);
}
