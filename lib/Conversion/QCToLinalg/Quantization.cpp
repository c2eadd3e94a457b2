//===- Quantization.cpp - ONNX quantization ops with run-time parameters --===//
//
// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger,
// ConvInteger, QLinearMatMul and QLinearConv in their ONNX form, where scales
// and zero points are tensors known only at run time (with constant ones the
// importer produces qc.quantize / qc.conv_int / ... instead). They follow the
// ONNX reference: integer products of zero-point-shifted operands accumulated
// in int32 (through qc.matmul / qc.conv on i32, lowered by their own
// patterns), requantized as saturate(round_half_even(acc * scale) + zp).
//
// Scales and zero points are scalars (rank 0 or one element) or 1-d tensors
// along one dim of the tensor they describe ("per axis").
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace qc::lowering;

namespace {

/// A parameter read per element of a tensor of rank `rank`: `dim` is the dim
/// it runs along, or -1 for a scalar.
struct Param {
  Value value;
  int64_t dim = -1;
  bool isUnsigned = false;
};

/// `v` as a parameter of a tensor along `axis`; one with a single element
/// (rank 0 or 1) is a scalar, read at index 0 everywhere.
Param param(Value v, int64_t axis, bool isUnsigned = false) {
  if (!v)
    return {};
  return {v, tensorType(v).getNumElements() == 1 ? -1 : axis, isUnsigned};
}

/// Whether `p` fits a tensor of `shape`: a scalar, or 1-d with shape[dim]
/// entries.
bool fits(const Param &p, ArrayRef<int64_t> shape) {
  if (!p.value)
    return true;
  auto t = tensorType(p.value);
  if (p.dim < 0)
    return t.getNumElements() == 1;
  return t.getRank() == 1 && p.dim < int64_t(shape.size()) &&
         t.getDimSize(0) == shape[p.dim];
}

/// The map reading `p` inside an iteration space of `rank` dims.
AffineMap paramMap(const Param &p, int64_t rank, MLIRContext *ctx) {
  auto t = tensorType(p.value);
  SmallVector<AffineExpr> exprs;
  if (p.dim >= 0)
    exprs.push_back(getAffineDimExpr(p.dim, ctx));
  else
    for (int64_t d = 0; d < t.getRank(); ++d)
      exprs.push_back(getAffineConstantExpr(0, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// One parallel generic over `resultTy`: `full` is read with the identity map,
/// each present parameter with its map; `body` gets them in that order (absent
/// parameters as null values).
Value paramGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultTy, Value full,
    ArrayRef<Param> params,
    function_ref<Value(OpBuilder &, Location, Value, ArrayRef<Value>)> body) {
  int64_t rank = resultTy.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  if (full) {
    ins.push_back(full);
    maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  }
  for (const Param &p : params)
    if (p.value) {
      ins.push_back(p.value);
      maps.push_back(paramMap(p, rank, ctx));
    }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = tensor::EmptyOp::create(b, loc, resultTy.getShape(),
                                       resultTy.getElementType());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, resultTy, ins, ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               unsigned k = 0;
               Value x = full ? args[k++] : Value();
               SmallVector<Value> ps;
               for (const Param &p : params)
                 ps.push_back(p.value ? args[k++] : Value());
               linalg::YieldOp::create(nb, l, body(nb, l, x, ps));
             })
      .getResult(0);
}

/// The range of an integer type.
std::pair<double, double> intRange(Type t, bool isUnsigned) {
  unsigned w = t.getIntOrFloatBitWidth();
  if (isUnsigned)
    return {0.0, std::ldexp(1.0, w) - 1};
  return {-std::ldexp(1.0, w - 1), std::ldexp(1.0, w - 1) - 1};
}

/// saturate(round_half_even(v) + zp) to `to` (v and the result of the
/// additions in float type of v).
Value quantizeScalar(OpBuilder &b, Location l, Value v, Value zp,
                     bool zpUnsigned, Type to, bool toUnsigned) {
  Type ft = v.getType();
  v = math::RoundEvenOp::create(b, l, v);
  if (zp)
    v = arith::AddFOp::create(b, l, v, convertScalar(b, l, zp, ft, zpUnsigned));
  auto [lo, hi] = intRange(to, toUnsigned);
  v = arith::MaximumFOp::create(b, l, v, fconst(b, l, ft, lo));
  v = arith::MinimumFOp::create(b, l, v, fconst(b, l, ft, hi));
  return convertScalar(b, l, v, to, false, toUnsigned);
}

/// `x` widened to i32 minus its zero point (per axis), as a new tensor.
Value shiftedI32(OpBuilder &b, Location loc, Value x, bool xUnsigned,
                 const Param &zp) {
  auto t = tensorType(x);
  auto ty = RankedTensorType::get(t.getShape(), b.getI32Type());
  return paramGeneric(
      b, loc, ty, x, {zp},
      [&](OpBuilder &nb, Location l, Value v, ArrayRef<Value> p) -> Value {
        Value r = convertScalar(nb, l, v, nb.getI32Type(), xUnsigned);
        if (p[0])
          r = arith::SubIOp::create(
              nb, l, r,
              convertScalar(nb, l, p[0], nb.getI32Type(), zp.isUnsigned));
        return r;
      });
}

/// The op's operands (the ONNX inputs, trailing omitted ones absent).
Value input(Operation *op, unsigned i) {
  return i < op->getNumOperands() ? op->getOperand(i) : Value();
}

int64_t axisOf(Operation *op, int64_t rank, int64_t dflt = 1) {
  auto a = op->getAttrOfType<IntegerAttr>("axis");
  return normAxis(a ? a.getInt() : dflt, rank);
}

/// The scale (operand 1) and zero point (operand 2) of a Quantize- or
/// DequantizeLinear of a tensor of `shape`, along the op's axis; none when
/// either is neither a scalar nor one value per entry of that axis.
std::optional<std::pair<Param, Param>>
scaleAndZeroPoint(Operation *op, ArrayRef<int64_t> shape) {
  int64_t axis = axisOf(op, shape.size());
  Param scale = param(input(op, 1), axis);
  Param zp = param(input(op, 2), axis, wasUnsigned(op, 2));
  if (!fits(scale, shape) || !fits(zp, shape))
    return std::nullopt;
  return std::make_pair(scale, zp);
}

bool integerTensor(Value v) {
  return v && isa<IntegerType>(tensorType(v).getElementType());
}
bool floatTensor(Value v) {
  return v && isa<FloatType>(tensorType(v).getElementType());
}

/// QuantizeLinear: y = saturate(round(x / scale) + zero_point).
struct QuantizeLinearLowering : OpRewritePattern<qc::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QuantizeLinearOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Value x = input(op, 0);
    auto yTy = tensorType(op.getOutput());
    if (!floatTensor(x) || !floatTensor(input(op, 1)) ||
        !integerTensor(op.getOutput()))
      return rw.notifyMatchFailure(op, "float to integer quantization only");
    auto params = scaleAndZeroPoint(op, tensorType(x).getShape());
    if (!params)
      return rw.notifyMatchFailure(
          op, "scale / zero point neither scalar nor per axis");
    Param scale = params->first, zp = params->second;
    bool yUnsigned = wasUnsigned(op, op->getNumOperands());
    Type yt = yTy.getElementType();
    rw.replaceOp(
        op,
        paramGeneric(rw, op.getLoc(), yTy, x, {scale, zp},
                     [&](OpBuilder &b, Location l, Value v, ArrayRef<Value> p) {
                       Type ft = b.getF32Type();
                       Value q = arith::DivFOp::create(
                           b, l, convertScalar(b, l, v, ft),
                           convertScalar(b, l, p[0], ft));
                       return quantizeScalar(b, l, q, p[1], zp.isUnsigned, yt,
                                             yUnsigned);
                     }));
    return success();
  }
};

/// DequantizeLinear: y = (x - zero_point) * scale.
struct DequantizeLinearLowering : OpRewritePattern<qc::DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::DequantizeLinearOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Value x = input(op, 0);
    if (!integerTensor(x) || !floatTensor(input(op, 1)) ||
        !floatTensor(op.getOutput()))
      return rw.notifyMatchFailure(op, "integer to float dequantization only");
    auto params = scaleAndZeroPoint(op, tensorType(x).getShape());
    if (!params)
      return rw.notifyMatchFailure(
          op, "scale / zero point neither scalar nor per axis");
    Param scale = params->first, zp = params->second;
    bool xUnsigned = wasUnsigned(op, 0);
    auto yTy = tensorType(op.getOutput());
    rw.replaceOp(
        op, paramGeneric(
                rw, op.getLoc(), yTy, x, {scale, zp},
                [&](OpBuilder &b, Location l, Value v, ArrayRef<Value> p) {
                  Type ft = yTy.getElementType();
                  Value r = convertScalar(b, l, v, ft, xUnsigned);
                  if (p[1])
                    r = arith::SubFOp::create(
                        b, l, r, convertScalar(b, l, p[1], ft, zp.isUnsigned));
                  return arith::MulFOp::create(b, l, r,
                                               convertScalar(b, l, p[0], ft));
                }));
    return success();
  }
};

/// Reduces all of `x` with `combine` from `init` into a rank-0 tensor.
Value reduceAll(
    OpBuilder &b, Location loc, Value x, Value init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto t = tensorType(x);
  auto outTy = RankedTensorType::get({}, init.getType());
  Value acc = filled(b, loc, outTy, init);
  int64_t rank = t.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             b, loc, outTy, ValueRange{x}, ValueRange{acc},
             SmallVector<AffineMap>{
                 AffineMap::getMultiDimIdentityMap(rank, ctx),
                 AffineMap::get(rank, 0, {}, ctx)},
             iters,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, combine(nb, l, a[0], a[1]));
             })
      .getResult(0);
}

/// DynamicQuantizeLinear: uint8 with scale (max(0, max x) - min(0, min x)) /
/// 255 (1 when that range is 0) and zero point saturate(round(-min / scale)).
struct DynamicQuantizeLinearLowering
    : OpRewritePattern<qc::DynamicQuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::DynamicQuantizeLinearOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true) || !floatTensor(op.getX()))
      return failure();
    Location loc = op.getLoc();
    Value x = op.getX();
    Type ft = tensorType(x).getElementType();
    Value mn =
        reduceAll(rw, loc, x, fconst(rw, loc, ft, 0.0),
                  [](OpBuilder &b, Location l, Value v, Value acc) -> Value {
                    return arith::MinimumFOp::create(b, l, v, acc);
                  });
    Value mx =
        reduceAll(rw, loc, x, fconst(rw, loc, ft, 0.0),
                  [](OpBuilder &b, Location l, Value v, Value acc) -> Value {
                    return arith::MaximumFOp::create(b, l, v, acc);
                  });
    auto scaleTy = tensorType(op.getYScale());
    auto zpTy = tensorType(op.getYZeroPoint());
    Type u8 = zpTy.getElementType();
    auto scalarTy = RankedTensorType::get({}, ft);
    Value scale0 = broadcastGeneric(
        rw, loc, scalarTy, ValueRange{mn, mx},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          // all zeros: scale 1 (as ONNX Runtime), not 0
          Value range = arith::SubFOp::create(b, l, a[1], a[0]);
          Value zero = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                             range, fconst(b, l, ft, 0.0));
          return arith::SelectOp::create(
              b, l, zero, fconst(b, l, ft, 1.0),
              arith::DivFOp::create(b, l, range, fconst(b, l, ft, 255.0)));
        });
    Value zp0 = broadcastGeneric(
        rw, loc, RankedTensorType::get({}, u8), ValueRange{mn, scale0},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value z = arith::NegFOp::create(
              b, l, arith::DivFOp::create(b, l, a[0], a[1]));
          return quantizeScalar(b, l, z, Value(), false, u8, true);
        });
    Value y = paramGeneric(
        rw, loc, tensorType(op.getY()), x,
        {Param{scale0, -1}, Param{zp0, -1, true}},
        [&](OpBuilder &b, Location l, Value v, ArrayRef<Value> p) {
          return quantizeScalar(b, l, arith::DivFOp::create(b, l, v, p[0]),
                                p[1], true, u8, true);
        });
    rw.replaceOp(op, {y, reshapeTo(rw, loc, scale0, scaleTy),
                      reshapeTo(rw, loc, zp0, zpTy)});
    return success();
  }
};

/// (a - a_zp) x (b - b_zp) in int32 through qc.matmul on i32 tensors: a_zp
/// is a scalar or one per row of a, b_zp a scalar or one per column of b.
FailureOr<Value> integerMatMul(PatternRewriter &rw, Operation *op, unsigned ia,
                               unsigned iazp, unsigned ib, unsigned ibzp) {
  Value a = input(op, ia), b = input(op, ib);
  if (!integerTensor(a) || !integerTensor(b))
    return failure();
  ArrayRef<int64_t> as = tensorType(a).getShape(),
                    bs = tensorType(b).getShape();
  if (as.size() < 2 || bs.size() < 2)
    return failure();
  Param azp = param(input(op, iazp), as.size() - 2, wasUnsigned(op, iazp));
  Param bzp = param(input(op, ibzp), bs.size() - 1, wasUnsigned(op, ibzp));
  if (!fits(azp, as) || !fits(bzp, bs))
    return failure();
  Location loc = op->getLoc();
  Value ai = shiftedI32(rw, loc, a, wasUnsigned(op, ia), azp);
  Value bi = shiftedI32(rw, loc, b, wasUnsigned(op, ib), bzp);
  auto outShape = tensorType(op->getResult(0)).getShape();
  auto accTy = RankedTensorType::get(outShape, rw.getI32Type());
  return qc::MatMulOp::create(rw, loc, accTy, ai, bi).getResult();
}

/// ConvInteger's core: conv of (x - x_zp) and (w - w_zp) in int32 through
/// qc.conv on i32 tensors (padding is 0 after the shift, as in the ONNX
/// reference); w_zp is a scalar or one per output channel.
FailureOr<Value> integerConv(PatternRewriter &rw, Operation *op, unsigned ix,
                             unsigned ixzp, unsigned iw, unsigned iwzp) {
  Value x = input(op, ix), w = input(op, iw);
  if (!integerTensor(x) || !integerTensor(w))
    return failure();
  ArrayRef<int64_t> xs = tensorType(x).getShape(),
                    ws = tensorType(w).getShape();
  Param xzp = param(input(op, ixzp), -1, wasUnsigned(op, ixzp));
  Param wzp = param(input(op, iwzp), 0, wasUnsigned(op, iwzp));
  if (!fits(xzp, xs) || !fits(wzp, ws))
    return failure();
  Location loc = op->getLoc();
  Value xi = shiftedI32(rw, loc, x, wasUnsigned(op, ix), xzp);
  Value wi = shiftedI32(rw, loc, w, wasUnsigned(op, iw), wzp);
  auto accTy = RankedTensorType::get(tensorType(op->getResult(0)).getShape(),
                                     rw.getI32Type());
  OperationState state(loc, qc::ConvOp::getOperationName());
  state.addOperands({xi, wi});
  state.addTypes(accTy);
  for (StringRef name :
       {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
    if (Attribute a = op->getAttr(name))
      state.addAttribute(name, a);
  if (!op->getAttr("auto_pad"))
    state.addAttribute("auto_pad", rw.getStringAttr("NOTSET"));
  if (!op->getAttr("group"))
    state.addAttribute("group", rw.getI64IntegerAttr(1));
  return rw.create(state)->getResult(0);
}

/// MatMulInteger and ConvInteger: operands (A, B) at 0 and 1, zero points
/// at 2 and 3.
template <typename OpTy,
          FailureOr<Value> (*build)(PatternRewriter &, Operation *, unsigned,
                                    unsigned, unsigned, unsigned)>
struct IntegerLinearLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    FailureOr<Value> acc = build(rw, op, 0, 2, 1, 3);
    if (failed(acc))
      return rw.notifyMatchFailure(op, "unsupported operand shapes or types");
    rw.replaceOp(op, *acc);
    return success();
  }
};

/// y = saturate(round(acc * (s_a * s_b / s_y)) + y_zp), s_b per `bDim` of
/// the result (or scalar), with an optional int32 bias added to acc first.
Value requantize(PatternRewriter &rw, Operation *op, Value acc, Value sa,
                 Value sb, int64_t bDim, Value sy, Value yzp, Value bias) {
  auto yTy = tensorType(op->getResult(0));
  ArrayRef<int64_t> shape = yTy.getShape();
  bool yUnsigned = wasUnsigned(op, op->getNumOperands());
  Param psb = param(sb, bDim);
  Param pbias = param(bias, bDim);
  Param pzp{yzp, -1, wasUnsigned(op, 7)};
  return paramGeneric(
      rw, op->getLoc(), yTy, acc,
      {Param{sa, -1}, psb, Param{sy, -1}, pzp, pbias},
      [&](OpBuilder &b, Location l, Value v, ArrayRef<Value> p) {
        Type f32 = b.getF32Type(), f64 = b.getF64Type();
        if (p[4])
          v = arith::AddIOp::create(b, l, v,
                                    convertScalar(b, l, p[4], v.getType()));
        Value m = arith::DivFOp::create(
            b, l,
            arith::MulFOp::create(b, l, convertScalar(b, l, p[0], f32),
                                  convertScalar(b, l, p[1], f32)),
            convertScalar(b, l, p[2], f32));
        Value r = arith::MulFOp::create(b, l, convertScalar(b, l, v, f64),
                                        convertScalar(b, l, m, f64));
        return quantizeScalar(b, l, r, p[3], pzp.isUnsigned,
                              yTy.getElementType(), yUnsigned);
      });
}

bool scalarParam(Value v) { return v && tensorType(v).getNumElements() == 1; }

/// QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp).
struct QLinearMatMulLowering : OpRewritePattern<qc::QLinearMatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QLinearMatMulOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true) || op->getNumOperands() != 8)
      return failure();
    auto yTy = tensorType(op.getOutput());
    Value sb = input(op, 4);
    int64_t nDim = yTy.getRank() - 1;
    if (!scalarParam(input(op, 1)) || !scalarParam(input(op, 6)) ||
        !scalarParam(input(op, 7)) || !fits(param(sb, nDim), yTy.getShape()))
      return rw.notifyMatchFailure(
          op, "per-tensor a / y parameters, b per tensor or column");
    FailureOr<Value> acc = integerMatMul(rw, op, 0, 2, 3, 5);
    if (failed(acc))
      return rw.notifyMatchFailure(op, "unsupported operand shapes or types");
    rw.replaceOp(op, requantize(rw, op, *acc, input(op, 1), sb, nDim,
                                input(op, 6), input(op, 7), Value()));
    return success();
  }
};

/// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B).
struct QLinearConvLowering : OpRewritePattern<qc::QLinearConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::QLinearConvOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true) || op->getNumOperands() < 8)
      return failure();
    auto yTy = tensorType(op.getOutput());
    Value sw = input(op, 4), bias = input(op, 8);
    if (!scalarParam(input(op, 1)) || !scalarParam(input(op, 6)) ||
        !scalarParam(input(op, 7)) || !fits(param(sw, 1), yTy.getShape()) ||
        (bias && !fits(param(bias, 1), yTy.getShape())))
      return rw.notifyMatchFailure(
          op, "per-tensor x / y parameters, w per tensor or channel");
    FailureOr<Value> acc = integerConv(rw, op, 0, 2, 3, 5);
    if (failed(acc))
      return rw.notifyMatchFailure(op, "unsupported operand shapes or types");
    rw.replaceOp(op, requantize(rw, op, *acc, input(op, 1), sw, 1, input(op, 6),
                                input(op, 7), bias));
    return success();
  }
};

} // namespace

void qc::lowering::populateQuantizationPatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLinearLowering, DequantizeLinearLowering,
               DynamicQuantizeLinearLowering,
               IntegerLinearLowering<qc::MatMulIntegerOp, integerMatMul>,
               IntegerLinearLowering<qc::ConvIntegerOp, integerConv>,
               QLinearMatMulLowering, QLinearConvLowering>(
      patterns.getContext());
}
