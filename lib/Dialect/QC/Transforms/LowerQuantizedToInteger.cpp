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

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"

#include <algorithm>
#include <cmath>

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
  /// levels base + step * u as bit-serial (#qc.lowbit), with its
  /// activations' two levels where they are provably binary; the kernel
  /// lowering computes it on bit planes where that is faster.
  void annotateLowBitWeights() {
    getOperation()->walk([](Operation *op) {
      Value x, w;
      if (auto conv = dyn_cast<qc::ConvIntOp>(op)) {
        if (conv.getLowbitAttr())
          return;
        x = conv.getInput();
        w = conv.getWeight();
      } else if (auto mm = dyn_cast<qc::MatMulIntOp>(op)) {
        if (mm.getLowbitAttr())
          return;
        x = mm.getA();
        w = mm.getB();
      } else {
        return;
      }
      Attribute values;
      auto wTy = cast<RankedTensorType>(w.getType());
      auto wInt = dyn_cast<IntegerType>(wTy.getElementType());
      // Bit-serial products take 8-bit activations (not 16-bit ones).
      if (cast<RankedTensorType>(x.getType()).getElementTypeBitWidth() > 8 ||
          !wInt || wInt.getWidth() != 8 ||
          !matchPattern(w, m_Constant(&values)))
        return;
      std::optional<std::vector<int64_t>> v =
          qc::readIntegerElements(values, !wInt.isUnsigned());
      if (!v || v->empty())
        return;
      if (wInt.isUnsigned())
        for (int64_t &e : *v)
          e -= 128;
      qc::kernels::LowBitFormat f =
          qc::kernels::lowBitFormat(v->data(), v->size());
      if (f.bits > 4)
        return;
      std::optional<std::pair<int32_t, int32_t>> act = binaryLevels(x);
      op->setAttr("lowbit",
                  qc::LowBitAttr::get(
                      op->getContext(), f.bits, f.base, f.step,
                      act ? std::optional<int32_t>(act->first) : std::nullopt,
                      act ? std::optional<int32_t>(act->second)
                          : std::nullopt));
    });
  }

  /// The two stored values of activations that are the quantization (per
  /// tensor) of a Where between two constants, as binarized activations
  /// export, or a step-function qc.requantize (through reshapes,
  /// transposes and max pooling); none when that is not what `x` is.
  static std::optional<std::pair<int32_t, int32_t>> binaryLevels(Value x) {
    // Ops that only move or select values keep the two levels.
    static const llvm::StringRef kKeepLevels[] = {
        "qc.flatten", "qc.reshape",   "qc.transpose",
        "qc.squeeze", "qc.unsqueeze", "qc.maxpool"};
    auto strip = [](Value v) {
      while (Operation *def = v.getDefiningOp()) {
        if (!llvm::is_contained(kKeepLevels, def->getName().getStringRef()) ||
            def->getNumOperands() < 1)
          break;
        v = def->getOperand(0);
      }
      return v;
    };
    x = strip(x);
    if (auto sc = x.getDefiningOp<qc::StorageCastOp>())
      x = sc.getInput();
    // A step function (ThresholdToRequantize): shift 0, one multiplier
    // spanning the clamp range, the output zero point at one end of it.
    if (auto rq = strip(x).getDefiningOp<qc::RequantizeOp>()) {
      int64_t lo = rq.getClampMin(), hi = rq.getClampMax(),
              zp = rq.getOutputZp();
      if (rq.getMultiplier().size() == 1 && rq.getShift()[0] == 0 && lo < hi &&
          rq.getMultiplier()[0] >= hi - lo && (zp == lo || zp == hi))
        return std::make_pair(int32_t(lo), int32_t(hi));
      return std::nullopt;
    }
    auto q = x.getDefiningOp<qc::QuantizeOp>();
    if (!q)
      return std::nullopt;
    auto qt = dyn_cast<quant::UniformQuantizedType>(
        mlir::getElementTypeOrSelf(q.getOutput().getType()));
    // On integers or still in float, around the quantization.
    auto where = strip(q.getInput()).getDefiningOp<qc::WhereOp>();
    if (!qt || !where)
      return std::nullopt;
    std::optional<int64_t> level[2] = {
        qc::integer::constantLevel(where.getX(), qt),
        qc::integer::constantLevel(where.getY(), qt)};
    if (!level[0] || !level[1])
      return std::nullopt;
    if (*level[0] == *level[1])
      return std::nullopt;
    return std::make_pair(int32_t(std::min(*level[0], *level[1])),
                          int32_t(std::max(*level[0], *level[1])));
  }
};

} // namespace
