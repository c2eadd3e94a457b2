//===- ConvPool.cpp - ONNX convolution, matmul and pooling handlers -------===//
#include "NodeImporter.h"

using namespace mlir;
using namespace qc::onnx_import;

/// MaxPool's Indices output is supported only where the op has it.
static LogicalResult importPool(NodeImporter &n) {
  if (n.node.op_type() != "MaxPool" && n.resultTypes.size() > 1)
    n.resultTypes.resize(1);
  return n.createDirect();
}

void qc::onnx_import::registerConvPoolHandlers(HandlerRegistry &r) {
  r.add("", "Gemm", 1, 6, [](NodeImporter &n) {
    // Before opset 7 C broadcasts only with broadcast = 1; always is a
    // superset of that.
    return n.createDirect({}, {}, {"broadcast"});
  });
  for (StringRef op : {"Conv", "ConvTranspose", "Gemm", "MatMul",
                       "GlobalAveragePool", "GlobalMaxPool"})
    r.addDirect(op, 1);
  for (StringRef op : {"MaxPool", "AveragePool", "LpPool"})
    r.add("", op, 1, 1 << 30, importPool);
}
