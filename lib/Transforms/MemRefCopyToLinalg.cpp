//===- MemRefCopyToLinalg.cpp - strided copies as linalg, output forwarding ===//
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
#define GEN_PASS_DEF_FORWARDOUTPUTBUFFERS
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

/// memref.copy %a -> %o with %a a memref.alloc of %o's type in the copy's
/// block, %o used by nothing but this copy, and %a used only before it (and
/// by deallocations): %o replaces %a.
struct ForwardOutputBuffersPass
    : qc::impl::ForwardOutputBuffersBase<ForwardOutputBuffersPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp c) { copies.push_back(c); });
    for (memref::CopyOp copy : copies) {
      auto alloc = copy.getSource().getDefiningOp<memref::AllocOp>();
      Value out = copy.getTarget();
      if (!alloc || alloc.getType() != out.getType() ||
          alloc->getBlock() != copy->getBlock() || !out.hasOneUse() ||
          !alloc.getType().getLayout().isIdentity())
        continue;
      // The destination must exist where the allocation is.
      Operation *outDef = out.getDefiningOp();
      if (outDef && (outDef->getBlock() != alloc->getBlock() ||
                     !outDef->isBeforeInBlock(alloc)))
        continue;
      if (!outDef && cast<BlockArgument>(out).getOwner() != alloc->getBlock())
        continue;
      bool ok = true;
      SmallVector<Operation *> deallocs;
      for (OpOperand &use : alloc->getUses()) {
        Operation *user = use.getOwner();
        if (user == copy)
          continue;
        if (isa<memref::DeallocOp>(user)) {
          deallocs.push_back(user);
          continue;
        }
        // Every other use ends before the copy (in its block).
        Operation *anc = copy->getBlock()->findAncestorOpInBlock(*user);
        if (!anc || !anc->isBeforeInBlock(copy)) {
          ok = false;
          break;
        }
      }
      if (!ok)
        continue;
      for (Operation *d : deallocs)
        d->erase();
      alloc.getResult().replaceAllUsesExcept(out, copy);
      copy->erase();
      alloc->erase();
    }
  }
};

} // namespace
