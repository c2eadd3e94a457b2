//===- DecomposeConvTranspose.cpp - upsampling ConvTranspose as a 1x1 Conv ===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_DECOMPOSECONVTRANSPOSE
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// ConvTranspose whose windows do not overlap (2-d, strides equal to the
/// kernel, dilation 1, no padding or output padding, group 1, constant
/// weights): every output pixel (h * KH + kh, w * KW + kw) is input pixel
/// (h, w) times W[:, f, kh, kw], so it is a 1x1 Conv to F * KH * KW
/// channels whose result is rearranged (depth to space):
///   [N, F*KH*KW, H, W] -> [N, F, KH, KW, H, W] -> [N, F, H, KH, W, KW]
///   -> [N, F, H*KH, W*KW].
struct UpsamplingToConv : OpRewritePattern<qc::ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ConvTransposeOp op,
                                PatternRewriter &rw) const override {
    auto xTy = dyn_cast<RankedTensorType>(op.getX().getType());
    auto wTy = dyn_cast<RankedTensorType>(op.getW().getType());
    auto yTy = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!xTy || !wTy || !yTy || xTy.getRank() != 4 || wTy.getRank() != 4 ||
        !xTy.hasStaticShape() || !yTy.hasStaticShape() ||
        !xTy.getElementType().isF32() || op.getGroup() != 1 ||
        op.getOutputShape())
      return failure();
    int64_t N = xTy.getDimSize(0), C = xTy.getDimSize(1),
            H = xTy.getDimSize(2), W = xTy.getDimSize(3);
    int64_t F = wTy.getDimSize(1), KH = wTy.getDimSize(2),
            KW = wTy.getDimSize(3);
    auto all = [](std::optional<ArrayRef<int64_t>> a, int64_t v) {
      return !a || llvm::all_of(*a, [&](int64_t x) { return x == v; });
    };
    std::optional<ArrayRef<int64_t>> strides = op.getStrides();
    if (!strides || strides->size() != 2 || (*strides)[0] != KH ||
        (*strides)[1] != KW || !all(op.getDilations(), 1) ||
        !all(op.getPads(), 0) || !all(op.getOutputPadding(), 0) ||
        (op.getAutoPad() != "NOTSET" && op.getAutoPad() != "VALID") ||
        yTy.getShape() != ArrayRef<int64_t>{N, F, H * KH, W * KW})
      return failure();
    std::optional<std::vector<float>> w = qc::readFloatConstant(op.getW());
    if (!w)
      return rw.notifyMatchFailure(op, "weights are not a constant");
    std::vector<float> bias;
    if (Value b = op.getB()) {
      std::optional<std::vector<float>> bv = qc::readFloatConstant(b);
      if (!bv || int64_t(bv->size()) != F)
        return rw.notifyMatchFailure(op, "bias is not a constant");
      bias = *bv;
    }
    // W[c][f][kh][kw] -> W'[(f, kh, kw)][c], and the bias per f repeated.
    int64_t taps = KH * KW, outC = F * taps;
    std::vector<float> w2(size_t(outC * C)), b2(size_t(outC), 0.f);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t o = 0; o < outC; ++o)
        w2[size_t(o * C + c)] = (*w)[size_t(c * outC + o)];
    if (!bias.empty())
      for (int64_t o = 0; o < outC; ++o)
        b2[size_t(o)] = bias[size_t(o / taps)];
    Location loc = op.getLoc();
    Type f32 = rw.getF32Type();
    Value nw = qc::createBlobConstant(
        rw, loc, RankedTensorType::get({outC, C, 1, 1}, f32), w2,
        "upsampling_weight");
    Value nb = qc::createBlobConstant(rw, loc, RankedTensorType::get({outC}, f32),
                                      b2, "upsampling_bias");
    auto ones = rw.getDenseI64ArrayAttr({1, 1});
    Value conv = qc::ConvOp::create(
        rw, loc, RankedTensorType::get({N, outC, H, W}, f32), op.getX(), nw, nb,
        rw.getStringAttr("NOTSET"), rw.getI64IntegerAttr(1), ones, ones,
        rw.getDenseI64ArrayAttr({0, 0, 0, 0}), ones);
    auto reshape = [&](Value v, ArrayRef<int64_t> shape) -> Value {
      auto shapeTy = RankedTensorType::get({int64_t(shape.size())},
                                           rw.getI64Type());
      Value s = arith::ConstantOp::create(
          rw, loc, DenseIntElementsAttr::get(shapeTy, shape));
      return qc::ReshapeOp::create(rw, loc, RankedTensorType::get(shape, f32), v,
                                   s, rw.getI64IntegerAttr(0));
    };
    Value split = reshape(conv, {N, F, KH, KW, H, W});
    Value moved = qc::TransposeOp::create(
        rw, loc, RankedTensorType::get({N, F, H, KH, W, KW}, f32), split,
        rw.getDenseI64ArrayAttr({0, 1, 4, 2, 5, 3}));
    rw.replaceOp(op, reshape(moved, {N, F, H * KH, W * KW}));
    return success();
  }
};

struct DecomposeConvTransposePass
    : qc::impl::DecomposeConvTransposeBase<DecomposeConvTransposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<UpsamplingToConv>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
