//===- Normalization.cpp - ONNX normalization handlers --------------------===//
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
  r.addDirect("LRN", 1);
}
