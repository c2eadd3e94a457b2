//===- Linear.cpp - qc MatMul, Gemm and Conv to linalg --------------------===//
#include "Common.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include <functional>
#include <limits>

using namespace mlir;

using namespace qc::lowering;

namespace {

/// MatMul of matrices or of equal-batch 3-d tensors.
struct MatMulToLinalg : OpRewritePattern<qc::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloatOrI32({op.getA(), op.getB(), op.getY()}))
      return rewriter.notifyMatchFailure(op, "static float or i32 shapes only");
    auto a = cast<RankedTensorType>(op.getA().getType());
    auto b = cast<RankedTensorType>(op.getB().getType());
    bool matrices = a.getRank() == 2 && b.getRank() == 2;
    bool batched = a.getRank() == 3 && b.getRank() == 3 &&
                   a.getDimSize(0) == b.getDimSize(0);
    if (!matrices && !batched)
      return rewriter.notifyMatchFailure(
          op, "broadcast batch dims not lowered yet");
    auto y = cast<RankedTensorType>(op.getY().getType());
    Value acc = zeros(rewriter, op.getLoc(), y);
    if (matrices)
      rewriter.replaceOpWithNewOp<linalg::MatmulOp>(
          op, ValueRange{op.getA(), op.getB()}, ValueRange{acc});
    else
      rewriter.replaceOpWithNewOp<linalg::BatchMatmulOp>(
          op, ValueRange{op.getA(), op.getB()}, ValueRange{acc});
    return success();
  }
};

/// Gemm: Y = alpha * A' B' + beta * C, transposes first.
/// The transpose of a constant 2-d f32 weight, as a new constant (a
/// resource blob like the weights the importer writes); null when `v` is not
/// such a constant. Folding Gemm's transB this way keeps the weights'
/// transpose out of every run.
Value transposedConstant(OpBuilder &b, Location loc, Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!cst || !t || t.getRank() != 2 || !t.getElementType().isF32())
    return {};
  int64_t rows = t.getDimSize(0), cols = t.getDimSize(1);
  SmallVector<float> data;
  if (auto res = dyn_cast<DenseF32ResourceElementsAttr>(cst.getValue())) {
    std::optional<ArrayRef<float>> values = res.tryGetAsArrayRef();
    if (!values)
      return {};
    data.assign(values->begin(), values->end());
  } else if (auto dense = dyn_cast<DenseFPElementsAttr>(cst.getValue())) {
    for (APFloat f : dense.getValues<APFloat>())
      data.push_back(f.convertToFloat());
  } else {
    return {};
  }
  if (int64_t(data.size()) != rows * cols)
    return {};
  SmallVector<float> tr(data.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      tr[c * rows + r] = data[r * cols + c];
  auto ty = RankedTensorType::get({cols, rows}, t.getElementType());
  auto blob =
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(tr));
  return arith::ConstantOp::create(
      b, loc,
      DenseResourceElementsAttr::get(ty, "transposed", std::move(blob)));
}

struct GemmToLinalg : OpRewritePattern<qc::GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::GemmOp op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloat(op.getA()) || !staticFloat(op.getB()) ||
        !staticFloat(op.getY()) || (op.getC() && !staticFloat(op.getC())))
      return rewriter.notifyMatchFailure(op, "static float shapes only");
    Location loc = op.getLoc();
    auto transpose = [&](Value v) -> Value {
      if (Value folded = transposedConstant(rewriter, loc, v))
        return folded;
      auto t = cast<RankedTensorType>(v.getType());
      auto ty = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)},
                                      t.getElementType());
      Value init = tensor::EmptyOp::create(rewriter, loc, ty.getShape(),
                                           ty.getElementType());
      return linalg::TransposeOp::create(rewriter, loc, v, init,
                                         ArrayRef<int64_t>{1, 0})
          .getResult()[0];
    };
    Value a = op.getTransA() ? transpose(op.getA()) : op.getA();
    Value b = op.getTransB() ? transpose(op.getB()) : op.getB();
    auto y = cast<RankedTensorType>(op.getY().getType());
    Value acc = linalg::MatmulOp::create(rewriter, loc, ValueRange{a, b},
                                         ValueRange{zeros(rewriter, loc, y)})
                    .getResult(0);
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    Value c = beta != 0.0 ? op.getC() : Value();
    if (alpha != 1.0 || c)
      acc = scaleAndAdd(rewriter, loc, acc, alpha, c, beta);
    rewriter.replaceOp(op, acc);
    return success();
  }
};

/// 2-d Conv, NCHW / FCHW, group 1: explicit pads through tensor.pad, then
/// linalg.conv_2d_nchw_fchw, then the bias along the channel dim.
struct ConvToLinalg : OpRewritePattern<qc::ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!staticFloatOrI32({op.getX(), op.getW(), op.getY()}))
      return rewriter.notifyMatchFailure(op, "static float or i32 shapes only");
    auto x = cast<RankedTensorType>(op.getX().getType());
    auto wTy = cast<RankedTensorType>(op.getW().getType());
    int64_t group = op.getGroupAttr().getInt();
    // Depthwise: one filter per input channel.
    bool depthwise = group > 1 && group == x.getDimSize(1) &&
                     group == wTy.getDimSize(0) && wTy.getDimSize(1) == 1;
    if (x.getRank() != 4 || (group != 1 && !depthwise) ||
        op.getAutoPad() != "NOTSET")
      return rewriter.notifyMatchFailure(
          op, "2-d, group 1 or depthwise, explicit pads only");
    Location loc = op.getLoc();
    SmallVector<int64_t> pads(
        op.getPads().value_or(ArrayRef<int64_t>{0, 0, 0, 0}));
    SmallVector<int64_t> strides(
        op.getStrides().value_or(ArrayRef<int64_t>{1, 1}));
    SmallVector<int64_t> dilations(
        op.getDilations().value_or(ArrayRef<int64_t>{1, 1}));
    Value input = op.getX();
    if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
      SmallVector<int64_t> shape(x.getShape());
      shape[2] += pads[0] + pads[2];
      shape[3] += pads[1] + pads[3];
      auto paddedTy = RankedTensorType::get(shape, x.getElementType());
      Value zero = arith::ConstantOp::create(
          rewriter, loc, rewriter.getZeroAttr(x.getElementType()));
      SmallVector<OpFoldResult> lo = {
          rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
          rewriter.getIndexAttr(pads[0]), rewriter.getIndexAttr(pads[1])};
      SmallVector<OpFoldResult> hi = {
          rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
          rewriter.getIndexAttr(pads[2]), rewriter.getIndexAttr(pads[3])};
      input =
          tensor::PadOp::create(rewriter, loc, paddedTy, input, lo, hi, zero);
    }
    auto y = cast<RankedTensorType>(op.getY().getType());
    Value acc;
    if (depthwise) {
      Value w3 =
          reshapeTo(rewriter, loc, op.getW(),
                    RankedTensorType::get({wTy.getDimSize(0), wTy.getDimSize(2),
                                           wTy.getDimSize(3)},
                                          wTy.getElementType()));
      acc = linalg::DepthwiseConv2DNchwChwOp::create(
                rewriter, loc, y, ValueRange{input, w3},
                ValueRange{zeros(rewriter, loc, y)},
                rewriter.getI64TensorAttr(strides),
                rewriter.getI64TensorAttr(dilations))
                .getResult(0);
    } else {
      acc = linalg::Conv2DNchwFchwOp::create(
                rewriter, loc, y, ValueRange{input, op.getW()},
                ValueRange{zeros(rewriter, loc, y)},
                rewriter.getI64TensorAttr(strides),
                rewriter.getI64TensorAttr(dilations))
                .getResult(0);
    }
    if (Value bias = op.getB()) {
      // Bias [F] broadcast along dim 1: view it as [F, 1, 1].
      auto bt = cast<RankedTensorType>(bias.getType());
      auto bias3 =
          RankedTensorType::get({bt.getDimSize(0), 1, 1}, bt.getElementType());
      SmallVector<ReassociationIndices> reassoc = {{0, 1, 2}};
      Value b3 =
          tensor::ExpandShapeOp::create(rewriter, loc, bias3, bias, reassoc);
      acc = scaleAndAdd(rewriter, loc, acc, 1.0, b3, 1.0);
    }
    rewriter.replaceOp(op, acc);
    return success();
  }
};

} // namespace

void qc::lowering::populateLinearPatterns(RewritePatternSet &patterns) {
  patterns.add<MatMulToLinalg, GemmToLinalg, ConvToLinalg>(
      patterns.getContext());
}
