//===- fuzz_mlir.cpp - libFuzzer target: .mlir with the qc dialect --------===//
//
// Parses the input as an MLIR module of qc graph ops (with func, arith,
// tensor and quant) and verifies it: the parser, the qc types' and
// attributes' parsers and every op verifier. A fresh MLIRContext every 2000
// inputs bounds what its uniquing keeps.
//
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Support/NestingLimit.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <cstdint>
#include <memory>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static unsigned runs = 0;
  if (!ctx || ++runs % 2000 == 0) {
    mlir::DialectRegistry registry;
    registry.insert<qc::QCDialect, mlir::func::FuncDialect,
                    mlir::arith::ArithDialect, mlir::tensor::TensorDialect,
                    mlir::quant::QuantDialect>();
    ctx = std::make_unique<mlir::MLIRContext>(
        registry, mlir::MLIRContext::Threading::DISABLED);
    ctx->loadAllAvailableDialects();
    ctx->getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
  }
  // MLIR's lexer reads up to a terminating NUL, as the tools' buffers (read
  // from files) have: a std::string gives the input one.
  std::string text(reinterpret_cast<const char *>(data), size);
  // What the tools refuse before parsing (MLIR's parser recursion).
  if (qc::findExcessiveNesting(text))
    return 0;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, ctx.get());
  if (module)
    (void)mlir::verify(*module);
  return 0;
}
