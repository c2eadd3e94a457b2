//===- Normalization.cpp - ONNX normalization and recurrent handlers ------===//
#include "NodeImporter.h"

using namespace mlir;
using namespace qc::onnx_import;

/// Inference-mode normalizations: the statistics outputs of training mode
/// (BatchNormalization's running mean/var, LayerNormalization's mean and
/// inverse std-dev) are not supported when a model consumes them.
static LogicalResult importInference(NodeImporter &n,
                                     ArrayRef<StringRef> ignored) {
  for (size_t i = 1; i < n.resultTypes.size(); ++i)
    if (!n.node.output(i).empty())
      return n.error() << "output #" << i << " ('" << n.node.output(i)
                       << "') of training mode is not supported";
  n.resultTypes.resize(1);
  if (auto tm = n.getInt("training_mode"); tm && *tm)
    return n.error() << "training_mode = 1 is not supported";
  return n.createDirect({}, {}, ignored);
}

/// LSTM/GRU/RNN with ONNX's defaults for omitted inputs that precede present
/// ones: zero bias, every sequence at full length, zero initial states.
static LogicalResult importRecurrent(NodeImporter &n) {
  // Outputs the graph leaves unnamed have no inferred type; their shapes
  // follow from X and the attributes: Y [seq, dirs, batch, hidden] and the
  // states [dirs, batch, hidden] (batch first with layout = 1).
  {
    RankedTensorType x = n.inputType(0);
    int64_t hidden = n.getInt("hidden_size").value_or(0);
    int64_t dirs =
        n.getString("direction").value_or("") == "bidirectional" ? 2 : 1;
    bool batchFirst = n.getInt("layout").value_or(0) == 1;
    int64_t seq = x.getDimSize(batchFirst ? 1 : 0),
            batch = x.getDimSize(batchFirst ? 0 : 1);
    int64_t outputs = n.node.op_type() == "LSTM" ? 3 : 2;
    if (hidden > 0 && x.getRank() == 3) {
      n.resultTypes.resize(outputs);
      for (int64_t i = 0; i < outputs; ++i) {
        if (n.resultTypes[i])
          continue;
        SmallVector<int64_t> shape =
            i == 0
                ? (batchFirst ? SmallVector<int64_t>{batch, seq, dirs, hidden}
                              : SmallVector<int64_t>{seq, dirs, batch, hidden})
                : (batchFirst ? SmallVector<int64_t>{batch, dirs, hidden}
                              : SmallVector<int64_t>{dirs, batch, hidden});
        n.resultTypes[i] = RankedTensorType::get(shape, x.getElementType());
      }
    }
  }
  SmallVector<Value> operands(n.inputs);
  while (!operands.empty() && !operands.back())
    operands.pop_back();
  if (!llvm::is_contained(operands, Value()))
    return n.createDirect({}, operands, {}, {});
  RankedTensorType x = n.inputType(0);
  int64_t gates = n.node.op_type() == "LSTM"  ? 4
                  : n.node.op_type() == "GRU" ? 3
                                              : 1;
  int64_t hidden = n.getInt("hidden_size").value_or(0);
  int64_t numDir =
      n.getString("direction").value_or("") == "bidirectional" ? 2 : 1;
  bool batchFirst = n.getInt("layout").value_or(0) == 1;
  int64_t seq = x.getDimSize(batchFirst ? 1 : 0);
  int64_t batch = x.getDimSize(batchFirst ? 0 : 1);
  if (hidden <= 0 || ShapedType::isDynamic(seq) || ShapedType::isDynamic(batch))
    return n.error() << "omitted inputs need hidden_size and static sequence "
                     << "and batch dims";
  Type elt = x.getElementType();
  for (auto [i, v] : llvm::enumerate(operands)) {
    if (v)
      continue;
    switch (i) {
    case 3: // B
      v = n.splat(RankedTensorType::get({numDir, 2 * gates * hidden}, elt), 0);
      break;
    case 4: // sequence_lens
      v = n.splat(RankedTensorType::get({batch}, n.builder.getI32Type()),
                  double(seq));
      break;
    case 5: // initial_h
    case 6: // initial_c
      v = n.splat(batchFirst
                      ? RankedTensorType::get({batch, numDir, hidden}, elt)
                      : RankedTensorType::get({numDir, batch, hidden}, elt),
                  0);
      break;
    default:
      return n.error() << "input #" << i << " cannot be omitted";
    }
  }
  return n.createDirect({}, operands, {}, {});
}

/// BatchNormalization with training_mode = 1: normalizes with the batch's
/// statistics over every dim but 1 (mean and population variance) and
/// outputs the running ones, input * momentum + batch * (1 - momentum).
static LogicalResult importBatchNormTraining(NodeImporter &n) {
  RankedTensorType x = n.inputType(0), stat = n.inputType(3);
  if (x.getRank() < 2)
    return n.error() << "X must have a channel dim";
  SmallVector<int64_t> axes = {0};
  for (int64_t d = 2; d < x.getRank(); ++d)
    axes.push_back(d);
  SmallVector<int64_t> keptShape(x.getShape());
  for (int64_t d : axes)
    keptShape[d] = 1;
  auto &b = n.builder;
  auto reduceMean = [&](Value v, bool keep) {
    return n.create("qc.reducemean", v,
                    keep ? RankedTensorType::get(keptShape, x.getElementType())
                         : stat,
                    {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
                     b.getNamedAttr("keepdims", b.getI64IntegerAttr(keep))});
  };
  Value mean = reduceMean(n.inputs[0], false);
  Value centered =
      n.create("qc.sub", {n.inputs[0], reduceMean(n.inputs[0], true)}, x);
  Value var = reduceMean(n.create("qc.mul", {centered, centered}, x), false);
  float eps = n.getFloat("epsilon").value_or(1e-5f);
  double momentum = n.getFloat("momentum").value_or(0.9f);
  Value y = n.create("qc.batchnormalization",
                     {n.inputs[0], n.inputs[1], n.inputs[2], mean, var},
                     n.resultTypes[0] ? n.resultTypes[0] : Type(x),
                     {b.getNamedAttr("epsilon", b.getF32FloatAttr(eps))});
  auto scalar = RankedTensorType::get({}, stat.getElementType());
  auto running = [&](Value input, Value batch) {
    Value kept = n.create("qc.mul", {input, n.splat(scalar, momentum)}, stat);
    Value fresh =
        n.create("qc.mul", {batch, n.splat(scalar, 1.0 - momentum)}, stat);
    return n.create("qc.add", {kept, fresh}, stat);
  };
  n.results = {y};
  if (n.resultTypes.size() > 1)
    n.results.push_back(running(n.inputs[3], mean));
  if (n.resultTypes.size() > 2)
    n.results.push_back(running(n.inputs[4], var));
  return success();
}

void qc::onnx_import::registerNormalizationHandlers(HandlerRegistry &r) {
  r.add("", "BatchNormalization", 6, 1 << 30, [](NodeImporter &n) {
    if (n.getInt("training_mode").value_or(0))
      return importBatchNormTraining(n);
    return importInference(n, {"momentum", "spatial", "is_test",
                               "training_mode", "consumed_inputs"});
  });
  r.add("", "LayerNormalization", 1, 1 << 30,
        [](NodeImporter &n) -> LogicalResult {
          if (n.resultTypes.size() > 2 && n.resultTypes[2] && !n.resultTypes[1])
            return n.error() << "InvStdDev without Mean is not supported";
          return n.createDirect();
        });
  r.addDirect("InstanceNormalization", 6);
  for (StringRef op : {"LSTM", "GRU", "RNN"})
    r.add("", op, 7, 1 << 30, importRecurrent);
  r.addDirect("LRN", 1);
  r.addDirect("MeanVarianceNormalization", 9);
}
