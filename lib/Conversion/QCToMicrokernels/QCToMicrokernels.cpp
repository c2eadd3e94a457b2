//===- QCToMicrokernels.cpp - qc ops to microkernel calls -----------------===//
//
// qc-lower-to-microkernels: with int8-kernels=vnni|generic, a qc.conv_int
// (2-d or 1-d, constant weights) or qc.matmul_int (constant B, or an
// activation B with matching batch), and the qc.requantize that is its only
// user, become one call to a kernel of lib/Kernels/Int8Kernels.cpp; with
// f32-kernels=avx512 float conv / matmul / hadamard / softmax calls of F32Kernels.cpp.
// Constant weights are packed here, at compile time, with their per-channel
// correction terms (qc::kernels::pack*). Each call's operands are the
// fields of a struct generated from include/qc/Kernels/Kernels.def, which
// also orders them and gives the kernels' declarations: the C prototypes
// come from the same table, so the two sides cannot drift apart.
//
// Ops the kernels do not take (3-d convolutions, non-constant weights or
// biases, per-channel requantization along another axis, broadcast batches)
// are left to convert-qc-to-linalg.
//
//===----------------------------------------------------------------------===//
#include "../QCToLinalg/Common.h"
#include "qc/Conversion/Passes.h"

#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Kernels/Int8Kernels.h"
#include "qc/Kernels/Timing.h"
#include "qc/Support/Minifloat.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"
#include <cstring>
#include <map>
#include <memory>
#include <tuple>
#include <type_traits>

namespace qc {
#define GEN_PASS_DEF_LOWERTOMICROKERNELS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc::lowering;
using qc::kernels::F32ISA;
using qc::kernels::Int8ISA;
using qc::kernels::LowBitMethod;

namespace {

//===----------------------------------------------------------------------===//
// The call ABI, from Kernels.def
//===----------------------------------------------------------------------===//

// Per kernel K a struct K_call with one Value per argument, named as in the
// table, and forEach visiting them in call order (with whether each is a
// pointer, for the check in CallBuilder::finish).
#define QC_CALL_FIELD(type, name) Value name;
#define QC_CALL_VISIT(type, name) visit_(name, std::is_pointer_v<type>, #name);
#define QC_CALL_STRUCT(kernel)                                                 \
  struct kernel##_call {                                                       \
    static constexpr const char *kernelName = #kernel;                         \
    QC_KERNEL_ARGS_##kernel(QC_CALL_FIELD) template <typename Visit_>          \
    void forEach(Visit_ visit_) const {                                        \
      QC_KERNEL_ARGS_##kernel(QC_CALL_VISIT)                                   \
    }                                                                          \
  };
QC_CALL_STRUCT(matmul_i8)
QC_CALL_STRUCT(matmul_group_i8)
QC_CALL_STRUCT(conv2d_i8)
QC_CALL_STRUCT(matmul_lut_i8)
QC_CALL_STRUCT(matmul_mx_i8)
QC_CALL_STRUCT(matmul_mx6_i8)
QC_CALL_STRUCT(matmul_fp8)
QC_CALL_STRUCT(conv2d_bin)
QC_CALL_STRUCT(matmul_bin)
QC_CALL_STRUCT(matmul_f32)
QC_CALL_STRUCT(conv2d_f32)
QC_CALL_STRUCT(hadamard_f32)
QC_CALL_STRUCT(softmax_f32)
#undef QC_CALL_STRUCT

/// The parameter types of entry point `symbol` (qc_k_<kernel>_<isa>): i64
/// for integers, !llvm.ptr for pointers, then (task, ntasks); none for a
/// name the table does not list.
std::optional<SmallVector<Type>> kernelSignature(StringRef symbol,
                                                 MLIRContext *ctx) {
  Type ptr = LLVM::LLVMPointerType::get(ctx), i64 = IntegerType::get(ctx, 64);
  SmallVector<Type> types;
#define QC_SIGNATURE_TYPE(type, name)                                          \
  types.push_back(std::is_pointer_v<type> ? ptr : i64);
#define QC_SIGNATURE(kernel, isa)                                              \
  if (symbol == "qc_k_" #kernel "_" #isa) {                                    \
    QC_KERNEL_ARGS_##kernel(QC_SIGNATURE_TYPE) types.append({i64, i64});       \
    return types;                                                              \
  }
  QC_KERNEL_VARIANTS(QC_SIGNATURE)
#undef QC_SIGNATURE
#undef QC_SIGNATURE_TYPE
  return std::nullopt;
}

/// Whether operand `i` (i < #operands) or result i - #operands of `op`
/// holds unsigned integers: by its type, or, once convert-qc-to-linalg's
/// makeSignless has run, by the qc.unsigned flags.
bool isUnsigned(Operation *op, unsigned i) {
  Type t = i < op->getNumOperands()
               ? op->getOperand(i).getType()
               : op->getResult(i - op->getNumOperands()).getType();
  return getElementTypeOrSelf(t).isUnsignedInteger() || wasUnsigned(op, i);
}

/// True when every operand and result is a statically shaped ranked tensor
/// of float, index or integer elements; unsigned integers only with
/// `unsignedOk`. The kernels run on the IR as it is (signedness in the
/// types); convert-qc-to-linalg makes it signless afterwards.
bool kernelTypes(Operation *op, bool unsignedOk) {
  for (unsigned i = 0, e = op->getNumOperands() + op->getNumResults(); i < e;
       ++i) {
    Type t = i < op->getNumOperands()
                 ? op->getOperand(i).getType()
                 : op->getResult(i - op->getNumOperands()).getType();
    auto tt = dyn_cast<RankedTensorType>(t);
    if (!tt || !tt.hasStaticShape() ||
        !isa<FloatType, IndexType, IntegerType>(tt.getElementType()))
      return false;
    if (!unsignedOk && isUnsigned(op, i))
      return false;
  }
  return true;
}

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
    std::optional<std::vector<int64_t>> ints =
        qc::readIntegerElements(cst.getValue(), true);
    if (!ints)
      return std::nullopt;
    return std::vector<T>(ints->begin(), ints->end());
  }
}

/// Whether any of `types` has no elements (a zero dim): the kernels'
/// shape arithmetic divides by dims, so such ops keep the linalg lowering.
bool anyEmpty(std::initializer_list<RankedTensorType> types) {
  return llvm::any_of(
      types, [](RankedTensorType t) { return t.getNumElements() == 0; });
}

/// The batch stride (elements) of a `rows x cols` operand of type `t` in a
/// product of `batch` matrices: a full batch, or 0 for one matrix shared by
/// every batch; none when its batch dims broadcast otherwise.
std::optional<int64_t> batchStride(RankedTensorType t, int64_t rows,
                                   int64_t cols, int64_t batch) {
  int64_t mats = t.getNumElements() / (rows * cols);
  if (mats == batch)
    return batch == 1 ? 0 : rows * cols;
  if (mats == 1)
    return 0;
  return std::nullopt;
}

template <typename T>
Value blobConstant(OpBuilder &b, Location loc, ArrayRef<T> values, Type elt,
                   StringRef name) {
  auto ty = RankedTensorType::get({int64_t(values.size())}, elt);
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(values);
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(ty, name, std::move(blob)));
}

/// Requantization of a kernel's output: identity (int32) or qc.requantize.
struct Requant {
  bool outI8 = false;
  std::vector<int32_t> mult, shift;
  int64_t izp = 0, ozp = 0, lo = 0, hi = 0;
  /// A qc.table after the requantization, fused too: its entries by the
  /// output byte (the kernels' `lut`), empty without one.
  qc::TableOp table;
  std::vector<int8_t> lut;
};

/// The qc.table of 8-bit results that is the only user of `rq`, or null.
qc::TableOp fusableTable(qc::RequantizeOp rq) {
  if (!rq.getOutput().hasOneUse())
    return nullptr;
  auto table = dyn_cast<qc::TableOp>(*rq.getOutput().getUsers().begin());
  if (!table ||
      tensorType(table.getOutput()).getElementType().getIntOrFloatBitWidth() !=
          8)
    return nullptr;
  return table;
}

/// The qc.requantize that is the only user of `acc`, if its per-channel
/// axis is `chanAxis` (or it is per tensor): its parameters per channel.
/// With `withTable`, a qc.table that alone uses the requantization is
/// fused too (r.table, r.lut).
qc::RequantizeOp fusableRequant(Value acc, int64_t chanAxis, int64_t channels,
                                Requant &r, bool withTable = false) {
  if (!acc.hasOneUse())
    return nullptr;
  auto rq = dyn_cast<qc::RequantizeOp>(*acc.getUsers().begin());
  if (!rq ||
      tensorType(rq.getOutput()).getElementType().getIntOrFloatBitWidth() !=
          8 ||
      !kernelTypes(rq, /*unsignedOk=*/true))
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
  // The I32Attr getters return uint32_t: sign-extend negative zero points.
  r.izp = int32_t(rq.getInputZp());
  r.ozp = int32_t(rq.getOutputZp());
  r.lo = rq.getClampMin();
  r.hi = rq.getClampMax();
  if (withTable)
    if (qc::TableOp table = fusableTable(rq)) {
      // Indexed by the value less the type's minimum; the kernels index by
      // the stored byte.
      bool isSigned = !tensorType(rq.getOutput()).getElementType().isUnsignedInteger();
      ArrayRef<int32_t> t = table.getTable();
      r.table = table;
      r.lut.resize(256);
      for (int b = 0; b < 256; ++b)
        r.lut[size_t(b)] =
            int8_t(t[size_t(isSigned ? int(int8_t(b)) + 128 : b)]);
    }
  return rq;
}

/// Multiply-adds below which a kernel call runs as one task: a fork and
/// join of the thread pool costs a few microseconds, as much as this many
/// multiply-adds (the squeeze-excitation convs of 1x1 pixels, a keyword
/// spotter's dense layers).
constexpr int64_t kMinParallelMacs = int64_t(1) << 18;

/// Builds a call: each argument from a tensor (a pointer into its buffer),
/// an integer, a constant blob or null; then a fresh output buffer.
struct CallBuilder {
  PatternRewriter &rw;
  Location loc;
  Type ptrTy, i64;
  /// The call's multiply-adds, where known: below kMinParallelMacs it runs
  /// as one task whatever `tasks` finish() is given.
  int64_t macs = INT64_MAX;

  CallBuilder(PatternRewriter &rw, Location loc)
      : rw(rw), loc(loc), ptrTy(LLVM::LLVMPointerType::get(rw.getContext())),
        i64(rw.getI64Type()) {}

  Value pointerOf(Value buffer) {
    Value idx = memref::ExtractAlignedPointerAsIndexOp::create(rw, loc, buffer);
    Value i = arith::IndexCastOp::create(rw, loc, i64, idx);
    return LLVM::IntToPtrOp::create(rw, loc, ptrTy, i);
  }
  Value tensor(Value t) {
    auto tt = tensorType(t);
    auto mt = MemRefType::get(tt.getShape(), tt.getElementType());
    Value m =
        bufferization::ToBufferOp::create(rw, loc, mt, t, /*readOnly=*/true);
    return pointerOf(m);
  }
  Value i(int64_t v) { return arith::ConstantIntOp::create(rw, loc, i64, v); }
  template <typename T>
  Value blob(ArrayRef<T> v, Type elt, StringRef name) {
    return tensor(blobConstant<T>(rw, loc, v, elt, name));
  }
  Value null() { return LLVM::ZeroOp::create(rw, loc, ptrTy); }

  /// Calls qc_k_<kernel>_<isa> with `call`'s arguments in the table's order
  /// (its `out` a fresh buffer), then (task, ntasks); returns the output as a
  /// tensor of `outTy`.
  template <typename CallT>
  Value finish(CallT &call, StringRef variant, RankedTensorType outTy,
               unsigned tasks) {
    if (macs < kMinParallelMacs)
      tasks = 1;
    std::string symbol =
        ("qc_k_" + Twine(CallT::kernelName) + "_" + variant).str();
    assert(kernelSignature(symbol, rw.getContext()) &&
           "no such kernel in Kernels.def");
    auto mt = MemRefType::get(outTy.getShape(), outTy.getElementType());
    Value out = memref::AllocOp::create(rw, loc, mt, rw.getI64IntegerAttr(64));
    call.out = pointerOf(out);
    SmallVector<Value> args;
    call.forEach([&](Value v, bool isPointer, const char *name) {
      (void)name;
      assert(v && "a kernel argument was not set");
      assert(isa<LLVM::LLVMPointerType>(v.getType()) == isPointer &&
             "a kernel argument of the wrong kind");
      args.push_back(v);
    });
    auto emit = [&](OpBuilder &b, Value task) {
      SmallVector<Value> all(args);
      all.push_back(task);
      all.push_back(arith::ConstantIntOp::create(b, loc, i64, tasks));
      func::CallOp::create(b, loc, symbol, TypeRange{}, all);
    };
    if (tasks <= 1) {
      emit(rw, arith::ConstantIntOp::create(rw, loc, i64, 0));
    } else {
      Value zero = cindex(rw, loc, 0), one = cindex(rw, loc, 1),
            n = cindex(rw, loc, tasks);
      scf::ParallelOp::create(
          rw, loc, ValueRange{zero}, ValueRange{n}, ValueRange{one},
          [&](OpBuilder &b, Location l, ValueRange ivs) {
            emit(b, arith::IndexCastOp::create(b, l, i64, ivs[0]));
          });
    }
    return bufferization::ToTensorOp::create(rw, loc, outTy, out,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  }
};

/// lowbit-kernels=auto's choices, by shape and format: whether the
/// table-lookup kernel was the faster (shared by the patterns of one run).
using LutChoices = std::map<std::tuple<int64_t, int64_t, int64_t, unsigned,
                                       int32_t, int32_t>,
                            bool>;

struct KernelOptions {
  std::string suffix; // "vnni" or "generic"
  unsigned tasks = 1;
  qc::kernels::LowBitMethod lowbit = qc::kernels::LowBitMethod::Unpack;
  bool reportChoices = false; // remarks on lowbit-kernels' choices
  bool bytePermutes = false;  // the target has VBMI (fused tables)
  bool bf16Dot = false;       // the target has AVX512-BF16 (vdpbf16ps)
  bool residualAdds = false;  // fuse residual adds into conv epilogues
  std::shared_ptr<LutChoices> lutChoices = std::make_shared<LutChoices>();
  /// The low-bit kernels' variants: "vbmi" (table lookup) and "vpopcnt"
  /// (binary activations) with the VNNI kernels.
  std::string lutSuffix() const {
    return suffix == "vnni" ? "vbmi" : "generic";
  }
  std::string binSuffix() const {
    return suffix == "vnni" ? "vpopcnt" : "generic";
  }
};

/// Sets the epilogue arguments (corr .. outI8) of an int8 kernel call.
template <typename CallT>
void epilogueArgs(CallBuilder &cb, CallT &k,
                  const qc::kernels::PackedWeights &p, const Requant &r,
                  Type i32) {
  k.corr = cb.blob<int32_t>(p.corr, i32, "qc_kernel_corr");
  k.zw = p.hasZw ? cb.blob<int32_t>(p.zw, i32, "qc_kernel_zw") : cb.null();
  k.hasZw = cb.i(p.hasZw);
  if (r.outI8) {
    k.mult = cb.blob<int32_t>(r.mult, i32, "qc_kernel_mult");
    k.shift = cb.blob<int32_t>(r.shift, i32, "qc_kernel_shift");
  } else {
    k.mult = cb.null();
    k.shift = cb.null();
  }
  k.izp = cb.i(r.izp);
  k.ozp = cb.i(r.ozp);
  k.lo = cb.i(r.lo);
  k.hi = cb.i(r.hi);
  k.outI8 = cb.i(r.outI8);
}

/// The last op a kernel call replaces: the fused qc.table, else the fused
/// qc.requantize, else the product itself.
Operation *lastFused(Operation *op, qc::RequantizeOp rq, const Requant &r) {
  if (r.table)
    return r.table;
  return rq ? rq.getOperation() : op;
}

/// Replaces the product `op` (and the qc.requantize `rq` and qc.table fused
/// into the call, when there are) with the kernel call's result `res`.
void replaceWithCall(PatternRewriter &rw, Operation *op, qc::RequantizeOp rq,
                     const Requant &r, Value res) {
  rw.replaceOp(lastFused(op, rq, r), res);
  if (r.table)
    rw.eraseOp(rq);
  if (rq)
    rw.eraseOp(op);
}

/// A residual add after the fused requantization `rq` of a channels-last
/// convolution, as lower-quantized-to-integer writes one: rq's bytes
/// requantized to int32 (that alone using them), added to another 8-bit
/// tensor's int32 requantization of the same shape, the sum (alone using
/// it) requantized to 8 bits, all per tensor. The kernel's epilogue
/// (conv2d_i8's res, resParams) computes the three requantizations and the
/// add exactly as the ops do.
struct Residual {
  qc::RequantizeOp toI32, otherToI32, out;
  qc::AddOp add;
  std::vector<int64_t> params; // Kernels.def's resParams
};

std::optional<Residual> fusableResidual(qc::RequantizeOp rq) {
  auto perTensor = [](qc::RequantizeOp q) {
    return q && q.getMultiplier().size() == 1 && q.getShift().size() == 1 &&
           kernelTypes(q, /*unsignedOk=*/true);
  };
  auto bits = [](Value v) {
    return tensorType(v).getElementType().getIntOrFloatBitWidth();
  };
  auto onlyUser = [](Value v) -> Operation * {
    return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
  };
  Residual res;
  res.toI32 = dyn_cast_or_null<qc::RequantizeOp>(onlyUser(rq.getOutput()));
  if (!perTensor(res.toI32) || bits(res.toI32.getOutput()) != 32)
    return std::nullopt;
  res.add = dyn_cast_or_null<qc::AddOp>(onlyUser(res.toI32.getOutput()));
  if (!res.add || res.add.getA().getType() != res.add.getB().getType() ||
      res.add.getC().getType() != res.add.getA().getType())
    return std::nullopt;
  Value other = res.add.getA() == res.toI32.getOutput() ? res.add.getB()
                                                        : res.add.getA();
  res.otherToI32 = other.getDefiningOp<qc::RequantizeOp>();
  if (other == res.toI32.getOutput() || !perTensor(res.otherToI32) ||
      bits(res.otherToI32.getInput()) != 8 ||
      tensorType(res.otherToI32.getInput()).getShape() !=
          tensorType(rq.getOutput()).getShape())
    return std::nullopt;
  res.out = dyn_cast_or_null<qc::RequantizeOp>(onlyUser(res.add.getC()));
  if (!perTensor(res.out) || bits(res.out.getOutput()) != 8)
    return std::nullopt;
  for (qc::RequantizeOp q : {res.toI32, res.otherToI32, res.out})
    res.params.insert(res.params.end(),
                      {q.getMultiplier()[0], q.getShift()[0],
                       int32_t(q.getInputZp()), int32_t(q.getOutputZp()),
                       int64_t(q.getClampMin()), int64_t(q.getClampMax())});
  res.params.push_back(isUnsigned(res.otherToI32, 0));
  return res;
}

/// The `lut` and `lutVbmi` arguments of the int8 kernels: the fused table
/// (or null), looked up with VBMI where the VNNI kernels run on a CPU with
/// it.
template <typename CallT>
void lutArgs(CallBuilder &cb, CallT &k, const Requant &r,
             const KernelOptions &opts) {
  k.lut = r.lut.empty() ? cb.null()
                        : cb.blob<int8_t>(r.lut, cb.rw.getI8Type(),
                                          "qc_kernel_lut");
  k.lutVbmi = cb.i(opts.suffix == "vnni" && opts.bytePermutes);
}

/// The kernels' view of a #qc.lowbit format.
qc::kernels::LowBitFormat formatOf(qc::LowBitAttr lb) {
  return {lb.getBits(), lb.getBase(), lb.getStep()};
}

/// Packed int8 weights as the compiler stores them: 4 or 2 bits each where
/// every value fits (packedBits), expanded by the int8 kernels.
struct StoredWeights {
  unsigned bits;
  std::vector<int8_t> data;
};
StoredWeights storedWeights(const std::vector<int8_t> &packed) {
  unsigned bits = qc::kernels::packedBits(packed);
  return {bits, bits == 8 ? packed : qc::kernels::packSubByte(packed, bits)};
}

LogicalResult convToKernel(qc::ConvIntOp op, bool fuse,
                           const KernelOptions &opts, PatternRewriter &rw) {
  if (!kernelTypes(op, /*unsignedOk=*/true))
    return failure();
  auto xTy = tensorType(op.getInput()), wTy = tensorType(op.getWeight());
  auto outTy = tensorType(op.getOutput());
  int64_t rank = xTy.getRank();
  if ((rank != 3 && rank != 4) ||
      xTy.getElementType().getIntOrFloatBitWidth() != 8 ||
      anyEmpty({xTy, wTy, outTy}))
    return rw.notifyMatchFailure(
        op, "kernels take non-empty 1-d and 2-d 8-bit convolutions");
  std::optional<std::vector<uint8_t>> w = constantBytes(op.getWeight());
  if (!w)
    return rw.notifyMatchFailure(op, "weights are not a constant");
  std::vector<int32_t> bias;
  if (op.getBias()) {
    std::optional<std::vector<int32_t>> b =
        constantValues<int32_t>(op.getBias());
    if (!b)
      return rw.notifyMatchFailure(op, "bias is not a constant");
    bias = *b;
  }
  // 1-d as 2-d with H = 1; channels_last (2-d): NHWC input and result.
  bool last = op.getChannelsLast();
  if (last && op.getLowbitAttr())
    return rw.notifyMatchFailure(op, "channels_last with lowbit weights");
  auto dim = [&](RankedTensorType t, int64_t d2, bool weights = false) {
    // spatial dim d2 of (H, W)
    if (last && !weights)
      return t.getDimSize(1 + d2);
    return rank == 4 ? t.getDimSize(2 + d2) : (d2 == 0 ? 1 : t.getDimSize(2));
  };
  auto attr2 = [&](ArrayRef<int64_t> a, int64_t d2, int64_t dflt) {
    return rank == 4 ? a[d2] : (d2 == 0 ? dflt : a[0]);
  };
  int64_t chanDim = last ? 3 : 1;
  int64_t N = xTy.getDimSize(0), C = xTy.getDimSize(chanDim),
          F = wTy.getDimSize(0);
  int64_t H = dim(xTy, 0), W = dim(xTy, 1), KH = dim(wTy, 0, true),
          KW = dim(wTy, 1, true);
  int64_t OH = dim(outTy, 0), OW = dim(outTy, 1), groups = op.getGroup();
  int64_t K = wTy.getNumElements() / F;
  Requant r;
  qc::RequantizeOp rq =
      fuse ? fusableRequant(op.getOutput(), chanDim, F, r,
                            /*withTable=*/!op.getLowbitAttr())
           : nullptr;
  if (fuse && !rq)
    return failure();
  bool xU = isUnsigned(op, 0), wU = isUnsigned(op, 1);
  std::vector<int32_t> wzp(op.getWeightZp().begin(), op.getWeightZp().end());
  Location loc = op.getLoc();
  // The shape arguments every convolution kernel takes (batch .. dw).
  auto convShape = [&](CallBuilder &cb, auto &k) {
    k.batch = cb.i(N);
    k.C = cb.i(C);
    k.H = cb.i(H);
    k.W = cb.i(W);
    k.F = cb.i(F);
    k.KH = cb.i(KH);
    k.KW = cb.i(KW);
    k.OH = cb.i(OH);
    k.OW = cb.i(OW);
    k.sh = cb.i(attr2(op.getStrides(), 0, 1));
    k.sw = cb.i(attr2(op.getStrides(), 1, 1));
    k.ph = cb.i(attr2(op.getPads(), 0, 0));
    k.pw = cb.i(attr2(op.getPads(), 1, 0));
    k.dh = cb.i(attr2(op.getDilations(), 0, 1));
    k.dw = cb.i(attr2(op.getDilations(), 1, 1));
  };
  // Binary activations (#qc.lowbit with two activation levels): AND +
  // popcount, for group 1 and symmetric padding.
  ArrayRef<int64_t> pads = op.getPads();
  bool symmetricPads = true;
  for (size_t i = 0, n = pads.size() / 2; i < n; ++i)
    symmetricPads &= pads[i] == pads[i + n];
  if (qc::LowBitAttr lb = op.getLowbitAttr();
      lb && lb.hasBinaryActivations() && groups == 1 && symmetricPads &&
      opts.lowbit != LowBitMethod::Unpack &&
      opts.lowbit != LowBitMethod::LUT) {
    qc::kernels::LowBitFormat f = formatOf(lb);
    int32_t lo = *lb.getActLo(), hi = *lb.getActHi();
    qc::kernels::BinaryWeights bw = qc::kernels::packBinaryWeights(
        w->data(), F, C, KH * KW, /*kMajor=*/false, wU, f, wzp.data(),
        wzp.size(), bias.empty() ? nullptr : bias.data(), lo, hi - lo,
        op.getInputZp());
    Type i32 = rw.getI32Type(), i64 = rw.getI64Type();
    CallBuilder cb(rw, loc);
    cb.macs = N * F * OH * OW * K;
    conv2d_bin_call k;
    convShape(cb, k);
    k.x = cb.tensor(op.getInput());
    k.xXor = cb.i(xU ? 0x80 : 0);
    k.xThr = cb.i(int8_t(uint8_t(hi) ^ (xU ? 0x80 : 0)));
    k.w = cb.blob<uint64_t>(bw.planes, i64, "qc_kernel_weights");
    k.wBits = cb.i(f.bits);
    k.pStep = cb.i(bw.pStep);
    k.xCoef = cb.blob<int32_t>(bw.xCoef, i32, "qc_kernel_xcoef");
    k.tapCorr = cb.blob<int32_t>(bw.tapCorr, i32, "qc_kernel_tapcorr");
    qc::kernels::PackedWeights terms;
    terms.corr = bw.corr;
    epilogueArgs(cb, k, terms, r, i32);
    Operation *replaced = lastFused(op, rq, r);
    replaceWithCall(rw, op, rq, r,
                    cb.finish(k, opts.binSuffix(),
                              tensorType(replaced->getResult(0)), opts.tasks));
    return success();
  }
  const int32_t *biasPtr = bias.empty() ? nullptr : bias.data();
  qc::kernels::PackedWeights p =
      last ? qc::kernels::packConvWeightsNhwc(w->data(), F, C, KH * KW, wU,
                                              wzp.data(), wzp.size(), biasPtr,
                                              xU, op.getInputZp())
           : qc::kernels::packConvWeights(w->data(), F, K, wU, wzp.data(),
                                          wzp.size(), biasPtr, xU,
                                          op.getInputZp());
  Type i8 = rw.getI8Type(), i32 = rw.getI32Type();
  // Channels-last with no table: a residual add after the requantization
  // goes into the epilogue too; the call then sits where the add's result
  // is requantized (the other addend is defined by then).
  std::optional<Residual> residual;
  if (opts.residualAdds && last && rq && !r.table)
    residual = fusableResidual(rq);
  if (residual)
    rw.setInsertionPoint(residual->out);
  CallBuilder cb(rw, loc);
  cb.macs = N * F * OH * OW * K;
  conv2d_i8_call k;
  convShape(cb, k);
  k.groups = cb.i(groups);
  k.nhwc = cb.i(last ? 1 : 0);
  k.x = cb.tensor(op.getInput());
  k.xXor = cb.i(xU ? 0 : 0x80);
  k.pad = cb.i(uint8_t(op.getInputZp()));
  // Weights of 4 or 2 bits are stored two or four per byte.
  StoredWeights stored = storedWeights(p.data);
  k.w = cb.blob<int8_t>(stored.data, i8, "qc_kernel_weights");
  k.wBits = cb.i(stored.bits);
  epilogueArgs(cb, k, p, r, i32);
  lutArgs(cb, k, r, opts);
  if (!residual) {
    k.res = cb.null();
    k.resParams = cb.null();
    Operation *replaced = lastFused(op, rq, r);
    replaceWithCall(rw, op, rq, r,
                    cb.finish(k, opts.suffix,
                              tensorType(replaced->getResult(0)), opts.tasks));
    return success();
  }
  k.res = cb.tensor(residual->otherToI32.getInput());
  k.resParams = cb.blob<int64_t>(residual->params, rw.getI64Type(),
                                 "qc_kernel_residual");
  rw.replaceOp(residual->out,
               cb.finish(k, opts.suffix,
                         tensorType(residual->out.getOutput()), opts.tasks));
  rw.eraseOp(residual->add);
  if (residual->otherToI32.use_empty())
    rw.eraseOp(residual->otherToI32);
  rw.eraseOp(residual->toI32);
  rw.eraseOp(rq);
  rw.eraseOp(op);
  return success();
}

/// lowbit-kernels=auto: whether the table-lookup kernel runs this product
/// (rows x K x N, int8 panels `p` stored as `stored`, bit planes `lp`)
/// faster than the int8 kernel, both timed here on one thread. A host that
/// cannot run both kernels keeps the int8 one.
bool lutIsFaster(Operation *op, int64_t rows, int64_t K, int64_t N,
                 const qc::kernels::PackedWeights &p,
                 const StoredWeights &stored,
                 const qc::kernels::PackedWeights &lp,
                 qc::kernels::LowBitFormat f, const KernelOptions &opts) {
  auto key = std::make_tuple(rows, K, N, f.bits, f.base, f.step);
  auto it = opts.lutChoices->find(key);
  if (it != opts.lutChoices->end())
    return it->second;
  double int8 = 0, lut = 0;
  bool vnni = opts.suffix == "vnni";
  bool faster = false;
  if (!vnni || qc::kernels::hostHasVbmi()) {
    constexpr unsigned kRepeats = 0; // as many as fit in a few ms
    int8 = qc::kernels::timeMatmulI8(rows, K, N, p, stored.data, stored.bits,
                                     vnni, kRepeats);
    lut = qc::kernels::timeMatmulLut(rows, K, N, lp, f, vnni, kRepeats);
    faster = lut < int8;
  }
  if (opts.reportChoices)
    op->emitRemark() << "lowbit-kernels: " << rows << "x" << K << "x" << N
                     << " with " << f.bits << "-bit weights: table lookup "
                     << llvm::formatv("{0:f1}", lut * 1e6).str()
                     << " us, int8 kernel "
                     << llvm::formatv("{0:f1}", int8 * 1e6).str() << " us: "
                     << (faster ? "table lookup" : "int8 kernel");
  opts.lutChoices->emplace(key, faster);
  return faster;
}

LogicalResult matmulToKernel(qc::MatMulIntOp op, bool fuse,
                             const KernelOptions &opts, PatternRewriter &rw) {
  if (!kernelTypes(op, /*unsignedOk=*/true))
    return failure();
  auto aTy = tensorType(op.getA()), bTy = tensorType(op.getB());
  auto outTy = tensorType(op.getOutput());
  if (aTy.getElementType().getIntOrFloatBitWidth() != 8 ||
      bTy.getElementType().getIntOrFloatBitWidth() != 8 || aTy.getRank() < 2 ||
      bTy.getRank() < 2 || anyEmpty({aTy, bTy, outTy}))
    return rw.notifyMatchFailure(op, "kernels take 8-bit matrices");
  int64_t K = aTy.getDimSize(aTy.getRank() - 1),
          N = bTy.getDimSize(bTy.getRank() - 1);
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
    std::optional<std::vector<int32_t>> bv =
        constantValues<int32_t>(op.getBias());
    if (!bv)
      return rw.notifyMatchFailure(op, "bias is not a constant");
    bias = *bv;
  }
  Requant r;
  qc::RequantizeOp rq =
      fuse ? fusableRequant(op.getOutput(), outRank - 1, N, r,
                            /*withTable=*/!op.getLowbitAttr())
           : nullptr;
  if (fuse && !rq)
    return failure();
  bool aU = isUnsigned(op, 0), bU = isUnsigned(op, 1);
  std::vector<int32_t> bzp(op.getBZp().begin(), op.getBZp().end());
  const int32_t *biasPtr = bias.empty() ? nullptr : bias.data();
  Location loc = op.getLoc();
  Type i8 = rw.getI8Type(), i32 = rw.getI32Type();
  Operation *replaced = lastFused(op, rq, r);
  auto resTy = tensorType(replaced->getResult(0));
  // Binary activations: AND + popcount.
  if (qc::LowBitAttr lb = op.getLowbitAttr();
      lb && lb.hasBinaryActivations() && b && batch == 1 &&
      opts.lowbit != LowBitMethod::Unpack &&
      opts.lowbit != LowBitMethod::LUT) {
    qc::kernels::LowBitFormat f = formatOf(lb);
    int32_t lo = *lb.getActLo(), hi = *lb.getActHi();
    qc::kernels::BinaryWeights bw = qc::kernels::packBinaryWeights(
        b->data(), N, K, 1, /*kMajor=*/true, bU, f, bzp.data(), bzp.size(),
        biasPtr, lo, hi - lo, op.getAZp());
    CallBuilder cb(rw, loc);
    cb.macs = batch * rows * N * K;
    matmul_bin_call k;
    k.M = cb.i(rows);
    k.N = cb.i(N);
    k.K = cb.i(K);
    k.a = cb.tensor(op.getA());
    k.aXor = cb.i(aU ? 0x80 : 0);
    k.aThr = cb.i(int8_t(uint8_t(hi) ^ (aU ? 0x80 : 0)));
    k.w = cb.blob<uint64_t>(bw.planes, rw.getI64Type(), "qc_kernel_weights");
    k.wBits = cb.i(f.bits);
    k.pStep = cb.i(bw.pStep);
    k.xCoef = cb.blob<int32_t>(bw.xCoef, i32, "qc_kernel_xcoef");
    qc::kernels::PackedWeights terms;
    terms.corr = bw.corr;
    epilogueArgs(cb, k, terms, r, i32);
    replaceWithCall(rw, op, rq, r,
                    cb.finish(k, opts.binSuffix(), resTy, opts.tasks));
    return success();
  }
  qc::kernels::PackedWeights p =
      b ? qc::kernels::packMatmulB(b->data(), K, N, bU, bzp.data(), bzp.size(),
                                   biasPtr, aU, op.getAZp())
        : qc::kernels::matmulActivationB(K, N, bU, bzp.data(), bzp.size(),
                                         biasPtr, op.getAZp());
  // Constant weights as the int8 kernel reads them (4 or 2 bits each where
  // they fit), for its call and for auto's timing.
  std::optional<StoredWeights> stored;
  if (b)
    stored = storedWeights(p.data);
  // #qc.lowbit weights: the table-lookup kernel on their bit planes, where
  // lowbit-kernels asks for it (auto: where this machine runs it faster).
  if (qc::LowBitAttr lb = op.getLowbitAttr();
      lb && b && batch == 1 && opts.lowbit != LowBitMethod::Unpack) {
    qc::kernels::LowBitFormat f = formatOf(lb);
    qc::kernels::PackedWeights lp = qc::kernels::packLutWeights(
        b->data(), K, N, bU, f, bzp.data(), bzp.size(), biasPtr, aU,
        op.getAZp());
    if (opts.lowbit == LowBitMethod::LUT ||
        lutIsFaster(op, rows, K, N, p, *stored, lp, f, opts)) { // auto, popcount
      CallBuilder cb(rw, loc);
      cb.macs = batch * rows * N * K;
      matmul_lut_i8_call k;
      k.M = cb.i(rows);
      k.N = cb.i(N);
      k.K = cb.i(K);
      k.a = cb.tensor(op.getA());
      k.aXor = cb.i(aU ? 0x80 : 0);
      k.w = cb.blob<int8_t>(lp.data, i8, "qc_kernel_weights");
      k.bits = cb.i(f.bits);
      k.wStep = cb.i(f.step);
      k.wBase = cb.i(f.base);
      epilogueArgs(cb, k, lp, r, i32);
      replaceWithCall(rw, op, rq, r,
                      cb.finish(k, opts.lutSuffix(), resTy, opts.tasks));
      return success();
    }
  }
  CallBuilder cb(rw, loc);
  cb.macs = batch * rows * N * K;
  matmul_i8_call k;
  k.batch = cb.i(batch);
  k.M = cb.i(rows);
  k.N = cb.i(N);
  k.K = cb.i(K);
  k.a = cb.tensor(op.getA());
  k.aStride = cb.i(*aStride);
  k.aXor = cb.i(aU ? 0 : 0x80);
  if (b) {
    // Weights of 4 or 2 bits are stored two or four per byte (bPacked = bits).
    k.b = cb.blob<int8_t>(stored->data, i8, "qc_kernel_weights");
    k.bStride = cb.i(0);
    k.bPacked = cb.i(stored->bits);
  } else {
    k.b = cb.tensor(op.getB());
    k.bStride = cb.i(*bStride);
    k.bPacked = cb.i(0);
  }
  k.bXor = cb.i(bU ? 0x80 : 0);
  k.aOffZp = cb.i((aU ? 0 : 128) + op.getAZp());
  epilogueArgs(cb, k, p, r, i32);
  lutArgs(cb, k, r, opts);
  replaceWithCall(rw, op, rq, r, cb.finish(k, opts.suffix, resTy, opts.tasks));
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
    int64_t axis = outTy.getRank() - 1;
    if constexpr (std::is_same_v<OpT, qc::ConvIntOp>)
      axis = op.getChannelsLast() ? axis : 1;
    if (fusableRequant(op.getOutput(), axis, outTy.getDimSize(axis), unused))
      return failure();
    if constexpr (std::is_same_v<OpT, qc::ConvIntOp>)
      return convToKernel(op, /*fuse=*/false, opts, rw);
    else
      return matmulToKernel(op, /*fuse=*/false, opts, rw);
  }
};

/// A product of a 16-bit activation (W8A16) as two products of 8-bit ones
/// that the int8 kernels run: x = 256 hi + lo with hi = x >> 8 (signed
/// when x is) and lo = x & 255 (unsigned), the zero point split the same
/// way, so that sum (x - zp)(w - zp_w) = 256 sum (hi - zp_hi)(w - zp_w) +
/// sum (lo - zp_lo)(w - zp_w) exactly; each int32, combined (with the
/// int64 bias) in int64. Padding inserts zp_hi and zp_lo, which recombine
/// to zp.
template <typename OpT>
struct SplitWideProduct : OpRewritePattern<OpT> {
  SplitWideProduct(MLIRContext *ctx)
      : OpRewritePattern<OpT>(ctx, /*benefit=*/4) {}

  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rw) const override {
    Value x = op->getOperand(0);
    auto xTy = tensorType(x);
    auto outTy = tensorType(op.getOutput());
    if (!xTy.getElementType().isInteger(16) || op.getLowbitAttr() ||
        !kernelTypes(op, /*unsignedOk=*/true) ||
        !matchPattern(op->getOperand(1), m_Constant()))
      return failure();
    bool xU = isUnsigned(op, 0);
    Location loc = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    Type i8 = rw.getI8Type(), i16 = rw.getIntegerType(16),
         i32 = rw.getI32Type(), i64 = rw.getI64Type(),
         u8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
    Value xs = x;
    if (!xTy.getElementType().isSignlessInteger())
      xs = tensor::BitcastOp::create(rw, loc, xTy.clone(i16), x);
    auto byteOf = [&](bool high) {
      return broadcastGeneric(
          rw, loc, xTy.clone(i8), ValueRange{xs},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value v = a[0];
            if (high) {
              Value eight = arith::ConstantIntOp::create(b, l, i16, 8);
              v = xU ? arith::ShRUIOp::create(b, l, v, eight).getResult()
                     : arith::ShRSIOp::create(b, l, v, eight).getResult();
            }
            return arith::TruncIOp::create(b, l, i8, v);
          });
    };
    Value hi = byteOf(true), lo = byteOf(false);
    if (xU)
      hi = tensor::BitcastOp::create(rw, loc, xTy.clone(u8), hi);
    lo = tensor::BitcastOp::create(rw, loc, xTy.clone(u8), lo);
    int64_t zp;
    if constexpr (std::is_same_v<OpT, qc::ConvIntOp>)
      zp = int32_t(op.getInputZp());
    else
      zp = int32_t(op.getAZp());
    int64_t zpHi = zp >= 0 ? zp / 256 : -((-zp + 255) / 256),
            zpLo = zp - 256 * zpHi;
    auto accTy = outTy.clone(i32);
    auto product = [&](Value in, int64_t inZp) -> Value {
      if constexpr (std::is_same_v<OpT, qc::ConvIntOp>)
        return qc::ConvIntOp::create(rw, loc, accTy, in, op.getWeight(),
                                     Value(), op.getStrides(), op.getPads(),
                                     op.getDilations(), op.getGroup(),
                                     int32_t(inZp), op.getWeightZp(),
                                     /*lowbit=*/nullptr);
      else
        return qc::MatMulIntOp::create(rw, loc, accTy, in, op.getB(), Value(),
                                       int32_t(inZp), op.getBZp(),
                                       /*lowbit=*/nullptr);
    };
    Value accHi = product(hi, zpHi), accLo = product(lo, zpLo);
    SmallVector<Value> ins = {accHi, accLo};
    if (Value bias = op.getBias()) {
      int64_t axis = std::is_same_v<OpT, qc::ConvIntOp> ? 1 : outTy.getRank() - 1;
      SmallVector<int64_t> shape(outTy.getRank() - axis, 1);
      shape[0] = tensorType(bias).getDimSize(0);
      ins.push_back(reshapeTo(rw, loc, bias, RankedTensorType::get(shape, i64)));
    }
    Value acc = broadcastGeneric(
        rw, loc, outTy, ins,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value h = arith::ExtSIOp::create(b, l, i64, a[0]);
          Value v = arith::AddIOp::create(
              b, l,
              arith::ShLIOp::create(b, l, h,
                                    arith::ConstantIntOp::create(b, l, i64, 8)),
              arith::ExtSIOp::create(b, l, i64, a[1]));
          return a.size() > 2 ? arith::AddIOp::create(b, l, v, a[2]).getResult()
                              : v;
        });
    rw.replaceOp(op, acc);
    return success();
  }
};

/// A qc.requantize of a conv_int / matmul_int result it alone uses: one
/// kernel with the requantization fused.
struct RequantizeToKernel : OpRewritePattern<qc::RequantizeOp> {
  KernelOptions opts;
  RequantizeToKernel(MLIRContext *ctx, KernelOptions opts)
      : OpRewritePattern(ctx, /*benefit=*/3), opts(std::move(opts)) {}

  LogicalResult matchAndRewrite(qc::RequantizeOp rq,
                                PatternRewriter &rw) const override {
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

  LogicalResult matchAndRewrite(qc::MatMulGroupScaledOp op,
                                PatternRewriter &rw) const override {
    if (!kernelTypes(op, /*unsignedOk=*/false))
      return failure();
    auto aTy = tensorType(op.getA()), outTy = tensorType(op.getOutput());
    int64_t K = aTy.getShape().back(), N = outTy.getShape().back(),
            G = op.getGroup();
    if (G % 4 || anyEmpty({aTy, outTy}))
      return rw.notifyMatchFailure(
          op, "kernels take groups of a multiple of 4 channels");
    std::optional<std::vector<uint8_t>> b = constantBytes(op.getB());
    std::optional<std::vector<float>> sb =
        constantValues<float>(op.getBScales());
    std::optional<std::vector<float>> bias;
    if (op.getBias() && !(bias = constantValues<float>(op.getBias())))
      return rw.notifyMatchFailure(op, "bias is not a constant");
    if (!b || !sb)
      return rw.notifyMatchFailure(op,
                                   "weights or their scales are not constants");
    if (sb->size() == 1)
      sb->assign(size_t(N), sb->front());
    int32_t noZp = 0;
    qc::kernels::PackedWeights p =
        qc::kernels::packMatmulB(b->data(), K, N, /*bUnsigned=*/false, &noZp, 1,
                                 nullptr, /*aUnsigned=*/false, 0);
    std::vector<int32_t> colSums(size_t(K / G * N), 0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        colSums[size_t(k / G * N + n)] += int8_t((*b)[size_t(k * N + n)]);
    Type i8 = rw.getI8Type(), i32 = rw.getI32Type(), f32 = rw.getF32Type();
    CallBuilder cb(rw, op.getLoc());
    matmul_group_i8_call k;
    k.M = cb.i(aTy.getNumElements() / K);
    k.N = cb.i(N);
    k.K = cb.i(K);
    k.G = cb.i(G);
    k.a = cb.tensor(op.getA());
    k.aScales = cb.tensor(op.getAScales());
    k.aZeros = op.getAZeros() ? cb.tensor(op.getAZeros()) : cb.null();
    k.b = cb.blob<int8_t>(p.data, i8, "qc_kernel_weights");
    k.colSums = cb.blob<int32_t>(colSums, i32, "qc_kernel_colsums");
    k.bScales = cb.blob<float>(*sb, f32, "qc_kernel_scales");
    k.bias = bias ? cb.blob<float>(*bias, f32, "qc_kernel_bias") : cb.null();
    rw.replaceOp(op, cb.finish(k, opts.suffix, outTy, opts.tasks));
    return success();
  }
};

/// A qc.matmul_mx of FP4 or FP6 (E2M3) weights (constant codes, shifts and
/// bias) with K a multiple of 32: one call of qc_k_matmul_mx_i8_* (FP4) or
/// qc_k_matmul_mx6_i8_* (FP6), the codes packed into nibble panels (and
/// top-bit planes) and the zero point folded into the per-column terms.
struct MatMulMxToKernel : OpRewritePattern<qc::MatMulMxOp> {
  KernelOptions opts;
  MatMulMxToKernel(MLIRContext *ctx, KernelOptions opts)
      : OpRewritePattern(ctx, /*benefit=*/2), opts(std::move(opts)) {}

  LogicalResult matchAndRewrite(qc::MatMulMxOp op,
                                PatternRewriter &rw) const override {
    if (!kernelTypes(op, /*unsignedOk=*/true))
      return failure();
    auto aTy = tensorType(op.getA()), outTy = tensorType(op.getOutput());
    int64_t K = aTy.getShape().back(), N = outTy.getShape().back();
    bool fp6 = op.getFormat() == qc::ElementFormat::FP6E2M3;
    if ((!fp6 && op.getFormat() != qc::ElementFormat::FP4E2M1) ||
        op.getBlock() != 32 || K % 32 || anyEmpty({aTy, outTy}))
      return rw.notifyMatchFailure(op, "the kernels take FP4 or FP6 E2M3 "
                                       "blocks of 32 and K a multiple of 32");
    std::optional<std::vector<uint8_t>> packed = constantBytes(op.getCodes()),
                                        shifts = constantBytes(op.getShifts());
    std::optional<std::vector<int64_t>> bias;
    if (op.getBias()) {
      auto cst = op.getBias().getDefiningOp<arith::ConstantOp>();
      if (cst)
        bias = qc::readIntegerElements(cst.getValue(), /*isSigned=*/true);
      if (!bias)
        return rw.notifyMatchFailure(op, "bias is not a constant");
    }
    if (!packed || !shifts)
      return rw.notifyMatchFailure(op, "codes or shifts are not constants");
    unsigned bits = fp6 ? 6 : 4;
    std::vector<uint32_t> wide =
        qc::minifloat::unpackCodes(packed->data(), size_t(K * N), bits);
    std::vector<uint8_t> codes(wide.begin(), wide.end());
    std::vector<int8_t> sh(shifts->begin(), shifts->end());
    qc::kernels::MxPacked p =
        qc::kernels::packMxWeights(codes.data(), sh.data(), K, N, bits);
    // corr = bias - zp' * sum_b (sum_{k in b} w) << shift, zp' the zero
    // point of the unsigned bytes the kernel reads.
    bool aSigned = !isUnsigned(op, 0);
    int64_t zp = int64_t(int32_t(op.getAZp())) + (aSigned ? 128 : 0);
    int64_t blocks = K / 32;
    int factor = *qc::MatMulMxOp::integerFactor(op.getFormat());
    qc::minifloat::Format mf =
        fp6 ? qc::minifloat::Format::E2M3 : qc::minifloat::Format::E2M1;
    std::vector<int64_t> corr(size_t(N), 0);
    for (int64_t n = 0; n < N; ++n) {
      int64_t terms = 0;
      for (int64_t b = 0; b < blocks; ++b) {
        int8_t s = sh[size_t(n * blocks + b)];
        if (s < 0)
          continue;
        int64_t sum = 0;
        for (int64_t j = 0; j < 32; ++j)
          sum += int64_t(factor * qc::minifloat::decode(
                                      mf, codes[size_t((b * 32 + j) * N + n)]));
        terms += sum * (int64_t(1) << s);
      }
      corr[size_t(n)] = (bias ? (*bias)[size_t(n)] : 0) - zp * terms;
    }
    Type i8 = rw.getI8Type(), i64 = rw.getI64Type();
    CallBuilder cb(rw, op.getLoc());
    int64_t M = aTy.getNumElements() / K;
    cb.macs = M * N * K;
    auto build = [&](auto k) {
      k.M = cb.i(M);
      k.N = cb.i(N);
      k.K = cb.i(K);
      k.a = cb.tensor(op.getA());
      k.aXor = cb.i(aSigned ? 0x80 : 0);
      k.w = cb.blob<int8_t>(
          std::vector<int8_t>(p.weights.begin(), p.weights.end()), i8,
          "qc_kernel_mx_weights");
      k.shifts =
          cb.blob<int8_t>(std::vector<int8_t>(p.shifts.begin(), p.shifts.end()),
                          i8, "qc_kernel_mx_shifts");
      k.corr = cb.blob<int64_t>(corr, i64, "qc_kernel_mx_corr");
      return cb.finish(k, opts.suffix, outTy, opts.tasks);
    };
    rw.replaceOp(op, fp6 ? build(matmul_mx6_i8_call{})
                         : build(matmul_mx_i8_call{}));
    return success();
  }
};

/// A qc.matmul_fp8 with constant weights: one call of qc_k_matmul_fp8_*,
/// the weights' values packed as bf16 pairs and the activations' codes
/// decoded by a table of bf16 values. The bf16 variant (vdpbf16ps) with the
/// vnni kernels on a CPU with AVX512-BF16, else generic.
struct MatMulFp8ToKernel : OpRewritePattern<qc::MatMulFp8Op> {
  KernelOptions opts;
  MatMulFp8ToKernel(MLIRContext *ctx, KernelOptions opts)
      : OpRewritePattern(ctx, /*benefit=*/2), opts(std::move(opts)) {}

  /// The bf16 bits of every code's value (exact: E4M3 and E5M2 values are
  /// bf16 values, NaN a quiet NaN).
  static std::vector<uint16_t> bf16Table(qc::ElementFormat f) {
    qc::minifloat::Format mf = *qc::minifloatFormat(f);
    std::vector<uint16_t> t(256);
    for (uint32_t c = 0; c < 256; ++c) {
      float v = float(qc::minifloat::decode(mf, c));
      uint32_t w;
      std::memcpy(&w, &v, 4);
      t[c] = uint16_t(w >> 16);
    }
    return t;
  }

  LogicalResult matchAndRewrite(qc::MatMulFp8Op op,
                                PatternRewriter &rw) const override {
    auto aTy = tensorType(op.getA()), bTy = tensorType(op.getB()),
         outTy = tensorType(op.getOutput());
    if (anyEmpty({aTy, bTy, outTy}))
      return failure();
    std::optional<std::vector<uint8_t>> codes = constantBytes(op.getB());
    if (!codes)
      return rw.notifyMatchFailure(op, "weights are not constant");
    int64_t N = bTy.getDimSize(0), K = bTy.getDimSize(1);
    int64_t M = aTy.getNumElements() / K;
    std::vector<uint16_t> bTable = bf16Table(op.getBFormat());
    std::vector<uint16_t> values(size_t(N * K));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = bTable[(*codes)[i]];
    std::vector<uint16_t> packed =
        qc::kernels::packFp8Bf16(values.data(), N, K);
    std::vector<uint16_t> aTable = bf16Table(op.getAFormat());
    Type i16 = rw.getIntegerType(16);
    CallBuilder cb(rw, op.getLoc());
    cb.macs = M * N * K;
    matmul_fp8_call k;
    k.M = cb.i(M);
    k.N = cb.i(N);
    k.K = cb.i(K);
    k.a = cb.tensor(op.getA());
    k.aTable =
        cb.blob<int16_t>(std::vector<int16_t>(aTable.begin(), aTable.end()),
                         i16, "qc_kernel_fp8_table");
    k.b = cb.blob<int16_t>(std::vector<int16_t>(packed.begin(), packed.end()),
                           i16, "qc_kernel_fp8_weights");
    std::string variant =
        opts.suffix == "vnni" && opts.bf16Dot ? "bf16" : "generic";
    rw.replaceOp(op, cb.finish(k, variant, outTy, opts.tasks));
    return success();
  }
};

/// The elementwise ops after a float convolution that its kernel's
/// epilogue computes (Kernels.def's conv2d_f32 steps): a chain, each op
/// the only user of the one before, of qc.relu, qc.leakyrelu, qc.clip,
/// qc.max / qc.min with a one-element constant, and at most one qc.add of a
/// tensor of the same type (the residual). Each keeps the tensor's type.
struct F32Epilogue {
  enum Code {
    Add = QC_F32_EPI_ADD,
    Max = QC_F32_EPI_MAX,
    Min = QC_F32_EPI_MIN,
    Leaky = QC_F32_EPI_LEAKY
  };
  static constexpr size_t kMaxSteps = QC_F32_EPI_MAX_STEPS;
  SmallVector<Operation *> ops;
  SmallVector<float> steps; // (code, constant) pairs
  Value res;
};

F32Epilogue fusableF32Epilogue(Value y) {
  F32Epilogue e;
  auto scalar = [](Value v) -> std::optional<float> {
    std::optional<std::vector<float>> vals = constantValues<float>(v);
    if (!vals || vals->size() != 1)
      return std::nullopt;
    return vals->front();
  };
  Value cur = y;
  while (cur.hasOneUse()) {
    Operation *user = *cur.getUsers().begin();
    if (user->getNumResults() != 1 ||
        user->getResult(0).getType() != cur.getType())
      break;
    SmallVector<float> steps;
    Value res;
    if (isa<qc::ReluOp>(user)) {
      steps = {F32Epilogue::Max, 0.0f};
    } else if (auto leaky = dyn_cast<qc::LeakyReluOp>(user)) {
      steps = {F32Epilogue::Leaky, leaky.getAlpha().convertToFloat()};
    } else if (auto clip = dyn_cast<qc::ClipOp>(user)) {
      ValueRange bounds = clip.getBounds();
      for (auto [i, b] : llvm::enumerate(bounds)) {
        std::optional<float> c = scalar(b);
        if (!c || i > 1) {
          steps.clear();
          break;
        }
        steps.append({float(i ? F32Epilogue::Min : F32Epilogue::Max), *c});
      }
      if (steps.empty() && !bounds.empty())
        break;
    } else if (isa<qc::MaxOp, qc::MinOp>(user)) {
      Value other = user->getOperand(user->getOperand(0) == cur ? 1 : 0);
      std::optional<float> c = scalar(other);
      if (!c || other == cur)
        break;
      steps = {
          float(isa<qc::MaxOp>(user) ? F32Epilogue::Max : F32Epilogue::Min),
          *c};
    } else if (isa<qc::AddOp>(user)) {
      res = user->getOperand(user->getOperand(0) == cur ? 1 : 0);
      if (e.res || res == cur || res.getType() != cur.getType())
        break;
      steps = {F32Epilogue::Add, 0.0f};
    } else {
      break;
    }
    if (e.steps.size() / 2 + steps.size() / 2 > F32Epilogue::kMaxSteps)
      break;
    if (res)
      e.res = res;
    e.steps.append(steps);
    e.ops.push_back(user);
    cur = user->getResult(0);
  }
  return e;
}

/// A qc.maxpool of float windows that do not overlap (strides equal to the
/// kernel, no padding, dilation 1, floor mode, no indices) on `v`,
/// its only user: the window's (height, width), or none.
std::optional<std::pair<int64_t, int64_t>> fusablePool(Value v,
                                                       qc::MaxPoolOp &pool) {
  if (!v.hasOneUse())
    return std::nullopt;
  pool = dyn_cast<qc::MaxPoolOp>(*v.getUsers().begin());
  if (!pool || pool.getAutoPad() != "NOTSET" || pool.getIndices() ||
      pool.getCeilMode().value_or(0) != 0)
    return std::nullopt;
  ArrayRef<int64_t> k = pool.getKernelShape();
  auto yTy = dyn_cast<RankedTensorType>(pool.getY().getType());
  if (k.size() != 2 || !yTy || !yTy.hasStaticShape())
    return std::nullopt;
  auto all = [](std::optional<ArrayRef<int64_t>> a, int64_t v) {
    return !a || llvm::all_of(*a, [&](int64_t x) { return x == v; });
  };
  std::optional<ArrayRef<int64_t>> strides = pool.getStrides();
  if (!strides || *strides != k || !all(pool.getPads(), 0) ||
      !all(pool.getDilations(), 1))
    return std::nullopt;
  return std::make_pair(k[0], k[1]);
}

/// A float 2-d qc.conv, group 1 or depthwise (one input and one output
/// channel per group), with constant weights (and bias): one call of
/// qc_k_conv2d_f32_avx512, the elementwise ops after it that its epilogue
/// computes (fusableF32Epilogue) fused in. The weights are passed as they
/// are ([F][K]).
struct ConvF32ToKernel : OpRewritePattern<qc::ConvOp> {
  unsigned tasks;
  ConvF32ToKernel(MLIRContext *ctx, unsigned tasks)
      : OpRewritePattern(ctx, /*benefit=*/2), tasks(tasks) {}

  LogicalResult matchAndRewrite(qc::ConvOp op,
                                PatternRewriter &rw) const override {
    auto xTy = dyn_cast<RankedTensorType>(op.getX().getType());
    auto wTy = dyn_cast<RankedTensorType>(op.getW().getType());
    auto yTy = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!xTy || !wTy || !yTy || !xTy.hasStaticShape() ||
        !yTy.hasStaticShape() || xTy.getRank() != 4 ||
        !xTy.getElementType().isF32() || op.getAutoPad() != "NOTSET" ||
        anyEmpty({xTy, wTy, yTy}))
      return rw.notifyMatchFailure(op,
                                   "float kernels take static 2-d f32 convs");
    int64_t group = op.getGroup();
    if (group != 1 && (group != xTy.getDimSize(1) || group != wTy.getDimSize(0)))
      return rw.notifyMatchFailure(
          op, "float kernels take group 1 or depthwise convs");
    if (!op.getW().getDefiningOp<arith::ConstantOp>() ||
        (op.getB() && !op.getB().getDefiningOp<arith::ConstantOp>()))
      return rw.notifyMatchFailure(op, "weights and bias must be constants");
    SmallVector<int64_t> pads(
        op.getPads().value_or(ArrayRef<int64_t>{0, 0, 0, 0}));
    SmallVector<int64_t> strides(
        op.getStrides().value_or(ArrayRef<int64_t>{1, 1}));
    SmallVector<int64_t> dil(
        op.getDilations().value_or(ArrayRef<int64_t>{1, 1}));
    Location loc = op.getLoc();
    F32Epilogue epi = fusableF32Epilogue(op.getY());
    Operation *last = epi.ops.empty() ? op.getOperation() : epi.ops.back();
    // A max pool after it, where the kernel's blocks hold whole windows.
    qc::MaxPoolOp pool;
    int64_t poolH = 0, poolW = 0;
    RankedTensorType outTy = yTy;
    if (auto win = fusablePool(last->getResult(0), pool);
        win && !epi.res &&
        qc_conv2d_f32_pool_fusable(
            xTy.getDimSize(1), xTy.getDimSize(2), xTy.getDimSize(3),
            wTy.getDimSize(2), wTy.getDimSize(3), yTy.getDimSize(2),
            yTy.getDimSize(3), strides[0], strides[1], pads[0], pads[1], group,
            win->first, win->second) &&
        cast<RankedTensorType>(pool.getY().getType()).getShape() ==
            ArrayRef<int64_t>{yTy.getDimSize(0), yTy.getDimSize(1),
                              yTy.getDimSize(2) / win->first,
                              yTy.getDimSize(3) / win->second}) {
      std::tie(poolH, poolW) = *win;
      epi.ops.push_back(pool);
      last = pool;
      outTy = cast<RankedTensorType>(pool.getY().getType());
    }
    // At the last fused op: the residual may be defined after the conv.
    rw.setInsertionPoint(last);
    CallBuilder cb(rw, loc);
    cb.macs = yTy.getNumElements() * wTy.getNumElements() / wTy.getDimSize(0);
    conv2d_f32_call k;
    k.batch = cb.i(xTy.getDimSize(0));
    k.C = cb.i(xTy.getDimSize(1));
    k.H = cb.i(xTy.getDimSize(2));
    k.W = cb.i(xTy.getDimSize(3));
    k.F = cb.i(wTy.getDimSize(0));
    k.KH = cb.i(wTy.getDimSize(2));
    k.KW = cb.i(wTy.getDimSize(3));
    k.OH = cb.i(yTy.getDimSize(2));
    k.OW = cb.i(yTy.getDimSize(3));
    k.sh = cb.i(strides[0]);
    k.sw = cb.i(strides[1]);
    k.ph = cb.i(pads[0]);
    k.pw = cb.i(pads[1]);
    k.dh = cb.i(dil[0]);
    k.dw = cb.i(dil[1]);
    k.groups = cb.i(group);
    k.x = cb.tensor(op.getX());
    k.w = cb.tensor(op.getW());
    k.bias = op.getB() ? cb.tensor(op.getB()) : cb.null();
    k.res = epi.res ? cb.tensor(epi.res) : cb.null();
    k.steps = epi.steps.empty() ? cb.null()
                                : cb.blob<float>(epi.steps, rw.getF32Type(),
                                                 "qc_kernel_epilogue");
    k.nsteps = cb.i(int64_t(epi.steps.size() / 2));
    k.poolH = cb.i(poolH);
    k.poolW = cb.i(poolW);
    rw.replaceOp(last, cb.finish(k, "avx512", outTy, tasks));
    if (epi.ops.empty())
      return success();
    for (Operation *fused : llvm::reverse(ArrayRef(epi.ops).drop_back()))
      rw.eraseOp(fused);
    rw.eraseOp(op);
    return success();
  }
};

/// A float qc.matmul: constant B packed here in 64-column blocks, or an
/// activation B with matching (or no) batch.
struct MatMulF32ToKernel : OpRewritePattern<qc::MatMulOp> {
  unsigned tasks;
  MatMulF32ToKernel(MLIRContext *ctx, unsigned tasks)
      : OpRewritePattern(ctx, /*benefit=*/2), tasks(tasks) {}

  LogicalResult matchAndRewrite(qc::MatMulOp op,
                                PatternRewriter &rw) const override {
    auto aTy = dyn_cast<RankedTensorType>(op.getA().getType());
    auto bTy = dyn_cast<RankedTensorType>(op.getB().getType());
    auto yTy = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!aTy || !bTy || !yTy || !aTy.hasStaticShape() ||
        !bTy.hasStaticShape() || !yTy.hasStaticShape() || aTy.getRank() < 2 ||
        bTy.getRank() < 2 || !aTy.getElementType().isF32() ||
        !bTy.getElementType().isF32() || anyEmpty({aTy, bTy, yTy}))
      return rw.notifyMatchFailure(op,
                                   "float kernels take static f32 matrices");
    int64_t K = aTy.getDimSize(aTy.getRank() - 1),
            N = bTy.getDimSize(bTy.getRank() - 1);
    int64_t M = yTy.getDimSize(yTy.getRank() - 2),
            batch = yTy.getNumElements() / (M * N);
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
    cb.macs = batch * rows * N * K;
    matmul_f32_call k;
    k.batch = cb.i(batch);
    k.M = cb.i(rows);
    k.N = cb.i(N);
    k.K = cb.i(K);
    k.a = cb.tensor(op.getA());
    k.aStride = cb.i(*aStride);
    if (b) {
      std::vector<float> packed = qc::kernels::packMatmulBF32(b->data(), K, N);
      k.b = cb.blob<float>(packed, rw.getF32Type(), "qc_kernel_weights");
      k.bStride = cb.i(0);
      k.bPacked = cb.i(1);
    } else {
      k.b = cb.tensor(op.getB());
      k.bStride = cb.i(*bStride);
      k.bPacked = cb.i(0);
    }
    k.bias = cb.null(); // the Add after a MatMul stays its own op
    rw.replaceOp(op, cb.finish(k, "avx512", yTy, tasks));
    return success();
  }
};

/// A non-empty static f32 tensor of rank >= 1 (the row kernels' operand), or
/// null.
RankedTensorType staticRowsF32(Value v) {
  auto ty = dyn_cast<RankedTensorType>(v.getType());
  if (!ty || !ty.hasStaticShape() || !ty.getElementType().isF32() ||
      ty.getRank() < 1 || ty.getNumElements() == 0)
    return {};
  return ty;
}

/// qc.hadamard on static f32 tensors: one call of qc_k_hadamard_f32_avx512
/// (all butterfly stages and the factor per block of 16 rows in cache,
/// instead of a pass over the tensor per stage).
struct HadamardToKernel : OpRewritePattern<qc::HadamardOp> {
  unsigned tasks;
  HadamardToKernel(MLIRContext *ctx, unsigned tasks)
      : OpRewritePattern(ctx, /*benefit=*/2), tasks(tasks) {}

  LogicalResult matchAndRewrite(qc::HadamardOp op,
                                PatternRewriter &rw) const override {
    RankedTensorType ty = staticRowsF32(op.getInput());
    if (!ty)
      return rw.notifyMatchFailure(op, "the kernel takes static f32 tensors");
    if (Value f = op.getFactor())
      if (!tensorType(f).hasStaticShape() ||
          !tensorType(f).getElementType().isF32())
        return rw.notifyMatchFailure(op,
                                     "the factor must be a static f32 tensor");
    int64_t n = ty.getShape().back(), m = op.getFactorSize();
    CallBuilder cb(rw, op.getLoc());
    hadamard_f32_call k;
    k.rows = cb.i(ty.getNumElements() / n);
    k.m = cb.i(m);
    k.p = cb.i(n / m);
    k.x = cb.tensor(op.getInput());
    k.factor = op.getFactor() ? cb.tensor(op.getFactor()) : cb.null();
    rw.replaceOp(op, cb.finish(k, "avx512", ty, tasks));
    return success();
  }
};

/// qc.softmax over the last axis of a static f32 tensor: one call of
/// qc_k_softmax_f32_avx512 (vector exponentials and sums; the generic
/// lowering's float reductions stay scalar, 14% of BERT-base int8).
struct SoftmaxToKernel : OpRewritePattern<qc::SoftmaxOp> {
  unsigned tasks;
  SoftmaxToKernel(MLIRContext *ctx, unsigned tasks)
      : OpRewritePattern(ctx, /*benefit=*/2), tasks(tasks) {}

  LogicalResult matchAndRewrite(qc::SoftmaxOp op,
                                PatternRewriter &rw) const override {
    RankedTensorType ty = staticRowsF32(op.getInput());
    if (!ty)
      return rw.notifyMatchFailure(op, "the kernel takes static f32 tensors");
    int64_t axis = op.getAxisAttr().getInt();
    if (axis < 0)
      axis += ty.getRank();
    if (axis != ty.getRank() - 1)
      return rw.notifyMatchFailure(op, "the kernel reduces the last axis");
    int64_t n = ty.getShape().back();
    CallBuilder cb(rw, op.getLoc());
    softmax_f32_call k;
    k.rows = cb.i(ty.getNumElements() / n);
    k.n = cb.i(n);
    k.x = cb.tensor(op.getInput());
    rw.replaceOp(op, cb.finish(k, "avx512", ty, tasks));
    return success();
  }
};

} // namespace

namespace {

/// Declares each kernel that a call under `module` names, with the
/// signature of Kernels.def.
LogicalResult declareKernels(ModuleOp module) {
  SmallVector<func::CallOp> calls;
  module.walk([&](func::CallOp call) {
    if (call.getCallee().starts_with("qc_k_"))
      calls.push_back(call);
  });
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  for (func::CallOp call : calls) {
    if (module.lookupSymbol(call.getCalleeAttr()))
      continue;
    std::optional<SmallVector<Type>> params =
        kernelSignature(call.getCallee(), module.getContext());
    if (!params)
      return call.emitOpError()
             << "calls @" << call.getCallee()
             << ", which include/qc/Kernels/Kernels.def does not list";
    auto fn = func::FuncOp::create(b, call.getLoc(), call.getCallee(),
                                   b.getFunctionType(*params, {}));
    fn.setPrivate();
  }
  return success();
}

/// lowbit-kernels=popcount: AND + popcount needs activations of two levels
/// (binary); the other #qc.lowbit products take the table-lookup kernel
/// where this machine runs it faster (as auto), and say so with
/// report-choices.
void notePopcountFallbacks(ModuleOp module) {
  module.walk([](Operation *op) {
    auto lb = op->getAttrOfType<qc::LowBitAttr>("lowbit");
    if (!lb || lb.hasBinaryActivations() ||
        !isa<qc::MatMulIntOp, qc::ConvIntOp>(op))
      return;
    op->emitRemark() << "lowbit-kernels=popcount: the activations of this "
                        "product are not binary (" << op->getOperand(0).getType()
                     << "); it takes the lut or int8 kernel instead";
  });
}

struct LowerToMicrokernelsPass
    : qc::impl::LowerToMicrokernelsBase<LowerToMicrokernelsPass> {
  using LowerToMicrokernelsBase::LowerToMicrokernelsBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    unsigned tasks = std::max(1u, unsigned(kernelTasks));
    RewritePatternSet patterns(ctx);
    if (const char *suffix =
            qc::kernels::variantSuffix(int8Kernels.getValue())) {
      // An lvalue: each pattern copies it.
      KernelOptions options{suffix, tasks};
      options.reportChoices = reportChoices;
      options.bytePermutes = bytePermutes;
      options.bf16Dot = bf16Dot;
      options.residualAdds = residualAdds;
      options.lowbit = lowbitKernels.getValue();
      if (options.lowbit == LowBitMethod::Popcount && reportChoices)
        notePopcountFallbacks(getOperation());
      patterns.add<IntOpToKernel<qc::ConvIntOp>, IntOpToKernel<qc::MatMulIntOp>,
                   RequantizeToKernel, GroupScaledToKernel, MatMulMxToKernel,
                   MatMulFp8ToKernel>(ctx, options);
      patterns.add<SplitWideProduct<qc::ConvIntOp>,
                   SplitWideProduct<qc::MatMulIntOp>>(ctx);
    }
    if (f32Kernels.getValue() == F32ISA::AVX512)
      patterns.add<ConvF32ToKernel, MatMulF32ToKernel, HadamardToKernel,
                   SoftmaxToKernel>(ctx, tasks);
    if (patterns.getNativePatterns().empty())
      return;
    ModuleOp module = getOperation();
    GreedyRewriteConfig config;
    config.enableFolding(false);
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(module, std::move(patterns), config)) ||
        failed(declareKernels(module)))
      signalPassFailure();
  }
};

} // namespace
