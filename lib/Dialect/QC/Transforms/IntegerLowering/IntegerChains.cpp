//===- IntegerChains.cpp - elementwise and requantization chains ----------===//
//
// lower-quantized-to-integer between linear layers: Add, GlobalAveragePool
// and Concat of quantized tensors in integers, comparisons of requantized
// accumulators with constants on the accumulators, quantize(dequantize(x)) as
// qc.requantize, layout ops moved before the dequantization, and
// block-quantized constants no integer op took folded back to floats.
//
//===----------------------------------------------------------------------===//
#include "IntegerLowering.h"
#include "qc/Dialect/QC/Transforms/Constants.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Matchers.h"
#include <cmath>

using namespace mlir;
using namespace qc::integer;
using quant::QuantizedType;
using quant::UniformQuantizedPerAxisType;
using quant::UniformQuantizedType;

namespace {

/// Ops that only move elements (or take their max): they commute with any
/// non-decreasing per-tensor map, dequantization and quantization
/// included, so they run on integers. The second result of a MaxPool
/// (indices) must be unused.
bool movesElements(Operation *op) {
  if (auto resize = dyn_cast<qc::ResizeOp>(op))
    return resize.getMode() == "nearest" &&
           resize.getCoordinateTransformationMode() != "tf_crop_and_resize";
  if (!isa<qc::MaxPoolOp, qc::GlobalMaxPoolOp, qc::ReshapeOp, qc::FlattenOp,
           qc::TransposeOp, qc::SqueezeOp, qc::UnsqueezeOp>(op))
    return false;
  return op->getNumOperands() >= 1 &&
         (op->getNumResults() == 1 || op->getResult(1).use_empty());
}

/// `q` replaced by the int32 `acc` requantized with `scale` to q's type,
/// clamped to the activation's [lo, hi] as well.
LogicalResult replaceByRequantized(PatternRewriter &rw, qc::QuantizeOp q,
                                   Value acc, double scale,
                                   UniformQuantizedType yq, double actLo,
                                   double actHi) {
  auto [lo, hi] = clampRange(yq, actLo, actHi);
  FailureOr<Value> y = requantizeTo(
      rw, acc.getLoc(), acc, {scale}, 0, std::nullopt,
      storageTensorType(tensorTy(acc), yq), yq.getZeroPoint(), lo, hi);
  return replaceWithIntegers(rw, q, y);
}

/// Add of two quantized tensors: both requantized to s_y / 2^F in int32,
/// added, requantized to the result.
struct AddToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q,
                                PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    if (!yq)
      return failure();
    double actLo, actHi;
    auto add =
        peelActivation(q.getInput(), actLo, actHi).getDefiningOp<qc::AddOp>();
    if (!add)
      return failure();
    Value qa = dequantized(add.getA()), qb = dequantized(add.getB());
    if (!qa || !qb || !perTensor(qa) || !perTensor(qb))
      return failure();
    UniformQuantizedType aq = perTensor(qa), bq = perTensor(qb);
    double ra = aq.getScale() / yq.getScale(),
           rb = bq.getScale() / yq.getScale();
    // |x - zp| < 2^bits; keep each shifted term below 2^29.
    double bound = std::ldexp(1.0, std::max(aq.getStorageTypeIntegralWidth(),
                                            bq.getStorageTypeIntegralWidth()));
    int f = int(std::floor(
        std::log2(std::ldexp(1.0, 29) / (bound * std::max(ra, rb)))));
    f = std::clamp(f, 0, 20);
    Location loc = add.getLoc();
    int64_t i32min = INT32_MIN, i32max = INT32_MAX;
    // 8-bit terms with 21-bit multipliers: the product then fits int32 (the
    // lowering's i32 lanes), off by at most 2^-21 of a term below 2^29, i.e.
    // 2^(8-f) of an output step.
    auto term = [&](Value qv, UniformQuantizedType t,
                    double r) -> FailureOr<Value> {
      auto ty = RankedTensorType::get(tensorTy(qv).getShape(), rw.getI32Type());
      unsigned bits = t.getStorageTypeIntegralWidth() <= 8 ? 21 : 31;
      return requantizeTo(rw, loc, storageOf(rw, loc, qv), {std::ldexp(r, f)},
                          t.getZeroPoint(), std::nullopt, ty, 0, i32min,
                          i32max, bits);
    };
    FailureOr<Value> ta = term(qa, aq, ra), tb = term(qb, bq, rb);
    if (failed(ta) || failed(tb))
      return failure();
    auto sumTy =
        RankedTensorType::get(tensorTy(add.getC()).getShape(), rw.getI32Type());
    Value sum = qc::AddOp::create(rw, loc, sumTy, *ta, *tb);
    return replaceByRequantized(rw, q, sum, std::ldexp(1.0, -f), yq, actLo,
                                actHi);
  }
};

/// GlobalAveragePool: int32 sum over the spatial dims, requantized with
/// s_x / (n s_y) after subtracting n * zp_x.
struct GlobalAveragePoolToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q,
                                PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    auto pool = q.getInput().getDefiningOp<qc::GlobalAveragePoolOp>();
    if (!yq || !pool)
      return failure();
    Value qx = dequantized(pool.getX());
    if (!qx || !perTensor(qx))
      return failure();
    UniformQuantizedType xq = perTensor(qx);
    auto xTy = tensorTy(qx);
    if (!xTy.hasStaticShape())
      return failure();
    int64_t n = 1;
    SmallVector<int64_t> axes;
    for (int64_t d = 2; d < xTy.getRank(); ++d) {
      n *= xTy.getDimSize(d);
      axes.push_back(d);
    }
    if (n * ((int64_t(1) << xq.getStorageTypeIntegralWidth()) - 1) >
        INT32_MAX)
      return failure();
    Location loc = pool.getLoc();
    Value wide = qc::CastOp::create(
        rw, loc, RankedTensorType::get(xTy.getShape(), rw.getI32Type()),
        storageOf(rw, loc, qx));
    auto sumTy = RankedTensorType::get(tensorTy(pool.getY()).getShape(),
                                       rw.getI32Type());
    Value sum = qc::ReduceSumOp::create(rw, loc, sumTy, wide, axes, 1, 0);
    FailureOr<Value> y = requantizeTo(
        rw, loc, sum, {xq.getScale() / (double(n) * yq.getScale())},
        n * xq.getZeroPoint(), std::nullopt, storageTensorType(sumTy, yq),
        yq.getZeroPoint(), yq.getStorageTypeMin(), yq.getStorageTypeMax());
    return replaceWithIntegers(rw, q, y);
  }
};

/// quantize(act?(dequantize(x))) to other parameters: qc.requantize.
struct RequantizeQDQ : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q,
                                PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    double actLo, actHi;
    Value x = dequantized(peelActivation(q.getInput(), actLo, actHi));
    if (!yq || !x || !perTensor(x))
      return failure();
    if (x.getType() == q.getType() && std::isinf(actLo) && std::isinf(actHi))
      return failure(); // the folder's
    UniformQuantizedType xq = perTensor(x);
    auto [lo, hi] = clampRange(yq, actLo, actHi);
    FailureOr<Value> y = requantizeTo(
        rw, q.getLoc(), storageOf(rw, q.getLoc(), x),
        {xq.getScale() / yq.getScale()}, xq.getZeroPoint(), std::nullopt,
        storageTensorType(tensorTy(x), yq), yq.getZeroPoint(), lo, hi);
    return replaceWithIntegers(rw, q, y);
  }
};

/// A unary function between two quantizations, y = f(dequantize(x)) with
/// f a DAG of elementwise float ops whose only non-constant input is x
/// (HardSwish's x * clip(x + 3, 0, 6) / 6, GELU, Sigmoid, ...), becomes a
/// qc.table: f evaluated (in double) at each of x's 2^bits levels and
/// quantized to y's type (round half to even, saturated). The chain then
/// stays in integers, and a table after a product's requantization runs in
/// the kernel's epilogue (qc-lower-to-microkernels).
struct UnaryToTable : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  /// f(v) at the level whose dequantized value is `x`: none when some op on
  /// the way is not one qc::evaluateScalar knows, not elementwise of x's
  /// shape, or reads another non-constant value.
  static std::optional<double> eval(Value v, Value leaf,
                                    ArrayRef<int64_t> shape, double x) {
    if (v == leaf)
      return x;
    if (std::optional<float> c = splatValue(v))
      return double(*c);
    Operation *op = v.getDefiningOp();
    if (!op || op->getNumResults() != 1 || tensorTy(v).getShape() != shape)
      return std::nullopt;
    SmallVector<double, 3> a;
    for (Value operand : op->getOperands()) {
      std::optional<double> r = eval(operand, leaf, shape, x);
      if (!r)
        return std::nullopt;
      a.push_back(*r);
    }
    return qc::evaluateScalar(op, a);
  }

  /// The dequantized value the DAG under `v` reads (the first one found).
  static Value findLeaf(Value v, int depth = 0) {
    if (dequantized(v))
      return v;
    Operation *op = v.getDefiningOp();
    if (!op || depth > 16)
      return nullptr;
    for (Value operand : op->getOperands())
      if (Value leaf = findLeaf(operand, depth + 1))
        return leaf;
    return nullptr;
  }

  LogicalResult matchAndRewrite(qc::QuantizeOp q,
                                PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    // quantize(move(f(x))) = move(quantize(f(x))) for the ops that move
    // elements or take their max (quantization is non-decreasing), whatever
    // f is: they then run on the table's integers.
    Value fx = q.getInput();
    SmallVector<Operation *> moves;
    while (Operation *def = fx.getDefiningOp()) {
      if (!movesElements(def) || !def->getResult(0).hasOneUse())
        break;
      moves.push_back(def);
      fx = def->getOperand(0);
    }
    if (!yq || dequantized(fx))
      return failure();
    Value leaf = findLeaf(fx);
    Value x = leaf ? dequantized(leaf) : Value();
    UniformQuantizedType xq = x ? perTensor(x) : nullptr;
    if (!xq || xq.getStorageTypeIntegralWidth() > 8 ||
        !tensorTy(x).hasStaticShape())
      return failure();
    // A Relu or Clip alone is a requantization's clamp (RequantizeQDQ).
    double actLo, actHi;
    if (dequantized(peelActivation(fx, actLo, actHi)))
      return failure();
    unsigned bits = xq.getStorageTypeIntegralWidth();
    int64_t levels = int64_t(1) << bits;
    int64_t base = xq.isSigned() ? -(levels / 2) : 0;
    ArrayRef<int64_t> shape = tensorTy(leaf).getShape();
    SmallVector<int32_t> table;
    for (int64_t i = 0; i < levels; ++i) {
      int64_t level = std::clamp<int64_t>(base + i, xq.getStorageTypeMin(),
                                          xq.getStorageTypeMax());
      std::optional<double> y =
          eval(fx, leaf, shape,
               double(level - xq.getZeroPoint()) * xq.getScale());
      if (!y)
        return rw.notifyMatchFailure(q, "not a unary function of one input");
      double r = std::nearbyint(*y / yq.getScale());
      double lo = yq.getStorageTypeMin(), hi = yq.getStorageTypeMax();
      r = std::isnan(r) ? lo : std::clamp(r + yq.getZeroPoint(), lo, hi);
      table.push_back(int32_t(r));
    }
    Location loc = q.getLoc();
    Value ints = qc::TableOp::create(
        rw, loc, storageTensorType(tensorTy(leaf), yq),
        storageOf(rw, loc, x), rw.getDenseI32ArrayAttr(table));
    for (Operation *op : llvm::reverse(moves))
      ints = cloneOnIntegers(rw, op, ints, yq)->getResult(0);
    return replaceWithIntegers(rw, q, ints);
  }
};

/// Mul of two quantized tensors (numpy broadcasting), each side either a
/// dequantized tensor or a unary function of one (a squeeze-excitation's
/// HardSigmoid gate): y = s_a s_b (a - zp_a)(b - zp_b) / s_y + zp_y for
/// plain sides. A plain side enters as its centered integers (a - zp_a);
/// a side with a function as a qc.table of its values in fixed point,
/// round(g(level) 2^F) in int32 (the smaller side too when both are plain,
/// which saves its subtraction), with the other scales folded in: the int32
/// product's requantization is a rounding shift.
struct MulToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  /// One side: its quantized input and, when it is not a plain
  /// dequantization, the value the DAG computes (evaluated per level).
  struct Side {
    Value x, leaf, value;
    UniformQuantizedType q;
    bool plain;
    int64_t elements;
  };

  static std::optional<Side> sideOf(Value v) {
    Side s;
    s.value = v;
    if (Value x = dequantized(v)) {
      s.x = x;
      s.leaf = v;
      s.plain = true;
    } else {
      s.leaf = UnaryToTable::findLeaf(v);
      s.x = s.leaf ? dequantized(s.leaf) : Value();
      s.plain = false;
    }
    s.q = s.x ? perTensor(s.x) : nullptr;
    if (!s.q || s.q.getStorageTypeIntegralWidth() > 8 ||
        !tensorTy(s.x).hasStaticShape() || !tensorTy(v).hasStaticShape() ||
        tensorTy(v).getShape() != tensorTy(s.leaf).getShape())
      return std::nullopt;
    s.elements = tensorTy(v).getNumElements();
    return s;
  }

  /// The side's value at each level of its input; none when the DAG is
  /// not a unary function of it.
  static std::optional<std::vector<double>> values(const Side &s) {
    unsigned bits = s.q.getStorageTypeIntegralWidth();
    int64_t levels = int64_t(1) << bits;
    int64_t base = s.q.isSigned() ? -(levels / 2) : 0;
    std::vector<double> out;
    for (int64_t i = 0; i < levels; ++i) {
      int64_t level = std::clamp<int64_t>(base + i, s.q.getStorageTypeMin(),
                                          s.q.getStorageTypeMax());
      double x = double(level - s.q.getZeroPoint()) * s.q.getScale();
      std::optional<double> y =
          s.plain ? std::optional<double>(x)
                  : UnaryToTable::eval(s.value, s.leaf,
                                       tensorTy(s.leaf).getShape(), x);
      if (!y || !std::isfinite(*y))
        return std::nullopt;
      out.push_back(*y);
    }
    return out;
  }

  LogicalResult matchAndRewrite(qc::QuantizeOp q,
                                PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    double actLo, actHi;
    auto mul =
        peelActivation(q.getInput(), actLo, actHi).getDefiningOp<qc::MulOp>();
    if (!yq || !mul || !tensorTy(mul.getC()).hasStaticShape())
      return failure();
    std::optional<Side> a = sideOf(mul.getA()), b = sideOf(mul.getB());
    // One leaf on both sides is a unary function (UnaryToTable's).
    if (!a || !b || a->x == b->x)
      return failure();
    // Which sides become tables: those with a function, and the smaller
    // one when both are plain.
    bool tabA = !a->plain, tabB = !b->plain;
    if (!tabA && !tabB)
      (a->elements < b->elements ? tabA : tabB) = true;
    std::optional<std::vector<double>> va, vb;
    if (tabA && !(va = values(*a)))
      return rw.notifyMatchFailure(q, "not a unary function of one input");
    if (tabB && !(vb = values(*b)))
      return rw.notifyMatchFailure(q, "not a unary function of one input");
    // The other factors of y = A B / s_y go into B's table (A's when B is
    // plain): B' = B s_a / s_y, or B / s_y with A a table too. Each table
    // is in fixed point with F bits, its largest magnitude times 2^F below
    // 2^22 (2^14 when both are tables), so that the product stays below
    // 2^30 (a centered 8-bit side is at most 255) and its requantization is
    // the shift by F_a + F_b, which runs in i32 lanes.
    bool intoB = tabB;
    auto rescale = [&](std::optional<std::vector<double>> &v, double f) {
      for (double &x : *v)
        x *= f;
    };
    double other = intoB ? (tabA ? 1.0 : a->q.getScale())
                         : (tabB ? 1.0 : b->q.getScale());
    rescale(intoB ? vb : va, other / yq.getScale());
    auto fracBits = [&](const std::vector<double> &v) {
      double peak = 0;
      for (double x : v)
        peak = std::max(peak, std::fabs(x));
      int limit = tabA && tabB ? 14 : 22;
      return peak > 0 ? int(std::floor(limit - std::log2(peak))) : 0;
    };
    // At most 30 bits in all (the shift's i32 form); at least 10 for one
    // table (its rounding moves y by at most 255 / 2^11 of a step) and 6
    // each for two.
    int cap = tabA && tabB ? 15 : 28, least = tabA && tabB ? 6 : 10;
    int fa = va ? std::min(fracBits(*va), cap) : 0,
        fb = vb ? std::min(fracBits(*vb), cap) : 0;
    if ((va && fa < least) || (vb && fb < least))
      return rw.notifyMatchFailure(q, "the factor's values are too large");
    double scale = std::ldexp(1.0, -(fa + fb));
    SmallVector<int32_t> m, sh;
    if (failed(dyadics({scale}, m, sh)))
      return rw.notifyMatchFailure(q, "the product's scale has no dyadic form");
    Location loc = mul.getLoc();
    auto i32Of = [&](Value v) {
      return RankedTensorType::get(tensorTy(v).getShape(), rw.getI32Type());
    };
    auto term = [&](const Side &s, const std::optional<std::vector<double>> &v,
                    int f) -> Value {
      Value ints = storageOf(rw, loc, s.x);
      if (v) {
        SmallVector<int32_t> t;
        for (double x : *v)
          t.push_back(int32_t(std::nearbyint(std::ldexp(x, f))));
        return qc::TableOp::create(rw, loc, i32Of(s.x), ints,
                                   rw.getDenseI32ArrayAttr(t));
      }
      Value wide = qc::CastOp::create(rw, loc, i32Of(s.x), ints);
      Value zp = arith::ConstantOp::create(
          rw, loc,
          DenseIntElementsAttr::get(RankedTensorType::get({}, rw.getI32Type()),
                                    ArrayRef<int32_t>{int32_t(
                                        s.q.getZeroPoint())}));
      return qc::SubOp::create(rw, loc, i32Of(s.x), wide, zp);
    };
    Value ta = term(*a, va, fa), tb = term(*b, vb, fb);
    auto prodTy = i32Of(mul.getC());
    Value prod = qc::MulOp::create(rw, loc, prodTy, ta, tb);
    return replaceByRequantized(rw, q, prod, scale, yq, actLo, actHi);
  }
};

/// table(move(x)) = move(table(x)) for a move whose result only the table
/// reads: the table then meets the requantization that produced x (and
/// fuses into its kernel), and reshape pairs around it fold.
struct TableBeforeMoves : OpRewritePattern<qc::TableOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::TableOp table,
                                PatternRewriter &rw) const override {
    Operation *move = table.getInput().getDefiningOp();
    if (!move || !isa<qc::ReshapeOp, qc::FlattenOp, qc::TransposeOp,
                      qc::SqueezeOp, qc::UnsqueezeOp>(move) ||
        !move->hasOneUse())
      return failure();
    Value x = move->getOperand(0);
    auto inTy = tensorTy(x);
    auto outElt = tensorTy(table.getOutput()).getElementType();
    Value t = qc::TableOp::create(
        rw, table.getLoc(), RankedTensorType::get(inTy.getShape(), outElt), x,
        table.getTableAttr());
    Operation *moved = rw.clone(*move);
    rw.modifyOpInPlace(moved, [&] {
      moved->setOperand(0, t);
      moved->getResult(0).setType(table.getType());
    });
    rw.replaceOp(table, moved->getResult(0));
    return success();
  }
};

/// A comparison of a requantized accumulator with a constant (the sign or
/// threshold before a binary layer, `x >= 0`): compared on the int32
/// accumulator against a threshold per channel, so that values the
/// requantization would round onto the constant keep the side the float
/// model puts them on. With v = s_y * m[c] * (acc - zp_in) the value the
/// requantization approximates (m = multiplier / 2^shift), `v >= t` is
/// `acc >= zp_in + ceil(t / (s_y m[c]))`, `v > t` is
/// `acc >= zp_in + floor(t / (s_y m[c])) + 1`, and `<`, `<=` their
/// negations.
struct CompareAccumulator : RewritePattern {
  CompareAccumulator(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rw) const override {
    bool ge = isa<qc::GreaterOrEqualOp>(op), gt = isa<qc::GreaterOp>(op),
         lt = isa<qc::LessOp>(op), le = isa<qc::LessOrEqualOp>(op);
    if (!ge && !gt && !lt && !le)
      return failure();
    Value q = dequantized(op->getOperand(0));
    UniformQuantizedType yq = q ? perTensor(q) : nullptr;
    auto cast = q ? q.getDefiningOp<qc::StorageCastOp>() : nullptr;
    auto rq = cast ? cast.getInput().getDefiningOp<qc::RequantizeOp>()
                   : nullptr;
    DenseElementsAttr c;
    if (!yq || !rq || !matchPattern(op->getOperand(1), m_Constant(&c)) ||
        !c.isSplat() || !isa<FloatType>(c.getElementType()))
      return failure();
    Value acc = rq.getInput();
    auto accTy = tensorTy(acc);
    auto outTy = tensorTy(op->getResult(0));
    if (!accTy.getElementType().isInteger(32) ||
        outTy.getShape() != accTy.getShape())
      return failure();
    double t = c.getSplatValue<APFloat>().convertToDouble();
    ArrayRef<int32_t> mult = rq.getMultiplier(), shift = rq.getShift();
    SmallVector<int32_t> thresholds;
    for (size_t i = 0; i < mult.size(); ++i) {
      double m = std::ldexp(double(mult[i]), -shift[i]);
      if (!(m > 0) || !std::isfinite(t))
        return failure();
      double x = t / (yq.getScale() * m);
      double bound = rq.getInputZp() + ((ge || lt) ? std::ceil(x)
                                                    : std::floor(x) + 1);
      if (!(bound >= INT32_MIN && bound <= INT32_MAX))
        return failure();
      thresholds.push_back(int32_t(bound));
    }
    SmallVector<int64_t> thrShape;
    if (llvm::all_equal(thresholds))
      thresholds.resize(1);
    if (thresholds.size() > 1) {
      if (!rq.getAxis())
        return failure();
      thrShape.assign(accTy.getRank(), 1);
      thrShape[*rq.getAxis()] = int64_t(thresholds.size());
    }
    auto thrTy = RankedTensorType::get(thrShape, rw.getI32Type());
    Value thr = arith::ConstantOp::create(
        rw, op->getLoc(), DenseElementsAttr::get(thrTy, ArrayRef(thresholds)));
    Value cmp = (ge || gt) ? qc::GreaterOrEqualOp::create(rw, op->getLoc(),
                                                          outTy, acc, thr)
                                 .getResult()
                           : qc::LessOp::create(rw, op->getLoc(), outTy, acc,
                                                thr)
                                 .getResult();
    rw.replaceOp(op, cmp);
    return success();
  }
};

/// The quantization of a Where between two constants on a comparison of
/// an int32 accumulator with one threshold T (what CompareAccumulator
/// makes of a sign before a binary layer): a step function, which is a
/// qc.requantize with shift 0. With h and l the levels of acc >= T and
/// acc < T (h > l), y = clamp(h + (acc - T) (h - l), l, h) is h from T up
/// and at most l below it. It then fuses into the product's kernel, whose
/// epilogue writes the two levels directly. Max pooling and reshapes on
/// the way to the quantization move onto the step's integers (a rising
/// step commutes with max).
struct ThresholdToRequantize : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q,
                                PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    // Max pooling and reshapes between the Where and the quantization
    // commute with a rising step: they run on its integers.
    SmallVector<Operation *> moves;
    Value v = q.getInput();
    while (Operation *def = v.getDefiningOp()) {
      if (!movesElements(def))
        break;
      moves.push_back(def);
      v = def->getOperand(0);
    }
    auto where = v.getDefiningOp<qc::WhereOp>();
    if (!yq || !where)
      return failure();
    Operation *cmp = where.getCondition().getDefiningOp();
    if (!isa_and_nonnull<qc::GreaterOrEqualOp, qc::LessOp>(cmp))
      return failure();
    Value acc = cmp->getOperand(0);
    DenseElementsAttr thr;
    if (!tensorTy(acc).getElementType().isInteger(32) ||
        !matchPattern(cmp->getOperand(1), m_Constant(&thr)) ||
        !thr.isSplat() ||
        tensorTy(acc).getShape() != tensorTy(where.getResult()).getShape())
      return failure();
    int64_t t = thr.getSplatValue<APInt>().getSExtValue();
    std::optional<int64_t> x = constantLevel(where.getX(), yq),
                           y0 = constantLevel(where.getY(), yq);
    if (!x || !y0)
      return failure();
    bool ge = isa<qc::GreaterOrEqualOp>(cmp);
    int64_t h = ge ? *x : *y0, l = ge ? *y0 : *x;
    if (h <= l) // a falling step needs a negative multiplier
      return failure();
    Value y = qc::RequantizeOp::create(
        rw, q.getLoc(), storageTensorType(tensorTy(acc), yq), acc,
        rw.getDenseI32ArrayAttr({int32_t(h - l)}),
        rw.getDenseI32ArrayAttr({0}), IntegerAttr(), rw.getI32IntegerAttr(t),
        rw.getI32IntegerAttr(h), rw.getI64IntegerAttr(l),
        rw.getI64IntegerAttr(h));
    for (Operation *op : llvm::reverse(moves))
      y = cloneOnIntegers(rw, op, y, yq)->getResult(0);
    rw.replaceOpWithNewOp<qc::StorageCastOp>(q, q.getType(), y);
    return success();
  }
};

/// Concat of quantized tensors: each requantized to the result's type.
struct ConcatToInteger : OpRewritePattern<qc::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeOp q,
                                PatternRewriter &rw) const override {
    UniformQuantizedType yq = perTensor(q.getOutput());
    auto concat = q.getInput().getDefiningOp<qc::ConcatOp>();
    if (!yq || !concat)
      return failure();
    // Every input must come dequantized per tensor before anything is
    // created: a pattern that fails must leave the IR as it found it.
    if (!llvm::all_of(concat.getInputs(), [](Value in) {
          Value x = dequantized(in);
          return x && perTensor(x);
        }))
      return failure();
    SmallVector<Value> ints;
    for (Value in : concat.getInputs()) {
      Value x = dequantized(in);
      auto qTy = RankedTensorType::get(tensorTy(x).getShape(), yq);
      Value requant =
          x.getType() == qTy
              ? x
              : qc::QuantizeOp::create(
                    rw, q.getLoc(), qTy,
                    qc::DequantizeOp::create(rw, q.getLoc(), tensorTy(in), x));
      ints.push_back(storageOf(rw, q.getLoc(), requant));
    }
    Value y = qc::ConcatOp::create(
        rw, concat.getLoc(),
        storageTensorType(tensorTy(concat.getResult()), yq), ints,
        concat.getAxis());
    rw.replaceOpWithNewOp<qc::StorageCastOp>(q, q.getType(), y);
    return success();
  }
};

/// Ops that commute with per-tensor dequantization run on the integers
/// (layout ops, max pooling, nearest resizing).
struct DequantizeLater : RewritePattern {
  DequantizeLater(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rw) const override {
    if (!movesElements(op))
      return failure();
    Value x = dequantized(op->getOperand(0));
    if (!x || !perTensor(x))
      return failure();
    UniformQuantizedType xq = perTensor(x);
    auto resTy = tensorTy(op->getResult(0));
    Operation *clone =
        cloneOnIntegers(rw, op, storageOf(rw, op->getLoc(), x), xq);
    Value qy = qc::StorageCastOp::create(
        rw, op->getLoc(), RankedTensorType::get(resTy.getShape(), xq),
        clone->getResult(0));
    Value y = qc::DequantizeOp::create(rw, op->getLoc(), resTy, qy);
    SmallVector<Value> repl{y};
    for (unsigned i = 1; i < op->getNumResults(); ++i)
      repl.push_back(clone->getResult(i));
    rw.replaceOp(op, repl);
    return success();
  }
};

/// dequantize(storage_cast(integer constant)) with per-block scales, folded
/// to the f32 constant it computes.
struct DequantizeBlockedConstant : OpRewritePattern<qc::DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::DequantizeOp dq,
                                PatternRewriter &rw) const override {
    if (!isa<quant::UniformQuantizedSubChannelType>(
            tensorTy(dq->getOperand(0)).getElementType()))
      return failure();
    std::optional<std::vector<float>> values = dequantizedConstant(dq);
    if (!values)
      return failure();
    rw.replaceOp(dq, qc::createBlobConstant(rw, dq.getLoc(),
                                            tensorTy(dq.getResult()), *values,
                                            "weight_dequantized"));
    return success();
  }
};

} // namespace

void qc::integer::populateIntegerChainPatterns(RewritePatternSet &patterns) {
  patterns.add<AddToInteger, GlobalAveragePoolToInteger, ConcatToInteger,
               DequantizeLater, CompareAccumulator, ThresholdToRequantize,
               UnaryToTable, TableBeforeMoves, MulToInteger>(
      patterns.getContext());
}

void qc::integer::populateRequantizePatterns(RewritePatternSet &patterns,
                                             PatternBenefit benefit) {
  patterns.add<RequantizeQDQ>(patterns.getContext(), benefit);
}

void qc::integer::populateBlockedWeightPatterns(RewritePatternSet &patterns) {
  patterns.add<DequantizeBlockedConstant>(patterns.getContext());
}
