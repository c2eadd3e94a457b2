//===- NodeImporter.h - what an ONNX op handler sees -------------*- C++
//-*-===//
//
// Handlers turn one ONNX node into qc ops. They are registered in a table
// keyed by (domain, op type, opset range) and grouped by op family in
// Elementwise.cpp, ConvPool.cpp, Normalization.cpp, ShapeOps.cpp. Attribute
// defaults come from ONNX's own schema; result types come from ONNX's shape
// inference, run over the model before import.
//
//===----------------------------------------------------------------------===//
#ifndef QC_LIB_TARGET_ONNX_NODEIMPORTER_H
#define QC_LIB_TARGET_ONNX_NODEIMPORTER_H

#include "qc/Target/ONNX/Import.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include <functional>
#include <map>
#include <optional>

namespace qc::onnx_import {

class ModelImporter;

/// One node being imported.
class NodeImporter {
public:
  NodeImporter(ModelImporter &model, const onnx::NodeProto &node, int opset,
               const onnx::OpSchema *schema, mlir::Location loc,
               llvm::SmallVector<mlir::Value> inputs,
               llvm::SmallVector<mlir::Type> resultTypes);

  const onnx::NodeProto &node;
  const int opset;
  const onnx::OpSchema *schema;
  mlir::Location loc;
  mlir::OpBuilder &builder;
  /// Operands in ONNX order; null for an omitted optional input.
  llvm::SmallVector<mlir::Value> inputs;
  /// One per ONNX output; null for an omitted optional output.
  llvm::SmallVector<mlir::Type> resultTypes;
  /// What the node produces, one per ONNX output (set by the handler).
  llvm::SmallVector<mlir::Value> results;

  /// An error at the node, prefixed with op type, domain, opset and name.
  mlir::InFlightDiagnostic error();

  /// The node's attribute, else the schema's default, else none.
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  std::optional<int64_t> getInt(llvm::StringRef name) const;
  std::optional<float> getFloat(llvm::StringRef name) const;
  std::optional<std::string> getString(llvm::StringRef name) const;
  std::optional<llvm::SmallVector<int64_t>> getInts(llvm::StringRef name) const;

  /// The value of operand `i` when it is a constant integer tensor.
  std::optional<llvm::SmallVector<int64_t>> constantInts(unsigned i) const;
  /// A 1-d i64 constant.
  mlir::Value constI64(llvm::ArrayRef<int64_t> values);
  /// A constant of `type` filled with one value.
  mlir::Value splat(mlir::RankedTensorType type, double value);

  /// A generic `name` op (a qc op) with these operands, one result of
  /// `type` and `attrs`; for handlers that build a composite.
  mlir::Value create(llvm::StringRef name, mlir::ValueRange operands,
                     mlir::Type type,
                     llvm::ArrayRef<mlir::NamedAttribute> attrs = {});

  /// The input's ranked type.
  mlir::RankedTensorType inputType(unsigned i) const;

  /// Creates `qc.<lowercase op type>` (or `opName`) from the present inputs
  /// and every attribute the op declares: node attributes over schema
  /// defaults, plus `extraAttrs`. A node attribute the op does not declare
  /// is an error unless it equals the schema default.
  mlir::LogicalResult
  createDirect(llvm::StringRef opName = {},
               llvm::ArrayRef<mlir::NamedAttribute> extraAttrs = {},
               llvm::ArrayRef<llvm::StringRef> ignoredAttrs = {});
  /// Same, with explicit operands.
  mlir::LogicalResult
  createDirect(llvm::StringRef opName, mlir::ValueRange operands,
               llvm::ArrayRef<mlir::NamedAttribute> extraAttrs,
               llvm::ArrayRef<llvm::StringRef> ignoredAttrs);

  /// Converts an ONNX attribute to an MLIR one (int -> i64, float -> f32,
  /// ints -> array<i64>, floats -> array<f32>, string, tensor).
  mlir::FailureOr<mlir::Attribute> convert(const onnx::AttributeProto &a);

  ModelImporter &model;
};

using Handler = std::function<mlir::LogicalResult(NodeImporter &)>;

/// Handlers by (domain, op type); each covers opsets [since, until].
struct HandlerEntry {
  int since, until;
  Handler handler;
};

class HandlerRegistry {
public:
  void add(llvm::StringRef domain, llvm::StringRef opType, int since, int until,
           Handler handler);
  /// Registers `createDirect` for ops whose ONNX form maps 1:1.
  void addDirect(llvm::StringRef opType, int since = 1, int until = 1 << 30);
  const Handler *lookup(llvm::StringRef domain, llvm::StringRef opType,
                        int opset) const;
  /// Every (domain, op type) with a handler, for reports.
  std::vector<std::string> supportedOps() const;

  static const HandlerRegistry &get();

  using Table =
      std::map<std::pair<std::string, std::string>, std::vector<HandlerEntry>>;
  const Table &entries() const { return table; }

private:
  std::map<std::pair<std::string, std::string>, std::vector<HandlerEntry>>
      table;
};

// Family registration functions, one per file.
void registerElementwiseHandlers(HandlerRegistry &r);
void registerConvPoolHandlers(HandlerRegistry &r);
void registerNormalizationHandlers(HandlerRegistry &r);
void registerShapeHandlers(HandlerRegistry &r);
void registerQuantizationHandlers(HandlerRegistry &r);

/// The default ONNX domain is spelled "" or "ai.onnx"; this is "" for both.
inline std::string canonicalDomain(const std::string &domain) {
  return domain == "ai.onnx" ? std::string() : domain;
}

/// An error at `node`, prefixed with its op type, domain, opset and name.
mlir::InFlightDiagnostic nodeError(mlir::Location loc,
                                   const onnx::NodeProto &node, int opset);

/// MLIR element type of an ONNX tensor data type; null if unsupported.
mlir::Type convertElementType(int32_t dataType, mlir::MLIRContext *ctx);

/// Bits one element of `elt` (a convertElementType result) takes in a
/// tensor's raw_data: 8 for bool, 4 for the 4-bit types (two a byte).
unsigned rawElementBits(mlir::Type elt);

} // namespace qc::onnx_import

#endif // QC_LIB_TARGET_ONNX_NODEIMPORTER_H
