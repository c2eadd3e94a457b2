//===- QCToLinalg.cpp - qc elementwise ops to linalg.generic --------------===//
#include "qc/Conversion/Passes.h"
#include "Common.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"
#include <limits>

namespace qc {
#define GEN_PASS_DEF_CONVERTQCTOLINALG
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace qc::lowering {

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

Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(
      b, loc, fconst(b, loc, t, 1.0),
      arith::AddFOp::create(b, loc, fconst(b, loc, t, 1.0), e));
}

/// The scalar computation of an elementwise op, and whether it also handles
/// (signless) integer operands; the others are float-only.
struct ScalarLowering {
  ScalarFn fn;
  bool integers = false;
  /// Handles unsigned operands (reading the qc.unsigned flags) or does not
  /// depend on signedness.
  bool unsignedOk = false;
};

/// Float, signed or unsigned (operand 0's flag) binary arithmetic.
template <typename FOp, typename SIOp, typename UIOp>
ScalarFn arith2u() {
  return [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type) -> Value {
    if (isFloat(a[0]))
      return FOp::create(b, loc, a[0], a[1]);
    if (wasUnsigned(op, 0))
      return UIOp::create(b, loc, a[0], a[1]);
    return SIOp::create(b, loc, a[0], a[1]);
  };
}

ScalarFn compareU(arith::CmpFPredicate f, arith::CmpIPredicate s, arith::CmpIPredicate u) {
  return [=](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type) -> Value {
    if (isFloat(a[0]))
      return arith::CmpFOp::create(b, loc, f, a[0], a[1]);
    return arith::CmpIOp::create(b, loc, wasUnsigned(op, 0) ? u : s, a[0], a[1]);
  };
}

const llvm::StringMap<ScalarLowering> &scalarFns() {
  using CF = arith::CmpFPredicate;
  using CI = arith::CmpIPredicate;
  static const llvm::StringMap<ScalarLowering> fns = [] {
    llvm::StringMap<ScalarLowering> m;
    m["qc.add"] = {arith2<arith::AddFOp, arith::AddIOp>(), true, true};
    m["qc.sub"] = {arith2<arith::SubFOp, arith::SubIOp>(), true, true};
    m["qc.mul"] = {arith2<arith::MulFOp, arith::MulIOp>(), true, true};
    m["qc.div"] = {arith2u<arith::DivFOp, arith::DivSIOp, arith::DivUIOp>(), true, true};
    m["qc.max"] = {arith2u<arith::MaximumFOp, arith::MaxSIOp, arith::MaxUIOp>(), true, true};
    m["qc.min"] = {arith2u<arith::MinimumFOp, arith::MinSIOp, arith::MinUIOp>(), true, true};
    m["qc.sum"] = m["qc.add"];
    m["qc.pow"] = {[](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      // The exponent may have another type than the base (ONNX allows it).
      if (isFloat(a[0]))
        return math::PowFOp::create(b, loc, a[0],
                                    convertScalar(b, loc, a[1], t, wasUnsigned(op, 1)));
      if (isFloat(a[1])) // integer base, float exponent: in float, truncated
        return convertScalar(b, loc, math::PowFOp::create(b, loc, convertScalar(b, loc, a[0], a[1].getType()), a[1]), t);
      return math::IPowIOp::create(b, loc, a[0], convertScalar(b, loc, a[1], t));
    }, true, true};
    m["qc.exp"].fn = math1<math::ExpOp>();
    m["qc.log"].fn = math1<math::LogOp>();
    m["qc.sqrt"].fn = math1<math::SqrtOp>();
    m["qc.tanh"].fn = math1<math::TanhOp>();
    m["qc.erf"].fn = math1<math::ErfOp>();
    m["qc.floor"].fn = math1<math::FloorOp>();
    m["qc.ceil"].fn = math1<math::CeilOp>();
    m["qc.round"].fn = math1<math::RoundEvenOp>(); // ONNX Round: half to even
    m["qc.sin"].fn = math1<math::SinOp>();
    m["qc.cos"].fn = math1<math::CosOp>();
    m["qc.neg"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      if (isFloat(a[0]))
        return arith::NegFOp::create(b, loc, a[0]);
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(a[0].getType()));
      return arith::SubIOp::create(b, loc, zero, a[0]);
    }, true};
    m["qc.abs"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      if (isFloat(a[0]))
        return math::AbsFOp::create(b, loc, a[0]);
      return math::AbsIOp::create(b, loc, a[0]);
    }, true};
    m["qc.reciprocal"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      return arith::DivFOp::create(b, loc, fconst(b, loc, t, 1.0), a[0]);
    };
    m["qc.relu"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      return arith::MaximumFOp::create(b, loc, a[0], fconst(b, loc, t, 0.0));
    };
    m["qc.sigmoid"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return sigmoid(b, loc, a[0]);
    };
    m["qc.leakyrelu"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                        fconst(b, loc, t, 0.0));
      Value scaled = arith::MulFOp::create(
          b, loc, a[0], fconst(b, loc, t, f32Attr(op, "alpha", 0.01f)));
      return arith::SelectOp::create(b, loc, neg, scaled, a[0]);
    };
    m["qc.prelu"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                        fconst(b, loc, t, 0.0));
      return arith::SelectOp::create(b, loc, neg,
                                     arith::MulFOp::create(b, loc, a[0], a[1]), a[0]);
    };
    m["qc.hardsigmoid"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      Value v = arith::AddFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, a[0],
                                fconst(b, loc, t, f32Attr(op, "alpha", 0.2f))),
          fconst(b, loc, t, f32Attr(op, "beta", 0.5f)));
      v = arith::MaximumFOp::create(b, loc, v, fconst(b, loc, t, 0.0));
      return arith::MinimumFOp::create(b, loc, v, fconst(b, loc, t, 1.0));
    };
    m["qc.hardswish"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      // x * max(0, min(1, x / 6 + 1 / 2))
      Value v = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, 1.0 / 6.0)),
          fconst(b, loc, t, 0.5));
      v = arith::MaximumFOp::create(b, loc, v, fconst(b, loc, t, 0.0));
      v = arith::MinimumFOp::create(b, loc, v, fconst(b, loc, t, 1.0));
      return arith::MulFOp::create(b, loc, a[0], v);
    };
    m["qc.gelu"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      // 0.5 x (1 + erf(x / sqrt(2)))  (approximate = "tanh" is not lowered yet)
      Value e = math::ErfOp::create(
          b, loc, arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, M_SQRT1_2)));
      Value one = arith::AddFOp::create(b, loc, e, fconst(b, loc, t, 1.0));
      return arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, 0.5)), one);
    };
    m["qc.convert"] = {[](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      return convertScalar(b, loc, a[0], t, wasUnsigned(op, 0), wasUnsigned(op, 1));
    }, true, true};
    m["qc.bitshift"] = {[](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type) -> Value {
      auto dir = op->getAttrOfType<StringAttr>("direction");
      if (dir && dir.getValue() == "LEFT")
        return arith::ShLIOp::create(b, loc, a[0], a[1]);
      return arith::ShRUIOp::create(b, loc, a[0], a[1]);
    }, true, true};
    m["qc.clip"] = {[](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type) -> Value {
      Value v = a[0];
      bool u = wasUnsigned(op, 0);
      if (a.size() > 1)
        v = isFloat(v) ? Value(arith::MaximumFOp::create(b, loc, v, a[1]))
            : u        ? Value(arith::MaxUIOp::create(b, loc, v, a[1]))
                       : Value(arith::MaxSIOp::create(b, loc, v, a[1]));
      if (a.size() > 2)
        v = isFloat(v) ? Value(arith::MinimumFOp::create(b, loc, v, a[2]))
            : u        ? Value(arith::MinUIOp::create(b, loc, v, a[2]))
                       : Value(arith::MinSIOp::create(b, loc, v, a[2]));
      return v;
    }, true, true};
    m["qc.identity"] = {[](OpBuilder &, Location, Operation *, ValueRange a, Type) -> Value {
      return a[0];
    }, true, true};
    m["qc.sign"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
      if (isFloat(a[0])) {
        Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, a[0], zero);
        Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0], zero);
        return arith::SelectOp::create(b, loc, pos, fconst(b, loc, t, 1.0),
                                       arith::SelectOp::create(b, loc, neg, fconst(b, loc, t, -1.0), zero));
      }
      Value pos = arith::ExtUIOp::create(b, loc, t, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, a[0], zero));
      Value neg = arith::ExtUIOp::create(b, loc, t, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, a[0], zero));
      return arith::SubIOp::create(b, loc, pos, neg);
    }, true};
    m["qc.tan"].fn = math1<math::TanOp>();
    m["qc.asin"].fn = math1<math::AsinOp>();
    m["qc.acos"].fn = math1<math::AcosOp>();
    m["qc.atan"].fn = math1<math::AtanOp>();
    m["qc.sinh"].fn = math1<math::SinhOp>();
    m["qc.cosh"].fn = math1<math::CoshOp>();
    m["qc.asinh"].fn = math1<math::AsinhOp>();
    m["qc.acosh"].fn = math1<math::AcoshOp>();
    m["qc.atanh"].fn = math1<math::AtanhOp>();
    m["qc.softplus"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, a[0]));
    };
    m["qc.softsign"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      return arith::DivFOp::create(
          b, loc, a[0],
          arith::AddFOp::create(b, loc, fconst(b, loc, t, 1.0), math::AbsFOp::create(b, loc, a[0])));
    };
    m["qc.mish"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      Value sp = math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, a[0]));
      return arith::MulFOp::create(b, loc, a[0], math::TanhOp::create(b, loc, sp));
    };
    m["qc.isnan"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, a[0], a[0]);
    };
    m["qc.isinf"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type) -> Value {
      Type t = a[0].getType();
      Value inf = fconst(b, loc, t, INFINITY);
      Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, a[0], inf);
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, a[0],
                                        fconst(b, loc, t, -INFINITY));
      auto flag = [&](StringRef n) {
        auto attr = op->getAttrOfType<IntegerAttr>(n);
        return !attr || attr.getInt() != 0;
      };
      Value f = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
      return arith::OrIOp::create(b, loc, flag("detect_positive") ? pos : f,
                                  flag("detect_negative") ? neg : f);
    };
    m["qc.elu"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0], fconst(b, loc, t, 0.0));
      Value e = arith::MulFOp::create(b, loc, fconst(b, loc, t, f32Attr(op, "alpha", 1.0f)),
                                      math::ExpM1Op::create(b, loc, a[0]));
      return arith::SelectOp::create(b, loc, neg, e, a[0]);
    };
    m["qc.celu"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      // max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
      Value alpha = fconst(b, loc, t, f32Attr(op, "alpha", 1.0f));
      Value zero = fconst(b, loc, t, 0.0);
      Value e = arith::MulFOp::create(b, loc, alpha,
                                      math::ExpM1Op::create(b, loc, arith::DivFOp::create(b, loc, a[0], alpha)));
      return arith::AddFOp::create(b, loc, arith::MaximumFOp::create(b, loc, a[0], zero),
                                   arith::MinimumFOp::create(b, loc, e, zero));
    };
    m["qc.selu"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, a[0], fconst(b, loc, t, 0.0));
      Value alpha = fconst(b, loc, t, f32Attr(op, "alpha", 1.67326319217681884765625f));
      Value gamma = fconst(b, loc, t, f32Attr(op, "gamma", 1.05070102214813232421875f));
      Value e = arith::SubFOp::create(b, loc, arith::MulFOp::create(b, loc, alpha, math::ExpOp::create(b, loc, a[0])), alpha);
      return arith::MulFOp::create(b, loc, gamma, arith::SelectOp::create(b, loc, neg, e, a[0]));
    };
    m["qc.thresholdedrelu"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      Value gt = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, a[0],
                                       fconst(b, loc, t, f32Attr(op, "alpha", 1.0f)));
      return arith::SelectOp::create(b, loc, gt, a[0], fconst(b, loc, t, 0.0));
    };
    m["qc.shrink"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      Value lambd = fconst(b, loc, t, f32Attr(op, "lambd", 0.5f));
      Value bias = fconst(b, loc, t, f32Attr(op, "bias", 0.0f));
      Value below = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                          arith::NegFOp::create(b, loc, lambd));
      Value above = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, a[0], lambd);
      return arith::SelectOp::create(
          b, loc, below, arith::AddFOp::create(b, loc, a[0], bias),
          arith::SelectOp::create(b, loc, above, arith::SubFOp::create(b, loc, a[0], bias),
                                  fconst(b, loc, t, 0.0)));
    };
    for (StringRef name : {"qc.and", "qc.or", "qc.xor", "qc.not", "qc.where", "qc.sum"})
      m[name].unsignedOk = true;
    m["qc.bitwiseand"] = m["qc.and"];
    m["qc.bitwiseor"] = m["qc.or"];
    m["qc.bitwisexor"] = m["qc.xor"];
    m["qc.bitwisenot"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type t) -> Value {
      Value ones = arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, -1));
      return arith::XOrIOp::create(b, loc, a[0], ones);
    }, true, true};
    m["qc.mod"] = {[](OpBuilder &b, Location loc, Operation *op, ValueRange a, Type t) -> Value {
      auto fmod = op->getAttrOfType<IntegerAttr>("fmod");
      if (isFloat(a[0]))
        return arith::RemFOp::create(b, loc, a[0], a[1]);
      if (wasUnsigned(op, 0))
        return arith::RemUIOp::create(b, loc, a[0], a[1]);
      Value r = arith::RemSIOp::create(b, loc, a[0], a[1]);
      if (fmod && fmod.getInt())
        return r;
      // Python's %: the remainder takes the divisor's sign.
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
      Value nonzero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, r, zero);
      Value rNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, zero);
      Value bNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, a[1], zero);
      Value differ = arith::XOrIOp::create(b, loc, rNeg, bNeg);
      Value fix = arith::AndIOp::create(b, loc, nonzero, differ);
      return arith::SelectOp::create(b, loc, fix, arith::AddIOp::create(b, loc, r, a[1]), r);
    }, true, true};
    m["qc.equal"] = {compareU(CF::OEQ, CI::eq, CI::eq), true, true};
    m["qc.less"] = {compareU(CF::OLT, CI::slt, CI::ult), true, true};
    m["qc.greater"] = {compareU(CF::OGT, CI::sgt, CI::ugt), true, true};
    m["qc.lessorequal"] = {compareU(CF::OLE, CI::sle, CI::ule), true, true};
    m["qc.greaterorequal"] = {compareU(CF::OGE, CI::sge, CI::uge), true, true};
    m["qc.and"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::AndIOp::create(b, loc, a[0], a[1]);
    }, true};
    m["qc.or"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::OrIOp::create(b, loc, a[0], a[1]);
    }, true};
    m["qc.xor"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::XOrIOp::create(b, loc, a[0], a[1]);
    }, true};
    m["qc.not"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      Value one = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
      return arith::XOrIOp::create(b, loc, a[0], one);
    }, true};
    m["qc.where"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
      return arith::SelectOp::create(b, loc, a[0], a[1], a[2]);
    }, true};
    return m;
  }();
  return fns;
}

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
Value broadcastGeneric(OpBuilder &builder, Location loc,
                       RankedTensorType resultTy, ValueRange ins,
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
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             builder, loc, resultTy, ins, ValueRange{init}, maps, iterators,
             [&](OpBuilder &b, Location l, ValueRange args) {
               Value r = body(b, l, args.drop_back());
               linalg::YieldOp::create(b, l, r);
             })
      .getResult(0);
}

/// out = scale * acc + addendScale * addend (addend broadcast to acc).
Value scaleAndAdd(OpBuilder &rewriter, Location loc, Value acc,
                  double scale, Value addend, double addendScale) {
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
  Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v, cindex(b, loc, 0));
  return arith::SelectOp::create(b, loc, neg,
                                 arith::AddIOp::create(b, loc, v, cindex(b, loc, dim)), v);
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
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                        type.getElementType());
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

Value indexGeneric(OpBuilder &b, Location loc, RankedTensorType resultTy,
                   function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body,
                   ValueRange dynamicSizes) {
  int64_t rank = resultTy.getRank();
  Value init = tensor::EmptyOp::create(b, loc, resultTy, dynamicSizes);
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
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
    return convertScalar(b, loc, arith::IndexCastOp::create(b, loc, b.getI64Type(), v), to);
  if (isa<IndexType>(to))
    return arith::IndexCastOp::create(b, loc, to, convertScalar(b, loc, v, b.getI64Type()));
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
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
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
  auto flags = op->getAttrOfType<DenseBoolArrayAttr>(qc::QCDialect::kUnsignedAttrName);
  return flags && i < flags.size() && flags[i];
}

static Type signlessType(Type t) {
  if (auto i = dyn_cast<IntegerType>(t))
    return i.isSignless() ? t : IntegerType::get(t.getContext(), i.getWidth());
  if (auto r = dyn_cast<RankedTensorType>(t))
    return r.clone(signlessType(r.getElementType()));
  if (auto m = dyn_cast<MemRefType>(t))
    return MemRefType::Builder(m).setElementType(signlessType(m.getElementType()));
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
          cst.setValueAttr(DenseResourceElementsAttr::get(st, res.getRawHandle()));
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

} // namespace qc::lowering

using namespace qc::lowering;

namespace {

/// One linalg.generic over the result, operands read with broadcastMap.
struct ElementwiseToGeneric : RewritePattern {
  ElementwiseToGeneric(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    auto it = scalarFns().find(op->getName().getStringRef());
    if (it == scalarFns().end() || op->getNumResults() != 1)
      return failure();
    // Types are signless after makeSignless; formerly unsigned operands
    // need a computation that reads the flags.
    if (op->hasAttr(qc::QCDialect::kUnsignedAttrName) && !it->second.unsignedOk)
      return rewriter.notifyMatchFailure(op, "unsigned integers");
    // Where's condition is i1 whatever its values are.
    auto isFloatTensor = [](Value v) {
      return isa<FloatType>(getElementTypeOrSelf(v.getType()));
    };
    ValueRange data = op->getOperands();
    if (isa<qc::WhereOp>(op))
      data = data.drop_front();
    if (!it->second.integers && !llvm::all_of(data, isFloatTensor))
      return rewriter.notifyMatchFailure(op, "float-only op on integers");
    auto resultTy = cast<RankedTensorType>(op->getResult(0).getType());
    if (!llvm::all_of(op->getOperandTypes(), llvm::IsaPred<RankedTensorType>))
      return rewriter.notifyMatchFailure(op, "unranked operands");
    const ScalarFn &fn = it->second.fn;
    Value result = broadcastGeneric(
        rewriter, op->getLoc(), resultTy, op->getOperands(),
        [&](OpBuilder &b, Location l, ValueRange args) {
          return fn(b, l, op, args, resultTy.getElementType());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

bool staticFloat(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.hasStaticShape() && isa<FloatType>(t.getElementType());
}

/// Static float operands, or static i32 ones throughout (the int32
/// accumulation of the ONNX integer ops, see Quantization.cpp).
bool staticFloatOrI32(ValueRange values) {
  bool allI32 = llvm::all_of(values, [](Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    return t.hasStaticShape() && t.getElementType().isSignlessInteger(32);
  });
  return allI32 || llvm::all_of(values, staticFloat);
}

/// MatMul of matrices or of equal-batch 3-d tensors.
struct MatMulToLinalg : OpRewritePattern<qc::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloatOrI32({op.getA(), op.getB(), op.getY()}))
      return rewriter.notifyMatchFailure(op, "static float or i32 shapes only");
    auto a = cast<RankedTensorType>(op.getA().getType());
    auto b = cast<RankedTensorType>(op.getB().getType());
    bool matrices = a.getRank() == 2 && b.getRank() == 2;
    bool batched = a.getRank() == 3 && b.getRank() == 3 &&
                   a.getDimSize(0) == b.getDimSize(0);
    if (!matrices && !batched)
      return rewriter.notifyMatchFailure(op, "broadcast batch dims not lowered yet");
    auto y = cast<RankedTensorType>(op.getY().getType());
    Value acc = zeros(rewriter, op.getLoc(), y);
    if (matrices)
      rewriter.replaceOpWithNewOp<linalg::MatmulOp>(
          op, ValueRange{op.getA(), op.getB()}, ValueRange{acc});
    else
      rewriter.replaceOpWithNewOp<linalg::BatchMatmulOp>(
          op, ValueRange{op.getA(), op.getB()}, ValueRange{acc});
    return success();
  }
};

/// Gemm: Y = alpha * A' B' + beta * C, transposes first.
/// The transpose of a constant 2-d f32 weight, as a new constant (a
/// resource blob like the weights the importer writes); null when `v` is not
/// such a constant. Folding Gemm's transB this way keeps the weights'
/// transpose out of every run.
Value transposedConstant(OpBuilder &b, Location loc, Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!cst || !t || t.getRank() != 2 || !t.getElementType().isF32())
    return {};
  int64_t rows = t.getDimSize(0), cols = t.getDimSize(1);
  SmallVector<float> data;
  if (auto res = dyn_cast<DenseF32ResourceElementsAttr>(cst.getValue())) {
    std::optional<ArrayRef<float>> values = res.tryGetAsArrayRef();
    if (!values)
      return {};
    data.assign(values->begin(), values->end());
  } else if (auto dense = dyn_cast<DenseFPElementsAttr>(cst.getValue())) {
    for (APFloat f : dense.getValues<APFloat>())
      data.push_back(f.convertToFloat());
  } else {
    return {};
  }
  if (int64_t(data.size()) != rows * cols)
    return {};
  SmallVector<float> tr(data.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      tr[c * rows + r] = data[r * cols + c];
  auto ty = RankedTensorType::get({cols, rows}, t.getElementType());
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(tr));
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(ty, "transposed", std::move(blob)));
}

struct GemmToLinalg : OpRewritePattern<qc::GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::GemmOp op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloat(op.getA()) || !staticFloat(op.getB()) ||
        !staticFloat(op.getY()) || (op.getC() && !staticFloat(op.getC())))
      return rewriter.notifyMatchFailure(op, "static float shapes only");
    Location loc = op.getLoc();
    auto transpose = [&](Value v) -> Value {
      if (Value folded = transposedConstant(rewriter, loc, v))
        return folded;
      auto t = cast<RankedTensorType>(v.getType());
      auto ty = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)},
                                      t.getElementType());
      Value init = tensor::EmptyOp::create(rewriter, loc, ty.getShape(),
                                           ty.getElementType());
      return linalg::TransposeOp::create(rewriter, loc, v, init,
                                         ArrayRef<int64_t>{1, 0})
          .getResult()[0];
    };
    Value a = op.getTransA() ? transpose(op.getA()) : op.getA();
    Value b = op.getTransB() ? transpose(op.getB()) : op.getB();
    auto y = cast<RankedTensorType>(op.getY().getType());
    Value acc = linalg::MatmulOp::create(rewriter, loc, ValueRange{a, b},
                                         ValueRange{zeros(rewriter, loc, y)})
                    .getResult(0);
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    Value c = beta != 0.0 ? op.getC() : Value();
    if (alpha != 1.0 || c)
      acc = scaleAndAdd(rewriter, loc, acc, alpha, c, beta);
    rewriter.replaceOp(op, acc);
    return success();
  }
};

/// 2-d Conv, NCHW / FCHW, group 1: explicit pads through tensor.pad, then
/// linalg.conv_2d_nchw_fchw, then the bias along the channel dim.
struct ConvToLinalg : OpRewritePattern<qc::ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloatOrI32({op.getX(), op.getW(), op.getY()}))
      return rewriter.notifyMatchFailure(op, "static float or i32 shapes only");
    auto x = cast<RankedTensorType>(op.getX().getType());
    auto wTy = cast<RankedTensorType>(op.getW().getType());
    int64_t group = op.getGroupAttr().getInt();
    // Depthwise: one filter per input channel.
    bool depthwise = group > 1 && group == x.getDimSize(1) &&
                     group == wTy.getDimSize(0) && wTy.getDimSize(1) == 1;
    if (x.getRank() != 4 || (group != 1 && !depthwise) || op.getAutoPad() != "NOTSET")
      return rewriter.notifyMatchFailure(op, "2-d, group 1 or depthwise, explicit pads only");
    Location loc = op.getLoc();
    SmallVector<int64_t> pads(op.getPads().value_or(ArrayRef<int64_t>{0, 0, 0, 0}));
    SmallVector<int64_t> strides(op.getStrides().value_or(ArrayRef<int64_t>{1, 1}));
    SmallVector<int64_t> dilations(op.getDilations().value_or(ArrayRef<int64_t>{1, 1}));
    Value input = op.getX();
    if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
      SmallVector<int64_t> shape(x.getShape());
      shape[2] += pads[0] + pads[2];
      shape[3] += pads[1] + pads[3];
      auto paddedTy = RankedTensorType::get(shape, x.getElementType());
      Value zero = arith::ConstantOp::create(
          rewriter, loc, rewriter.getZeroAttr(x.getElementType()));
      SmallVector<OpFoldResult> lo = {rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
                                      rewriter.getIndexAttr(pads[0]),
                                      rewriter.getIndexAttr(pads[1])};
      SmallVector<OpFoldResult> hi = {rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
                                      rewriter.getIndexAttr(pads[2]),
                                      rewriter.getIndexAttr(pads[3])};
      input = tensor::PadOp::create(rewriter, loc, paddedTy, input, lo, hi, zero);
    }
    auto y = cast<RankedTensorType>(op.getY().getType());
    Value acc;
    if (depthwise) {
      Value w3 = reshapeTo(rewriter, loc, op.getW(),
                           RankedTensorType::get({wTy.getDimSize(0), wTy.getDimSize(2),
                                                  wTy.getDimSize(3)},
                                                 wTy.getElementType()));
      acc = linalg::DepthwiseConv2DNchwChwOp::create(
                rewriter, loc, y, ValueRange{input, w3}, ValueRange{zeros(rewriter, loc, y)},
                rewriter.getI64TensorAttr(strides), rewriter.getI64TensorAttr(dilations))
                .getResult(0);
    } else {
      acc = linalg::Conv2DNchwFchwOp::create(
                rewriter, loc, y, ValueRange{input, op.getW()},
                ValueRange{zeros(rewriter, loc, y)}, rewriter.getI64TensorAttr(strides),
                rewriter.getI64TensorAttr(dilations))
                .getResult(0);
    }
    if (Value bias = op.getB()) {
      // Bias [F] broadcast along dim 1: view it as [F, 1, 1].
      auto bt = cast<RankedTensorType>(bias.getType());
      auto bias3 = RankedTensorType::get({bt.getDimSize(0), 1, 1}, bt.getElementType());
      SmallVector<ReassociationIndices> reassoc = {{0, 1, 2}};
      Value b3 = tensor::ExpandShapeOp::create(rewriter, loc, bias3, bias, reassoc);
      acc = scaleAndAdd(rewriter, loc, acc, 1.0, b3, 1.0);
    }
    rewriter.replaceOp(op, acc);
    return success();
  }
};

/// Inference BatchNormalization: scale * (x - mean) / sqrt(var + eps) + B
/// with the [C] parameters read along dim 1, one linalg.generic.
struct BatchNormToLinalg : OpRewritePattern<qc::BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::BatchNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloat(op.getX()) || !staticFloat(op.getY()))
      return rewriter.notifyMatchFailure(op, "static float shapes only");
    auto y = cast<RankedTensorType>(op.getY().getType());
    int64_t rank = y.getRank();
    if (rank < 2)
      return rewriter.notifyMatchFailure(op, "needs a channel dim");
    MLIRContext *ctx = rewriter.getContext();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(1, ctx));
    SmallVector<AffineMap> maps = {id, channel, channel, channel, channel, id};
    Location loc = op.getLoc();
    Value init = tensor::EmptyOp::create(rewriter, loc, y.getShape(),
                                         y.getElementType());
    double eps = op.getEpsilon().convertToDouble();
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, y,
        ValueRange{op.getX(), op.getScale(), op.getB(), op.getInputMean(),
                   op.getInputVar()},
        ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Type t = y.getElementType();
          Value centered = arith::SubFOp::create(b, l, a[0], a[3]);
          Value stddev = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, a[4], fconst(b, l, t, eps)));
          Value v = arith::DivFOp::create(
              b, l, arith::MulFOp::create(b, l, centered, a[1]), stddev);
          Value r = arith::AddFOp::create(b, l, v, a[2]);
          linalg::YieldOp::create(b, l, r);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// GlobalAveragePool / GlobalMaxPool: a reduction over the spatial dims into
/// [N, C], the mean's division, then the unit spatial dims back.
template <typename OpTy, bool isMax>
struct GlobalPoolToLinalg : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloat(op.getX()) || !staticFloat(op.getY()))
      return rewriter.notifyMatchFailure(op, "static float shapes only");
    auto x = cast<RankedTensorType>(op.getX().getType());
    auto y = cast<RankedTensorType>(op.getY().getType());
    int64_t rank = x.getRank();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type t = x.getElementType();
    auto reducedTy = RankedTensorType::get({x.getDimSize(0), x.getDimSize(1)}, t);
    Value start = arith::ConstantOp::create(
        rewriter, loc,
        isMax ? rewriter.getFloatAttr(t, -std::numeric_limits<double>::infinity())
              : rewriter.getZeroAttr(t));
    Value init = linalg::FillOp::create(
                     rewriter, loc, start,
                     ValueRange{tensor::EmptyOp::create(rewriter, loc,
                                                        reducedTy.getShape(), t)})
                     .getResult(0);
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::reduction);
    iterators[0] = iterators[1] = utils::IteratorType::parallel;
    AffineMap out = AffineMap::get(
        rank, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    Value reduced =
        linalg::GenericOp::create(
            rewriter, loc, reducedTy, ValueRange{op.getX()}, ValueRange{init},
            SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank), out},
            iterators,
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value r = isMax ? Value(arith::MaximumFOp::create(b, l, a[0], a[1]))
                              : Value(arith::AddFOp::create(b, l, a[0], a[1]));
              linalg::YieldOp::create(b, l, r);
            })
            .getResult(0);
    if (!isMax) {
      int64_t count = 1;
      for (int64_t d = 2; d < rank; ++d)
        count *= x.getDimSize(d);
      reduced = scaleAndAdd(rewriter, loc, reduced, 1.0 / double(count), Value(), 1.0);
    }
    SmallVector<ReassociationIndices> reassoc = {{0}, {}};
    for (int64_t d = 1; d < rank; ++d)
      reassoc[1].push_back(d);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, y, reduced, reassoc);
    return success();
  }
};

struct ConvertQCToLinalgPass
    : qc::impl::ConvertQCToLinalgBase<ConvertQCToLinalgPass> {
  using ConvertQCToLinalgBase::ConvertQCToLinalgBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<ElementwiseToGeneric, MatMulToLinalg, GemmToLinalg,
                 ConvToLinalg, BatchNormToLinalg,
                 GlobalPoolToLinalg<qc::GlobalAveragePoolOp, false>,
                 GlobalPoolToLinalg<qc::GlobalMaxPoolOp, true>>(ctx);
    populateIndexingPatterns(patterns);
    populateHadamardPatterns(patterns);
    populateDynamicQuantizationPatterns(patterns);
    populateReductionPatterns(patterns);
    populateQuantizationPatterns(patterns);
    populateScatterPatterns(patterns);
    populateWindowPatterns(patterns);
    populateControlPatterns(patterns);
    populateIntegerOpPatterns(patterns);
    if (int8Kernels != "none") {
      if (int8Kernels != "vnni" && int8Kernels != "generic") {
        getOperation()->emitError() << "convert-qc-to-linalg: int8-kernels must be vnni, "
                                       "generic or none, not '" << int8Kernels << "'";
        return signalPassFailure();
      }
      populateKernelPatterns(patterns, int8Kernels, std::max(1u, unsigned(kernelTasks)));
    }
    if (f32Kernels != "none") {
      if (f32Kernels != "avx512") {
        getOperation()->emitError() << "convert-qc-to-linalg: f32-kernels must be avx512 "
                                       "or none, not '" << f32Kernels << "'";
        return signalPassFailure();
      }
      populateF32KernelPatterns(patterns, std::max(1u, unsigned(kernelTasks)));
    }
    makeSignless(getOperation());
    if (failed(lowerQuantizedTypes(getOperation())))
      return signalPassFailure();
    // Ops this cannot lower yet (dynamic shapes, no pattern) stay.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)) ||
        failed(declareKernels(getOperation())))
      signalPassFailure();
  }
};

} // namespace
