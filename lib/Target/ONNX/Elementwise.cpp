//===- Elementwise.cpp - ONNX elementwise, activation, constant handlers --===//
#include "ModelImporter.h"
#include "NodeImporter.h"

#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/BuiltinAttributes.h"
#include <cmath>
#include <limits>

using namespace mlir;
using namespace qc::onnx_import;

namespace {

/// Max, Min, Sum: a left fold of two-operand ops; Mean: Sum, then / n.
LogicalResult importVariadic(NodeImporter &n, StringRef opName, bool mean) {
  SmallVector<Value> in;
  for (Value v : n.inputs)
    if (v)
      in.push_back(v);
  if (in.empty())
    return n.error() << "needs at least one input";
  Value acc = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    auto a = cast<RankedTensorType>(acc.getType());
    auto b = cast<RankedTensorType>(in[i].getType());
    SmallVector<int64_t> shape;
    if (!OpTrait::util::getBroadcastedShape(a.getShape(), b.getShape(), shape))
      return n.error() << "inputs " << a << " and " << b << " do not broadcast";
    acc = n.create(opName, {acc, in[i]},
                   RankedTensorType::get(shape, a.getElementType()));
  }
  if (mean && in.size() > 1) {
    auto t = cast<RankedTensorType>(acc.getType());
    Value count = n.splat(RankedTensorType::get({}, t.getElementType()),
                          double(in.size()));
    acc = n.create("qc.div", {acc, count}, t);
  }
  n.results = {acc};
  return success();
}

/// Clip: before opset 11 min/max are attributes; from 11 optional inputs.
LogicalResult importClip(NodeImporter &n) {
  RankedTensorType t = n.inputType(0);
  auto scalar = RankedTensorType::get({}, t.getElementType());
  Value lo, hi;
  if (n.opset < 11) {
    lo = n.splat(scalar, n.getFloat("min").value_or(
                             -std::numeric_limits<float>::infinity()));
    hi = n.splat(scalar, n.getFloat("max").value_or(
                             std::numeric_limits<float>::infinity()));
  } else {
    lo = n.inputs.size() > 1 ? n.inputs[1] : Value();
    hi = n.inputs.size() > 2 ? n.inputs[2] : Value();
    if (hi && !lo) {
      double lowest =
          isa<FloatType>(t.getElementType())
              ? -std::numeric_limits<double>::infinity()
              : (t.getElementType().isUnsignedInteger()
                     ? 0.0
                     : -std::ldexp(1.0, t.getElementTypeBitWidth() - 1));
      lo = n.splat(scalar, lowest);
    }
  }
  SmallVector<Value> operands = {n.inputs[0]};
  if (lo)
    operands.push_back(lo);
  if (hi)
    operands.push_back(hi);
  return n.createDirect("qc.clip", operands, {}, {"min", "max"});
}

/// Softmax-like ops before opset 13 flatten the input to 2-d at `axis`
/// (default 1) and normalize over the second dim; from 13 they normalize
/// over `axis` (default -1) alone. Old semantics become reshape, op, reshape.
LogicalResult importSoftmax(NodeImporter &n) {
  if (n.opset >= 13)
    return n.createDirect();
  RankedTensorType t = n.inputType(0);
  int64_t rank = t.getRank();
  int64_t axis = n.getInt("axis").value_or(1);
  if (axis < 0)
    axis += rank;
  if (axis == rank - 1)
    return n.createDirect(
        {}, {n.builder.getNamedAttr("axis", n.builder.getI64IntegerAttr(-1))},
        {"axis"});
  if (!t.hasStaticShape())
    return n.error() << "softmax over flattened dims " << axis
                     << ".. needs a static input shape";
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) *= t.getDimSize(i);
  auto flatTy = RankedTensorType::get({outer, inner}, t.getElementType());
  auto reshape = [&](Value v, RankedTensorType to) {
    return n.create(
        "qc.reshape", {v, n.constI64(to.getShape())}, to,
        {n.builder.getNamedAttr("allowzero", n.builder.getI64IntegerAttr(0))});
  };
  Value flat = reshape(n.inputs[0], flatTy);
  Value sm = n.create(
      "qc." + StringRef(n.node.op_type()).lower(), flat, flatTy,
      {n.builder.getNamedAttr("axis", n.builder.getI64IntegerAttr(1))});
  n.results = {reshape(sm, t)};
  return success();
}

/// Before opset 7, Add/Sub/Mul/Div/Pow broadcast B only with broadcast = 1,
/// aligning its dims with A's from `axis` (default: A's trailing dims).
/// B is reshaped so that numpy rules do the rest. PRelu's slope likewise.
LogicalResult importLegacyBroadcast(NodeImporter &n) {
  std::optional<int64_t> axis = n.getInt("axis");
  RankedTensorType a = n.inputType(0), b = n.inputType(1);
  // PRelu before 7: a 1-d slope of C values is per channel (dim 1).
  if (n.node.op_type() == "PRelu" && b.getRank() == 1 && a.getRank() >= 2 &&
      b.getDimSize(0) != 1 && b.getDimSize(0) == a.getDimSize(1))
    axis = 1;
  else if (n.node.op_type() == "PRelu" || !n.getInt("broadcast").value_or(0) ||
           !axis)
    return n.createDirect({}, {}, {"broadcast", "axis"});
  int64_t rank = a.getRank(), at = *axis < 0 ? *axis + rank : *axis;
  if (at < 0 || at + b.getRank() > rank)
    return n.error() << "axis " << *axis << " does not place B " << b
                     << " inside A " << a;
  SmallVector<int64_t> shape(b.getShape());
  shape.append(rank - at - b.getRank(), 1);
  Value reshaped = n.create("qc.reshape", {n.inputs[1], n.constI64(shape)},
                            RankedTensorType::get(shape, b.getElementType()));
  return n.createDirect({}, {n.inputs[0], reshaped}, {}, {"broadcast", "axis"});
}

/// HannWindow, HammingWindow, BlackmanWindow: with k = 0 .. size-1 and
/// N = size (periodic) or size - 1 (symmetric),
/// y[k] = a0 - a1 cos(2 pi k / N) + a2 cos(4 pi k / N), in f32, then cast to
/// output_datatype. Built from qc.range and elementwise ops.
LogicalResult importWindow(NodeImporter &n) {
  StringRef op = n.node.op_type();
  double a0 = 0.5, a1 = 0.5, a2 = 0.0;
  if (op == "HammingWindow")
    a0 = 25.0 / 46.0, a1 = 21.0 / 46.0;
  else if (op == "BlackmanWindow")
    a0 = 0.42, a1 = 0.5, a2 = 0.08;
  RankedTensorType out = n.resultTypes[0]
                             ? cast<RankedTensorType>(n.resultTypes[0])
                             : RankedTensorType::get({ShapedType::kDynamic},
                                                     n.builder.getF32Type());
  if (out.getRank() != 1 || n.inputType(0).getRank() != 0)
    return n.error() << "size must be a scalar and the window 1-d";
  auto f32 = n.builder.getF32Type();
  auto scalar = RankedTensorType::get({}, f32);
  auto vec = RankedTensorType::get(out.getShape(), f32);
  auto c = [&](double v) { return n.splat(scalar, v); };
  Value size = n.create("qc.convert", n.inputs[0], scalar);
  Value period = n.getInt("periodic").value_or(1)
                     ? size
                     : n.create("qc.sub", {size, c(1.0)}, scalar);
  Value k = n.create("qc.range", {c(0.0), size, c(1.0)}, vec);
  Value angle = n.create(
      "qc.div", {n.create("qc.mul", {k, c(2.0 * M_PI)}, vec), period}, vec);
  Value y = n.create(
      "qc.sub",
      {c(a0), n.create("qc.mul", {c(a1), n.create("qc.cos", angle, vec)}, vec)},
      vec);
  if (a2 != 0.0) {
    Value twice = n.create("qc.mul", {angle, c(2.0)}, vec);
    y = n.create(
        "qc.add",
        {y, n.create("qc.mul", {c(a2), n.create("qc.cos", twice, vec)}, vec)},
        vec);
  }
  n.results = {out == vec ? y : n.create("qc.convert", y, out)};
  return success();
}

LogicalResult importConstant(NodeImporter &n) {
  auto &b = n.builder;
  TypedAttr value;
  if (const auto *a = n.attr("value"); a && a->has_t()) {
    FailureOr<ElementsAttr> t = n.model.convertTensor(a->t(), n.loc);
    if (failed(t))
      return failure();
    value = cast<TypedAttr>(*t);
  } else if (auto f = n.getFloat("value_float")) {
    value =
        DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()), *f);
  } else if (auto i = n.getInt("value_int")) {
    value =
        DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()), *i);
  } else if (auto is = n.getInts("value_ints")) {
    value = DenseElementsAttr::get(
        RankedTensorType::get({int64_t(is->size())}, b.getI64Type()),
        ArrayRef<int64_t>(*is));
  } else if (const auto *fs = n.attr("value_floats");
             fs && fs->type() == onnx::AttributeProto::FLOATS) {
    SmallVector<float> v(fs->floats().begin(), fs->floats().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({int64_t(v.size())}, b.getF32Type()),
        ArrayRef<float>(v));
  } else {
    return n.error() << "needs a value, value_float(s) or value_int(s) "
                     << "attribute (sparse and string constants are not "
                     << "supported)";
  }
  n.results = {arith::ConstantOp::create(b, n.loc, value)};
  return success();
}

LogicalResult importIdentity(NodeImporter &n) {
  n.results = {n.inputs[0]};
  return success();
}

/// Dropout at inference: the input, and an all-true mask if asked for.
LogicalResult importDropout(NodeImporter &n) {
  n.results = {n.inputs[0]};
  if (n.resultTypes.size() > 1 && n.resultTypes[1]) {
    auto t = cast<RankedTensorType>(n.resultTypes[1]);
    if (!t.hasStaticShape())
      return n.error() << "a mask output needs a static shape";
    n.results.push_back(arith::ConstantOp::create(
        n.builder, n.loc, DenseElementsAttr::get(t, true)));
  }
  return success();
}

/// Cast and CastLike: the target type (`to`, or CastLike's second input's
/// element type) is the inferred result type.
LogicalResult importCast(NodeImporter &n) {
  if (!n.resultTypes[0])
    return n.error() << "result type unknown";
  return n.createDirect("qc.convert", ValueRange{n.inputs[0]}, {},
                        {"to", "saturate"});
}

/// If: both branches become regions of qc.if. Result types come from shape
/// inference, or from the branches' yields where it left them unknown (the
/// branches must then agree).
LogicalResult importIf(NodeImporter &n) {
  const onnx::GraphProto *thenG = nullptr, *elseG = nullptr;
  for (const auto &a : n.node.attribute()) {
    if (a.name() == "then_branch")
      thenG = &a.g();
    else if (a.name() == "else_branch")
      elseG = &a.g();
  }
  if (!thenG || !elseG)
    return n.error() << "needs then_branch and else_branch";
  // Import the branches into a result-less qc.if, then rebuild it with types.
  auto tmp = qc::IfOp::create(n.builder, n.loc, TypeRange{}, n.inputs[0]);
  if (failed(n.model.importSubgraph(*thenG, tmp.getThenBranch(), n.loc)) ||
      failed(n.model.importSubgraph(*elseG, tmp.getElseBranch(), n.loc)))
    return failure();
  auto yieldTypes = [](Region &r) {
    return r.front().getTerminator()->getOperandTypes();
  };
  auto thenTypes = yieldTypes(tmp.getThenBranch());
  auto elseTypes = yieldTypes(tmp.getElseBranch());
  SmallVector<Type> types;
  for (auto [i, t] : llvm::enumerate(n.resultTypes)) {
    if (t) {
      types.push_back(t);
      continue;
    }
    auto a = i < thenTypes.size() ? dyn_cast<RankedTensorType>(thenTypes[i])
                                  : nullptr;
    auto b = i < elseTypes.size() ? dyn_cast<RankedTensorType>(elseTypes[i])
                                  : nullptr;
    if (!a || !b || a.getRank() != b.getRank() ||
        a.getElementType() != b.getElementType())
      return n.error() << "the branches yield incompatible types for output #"
                       << i;
    // The join: dims the branches disagree on become dynamic.
    SmallVector<int64_t> dims;
    for (auto [x, y] : llvm::zip(a.getShape(), b.getShape()))
      dims.push_back(x == y ? x : ShapedType::kDynamic);
    types.push_back(RankedTensorType::get(dims, a.getElementType()));
  }
  // Cast each branch's yields to the joined types.
  for (Region *r : {&tmp.getThenBranch(), &tmp.getElseBranch()}) {
    Operation *yield = r->front().getTerminator();
    OpBuilder::InsertionGuard guard(n.builder);
    n.builder.setInsertionPoint(yield);
    for (auto [i, v] : llvm::enumerate(yield->getOperands()))
      if (i < types.size() && v.getType() != types[i])
        yield->setOperand(
            i, tensor::CastOp::create(n.builder, n.loc, types[i], v));
  }
  auto op = qc::IfOp::create(n.builder, n.loc, types, n.inputs[0]);
  op.getThenBranch().takeBody(tmp.getThenBranch());
  op.getElseBranch().takeBody(tmp.getElseBranch());
  tmp.erase();
  n.results.assign(op.getResults().begin(), op.getResults().end());
  return success();
}

} // namespace

void qc::onnx_import::registerElementwiseHandlers(HandlerRegistry &r) {
  // Before the catch-all entries: lookup takes the first that covers.
  for (StringRef op : {"Add", "Sub", "Mul", "Div", "Pow", "PRelu"})
    r.add("", op, 1, 6, importLegacyBroadcast);
  for (StringRef op : {"Abs",
                       "Neg",
                       "Exp",
                       "Log",
                       "Sqrt",
                       "Reciprocal",
                       "Relu",
                       "Sigmoid",
                       "Tanh",
                       "Erf",
                       "Floor",
                       "Ceil",
                       "Round",
                       "Sign",
                       "Sin",
                       "Cos",
                       "Tan",
                       "Asin",
                       "Acos",
                       "Atan",
                       "Sinh",
                       "Cosh",
                       "Asinh",
                       "Acosh",
                       "Atanh",
                       "Softplus",
                       "Softsign",
                       "HardSwish",
                       "Not",
                       "IsNaN",
                       "BitwiseNot",
                       "Mish",
                       "Add",
                       "Sub",
                       "Mul",
                       "Div",
                       "Pow",
                       "PRelu",
                       "And",
                       "Or",
                       "Xor",
                       "Equal",
                       "Less",
                       "Greater",
                       "LessOrEqual",
                       "GreaterOrEqual",
                       "BitwiseAnd",
                       "BitwiseOr",
                       "BitwiseXor",
                       "Mod",
                       "BitShift",
                       "Where",
                       "LeakyRelu",
                       "Elu",
                       "ThresholdedRelu",
                       "Celu",
                       "HardSigmoid",
                       "Selu",
                       "Gelu"})
    r.addDirect(op, 1);
  r.add("", "Max", 6, 1 << 30,
        [](NodeImporter &n) { return importVariadic(n, "qc.max", false); });
  r.add("", "Min", 6, 1 << 30,
        [](NodeImporter &n) { return importVariadic(n, "qc.min", false); });
  r.add("", "Sum", 6, 1 << 30,
        [](NodeImporter &n) { return importVariadic(n, "qc.sum", false); });
  r.add("", "Mean", 6, 1 << 30,
        [](NodeImporter &n) { return importVariadic(n, "qc.sum", true); });
  r.add("", "Clip", 6, 1 << 30, importClip);
  for (StringRef op : {"Softmax", "LogSoftmax", "Hardmax"})
    r.add("", op, 1, 1 << 30, importSoftmax);
  r.add("", "Constant", 1, 1 << 30, importConstant);
  r.add("", "Identity", 1, 1 << 30, importIdentity);
  r.add("", "Dropout", 1, 1 << 30, importDropout);
  r.add("", "Cast", 6, 1 << 30, importCast);
  r.add("", "CastLike", 15, 1 << 30, importCast);
  for (StringRef op : {"IsInf", "Shrink"})
    r.addDirect(op, 9);
  r.add("", "If", 1, 1 << 30, importIf);
  for (StringRef op : {"HannWindow", "HammingWindow", "BlackmanWindow"})
    r.add("", op, 17, 1 << 30, importWindow);
}
