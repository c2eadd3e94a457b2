//===- QuantizedOps.cpp - qc quantization and integer ops to linalg -------===//
//
// The ops the quantization passes produce: qc.quantize / qc.dequantize /
// qc.storage_cast (values of !quant.uniform type become their storage
// integers), qc.conv_int / qc.matmul_int (zero-point-shifted int32 products
// through qc.conv / qc.matmul on i32, lowered by their own patterns),
// qc.requantize (64-bit multiply, rounding shift, clamp), qc.clamp, qc.cast,
// and qc.observe (the identity outside calibration runs).
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace qc::lowering;

namespace {

/// A constant tensor of `values` of element type `elt` (integer or float),
/// shaped to broadcast along dim `axis` of a tensor of `rank` dims
/// (C x 1 x ... x 1), or of one value for the whole tensor (axis == rank).
template <typename T>
Value axisConstant(OpBuilder &b, Location loc, ArrayRef<T> values, Type elt,
                   int64_t axis, int64_t rank) {
  // axis == rank: one value per tensor, a rank-0 constant.
  SmallVector<int64_t> shape(rank - axis, 1);
  if (!shape.empty())
    shape[0] = values.size();
  auto ty = RankedTensorType::get(shape, elt);
  SmallVector<Attribute> attrs;
  for (T v : values)
    attrs.push_back(isa<FloatType>(elt)
                        ? Attribute(FloatAttr::get(elt, double(v)))
                        : Attribute(IntegerAttr::get(elt, int64_t(v))));
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(ty, attrs));
}

/// Scales and zero points of a per-tensor or per-axis quantized type, with
/// the axis (-1 per tensor).
struct QuantParams {
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  int64_t axis = -1;
};

std::optional<QuantParams> quantParams(quant::QuantizedType q) {
  QuantParams p;
  if (auto u = dyn_cast<quant::UniformQuantizedType>(q)) {
    p.scales = {u.getScale()};
    p.zeroPoints = {u.getZeroPoint()};
    return p;
  }
  if (auto a = dyn_cast<quant::UniformQuantizedPerAxisType>(q)) {
    p.scales.assign(a.getScales().begin(), a.getScales().end());
    p.zeroPoints.assign(a.getZeroPoints().begin(), a.getZeroPoints().end());
    p.axis = a.getQuantizedDimension();
    return p;
  }
  return std::nullopt;
}

/// Scale and zero point operands of an elementwise generic over a tensor of
/// `rank` dims: per tensor as rank-0 constants, per axis shaped to broadcast.
std::pair<Value, Value> paramTensors(OpBuilder &b, Location loc,
                                     const QuantParams &p, FloatType ft,
                                     int64_t rank) {
  int64_t axis = p.axis < 0 ? rank : p.axis;
  return {axisConstant<double>(b, loc, p.scales, ft, axis, rank),
          axisConstant<int64_t>(b, loc, p.zeroPoints, ft, axis, rank)};
}

/// qc.quantize and qc.dequantize as generics on the storage integers;
/// qc.storage_cast disappears. Returns failure (with a diagnostic) on a
/// quantized type the lowering does not handle.
LogicalResult lowerQuantizedValues(Operation *root) {
  SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (isa<qc::QuantizeOp, qc::DequantizeOp, qc::StorageCastOp>(op))
      ops.push_back(op);
  });
  llvm::DenseMap<Value, Value> storage; // quantized value -> its integers
  for (Operation *op : ops) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (auto q = dyn_cast<qc::QuantizeOp>(op)) {
      auto qt = cast<quant::QuantizedType>(
          tensorType(q.getOutput()).getElementType());
      std::optional<QuantParams> p = quantParams(qt);
      if (!p)
        return op->emitOpError() << "cannot lower quantized type " << qt;
      auto xTy = tensorType(q.getInput());
      auto ft = cast<FloatType>(xTy.getElementType());
      auto intTy = RankedTensorType::get(
          xTy.getShape(), b.getIntegerType(qt.getStorageTypeIntegralWidth()));
      auto [scale, zp] = paramTensors(b, loc, *p, ft, xTy.getRank());
      double lo = qt.getStorageTypeMin(), hi = qt.getStorageTypeMax();
      bool isUnsigned = !qt.isSigned();
      Value r = broadcastGeneric(
          b, loc, intTy, ValueRange{q.getInput(), scale, zp},
          [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
            Value v = math::RoundEvenOp::create(
                nb, l, arith::DivFOp::create(nb, l, a[0], a[1]));
            v = arith::AddFOp::create(nb, l, v, a[2]);
            v = arith::MaximumFOp::create(nb, l, v, fconst(nb, l, ft, lo));
            v = arith::MinimumFOp::create(nb, l, v, fconst(nb, l, ft, hi));
            return convertScalar(nb, l, v, intTy.getElementType(), false,
                                 isUnsigned);
          });
      storage[q.getOutput()] = r;
      continue;
    }
    if (auto dq = dyn_cast<qc::DequantizeOp>(op)) {
      auto qt = cast<quant::QuantizedType>(
          tensorType(dq.getInput()).getElementType());
      std::optional<QuantParams> p = quantParams(qt);
      Value in = storage.lookup(dq.getInput());
      if (!p || !in)
        return op->emitOpError() << "cannot lower the dequantization of " << qt;
      auto yTy = tensorType(dq.getOutput());
      auto ft = cast<FloatType>(yTy.getElementType());
      auto [scale, zp] = paramTensors(b, loc, *p, ft, yTy.getRank());
      bool isUnsigned = !qt.isSigned();
      Value r = broadcastGeneric(
          b, loc, yTy, ValueRange{in, scale, zp},
          [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
            Value v = convertScalar(nb, l, a[0], ft, isUnsigned);
            return arith::MulFOp::create(
                nb, l, arith::SubFOp::create(nb, l, v, a[2]), a[1]);
          });
      dq.getOutput().replaceAllUsesWith(r);
      continue;
    }
    auto sc = cast<qc::StorageCastOp>(op);
    if (isa<quant::QuantizedType>(
            tensorType(sc.getOutput()).getElementType())) {
      storage[sc.getOutput()] = sc.getInput();
      continue;
    }
    Value in = storage.lookup(sc.getInput());
    if (!in)
      return op->emitOpError(
          "cannot lower: the quantized operand has no known storage");
    sc.getOutput().replaceAllUsesWith(in);
  }
  // Users first: every remaining use is among these ops.
  for (Operation *op : llvm::reverse(ops)) {
    if (!op->use_empty())
      return op->emitOpError(
          "a quantized value is used by an op that cannot take it");
    op->erase();
  }
  return success();
}

/// `x` (signless, `isUnsigned` before makeSignless) widened to `i32` (the
/// accumulator's type: i32, or i64 for 16-bit activations) minus zero
/// points given per tensor (one) or along `axis`.
Value shiftedByZeroPoints(OpBuilder &b, Location loc, Value x, bool isUnsigned,
                          ArrayRef<int32_t> zps, int64_t axis, Type i32) {
  auto t = tensorType(x);
  auto ty = RankedTensorType::get(t.getShape(), i32);
  SmallVector<int64_t> z(zps.begin(), zps.end());
  Value zp = axisConstant<int64_t>(
      b, loc, z, i32, zps.size() == 1 ? t.getRank() : axis, t.getRank());
  return broadcastGeneric(
      b, loc, ty, ValueRange{x, zp},
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value v = convertScalar(nb, l, a[0], i32, isUnsigned);
        return arith::SubIOp::create(nb, l, v, a[1]);
      });
}

/// acc + bias, the bias (one per channel) along `axis`.
Value addBias(OpBuilder &b, Location loc, Value acc, Value bias, int64_t axis) {
  if (!bias)
    return acc;
  auto accTy = tensorType(acc);
  SmallVector<int64_t> shape(accTy.getRank() - axis, 1);
  shape[0] = tensorType(bias).getDimSize(0);
  Value shaped = reshapeTo(
      b, loc, bias,
      RankedTensorType::get(shape, tensorType(bias).getElementType()));
  return broadcastGeneric(b, loc, accTy, ValueRange{acc, shaped},
                          [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                            return arith::AddIOp::create(nb, l, a[0], a[1]);
                          });
}

struct ConvIntLowering : OpRewritePattern<qc::ConvIntOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ConvIntOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Location loc = op.getLoc();
    Type accElt = op.getType().getElementType();
    // channels_last: the NCHW convolution between two transposes.
    bool last = op.getChannelsLast();
    auto permuted = [&](Value v, ArrayRef<int64_t> perm) -> Value {
      auto t = tensorType(v);
      SmallVector<int64_t> shape;
      for (int64_t p : perm)
        shape.push_back(t.getDimSize(p));
      Value init = tensor::EmptyOp::create(rw, loc, shape, t.getElementType());
      return linalg::TransposeOp::create(rw, loc, v, init, perm).getResult()[0];
    };
    Value input = last ? permuted(op.getInput(), {0, 3, 1, 2}) : op.getInput();
    Value x = shiftedByZeroPoints(rw, loc, input, wasUnsigned(op, 0),
                                  {int32_t(op.getInputZp())}, 0, accElt);
    Value w = shiftedByZeroPoints(rw, loc, op.getWeight(), wasUnsigned(op, 1),
                                  op.getWeightZp(), 0, accElt);
    OperationState state(loc, qc::ConvOp::getOperationName());
    state.addOperands({x, w});
    RankedTensorType outTy = op.getType();
    if (last)
      outTy = outTy.clone({outTy.getDimSize(0), outTy.getDimSize(3),
                           outTy.getDimSize(1), outTy.getDimSize(2)});
    state.addTypes(outTy);
    state.addAttribute("auto_pad", rw.getStringAttr("NOTSET"));
    state.addAttribute("group", op.getGroupAttr());
    state.addAttribute("strides", op.getStridesAttr());
    state.addAttribute("pads", op.getPadsAttr());
    state.addAttribute("dilations", op.getDilationsAttr());
    Value acc = rw.create(state)->getResult(0);
    acc = addBias(rw, loc, acc, op.getBias(), 1);
    rw.replaceOp(op, last ? permuted(acc, {0, 2, 3, 1}) : acc);
    return success();
  }
};

struct MatMulIntLowering : OpRewritePattern<qc::MatMulIntOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MatMulIntOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Location loc = op.getLoc();
    int64_t bRank = tensorType(op.getB()).getRank();
    Type accElt = op.getType().getElementType();
    Value a = shiftedByZeroPoints(rw, loc, op.getA(), wasUnsigned(op, 0),
                                  {int32_t(op.getAZp())}, 0, accElt);
    Value b = shiftedByZeroPoints(rw, loc, op.getB(), wasUnsigned(op, 1),
                                  op.getBZp(), bRank - 1, accElt);
    Value acc = qc::MatMulOp::create(rw, loc, op.getType(), a, b);
    rw.replaceOp(
        op, addBias(rw, loc, acc, op.getBias(), op.getType().getRank() - 1));
    return success();
  }
};

/// qc.matmul_mx as loops (the kernel's fallback): the weights decoded to
/// int64 [K, N] with each block's shift applied (w << s is exact in int64,
/// and so is the sum of the shifted products), then an int64 matmul.
struct MatMulMxLowering : OpRewritePattern<qc::MatMulMxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MatMulMxOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Location loc = op.getLoc();
    Type i64 = rw.getI64Type();
    auto aTy = tensorType(op.getA()), outTy = op.getOutput().getType();
    int64_t k = aTy.getShape().back(), n = outTy.getShape().back();
    int64_t block = op.getBlock();
    qc::minifloat::Format f = *qc::minifloatFormat(op.getFormat());
    unsigned bits = qc::minifloat::layout(f).bits;
    int factor = *qc::MatMulMxOp::integerFactor(op.getFormat());
    SmallVector<int64_t> ints;
    for (uint32_t c = 0; c < (1u << bits); ++c)
      ints.push_back(int64_t(qc::minifloat::decode(f, c) * factor));
    auto tableTy = RankedTensorType::get({int64_t(ints.size())}, i64);
    Value table = arith::ConstantOp::create(
        rw, loc, DenseIntElementsAttr::get(tableTy, ArrayRef(ints)));
    Value codes = op.getCodes(), shifts = op.getShifts();
    Value w = indexGeneric(
        rw, loc, RankedTensorType::get({k, n}, i64),
        [&](OpBuilder &b, Location l, ArrayRef<Value> iv) -> Value {
          Value idx = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, iv[0], cindex(b, l, n)), iv[1]);
          Value code = packedCode(b, l, codes, idx, bits);
          Value v =
              tensor::ExtractOp::create(b, l, table,
                                        ValueRange{arith::IndexCastOp::create(
                                            b, l, b.getIndexType(), code)});
          Value kb = arith::DivUIOp::create(b, l, iv[0], cindex(b, l, block));
          Value sh = arith::ExtSIOp::create(
              b, l, i64,
              tensor::ExtractOp::create(b, l, shifts, ValueRange{iv[1], kb}));
          Value zero = arith::ConstantIntOp::create(b, l, i64, 0);
          Value dropped =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, sh, zero);
          Value shifted = arith::ShLIOp::create(
              b, l, v, arith::SelectOp::create(b, l, dropped, zero, sh));
          return arith::SelectOp::create(b, l, dropped, zero, shifted);
        });
    Value a = shiftedByZeroPoints(rw, loc, op.getA(), wasUnsigned(op, 0),
                                  {int32_t(op.getAZp())}, 0, i64);
    Value acc = qc::MatMulOp::create(rw, loc, outTy, a, w);
    rw.replaceOp(op, addBias(rw, loc, acc, op.getBias(), outTy.getRank() - 1));
    return success();
  }
};

/// qc.matmul_group_scaled as loops (the kernels' fallback): a [..., K] and
/// b [K, N] expanded to [..., K/G, G] and [K/G, G, N], one generic summing
/// a_scales * (a - a_zeros) * b in f32 over (group, channel of the group),
/// then b_scales and the bias applied elementwise.
struct MatMulGroupScaledLowering : OpRewritePattern<qc::MatMulGroupScaledOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MatMulGroupScaledOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    auto aTy = tensorType(op.getA()), outTy = tensorType(op.getOutput());
    int64_t r = aTy.getRank(), g = op.getGroup(), k = aTy.getShape().back();
    int64_t n = outTy.getShape().back();
    SmallVector<int64_t> aShape(aTy.getShape());
    aShape.back() = k / g;
    aShape.push_back(g);
    Value a = reshapeTo(rw, loc, op.getA(), aTy.clone(aShape));
    Value b = reshapeTo(rw, loc, op.getB(),
                        RankedTensorType::get({k / g, g, n}, rw.getI8Type()));
    // Loops: the r - 1 outer dims, n, then the group and the channel in it.
    int64_t loops = r + 2, dn = r - 1, dg = r, dj = r + 1;
    auto map = [&](ArrayRef<int64_t> dims) {
      SmallVector<AffineExpr> e;
      for (int64_t d : dims)
        e.push_back(getAffineDimExpr(unsigned(d), ctx));
      return AffineMap::get(unsigned(loops), 0, e, ctx);
    };
    SmallVector<int64_t> outer;
    for (int64_t d = 0; d + 1 < r; ++d)
      outer.push_back(d);
    auto with = [&](std::initializer_list<int64_t> tail) {
      SmallVector<int64_t> d(outer);
      d.append(tail.begin(), tail.end());
      return map(d);
    };
    SmallVector<Value> ins{a, b, op.getAScales()};
    SmallVector<AffineMap> maps{with({dg, dj}), map({dg, dj, dn}), with({dg})};
    if (op.getAZeros()) {
      ins.push_back(op.getAZeros());
      maps.push_back(with({dg}));
    }
    maps.push_back(with({dn}));
    SmallVector<utils::IteratorType> iters(size_t(r),
                                           utils::IteratorType::parallel);
    iters.append(2, utils::IteratorType::reduction);
    Type f32 = rw.getF32Type();
    bool hasZeros = bool(op.getAZeros());
    Value acc =
        linalg::GenericOp::create(
            rw, loc, outTy, ins, ValueRange{zeros(rw, loc, outTy)}, maps, iters,
            [&](OpBuilder &nb, Location l, ValueRange v) {
              Value x = arith::SIToFPOp::create(nb, l, f32, v[0]);
              if (hasZeros)
                x = arith::SubFOp::create(nb, l, x, v[3]);
              Value w = arith::SIToFPOp::create(nb, l, f32, v[1]);
              Value p = arith::MulFOp::create(
                  nb, l, arith::MulFOp::create(nb, l, x, w), v[2]);
              linalg::YieldOp::create(
                  nb, l, arith::AddFOp::create(nb, l, v.back(), p).getResult());
            })
            .getResult(0);
    SmallVector<Value> epi{acc, op.getBScales()};
    if (op.getBias())
      epi.push_back(op.getBias());
    rw.replaceOp(
        op, broadcastGeneric(
                rw, loc, outTy, epi,
                [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
                  Value y = arith::MulFOp::create(nb, l, v[0], v[1]);
                  return v.size() > 2
                             ? arith::AddFOp::create(nb, l, y, v[2]).getResult()
                             : y;
                }));
    return success();
  }
};

/// x (signless, `isUnsigned` before makeSignless) as i64.
Value toI64(OpBuilder &b, Location l, Value x, bool isUnsigned) {
  Type i64 = b.getI64Type();
  if (x.getType() == i64)
    return x;
  if (isUnsigned)
    return arith::ExtUIOp::create(b, l, i64, x);
  return arith::ExtSIOp::create(b, l, i64, x);
}

/// min(max(v, lo), hi) on i64, truncated to `to`.
Value clampTo(OpBuilder &b, Location l, Value v, int64_t lo, int64_t hi,
              Type to) {
  Type i64 = b.getI64Type();
  v = arith::MaxSIOp::create(b, l, v,
                             arith::ConstantIntOp::create(b, l, i64, lo));
  v = arith::MinSIOp::create(b, l, v,
                             arith::ConstantIntOp::create(b, l, i64, hi));
  if (to == i64)
    return v;
  return arith::TruncIOp::create(b, l, to, v);
}

/// A per-tensor requantization computed exactly in i32 lanes (16 per
/// AVX-512 vector instead of 8 i64 ones), where the operands allow it;
/// null otherwise. r = (v m + 2^(s-1)) >> s with v = x - zp_in:
///  - m = 2^k (a sum's rescaling by 2^-f): r = (v >> n) + bit n-1 of v,
///    n = s - k, which is the rounding shift without the overflowing add;
///  - m = 2^k with k >= s: v << (k - s), exact while it fits;
///  - x of at most 8 bits and m < 2^21 (s <= 30): v m + 2^(s-1) fits;
///  - x of at most 8 bits (|v| < 2^9) and 17 <= s <= 46: with
///    m = mh 2^16 + ml, v m + 2^(s-1) = (v mh + 2^(s-17)) 2^16 + v ml, so
///    r = (v mh + 2^(s-17) + ((v ml) >> 16)) >> (s - 16) (flooring the low
///    part first does not change the floor); every term stays below 2^30.
Value requantizeI32(PatternRewriter &rw, Location loc, Value input,
                    RankedTensorType outTy, bool inUnsigned, int64_t inZp,
                    int64_t m, int64_t s, int64_t outZp, int64_t lo,
                    int64_t hi) {
  auto inElt = dyn_cast<IntegerType>(tensorType(input).getElementType());
  if (!inElt || inElt.getWidth() > 32 || m <= 0 || s <= 0)
    return nullptr;
  bool pow2 = llvm::isPowerOf2_64(uint64_t(m));
  int64_t k = pow2 ? llvm::Log2_64(uint64_t(m)) : 0;
  bool narrow = inElt.getWidth() <= 8 && s >= 17 && s <= 46;
  // 8-bit input and a multiplier below 2^21: v m + 2^(s-1) < 2^30 + 2^29.
  bool small = inElt.getWidth() <= 8 && m < (int64_t(1) << 21) && s <= 30;
  // A power-of-two scale of at least one: v << (k - s), the rounding term
  // 2^(s-1) < 2^s adding nothing; exact while v 2^(k-s) fits.
  bool leftShift = pow2 && s <= k && inElt.getWidth() + 1 + (k - s) <= 31 &&
                   inElt.getWidth() < 32;
  // The power-of-two form needs v itself in i32: no zero point to
  // subtract from a 32-bit input (it could overflow).
  bool shiftOnly = pow2 && s > k && s - k <= 31 &&
                   (inElt.getWidth() < 32 || inZp == 0);
  if (!shiftOnly && !narrow && !small && !leftShift)
    return nullptr;
  Type i32 = rw.getI32Type();
  return broadcastGeneric(
      rw, loc, outTy, ValueRange{input},
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        auto c = [&](int64_t v) {
          return arith::ConstantIntOp::create(b, l, i32, v).getResult();
        };
        Value v = a[0];
        if (v.getType() != i32)
          v = inUnsigned ? Value(arith::ExtUIOp::create(b, l, i32, v))
                         : Value(arith::ExtSIOp::create(b, l, i32, v));
        if (inZp)
          v = arith::SubIOp::create(b, l, v, c(inZp));
        Value r;
        if (leftShift) {
          r = k > s ? Value(arith::ShLIOp::create(b, l, v, c(k - s))) : v;
        } else if (small) {
          Value p = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, v, c(m)),
              c(int64_t(1) << (s - 1)));
          r = arith::ShRSIOp::create(b, l, p, c(s));
        } else if (shiftOnly) {
          int64_t n = s - k;
          Value q = arith::ShRSIOp::create(b, l, v, c(n));
          Value bit = arith::AndIOp::create(
              b, l, arith::ShRSIOp::create(b, l, v, c(n - 1)), c(1));
          r = arith::AddIOp::create(b, l, q, bit);
        } else {
          Value hiPart = arith::MulIOp::create(b, l, v, c(m >> 16));
          Value loPart = arith::ShRSIOp::create(
              b, l, arith::MulIOp::create(b, l, v, c(m & 0xFFFF)), c(16));
          Value sum = arith::AddIOp::create(
              b, l, arith::AddIOp::create(b, l, hiPart, c(int64_t(1) << (s - 17))),
              loPart);
          r = arith::ShRSIOp::create(b, l, sum, c(s - 16));
        }
        if (outZp)
          r = arith::AddIOp::create(b, l, r, c(outZp));
        r = arith::MaxSIOp::create(b, l, r, c(std::max<int64_t>(lo, INT32_MIN)));
        r = arith::MinSIOp::create(b, l, r, c(std::min<int64_t>(hi, INT32_MAX)));
        Type to = outTy.getElementType();
        if (to == i32)
          return r;
        if (to.getIntOrFloatBitWidth() > 32)
          return arith::ExtSIOp::create(b, l, to, r);
        return arith::TruncIOp::create(b, l, to, r);
      });
}

struct RequantizeLowering : OpRewritePattern<qc::RequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::RequantizeOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Location loc = op.getLoc();
    auto inTy = tensorType(op.getInput());
    auto outTy = tensorType(op.getOutput());
    int64_t rank = inTy.getRank();
    Type i64 = rw.getI64Type();
    SmallVector<int64_t> mult, shift, half;
    for (auto [m, s] : llvm::zip(op.getMultiplier(), op.getShift())) {
      mult.push_back(m);
      shift.push_back(s);
      half.push_back(s > 0 ? int64_t(1) << (s - 1) : 0);
    }
    int64_t axis =
        mult.size() > 1 ? normAxis(op.getAxis().value_or(1), rank) : rank;
    Value m = axisConstant<int64_t>(rw, loc, mult, i64, axis, rank);
    Value s = axisConstant<int64_t>(rw, loc, shift, i64, axis, rank);
    Value h = axisConstant<int64_t>(rw, loc, half, i64, axis, rank);
    bool inUnsigned = wasUnsigned(op, 0);
    // The I32Attr getters return uint32_t: a negative zero point must be
    // sign-extended, not become 2^32 + zp in the i64 arithmetic.
    int64_t inZp = int32_t(op.getInputZp()),
            outZp = int32_t(op.getOutputZp());
    int64_t lo = op.getClampMin(), hi = op.getClampMax();
    if (mult.size() == 1) {
      if (Value r = requantizeI32(rw, loc, op.getInput(), outTy, inUnsigned,
                                  inZp, mult[0], shift[0], outZp, lo, hi)) {
        rw.replaceOp(op, r);
        return success();
      }
    }
    Value r = broadcastGeneric(
        rw, loc, outTy, ValueRange{op.getInput(), m, s, h},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value v = toI64(b, l, a[0], inUnsigned);
          if (inZp)
            v = arith::SubIOp::create(
                b, l, v, arith::ConstantIntOp::create(b, l, i64, inZp));
          v = arith::MulIOp::create(b, l, v, a[1]);
          v = arith::ShRSIOp::create(b, l, arith::AddIOp::create(b, l, v, a[3]),
                                     a[2]);
          if (outZp)
            v = arith::AddIOp::create(
                b, l, v, arith::ConstantIntOp::create(b, l, i64, outZp));
          return clampTo(b, l, v, lo, hi, outTy.getElementType());
        });
    rw.replaceOp(op, r);
    return success();
  }
};

/// Replaces `op` (one integer operand and result) by a generic clamping each
/// element, extended to i64 by its signedness, to [lo, hi].
void replaceByClamp(PatternRewriter &rw, Operation *op, int64_t lo,
                    int64_t hi) {
  bool isUnsigned = wasUnsigned(op, 0);
  auto ty = tensorType(op->getResult(0));
  rw.replaceOp(op, broadcastGeneric(
                       rw, op->getLoc(), ty, ValueRange{op->getOperand(0)},
                       [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                         return clampTo(b, l, toI64(b, l, a[0], isUnsigned), lo,
                                        hi, ty.getElementType());
                       }));
}

struct ClampLowering : OpRewritePattern<qc::ClampOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ClampOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    replaceByClamp(rw, op, op.getMin(), op.getMax());
    return success();
  }
};

struct CastLowering : OpRewritePattern<qc::CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::CastOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    bool outUnsigned = wasUnsigned(op, 1);
    auto ty = tensorType(op.getOutput());
    unsigned w = ty.getElementType().getIntOrFloatBitWidth();
    if (w > 63 ||
        tensorType(op.getInput()).getElementType().getIntOrFloatBitWidth() > 63)
      return rw.notifyMatchFailure(op, "64-bit casts");
    int64_t lo = outUnsigned ? 0 : -(int64_t(1) << (w - 1));
    int64_t hi =
        outUnsigned ? (int64_t(1) << w) - 1 : (int64_t(1) << (w - 1)) - 1;
    replaceByClamp(rw, op, lo, hi);
    return success();
  }
};

/// qc.table: the table as a constant, each element looked up by its value
/// less the input type's minimum.
struct TableLowering : OpRewritePattern<qc::TableOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::TableOp op,
                                PatternRewriter &rw) const override {
    if (!lowerableTypes(op, /*unsignedOk=*/true))
      return failure();
    Location loc = op.getLoc();
    ArrayRef<int32_t> entries = op.getTable();
    auto tableTy = RankedTensorType::get({int64_t(entries.size())},
                                         rw.getI32Type());
    Value table = arith::ConstantOp::create(
        rw, loc, DenseIntElementsAttr::get(tableTy, entries));
    bool inUnsigned = wasUnsigned(op, 0);
    int64_t base = inUnsigned ? 0 : -int64_t(entries.size() / 2);
    auto outTy = tensorType(op.getOutput());
    Type outElt = outTy.getElementType();
    Value r = broadcastGeneric(
        rw, loc, outTy, ValueRange{op.getInput()},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value v = toI64(b, l, a[0], inUnsigned);
          if (base)
            v = arith::SubIOp::create(
                b, l, v, arith::ConstantIntOp::create(b, l, b.getI64Type(), base));
          Value idx = arith::IndexCastOp::create(b, l, b.getIndexType(), v);
          Value e = tensor::ExtractOp::create(b, l, table, ValueRange{idx});
          unsigned w = outElt.getIntOrFloatBitWidth();
          if (w < 32)
            return arith::TruncIOp::create(b, l, outElt, e);
          if (w > 32)
            return arith::ExtSIOp::create(b, l, outElt, e);
          return e;
        });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ObserveLowering : OpRewritePattern<qc::ObserveOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ObserveOp op,
                                PatternRewriter &rw) const override {
    rw.replaceOp(op, op.getInput());
    return success();
  }
};

} // namespace

LogicalResult qc::lowering::lowerQuantizedTypes(Operation *root) {
  return lowerQuantizedValues(root);
}

void qc::lowering::populateIntegerOpPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvIntLowering, MatMulIntLowering, MatMulGroupScaledLowering,
               MatMulMxLowering, RequantizeLowering, ClampLowering,
               CastLowering, TableLowering, ObserveLowering>(
      patterns.getContext());
}
