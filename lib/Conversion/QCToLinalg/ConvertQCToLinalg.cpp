//===- ConvertQCToLinalg.cpp - the convert-qc-to-linalg pass --------------===//
//
// Collects the patterns of each op family (Elementwise, Linear,
// Normalization, Indexing, Reductions, Windows, ...) and applies them after
// making integer types signless and quantized values their storage
// integers. Kernel calls are not decided here: qc-lower-to-microkernels
// runs before and has already replaced what the kernels compute.
//
//===----------------------------------------------------------------------===//
#include "Common.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_CONVERTQCTOLINALG
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc::lowering;

namespace {

struct ConvertQCToLinalgPass
    : qc::impl::ConvertQCToLinalgBase<ConvertQCToLinalgPass> {
  using ConvertQCToLinalgBase::ConvertQCToLinalgBase;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateElementwisePatterns(patterns);
    populateLinearPatterns(patterns);
    populateNormalizationPatterns(patterns);
    populateIndexingPatterns(patterns);
    populateHadamardPatterns(patterns);
    populateDynamicQuantizationPatterns(patterns);
    populateReductionPatterns(patterns);
    populateQuantizationPatterns(patterns);
    populateScatterPatterns(patterns);
    populateWindowPatterns(patterns);
    populateControlPatterns(patterns);
    populateIntegerOpPatterns(patterns);
    populateMinifloatPatterns(patterns);
    makeSignless(getOperation());
    if (failed(lowerQuantizedTypes(getOperation())))
      return signalPassFailure();
    // Ops this cannot lower yet (dynamic shapes, no pattern) stay.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
