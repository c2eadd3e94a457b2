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
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#define GEN_PASS_DEF_APPROXIMATEMATH
#define GEN_PASS_DEF_REASSOCIATEREDUCTIONS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The most ops one fused body takes (yields included).
constexpr size_t kMaxFusedBodyOps = 512;

bool isElementwiseGeneric(Operation *op) {
  auto g = dyn_cast_or_null<linalg::GenericOp>(op);
  return g && g.getNumLoops() == g.getNumParallelLoops() &&
         g.getNumDpsInits() == 1;
}

struct FuseElementwisePass
    : qc::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::ControlFusionFn control = [](OpOperand *use) {
      Operation *producer = use->get().getDefiningOp();
      if (!isElementwiseGeneric(producer) || !producer->hasOneUse() ||
          !isElementwiseGeneric(use->getOwner()))
        return false;
      // A producer that gathers (a table lookup, a nearest resize) stays
      // apart: fused, its gather would make the consumer's loop one that
      // does not vectorize (and, broadcast, run once per element of the
      // larger loop).
      bool gathers = false;
      producer->walk([&](tensor::ExtractOp) { gathers = true; });
      // Fusing clones the producer's body into the consumer: along a chain
      // of N elementwise ops the bodies grow to N ops and the clones cost
      // N^2 (a graph 20,000 nodes deep took minutes here). Bodies stop
      // growing at kMaxFusedBodyOps, far above any real chain.
      size_t ops = producer->getRegion(0).front().getOperations().size() +
                   use->getOwner()->getRegion(0).front().getOperations().size();
      return !gathers && ops <= kMaxFusedBodyOps;
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

/// exp, erf and tanh of f32 as upstream's polynomial approximations (arith
/// only): loops over them vectorize, where calls to libm's scalar expf /
/// erff / tanhf do not.
struct ApproximateMathPass
    : qc::impl::ApproximateMathBase<ApproximateMathPass> {
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

/// The float combiner of each reduction generic (the op that folds a value
/// into an output block argument and is yielded) allows reassociation, so
/// LLVM's loop vectorizer turns the serial chain into vector partial sums.
struct ReassociateReductionsPass
    : qc::impl::ReassociateReductionsBase<ReassociateReductionsPass> {
  void runOnOperation() override {
    getOperation()->walk([](linalg::GenericOp g) {
      if (g.getNumReductionLoops() == 0)
        return;
      Block &body = g.getRegion().front();
      auto yield = cast<linalg::YieldOp>(body.getTerminator());
      for (auto [i, v] : llvm::enumerate(yield.getValues())) {
        Operation *def = v.getDefiningOp();
        auto fm = dyn_cast_or_null<arith::ArithFastMathInterface>(def);
        if (!fm ||
            !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp,
                 arith::MinimumFOp, arith::MaxNumFOp, arith::MinNumFOp>(def))
          continue;
        BlockArgument out = body.getArgument(g.getNumDpsInputs() + i);
        if (!llvm::is_contained(def->getOperands(), Value(out)))
          continue;
        auto flags = fm.getFastMathFlagsAttr();
        auto with = arith::FastMathFlags::reassoc |
                    (flags ? flags.getValue() : arith::FastMathFlags::none);
        def->setAttr(fm.getFastMathAttrName(),
                     arith::FastMathFlagsAttr::get(def->getContext(), with));
      }
    });
  }
};

} // namespace
