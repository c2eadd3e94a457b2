//===- Minifloat.cpp - packed minifloat weights to linalg -----------------===//
//
// qc.block_dequantize decodes at run time, element by element: the code is
// read out of the packed bytes, looked up in a table of the format's values
// (qc::minifloat::decode at compile time) and multiplied by its block's
// scale (an f32, or an E8M0 / E4M3 code looked up the same way) and the
// tensor scale.
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include <cmath>

using namespace mlir;
using namespace qc::lowering;

Value qc::lowering::packedCode(OpBuilder &b, Location l, Value bytes,
                               Value index, unsigned bits) {
  Type i32 = b.getI32Type();
  int64_t len = tensorType(bytes).getDimSize(0);
  Value bit = arith::MulIOp::create(b, l, index, cindex(b, l, bits));
  Value at = arith::DivUIOp::create(b, l, bit, cindex(b, l, 8));
  auto byteAt = [&](Value i) {
    Value v = tensor::ExtractOp::create(b, l, bytes, ValueRange{i});
    return arith::ExtUIOp::create(b, l, i32, v).getResult();
  };
  Value word = byteAt(at);
  if (bits % 8 && 8 % bits) {
    // Codes of 6 bits straddle two bytes; the last byte has no successor.
    Value next = arith::MinUIOp::create(
        b, l, arith::AddIOp::create(b, l, at, cindex(b, l, 1)),
        cindex(b, l, len - 1));
    Value hi = arith::ShLIOp::create(
        b, l, byteAt(next), arith::ConstantIntOp::create(b, l, i32, 8));
    word = arith::OrIOp::create(b, l, word, hi);
  }
  Value shift = arith::IndexCastOp::create(
      b, l, i32, arith::RemUIOp::create(b, l, bit, cindex(b, l, 8)));
  Value v = arith::ShRUIOp::create(b, l, word, shift);
  return arith::AndIOp::create(
      b, l, v, arith::ConstantIntOp::create(b, l, i32, (1 << bits) - 1));
}

Value qc::lowering::minifloatTable(OpBuilder &b, Location l,
                                   qc::minifloat::Format f) {
  unsigned n = 1u << qc::minifloat::layout(f).bits;
  SmallVector<float> values;
  for (unsigned c = 0; c < n; ++c)
    values.push_back(float(qc::minifloat::decode(f, c)));
  auto ty = RankedTensorType::get({int64_t(n)}, b.getF32Type());
  return arith::ConstantOp::create(
      b, l, DenseElementsAttr::get(ty, ArrayRef(values)));
}

Value qc::lowering::minifloatValue(OpBuilder &b, Location l, Value table,
                                   Value code, unsigned bits) {
  Value c = arith::ExtUIOp::create(b, l, b.getI32Type(), code);
  if (bits < 8)
    c = arith::AndIOp::create(
        b, l, c,
        arith::ConstantIntOp::create(b, l, b.getI32Type(), (1 << bits) - 1));
  return tensor::ExtractOp::create(
      b, l, table,
      ValueRange{arith::IndexCastOp::create(b, l, b.getIndexType(), c)});
}

namespace {

struct BlockDequantizeLowering : OpRewritePattern<qc::BlockDequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(qc::BlockDequantizeOp op,
                                PatternRewriter &rw) const override {
    auto ty = op.getOutput().getType();
    if (!ty.getElementType().isF32())
      return rw.notifyMatchFailure(op, "f32 results only");
    Location loc = op.getLoc();
    unsigned bits = op.getCodeBits();
    Value table = minifloatTable(rw, loc, *qc::minifloatFormat(op.getFormat()));
    Value scaleTable;
    if (std::optional<qc::ElementFormat> sf = op.getScaleFormat())
      scaleTable = minifloatTable(rw, loc, *qc::minifloatFormat(*sf));
    Value codes = op.getCodes(), scales = op.getScales();
    int64_t axis = op.getAxis(), rank = ty.getRank();
    int64_t channels = ty.getDimSize(axis),
            per = ty.getNumElements() / channels;
    int64_t block = op.getBlock();
    double ts = op.getTensorScale().convertToDouble();
    Value y = indexGeneric(
        rw, loc, ty, [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
          Value idx = iv[0];
          for (int64_t d = 1; d < rank; ++d)
            idx = arith::AddIOp::create(
                b, l,
                arith::MulIOp::create(b, l, idx,
                                      cindex(b, l, ty.getDimSize(d))),
                iv[d]);
          Value c, k;
          if (axis == 0) {
            c = iv[0];
            k = arith::RemUIOp::create(b, l, idx, cindex(b, l, per));
          } else {
            c = iv[1];
            k = iv[0];
          }
          Value code = packedCode(b, l, codes, idx, bits);
          Value v =
              tensor::ExtractOp::create(b, l, table,
                                        ValueRange{arith::IndexCastOp::create(
                                            b, l, b.getIndexType(), code)});
          Value kb = arith::DivUIOp::create(b, l, k, cindex(b, l, block));
          Value s = tensor::ExtractOp::create(b, l, scales, ValueRange{c, kb});
          if (scaleTable) {
            Value sc = arith::ExtUIOp::create(b, l, b.getI32Type(), s);
            s = tensor::ExtractOp::create(b, l, scaleTable,
                                          ValueRange{arith::IndexCastOp::create(
                                              b, l, b.getIndexType(), sc)});
          }
          v = arith::MulFOp::create(b, l, v, s);
          if (ts != 1.0)
            v = arith::MulFOp::create(b, l, v,
                                      fconst(b, l, b.getF32Type(), ts));
          return v;
        });
    rw.replaceOp(op, y);
    return success();
  }
};

struct MinifloatDequantizeLowering
    : OpRewritePattern<qc::MinifloatDequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MinifloatDequantizeOp op,
                                PatternRewriter &rw) const override {
    auto ty = op.getOutput().getType();
    if (!ty.getElementType().isF32() || !ty.hasStaticShape())
      return rw.notifyMatchFailure(op, "static f32 results only");
    Location loc = op.getLoc();
    qc::minifloat::Format f = *qc::minifloatFormat(op.getFormat());
    Value table = minifloatTable(rw, loc, f);
    unsigned bits = qc::minifloat::layout(f).bits;
    Value in = op.getInput();
    float scale = float(op.getScale().convertToDouble());
    Value y = indexGeneric(
        rw, loc, ty, [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
          Value code = tensor::ExtractOp::create(b, l, in, iv);
          Value v = minifloatValue(b, l, table, code, bits);
          return arith::MulFOp::create(b, l, v,
                                       fconst(b, l, b.getF32Type(), scale))
              .getResult();
        });
    rw.replaceOp(op, y);
    return success();
  }
};

/// Round to nearest even and saturate, by the bits of the f32 magnitude
/// a = |x / scale| (clamped to the largest finite value): below the
/// smallest normal 2^(1 - bias), the code is a / 2^(1 - bias - m) rounded
/// (an integer, 2^m being the smallest normal's code); above it, the f32
/// bits rounded to m mantissa bits (ties to even: add half minus one plus
/// the lowest kept bit, the carry moving into the exponent), rebased from
/// f32's exponent bias to the format's. NaN becomes the NaN code where the
/// format has one, else the largest.
struct MinifloatQuantizeLowering : OpRewritePattern<qc::MinifloatQuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MinifloatQuantizeOp op,
                                PatternRewriter &rw) const override {
    auto inTy = op.getInput().getType();
    auto ty = op.getOutput().getType();
    if (!inTy.getElementType().isF32() || !ty.hasStaticShape())
      return rw.notifyMatchFailure(op, "static f32 inputs only");
    Location loc = op.getLoc();
    qc::minifloat::Format f = *qc::minifloatFormat(op.getFormat());
    qc::minifloat::Layout lay = qc::minifloat::layout(f);
    int m = int(lay.mantissaBits), bias = (1 << (lay.exponentBits - 1)) - 1;
    int shift = 23 - m;
    float maxVal = float(qc::minifloat::maxFinite(f));
    float minNormal = std::ldexp(1.0f, 1 - bias);
    float invStep = std::ldexp(1.0f, bias - 1 + m);
    int32_t largest = (1 << (lay.bits - 1)) - 1; // magnitude bits all ones
    bool hasNaN =
        f == qc::minifloat::Format::E4M3 || f == qc::minifloat::Format::E5M2;
    // E4M3's NaN is S.1111.111; E5M2's S.11111.11 (one of its NaNs).
    int32_t nanCode = largest;
    float scale = float(op.getScale().convertToDouble());
    Value in = op.getInput();
    Value y = indexGeneric(
        rw, loc, ty, [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
          Type i32 = b.getI32Type(), f32 = b.getF32Type();
          auto ci = [&](int64_t v) {
            return arith::ConstantIntOp::create(b, l, i32, v).getResult();
          };
          Value x = tensor::ExtractOp::create(b, l, in, iv);
          Value v = arith::DivFOp::create(b, l, x, fconst(b, l, f32, scale));
          Value vb = arith::BitcastOp::create(b, l, i32, v);
          Value sign = arith::AndIOp::create(
              b, l, arith::ShRUIOp::create(b, l, vb, ci(31)), ci(1));
          Value a = math::AbsFOp::create(b, l, v);
          Value isNaN =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, a, a);
          a = arith::MinimumFOp::create(b, l, a, fconst(b, l, f32, maxVal));
          // Subnormal range.
          Value sub = math::RoundEvenOp::create(
              b, l, arith::MulFOp::create(b, l, a, fconst(b, l, f32, invStep)));
          Value subCode = arith::FPToSIOp::create(b, l, i32, sub);
          // Normal range.
          Value bits = arith::BitcastOp::create(b, l, i32, a);
          Value lsb = arith::AndIOp::create(
              b, l, arith::ShRUIOp::create(b, l, bits, ci(shift)), ci(1));
          Value r = arith::AddIOp::create(b, l, bits,
                                          ci((int64_t(1) << (shift - 1)) - 1));
          r = arith::AddIOp::create(b, l, r, lsb);
          r = arith::ShRUIOp::create(b, l, r, ci(shift));
          Value normCode =
              arith::SubIOp::create(b, l, r, ci(int64_t(127 - bias) << m));
          Value isSub = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT,
                                              a, fconst(b, l, f32, minNormal));
          Value code = arith::SelectOp::create(b, l, isSub, subCode, normCode);
          code = arith::SelectOp::create(b, l, isNaN,
                                         ci(hasNaN ? nanCode : largest), code);
          code = arith::OrIOp::create(
              b, l, code, arith::ShLIOp::create(b, l, sign, ci(lay.bits - 1)));
          return arith::TruncIOp::create(b, l, b.getI8Type(), code).getResult();
        });
    rw.replaceOp(op, y);
    return success();
  }
};

/// The decoded operands and an f32 linalg.matmul: a [M, K] (the leading
/// dims collapsed) times b's values transposed to [K, N].
struct MatMulFp8Lowering : OpRewritePattern<qc::MatMulFp8Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MatMulFp8Op op,
                                PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto aTy = tensorType(op.getA());
    auto bTy = tensorType(op.getB());
    auto outTy = op.getOutput().getType();
    int64_t k = aTy.getShape().back(), n = bTy.getDimSize(0);
    int64_t m = aTy.getNumElements() / std::max<int64_t>(k, 1);
    Type f32 = rw.getF32Type();
    Value tableA =
        minifloatTable(rw, loc, *qc::minifloatFormat(op.getAFormat()));
    Value tableB =
        minifloatTable(rw, loc, *qc::minifloatFormat(op.getBFormat()));
    Value a2 = reshapeTo(rw, loc, op.getA(),
                         RankedTensorType::get({m, k}, rw.getI8Type()));
    Value b = op.getB();
    Value av = indexGeneric(rw, loc, RankedTensorType::get({m, k}, f32),
                            [&](OpBuilder &nb, Location l, ArrayRef<Value> iv) {
                              return minifloatValue(
                                  nb, l, tableA,
                                  tensor::ExtractOp::create(nb, l, a2, iv), 8);
                            });
    Value bv = indexGeneric(
        rw, loc, RankedTensorType::get({k, n}, f32),
        [&](OpBuilder &nb, Location l, ArrayRef<Value> iv) {
          return minifloatValue(
              nb, l, tableB,
              tensor::ExtractOp::create(nb, l, b, ValueRange{iv[1], iv[0]}), 8);
        });
    Value init = zeros(rw, loc, RankedTensorType::get({m, n}, f32));
    Value mm = linalg::MatmulOp::create(rw, loc, TypeRange{init.getType()},
                                        ValueRange{av, bv}, ValueRange{init})
                   .getResult(0);
    rw.replaceOp(op, reshapeTo(rw, loc, mm, outTy));
    return success();
  }
};

} // namespace

void qc::lowering::populateMinifloatPatterns(RewritePatternSet &patterns) {
  patterns.add<BlockDequantizeLowering, MinifloatDequantizeLowering,
               MinifloatQuantizeLowering, MatMulFp8Lowering>(
      patterns.getContext());
}
