//===- Translation.cpp - the --import-onnx translation --------------------===//
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Target/ONNX/Import.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

static llvm::cl::list<std::string> inputShapes(
    "input-shape",
    llvm::cl::desc("Shape of a model input, NAME:D0xD1x... (repeatable); "
                   "replaces its symbolic or unknown dims"),
    llvm::cl::value_desc("name:dims"));

static llvm::cl::list<std::string> constantInputs(
    "constant-input",
    llvm::cl::desc("Make a model input a constant, NAME=FILE.pb (an ONNX "
                   "TensorProto, as in the backend tests; repeatable)"),
    llvm::cl::value_desc("name=file"));

static llvm::cl::opt<bool> allowInvalid(
    "allow-invalid",
    llvm::cl::desc("Import models that break the ONNX checker's rules where "
                   "they can still be read (for salvage)"));

static llvm::cl::opt<bool> externalDataAnywhere(
    "allow-external-data-anywhere",
    llvm::cl::desc("Read external data outside the model's directory"));

void qc::registerONNXImportTranslation() {
  TranslateToMLIRRegistration reg(
      "import-onnx", "Import an ONNX model (.onnx) into qc graph ops",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *ctx) -> OwningOpRef<Operation *> {
        ONNXImportOptions options;
        options.allowInvalid = allowInvalid;
        options.externalDataAnywhere = externalDataAnywhere;
        const llvm::MemoryBuffer *buf =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        for (const std::string &spec : inputShapes) {
          std::string err;
          if (failed(parseInputShape(spec, options, err))) {
            emitError(UnknownLoc::get(ctx)) << err;
            return nullptr;
          }
        }
        for (const std::string &spec : constantInputs) {
          std::string err;
          if (failed(parseConstantInput(spec, options, err))) {
            emitError(UnknownLoc::get(ctx)) << err;
            return nullptr;
          }
        }
        OwningOpRef<ModuleOp> m = importONNXModel(
            buf->getBuffer(), buf->getBufferIdentifier(), ctx, options);
        if (!m)
          return nullptr;
        return OwningOpRef<Operation *>(m.release());
      },
      [](DialectRegistry &registry) {
        registry.insert<QCDialect, func::FuncDialect, arith::ArithDialect,
                        tensor::TensorDialect>();
      });
}
