//===- Common.cpp - helpers shared by the qc-to-linalg patterns ----------===//
#include "Common.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include <functional>
#include <limits>

using namespace mlir;

namespace qc::lowering {

Value fconst(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}

float f32Attr(Operation *op, StringRef name, float dflt) {
  if (auto a = op->getAttrOfType<FloatAttr>(name))
    return a.getValueAsDouble();
  return dflt;
}

bool isFloat(Value v) { return isa<FloatType>(v.getType()); }

/// The indexing map of `operand` in an elementwise op over `result`: numpy
/// broadcasting, so size-1 dims the result expands read index 0 and missing
/// leading dims are not indexed.
AffineMap broadcastMap(RankedTensorType operand, RankedTensorType result) {
  MLIRContext *ctx = operand.getContext();
  int64_t rank = result.getRank(), offset = rank - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < operand.getRank(); ++d) {
    bool broadcast =
        operand.getDimSize(d) == 1 && result.getDimSize(d + offset) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(d + offset, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// A zero-filled tensor of `type` (a matmul or conv accumulator).
Value zeros(OpBuilder &rewriter, Location loc, RankedTensorType type) {
  Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                        type.getElementType());
  Value zero = arith::ConstantOp::create(
      rewriter, loc, rewriter.getZeroAttr(type.getElementType()));
  return linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
}

/// One parallel linalg.generic over `resultTy` whose inputs are read with
/// broadcastMap; `body` maps the inputs' scalars to the result's.
Value broadcastGeneric(
    OpBuilder &builder, Location loc, RankedTensorType resultTy, ValueRange ins,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = resultTy.getRank();
  SmallVector<AffineMap> maps;
  for (Value v : ins)
    maps.push_back(broadcastMap(cast<RankedTensorType>(v.getType()), resultTy));
  maps.push_back(builder.getMultiDimIdentityMap(rank));
  // A dynamic result dim takes its size from an operand whose matching dim
  // is dynamic too (operands are assumed to agree where neither is 1).
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < rank; ++d) {
    if (!resultTy.isDynamicDim(d))
      continue;
    Value size;
    for (Value v : ins) {
      auto t = cast<RankedTensorType>(v.getType());
      int64_t od = d - (rank - t.getRank());
      if (od >= 0 && t.isDynamicDim(od)) {
        size = tensor::DimOp::create(builder, loc, v, od);
        break;
      }
    }
    if (!size) {
      int64_t n = 1;
      for (Value v : ins) {
        auto t = cast<RankedTensorType>(v.getType());
        int64_t od = d - (rank - t.getRank());
        if (od >= 0)
          n = std::max(n, t.getDimSize(od));
      }
      size = arith::ConstantIndexOp::create(builder, loc, n);
    }
    sizes.push_back(size);
  }
  Value init = tensor::EmptyOp::create(builder, loc, resultTy, sizes);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             builder, loc, resultTy, ins, ValueRange{init}, maps, iterators,
             [&](OpBuilder &b, Location l, ValueRange args) {
               Value r = body(b, l, args.drop_back());
               linalg::YieldOp::create(b, l, r);
             })
      .getResult(0);
}

/// out = scale * acc + addendScale * addend (addend broadcast to acc).
Value scaleAndAdd(OpBuilder &rewriter, Location loc, Value acc, double scale,
                  Value addend, double addendScale) {
  auto type = cast<RankedTensorType>(acc.getType());
  SmallVector<Value> ins = {acc};
  if (addend)
    ins.push_back(addend);
  return broadcastGeneric(
      rewriter, loc, type, ins, [&](OpBuilder &b, Location l, ValueRange args) {
        Type t = type.getElementType();
        Value v = args[0];
        if (scale != 1.0)
          v = arith::MulFOp::create(b, l, v, fconst(b, l, t, scale));
        if (addend) {
          Value c = args[1];
          if (addendScale != 1.0)
            c = arith::MulFOp::create(b, l, c, fconst(b, l, t, addendScale));
          v = arith::AddFOp::create(b, l, v, c);
        }
        return v;
      });
}

Value wrapIndex(OpBuilder &b, Location loc, Value i, int64_t dim) {
  Value v = convertScalar(b, loc, i, b.getIndexType());
  Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v,
                                    cindex(b, loc, 0));
  return arith::SelectOp::create(
      b, loc, neg, arith::AddIOp::create(b, loc, v, cindex(b, loc, dim)), v);
}

Value addOf(OpBuilder &b, Location l, Value x, Value y) {
  return isFloat(x) ? Value(arith::AddFOp::create(b, l, x, y))
                    : Value(arith::AddIOp::create(b, l, x, y));
}
Value mulOf(OpBuilder &b, Location l, Value x, Value y) {
  return isFloat(x) ? Value(arith::MulFOp::create(b, l, x, y))
                    : Value(arith::MulIOp::create(b, l, x, y));
}
Value maxOf(OpBuilder &b, Location l, Value x, Value y) {
  return isFloat(x) ? Value(arith::MaximumFOp::create(b, l, x, y))
                    : Value(arith::MaxSIOp::create(b, l, x, y));
}
Value minOf(OpBuilder &b, Location l, Value x, Value y) {
  return isFloat(x) ? Value(arith::MinimumFOp::create(b, l, x, y))
                    : Value(arith::MinSIOp::create(b, l, x, y));
}

Value cindex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type, Value value) {
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

Value indexGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultTy,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body,
    ValueRange dynamicSizes) {
  int64_t rank = resultTy.getRank();
  Value init = tensor::EmptyOp::create(b, loc, resultTy, dynamicSizes);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, resultTy, ValueRange{}, ValueRange{init},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank)}, iterators,
             [&](OpBuilder &nb, Location l, ValueRange) {
               SmallVector<Value> ivs;
               for (int64_t d = 0; d < rank; ++d)
                 ivs.push_back(linalg::IndexOp::create(nb, l, d));
               linalg::YieldOp::create(nb, l, body(nb, l, ivs));
             })
      .getResult(0);
}

Value convertScalar(OpBuilder &b, Location loc, Value v, Type to,
                    bool srcUnsigned, bool dstUnsigned) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  if (fromF && toF)
    return fromF.getWidth() < toF.getWidth()
               ? Value(arith::ExtFOp::create(b, loc, to, v))
               : Value(arith::TruncFOp::create(b, loc, to, v));
  if (isa<IndexType>(from))
    return convertScalar(
        b, loc, arith::IndexCastOp::create(b, loc, b.getI64Type(), v), to);
  if (isa<IndexType>(to))
    return arith::IndexCastOp::create(b, loc, to,
                                      convertScalar(b, loc, v, b.getI64Type()));
  if (fromF) {
    if (to.isInteger(1))
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                   fconst(b, loc, from, 0.0));
    return dstUnsigned ? Value(arith::FPToUIOp::create(b, loc, to, v))
                       : Value(arith::FPToSIOp::create(b, loc, to, v));
  }
  bool fromBool = from.isInteger(1) || srcUnsigned;
  if (toF)
    return fromBool ? Value(arith::UIToFPOp::create(b, loc, to, v))
                    : Value(arith::SIToFPOp::create(b, loc, to, v));
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (tw == 1)
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne, v,
        arith::ConstantOp::create(b, loc, b.getZeroAttr(from)));
  if (fw < tw)
    return fromBool ? Value(arith::ExtUIOp::create(b, loc, to, v))
                    : Value(arith::ExtSIOp::create(b, loc, to, v));
  return arith::TruncIOp::create(b, loc, to, v);
}

std::optional<SmallVector<int64_t>> constantInts(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(x.getSExtValue());
  return out;
}

bool wasUnsigned(Operation *op, unsigned i) {
  auto flags =
      op->getAttrOfType<DenseBoolArrayAttr>(qc::QCDialect::kUnsignedAttrName);
  return flags && i < flags.size() && flags[i];
}

static Type signlessType(Type t) {
  if (auto i = dyn_cast<IntegerType>(t))
    return i.isSignless() ? t : IntegerType::get(t.getContext(), i.getWidth());
  if (auto r = dyn_cast<RankedTensorType>(t))
    return r.clone(signlessType(r.getElementType()));
  if (auto m = dyn_cast<MemRefType>(t))
    return MemRefType::Builder(m).setElementType(
        signlessType(m.getElementType()));
  return t;
}

static bool isUnsignedInt(Type t) {
  auto i = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
  return i && i.isUnsigned();
}

void makeSignless(Operation *root) {
  // Flags first: the type rewrite below changes values before all their
  // users are visited.
  root->walk([](Operation *op) {
    if (!isa<qc::QCDialect>(op->getDialect()))
      return;
    SmallVector<bool> flags;
    for (Type t : op->getOperandTypes())
      flags.push_back(isUnsignedInt(t));
    for (Type t : op->getResultTypes())
      flags.push_back(isUnsignedInt(t));
    if (llvm::is_contained(flags, true))
      op->setAttr(qc::QCDialect::kUnsignedAttrName,
                  DenseBoolArrayAttr::get(op->getContext(), flags));
  });
  root->walk([](Operation *op) {
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      Type t = signlessType(cst.getType());
      if (t != cst.getType()) {
        auto st = cast<ShapedType>(t);
        if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue()))
          cst.setValueAttr(dense.bitcast(st.getElementType()));
        else if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
          cst.setValueAttr(
              DenseResourceElementsAttr::get(st, res.getRawHandle()));
      }
    }
    if (auto fn = dyn_cast<func::FuncOp>(op)) {
      SmallVector<Type> ins, outs;
      for (Type t : fn.getArgumentTypes())
        ins.push_back(signlessType(t));
      for (Type t : fn.getResultTypes())
        outs.push_back(signlessType(t));
      fn.setFunctionType(FunctionType::get(op->getContext(), ins, outs));
    }
    for (OpResult r : op->getResults())
      r.setType(signlessType(r.getType()));
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          arg.setType(signlessType(arg.getType()));
  });
}

bool lowerableTypes(Operation *op, bool unsignedOk) {
  if (!unsignedOk && op->hasAttr(qc::QCDialect::kUnsignedAttrName))
    return false;
  auto ok = [](Type t) {
    auto tt = dyn_cast<RankedTensorType>(t);
    if (!tt || !tt.hasStaticShape())
      return false;
    Type e = tt.getElementType();
    return isa<FloatType, IndexType>(e) || e.isSignlessInteger();
  };
  return llvm::all_of(op->getOperandTypes(), ok) &&
         llvm::all_of(op->getResultTypes(), ok);
}

Value reshapeTo(OpBuilder &b, Location loc, Value v, RankedTensorType type) {
  if (v.getType() == type)
    return v;
  auto shapeTy = RankedTensorType::get({type.getRank()}, b.getI64Type());
  Value shape = arith::ConstantOp::create(
      b, loc, DenseIntElementsAttr::get(shapeTy, type.getShape()));
  return tensor::ReshapeOp::create(b, loc, type, v, shape);
}

bool staticFloat(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.hasStaticShape() && isa<FloatType>(t.getElementType());
}

/// Static float operands, or static i32 ones throughout (the int32
/// accumulation of the ONNX integer ops, see Quantization.cpp).
bool staticFloatOrI32(ValueRange values) {
  // i32, or the i64 of a 16-bit activation's product.
  auto allInt = [&](unsigned width) {
    return llvm::all_of(values, [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      return t.hasStaticShape() && t.getElementType().isSignlessInteger(width);
    });
  };
  return allInt(32) || allInt(64) || llvm::all_of(values, staticFloat);
}

} // namespace qc::lowering
