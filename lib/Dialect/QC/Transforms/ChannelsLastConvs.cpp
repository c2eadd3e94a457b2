//===- ChannelsLastConvs.cpp - int8 convolution chains in NHWC ------------===//
//
// channels-last-convs: regions of 2-d int8 convolutions and the elementwise
// integer ops between them run NHWC, with transposes at the regions' edges
// (Passes.td says which regions and why).
//
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/DenseSet.h"

namespace qc {
#define GEN_PASS_DEF_CHANNELSLASTCONVS
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// NCHW -> NHWC and back, as Transpose perms (result dim i = input dim p[i]).
constexpr int64_t kToLast[4] = {0, 2, 3, 1};
constexpr int64_t kToFirst[4] = {0, 3, 1, 2};

RankedTensorType permuted(RankedTensorType t, const int64_t (&perm)[4]) {
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(t.getDimSize(p));
  return t.clone(shape);
}

RankedTensorType staticTensor(Value v, int64_t rank) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() == rank && t.hasStaticShape() &&
                 t.getNumElements() > 0
             ? t
             : nullptr;
}

/// A convolution the int8 kernels run channels-last.
bool isConvertibleConv(Operation *op) {
  auto conv = dyn_cast<qc::ConvIntOp>(op);
  if (!conv || conv.getChannelsLast() || conv.getLowbitAttr() ||
      conv.getGroup() != 1)
    return false;
  RankedTensorType x = staticTensor(conv.getInput(), 4),
                   y = staticTensor(conv.getOutput(), 4);
  // Output channels are the kernel's columns, in blocks of 64: narrower or
  // partial blocks leave its register tile part empty, and the NCHW kernel
  // (channels as rows, 6 at a time) runs them faster (measured on the wake
  // embedding's 24-96 channels and PP-OCR's).
  if (!x || !y || y.getDimSize(1) % 64 != 0 ||
      x.getElementType().getIntOrFloatBitWidth() != 8 ||
      !matchPattern(conv.getWeight(), m_Constant()))
    return false;
  return !conv.getBias() || matchPattern(conv.getBias(), m_Constant());
}

/// An elementwise integer op that computes the same in either layout: its
/// result is 4-d and every operand 4-d (transposed with it, broadcast dims
/// too) or a scalar.
bool isLayoutFree(Operation *op) {
  if (!isa<qc::RequantizeOp, qc::TableOp, qc::ClampOp, qc::CastOp, qc::AddOp,
           qc::SubOp, qc::MulOp, qc::MaxOp, qc::MinOp>(op) ||
      op->getNumResults() != 1 || op->getNumRegions() != 0)
    return false;
  RankedTensorType out = staticTensor(op->getResult(0), 4);
  if (!out || !isa<IntegerType>(out.getElementType()))
    return false;
  return llvm::all_of(op->getOperands(), [](Value v) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    return t && t.hasStaticShape() && (t.getRank() == 0 || t.getRank() == 4);
  });
}

/// The operands of a region op that carry activations in its layout.
SmallVector<Value> layoutOperands(Operation *op) {
  if (auto conv = dyn_cast<qc::ConvIntOp>(op))
    return {conv.getInput()};
  SmallVector<Value> vs;
  for (Value v : op->getOperands())
    if (cast<RankedTensorType>(v.getType()).getRank() == 4)
      vs.push_back(v);
  return vs;
}

struct ChannelsLastConvs
    : qc::impl::ChannelsLastConvsBase<ChannelsLastConvs> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    SmallVector<Operation *> candidates;
    llvm::EquivalenceClasses<Operation *> regions;
    llvm::SmallPtrSet<Operation *, 32> isCandidate;
    fn.walk([&](Operation *op) {
      if (isConvertibleConv(op) || isLayoutFree(op)) {
        candidates.push_back(op);
        isCandidate.insert(op);
        regions.insert(op);
      }
    });
    for (Operation *op : candidates)
      for (Value v : layoutOperands(op))
        if (Operation *def = v.getDefiningOp(); def && isCandidate.count(def))
          regions.unionSets(op, def);

    // Per region: its convolutions, and the transposes it would need (one
    // per value entering it, one per value leaving it; constants entering
    // an elementwise op are transposed at no run-time cost that matters).
    llvm::DenseMap<Operation *, std::pair<int64_t, int64_t>> cost;
    llvm::DenseMap<Operation *, llvm::DenseSet<Value>> entering;
    for (Operation *op : candidates) {
      Operation *leader = regions.getLeaderValue(op);
      auto &[convs, edges] = cost[leader];
      convs += isa<qc::ConvIntOp>(op);
      for (Value v : layoutOperands(op)) {
        Operation *def = v.getDefiningOp();
        bool inside = def && isCandidate.count(def) &&
                      regions.getLeaderValue(def) == leader;
        if (!inside && !(def && matchPattern(def, m_Constant())) &&
            entering[leader].insert(v).second)
          ++edges;
      }
      if (llvm::any_of(op->getResult(0).getUsers(), [&](Operation *user) {
            return !isCandidate.count(user) ||
                   regions.getLeaderValue(user) != leader;
          }))
        ++edges;
    }
    auto converted = [&](Operation *op) {
      auto [convs, edges] = cost.lookup(regions.getLeaderValue(op));
      return convs > 0 && convs >= edges;
    };

    IRRewriter rw(&getContext());
    llvm::DenseMap<Value, Value> nhwc; // value -> its NHWC form
    auto toLast = [&](Value v) -> Value {
      if (Value t = nhwc.lookup(v))
        return t;
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointAfterValue(v);
      auto ty = cast<RankedTensorType>(v.getType());
      Value t = qc::TransposeOp::create(rw, v.getLoc(), permuted(ty, kToLast),
                                        v, rw.getDenseI64ArrayAttr(kToLast));
      nhwc[v] = t;
      return t;
    };
    SmallVector<Operation *> done;
    for (Operation *op : candidates) { // in program order
      if (!converted(op))
        continue;
      rw.setInsertionPoint(op);
      auto outTy = cast<RankedTensorType>(op->getResult(0).getType());
      Operation *now;
      if (auto conv = dyn_cast<qc::ConvIntOp>(op)) {
        now = qc::ConvIntOp::create(
            rw, conv.getLoc(), permuted(outTy, kToLast),
            toLast(conv.getInput()), conv.getWeight(), conv.getBias(),
            conv.getStrides(), conv.getPads(), conv.getDilations(),
            conv.getGroup(), conv.getInputZp(), conv.getWeightZp(),
            /*lowbit=*/nullptr, /*channels_last=*/true);
      } else {
        now = rw.clone(*op);
        for (OpOperand &o : now->getOpOperands())
          if (cast<RankedTensorType>(o.get().getType()).getRank() == 4)
            o.set(toLast(o.get()));
        now->getResult(0).setType(permuted(outTy, kToLast));
        // A per-channel requantization's axis moves with its dim.
        if (auto rq = dyn_cast<qc::RequantizeOp>(now);
            rq && rq.getMultiplier().size() > 1) {
          int64_t axis = rq.getAxis().value_or(1);
          axis = axis < 0 ? axis + 4 : axis;
          for (int64_t i = 0; i < 4; ++i)
            if (kToLast[i] == axis)
              rq.setAxis(i);
        }
      }
      nhwc[op->getResult(0)] = now->getResult(0);
      done.push_back(op);
    }
    // Values leaving a region: one transpose back for their other users.
    llvm::SmallPtrSet<Operation *, 32> doneSet(done.begin(), done.end());
    for (Operation *op : done) {
      Value old = op->getResult(0), now = nhwc.lookup(old);
      if (llvm::all_of(old.getUsers(),
                       [&](Operation *u) { return doneSet.count(u); }))
        continue;
      rw.setInsertionPointAfterValue(now);
      Value back = qc::TransposeOp::create(rw, old.getLoc(), old.getType(),
                                           now,
                                           rw.getDenseI64ArrayAttr(kToFirst));
      rw.replaceUsesWithIf(old, back, [&](OpOperand &use) {
        return !doneSet.count(use.getOwner());
      });
    }
    for (Operation *op : llvm::reverse(done))
      rw.eraseOp(op);
  }
};

} // namespace
