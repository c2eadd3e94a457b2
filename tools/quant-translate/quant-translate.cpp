//===- quant-translate.cpp - ONNX <-> MLIR, like mlir-translate -----------===//
#include "qc/Target/ONNX/Import.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Support/LogicalResult.h"

int main(int argc, char **argv) {
  qc::registerONNXImportTranslation();
  qc::registerONNXExportTranslation();
  return mlir::failed(mlir::mlirTranslateMain(
             argc, argv, "quant-translate: ONNX <-> MLIR translations\n"))
             ? 1
             : 0;
}
