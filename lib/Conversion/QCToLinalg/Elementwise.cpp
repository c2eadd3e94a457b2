//===- Elementwise.cpp - qc elementwise ops to linalg.generic -------------===//
//
// One table, keyed by op name, of the scalar computation of each elementwise
// op (unary math and activations, binary arithmetic, comparisons, logic,
// Where), and the one pattern that builds a broadcast linalg.generic from it.
//
//===----------------------------------------------------------------------===//
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
namespace {

/// Builds the scalar result of one element from the operands' elements.
using ScalarFn =
    std::function<Value(OpBuilder &, Location, Operation *, ValueRange, Type)>;

/// Float-or-integer binary arithmetic; integers are signless, read as signed
/// (ONNX int8..int64).
template <typename FOp, typename SIOp>
ScalarFn arith2() {
  return
      [](OpBuilder &b, Location loc, Operation *, ValueRange a, Type) -> Value {
        if (isFloat(a[0]))
          return FOp::create(b, loc, a[0], a[1]);
        return SIOp::create(b, loc, a[0], a[1]);
      };
}

template <typename FOp>
ScalarFn math1() {
  return [](OpBuilder &b, Location loc, Operation *, ValueRange a,
            Type) -> Value { return FOp::create(b, loc, a[0]); };
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
  return [](OpBuilder &b, Location loc, Operation *op, ValueRange a,
            Type) -> Value {
    if (isFloat(a[0]))
      return FOp::create(b, loc, a[0], a[1]);
    if (wasUnsigned(op, 0))
      return UIOp::create(b, loc, a[0], a[1]);
    return SIOp::create(b, loc, a[0], a[1]);
  };
}

ScalarFn compareU(arith::CmpFPredicate f, arith::CmpIPredicate s,
                  arith::CmpIPredicate u) {
  return [=](OpBuilder &b, Location loc, Operation *op, ValueRange a,
             Type) -> Value {
    if (isFloat(a[0]))
      return arith::CmpFOp::create(b, loc, f, a[0], a[1]);
    return arith::CmpIOp::create(b, loc, wasUnsigned(op, 0) ? u : s, a[0],
                                 a[1]);
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
    m["qc.div"] = {arith2u<arith::DivFOp, arith::DivSIOp, arith::DivUIOp>(),
                   true, true};
    m["qc.max"] = {arith2u<arith::MaximumFOp, arith::MaxSIOp, arith::MaxUIOp>(),
                   true, true};
    m["qc.min"] = {arith2u<arith::MinimumFOp, arith::MinSIOp, arith::MinUIOp>(),
                   true, true};
    m["qc.sum"] = m["qc.add"];
    m["qc.pow"] = {
        [](OpBuilder &b, Location loc, Operation *op, ValueRange a,
           Type t) -> Value {
          // The exponent may have another type than the base (ONNX allows it).
          if (isFloat(a[0]))
            return math::PowFOp::create(
                b, loc, a[0],
                convertScalar(b, loc, a[1], t, wasUnsigned(op, 1)));
          if (isFloat(
                  a[1])) // integer base, float exponent: in float, truncated
            return convertScalar(
                b, loc,
                math::PowFOp::create(
                    b, loc, convertScalar(b, loc, a[0], a[1].getType()), a[1]),
                t);
          return math::IPowIOp::create(b, loc, a[0],
                                       convertScalar(b, loc, a[1], t));
        },
        true, true};
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
    m["qc.neg"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a,
                      Type) -> Value {
                     if (isFloat(a[0]))
                       return arith::NegFOp::create(b, loc, a[0]);
                     Value zero = arith::ConstantOp::create(
                         b, loc, b.getZeroAttr(a[0].getType()));
                     return arith::SubIOp::create(b, loc, zero, a[0]);
                   },
                   true};
    m["qc.abs"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a,
                      Type) -> Value {
                     if (isFloat(a[0]))
                       return math::AbsFOp::create(b, loc, a[0]);
                     return math::AbsIOp::create(b, loc, a[0]);
                   },
                   true};
    m["qc.reciprocal"].fn = [](OpBuilder &b, Location loc, Operation *,
                               ValueRange a, Type t) -> Value {
      return arith::DivFOp::create(b, loc, fconst(b, loc, t, 1.0), a[0]);
    };
    m["qc.relu"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a,
                         Type t) -> Value {
      return arith::MaximumFOp::create(b, loc, a[0], fconst(b, loc, t, 0.0));
    };
    m["qc.sigmoid"].fn = [](OpBuilder &b, Location loc, Operation *,
                            ValueRange a,
                            Type) -> Value { return sigmoid(b, loc, a[0]); };
    m["qc.leakyrelu"].fn = [](OpBuilder &b, Location loc, Operation *op,
                              ValueRange a, Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                        fconst(b, loc, t, 0.0));
      Value scaled = arith::MulFOp::create(
          b, loc, a[0], fconst(b, loc, t, f32Attr(op, "alpha", 0.01f)));
      return arith::SelectOp::create(b, loc, neg, scaled, a[0]);
    };
    m["qc.prelu"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a,
                          Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                        fconst(b, loc, t, 0.0));
      return arith::SelectOp::create(
          b, loc, neg, arith::MulFOp::create(b, loc, a[0], a[1]), a[0]);
    };
    m["qc.hardsigmoid"].fn = [](OpBuilder &b, Location loc, Operation *op,
                                ValueRange a, Type t) -> Value {
      Value v = arith::AddFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, a[0],
                                fconst(b, loc, t, f32Attr(op, "alpha", 0.2f))),
          fconst(b, loc, t, f32Attr(op, "beta", 0.5f)));
      v = arith::MaximumFOp::create(b, loc, v, fconst(b, loc, t, 0.0));
      return arith::MinimumFOp::create(b, loc, v, fconst(b, loc, t, 1.0));
    };
    m["qc.hardswish"].fn = [](OpBuilder &b, Location loc, Operation *,
                              ValueRange a, Type t) -> Value {
      // x * max(0, min(1, x / 6 + 1 / 2))
      Value v = arith::AddFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, 1.0 / 6.0)),
          fconst(b, loc, t, 0.5));
      v = arith::MaximumFOp::create(b, loc, v, fconst(b, loc, t, 0.0));
      v = arith::MinimumFOp::create(b, loc, v, fconst(b, loc, t, 1.0));
      return arith::MulFOp::create(b, loc, a[0], v);
    };
    m["qc.gelu"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a,
                         Type t) -> Value {
      // 0.5 x (1 + erf(x / sqrt(2)))  (approximate = "tanh" is not lowered yet)
      Value e = math::ErfOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, M_SQRT1_2)));
      Value one = arith::AddFOp::create(b, loc, e, fconst(b, loc, t, 1.0));
      return arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, a[0], fconst(b, loc, t, 0.5)),
          one);
    };
    m["qc.convert"] = {[](OpBuilder &b, Location loc, Operation *op,
                          ValueRange a, Type t) -> Value {
                         return convertScalar(b, loc, a[0], t,
                                              wasUnsigned(op, 0),
                                              wasUnsigned(op, 1));
                       },
                       true, true};
    m["qc.bitshift"] = {[](OpBuilder &b, Location loc, Operation *op,
                           ValueRange a, Type) -> Value {
                          auto dir = op->getAttrOfType<StringAttr>("direction");
                          if (dir && dir.getValue() == "LEFT")
                            return arith::ShLIOp::create(b, loc, a[0], a[1]);
                          return arith::ShRUIOp::create(b, loc, a[0], a[1]);
                        },
                        true, true};
    m["qc.clip"] = {
        [](OpBuilder &b, Location loc, Operation *op, ValueRange a,
           Type) -> Value {
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
        },
        true, true};
    m["qc.identity"] = {[](OpBuilder &, Location, Operation *, ValueRange a,
                           Type) -> Value { return a[0]; },
                        true, true};
    m["qc.sign"] = {
        [](OpBuilder &b, Location loc, Operation *, ValueRange a,
           Type t) -> Value {
          Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
          if (isFloat(a[0])) {
            Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                              a[0], zero);
            Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                              a[0], zero);
            return arith::SelectOp::create(
                b, loc, pos, fconst(b, loc, t, 1.0),
                arith::SelectOp::create(b, loc, neg, fconst(b, loc, t, -1.0),
                                        zero));
          }
          Value pos = arith::ExtUIOp::create(
              b, loc, t,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, a[0],
                                    zero));
          Value neg = arith::ExtUIOp::create(
              b, loc, t,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, a[0],
                                    zero));
          return arith::SubIOp::create(b, loc, pos, neg);
        },
        true};
    m["qc.tan"].fn = math1<math::TanOp>();
    m["qc.asin"].fn = math1<math::AsinOp>();
    m["qc.acos"].fn = math1<math::AcosOp>();
    m["qc.atan"].fn = math1<math::AtanOp>();
    m["qc.sinh"].fn = math1<math::SinhOp>();
    m["qc.cosh"].fn = math1<math::CoshOp>();
    m["qc.asinh"].fn = math1<math::AsinhOp>();
    m["qc.acosh"].fn = math1<math::AcoshOp>();
    m["qc.atanh"].fn = math1<math::AtanhOp>();
    m["qc.softplus"].fn = [](OpBuilder &b, Location loc, Operation *,
                             ValueRange a, Type) -> Value {
      return math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, a[0]));
    };
    m["qc.softsign"].fn = [](OpBuilder &b, Location loc, Operation *,
                             ValueRange a, Type t) -> Value {
      return arith::DivFOp::create(
          b, loc, a[0],
          arith::AddFOp::create(b, loc, fconst(b, loc, t, 1.0),
                                math::AbsFOp::create(b, loc, a[0])));
    };
    m["qc.mish"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a,
                         Type) -> Value {
      Value sp =
          math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, a[0]));
      return arith::MulFOp::create(b, loc, a[0],
                                   math::TanhOp::create(b, loc, sp));
    };
    m["qc.isnan"].fn = [](OpBuilder &b, Location loc, Operation *, ValueRange a,
                          Type) -> Value {
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, a[0],
                                   a[0]);
    };
    m["qc.isinf"].fn = [](OpBuilder &b, Location loc, Operation *op,
                          ValueRange a, Type) -> Value {
      Type t = a[0].getType();
      Value inf = fconst(b, loc, t, INFINITY);
      Value pos =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, a[0], inf);
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
    m["qc.elu"].fn = [](OpBuilder &b, Location loc, Operation *op, ValueRange a,
                        Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                        fconst(b, loc, t, 0.0));
      Value e = arith::MulFOp::create(
          b, loc, fconst(b, loc, t, f32Attr(op, "alpha", 1.0f)),
          math::ExpM1Op::create(b, loc, a[0]));
      return arith::SelectOp::create(b, loc, neg, e, a[0]);
    };
    m["qc.celu"].fn = [](OpBuilder &b, Location loc, Operation *op,
                         ValueRange a, Type t) -> Value {
      // max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
      Value alpha = fconst(b, loc, t, f32Attr(op, "alpha", 1.0f));
      Value zero = fconst(b, loc, t, 0.0);
      Value e = arith::MulFOp::create(
          b, loc, alpha,
          math::ExpM1Op::create(b, loc,
                                arith::DivFOp::create(b, loc, a[0], alpha)));
      return arith::AddFOp::create(
          b, loc, arith::MaximumFOp::create(b, loc, a[0], zero),
          arith::MinimumFOp::create(b, loc, e, zero));
    };
    m["qc.selu"].fn = [](OpBuilder &b, Location loc, Operation *op,
                         ValueRange a, Type t) -> Value {
      Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, a[0],
                                        fconst(b, loc, t, 0.0));
      Value alpha =
          fconst(b, loc, t, f32Attr(op, "alpha", 1.67326319217681884765625f));
      Value gamma =
          fconst(b, loc, t, f32Attr(op, "gamma", 1.05070102214813232421875f));
      Value e = arith::SubFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, alpha,
                                math::ExpOp::create(b, loc, a[0])),
          alpha);
      return arith::MulFOp::create(
          b, loc, gamma, arith::SelectOp::create(b, loc, neg, e, a[0]));
    };
    m["qc.thresholdedrelu"].fn = [](OpBuilder &b, Location loc, Operation *op,
                                    ValueRange a, Type t) -> Value {
      Value gt =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, a[0],
                                fconst(b, loc, t, f32Attr(op, "alpha", 1.0f)));
      return arith::SelectOp::create(b, loc, gt, a[0], fconst(b, loc, t, 0.0));
    };
    m["qc.shrink"].fn = [](OpBuilder &b, Location loc, Operation *op,
                           ValueRange a, Type t) -> Value {
      Value lambd = fconst(b, loc, t, f32Attr(op, "lambd", 0.5f));
      Value bias = fconst(b, loc, t, f32Attr(op, "bias", 0.0f));
      Value below =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0],
                                arith::NegFOp::create(b, loc, lambd));
      Value above =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, a[0], lambd);
      return arith::SelectOp::create(
          b, loc, below, arith::AddFOp::create(b, loc, a[0], bias),
          arith::SelectOp::create(b, loc, above,
                                  arith::SubFOp::create(b, loc, a[0], bias),
                                  fconst(b, loc, t, 0.0)));
    };
    for (StringRef name :
         {"qc.and", "qc.or", "qc.xor", "qc.not", "qc.where", "qc.sum"})
      m[name].unsignedOk = true;
    m["qc.bitwiseand"] = m["qc.and"];
    m["qc.bitwiseor"] = m["qc.or"];
    m["qc.bitwisexor"] = m["qc.xor"];
    m["qc.bitwisenot"] = {[](OpBuilder &b, Location loc, Operation *,
                             ValueRange a, Type t) -> Value {
                            Value ones = arith::ConstantOp::create(
                                b, loc, b.getIntegerAttr(t, -1));
                            return arith::XOrIOp::create(b, loc, a[0], ones);
                          },
                          true, true};
    m["qc.mod"] = {
        [](OpBuilder &b, Location loc, Operation *op, ValueRange a,
           Type t) -> Value {
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
          Value nonzero =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, r, zero);
          Value rNeg =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, zero);
          Value bNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                             a[1], zero);
          Value differ = arith::XOrIOp::create(b, loc, rNeg, bNeg);
          Value fix = arith::AndIOp::create(b, loc, nonzero, differ);
          return arith::SelectOp::create(
              b, loc, fix, arith::AddIOp::create(b, loc, r, a[1]), r);
        },
        true, true};
    m["qc.equal"] = {compareU(CF::OEQ, CI::eq, CI::eq), true, true};
    m["qc.less"] = {compareU(CF::OLT, CI::slt, CI::ult), true, true};
    m["qc.greater"] = {compareU(CF::OGT, CI::sgt, CI::ugt), true, true};
    m["qc.lessorequal"] = {compareU(CF::OLE, CI::sle, CI::ule), true, true};
    m["qc.greaterorequal"] = {compareU(CF::OGE, CI::sge, CI::uge), true, true};
    m["qc.and"] = {
        [](OpBuilder &b, Location loc, Operation *, ValueRange a,
           Type) -> Value { return arith::AndIOp::create(b, loc, a[0], a[1]); },
        true};
    m["qc.or"] = {
        [](OpBuilder &b, Location loc, Operation *, ValueRange a,
           Type) -> Value { return arith::OrIOp::create(b, loc, a[0], a[1]); },
        true};
    m["qc.xor"] = {
        [](OpBuilder &b, Location loc, Operation *, ValueRange a,
           Type) -> Value { return arith::XOrIOp::create(b, loc, a[0], a[1]); },
        true};
    m["qc.not"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a,
                      Type) -> Value {
                     Value one =
                         arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
                     return arith::XOrIOp::create(b, loc, a[0], one);
                   },
                   true};
    m["qc.where"] = {[](OpBuilder &b, Location loc, Operation *, ValueRange a,
                        Type) -> Value {
                       return arith::SelectOp::create(b, loc, a[0], a[1], a[2]);
                     },
                     true};
    return m;
  }();
  return fns;
}

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
    Value result =
        broadcastGeneric(rewriter, op->getLoc(), resultTy, op->getOperands(),
                         [&](OpBuilder &b, Location l, ValueRange args) {
                           return fn(b, l, op, args, resultTy.getElementType());
                         });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseToGeneric>(patterns.getContext());
}

} // namespace qc::lowering
