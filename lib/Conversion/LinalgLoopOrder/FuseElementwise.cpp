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
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#define GEN_PASS_DEF_APPROXIMATEMATH
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

/// exp, erf and tanh of f32 as upstream's polynomial approximations (arith
/// only): loops over them vectorize, where calls to libm's scalar expf /
/// erff / tanhf do not.
struct ApproximateMathPass : qc::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      name.consume_front("math.");
      return name == "exp" || name == "erf" || name == "tanh";
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
