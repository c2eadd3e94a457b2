//===- LowerQuantizedToInteger.cpp - QDQ chains to integer-only ops -------===//
//
// The pass and its pattern list; the patterns live in IntegerLowering/ by
// concern: linear products (IntegerProducts.cpp), linear layers with float
// results and inputs quantized at run time (DynamicLinear.cpp), and the
// elementwise / requantization chains between them (IntegerChains.cpp).
//
//===----------------------------------------------------------------------===//
#include "IntegerLowering/IntegerLowering.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_LOWERQUANTIZEDTOINTEGER
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

struct LowerQuantizedToIntegerPass
    : qc::impl::LowerQuantizedToIntegerBase<LowerQuantizedToIntegerPass> {
  static constexpr int64_t kMaxSweeps = 100;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    auto blockedWeights = [&] {
      // Block-quantized weights no integer op took stay float (their
      // dequantized values), as the float islands around them.
      RewritePatternSet p(ctx);
      qc::integer::populateBlockedWeightPatterns(p);
      return applyPatternsGreedily(getOperation(), std::move(p));
    };
    RewritePatternSet patterns(ctx);
    qc::integer::populateLinearToIntegerPatterns(patterns);
    qc::integer::populateIntegerChainPatterns(patterns);
    // Below the patterns that produce quantized results, which read more of
    // a chain at once.
    qc::integer::populateRequantizePatterns(patterns, /*benefit=*/0);
    qc::integer::populateFloatResultLinearPatterns(patterns, /*benefit=*/0);
    qc::StorageCastOp::getCanonicalizationPatterns(patterns, ctx);
    // Each sweep moves dequantizations one op further down a chain, so deep
    // models need more sweeps than the driver's default ten.
    GreedyRewriteConfig config;
    config.setMaxIterations(kMaxSweeps);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config))) {
      mlir::emitError(getOperation()->getLoc())
          << "lower-quantized-to-integer: the rewrite did not settle in "
          << kMaxSweeps << " sweeps";
      return signalPassFailure();
    }
    if (failed(blockedWeights()))
      signalPassFailure();
  }
};

} // namespace
