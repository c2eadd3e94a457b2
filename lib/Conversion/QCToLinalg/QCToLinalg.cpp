//===- QCToLinalg.cpp - qc elementwise ops to linalg.generic --------------===//
#include "qc/Conversion/Passes.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/IR/AffineMap.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"

namespace qc {
#define GEN_PASS_DEF_CONVERTQCTOLINALG
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// Builds the scalar result of one element from the operands' elements.
using ScalarFn =
    std::function<Value(OpBuilder &, Location, Operation *, ValueRange, Type)>;

Value fconst(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}

float f32Attr(Operation *op, StringRef name, float dflt) {
  if (auto a = op->getAttrOfType<FloatAttr>(name))
    return a.getValueAsDouble();
  return dflt;
}

bool isFloat(Value v) { return isa<FloatType>(v.getType()); }

/// Float-or-integer binary arithmetic; integers are signless, read as signed
/// (ONNX int8..int64).
template <typename FOp, typename SIOp>
ScalarFn arith2() {
  return [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
    if (isFloat(a[0]))
      return FOp::create(b, loc, a[0], a[1]);
    return SIOp::create(b, loc, a[0], a[1]);
  };
}

template <typename FOp>
ScalarFn math1() {
  return [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
    return FOp::create(b, loc, a[0]);
  };
}

ScalarFn compare(arith::CmpFPredicate f, arith::CmpIPredicate s) {
  return [=](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
    if (isFloat(a[0]))
      return arith::CmpFOp::create(b, loc, f, a[0], a[1]);
    return arith::CmpIOp::create(b, loc, s, a[0], a[1]);
  };
}

Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(
      b, loc, fconst(b, loc, t, 1.0),
      arith::AddFOp::create(b, loc, fconst(b, loc, t, 1.0), e));
}

const llvm::StringMap<ScalarFn> &scalarFns() {
  using CF = arith::CmpFPredicate;
  using CI = arith::CmpIPredicate;
  static const llvm::StringMap<ScalarFn> fns = [] {
    llvm::StringMap<ScalarFn> m;
    m["qc.add"] = arith2<arith::AddFOp, arith::AddIOp>();
    m["qc.sub"] = arith2<arith::SubFOp, arith::SubIOp>();
    m["qc.mul"] = arith2<arith::MulFOp, arith::MulIOp>();
    m["qc.div"] = arith2<arith::DivFOp, arith::DivSIOp>();
    m["qc.max"] = arith2<arith::MaximumFOp, arith::MaxSIOp>();
    m["qc.min"] = arith2<arith::MinimumFOp, arith::MinSIOp>();
    m["qc.sum"] = m["qc.add"];
    m["qc.pow"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return math::PowFOp::create(b, loc, a[0], a[1]);
    };
    m["qc.exp"] = math1<math::ExpOp>();
    m["qc.log"] = math1<math::LogOp>();
    m["qc.sqrt"] = math1<math::SqrtOp>();
    m["qc.tanh"] = math1<math::TanhOp>();
    m["qc.erf"] = math1<math::ErfOp>();
    m["qc.floor"] = math1<math::FloorOp>();
    m["qc.ceil"] = math1<math::CeilOp>();
    m["qc.round"] = math1<math::RoundEvenOp>(); // ONNX Round: half to even
    m["qc.sin"] = math1<math::SinOp>();
    m["qc.cos"] = math1<math::CosOp>();
    m["qc.neg"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      if (isFloat(a[0]))
        return arith::NegFOp::create(b, loc, a[0]);
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(a[0].getType()));
      return arith::SubIOp::create(b, loc, zero, a[0]);
    };
    m["qc.abs"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      if (isFloat(a[0]))
        return math::AbsFOp::create(b, loc, a[0]);
      return math::AbsIOp::create(b, loc, a[0]);
    };
    m["qc.reciprocal"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      return arith::DivFOp::create(b, loc, fconst(b, loc, t, 1.0), a[0]);
    };
    m["qc.relu"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      return arith::MaximumFOp::create(b, loc, a[0], fconst(b, loc, t, 0.0));
    };
    m["qc.sigmoid"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return sigmoid(b, loc, a[0]);
    };
    m["qc.leakyrelu"] = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                        fconst(b, loc, t, 0.0));
      Value scaled = arith::MulFOp::create(
          b, loc, a[0], fconst(b, loc, t, f32Attr(op, "alpha", 0.01f)));
      return arith::SelectOp::create(b, loc, neg, scaled, a[0]);
    };
    m["qc.prelu"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                        fconst(b, loc, t, 0.0));
      return arith::SelectOp::create(b, loc, neg,
                                     arith::MulFOp::create(b, loc, a[0], a[1]), a[0]);
    };
    m["qc.hardsigmoid"] = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      Value v = arith::AddFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, a[0],
                                fconst(b, loc, t, f32Attr(op, "alpha", 0.2f))),
          fconst(b, loc, t, f32Attr(op, "beta", 0.5f)));
      v = arith::MaximumFOp::create(b, loc, v, fconst(b, loc, t, 0.0));
      return arith::MinimumFOp::create(b, loc, v, fconst(b, loc, t, 1.0));
    };
    m["qc.hardswish"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      // x * max(0, min(1, x / 6 + 1 / 2))
      Value v = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, 1.0 / 6.0)),
          fconst(b, loc, t, 0.5));
      v = arith::MaximumFOp::create(b, loc, v, fconst(b, loc, t, 0.0));
      v = arith::MinimumFOp::create(b, loc, v, fconst(b, loc, t, 1.0));
      return arith::MulFOp::create(b, loc, a[0], v);
    };
    m["qc.gelu"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      // 0.5 x (1 + erf(x / sqrt(2)))  (approximate = "tanh" is not lowered yet)
      Value e = math::ErfOp::create(
          b, loc, arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, M_SQRT1_2)));
      Value one = arith::AddFOp::create(b, loc, e, fconst(b, loc, t, 1.0));
      return arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, 0.5)), one);
    };
    m["qc.equal"] = compare(CF::OEQ, CI::eq);
    m["qc.less"] = compare(CF::OLT, CI::slt);
    m["qc.greater"] = compare(CF::OGT, CI::sgt);
    m["qc.lessorequal"] = compare(CF::OLE, CI::sle);
    m["qc.greaterorequal"] = compare(CF::OGE, CI::sge);
    m["qc.and"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::AndIOp::create(b, loc, a[0], a[1]);
    };
    m["qc.or"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::OrIOp::create(b, loc, a[0], a[1]);
    };
    m["qc.xor"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::XOrIOp::create(b, loc, a[0], a[1]);
    };
    m["qc.not"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      Value one = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
      return arith::XOrIOp::create(b, loc, a[0], one);
    };
    m["qc.where"] = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::SelectOp::create(b, loc, a[0], a[1], a[2]);
    };
    return m;
  }();
  return fns;
}

/// One linalg.generic over the result; operand dims of size 1 that the
/// result broadcasts are read at index 0, missing leading dims not at all.
struct ElementwiseToGeneric : RewritePattern {
  ElementwiseToGeneric(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    auto it = scalarFns().find(op->getName().getStringRef());
    if (it == scalarFns().end() || op->getNumResults() != 1)
      return failure();
    // Unsigned and explicitly signed integers need a conversion to
    // signless ones first; not lowered yet.
    auto signless = [](Type t) {
      Type e = getElementTypeOrSelf(t);
      return !isa<IntegerType>(e) || e.isSignlessInteger();
    };
    if (!llvm::all_of(op->getOperandTypes(), signless) ||
        !llvm::all_of(op->getResultTypes(), signless))
      return rewriter.notifyMatchFailure(op, "non-signless integers");
    ValueRange operands = op->getOperands();
    auto resultTy = cast<RankedTensorType>(op->getResult(0).getType());
    if (!resultTy.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic result shape");
    int64_t rank = resultTy.getRank();
    Location loc = op->getLoc();
    MLIRContext *ctx = rewriter.getContext();

    SmallVector<AffineMap> maps;
    for (Value v : operands) {
      auto t = cast<RankedTensorType>(v.getType());
      if (!t.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic operand shape");
      SmallVector<AffineExpr> exprs;
      int64_t offset = rank - t.getRank();
      for (int64_t d = 0; d < t.getRank(); ++d) {
        bool broadcast = t.getDimSize(d) == 1 && resultTy.getDimSize(d + offset) != 1;
        exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                                  : getAffineDimExpr(d + offset, ctx));
      }
      maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));

    Value init = tensor::EmptyOp::create(rewriter, loc, resultTy.getShape(),
                                         resultTy.getElementType());
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    const ScalarFn &fn = it->second;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, resultTy, operands, ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value r = fn(b, l, op, args.drop_back(), resultTy.getElementType());
          linalg::YieldOp::create(b, l, r);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct ConvertQCToLinalgPass
    : qc::impl::ConvertQCToLinalgBase<ConvertQCToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<ElementwiseToGeneric>(ctx);
    // Ops this cannot lower yet (dynamic shapes, unsigned integers) stay.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
