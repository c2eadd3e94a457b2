//===- Import.h - ONNX model import ------------------------------*- C++
//-*-===//
#ifndef QC_TARGET_ONNX_IMPORT_H
#define QC_TARGET_ONNX_IMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include <string>
#include <vector>

namespace qc {

struct ONNXImportOptions {
  /// Shapes that replace the graph inputs' symbolic or unknown dims, by
  /// input name (like onnx-mlir's shape information option).
  llvm::StringMap<std::vector<int64_t>> inputShapes;
  /// Graph inputs that become constants, by name: the path of a serialized
  /// ONNX TensorProto (.pb) holding the value. Freezes configuration inputs
  /// (a sample rate, the axes of a Squeeze) so that shapes become static.
  llvm::StringMap<std::string> constantInputs;
  /// Name of the function the graph becomes.
  std::string functionName = "main_graph";
  /// Accept models that break the ONNX checker's rules where the importer
  /// can still read them (values defined twice: the last wins; unknown or
  /// mistyped attributes; nodes out of order: sorted), for salvage.
  bool allowInvalid = false;
  /// Read external data from anywhere the model's `location`s point (by
  /// default only files in the model's directory or below).
  bool externalDataAnywhere = false;
};

/// Parses "name:1x3x224x224" into `options`; reports the reason on failure.
llvm::LogicalResult parseInputShape(llvm::StringRef spec,
                                    ONNXImportOptions &options,
                                    std::string &error);

/// Parses "name=path.pb" into `options`.
llvm::LogicalResult parseConstantInput(llvm::StringRef spec,
                                       ONNXImportOptions &options,
                                       std::string &error);

/// Parses every --input-shape and --constant-input spec into `options`.
llvm::LogicalResult
parseImportOptions(llvm::ArrayRef<std::string> inputShapes,
                   llvm::ArrayRef<std::string> constantInputs,
                   ONNXImportOptions &options, std::string &error);

/// An ONNX op the importer has a handler for, over opsets [since, until].
struct SupportedONNXOp {
  std::string domain; // "" for the default domain
  std::string opType;
  int since = 1, until = 1 << 30;
};
/// Every handler of the importer, by domain and op type.
std::vector<SupportedONNXOp> supportedONNXOps();

/// Imports the ONNX model in `bytes` (read from `path`, which locates
/// external data and names the model in diagnostics) into a module of qc
/// graph ops. Emits diagnostics through the context and returns null on
/// failure.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXModel(llvm::StringRef bytes, llvm::StringRef path,
                mlir::MLIRContext *context, const ONNXImportOptions &options);

/// The contents of a serialized ONNX TensorProto (.pb, the backend tests'
/// input and output format): data type code, dims and little-endian bytes.
struct ONNXTensorFile {
  std::string name;
  int32_t dataType = 0;
  std::vector<int64_t> dims;
  std::string bytes;
};
llvm::LogicalResult readONNXTensorFile(llvm::StringRef path,
                                       ONNXTensorFile &out, std::string &error);
/// The same from a TensorProto's bytes; `what` names them in errors.
llvm::LogicalResult parseONNXTensor(llvm::StringRef bytes, llvm::StringRef what,
                                    ONNXTensorFile &out, std::string &error);

/// The names of the graph inputs of a serialized model that are not
/// initializers (the inputs a caller feeds), in order.
llvm::LogicalResult readONNXInputNames(llvm::StringRef bytes,
                                       std::vector<std::string> &names);

/// Reads a model: an ONNX file (imported with `options`) or an .mlir module
/// of qc graph ops. Diagnostics go to the context; null on failure.
mlir::OwningOpRef<mlir::ModuleOp> loadModel(llvm::StringRef path,
                                            const ONNXImportOptions &options,
                                            mlir::MLIRContext *context);

/// Registers the `--import-onnx` translation (and its `--input-shape`
/// option) with mlir-translate's registry.
void registerONNXImportTranslation();

/// Writes @main_graph of `module` (graph ops, optionally between
/// qc.quantize / qc.dequantize: the QDQ form) as a serialized ONNX model at
/// opset 17. Ops without an ONNX form are errors at their location.
llvm::LogicalResult exportONNXQDQ(mlir::ModuleOp module, llvm::raw_ostream &os);

/// Registers the `--export-onnx-qdq` translation.
void registerONNXExportTranslation();

} // namespace qc

#endif // QC_TARGET_ONNX_IMPORT_H
