//===- LoadModel.cpp - an ONNX file or an .mlir module of graph ops -------===//
#include "qc/Support/NestingLimit.h"
#include "qc/Target/ONNX/Import.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

OwningOpRef<ModuleOp> qc::loadModel(StringRef path,
                                    const ONNXImportOptions &options,
                                    MLIRContext *context) {
  auto buf = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false);
  if (!buf) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "cannot read '" << path << "': " << buf.getError().message();
    return nullptr;
  }
  if (llvm::sys::path::extension(path) == ".mlir") {
    if (auto at = findExcessiveNesting((*buf)->getBuffer())) {
      emitError(FileLineColLoc::get(context, path, at->first, at->second))
          << "brackets nested deeper than " << kMaxTextNesting << " levels";
      return nullptr;
    }
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
    return parseSourceFile<ModuleOp>(sourceMgr, context);
  }
  return importONNXModel((*buf)->getBuffer(), path, context, options);
}
