//===- fuzz_onnx.cpp - libFuzzer target: the ONNX importer ----------------===//
//
// Imports the input bytes as an ONNX model: protobuf parsing, Validate.cpp's
// checks, ONNX's shape inference, the node handlers and the module's
// verification. Any crash, sanitizer report or leak is a finding; a
// diagnostic is the expected answer to garbage. A fresh MLIRContext every
// 2000 inputs bounds what its uniquing keeps.
//
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Target/ONNX/Import.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <memory>

static std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
  registry.insert<qc::QCDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::tensor::TensorDialect,
                  mlir::quant::QuantDialect>();
  auto ctx = std::make_unique<mlir::MLIRContext>(
      registry, mlir::MLIRContext::Threading::DISABLED);
  ctx->loadAllAvailableDialects();
  // Diagnostics are the expected outcome: drop them.
  ctx->getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
  return ctx;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static unsigned runs = 0;
  if (!ctx || ++runs % 2000 == 0)
    ctx = makeContext();
  qc::ONNXImportOptions options;
  mlir::OwningOpRef<mlir::ModuleOp> module = qc::importONNXModel(
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "/nonexistent/fuzz.onnx", ctx.get(), options);
  return 0;
}
