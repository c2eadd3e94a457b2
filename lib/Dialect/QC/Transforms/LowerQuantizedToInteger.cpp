//===- LowerQuantizedToInteger.cpp - QDQ chains to integer-only ops -------===//
//
// The pass and its pattern list; the patterns live in IntegerLowering/ by
// concern: linear products (IntegerProducts.cpp), linear layers with float
// results and inputs quantized at run time (DynamicLinear.cpp), and the
// elementwise / requantization chains between them (IntegerChains.cpp).
//
//===----------------------------------------------------------------------===//
#include "IntegerLowering/IntegerLowering.h"
#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Support/LowBitFormat.h"

#include "mlir/IR/Matchers.h"

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
      return signalPassFailure();
    annotateLowBitWeights();
  }

  /// Marks each integer product whose constant weights take at most 16
  /// levels base + step * u as bit-serial (#qc.lowbit); the kernel lowering
  /// computes it on bit planes where that is faster.
  void annotateLowBitWeights() {
    getOperation()->walk([](qc::MatMulIntOp op) {
      Attribute values;
      auto bInt = dyn_cast<IntegerType>(op.getB().getType().getElementType());
      if (op.getLowbitAttr() || !bInt || bInt.getWidth() != 8 ||
          !matchPattern(op.getB(), m_Constant(&values)))
        return;
      std::optional<std::vector<int64_t>> v =
          qc::readIntegerElements(values, !bInt.isUnsigned());
      if (!v || v->empty())
        return;
      if (bInt.isUnsigned())
        for (int64_t &x : *v)
          x -= 128;
      qc::kernels::LowBitFormat f =
          qc::kernels::lowBitFormat(v->data(), v->size());
      if (f.bits <= 4)
        op.setLowbitAttr(
            qc::LowBitAttr::get(op.getContext(), f.bits, f.base, f.step));
    });
  }
};

} // namespace
