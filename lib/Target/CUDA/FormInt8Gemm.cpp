//===- FormInt8Gemm.cpp - qc integer matmul/conv as an i8 GEMM ------------===//
//
// qc.matmul_int (constant 2-d weights) and qc.conv_int (2-d, group 1,
// constant weights, through an im2col gather) become
//
//   C = linalg.matmul(A[M, K'] i8, W[N, K'] i8 transposed, zeros i32)
//   acc = C + corr (one linalg.generic)
//
// with K' = K rounded up to 16 (zero columns), W = (b - b_zp)^T made at
// compile time, u8 activations shifted to i8 (a - 128 = a xor 0x80, the zero
// point shifted alike) and corr = bias - a_zp * (sums of W's rows), all
// wrapping i32 arithmetic: the integers of convert-qc-to-linalg's lowering.
// qc-cuda-int8-gemm-to-mma runs that matmul on the tensor cores.
//
// qc.matmul_mx of MXFP4 or MXFP6 (E2M3) weights becomes a
// qc::cuda::kMxGemmAttr generic (i64 sums of each block of 32 shifted by its
// exponent difference) of the packed codes through a qc::cuda::kMxUnpackAttr
// (kMx6UnpackAttr) generic, which the tensor-core pass decodes in registers.
//
//===----------------------------------------------------------------------===//
#include "../../Conversion/QCToLinalg/Common.h"
#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Support/Minifloat.h"
#include "qc/Target/CUDA/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc::cuda {
#define GEN_PASS_DEF_FORMINT8GEMM
#include "qc/Target/CUDA/Passes.h.inc"
} // namespace qc::cuda

using namespace mlir;

namespace {

/// The K the tensor-core GEMM needs: its rows start 16-byte aligned.
constexpr int64_t kKAlign = 16;

int64_t roundUp(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

bool isInt8(Type t) {
  auto i = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
  return i && i.getWidth() == 8;
}
bool isUnsigned(Type t) {
  auto i = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
  return i && i.isUnsigned();
}

/// The values of a constant integer tensor, extended by its signedness.
std::optional<std::vector<int64_t>> constInts(Value v) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  return qc::readIntegerElements(attr, !isUnsigned(v.getType()));
}

template <typename T>
Value blobConstant(OpBuilder &b, Location loc, ArrayRef<T> values,
                   ArrayRef<int64_t> shape, Type elt, StringRef name) {
  auto ty = RankedTensorType::get(shape, elt);
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(values);
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(ty, name, std::move(blob)));
}

/// The weights as the GEMM's [rows, K'] i8 operand: w(r, k) - zp[r] (zp per
/// tensor or per row), zero columns up to K'; with the sums of its rows.
/// None where a shifted weight does not fit in i8.
struct Weights {
  std::vector<int8_t> values;
  std::vector<int64_t> rowSums;
};
std::optional<Weights> shiftWeights(int64_t rows, int64_t k, int64_t kPadded,
                                    ArrayRef<int32_t> zps,
                                    llvm::function_ref<int64_t(int64_t, int64_t)>
                                        weight) {
  Weights w;
  w.values.assign(rows * kPadded, 0);
  w.rowSums.assign(rows, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t zp = zps.size() == 1 ? zps[0] : zps[r];
    for (int64_t i = 0; i < k; ++i) {
      int64_t v = weight(r, i) - zp;
      if (v < -128 || v > 127)
        return std::nullopt;
      w.values[r * kPadded + i] = int8_t(v);
      w.rowSums[r] += v;
    }
  }
  return w;
}

/// Whether every shifted weight fits in 4 bits, [-8, 7].
bool fitsW4(ArrayRef<int8_t> values) {
  return llvm::all_of(values, [](int8_t v) { return v >= -8 && v <= 7; });
}

/// `w` ([rows, kPadded], kPadded % 16 == 0) with its rows widened to a
/// multiple of 32 (zero columns): W4 packs 32-wide groups of K.
void padTo32(Weights &w, int64_t rows, int64_t &kPadded) {
  int64_t kp = roundUp(kPadded, 32);
  if (kp == kPadded)
    return;
  std::vector<int8_t> values(rows * kp, 0);
  for (int64_t r = 0; r < rows; ++r)
    std::copy_n(w.values.begin() + r * kPadded, kPadded,
                values.begin() + r * kp);
  w.values = std::move(values);
  kPadded = kp;
}

/// W[rows, kp] (values in [-8, 7], kp % 32 == 0) packed two per byte as
/// [rows, kp / 2]: byte 16g + j of a row holds k = 32g + j in its low
/// nibble and k = 32g + 16 + j in its high one (two's complement), so that
/// one 16-byte chunk read by ldmatrix gives each lane the k values of both
/// B registers of an m16n8k32 mma (see qc::cuda::kW4UnpackAttr).
std::vector<int8_t> packW4(ArrayRef<int8_t> values, int64_t rows,
                           int64_t kp) {
  std::vector<int8_t> packed(rows * kp / 2);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < kp / 32; ++g)
      for (int64_t j = 0; j < 16; ++j) {
        uint8_t lo = uint8_t(values[r * kp + 32 * g + j]) & 0xF;
        uint8_t hi = uint8_t(values[r * kp + 32 * g + 16 + j]) & 0xF;
        packed[r * kp / 2 + 16 * g + j] = int8_t(lo | (hi << 4));
      }
  return packed;
}

/// The [rows, kp] i8 weights from their packed [rows, kp / 2] form, a
/// linalg.generic marked qc::cuda::kW4UnpackAttr: the packed constant
/// stays the program's data; the tensor-core kernel reads it directly and
/// expands the nibbles in registers, any other lowering runs this generic.
Value unpackW4(OpBuilder &b, Location loc, Value packed, int64_t rows,
               int64_t kp) {
  MLIRContext *ctx = b.getContext();
  Type i8 = b.getI8Type();
  auto outTy = RankedTensorType::get({rows, kp}, i8);
  Value empty = tensor::EmptyOp::create(b, loc, outTy.getShape(), i8);
  AffineExpr d0, d1;
  bindDims(ctx, d0, d1);
  auto in = AffineMap::get(2, 0, {d0, d1.floorDiv(32) * 16 + d1 % 16}, ctx);
  auto id = AffineMap::getMultiDimIdentityMap(2, ctx);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outTy}, ValueRange{packed}, ValueRange{empty},
      ArrayRef<AffineMap>{in, id},
      SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        // (byte << (k & 16 ? 0 : 4)) >>s 4.
        Value k = linalg::IndexOp::create(nb, l, 1);
        Value high = arith::CmpIOp::create(
            nb, l, arith::CmpIPredicate::ne,
            arith::AndIOp::create(nb, l, k,
                                  arith::ConstantIndexOp::create(nb, l, 16)),
            arith::ConstantIndexOp::create(nb, l, 0));
        Value four = arith::ConstantIntOp::create(nb, l, i8, 4);
        Value shift = arith::SelectOp::create(
            nb, l, high, arith::ConstantIntOp::create(nb, l, i8, 0), four);
        Value v = arith::ShLIOp::create(nb, l, args[0], shift);
        v = arith::ShRSIOp::create(nb, l, v, four);
        linalg::YieldOp::create(nb, l, v);
      });
  generic->setAttr(qc::cuda::kW4UnpackAttr, UnitAttr::get(ctx));
  return generic.getResult(0);
}

/// `x` (u8 or i8) as signless i8: u8 values shifted by -128 (their zero
/// point is shifted alike by the caller).
Value signlessInt8(OpBuilder &b, Location loc, Value x) {
  auto ty = cast<RankedTensorType>(x.getType());
  if (ty.getElementType().isSignlessInteger())
    return x;
  return tensor::BitcastOp::create(b, loc, ty.clone(b.getI8Type()), x);
}

/// A [rows, kPadded] i8 tensor gathered by a linalg.generic: `source(b, r, k)`
/// gives (valid, indices into `src`) of element (r, k); an invalid element
/// is `fill`. `flip` xors the loaded byte with 0x80 (u8 -> i8 - 128).
Value gather(OpBuilder &b, Location loc, Value src, int64_t rows,
             int64_t kPadded, bool flip, int64_t fill,
             llvm::function_ref<std::pair<Value, SmallVector<Value>>(
                 OpBuilder &, Location, Value, Value)>
                 source) {
  Type i8 = b.getI8Type();
  auto outTy = RankedTensorType::get({rows, kPadded}, i8);
  Value empty = tensor::EmptyOp::create(b, loc, outTy.getShape(), i8);
  auto id = AffineMap::getMultiDimIdentityMap(2, b.getContext());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outTy}, ValueRange{}, ValueRange{empty},
      ArrayRef<AffineMap>{id},
      SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        Value r = linalg::IndexOp::create(nb, l, 0);
        Value k = linalg::IndexOp::create(nb, l, 1);
        auto [valid, indices] = source(nb, l, r, k);
        Value zero = arith::ConstantIndexOp::create(nb, l, 0);
        SmallVector<Value> safe;
        for (Value i : indices)
          safe.push_back(arith::SelectOp::create(nb, l, valid, i, zero));
        Value v = tensor::ExtractOp::create(nb, l, src, safe);
        if (flip)
          v = arith::XOrIOp::create(
              nb, l, v, arith::ConstantIntOp::create(nb, l, i8, -128));
        v = arith::SelectOp::create(
            nb, l, valid, v, arith::ConstantIntOp::create(nb, l, i8, fill));
        linalg::YieldOp::create(nb, l, v);
      });
  return generic.getResult(0);
}

/// `x` [..., K] as [M, K] (the leading dims collapsed).
Value collapseRows(OpBuilder &b, Location loc, Value x, int64_t m, int64_t k) {
  auto ty = cast<RankedTensorType>(x.getType());
  if (ty.getRank() <= 2)
    return x;
  SmallVector<ReassociationIndices> re(2);
  for (int64_t d = 0; d + 1 < ty.getRank(); ++d)
    re[0].push_back(d);
  re[1].push_back(ty.getRank() - 1);
  return tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get({m, k}, ty.getElementType()), x, re);
}

/// `c` [M, N] as `outTy` [..., N].
Value expandRows(OpBuilder &b, Location loc, Value c, RankedTensorType outTy) {
  if (outTy.getRank() <= 2)
    return c;
  SmallVector<ReassociationIndices> re(2);
  for (int64_t d = 0; d + 1 < outTy.getRank(); ++d)
    re[0].push_back(d);
  re[1].push_back(outTy.getRank() - 1);
  return tensor::ExpandShapeOp::create(b, loc, outTy, c, re);
}

/// `x` [rows, k] widened to [rows, kPadded] with `fill` (u8 flipped to i8
/// with `flip`).
Value padColumns(OpBuilder &b, Location loc, Value x, int64_t rows, int64_t k,
                 int64_t kPadded, bool flip) {
  return gather(b, loc, x, rows, kPadded, flip, 0,
                [&](OpBuilder &nb, Location l, Value r, Value col) {
                  Value valid = arith::CmpIOp::create(
                      nb, l, arith::CmpIPredicate::ult, col,
                      arith::ConstantIndexOp::create(nb, l, k));
                  return std::make_pair(valid, SmallVector<Value>{r, col});
                });
}

/// The GEMM the tensor-core pass recognizes: lhs[M, K'] x rhs[N, K']^T in
/// i32 from zeros.
Value int8Gemm(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  MLIRContext *ctx = b.getContext();
  int64_t m = cast<RankedTensorType>(lhs.getType()).getDimSize(0);
  int64_t n = cast<RankedTensorType>(rhs.getType()).getDimSize(0);
  Type i32 = b.getI32Type();
  auto ty = RankedTensorType::get({m, n}, i32);
  Value empty = tensor::EmptyOp::create(b, loc, ty.getShape(), i32);
  Value zero = arith::ConstantIntOp::create(b, loc, i32, 0);
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  auto mm = linalg::MatmulOp::create(b, loc, TypeRange{ty},
                                     ValueRange{lhs, rhs}, ValueRange{init});
  AffineExpr d0, d1, d2;
  bindDims(ctx, d0, d1, d2);
  auto maps = AffineMap::inferFromExprList(
      ArrayRef<ArrayRef<AffineExpr>>{{d0, d2}, {d1, d2}, {d0, d1}}, ctx);
  mm.setIndexingMapsAttr(b.getAffineMapArrayAttr(maps));
  return mm.getResult(0);
}

/// out = acc(accMap) + corr(corrMap) [+ bias(corrMap)] over `outShape`, in
/// acc's integer type.
Value addCorrection(OpBuilder &b, Location loc, Value acc, AffineMap accMap,
                    Value corr, Value bias, AffineMap corrMap,
                    ArrayRef<int64_t> outShape) {
  Type elt = getElementTypeOrSelf(acc.getType());
  auto ty = RankedTensorType::get(outShape, elt);
  Value empty = tensor::EmptyOp::create(b, loc, outShape, elt);
  SmallVector<Value> ins{acc, corr};
  SmallVector<AffineMap> maps{accMap, corrMap};
  if (bias) {
    ins.push_back(bias);
    maps.push_back(corrMap);
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(outShape.size(),
                                                   b.getContext()));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{ty}, ins, ValueRange{empty}, maps,
      SmallVector<utils::IteratorType>(outShape.size(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v = arith::AddIOp::create(nb, l, a[0], a[1]);
        if (bias)
          v = arith::AddIOp::create(nb, l, v, a[2]);
        linalg::YieldOp::create(nb, l, v);
      });
  return generic.getResult(0);
}

/// corr[r] = bias[r] - zp * rowSums[r] (wrapping to i32) as a constant;
/// `bias` is folded in where constant (and cleared), else left for the
/// generic. Null where corr is zero and no bias is left.
Value correction(OpBuilder &b, Location loc, ArrayRef<int64_t> rowSums,
                 int64_t zp, Value &bias) {
  std::vector<int32_t> corr(rowSums.size());
  std::optional<std::vector<int64_t>> biasInts =
      bias ? constInts(bias) : std::nullopt;
  for (size_t r = 0; r < rowSums.size(); ++r) {
    uint64_t v = uint64_t(-zp * rowSums[r]);
    if (biasInts)
      v += uint64_t((*biasInts)[r]);
    corr[r] = int32_t(uint32_t(v));
  }
  if (biasInts)
    bias = Value();
  if (!bias && llvm::all_of(corr, [](int32_t v) { return v == 0; }))
    return Value();
  return blobConstant<int32_t>(b, loc, corr, {int64_t(corr.size())},
                               b.getI32Type(), "qc_gemm_corr");
}

struct MatMulIntToGemm : OpRewritePattern<qc::MatMulIntOp> {
  MatMulIntToGemm(MLIRContext *ctx, bool w4)
      : OpRewritePattern(ctx), w4(w4) {}
  bool w4;
  LogicalResult matchAndRewrite(qc::MatMulIntOp op,
                                PatternRewriter &rw) const override {
    auto aTy = dyn_cast<RankedTensorType>(op.getA().getType());
    auto bTy = dyn_cast<RankedTensorType>(op.getB().getType());
    auto outTy = dyn_cast<RankedTensorType>(op.getType());
    if (!aTy || !bTy || !outTy || !aTy.hasStaticShape() ||
        !bTy.hasStaticShape() || aTy.getRank() < 2 || bTy.getRank() != 2 ||
        outTy.getRank() != aTy.getRank() || !isInt8(aTy) || !isInt8(bTy))
      return rw.notifyMatchFailure(op, "not an i8 matmul with 2-d weights");
    if (op.getBias() && !cast<RankedTensorType>(op.getBias().getType())
                             .hasStaticShape())
      return failure();
    std::optional<std::vector<int64_t>> bInts = constInts(op.getB());
    if (!bInts)
      return rw.notifyMatchFailure(op, "weights are not constant");
    int64_t k = bTy.getDimSize(0), n = bTy.getDimSize(1);
    int64_t m = aTy.getNumElements() / k;
    int64_t kp = roundUp(k, kKAlign);
    std::optional<Weights> w =
        shiftWeights(n, k, kp, op.getBZp(), [&](int64_t r, int64_t i) {
          return (*bInts)[i * n + r];
        });
    if (!w)
      return rw.notifyMatchFailure(op, "shifted weights do not fit in i8");
    bool packed = w4 && fitsW4(w->values);
    if (packed)
      padTo32(*w, n, kp);
    Location loc = op.getLoc();
    bool flip = isUnsigned(aTy);
    int64_t zp = int32_t(op.getAZp()) - (flip ? 128 : 0);

    // A as [M, K'] i8.
    Value a = collapseRows(rw, loc, signlessInt8(rw, loc, op.getA()), m, k);
    if (flip || kp != k)
      a = padColumns(rw, loc, a, m, k, kp, flip);
    Value wt;
    if (packed)
      wt = unpackW4(rw, loc,
                    blobConstant<int8_t>(rw, loc, packW4(w->values, n, kp),
                                         {n, kp / 2}, rw.getI8Type(),
                                         "qc_gemm_weights_w4"),
                    n, kp);
    else
      wt = blobConstant<int8_t>(rw, loc, w->values, {n, kp}, rw.getI8Type(),
                                "qc_gemm_weights");
    Value acc = int8Gemm(rw, loc, a, wt);
    Value bias = op.getBias();
    Value corr = correction(rw, loc, w->rowSums, zp, bias);
    if (corr) {
      MLIRContext *ctx = rw.getContext();
      AffineExpr d0, d1;
      bindDims(ctx, d0, d1);
      acc = addCorrection(rw, loc, acc, AffineMap::getMultiDimIdentityMap(2, ctx),
                          corr, bias, AffineMap::get(2, 0, {d1}, ctx), {m, n});
    }
    rw.replaceOp(op, expandRows(rw, loc, acc, outTy));
    return success();
  }
};

/// conv_int NCHW x FCHW (group 1) as W[F, K'] x im2col[N*OH*OW, K']^T, so
/// that the GEMM's rows are the output channels: for one image its result
/// is already NCHW.
struct ConvIntToGemm : OpRewritePattern<qc::ConvIntOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::ConvIntOp op,
                                PatternRewriter &rw) const override {
    auto xTy = dyn_cast<RankedTensorType>(op.getInput().getType());
    auto wTy = dyn_cast<RankedTensorType>(op.getWeight().getType());
    auto outTy = dyn_cast<RankedTensorType>(op.getType());
    if (!xTy || !wTy || !outTy || !xTy.hasStaticShape() ||
        !wTy.hasStaticShape() || !outTy.hasStaticShape() ||
        xTy.getRank() != 4 || wTy.getRank() != 4 || op.getGroup() != 1 ||
        !isInt8(xTy) || !isInt8(wTy) || op.getChannelsLast())
      return rw.notifyMatchFailure(op, "not a 2-d NCHW i8 conv of group 1");
    std::optional<std::vector<int64_t>> wInts = constInts(op.getWeight());
    if (!wInts)
      return rw.notifyMatchFailure(op, "weights are not constant");
    int64_t nb = xTy.getDimSize(0), c = xTy.getDimSize(1),
            h = xTy.getDimSize(2), wd = xTy.getDimSize(3);
    int64_t f = wTy.getDimSize(0), kh = wTy.getDimSize(2),
            kw = wTy.getDimSize(3);
    int64_t oh = outTy.getDimSize(2), ow = outTy.getDimSize(3);
    ArrayRef<int64_t> st = op.getStrides(), pads = op.getPads(),
                      dil = op.getDilations();
    if (wTy.getDimSize(1) != c || st.size() != 2 || pads.size() != 4 ||
        dil.size() != 2)
      return failure();
    int64_t k = c * kh * kw, kp = roundUp(k, kKAlign);
    std::optional<Weights> w =
        shiftWeights(f, k, kp, op.getWeightZp(), [&](int64_t r, int64_t i) {
          return (*wInts)[r * k + i];
        });
    if (!w)
      return rw.notifyMatchFailure(op, "shifted weights do not fit in i8");
    bool flip = isUnsigned(xTy);
    int64_t zp = int32_t(op.getInputZp()) - (flip ? 128 : 0);
    if (zp < -128 || zp > 127)
      return rw.notifyMatchFailure(op, "the padding value is not an i8");
    Location loc = op.getLoc();
    Value x = signlessInt8(rw, loc, op.getInput());
    int64_t p = oh * ow, rows = nb * p;
    Value cols = gather(
        rw, loc, x, rows, kp, flip, zp,
        [&](OpBuilder &nb2, Location l, Value r, Value col) {
          auto cst = [&](int64_t v) {
            return arith::ConstantIndexOp::create(nb2, l, v).getResult();
          };
          auto div = [&](Value a, int64_t v) {
            return arith::DivUIOp::create(nb2, l, a, cst(v)).getResult();
          };
          auto rem = [&](Value a, int64_t v) {
            return arith::RemUIOp::create(nb2, l, a, cst(v)).getResult();
          };
          auto affine = [&](Value o, int64_t s, Value q, int64_t d,
                            int64_t pad) {
            // o * s + q * d - pad, as a signed index.
            Value v = arith::AddIOp::create(
                nb2, l, arith::MulIOp::create(nb2, l, o, cst(s)),
                arith::MulIOp::create(nb2, l, q, cst(d)));
            return arith::SubIOp::create(nb2, l, v, cst(pad)).getResult();
          };
          auto inRange = [&](Value v, int64_t hi) {
            // 0 <= v < hi as one unsigned compare.
            return arith::CmpIOp::create(nb2, l, arith::CmpIPredicate::ult, v,
                                         cst(hi))
                .getResult();
          };
          Value img = div(r, p), pix = rem(r, p);
          Value y = div(pix, ow), xo = rem(pix, ow);
          Value ch = div(col, kh * kw), tap = rem(col, kh * kw);
          Value ky = div(tap, kw), kx = rem(tap, kw);
          Value iy = affine(y, st[0], ky, dil[0], pads[0]);
          Value ix = affine(xo, st[1], kx, dil[1], pads[1]);
          Value valid = arith::AndIOp::create(nb2, l, inRange(iy, h),
                                              inRange(ix, wd));
          valid = arith::AndIOp::create(nb2, l, valid, inRange(col, k));
          return std::make_pair(valid, SmallVector<Value>{img, ch, iy, ix});
        });
    // The K' padding columns hold zp too; their weights are 0.
    Value wt = blobConstant<int8_t>(rw, loc, w->values, {f, kp},
                                    rw.getI8Type(), "qc_gemm_weights");
    Value acc = int8Gemm(rw, loc, wt, cols); // [F, N*P]
    Value bias = op.getBias();
    Value corr = correction(rw, loc, w->rowSums, zp, bias);
    MLIRContext *ctx = rw.getContext();
    if (!corr && nb == 1) {
      rw.replaceOp(op, tensor::ExpandShapeOp::create(
                           rw, loc, outTy, acc,
                           SmallVector<ReassociationIndices>{{0, 1}, {2, 3}}));
      return success();
    }
    if (!corr)
      corr = blobConstant<int32_t>(rw, loc, std::vector<int32_t>(f, 0), {f},
                                   rw.getI32Type(), "qc_gemm_corr");
    if (nb == 1) {
      AffineExpr d0, d1;
      bindDims(ctx, d0, d1);
      acc = addCorrection(rw, loc, acc,
                          AffineMap::getMultiDimIdentityMap(2, ctx), corr,
                          bias, AffineMap::get(2, 0, {d0}, ctx), {f, p});
      acc = tensor::ExpandShapeOp::create(
          rw, loc, outTy, acc, SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
    } else {
      auto i32 = rw.getI32Type();
      Value c3 = tensor::ExpandShapeOp::create(
          rw, loc, RankedTensorType::get({f, nb, p}, i32), acc,
          SmallVector<ReassociationIndices>{{0}, {1, 2}});
      AffineExpr d0, d1, d2;
      bindDims(ctx, d0, d1, d2);
      acc = addCorrection(rw, loc, c3, AffineMap::get(3, 0, {d1, d0, d2}, ctx),
                          corr, bias, AffineMap::get(3, 0, {d1}, ctx),
                          {nb, f, p});
      acc = tensor::ExpandShapeOp::create(
          rw, loc, outTy, acc,
          SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    }
    rw.replaceOp(op, acc);
    return success();
  }
};

/// The PTX type name of an FP8 format.
StringRef ptxType(qc::ElementFormat f) {
  return f == qc::ElementFormat::FP8E5M2 ? "e5m2" : "e4m3";
}

/// qc.matmul_fp8 as the qc::cuda::kFp8GemmAttr generic: A [M, K'] (the
/// leading dims collapsed, zero codes (+0) up to K' = K rounded up to 16)
/// by B [N, K'] into zeros, its body decoding both codes by table and
/// accumulating their f32 product (what any other lowering runs).
struct MatMulFp8ToGemm : OpRewritePattern<qc::MatMulFp8Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MatMulFp8Op op,
                                PatternRewriter &rw) const override {
    auto aTy = cast<RankedTensorType>(op.getA().getType());
    auto bTy = cast<RankedTensorType>(op.getB().getType());
    auto outTy = cast<RankedTensorType>(op.getType());
    int64_t k = bTy.getDimSize(1), n = bTy.getDimSize(0);
    int64_t m = aTy.getNumElements() / std::max<int64_t>(k, 1);
    int64_t kp = roundUp(k, kKAlign);
    Location loc = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    Value a = collapseRows(rw, loc, op.getA(), m, k);
    Value b = op.getB();
    if (kp != k) {
      a = padColumns(rw, loc, a, m, k, kp, /*flip=*/false);
      if (std::optional<std::vector<int64_t>> codes = constInts(b)) {
        std::vector<int8_t> values(n * kp, 0);
        for (int64_t r = 0; r < n; ++r)
          for (int64_t i = 0; i < k; ++i)
            values[r * kp + i] = int8_t((*codes)[r * k + i]);
        b = blobConstant<int8_t>(rw, loc, values, {n, kp}, rw.getI8Type(),
                                 "qc_fp8_gemm_weights");
      } else {
        b = padColumns(rw, loc, b, n, k, kp, /*flip=*/false);
      }
    }
    Type f32 = rw.getF32Type();
    auto cTy = RankedTensorType::get({m, n}, f32);
    Value empty = tensor::EmptyOp::create(rw, loc, cTy.getShape(), f32);
    Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
    Value init = linalg::FillOp::create(rw, loc, zero, empty).getResult(0);
    Value tableA = qc::lowering::minifloatTable(
        rw, loc, *qc::minifloatFormat(op.getAFormat()));
    Value tableB = qc::lowering::minifloatTable(
        rw, loc, *qc::minifloatFormat(op.getBFormat()));
    AffineExpr d0, d1, d2;
    bindDims(ctx, d0, d1, d2);
    auto maps = AffineMap::inferFromExprList(
        ArrayRef<ArrayRef<AffineExpr>>{{d0, d2}, {d1, d2}, {d0, d1}}, ctx);
    auto generic = linalg::GenericOp::create(
        rw, loc, TypeRange{cTy}, ValueRange{a, b}, ValueRange{init}, maps,
        {utils::IteratorType::parallel, utils::IteratorType::parallel,
         utils::IteratorType::reduction},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value p = arith::MulFOp::create(
              nb, l, qc::lowering::minifloatValue(nb, l, tableA, args[0], 8),
              qc::lowering::minifloatValue(nb, l, tableB, args[1], 8));
          linalg::YieldOp::create(
              nb, l, arith::AddFOp::create(nb, l, args[2], p).getResult());
        });
    generic->setAttr(qc::cuda::kFp8GemmAttr,
                     rw.getStrArrayAttr(
                         {ptxType(op.getAFormat()), ptxType(op.getBFormat())}));
    rw.replaceOp(op, expandRows(rw, loc, generic.getResult(0), outTy));
    return success();
  }
};

/// Byte i of a 16-byte group of MX codes holds k = mxNibbleK(i, 0) of the
/// group's 32 in its low nibble and mxNibbleK(i, 1) in its high one: bytes
/// 4t .. 4t + 3 are k = 4t .. 4t + 3, then 16 + 4t .. 16 + 4t + 3, so that
/// the 32-bit word ldmatrix gives lane t of a row holds the codes of both
/// B registers of an m16n8k32 mma, nibble by nibble (qc::cuda::kMxUnpackAttr).
int64_t mxNibbleK(int64_t i, int64_t nibble) {
  int64_t t = i / 4, q = i % 4;
  return (q / 2) * 16 + 4 * t + (q % 2) * 2 + nibble;
}

/// The linalg.generic unpacking `planes` (MXFP4: the packed codes [N, K/2];
/// MXFP6: the nibble and top planes [N, K/2], [N, K/4]) into W[N, K] i8,
/// each code's value through `table` (factor x its minifloat value), marked
/// `mark` (qc::cuda::kMxUnpackAttr, kMx6UnpackAttr: the layouts there).
Value unpackMx(OpBuilder &b, Location loc, ValueRange planes,
               ArrayRef<int8_t> table, int64_t n, int64_t k, StringRef mark) {
  MLIRContext *ctx = b.getContext();
  Type i8 = b.getI8Type();
  bool fp6 = planes.size() == 2;
  AffineExpr d0, d1;
  bindDims(ctx, d0, d1);
  AffineExpr kk = d1 % 32;
  SmallVector<AffineMap> maps;
  if (!fp6) {
    maps.push_back(
        AffineMap::get(2, 0,
                       {d0, d1.floorDiv(32) * 16 + (d1 % 16).floorDiv(4) * 4 +
                                kk.floorDiv(16) * 2 + (d1 % 4).floorDiv(2)},
                       ctx));
  } else {
    maps.push_back(
        AffineMap::get(2, 0, {d0, d1.floorDiv(32) * 16 + d1 % 16}, ctx));
    maps.push_back(AffineMap::get(
        2, 0,
        {d0, d1.floorDiv(32) * 8 + (d1 % 16).floorDiv(4) * 2 + kk.floorDiv(16)},
        ctx));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(2, ctx));
  Value tableV = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({int64_t(table.size())}, i8),
                             table));
  auto wTy = RankedTensorType::get({n, k}, i8);
  auto unpack = linalg::GenericOp::create(
      b, loc, TypeRange{wTy}, planes,
      ValueRange{
          tensor::EmptyOp::create(b, loc, wTy.getShape(), i8).getResult()},
      maps, SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        auto c8 = [&](int64_t v) {
          return arith::ConstantIntOp::create(nb, l, i8, v).getResult();
        };
        auto bit = [&](Value k, int64_t of) { // (k / of) % 2 as i8
          Value idx = arith::RemUIOp::create(
              nb, l,
              arith::DivUIOp::create(nb, l, k,
                                     arith::ConstantIndexOp::create(nb, l, of)),
              arith::ConstantIndexOp::create(nb, l, 2));
          return arith::IndexCastOp::create(nb, l, i8, idx).getResult();
        };
        Value k = linalg::IndexOp::create(nb, l, 1);
        // FP4: the nibble k % 2 of the byte; FP6: the nibble k % 32 / 16,
        // then e1 and the sign from bits k % 4 and 4 + k % 4 of the top byte.
        Value sh = arith::MulIOp::create(nb, l, bit(k, fp6 ? 16 : 1), c8(4));
        Value code = arith::AndIOp::create(
            nb, l, arith::ShRUIOp::create(nb, l, args[0], sh), c8(15));
        if (fp6) {
          Value q = arith::IndexCastOp::create(
              nb, l, i8,
              arith::RemUIOp::create(nb, l, k,
                                     arith::ConstantIndexOp::create(nb, l, 4)));
          Value e1 = arith::AndIOp::create(
              nb, l, arith::ShRUIOp::create(nb, l, args[1], q), c8(1));
          Value sign = arith::AndIOp::create(
              nb, l,
              arith::ShRUIOp::create(nb, l, args[1],
                                     arith::AddIOp::create(nb, l, q, c8(4))),
              c8(1));
          code = arith::OrIOp::create(
              nb, l, code,
              arith::OrIOp::create(nb, l,
                                   arith::ShLIOp::create(nb, l, e1, c8(4)),
                                   arith::ShLIOp::create(nb, l, sign, c8(5))));
        }
        Value v =
            tensor::ExtractOp::create(nb, l, tableV,
                                      ValueRange{arith::IndexCastUIOp::create(
                                          nb, l, nb.getIndexType(), code)});
        linalg::YieldOp::create(nb, l, v);
      });
  unpack->setAttr(mark, UnitAttr::get(ctx));
  return unpack.getResult(0);
}

/// qc.matmul_mx of FP4 (E2M1) or FP6 (E2M3) blocks of 32 (constant codes
/// and shifts, K a multiple of 32) as
///
///   W = qc::cuda::kMxUnpackAttr generic (FP4: packed [N, K/2] constant)
///       or kMx6UnpackAttr generic (FP6: [N, K/2] and [N, K/4] constants)
///   C[M, N] i64 = qc::cuda::kMxGemmAttr generic (A[M, K] i8, W, shifts^T)
///   acc = C + corr
///
/// with u8 activations shifted to i8 as the int8 GEMM does them and
/// corr[n] = bias[n] - a_zp * sum_b (sum_{k in b} w[k, n]) << shift[n, b]:
/// the integers of qc.matmul_mx.
struct MatMulMxToGemm : OpRewritePattern<qc::MatMulMxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(qc::MatMulMxOp op,
                                PatternRewriter &rw) const override {
    auto aTy = cast<RankedTensorType>(op.getA().getType());
    auto outTy = cast<RankedTensorType>(op.getType());
    int64_t k = aTy.getShape().back(), n = outTy.getShape().back();
    bool fp6 = op.getFormat() == qc::ElementFormat::FP6E2M3;
    if ((!fp6 && op.getFormat() != qc::ElementFormat::FP4E2M1) ||
        op.getBlock() != 32 || k % 32 || k == 0 || n == 0)
      return rw.notifyMatchFailure(
          op, "not FP4 or FP6 (E2M3) blocks of 32 with K % 32 == 0");
    std::optional<std::vector<int64_t>> packedInts = constInts(op.getCodes()),
                                        shiftInts = constInts(op.getShifts());
    std::optional<std::vector<int64_t>> biasInts;
    if (op.getBias() && !(biasInts = constInts(op.getBias())))
      return rw.notifyMatchFailure(op, "bias is not a constant");
    if (!packedInts || !shiftInts)
      return rw.notifyMatchFailure(op, "codes or shifts are not constants");
    int64_t m = aTy.getNumElements() / k, blocks = k / 32;
    qc::minifloat::Format format =
        fp6 ? qc::minifloat::Format::E2M3 : qc::minifloat::Format::E2M1;
    unsigned bits = fp6 ? 6 : 4;
    std::vector<uint8_t> packed(packedInts->begin(), packedInts->end());
    std::vector<uint32_t> codes =
        qc::minifloat::unpackCodes(packed.data(), size_t(k * n), bits);
    int factor = *qc::MatMulMxOp::integerFactor(op.getFormat());
    SmallVector<int8_t> table;
    for (uint32_t c = 0; c < (1u << bits); ++c)
      table.push_back(int8_t(factor * qc::minifloat::decode(format, c)));
    auto code = [&](int64_t kk, int64_t col) { return codes[kk * n + col]; };
    bool flip = isUnsigned(aTy);
    int64_t zp = int32_t(op.getAZp()) - (flip ? 128 : 0);
    std::vector<int64_t> corr(n);
    // The top plane's rows padded to 16 bytes (cp.async copies 16-byte
    // aligned chunks).
    int64_t topCols = llvm::alignTo(k / 4, 16);
    std::vector<int8_t> mx(n * k / 2), top(fp6 ? n * topCols : 0),
        shiftsT(blocks * n);
    for (int64_t col = 0; col < n; ++col) {
      uint64_t terms = 0;
      for (int64_t bl = 0; bl < blocks; ++bl) {
        int64_t sh = (*shiftInts)[col * blocks + bl];
        shiftsT[bl * n + col] = int8_t(sh);
        int64_t sum = 0;
        for (int64_t j = 0; j < 32; ++j)
          sum += table[code(32 * bl + j, col)];
        if (sh >= 0)
          terms += uint64_t(sum) << sh;
        int8_t *nib = &mx[col * k / 2 + 16 * bl];
        for (int64_t i = 0; i < 16; ++i) {
          if (!fp6) {
            nib[i] = int8_t(code(32 * bl + mxNibbleK(i, 0), col) |
                            (code(32 * bl + mxNibbleK(i, 1), col) << 4));
            continue;
          }
          // FP6: the low 4 bits as W4's nibbles, e1 and the sign apart.
          nib[i] = int8_t((code(32 * bl + i, col) & 15) |
                          ((code(32 * bl + 16 + i, col) & 15) << 4));
        }
        for (int64_t i = 0; fp6 && i < 8; ++i) {
          int64_t t = i / 2, h = i % 2;
          uint8_t byte = 0;
          for (int64_t q = 0; q < 4; ++q) {
            uint32_t c = code(32 * bl + 16 * h + 4 * t + q, col);
            byte |= uint8_t(((c >> 4) & 1) << q | ((c >> 5) & 1) << (4 + q));
          }
          top[col * topCols + 8 * bl + i] = int8_t(byte);
        }
      }
      corr[col] = int64_t((biasInts ? uint64_t((*biasInts)[col]) : 0) -
                          uint64_t(zp) * terms);
    }
    Location loc = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    Type i8 = rw.getI8Type(), i64 = rw.getI64Type();
    Value a = collapseRows(rw, loc, signlessInt8(rw, loc, op.getA()), m, k);
    if (flip)
      a = padColumns(rw, loc, a, m, k, k, flip);
    // W[n, k] = factor * value(code): the packed constants, through the
    // marked unpacking generic.
    AffineExpr d0, d1, d2;
    bindDims(ctx, d0, d1, d2);
    SmallVector<Value> planes{blobConstant<int8_t>(rw, loc, mx, {n, k / 2}, i8,
                                                   "qc_gemm_weights_mx")};
    if (fp6)
      planes.push_back(blobConstant<int8_t>(rw, loc, top, {n, topCols}, i8,
                                            "qc_gemm_weights_mx_top"));
    Value w =
        unpackMx(rw, loc, planes, table, n, k,
                 fp6 ? qc::cuda::kMx6UnpackAttr : qc::cuda::kMxUnpackAttr);
    Value shiftsV = blobConstant<int8_t>(rw, loc, shiftsT, {blocks, n}, i8,
                                         "qc_gemm_shifts_mx");
    // C[m, n] = sum_k (a * w) << shift[k / 32, n] (0 where dropped), i64.
    auto cTy = RankedTensorType::get({m, n}, i64);
    Value zero64 = arith::ConstantIntOp::create(rw, loc, i64, 0);
    Value empty64 = tensor::EmptyOp::create(rw, loc, cTy.getShape(), i64);
    Value init = linalg::FillOp::create(rw, loc, zero64, empty64).getResult(0);
    auto maps = AffineMap::inferFromExprList(
        ArrayRef<ArrayRef<AffineExpr>>{
            {d0, d2}, {d1, d2}, {d2.floorDiv(32), d1}, {d0, d1}},
        ctx);
    auto gemm = linalg::GenericOp::create(
        rw, loc, TypeRange{cTy}, ValueRange{a, w, shiftsV}, ValueRange{init},
        maps,
        {utils::IteratorType::parallel, utils::IteratorType::parallel,
         utils::IteratorType::reduction},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value p = arith::MulIOp::create(
              nb, l, arith::ExtSIOp::create(nb, l, i64, args[0]),
              arith::ExtSIOp::create(nb, l, i64, args[1]));
          Value sh = arith::ExtSIOp::create(nb, l, i64, args[2]);
          Value zero = arith::ConstantIntOp::create(nb, l, i64, 0);
          Value dropped =
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, sh, zero);
          Value v = arith::ShLIOp::create(
              nb, l, p, arith::SelectOp::create(nb, l, dropped, zero, sh));
          v = arith::SelectOp::create(nb, l, dropped, zero, v);
          linalg::YieldOp::create(
              nb, l, arith::AddIOp::create(nb, l, args[3], v).getResult());
        });
    gemm->setAttr(qc::cuda::kMxGemmAttr, UnitAttr::get(ctx));
    Value acc = gemm.getResult(0);
    if (llvm::any_of(corr, [](int64_t v) { return v != 0; })) {
      Value corrV =
          blobConstant<int64_t>(rw, loc, corr, {n}, i64, "qc_gemm_corr");
      acc = addCorrection(rw, loc, acc,
                          AffineMap::getMultiDimIdentityMap(2, ctx), corrV,
                          Value(), AffineMap::get(2, 0, {d1}, ctx), {m, n});
    }
    rw.replaceOp(op, expandRows(rw, loc, acc, outTy));
    return success();
  }
};

struct FormInt8GemmPass
    : qc::cuda::impl::FormInt8GemmBase<FormInt8GemmPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MatMulIntToGemm>(&getContext(), w4);
    patterns.add<ConvIntToGemm, MatMulFp8ToGemm, MatMulMxToGemm>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
