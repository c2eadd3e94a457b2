//===- LinalgVectorize.cpp - register tiles of f32 contractions
//------------===//
//
// qc-linalg-vectorize: f32 contractions on static tensors are tiled into
// register-sized output tiles (upstream scf::tileUsingSCF), each tile is
// vectorized (linalg::vectorize, to vector.contract) and the contraction is
// lowered to outer products (one FMA row per output row of the tile). The
// reduction loops are tiled by 1, innermost, so the output tile is the same
// slice on every reduction step; qc-hoist-vector-transfers then keeps it in
// registers after bufferization.
//
//===----------------------------------------------------------------------===//
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace qc {
#define GEN_PASS_DEF_LINALGVECTORIZE
#define GEN_PASS_DEF_HOISTVECTORTRANSFERS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The largest candidate that divides `n`, or 0.
int64_t dividing(int64_t n, ArrayRef<int64_t> candidates) {
  for (int64_t c : candidates)
    if (n % c == 0)
      return c;
  return 0;
}

/// Tile sizes for `op` (one per loop), or empty when it is not a static f32
/// contraction whose output's innermost dim is a multiple of 8.
SmallVector<int64_t> registerTile(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics() ||
      !linalg::isaContractionOpInterface(op))
    return {};
  for (Value v : op->getOperands()) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || !t.hasStaticShape() || !t.getElementType().isF32())
      return {};
  }
  AffineMap out = op.getIndexingMapsArray().back();
  // More than one batch dim: the vectorized tile would keep unit batch dims
  // the contraction lowering cannot mask (those ops keep their loops).
  if (out.getNumResults() < 2 || out.getNumResults() > 3 ||
      !out.isProjectedPermutation())
    return {};
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned j = cast<AffineDimExpr>(out.getResults().back()).getPosition();
  unsigned i = cast<AffineDimExpr>(out.getResults()[out.getNumResults() - 2])
                   .getPosition();
  SmallVector<int64_t> tiles(ranges.size(), 1);
  tiles[j] = dividing(ranges[j], {32, 16, 8});
  tiles[i] = dividing(ranges[i], {8, 6, 4, 3, 2, 1});
  if (tiles[j] == 0)
    return {};
  return tiles;
}

/// Tile sizes that cut an all-parallel generic of static shapes into
/// strips of 16-64 elements of its innermost loop (1 for the others), or
/// empty: when that extent has no such divisor, the op is small, it gathers
/// (tensor.extract: a table lookup), or an input reads the innermost loop
/// other than contiguously (a transpose).
SmallVector<int64_t> elementwiseStrip(linalg::GenericOp g) {
  if (!g.hasPureTensorSemantics() || g.getNumDpsInits() != 1 ||
      g.getNumLoops() == 0 || g.getNumLoops() != g.getNumParallelLoops())
    return {};
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  int64_t total = 1;
  for (int64_t r : ranges) {
    if (ShapedType::isDynamic(r))
      return {};
    total *= r;
  }
  unsigned inner = ranges.size() - 1;
  int64_t strip = dividing(ranges[inner], {64, 32, 16});
  if (strip == 0 || total < 256)
    return {};
  for (AffineMap m : g.getIndexingMapsArray()) {
    if (!m.isProjectedPermutation(/*allowZeroInResults=*/true))
      return {};
    for (unsigned r = 0; r + 1 < m.getNumResults(); ++r)
      if (m.getResult(r).isFunctionOfDim(inner))
        return {};
  }
  bool gathers = false;
  g.getRegion().walk([&](Operation *op) {
    gathers |= isa<tensor::ExtractOp, linalg::IndexOp>(op);
  });
  if (gathers)
    return {};
  SmallVector<int64_t> tiles(ranges.size(), 1);
  tiles[inner] = strip;
  return tiles;
}

/// Whether `op` has enough iterations to share among threads: below 2^15
/// (a few microseconds of work) a fork and join of the pool costs as much
/// as it saves, so small ops (the tail of a classifier, a keyword
/// spotter's layers) run on the calling thread.
bool worthThreads(linalg::LinalgOp op) {
  int64_t n = 1;
  for (int64_t r : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(r))
      return true;
    n *= r;
    if (n >= (int64_t(1) << 15))
      return true;
  }
  return false;
}

/// The unit-extent parallel loops of `op` other than those of the output's
/// last two dims.
SmallVector<unsigned> unitBatchDims(linalg::LinalgOp op) {
  AffineMap out = op.getIndexingMapsArray().back();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  SmallVector<unsigned> dims;
  for (unsigned d = 0; d < ranges.size(); ++d) {
    bool inner = false;
    for (AffineExpr e : out.getResults().take_back(2))
      inner |= e.isFunctionOfDim(d);
    if (ranges[d] == 1 && !inner && iters[d] == utils::IteratorType::parallel)
      dims.push_back(d);
  }
  return dims;
}

/// Tiles `op` by `sizes` (0: not tiled) with scf.for loops or one
/// scf.forall; returns the tiled op, or null (op unchanged) on failure.
Operation *tileOnce(RewriterBase &rewriter, Operation *op,
                    ArrayRef<int64_t> sizes, bool forall) {
  rewriter.setInsertionPoint(op);
  scf::SCFTilingOptions options;
  options.setLoopType(forall ? scf::SCFTilingOptions::LoopType::ForallOp
                             : scf::SCFTilingOptions::LoopType::ForOp);
  options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), sizes));
  FailureOr<scf::SCFTilingResult> tiled =
      scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
  if (failed(tiled) || tiled->tiledOps.size() != 1)
    return nullptr;
  rewriter.replaceOp(op, tiled->replacements);
  return tiled->tiledOps.front();
}

struct LinalgVectorizePass
    : qc::impl::LinalgVectorizeBase<LinalgVectorizePass> {
  using LinalgVectorizeBase::LinalgVectorizeBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);
    // Convolutions become im2col + a contraction when that contraction
    // (its inner dim is the output plane) can be tiled.
    SmallVector<linalg::Conv2DNchwFchwOp> convs;
    getOperation()->walk(
        [&](linalg::Conv2DNchwFchwOp op) { convs.push_back(op); });
    for (linalg::Conv2DNchwFchwOp conv : convs) {
      auto out = dyn_cast<RankedTensorType>(conv.getResultTypes()[0]);
      auto in = dyn_cast<RankedTensorType>(conv.getInputs()[0].getType());
      auto filter = dyn_cast<RankedTensorType>(conv.getInputs()[1].getType());
      if (!out || !in || !filter || !out.hasStaticShape() ||
          !in.hasStaticShape() || !filter.hasStaticShape() ||
          !out.getElementType().isF32() ||
          (out.getDimSize(2) * out.getDimSize(3)) % 8 != 0)
        continue;
      // The im2col buffer holds C*KH*KW values per output pixel: worth it
      // for 1x1 filters (a plain copy), short rows, and while it stays
      // cache-sized (1M floats); larger convolutions keep their loops,
      // whose rows LLVM vectorizes.
      bool pointwise = filter.getDimSize(2) == 1 && filter.getDimSize(3) == 1;
      int64_t colSize = filter.getDimSize(1) * filter.getDimSize(2) *
                        filter.getDimSize(3) * out.getDimSize(2) *
                        out.getDimSize(3);
      if (!pointwise && out.getDimSize(3) >= 16 && colSize > (1 << 20))
        continue;
      rewriter.setInsertionPoint(conv);
      (void)linalg::rewriteInIm2Col(rewriter, conv);
    }

    // Unit parallel dims other than the output's last two (a batch of 1)
    // are dropped first: the tile is then a plain matmul tile, which the
    // contraction lowering turns into outer products.
    SmallVector<linalg::LinalgOp> batched;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (!registerTile(op).empty() && !unitBatchDims(op).empty())
        batched.push_back(op);
    });
    for (linalg::LinalgOp op : batched) {
      rewriter.setInsertionPoint(op);
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> g =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(g))
          continue;
        generic = *g;
      }
      linalg::ControlDropUnitDims options;
      options.controlFn = [](Operation *o) {
        return unitBatchDims(cast<linalg::LinalgOp>(o));
      };
      FailureOr<linalg::DropUnitDimsResult> dropped =
          linalg::dropUnitDims(rewriter, generic, options);
      if (succeeded(dropped))
        rewriter.replaceOp(generic, dropped->replacements);
    }

    SmallVector<std::pair<linalg::LinalgOp, SmallVector<int64_t>>> work;
    getOperation()->walk([&](linalg::LinalgOp op) {
      SmallVector<int64_t> tiles = registerTile(op);
      if (!tiles.empty())
        work.push_back({op, tiles});
    });
    for (auto &[op, tiles] : work) {
      // Output tiles (scf.forall when parallel, for threads), then the
      // reductions by 1 inside each tile.
      SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
      SmallVector<int64_t> outer(tiles), inner(tiles.size(), 0);
      for (auto [d, it] : llvm::enumerate(iters))
        if (it == utils::IteratorType::reduction)
          std::swap(outer[d], inner[d]);
      Operation *tile =
          tileOnce(rewriter, op, outer, parallel && worthThreads(op));
      if (!tile)
        continue;
      if (llvm::any_of(inner, [](int64_t t) { return t != 0; }))
        tile = tileOnce(rewriter, tile, inner, /*forall=*/false);
      if (!tile)
        continue;
      rewriter.setInsertionPoint(tile);
      // A generic that is a matmul vectorizes like linalg.matmul.
      if (auto g = dyn_cast<linalg::GenericOp>(tile)) {
        FailureOr<linalg::LinalgOp> named =
            linalg::specializeGenericOp(rewriter, g);
        if (succeeded(named))
          tile = named->getOperation();
      }
      FailureOr<linalg::VectorizationResult> v =
          linalg::vectorize(rewriter, tile, {}, {}, false, false, false,
                            /*createNamedContraction=*/true);
      if (succeeded(v))
        rewriter.replaceOp(tile, v->replacements);
    }

    // For threads: every other linalg op on tensors gets its outermost
    // parallel loop longer than 1 as an scf.forall over single iterations
    // (OpenMP shares them out); the inner op keeps its loops.
    if (parallel) {
      SmallVector<linalg::LinalgOp> rest;
      getOperation()->walk([&](linalg::LinalgOp op) {
        if (op.hasPureTensorSemantics() && !isa<linalg::FillOp>(op) &&
            !op->getParentOfType<scf::ForallOp>())
          rest.push_back(op);
      });
      for (linalg::LinalgOp op : rest) {
        if (!worthThreads(op))
          continue;
        SmallVector<int64_t> ranges = op.getStaticLoopRanges();
        SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
        SmallVector<int64_t> sizes(ranges.size(), 0);
        for (size_t d = 0; d < ranges.size(); ++d)
          if (iters[d] == utils::IteratorType::parallel && ranges[d] > 1 &&
              !ShapedType::isDynamic(ranges[d])) {
            sizes[d] = 1;
            break;
          }
        if (llvm::any_of(sizes, [](int64_t t) { return t != 0; }))
          (void)tileOnce(rewriter, op, sizes, /*forall=*/true);
      }
    }

    // Elementwise generics (requantization chains, integer Adds and
    // products, activations): strips of the innermost dim vectorized here,
    // since LLVM's loop vectorizer gives up on many of their loops (it
    // cannot bound the memrefs' ranges for its alias checks).
    SmallVector<std::pair<linalg::GenericOp, SmallVector<int64_t>>> strips;
    getOperation()->walk([&](linalg::GenericOp g) {
      SmallVector<int64_t> tiles = elementwiseStrip(g);
      if (!tiles.empty())
        strips.push_back({g, tiles});
    });
    for (auto &[g, tiles] : strips) {
      Operation *tile = tileOnce(rewriter, g, tiles, /*forall=*/false);
      if (!tile)
        continue;
      rewriter.setInsertionPoint(tile);
      FailureOr<linalg::VectorizationResult> v =
          linalg::vectorize(rewriter, tile);
      if (succeeded(v))
        rewriter.replaceOp(tile, v->replacements);
    }

    // vector.contract -> outer products -> FMAs; transfers in the forms
    // convert-vector-to-scf/llvm take.
    RewritePatternSet patterns(ctx);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    vector::populateVectorTransposeLoweringPatterns(
        patterns, vector::VectorTransposeLowering::EltWise);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();

    // The accumulator tile (a transfer_read/transfer_write pair of the same
    // slice of the loop-carried tensor) becomes a loop-carried vector of the
    // reduction loop. On tensors this works whatever views bufferization
    // makes of the output later (an im2col output is a collapse_shape).
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      (void)hoistLoopInvariantSubsets(
          rewriter, cast<LoopLikeOpInterface>(loop.getOperation()));
  }
};

struct HoistVectorTransfersPass
    : qc::impl::HoistVectorTransfersBase<HoistVectorTransfersPass> {
  void runOnOperation() override {
    linalg::hoistRedundantVectorTransfers(getOperation());
  }
};

} // namespace
