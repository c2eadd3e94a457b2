//===- quant-opt.cpp - mlir-opt with the qc dialect and passes ------------===//
#include "qc/Conversion/Passes.h"
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Dialect/QC/Transforms/Pipelines.h"
#include "qc/Quantization/Passes.h"
#include "qc/Support/NestingLimit.h"
#include "qc/Target/CPU/Pipelines.h"
#include "qc/Target/CUDA/Pipelines.h"
#include "qc/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  // Upstream dialects and passes: the lowering pipelines go through linalg,
  // tensor, arith, vector, bufferization, gpu/nvvm and llvm.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates the device code to LLVM IR.
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::registerAllPasses();
  registry.insert<qc::QCDialect>();
  // Ours, layer by layer: the dialect's passes, the linalg/memref
  // transforms, the conversions out of qc, the CPU target's pipelines.
  qc::registerQCPasses();
  qc::registerQuantizationPipelines();
  qc::registerQCCodegenTransformsPasses();
  qc::registerQCConversionPasses();
  qc::cpu::registerCPUPipelines();
  qc::cuda::registerCUDAPipelines();
  // assign-bit-widths: the quantization library (CBC).
  qc::registerQCQuantizationPasses();
  auto [input, output] = mlir::registerAndParseCLIOptions(
      argc, argv, "quant-opt: the quantization compiler's optimizer driver\n",
      registry);
  // Text nested deeper than the parser's recursion can take is refused
  // (a file; standard input is read once, by the parser).
  if (input != "-") {
    if (auto buf = llvm::MemoryBuffer::getFile(input, /*IsText=*/true))
      if (auto at = qc::findExcessiveNesting((*buf)->getBuffer())) {
        llvm::errs() << input << ":" << at->first << ":" << at->second
                     << ": error: brackets nested deeper than "
                     << qc::kMaxTextNesting << " levels\n";
        return 1;
      }
  }
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, input, output, registry));
}
