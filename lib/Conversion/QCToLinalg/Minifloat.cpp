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

} // namespace

void qc::lowering::populateMinifloatPatterns(RewritePatternSet &patterns) {
  patterns.add<BlockDequantizeLowering>(patterns.getContext());
}
