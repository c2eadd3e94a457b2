//===- MemRefCopyToLinalg.cpp - strided memref.copy as linalg.copy --------===//
//
// finalize-memref-to-llvm turns a copy between non-contiguous memrefs (the
// subviews bufferized tensor.pad and tensor.insert_slice write into) into a
// call to `memrefCopy` from MLIR's runner library; a compiled model must not
// depend on that library, so such copies become linalg.copy, which lowers to
// loops like every other linalg op. Contiguous copies stay memref.copy
// (llvm.memcpy).
//
//===----------------------------------------------------------------------===//
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_CONVERTMEMREFCOPYTOLINALG
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

struct StridedCopyToLinalg : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto contiguous = [](Type t) {
      auto m = dyn_cast<MemRefType>(t);
      return m && m.getLayout().isIdentity();
    };
    if (contiguous(op.getSource().getType()) &&
        contiguous(op.getTarget().getType()))
      return failure();
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                op.getTarget());
    return success();
  }
};

struct ConvertMemRefCopyToLinalgPass
    : qc::impl::ConvertMemRefCopyToLinalgBase<ConvertMemRefCopyToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<StridedCopyToLinalg>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
