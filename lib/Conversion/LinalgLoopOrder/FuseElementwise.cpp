//===- FuseElementwise.cpp - fuse chains of elementwise generics ----------===//
//
// qc-fuse-elementwise: upstream elementwise fusion
// (linalg::populateElementwiseOpsFusionPatterns) limited to an all-parallel
// linalg.generic whose only user is another all-parallel generic. The qc
// lowering emits one generic per graph op; chains such as dequantize ->
// add -> clip -> mul -> quantize then become one loop nest with one
// buffer instead of one pass over memory per op. Contractions, convolutions
// and reductions are neither fused into nor fused.
//
//===----------------------------------------------------------------------===//
#include "qc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

bool isElementwiseGeneric(Operation *op) {
  auto g = dyn_cast_or_null<linalg::GenericOp>(op);
  return g && g.getNumLoops() == g.getNumParallelLoops() && g.getNumDpsInits() == 1;
}

struct FuseElementwisePass : qc::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::ControlFusionFn control = [](OpOperand *use) {
      Operation *producer = use->get().getDefiningOp();
      return isElementwiseGeneric(producer) && producer->hasOneUse() &&
             isElementwiseGeneric(use->getOwner());
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
