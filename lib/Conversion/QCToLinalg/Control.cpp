//===- Control.cpp - qc.if to scf.if, general MatMul, Resize
//---------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include <cmath>

using namespace mlir;
using namespace qc::lowering;

namespace {

/// qc.if -> scf.if on the condition's single element; the branches move
/// over and their qc.yield become scf.yield (their ops lower in place).
struct IfLowering : OpRewritePattern<qc::IfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::IfOp op,
                                PatternRewriter &rewriter) const override {
    auto condTy = tensorType(op.getCond());
    if (!condTy.hasStaticShape() || condTy.getNumElements() != 1)
      return rewriter.notifyMatchFailure(op, "condition must hold one element");
    for (Region *r : {&op.getThenBranch(), &op.getElseBranch()}) {
      auto yield = cast<qc::YieldOp>(r->front().getTerminator());
      if (yield.getValues().getTypes() != op.getResultTypes())
        return rewriter.notifyMatchFailure(
            op, "branch types differ from the results");
    }
    Location loc = op.getLoc();
    SmallVector<Value> zeros(condTy.getRank(), cindex(rewriter, loc, 0));
    Value cond = tensor::ExtractOp::create(rewriter, loc, op.getCond(), zeros);
    auto ifOp = scf::IfOp::create(rewriter, loc, op.getResultTypes(), cond,
                                  /*withElseRegion=*/true);
    for (auto [from, to] :
         {std::pair{&op.getThenBranch(), &ifOp.getThenRegion()},
          std::pair{&op.getElseBranch(), &ifOp.getElseRegion()}}) {
      rewriter.eraseBlock(&to->front());
      rewriter.inlineRegionBefore(*from, *to, to->end());
      auto yield = cast<qc::YieldOp>(to->front().getTerminator());
      rewriter.setInsertionPoint(yield);
      rewriter.replaceOpWithNewOp<scf::YieldOp>(yield, yield.getValues());
    }
    rewriter.replaceOp(op, ifOp.getResults());
    return success();
  }
};

/// MatMul with numpy semantics in general: 1-d operands promoted to
/// matrices, batch dims broadcast; one generic (batch..., m, n, k).
struct GeneralMatMulLowering : OpRewritePattern<qc::MatMulOp> {
  GeneralMatMulLowering(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/0) {}
  LogicalResult matchAndRewrite(qc::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    Location loc = op.getLoc();
    Value a = op.getA(), b = op.getB();
    auto at = tensorType(a), bt = tensorType(b), yt = tensorType(op.getY());
    Type et = yt.getElementType();
    if (at.getRank() == 1)
      a = reshapeTo(rewriter, loc, a,
                    RankedTensorType::get({1, at.getDimSize(0)}, et));
    if (bt.getRank() == 1)
      b = reshapeTo(rewriter, loc, b,
                    RankedTensorType::get({bt.getDimSize(0), 1}, et));
    at = tensorType(a);
    bt = tensorType(b);
    // Equal batch dims (attention's [batch, heads, ...]) collapse into one:
    // a batched matmul, which the register-tile vectorization handles.
    if (at.getRank() == bt.getRank() && at.getRank() > 3 &&
        at.hasStaticShape() && bt.hasStaticShape() && yt.hasStaticShape() &&
        at.getShape().drop_back(2) == bt.getShape().drop_back(2)) {
      int64_t r = at.getRank(), bsz = 1;
      for (int64_t d = 0; d < r - 2; ++d)
        bsz *= at.getDimSize(d);
      auto a3 = RankedTensorType::get(
          {bsz, at.getDimSize(r - 2), at.getDimSize(r - 1)}, et);
      auto b3 = RankedTensorType::get(
          {bsz, bt.getDimSize(r - 2), bt.getDimSize(r - 1)}, et);
      auto y3 = RankedTensorType::get(
          {bsz, at.getDimSize(r - 2), bt.getDimSize(r - 1)}, et);
      Value mm = qc::MatMulOp::create(rewriter, loc, y3,
                                      reshapeTo(rewriter, loc, a, a3),
                                      reshapeTo(rewriter, loc, b, b3));
      rewriter.replaceOp(op, reshapeTo(rewriter, loc, mm, yt));
      return success();
    }
    int64_t batch = std::max(at.getRank(), bt.getRank()) - 2;
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < batch; ++d) {
      auto dimOf = [&](RankedTensorType t) {
        int64_t off = batch - (t.getRank() - 2);
        return d < off ? 1 : t.getDimSize(d - off);
      };
      shape.push_back(std::max(dimOf(at), dimOf(bt)));
    }
    int64_t m = at.getDimSize(at.getRank() - 2),
            n = bt.getDimSize(bt.getRank() - 1);
    shape.push_back(m);
    shape.push_back(n);
    auto full = RankedTensorType::get(shape, et);
    MLIRContext *ctx = rewriter.getContext();
    int64_t total = batch + 3; // batch..., m, n, k
    auto operandMap = [&](RankedTensorType t, int64_t row, int64_t col) {
      SmallVector<AffineExpr> exprs;
      int64_t off = batch - (t.getRank() - 2);
      for (int64_t d = 0; d < t.getRank() - 2; ++d)
        exprs.push_back(t.getDimSize(d) == 1 && shape[d + off] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(d + off, ctx));
      exprs.push_back(getAffineDimExpr(row, ctx));
      exprs.push_back(getAffineDimExpr(col, ctx));
      return AffineMap::get(total, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> outExprs;
    for (int64_t d = 0; d < batch + 2; ++d)
      outExprs.push_back(getAffineDimExpr(d, ctx));
    SmallVector<AffineMap> maps = {operandMap(at, batch, batch + 2),
                                   operandMap(bt, batch + 2, batch + 1),
                                   AffineMap::get(total, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iters(batch + 2,
                                           utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    auto g = linalg::GenericOp::create(
        rewriter, loc, full, ValueRange{a, b},
        ValueRange{zeros(rewriter, loc, full)}, maps, iters,
        [&](OpBuilder &nb, Location l, ValueRange v) {
          Value r =
              isFloat(v[0])
                  ? Value(arith::AddFOp::create(
                        nb, l, v[2], arith::MulFOp::create(nb, l, v[0], v[1])))
                  : Value(arith::AddIOp::create(
                        nb, l, v[2], arith::MulIOp::create(nb, l, v[0], v[1])));
          linalg::YieldOp::create(nb, l, r);
        });
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, g.getResult(0), yt));
    return success();
  }
};

/// Resize: nearest, (n-)linear and (n-)cubic modes, with ONNX's coordinate
/// transformations and nearest rounding modes. Scales come from the scales
/// operand (a constant, or read at run time) or, for sizes, from the static
/// shapes. Linear and cubic sum 2 and 4 taps per resized dim, the source
/// index clamped to the edge (cubic's exclude_outside drops and renormalizes
/// the taps outside instead).
struct ResizeLowering : OpRewritePattern<qc::ResizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ResizeOp op,
                                PatternRewriter &rewriter) const override {
    // Nearest only moves elements: integers (signed or not) too.
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    auto in = tensorType(op.getX()), out = tensorType(op.getY());
    Type et = in.getElementType();
    StringRef mode = op.getMode(), ctm = op.getCoordinateTransformationMode(),
              nearest = op.getNearestMode();
    bool crop = ctm == "tf_crop_and_resize";
    if (!isa<FloatType>(et) && (mode != "nearest" || crop))
      return failure();
    if (mode != "nearest" && mode != "linear" && mode != "cubic")
      return rewriter.notifyMatchFailure(op, "unknown mode");
    Value roi = op.getRoi();
    if (crop != bool(roi))
      return rewriter.notifyMatchFailure(
          op, "roi without tf_crop_and_resize or back");
    int64_t rank = in.getRank();
    // Static scales where known; runtimeScales: read from the operand.
    SmallVector<double> scales(rank);
    bool runtimeScales = false;
    DenseFPElementsAttr scaleAttr;
    Value scalesOperand = op.getScalesOrSizes();
    if (op.getTarget() == "scales" &&
        matchPattern(scalesOperand, m_Constant(&scaleAttr)) &&
        scaleAttr.getNumElements() == rank) {
      for (auto [d, v] : llvm::enumerate(scaleAttr.getValues<APFloat>()))
        scales[d] = v.convertToDouble();
    } else {
      runtimeScales =
          op.getTarget() == "scales" &&
          tensorType(scalesOperand).getNumElements() == rank &&
          isa<FloatType>(tensorType(scalesOperand).getElementType());
      for (int64_t d = 0; d < rank; ++d)
        scales[d] = double(out.getDimSize(d)) / double(in.getDimSize(d));
    }
    SmallVector<int64_t> resized;
    // With a crop, any dim longer than 1 may move (roi is read at run time).
    for (int64_t d = 0; d < rank; ++d)
      if (in.getDimSize(d) != out.getDimSize(d) ||
          (!runtimeScales && scales[d] != 1.0) ||
          (crop && in.getDimSize(d) > 1))
        resized.push_back(d);
    int taps = mode == "cubic" ? 4 : 2;
    if (mode != "nearest" && resized.size() > 3)
      return rewriter.notifyMatchFailure(op,
                                         "interpolation over more than 3 dims");
    Value x = op.getX();
    Type f32 = rewriter.getF32Type();
    double A = op.getCubicCoeffA().convertToDouble();
    bool exclude = op.getExcludeOutside() != 0;
    rewriter.replaceOp(
        op,
        indexGeneric(
            rewriter, op.getLoc(), out,
            [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
              auto f = [&](double v) { return fconst(b, l, f32, v); };
              auto add = [&](Value p, Value q) {
                return arith::AddFOp::create(b, l, p, q).getResult();
              };
              auto sub = [&](Value p, Value q) {
                return arith::SubFOp::create(b, l, p, q).getResult();
              };
              auto mul = [&](Value p, Value q) {
                return arith::MulFOp::create(b, l, p, q).getResult();
              };
              auto div = [&](Value p, Value q) {
                return arith::DivFOp::create(b, l, p, q).getResult();
              };
              auto scaleOf = [&](int64_t d) -> Value {
                if (!runtimeScales)
                  return f(scales[d]);
                Value s = tensor::ExtractOp::create(
                    b, l, scalesOperand, ValueRange{cindex(b, l, d)});
                return convertScalar(b, l, s, f32);
              };
              // The source coordinate of output index i along d, as a float.
              auto coord = [&](int64_t d) -> Value {
                Value i = convertScalar(b, l, ivs[d], f32);
                Value s = scaleOf(d);
                int64_t inLen = in.getDimSize(d), outLen = out.getDimSize(d);
                if (crop) {
                  // start * (in - 1) + i * (end - start) * (in - 1) / (out -
                  // 1).
                  auto roiAt = [&](int64_t k) {
                    Value v = tensor::ExtractOp::create(
                        b, l, roi, ValueRange{cindex(b, l, k)});
                    return convertScalar(b, l, v, f32);
                  };
                  Value start = roiAt(d), end = roiAt(rank + d);
                  Value span = f(double(inLen - 1));
                  if (outLen == 1)
                    return mul(mul(add(start, end), f(0.5)), span);
                  return add(mul(start, span),
                             div(mul(mul(i, sub(end, start)), span),
                                 f(double(outLen - 1))));
                }
                if (ctm == "align_corners") {
                  if (outLen == 1)
                    return f(0);
                  // ONNX scales the unrounded output length in*scale.
                  Value len = op.getTarget() == "scales"
                                  ? mul(f(double(inLen)), s)
                                  : f(double(outLen));
                  return div(mul(i, f(double(inLen - 1))), sub(len, f(1)));
                }
                if (ctm == "asymmetric")
                  return div(i, s);
                Value half = add(i, f(0.5));
                if (ctm == "tf_half_pixel_for_nn")
                  return div(half, s);
                if (ctm == "pytorch_half_pixel" && outLen == 1)
                  return f(0);
                return sub(div(half, s),
                           f(0.5)); // half_pixel, pytorch_half_pixel
              };
              // tf_crop_and_resize: a source coordinate outside [0, in - 1] in
              // any dim gives extrapolation_value.
              Value outside;
              auto noteOutside = [&](Value c, int64_t len) {
                if (!crop)
                  return;
                Value o = arith::OrIOp::create(
                    b, l,
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, c,
                                          f(0)),
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, c,
                                          f(double(len - 1))));
                outside =
                    outside ? Value(arith::OrIOp::create(b, l, outside, o)) : o;
              };
              auto extrapolate = [&](Value v) -> Value {
                if (!outside)
                  return v;
                Value e = convertScalar(
                    b, l, f(op.getExtrapolationValue().convertToDouble()),
                    v.getType());
                return arith::SelectOp::create(b, l, outside, e, v);
              };
              auto clampIdx = [&](Value v, int64_t len) -> Value {
                return arith::MinSIOp::create(
                    b, l, arith::MaxSIOp::create(b, l, v, cindex(b, l, 0)),
                    cindex(b, l, len - 1));
              };
              auto toIndex = [&](Value fv) {
                return convertScalar(
                    b, l, arith::FPToSIOp::create(b, l, b.getI64Type(), fv),
                    b.getIndexType());
              };
              if (mode == "nearest") {
                SmallVector<Value> src(ivs);
                for (int64_t d : resized) {
                  // Upsampling by a whole factor k, asymmetric, floor:
                  // source i / k, in integers.
                  double k = scales[d];
                  if (!runtimeScales && ctm == "asymmetric" &&
                      nearest == "floor" && k >= 1 && k == std::floor(k) &&
                      out.getDimSize(d) <= in.getDimSize(d) * int64_t(k)) {
                    src[d] = arith::DivUIOp::create(b, l, ivs[d],
                                                    cindex(b, l, int64_t(k)));
                    continue;
                  }
                  Value c = coord(d), r;
                  if (nearest == "floor")
                    r = math::FloorOp::create(b, l, c);
                  else if (nearest == "ceil")
                    r = math::CeilOp::create(b, l, c);
                  else if (nearest == "round_prefer_ceil")
                    r = math::FloorOp::create(b, l, add(c, f(0.5)));
                  else // round_prefer_floor
                    r = math::CeilOp::create(b, l, sub(c, f(0.5)));
                  noteOutside(c, in.getDimSize(d));
                  src[d] = clampIdx(toIndex(r), in.getDimSize(d));
                }
                return extrapolate(tensor::ExtractOp::create(b, l, x, src));
              }
              // Per resized dim: `taps` source indices and weights.
              SmallVector<SmallVector<Value, 4>> idx, w;
              for (int64_t d : resized) {
                int64_t len = in.getDimSize(d);
                Value c = coord(d);
                SmallVector<Value, 4> di, dw;
                noteOutside(c, len);
                if (mode == "linear") {
                  c = arith::MinimumFOp::create(
                      b, l, arith::MaximumFOp::create(b, l, c, f(0)),
                      f(double(len - 1)));
                  Value fl = math::FloorOp::create(b, l, c);
                  Value i0 = clampIdx(toIndex(fl), len);
                  Value t = sub(c, fl);
                  di = {i0, clampIdx(arith::AddIOp::create(b, l, i0,
                                                           cindex(b, l, 1)),
                                     len)};
                  dw = {sub(f(1), t), t};
                } else {
                  // Keys' cubic convolution with coefficient A at distances
                  // 1+t, t, 1-t and 2-t from the taps floor-1 .. floor+2.
                  Value fl = math::FloorOp::create(b, l, c);
                  Value t = sub(c, fl);
                  Value base = toIndex(fl);
                  auto far = [&](Value u) { // 1 <= u < 2
                    return sub(
                        mul(add(mul(sub(mul(f(A), u), f(5 * A)), u), f(8 * A)),
                            u),
                        f(4 * A));
                  };
                  auto near = [&](Value u) { // 0 <= u <= 1
                    return add(mul(mul(sub(mul(f(A + 2), u), f(A + 3)), u), u),
                               f(1));
                  };
                  Value one_t = sub(f(1), t);
                  dw = {far(add(t, f(1))), near(t), near(one_t),
                        far(add(one_t, f(1)))};
                  Value total = f(0);
                  for (int k = 0; k < 4; ++k) {
                    Value raw =
                        arith::AddIOp::create(b, l, base, cindex(b, l, k - 1));
                    if (exclude) {
                      Value inside = arith::AndIOp::create(
                          b, l,
                          arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge,
                                                raw, cindex(b, l, 0)),
                          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                                raw, cindex(b, l, len)));
                      dw[k] =
                          arith::SelectOp::create(b, l, inside, dw[k], f(0));
                      total = add(total, dw[k]);
                    }
                    di.push_back(clampIdx(raw, len));
                  }
                  if (exclude)
                    for (Value &v : dw)
                      v = div(v, total);
                }
                idx.push_back(di);
                w.push_back(dw);
              }
              Value acc = f(0);
              int64_t combos = 1;
              for (size_t k = 0; k < resized.size(); ++k)
                combos *= taps;
              for (int64_t combo = 0; combo < combos; ++combo) {
                SmallVector<Value> src(ivs);
                Value weight = f(1);
                int64_t rest = combo;
                for (auto [k, d] : llvm::enumerate(resized)) {
                  int64_t tap = rest % taps;
                  rest /= taps;
                  src[d] = idx[k][tap];
                  weight = mul(weight, w[k][tap]);
                }
                Value v = convertScalar(
                    b, l, tensor::ExtractOp::create(b, l, x, src), f32);
                acc = add(acc, mul(v, weight));
              }
              return extrapolate(convertScalar(b, l, acc, et));
            }));
    return success();
  }
};

/// LSTM, one direction (forward or reverse), default activations (sigmoid,
/// tanh, tanh), no peepholes or clip, full sequences: an scf.for over time
/// carrying h and c, gates = x_t W^T + h R^T + Wb + Rb in order i, o, f, c.
struct LSTMLowering : OpRewritePattern<qc::LSTMOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::LSTMOp op,
                                PatternRewriter &rewriter) const override {
    if (!lowerableTypes(op))
      return failure();
    auto in = op.getInputs();
    if (in.size() < 3 || op.getActivations() || op.getClip() ||
        (op.getLayout() && *op.getLayout() != 0) ||
        (op.getInputForget() && *op.getInputForget() != 0) ||
        (op.getDirection() != "forward" && op.getDirection() != "reverse"))
      return rewriter.notifyMatchFailure(
          op, "only one direction, default activations");
    if (in.size() > 7 && in[7])
      return rewriter.notifyMatchFailure(op, "peepholes are not lowered");
    Value x = in[0];
    auto xt = tensorType(x);
    Type et = xt.getElementType();
    if (!isa<FloatType>(et))
      return failure();
    int64_t S = xt.getDimSize(0), B = xt.getDimSize(1), I = xt.getDimSize(2);
    int64_t H = op.getHiddenSizeAttr().getInt();
    if (in.size() > 4) {
      auto lens = constantInts(in[4]);
      if (!lens || llvm::any_of(*lens, [&](int64_t v) { return v != S; }))
        return rewriter.notifyMatchFailure(
            op, "sequence_lens must be the full length");
    }
    bool reverse = op.getDirection() == "reverse";
    Location loc = op.getLoc();
    auto ty = [&](ArrayRef<int64_t> shape) {
      return RankedTensorType::get(shape, et);
    };
    auto transposed = [&](Value w, int64_t cols) {
      Value m = reshapeTo(rewriter, loc, w, ty({4 * H, cols}));
      Value init = tensor::EmptyOp::create(rewriter, loc,
                                           ArrayRef<int64_t>{cols, 4 * H}, et);
      return linalg::TransposeOp::create(rewriter, loc, m, init,
                                         ArrayRef<int64_t>{1, 0})
          .getResult()[0];
    };
    Value wt = transposed(in[1], I), rt = transposed(in[2], H);
    Value bias;
    if (in.size() > 3) {
      Value b8 = reshapeTo(rewriter, loc, in[3], ty({8 * H}));
      auto half = [&](int64_t off) -> Value {
        return tensor::ExtractSliceOp::create(
            rewriter, loc, ty({4 * H}), b8,
            ArrayRef<OpFoldResult>{rewriter.getIndexAttr(off)},
            ArrayRef<OpFoldResult>{rewriter.getIndexAttr(4 * H)},
            ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
      };
      bias = broadcastGeneric(
          rewriter, loc, ty({4 * H}), ValueRange{half(0), half(4 * H)},
          [](OpBuilder &b, Location l, ValueRange a) -> Value {
            return arith::AddFOp::create(b, l, a[0], a[1]);
          });
    }
    auto state = [&](size_t k) -> Value {
      if (in.size() > k && in[k])
        return reshapeTo(rewriter, loc, in[k], ty({B, H}));
      return zeros(rewriter, loc, ty({B, H}));
    };
    Value h0 = state(5), c0 = state(6);
    Value y0 = zeros(rewriter, loc, ty({S, 1, B, H}));
    auto idx = [&](int64_t v) -> OpFoldResult {
      return rewriter.getIndexAttr(v);
    };
    auto loop = scf::ForOp::create(
        rewriter, loc, cindex(rewriter, loc, 0), cindex(rewriter, loc, S),
        cindex(rewriter, loc, 1), ValueRange{h0, c0, y0},
        [&](OpBuilder &b, Location l, Value step, ValueRange carried) {
          Value t = reverse ? Value(arith::SubIOp::create(
                                  b, l, cindex(b, l, S - 1), step))
                            : step;
          Value xs = tensor::ExtractSliceOp::create(
              b, l, ty({B, I}), x, ArrayRef<OpFoldResult>{t, idx(0), idx(0)},
              ArrayRef<OpFoldResult>{idx(1), idx(B), idx(I)},
              ArrayRef<OpFoldResult>{idx(1), idx(1), idx(1)});
          Value g =
              linalg::MatmulOp::create(b, l, ValueRange{xs, wt},
                                       ValueRange{zeros(b, l, ty({B, 4 * H}))})
                  .getResult(0);
          g = linalg::MatmulOp::create(b, l, ValueRange{carried[0], rt},
                                       ValueRange{g})
                  .getResult(0);
          if (bias)
            g = scaleAndAdd(b, l, g, 1.0, bias, 1.0);
          auto gate = [&](int64_t k) -> Value {
            return tensor::ExtractSliceOp::create(
                b, l, ty({B, H}), g, ArrayRef<OpFoldResult>{idx(0), idx(k * H)},
                ArrayRef<OpFoldResult>{idx(B), idx(H)},
                ArrayRef<OpFoldResult>{idx(1), idx(1)});
          };
          SmallVector<Value> ins = {gate(0), gate(1), gate(2), gate(3),
                                    carried[1]};
          auto sig = [&](OpBuilder &nb, Location nl, Value v) -> Value {
            Value e =
                math::ExpOp::create(nb, nl, arith::NegFOp::create(nb, nl, v));
            return arith::DivFOp::create(
                nb, nl, fconst(nb, nl, et, 1.0),
                arith::AddFOp::create(nb, nl, fconst(nb, nl, et, 1.0), e));
          };
          AffineMap id = b.getMultiDimIdentityMap(2);
          auto cell = linalg::GenericOp::create(
              b, l, TypeRange{ty({B, H}), ty({B, H})}, ins,
              ValueRange{
                  tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{B, H}, et),
                  tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{B, H}, et)},
              SmallVector<AffineMap>(7, id),
              SmallVector<utils::IteratorType>(2,
                                               utils::IteratorType::parallel),
              [&](OpBuilder &nb, Location nl, ValueRange a) {
                Value i = sig(nb, nl, a[0]), o = sig(nb, nl, a[1]),
                      f = sig(nb, nl, a[2]);
                Value cand = math::TanhOp::create(nb, nl, a[3]);
                Value c = arith::AddFOp::create(
                    nb, nl, arith::MulFOp::create(nb, nl, f, a[4]),
                    arith::MulFOp::create(nb, nl, i, cand));
                Value h = arith::MulFOp::create(
                    nb, nl, o, math::TanhOp::create(nb, nl, c));
                linalg::YieldOp::create(nb, nl, ValueRange{h, c});
              });
          Value h = cell.getResult(0), c = cell.getResult(1);
          Value y = tensor::InsertSliceOp::create(
              b, l, h, carried[2],
              ArrayRef<OpFoldResult>{t, idx(0), idx(0), idx(0)},
              ArrayRef<OpFoldResult>{idx(1), idx(1), idx(B), idx(H)},
              ArrayRef<OpFoldResult>{idx(1), idx(1), idx(1), idx(1)});
          scf::YieldOp::create(b, l, ValueRange{h, c, y});
        });
    SmallVector<Value> results;
    auto outs = op.getOutputs();
    if (outs.size() > 0)
      results.push_back(
          reshapeTo(rewriter, loc, loop.getResult(2), tensorType(outs[0])));
    if (outs.size() > 1)
      results.push_back(
          reshapeTo(rewriter, loc, loop.getResult(0), tensorType(outs[1])));
    if (outs.size() > 2)
      results.push_back(
          reshapeTo(rewriter, loc, loop.getResult(1), tensorType(outs[2])));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void qc::lowering::populateControlPatterns(RewritePatternSet &patterns) {
  patterns.add<IfLowering, ResizeLowering, LSTMLowering>(patterns.getContext());
  patterns.add<GeneralMatMulLowering>(patterns.getContext());
}
