//===- quant-translate.cpp - ONNX <-> MLIR, like mlir-translate -----------===//
//
//   quant-translate --import-onnx model.onnx -o model.mlir
//   quant-translate --export-onnx-qdq model_qdq.mlir -o model.onnx
//   quant-translate --list-ops [--json]   the ONNX ops the importer handles
//
//===----------------------------------------------------------------------===//
#include "qc/Target/ONNX/Import.h"

#include "mlir/Support/LogicalResult.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

/// One line per handler, "domain op_type since [until]", or a JSON array.
static int listOps(bool json) {
  llvm::json::Array ops;
  for (const qc::SupportedONNXOp &op : qc::supportedONNXOps()) {
    std::string domain = op.domain.empty() ? "ai.onnx" : op.domain;
    bool bounded = op.until < (1 << 30);
    if (json) {
      ops.push_back(
          llvm::json::Object{{"domain", domain},
                             {"op_type", op.opType},
                             {"since", op.since},
                             {"until", bounded ? llvm::json::Value(op.until)
                                               : llvm::json::Value(nullptr)}});
      continue;
    }
    llvm::outs() << domain << " " << op.opType << " " << op.since;
    if (bounded)
      llvm::outs() << " " << op.until;
    llvm::outs() << "\n";
  }
  if (json)
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(ops)))
                 << "\n";
  return 0;
}

int main(int argc, char **argv) {
  // --list-ops is a query, not a translation: answered before
  // mlirTranslateMain, which wants an input to translate.
  bool list = false, json = false;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef a(argv[i]);
    list |= a == "--list-ops" || a == "-list-ops";
    json |= a == "--json" || a == "-json";
  }
  if (list)
    return listOps(json);
  qc::registerONNXImportTranslation();
  qc::registerONNXExportTranslation();
  return mlir::failed(mlir::mlirTranslateMain(
             argc, argv, "quant-translate: ONNX <-> MLIR translations\n"))
             ? 1
             : 0;
}
