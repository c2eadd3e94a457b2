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
  SmallVector<Value> operands(n.inputs);
  while (!operands.empty() && !operands.back())
    operands.pop_back();
  if (!llvm::is_contained(operands, Value()))
    return n.createDirect({}, operands, {}, {});
  RankedTensorType x = n.inputType(0);
  int64_t gates = n.node.op_type() == "LSTM" ? 4
                  : n.node.op_type() == "GRU" ? 3
                                              : 1;
  int64_t hidden = n.getInt("hidden_size").value_or(0);
  int64_t numDir = n.getString("direction").value_or("") == "bidirectional" ? 2 : 1;
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
      v = n.splat(batchFirst ? RankedTensorType::get({batch, numDir, hidden}, elt)
                             : RankedTensorType::get({numDir, batch, hidden}, elt),
                  0);
      break;
    default:
      return n.error() << "input #" << i << " cannot be omitted";
    }
  }
  return n.createDirect({}, operands, {}, {});
}

void qc::onnx_import::registerNormalizationHandlers(HandlerRegistry &r) {
  r.add("", "BatchNormalization", 6, 1 << 30, [](NodeImporter &n) {
    return importInference(n, {"momentum", "spatial", "is_test",
                               "training_mode", "consumed_inputs"});
  });
  r.add("", "LayerNormalization", 1, 1 << 30, [](NodeImporter &n) -> LogicalResult {
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
