//===- PlanBuffers.cpp - one arena per function, offsets by liveness -----===//
//
// After bufferization and the deallocation pipeline, every intermediate
// tensor of a model is a memref.alloc at the function's top level freed by a
// memref.dealloc after its last use. This pass plans them statically: each
// such buffer's live range is the span of top-level ops from its allocation
// to the last op that uses it (or a view, cast or pointer taken of it);
// buffers whose ranges do not overlap may share bytes. Offsets are assigned
// greedily, largest buffer first, each at the lowest 64-byte aligned offset
// that no overlapping buffer placed before it occupies. The function then
// allocates one arena of the planned size on entry, every planned buffer
// becomes a memref.view of it, and the arena is freed before the return.
//
//===----------------------------------------------------------------------===//
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/DenseMap.h"

namespace qc {
#define GEN_PASS_DEF_PLANBUFFERS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

constexpr int64_t kAlign = 64;

struct Buffer {
  memref::AllocOp alloc;
  SmallVector<Operation *> deallocs;
  int64_t bytes = 0;
  unsigned start = 0, end = 0; // top-level op positions, inclusive
  int64_t offset = -1;
  /// Bound into another buffer (a slice of a concatenation): its index and
  /// the byte offset inside it; -1 for a buffer planned on its own.
  int parent = -1;
  int64_t within = 0;
  /// Byte ranges of this buffer that bound buffers occupy.
  SmallVector<std::pair<int64_t, int64_t>> bound;
};

/// The byte offset of `sv`'s slice in its source when the slice is one
/// contiguous run of a static identity-layout buffer (leading unit dims,
/// then whole trailing dims: a concatenation's input along its axis).
std::optional<int64_t> contiguousSlice(memref::SubViewOp sv) {
  auto src = sv.getSourceType();
  if (!src.hasStaticShape() || !src.getLayout().isIdentity() ||
      !sv.getDroppedDims().none())
    return std::nullopt;
  ArrayRef<int64_t> offsets = sv.getStaticOffsets(),
                    sizes = sv.getStaticSizes(),
                    strides = sv.getStaticStrides();
  ArrayRef<int64_t> shape = src.getShape();
  if (llvm::any_of(offsets, ShapedType::isDynamic) ||
      llvm::any_of(sizes, ShapedType::isDynamic) ||
      llvm::any_of(strides, [](int64_t s) { return s != 1; }))
    return std::nullopt;
  size_t d = 0;
  while (d < shape.size() && sizes[d] == 1)
    ++d;
  for (size_t e = d + 1; e < shape.size(); ++e)
    if (sizes[e] != shape[e])
      return std::nullopt;
  int64_t linear = 0;
  for (size_t e = 0; e < shape.size(); ++e)
    linear = linear * shape[e] + offsets[e];
  return linear * (src.getElementTypeBitWidth() / 8);
}

/// Bytes of a static, identity-layout memref in the default memory space
/// whose elements are whole bytes; 0 when the buffer cannot be planned.
int64_t plannableBytes(MemRefType t) {
  if (!t.hasStaticShape() || !t.getLayout().isIdentity() ||
      t.getMemorySpace() || !t.getElementType().isIntOrIndexOrFloat() ||
      t.getElementType().isIndex())
    return 0;
  unsigned bits = t.getElementTypeBitWidth();
  if (bits % 8 != 0)
    return 0;
  return t.getNumElements() * (bits / 8);
}

/// The last top-level position at which `alloc`'s buffer is used, following
/// every value derived from it by ops without memory effects (views, casts,
/// the pointer the kernel calls take). Fails when a derived value leaves
/// through a terminator or enters a region-branching op as an operand (a
/// loop's iteration argument): its lifetime is then not the block's to decide.
FailureOr<unsigned> lastUse(memref::AllocOp alloc, Block &block,
                            const DenseMap<Operation *, unsigned> &pos,
                            SmallVectorImpl<Operation *> &deallocs) {
  unsigned last = pos.lookup(alloc);
  SmallVector<Value> work{alloc.getResult()};
  DenseSet<Value> seen{alloc.getResult()};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::DeallocOp>(user)) {
        if (v != alloc.getResult() || user->getBlock() != &block)
          return failure(); // freed through an alias or conditionally
        deallocs.push_back(user);
        continue;
      }
      if (user->hasTrait<OpTrait::IsTerminator>() ||
          isa<RegionBranchOpInterface>(user))
        return failure();
      Operation *anc = block.findAncestorOpInBlock(*user);
      if (!anc)
        return failure();
      last = std::max(last, pos.lookup(anc));
      if (isMemoryEffectFree(user) || isa<ViewLikeOpInterface>(user))
        for (Value r : user->getResults())
          if (seen.insert(r).second)
            work.push_back(r);
    }
  }
  if (deallocs.empty())
    return failure(); // not proven local by the deallocation pipeline
  return last;
}

struct PlanBuffersPass : qc::impl::PlanBuffersBase<PlanBuffersPass> {
  /// memref.copy %a -> subview(%d) with %a and %d planned, %a last used by
  /// the copy and the subview one contiguous run of %d: %a is placed in %d
  /// at the run's offset and the copy goes (a concatenation's producers
  /// write their slices in place). %d's uses before the copy must be slices
  /// written by copies (the other inputs), and the runs bound must not
  /// overlap; %d's live range grows to cover %a's.
  void bindConcatenations(Block &block,
                          const DenseMap<Operation *, unsigned> &pos,
                          SmallVectorImpl<Buffer> &buffers) {
    DenseMap<Operation *, int> index;
    for (auto [i, b] : llvm::enumerate(buffers))
      index[b.alloc] = i;
    auto writtenSlice = [](Operation *op) {
      auto sv = dyn_cast<memref::SubViewOp>(op);
      return sv && llvm::all_of(sv->getUses(), [&](OpOperand &u) {
               auto c = dyn_cast<memref::CopyOp>(u.getOwner());
               return c && c.getTarget() == sv.getResult();
             });
    };
    for (Operation &op : llvm::make_early_inc_range(block)) {
      auto copy = dyn_cast<memref::CopyOp>(op);
      if (!copy)
        continue;
      auto src = copy.getSource().getDefiningOp<memref::AllocOp>();
      auto sv = copy.getTarget().getDefiningOp<memref::SubViewOp>();
      if (!src || !sv || !sv->hasOneUse() || sv->getBlock() != &block)
        continue;
      auto dst = sv.getSource().getDefiningOp<memref::AllocOp>();
      if (!dst || !index.count(src) || !index.count(dst))
        continue;
      int si = index[src], di = index[dst];
      Buffer &s = buffers[si], &d = buffers[di];
      if (s.parent >= 0 || !s.bound.empty() || d.parent >= 0 ||
          s.end != pos.lookup(copy))
        continue;
      std::optional<int64_t> at = contiguousSlice(sv);
      int64_t align = src.getAlignment().value_or(1);
      if (!at || *at % align != 0 || s.bytes != sv.getType().getNumElements() *
                                                    (sv.getType().getElementTypeBitWidth() / 8))
        continue;
      if (llvm::any_of(d.bound, [&](std::pair<int64_t, int64_t> r) {
            return r.first < *at + s.bytes && *at < r.second;
          }))
        continue;
      bool onlySlicesBefore = llvm::all_of(dst->getUses(), [&](OpOperand &u) {
        Operation *anc = block.findAncestorOpInBlock(*u.getOwner());
        return !anc || !anc->isBeforeInBlock(copy) ||
               writtenSlice(u.getOwner());
      });
      if (!onlySlicesBefore)
        continue;
      s.parent = di;
      s.within = *at;
      d.bound.push_back({*at, *at + s.bytes});
      d.start = std::min(d.start, s.start);
      d.end = std::max(d.end, s.end);
      copy->erase();
      sv->erase();
      ++concatenated;
    }
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func.getBody().hasOneBlock())
      return;
    Block &block = func.getBody().front();
    DenseMap<Operation *, unsigned> pos;
    unsigned n = 0;
    for (Operation &op : block)
      pos[&op] = n++;

    SmallVector<Buffer> buffers;
    for (Operation &op : block) {
      auto alloc = dyn_cast<memref::AllocOp>(op);
      if (!alloc || !alloc.getDynamicSizes().empty() ||
          !alloc.getSymbolOperands().empty() ||
          alloc.getAlignment().value_or(1) > kAlign)
        continue;
      Buffer b;
      b.alloc = alloc;
      b.bytes = plannableBytes(alloc.getType());
      if (b.bytes <= 0)
        continue;
      FailureOr<unsigned> last = lastUse(alloc, block, pos, b.deallocs);
      if (failed(last))
        continue;
      b.start = pos[alloc];
      b.end = *last;
      buffers.push_back(std::move(b));
    }
    if (buffers.size() < 2)
      return;
    bindConcatenations(block, pos, buffers);

    // Largest first; each at the lowest aligned gap among the buffers
    // already placed whose live ranges overlap its own.
    SmallVector<Buffer *> order;
    for (Buffer &b : buffers)
      if (b.parent < 0)
        order.push_back(&b);
    llvm::stable_sort(order, [](Buffer *a, Buffer *b) {
      return a->bytes > b->bytes;
    });
    int64_t total = 0;
    SmallVector<Buffer *> placed;
    for (Buffer *b : order) {
      SmallVector<std::pair<int64_t, int64_t>> taken;
      for (Buffer *p : placed)
        if (p->start <= b->end && b->start <= p->end)
          taken.push_back({p->offset, p->offset + p->bytes});
      llvm::sort(taken);
      int64_t offset = 0;
      for (auto [lo, hi] : taken) {
        if (offset + b->bytes <= lo)
          break;
        offset = std::max<int64_t>(offset, llvm::alignTo(hi, kAlign));
      }
      b->offset = offset;
      total = std::max(total, offset + b->bytes);
      placed.push_back(b);
    }
    planned += buffers.size();
    arenaBytes += total;

    OpBuilder builder(&block, block.begin());
    Location loc = func.getLoc();
    auto arenaTy = MemRefType::get({total}, builder.getI8Type());
    Value arena = memref::AllocOp::create(builder, loc, arenaTy,
                                          builder.getI64IntegerAttr(kAlign));
    for (Buffer &b : buffers)
      if (b.parent >= 0)
        b.offset = buffers[b.parent].offset + b.within;
    DenseMap<int64_t, Value> offsets;
    for (Buffer &b : buffers) {
      Value &offset = offsets[b.offset];
      if (!offset)
        offset = arith::ConstantIndexOp::create(builder, loc, b.offset);
    }
    for (Buffer &b : buffers) {
      builder.setInsertionPoint(b.alloc);
      Value offset = offsets[b.offset];
      Value view = memref::ViewOp::create(builder, b.alloc.getLoc(),
                                          b.alloc.getType(), arena, offset,
                                          ValueRange{});
      for (Operation *d : b.deallocs)
        d->erase();
      b.alloc.getResult().replaceAllUsesWith(view);
      b.alloc->erase();
    }
    builder.setInsertionPoint(block.getTerminator());
    memref::DeallocOp::create(builder, loc, arena);
  }
};

} // namespace
