//===- ShapeOps.cpp - ONNX shape, indexing and reduction handlers ---------===//
//
// Where ONNX moved an attribute into an input across opsets (axes, split,
// pads, starts/ends), the op takes the later form and the importer converts
// the earlier one.
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace qc::onnx_import;

namespace {

NamedAttribute axesAttr(NodeImporter &n, ArrayRef<int64_t> axes) {
  return n.builder.getNamedAttr("axes", n.builder.getDenseI64ArrayAttr(axes));
}

/// Axes from the attribute (early opsets) or the constant input #1.
FailureOr<SmallVector<int64_t>> axesOf(NodeImporter &n, bool fromInput) {
  if (!fromInput)
    return n.getInts("axes").value_or(SmallVector<int64_t>{});
  if (n.inputs.size() < 2 || !n.inputs[1])
    return SmallVector<int64_t>{};
  std::optional<SmallVector<int64_t>> axes = n.constantInts(1);
  if (!axes)
    return n.error() << "axes must be a constant";
  return *axes;
}

LogicalResult importSqueeze(NodeImporter &n) {
  FailureOr<SmallVector<int64_t>> axes = axesOf(n, n.opset >= 13);
  if (failed(axes))
    return failure();
  RankedTensorType t = n.inputType(0);
  if (axes->empty() && n.node.op_type() == "Squeeze") {
    // No axes: every dim of size 1.
    for (int64_t i = 0; i < t.getRank(); ++i) {
      if (ShapedType::isDynamic(t.getDimSize(i)))
        return n.error() << "squeezing all unit dims needs a static shape";
      if (t.getDimSize(i) == 1)
        axes->push_back(i);
    }
  }
  return n.createDirect({}, ValueRange{n.inputs[0]}, {axesAttr(n, *axes)},
                        {"axes"});
}

LogicalResult importReduce(NodeImporter &n, int axesInputSince) {
  FailureOr<SmallVector<int64_t>> axes = axesOf(n, n.opset >= axesInputSince);
  if (failed(axes))
    return failure();
  return n.createDirect({}, ValueRange{n.inputs[0]}, {axesAttr(n, *axes)},
                        {"axes"});
}

/// Split sizes from the attribute, the constant input, or equal parts.
LogicalResult importSplit(NodeImporter &n) {
  RankedTensorType t = n.inputType(0);
  int64_t axis = n.getInt("axis").value_or(0);
  if (axis < 0)
    axis += t.getRank();
  std::optional<SmallVector<int64_t>> split;
  if (n.opset < 13)
    split = n.getInts("split");
  else if (n.inputs.size() > 1 && n.inputs[1] && !(split = n.constantInts(1)))
    return n.error() << "split sizes must be a constant";
  if (!split || split->empty()) {
    // Equal parts (the last smaller): read them off the inferred outputs.
    split.emplace();
    for (Type rt : n.resultTypes) {
      auto r = dyn_cast_or_null<RankedTensorType>(rt);
      if (!r || r.isDynamicDim(axis))
        return n.error() << "the split sizes along axis " << axis
                         << " are unknown";
      split->push_back(r.getDimSize(axis));
    }
  }
  return n.createDirect(
      {}, ValueRange{n.inputs[0]},
      {n.builder.getNamedAttr("split", n.builder.getDenseI64ArrayAttr(*split))},
      {"split", "num_outputs"});
}

/// Slice before opset 10: starts, ends, axes as attributes.
LogicalResult importSlice(NodeImporter &n) {
  SmallVector<Value> operands = {n.inputs[0]};
  if (n.opset < 10) {
    auto starts = n.getInts("starts"), ends = n.getInts("ends");
    if (!starts || !ends)
      return n.error() << "needs starts and ends";
    operands.push_back(n.constI64(*starts));
    operands.push_back(n.constI64(*ends));
    if (auto axes = n.getInts("axes"))
      operands.push_back(n.constI64(*axes));
    return n.createDirect("qc.slice", operands, {}, {"starts", "ends", "axes"});
  }
  operands.append({n.inputs[1], n.inputs[2]});
  Value axes = n.inputs.size() > 3 ? n.inputs[3] : Value();
  Value steps = n.inputs.size() > 4 ? n.inputs[4] : Value();
  if (steps && !axes) {
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < n.inputType(1).getDimSize(0); ++i)
      all.push_back(i);
    axes = n.constI64(all);
  }
  if (axes)
    operands.push_back(axes);
  if (steps)
    operands.push_back(steps);
  return n.createDirect("qc.slice", operands, {}, {});
}

/// Pad before opset 11: pads and value as attributes.
LogicalResult importPad(NodeImporter &n) {
  if (n.opset >= 11) {
    if (n.inputs.size() > 3 && n.inputs[3])
      return n.error() << "the axes input is not supported";
    SmallVector<Value> operands = {n.inputs[0], n.inputs[1]};
    if (n.inputs.size() > 2 && n.inputs[2])
      operands.push_back(n.inputs[2]);
    return n.createDirect("qc.pad", operands, {}, {});
  }
  auto pads = n.getInts("pads");
  if (!pads)
    return n.error() << "needs pads";
  RankedTensorType t = n.inputType(0);
  Value value = n.splat(RankedTensorType::get({}, t.getElementType()),
                        n.getFloat("value").value_or(0.0f));
  return n.createDirect("qc.pad", {n.inputs[0], n.constI64(*pads), value}, {},
                        {"pads", "value"});
}

/// Transpose without perm reverses the dims.
LogicalResult importTranspose(NodeImporter &n) {
  SmallVector<int64_t> perm;
  if (auto p = n.getInts("perm"))
    perm = *p;
  else
    for (int64_t i = n.inputType(0).getRank() - 1; i >= 0; --i)
      perm.push_back(i);
  return n.createDirect(
      {}, ValueRange{n.inputs[0]},
      {n.builder.getNamedAttr("perm", n.builder.getDenseI64ArrayAttr(perm))},
      {"perm"});
}

/// ConstantOfShape's value defaults to a float 0.
LogicalResult importConstantOfShape(NodeImporter &n) {
  if (n.attr("value"))
    return n.createDirect();
  auto t = RankedTensorType::get({1}, n.builder.getF32Type());
  return n.createDirect(
      {}, {n.builder.getNamedAttr("value", DenseElementsAttr::get(t, 0.0f))},
      {});
}

/// Resize: opset 10 has (X, scales); from 11 (X, roi, scales, sizes) with
/// exactly one of scales and sizes given.
LogicalResult importResize(NodeImporter &n) {
  Value scales, sizes;
  if (n.opset < 11) {
    scales = n.inputs[1];
  } else {
    scales = n.inputs.size() > 2 ? n.inputs[2] : Value();
    sizes = n.inputs.size() > 3 ? n.inputs[3] : Value();
    // An empty scales tensor stands for "not given" in opset 11-12 models.
    if (scales &&
        cast<RankedTensorType>(scales.getType()).getNumElements() == 0)
      scales = Value();
  }
  if (bool(scales) == bool(sizes))
    return n.error() << "needs exactly one of scales and sizes";
  SmallVector<Value> operands = {n.inputs[0], scales ? scales : sizes};
  if (n.getString("coordinate_transformation_mode").value_or("") ==
      "tf_crop_and_resize") {
    int64_t rank = n.inputType(0).getRank();
    if (n.opset < 11 || n.inputs.size() < 2 || !n.inputs[1] ||
        n.inputType(1).getNumElements() != 2 * rank)
      return n.error() << "tf_crop_and_resize needs roi with " << 2 * rank
                       << " values";
    operands.push_back(n.inputs[1]);
  }
  auto &b = n.builder;
  return n.createDirect(
      "qc.resize", operands,
      {b.getNamedAttr("target", b.getStringAttr(scales ? "scales" : "sizes"))},
      {"antialias", "axes", "keep_aspect_ratio_policy"});
}

/// Upsample (opsets 7-9) is Resize with asymmetric coordinates and floor
/// rounding; its scales are an attribute before opset 9.
LogicalResult importUpsample(NodeImporter &n) {
  Value scales;
  if (n.opset < 9) {
    auto values = n.attr("scales");
    if (!values || values->type() != onnx::AttributeProto::FLOATS)
      return n.error() << "needs scales";
    SmallVector<float> v(values->floats().begin(), values->floats().end());
    scales = arith::ConstantOp::create(
        n.builder, n.loc,
        DenseElementsAttr::get(
            RankedTensorType::get({int64_t(v.size())}, n.builder.getF32Type()),
            ArrayRef<float>(v)));
  } else {
    scales = n.inputs[1];
  }
  auto &b = n.builder;
  std::string mode = n.getString("mode").value_or("nearest");
  return n.createDirect(
      "qc.resize", ValueRange{n.inputs[0], scales},
      {b.getNamedAttr("target", b.getStringAttr("scales")),
       b.getNamedAttr("mode",
                      b.getStringAttr(mode == "bilinear" ? "linear" : mode)),
       b.getNamedAttr("coordinate_transformation_mode",
                      b.getStringAttr("asymmetric")),
       b.getNamedAttr("nearest_mode", b.getStringAttr("floor")),
       b.getNamedAttr("cubic_coeff_a", b.getF32FloatAttr(-0.75f)),
       b.getNamedAttr("exclude_outside", b.getI64IntegerAttr(0)),
       b.getNamedAttr("extrapolation_value", b.getF32FloatAttr(0.0f))},
      {"mode", "scales"});
}

} // namespace

void qc::onnx_import::registerShapeHandlers(HandlerRegistry &r) {
  for (StringRef op :
       {"Reshape", "Flatten", "Concat", "Gather", "GatherElements", "Expand",
        "Tile", "Shape", "Size", "Range", "DepthToSpace", "SpaceToDepth",
        "ArgMax", "ArgMin"})
    r.addDirect(op, 5);
  r.add("", "Transpose", 1, 1 << 30, importTranspose);
  r.add("", "Resize", 10, 1 << 30, importResize);
  r.add("", "Upsample", 7, 9, importUpsample);
  for (StringRef op :
       {"CumSum", "Trilu", "TopK", "GatherND", "ScatterND", "ScatterElements",
        "OneHot", "Einsum", "NonZero", "Compress", "ReverseSequence"})
    r.addDirect(op, 9);
  // The result type carries dtype.
  r.add("", "EyeLike", 9, 1 << 30,
        [](NodeImporter &n) { return n.createDirect({}, {}, {"dtype"}); });
  // Scatter (opset 9 and 10) is ScatterElements under its old name.
  r.add("", "Scatter", 9, 10, [](NodeImporter &n) {
    return n.createDirect("qc.scatterelements", {}, {});
  });
  for (StringRef op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"})
    r.addDirect(op, 12);
  r.add("", "ConstantOfShape", 9, 1 << 30, importConstantOfShape);
  r.add("", "Squeeze", 1, 1 << 30, importSqueeze);
  r.add("", "Unsqueeze", 1, 1 << 30, importSqueeze);
  r.add("", "Split", 2, 1 << 30, importSplit);
  r.add("", "Slice", 1, 1 << 30, importSlice);
  r.add("", "Pad", 2, 1 << 30, importPad);
  // ReduceSum took axes as an input from opset 13, the others from 18.
  r.add("", "ReduceSum", 1, 1 << 30,
        [](NodeImporter &n) { return importReduce(n, 13); });
  for (StringRef op :
       {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
        "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"})
    r.add("", op, 1, 1 << 30,
          [](NodeImporter &n) { return importReduce(n, 18); });
}
