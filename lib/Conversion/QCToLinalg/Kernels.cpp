//===- Kernels.cpp - qc.conv_int / qc.matmul_int to int8 microkernel calls ===//
//
// With convert-qc-to-linalg{int8-kernels=vnni|generic}, a qc.conv_int (2-d
// or 1-d, constant weights) or qc.matmul_int (constant B, or an activation
// B with matching batch), and the qc.requantize that is its only user, become
// one call to a kernel of lib/Kernels/Int8Kernels.cpp. Constant weights are
// packed here, at compile time, with their per-channel correction terms
// (qc::kernels::pack*). The operands cross to the call as pointers into
// their buffers (bufferization.to_buffer, then the aligned pointer); the
// result is a fresh 64-byte-aligned buffer the kernel fills, made a tensor
// again with bufferization.to_tensor restrict writable. With kernel-tasks
// above 1 the call sits in an scf.parallel over tasks, which the OpenMP
// lowering spreads over threads.
//
// Ops the kernels do not take (3-d convolutions, non-constant weights or
// biases, per-channel requantization along another axis, broadcast batches)
// keep the linalg lowering of QuantizedOps.cpp.
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Kernels/Int8Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace qc::lowering;

namespace {

/// The raw bytes of a constant tensor of 8-bit integers.
std::optional<std::vector<uint8_t>> constantBytes(Value v) {
  auto cst = v ? v.getDefiningOp<arith::ConstantOp>() : nullptr;
  if (!cst || tensorType(v).getElementType().getIntOrFloatBitWidth() != 8)
    return std::nullopt;
  std::optional<std::vector<char>> bytes = qc::readElementBytes(cst.getValue());
  if (!bytes || int64_t(bytes->size()) != tensorType(v).getNumElements())
    return std::nullopt;
  return std::vector<uint8_t>(bytes->begin(), bytes->end());
}

/// The values of a constant tensor of `T` (int32_t or float; dense or a
/// resource blob).
template <typename T>
std::optional<std::vector<T>> constantValues(Value v) {
  auto cst = v ? v.getDefiningOp<arith::ConstantOp>() : nullptr;
  Type elt = cst ? tensorType(v).getElementType() : Type();
  if (!cst || !(std::is_same_v<T, float> ? elt.isF32() : elt.isInteger(32)))
    return std::nullopt;
  if constexpr (std::is_same_v<T, float>) {
    return qc::readFloatElements(cst.getValue());
  } else {
    std::optional<std::vector<int64_t>> ints = qc::readIntegerElements(cst.getValue(), true);
    if (!ints)
      return std::nullopt;
    return std::vector<T>(ints->begin(), ints->end());
  }
}

/// Whether any of `types` has no elements (a zero dim): the kernels'
/// shape arithmetic divides by dims, so such ops keep the linalg lowering.
bool anyEmpty(std::initializer_list<RankedTensorType> types) {
  return llvm::any_of(types, [](RankedTensorType t) { return t.getNumElements() == 0; });
}

/// The batch stride (elements) of a `rows x cols` operand of type `t` in a
/// product of `batch` matrices: a full batch, or 0 for one matrix shared by
/// every batch; none when its batch dims broadcast otherwise.
std::optional<int64_t> batchStride(RankedTensorType t, int64_t rows, int64_t cols,
                                   int64_t batch) {
  int64_t mats = t.getNumElements() / (rows * cols);
  if (mats == batch)
    return batch == 1 ? 0 : rows * cols;
  if (mats == 1)
    return 0;
  return std::nullopt;
}

template <typename T>
Value blobConstant(OpBuilder &b, Location loc, ArrayRef<T> values, Type elt, StringRef name) {
  auto ty = RankedTensorType::get({int64_t(values.size())}, elt);
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(values);
  return arith::ConstantOp::create(b, loc, DenseResourceElementsAttr::get(ty, name, std::move(blob)));
}

/// Requantization of a kernel's output: identity (int32) or qc.requantize.
struct Requant {
  bool outI8 = false;
  std::vector<int32_t> mult, shift;
  int64_t izp = 0, ozp = 0, lo = 0, hi = 0;
};

/// The qc.requantize that is the only user of `acc`, if its per-channel
/// axis is `chanAxis` (or it is per tensor): its parameters per channel.
qc::RequantizeOp fusableRequant(Value acc, int64_t chanAxis, int64_t channels, Requant &r) {
  if (!acc.hasOneUse())
    return nullptr;
  auto rq = dyn_cast<qc::RequantizeOp>(*acc.getUsers().begin());
  if (!rq || tensorType(rq.getOutput()).getElementType().getIntOrFloatBitWidth() != 8 ||
      !lowerableTypes(rq, /*unsignedOk=*/true))
    return nullptr;
  ArrayRef<int32_t> m = rq.getMultiplier(), s = rq.getShift();
  int64_t rank = tensorType(acc).getRank();
  if (m.size() > 1 && (int64_t(m.size()) != channels ||
                       normAxis(rq.getAxis().value_or(1), rank) != chanAxis))
    return nullptr;
  r.outI8 = true;
  for (int64_t c = 0; c < channels; ++c) {
    r.mult.push_back(m[m.size() == 1 ? 0 : c]);
    r.shift.push_back(s[s.size() == 1 ? 0 : c]);
  }
  r.izp = rq.getInputZp();
  r.ozp = rq.getOutputZp();
  r.lo = rq.getClampMin();
  r.hi = rq.getClampMax();
  return rq;
}

/// Builds the call: pointer operands from tensors, a fresh output buffer.
struct CallBuilder {
  PatternRewriter &rw;
  Location loc;
  SmallVector<Value> args;
  Type ptrTy, i64;

  CallBuilder(PatternRewriter &rw, Location loc)
      : rw(rw), loc(loc), ptrTy(LLVM::LLVMPointerType::get(rw.getContext())),
        i64(rw.getI64Type()) {}

  Value pointerOf(Value buffer) {
    Value idx = memref::ExtractAlignedPointerAsIndexOp::create(rw, loc, buffer);
    Value i = arith::IndexCastOp::create(rw, loc, i64, idx);
    return LLVM::IntToPtrOp::create(rw, loc, ptrTy, i);
  }
  void tensor(Value t) {
    auto tt = tensorType(t);
    auto mt = MemRefType::get(tt.getShape(), tt.getElementType());
    Value m = bufferization::ToBufferOp::create(rw, loc, mt, t, /*readOnly=*/true);
    args.push_back(pointerOf(m));
  }
  void i(int64_t v) { args.push_back(arith::ConstantIntOp::create(rw, loc, i64, v)); }
  template <typename T> void blob(ArrayRef<T> v, Type elt, StringRef name) {
    tensor(blobConstant<T>(rw, loc, v, elt, name));
  }
  void null() { args.push_back(LLVM::ZeroOp::create(rw, loc, ptrTy)); }

  /// Calls `name` with the arguments so far, the output buffer, and (task,
  /// ntasks); returns the output as a tensor of `outTy`.
  Value finish(StringRef name, RankedTensorType outTy, unsigned tasks) {
    auto mt = MemRefType::get(outTy.getShape(), outTy.getElementType());
    Value out = memref::AllocOp::create(rw, loc, mt, rw.getI64IntegerAttr(64));
    args.push_back(pointerOf(out));
    auto call = [&](OpBuilder &b, Value task) {
      SmallVector<Value> all(args);
      all.push_back(task);
      all.push_back(arith::ConstantIntOp::create(b, loc, i64, tasks));
      func::CallOp::create(b, loc, name, TypeRange{}, all);
    };
    if (tasks <= 1) {
      call(rw, arith::ConstantIntOp::create(rw, loc, i64, 0));
    } else {
      Value zero = cindex(rw, loc, 0), one = cindex(rw, loc, 1), n = cindex(rw, loc, tasks);
      scf::ParallelOp::create(rw, loc, ValueRange{zero}, ValueRange{n}, ValueRange{one},
                              [&](OpBuilder &b, Location l, ValueRange ivs) {
        call(b, arith::IndexCastOp::create(b, l, i64, ivs[0]));
      });
    }
    return bufferization::ToTensorOp::create(rw, loc, outTy, out, /*restrict=*/true,
                                             /*writable=*/true);
  }
};

struct KernelOptions {
  std::string suffix; // "vnni" or "generic"
  unsigned tasks = 1;
};

/// Adds the epilogue arguments (corr .. outI8).
void epilogueArgs(CallBuilder &cb, const qc::kernels::PackedWeights &p, const Requant &r,
                  Type i32) {
  cb.blob<int32_t>(p.corr, i32, "qc_kernel_corr");
  if (p.hasZw)
    cb.blob<int32_t>(p.zw, i32, "qc_kernel_zw");
  else
    cb.null();
  cb.i(p.hasZw);
  if (r.outI8) {
    cb.blob<int32_t>(r.mult, i32, "qc_kernel_mult");
    cb.blob<int32_t>(r.shift, i32, "qc_kernel_shift");
  } else {
    cb.null();
    cb.null();
  }
  cb.i(r.izp);
  cb.i(r.ozp);
  cb.i(r.lo);
  cb.i(r.hi);
  cb.i(r.outI8);
}

/// Replaces `op` (and, with `fuse`, the requantize that is its only user)
/// by a kernel call; fails when `fuse` is asked and no requantize fuses.
LogicalResult convToKernel(qc::ConvIntOp op, bool fuse, const KernelOptions &opts,
                           PatternRewriter &rw) {
  if (!lowerableTypes(op, /*unsignedOk=*/true))
    return failure();
  auto xTy = tensorType(op.getInput()), wTy = tensorType(op.getWeight());
  auto outTy = tensorType(op.getOutput());
  int64_t rank = xTy.getRank();
  if ((rank != 3 && rank != 4) || xTy.getElementType().getIntOrFloatBitWidth() != 8 ||
      anyEmpty({xTy, wTy, outTy}))
    return rw.notifyMatchFailure(op, "kernels take non-empty 1-d and 2-d 8-bit convolutions");
  std::optional<std::vector<uint8_t>> w = constantBytes(op.getWeight());
  if (!w)
    return rw.notifyMatchFailure(op, "weights are not a constant");
  std::vector<int32_t> bias;
  if (op.getBias()) {
    std::optional<std::vector<int32_t>> b = constantValues<int32_t>(op.getBias());
    if (!b)
      return rw.notifyMatchFailure(op, "bias is not a constant");
    bias = *b;
  }
  // 1-d as 2-d with H = 1.
  auto dim = [&](RankedTensorType t, int64_t d2) { // spatial dim d2 of (H, W)
    return rank == 4 ? t.getDimSize(2 + d2) : (d2 == 0 ? 1 : t.getDimSize(2));
  };
  auto attr2 = [&](ArrayRef<int64_t> a, int64_t d2, int64_t dflt) {
    return rank == 4 ? a[d2] : (d2 == 0 ? dflt : a[0]);
  };
  int64_t N = xTy.getDimSize(0), C = xTy.getDimSize(1), F = wTy.getDimSize(0);
  int64_t H = dim(xTy, 0), W = dim(xTy, 1), KH = dim(wTy, 0), KW = dim(wTy, 1);
  int64_t OH = dim(outTy, 0), OW = dim(outTy, 1), groups = op.getGroup();
  int64_t K = wTy.getNumElements() / F;
  Requant r;
  qc::RequantizeOp rq = fuse ? fusableRequant(op.getOutput(), 1, F, r) : nullptr;
  if (fuse && !rq)
    return failure();
  bool xU = wasUnsigned(op, 0), wU = wasUnsigned(op, 1);
  std::vector<int32_t> wzp(op.getWeightZp().begin(), op.getWeightZp().end());
  qc::kernels::PackedWeights p = qc::kernels::packConvWeights(
      w->data(), F, K, wU, wzp.data(), wzp.size(), bias.empty() ? nullptr : bias.data(), xU,
      op.getInputZp());
  Location loc = op.getLoc();
  Type i8 = rw.getI8Type(), i32 = rw.getI32Type();
  CallBuilder cb(rw, loc);
  for (int64_t v : {N, C, H, W, F, KH, KW, OH, OW, attr2(op.getStrides(), 0, 1),
                    attr2(op.getStrides(), 1, 1), attr2(op.getPads(), 0, 0),
                    attr2(op.getPads(), 1, 0), attr2(op.getDilations(), 0, 1),
                    attr2(op.getDilations(), 1, 1), groups})
    cb.i(v);
  cb.tensor(op.getInput());
  cb.i(xU ? 0 : 0x80);
  cb.i(uint8_t(op.getInputZp()));
  // Weights of 4 or 2 bits are stored two or four per byte.
  unsigned wBits = qc::kernels::packedBits(p.data);
  cb.blob<int8_t>(wBits == 8 ? p.data : qc::kernels::packSubByte(p.data, wBits), i8,
                  "qc_kernel_weights");
  cb.i(wBits);
  epilogueArgs(cb, p, r, i32);
  Operation *replaced = rq ? rq.getOperation() : op.getOperation();
  auto resTy = tensorType(replaced->getResult(0));
  Value res = cb.finish("qc_k_conv2d_i8_" + opts.suffix, resTy, opts.tasks);
  rw.replaceOp(replaced, res);
  if (rq)
    rw.eraseOp(op);
  return success();
}

LogicalResult matmulToKernel(qc::MatMulIntOp op, bool fuse, const KernelOptions &opts,
                             PatternRewriter &rw) {
  if (!lowerableTypes(op, /*unsignedOk=*/true))
    return failure();
  auto aTy = tensorType(op.getA()), bTy = tensorType(op.getB());
  auto outTy = tensorType(op.getOutput());
  if (aTy.getElementType().getIntOrFloatBitWidth() != 8 ||
      bTy.getElementType().getIntOrFloatBitWidth() != 8 || aTy.getRank() < 2 ||
      bTy.getRank() < 2 || anyEmpty({aTy, bTy, outTy}))
    return rw.notifyMatchFailure(op, "kernels take 8-bit matrices");
  int64_t K = aTy.getDimSize(aTy.getRank() - 1), N = bTy.getDimSize(bTy.getRank() - 1);
  int64_t outRank = outTy.getRank();
  int64_t M = outTy.getDimSize(outRank - 2);
  int64_t batch = outTy.getNumElements() / (M * N);
  std::optional<std::vector<uint8_t>> b = constantBytes(op.getB());
  std::optional<int64_t> aStride = batchStride(aTy, M, K, batch),
                         bStride = batchStride(bTy, K, N, batch);
  if (!aStride || !bStride)
    return rw.notifyMatchFailure(op, "broadcast batch dims");
  if (b && *bStride != 0) // a batch of constant matrices: packed at run time
    b.reset();
  int64_t rows = M;
  if (b && *bStride == 0 && *aStride != 0) { // one constant B: batches are rows
    rows = M * batch;
    batch = 1;
    aStride = 0;
  }
  std::vector<int32_t> bias;
  if (op.getBias()) {
    std::optional<std::vector<int32_t>> bv = constantValues<int32_t>(op.getBias());
    if (!bv)
      return rw.notifyMatchFailure(op, "bias is not a constant");
    bias = *bv;
  }
  Requant r;
  qc::RequantizeOp rq = fuse ? fusableRequant(op.getOutput(), outRank - 1, N, r) : nullptr;
  if (fuse && !rq)
    return failure();
  bool aU = wasUnsigned(op, 0), bU = wasUnsigned(op, 1);
  std::vector<int32_t> bzp(op.getBZp().begin(), op.getBZp().end());
  const int32_t *biasPtr = bias.empty() ? nullptr : bias.data();
  qc::kernels::PackedWeights p =
      b ? qc::kernels::packMatmulB(b->data(), K, N, bU, bzp.data(), bzp.size(), biasPtr, aU,
                                   op.getAZp())
        : qc::kernels::matmulActivationB(K, N, bU, bzp.data(), bzp.size(), biasPtr,
                                         op.getAZp());
  Location loc = op.getLoc();
  Type i8 = rw.getI8Type(), i32 = rw.getI32Type();
  CallBuilder cb(rw, loc);
  for (int64_t v : {batch, rows, N, K})
    cb.i(v);
  cb.tensor(op.getA());
  cb.i(*aStride);
  cb.i(aU ? 0 : 0x80);
  if (b) {
    // Weights of 4 or 2 bits are stored two or four per byte (bPacked = bits).
    unsigned bBits = qc::kernels::packedBits(p.data);
    cb.blob<int8_t>(bBits == 8 ? p.data : qc::kernels::packSubByte(p.data, bBits), i8,
                    "qc_kernel_weights");
    cb.i(0);
    cb.i(bBits);
  } else {
    cb.tensor(op.getB());
    cb.i(*bStride);
    cb.i(0);
  }
  cb.i(bU ? 0x80 : 0);
  cb.i((aU ? 0 : 128) + op.getAZp());
  epilogueArgs(cb, p, r, i32);
  Operation *replaced = rq ? rq.getOperation() : op.getOperation();
  auto resTy = tensorType(replaced->getResult(0));
  Value res = cb.finish("qc_k_matmul_i8_" + opts.suffix, resTy, opts.tasks);
  rw.replaceOp(replaced, res);
  if (rq)
    rw.eraseOp(op);
  return success();
}

/// A conv_int or matmul_int alone (int32 result). When a requantize that
/// the kernel can fuse uses it, RequantizeToKernel does both.
template <typename OpT>
struct IntOpToKernel : OpRewritePattern<OpT> {
  KernelOptions opts;
  IntOpToKernel(MLIRContext *ctx, KernelOptions opts)
      : OpRewritePattern<OpT>(ctx, /*benefit=*/2), opts(std::move(opts)) {}

  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rw) const override {
    Requant unused;
    auto outTy = tensorType(op.getOutput());
    int64_t axis = std::is_same_v<OpT, qc::ConvIntOp> ? 1 : outTy.getRank() - 1;
    if (fusableRequant(op.getOutput(), axis, outTy.getDimSize(axis), unused))
      return failure();
    if constexpr (std::is_same_v<OpT, qc::ConvIntOp>)
      return convToKernel(op, /*fuse=*/false, opts, rw);
    else
      return matmulToKernel(op, /*fuse=*/false, opts, rw);
  }
};

/// A qc.requantize of a conv_int / matmul_int result it alone uses: one
/// kernel with the requantization fused.
struct RequantizeToKernel : OpRewritePattern<qc::RequantizeOp> {
  KernelOptions opts;
  RequantizeToKernel(MLIRContext *ctx, KernelOptions opts)
      : OpRewritePattern(ctx, /*benefit=*/3), opts(std::move(opts)) {}

  LogicalResult matchAndRewrite(qc::RequantizeOp rq, PatternRewriter &rw) const override {
    Operation *def = rq.getInput().getDefiningOp();
    if (auto conv = dyn_cast_or_null<qc::ConvIntOp>(def))
      return convToKernel(conv, /*fuse=*/true, opts, rw);
    if (auto mm = dyn_cast_or_null<qc::MatMulIntOp>(def))
      return matmulToKernel(mm, /*fuse=*/true, opts, rw);
    return failure();
  }
};

/// A qc.matmul_group_scaled with constant weights, weight scales and bias
/// and groups of a multiple of 4 channels: one call of
/// qc_k_matmul_group_i8_*, B packed as for matmul with each group's column
/// sums beside it.
struct GroupScaledToKernel : OpRewritePattern<qc::MatMulGroupScaledOp> {
  KernelOptions opts;
  GroupScaledToKernel(MLIRContext *ctx, KernelOptions opts)
      : OpRewritePattern(ctx, /*benefit=*/2), opts(std::move(opts)) {}

  LogicalResult matchAndRewrite(qc::MatMulGroupScaledOp op, PatternRewriter &rw) const override {
    if (!lowerableTypes(op))
      return failure();
    auto aTy = tensorType(op.getA()), outTy = tensorType(op.getOutput());
    int64_t K = aTy.getShape().back(), N = outTy.getShape().back(), G = op.getGroup();
    if (G % 4 || anyEmpty({aTy, outTy}))
      return rw.notifyMatchFailure(op, "kernels take groups of a multiple of 4 channels");
    std::optional<std::vector<uint8_t>> b = constantBytes(op.getB());
    std::optional<std::vector<float>> sb = constantValues<float>(op.getBScales());
    std::optional<std::vector<float>> bias;
    if (op.getBias() && !(bias = constantValues<float>(op.getBias())))
      return rw.notifyMatchFailure(op, "bias is not a constant");
    if (!b || !sb)
      return rw.notifyMatchFailure(op, "weights or their scales are not constants");
    if (sb->size() == 1)
      sb->assign(size_t(N), sb->front());
    int32_t noZp = 0;
    qc::kernels::PackedWeights p = qc::kernels::packMatmulB(
        b->data(), K, N, /*bUnsigned=*/false, &noZp, 1, nullptr, /*aUnsigned=*/false, 0);
    std::vector<int32_t> colSums(size_t(K / G * N), 0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        colSums[size_t(k / G * N + n)] += int8_t((*b)[size_t(k * N + n)]);
    Type i8 = rw.getI8Type(), i32 = rw.getI32Type(), f32 = rw.getF32Type();
    CallBuilder cb(rw, op.getLoc());
    for (int64_t v : {aTy.getNumElements() / K, N, K, G})
      cb.i(v);
    cb.tensor(op.getA());
    cb.tensor(op.getAScales());
    if (op.getAZeros())
      cb.tensor(op.getAZeros());
    else
      cb.null();
    cb.blob<int8_t>(p.data, i8, "qc_kernel_weights");
    cb.blob<int32_t>(colSums, i32, "qc_kernel_colsums");
    cb.blob<float>(*sb, f32, "qc_kernel_scales");
    if (bias)
      cb.blob<float>(*bias, f32, "qc_kernel_bias");
    else
      cb.null();
    rw.replaceOp(op, cb.finish("qc_k_matmul_group_i8_" + opts.suffix, outTy, opts.tasks));
    return success();
  }
};

/// A float 2-d group-1 qc.conv with constant weights (and bias): one call of
/// qc_k_conv2d_f32_avx512. The weights are passed as they are ([F][K]).
struct ConvF32ToKernel : OpRewritePattern<qc::ConvOp> {
  unsigned tasks;
  ConvF32ToKernel(MLIRContext *ctx, unsigned tasks)
      : OpRewritePattern(ctx, /*benefit=*/2), tasks(tasks) {}

  LogicalResult matchAndRewrite(qc::ConvOp op, PatternRewriter &rw) const override {
    auto xTy = dyn_cast<RankedTensorType>(op.getX().getType());
    auto wTy = dyn_cast<RankedTensorType>(op.getW().getType());
    auto yTy = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!xTy || !wTy || !yTy || !xTy.hasStaticShape() || !yTy.hasStaticShape() ||
        xTy.getRank() != 4 || !xTy.getElementType().isF32() || op.getGroup() != 1 ||
        op.getAutoPad() != "NOTSET" || anyEmpty({xTy, wTy, yTy}))
      return rw.notifyMatchFailure(op, "float kernels take static 2-d group-1 f32 convs");
    if (!op.getW().getDefiningOp<arith::ConstantOp>() ||
        (op.getB() && !op.getB().getDefiningOp<arith::ConstantOp>()))
      return rw.notifyMatchFailure(op, "weights and bias must be constants");
    SmallVector<int64_t> pads(op.getPads().value_or(ArrayRef<int64_t>{0, 0, 0, 0}));
    SmallVector<int64_t> strides(op.getStrides().value_or(ArrayRef<int64_t>{1, 1}));
    SmallVector<int64_t> dil(op.getDilations().value_or(ArrayRef<int64_t>{1, 1}));
    Location loc = op.getLoc();
    CallBuilder cb(rw, loc);
    for (int64_t v : {xTy.getDimSize(0), xTy.getDimSize(1), xTy.getDimSize(2),
                      xTy.getDimSize(3), wTy.getDimSize(0), wTy.getDimSize(2), wTy.getDimSize(3),
                      yTy.getDimSize(2), yTy.getDimSize(3), strides[0], strides[1], pads[0],
                      pads[1], dil[0], dil[1]})
      cb.i(v);
    cb.tensor(op.getX());
    cb.tensor(op.getW());
    if (op.getB())
      cb.tensor(op.getB());
    else
      cb.null();
    rw.replaceOp(op, cb.finish("qc_k_conv2d_f32_avx512", yTy, tasks));
    return success();
  }
};

/// A float qc.matmul: constant B packed here in 64-column blocks, or an
/// activation B with matching (or no) batch.
struct MatMulF32ToKernel : OpRewritePattern<qc::MatMulOp> {
  unsigned tasks;
  MatMulF32ToKernel(MLIRContext *ctx, unsigned tasks)
      : OpRewritePattern(ctx, /*benefit=*/2), tasks(tasks) {}

  LogicalResult matchAndRewrite(qc::MatMulOp op, PatternRewriter &rw) const override {
    auto aTy = dyn_cast<RankedTensorType>(op.getA().getType());
    auto bTy = dyn_cast<RankedTensorType>(op.getB().getType());
    auto yTy = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!aTy || !bTy || !yTy || !aTy.hasStaticShape() || !bTy.hasStaticShape() ||
        !yTy.hasStaticShape() || aTy.getRank() < 2 || bTy.getRank() < 2 ||
        !aTy.getElementType().isF32() || !bTy.getElementType().isF32() ||
        anyEmpty({aTy, bTy, yTy}))
      return rw.notifyMatchFailure(op, "float kernels take static f32 matrices");
    int64_t K = aTy.getDimSize(aTy.getRank() - 1), N = bTy.getDimSize(bTy.getRank() - 1);
    int64_t M = yTy.getDimSize(yTy.getRank() - 2), batch = yTy.getNumElements() / (M * N);
    std::optional<int64_t> aStride = batchStride(aTy, M, K, batch),
                           bStride = batchStride(bTy, K, N, batch);
    if (!aStride || !bStride)
      return rw.notifyMatchFailure(op, "broadcast batch dims");
    std::optional<std::vector<float>> b =
        *bStride == 0 ? constantValues<float>(op.getB()) : std::nullopt;
    int64_t rows = M;
    if (b && *aStride != 0) { // one constant B: batches are rows
      rows = M * batch;
      batch = 1;
      aStride = 0;
    }
    Location loc = op.getLoc();
    CallBuilder cb(rw, loc);
    for (int64_t v : {batch, rows, N, K})
      cb.i(v);
    cb.tensor(op.getA());
    cb.i(*aStride);
    if (b) {
      std::vector<float> packed = qc::kernels::packMatmulBF32(b->data(), K, N);
      cb.blob<float>(packed, rw.getF32Type(), "qc_kernel_weights");
      cb.i(0);
      cb.i(1);
    } else {
      cb.tensor(op.getB());
      cb.i(*bStride);
      cb.i(0);
    }
    cb.null(); // bias: the Add after a MatMul stays its own op
    rw.replaceOp(op, cb.finish("qc_k_matmul_f32_avx512", yTy, tasks));
    return success();
  }
};

/// qc.hadamard on static f32 tensors: one call of qc_k_hadamard_f32_avx512
/// (all butterfly stages and the factor per block of 16 rows in cache,
/// instead of a pass over the tensor per stage).
struct HadamardToKernel : OpRewritePattern<qc::HadamardOp> {
  unsigned tasks;
  HadamardToKernel(MLIRContext *ctx, unsigned tasks)
      : OpRewritePattern(ctx, /*benefit=*/2), tasks(tasks) {}

  LogicalResult matchAndRewrite(qc::HadamardOp op, PatternRewriter &rw) const override {
    auto ty = dyn_cast<RankedTensorType>(op.getInput().getType());
    if (!ty || !ty.hasStaticShape() || !ty.getElementType().isF32() || ty.getRank() < 1 ||
        ty.getNumElements() == 0)
      return rw.notifyMatchFailure(op, "the kernel takes static f32 tensors");
    if (Value f = op.getFactor())
      if (!tensorType(f).hasStaticShape() || !tensorType(f).getElementType().isF32())
        return rw.notifyMatchFailure(op, "the factor must be a static f32 tensor");
    int64_t n = ty.getShape().back(), m = op.getFactorSize();
    CallBuilder cb(rw, op.getLoc());
    for (int64_t v : {ty.getNumElements() / n, m, n / m})
      cb.i(v);
    cb.tensor(op.getInput());
    if (op.getFactor())
      cb.tensor(op.getFactor());
    else
      cb.null();
    rw.replaceOp(op, cb.finish("qc_k_hadamard_f32_avx512", ty, tasks));
    return success();
  }
};

} // namespace

void qc::lowering::populateF32KernelPatterns(RewritePatternSet &patterns, unsigned tasks) {
  patterns.add<ConvF32ToKernel, MatMulF32ToKernel, HadamardToKernel>(patterns.getContext(),
                                                                     tasks);
}

void qc::lowering::populateKernelPatterns(RewritePatternSet &patterns, StringRef variant,
                                          unsigned tasks) {
  KernelOptions opts{variant.str(), tasks};
  patterns.add<IntOpToKernel<qc::ConvIntOp>, IntOpToKernel<qc::MatMulIntOp>, RequantizeToKernel,
               GroupScaledToKernel>(patterns.getContext(), opts);
}

LogicalResult qc::lowering::declareKernels(Operation *root) {
  SmallVector<func::CallOp> calls;
  root->walk([&](func::CallOp call) {
    if (call.getCallee().starts_with("qc_k_"))
      calls.push_back(call);
  });
  if (calls.empty())
    return success();
  auto module = dyn_cast<ModuleOp>(root);
  if (!module)
    module = root->getParentOfType<ModuleOp>();
  if (!module)
    return root->emitError("int8 kernel calls need a module to declare the kernels in");
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  for (func::CallOp call : calls) {
    if (module.lookupSymbol(call.getCalleeAttr()))
      continue;
    auto fn = func::FuncOp::create(b, call.getLoc(), call.getCallee(),
                                   b.getFunctionType(call.getOperandTypes(), {}));
    fn.setPrivate();
  }
  return success();
}
