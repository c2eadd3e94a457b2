//===- ModelImporter.h - ONNX graph to qc ops ---------------------*- C++
//-*-===//
#ifndef QC_LIB_TARGET_ONNX_MODELIMPORTER_H
#define QC_LIB_TARGET_ONNX_MODELIMPORTER_H

#include "NodeImporter.h"
#include "qc/Target/ONNX/Import.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace qc::onnx_import {

class ModelImporter {
public:
  ModelImporter(mlir::MLIRContext *ctx, llvm::StringRef path,
                const ONNXImportOptions &options);

  mlir::OwningOpRef<mlir::ModuleOp> import(onnx::ModelProto &model);

  mlir::MLIRContext *ctx;
  mlir::OpBuilder builder;
  std::string path;
  const ONNXImportOptions &options;

  /// A location naming the model file and the node (or value).
  mlir::Location nodeLoc(const onnx::NodeProto &node);
  mlir::Location fileLoc();

  /// Tensor data of an initializer or Constant node as an elements attr:
  /// small tensors dense (folders see them), large float ones as resource
  /// blobs.
  mlir::FailureOr<mlir::ElementsAttr> convertTensor(const onnx::TensorProto &t,
                                                    mlir::Location loc);
  mlir::FailureOr<mlir::RankedTensorType> convertType(const onnx::TypeProto &t,
                                                      mlir::Location loc,
                                                      llvm::StringRef what);

  /// Imports `graph` (an If branch) into a new block of `region`, ending in
  /// qc.yield of its outputs; outer values stay visible by name.
  mlir::LogicalResult importSubgraph(const onnx::GraphProto &graph,
                                     mlir::Region &region, mlir::Location loc);

private:
  /// Records the value types of `graph`, makes its initializers constants,
  /// imports its nodes at the insertion point and returns its outputs (an
  /// error names `outputKind` and one produced by no node).
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  importGraphBody(const onnx::GraphProto &graph, mlir::Location loc,
                  llvm::StringRef outputKind);
  mlir::LogicalResult importNode(const onnx::NodeProto &node);
  mlir::LogicalResult checkArity(const onnx::NodeProto &node, int opset,
                                 const onnx::OpSchema *schema);
  mlir::LogicalResult applyInputShapes(onnx::GraphProto &graph);

  /// Validate.cpp: the checks before anything (ONNX's shape inference
  /// included) trusts the model; `outer` are the names visible from
  /// enclosing graphs. --allow-invalid (options.allowInvalid) relaxes the
  /// ONNX checker's rules and sorts nodes out of order.
  mlir::LogicalResult validateGraph(onnx::GraphProto &graph,
                                    const llvm::StringSet<> &outer,
                                    mlir::Location loc);
  mlir::LogicalResult checkNode(const onnx::NodeProto &node);
  mlir::LogicalResult checkTensorData(const onnx::TensorProto &t,
                                      mlir::Location loc);
  int opsetOf(const onnx::NodeProto &node) const;
  mlir::LogicalResult applyConstantInputs(onnx::GraphProto &graph);

  llvm::StringMap<mlir::Value> values;
  llvm::StringMap<const onnx::TypeProto *> valueTypes;
  std::map<std::string, int> opsets;
};

} // namespace qc::onnx_import

#endif
