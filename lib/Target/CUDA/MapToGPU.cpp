//===- MapToGPU.cpp - host functions' loops and buffers onto the GPU ------===//
#include "qc/Conversion/EntryPoint.h"
#include "qc/Target/CUDA/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace qc::cuda {
#define GEN_PASS_DEF_MAPTOGPU
#include "qc/Target/CUDA/Passes.h.inc"
} // namespace qc::cuda

using namespace mlir;

namespace {

constexpr const char *kConstantFn = "qcCudaConstant";

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// ceil(a / b) for index values.
Value ceilDiv(OpBuilder &b, Location loc, Value a, Value bv) {
  return b.createOrFold<arith::CeilDivUIOp>(loc, a, bv);
}

/// A gpu.launch of grid x block threads (x only) before `at`; the builder is
/// left inside its body, before the terminator.
gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, Value grid,
                           Value block) {
  Value one = indexConst(b, loc, 1);
  auto launch = gpu::LaunchOp::create(b, loc, grid, one, one, block, one, one);
  b.setInsertionPointToStart(&launch.getBody().front());
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&launch.getBody().front());
  return launch;
}

/// Whether `op` may stay on the host: it computes addresses or descriptors
/// only, or reads the host's own argument array (the entry point's llvm
/// ops), never device memory.
bool staysOnHost(Operation *op) {
  if (isa<func::ReturnOp, UnrealizedConversionCastOp,
          memref::ExtractAlignedPointerAsIndexOp,
          memref::ExtractStridedMetadataOp, memref::CastOp,
          memref::ReinterpretCastOp, memref::AssumeAlignmentOp>(op))
    return true;
  if (isa<LLVM::LLVMDialect>(op->getDialect()))
    return true;
  if (isa<ViewLikeOpInterface>(op))
    return true;
  if (isa<gpu::GPUDialect>(op->getDialect()))
    return true;
  return isMemoryEffectFree(op) && op->getNumRegions() == 0;
}

struct MapToGPUPass : qc::cuda::impl::MapToGPUBase<MapToGPUPass> {
  using Base::Base;

  LLVM::LLVMFuncOp constantFn;
  /// The launches of mapParallel: their linear thread id and trip count.
  struct ParallelLaunch {
    gpu::LaunchOp launch;
    Value linear;
    int64_t total;
  };
  SmallVector<ParallelLaunch> parallelLaunches;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 1 || blockSize > 1024) {
      module.emitError() << "block-size " << int64_t(blockSize)
                         << " is not in [1, 1024]";
      return signalPassFailure();
    }
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(&getContext()));
    bool ok = true;
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (!fn.isExternal()) {
        hoistArgumentReads(fn);
        ok &= succeeded(mapRegion(fn.getBody()));
        if (ok)
          for (Block &block : fn.getBody())
            insertDeallocs(block);
        if (ok)
          fn.walk([&](gpu::LaunchOp launch) { promoteAccumulators(launch); });
        if (ok)
          for (ParallelLaunch &p : parallelLaunches)
            warpPerReduction(p);
        parallelLaunches.clear();
        if (ok)
          elideOutputCopies(fn);
        if (ok)
          nameKernels(fn);
      }
    if (!ok)
      signalPassFailure();
  }

  /// The ONNX node a location names (its first NameLoc), or "".
  static std::string nodeName(Location loc) {
    std::string name;
    loc->walk([&](Location l) {
      if (auto named = dyn_cast<NameLoc>(l)) {
        name = named.getName().str();
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return name;
  }

  /// Names each launch's kernel after the ONNX node it computes (the
  /// kernel and its module, which gpu-kernel-outlining takes): profiles and
  /// the runtime's errors then say which node's kernel it was.
  static void nameKernels(func::FuncOp fn) {
    unsigned n = 0;
    MLIRContext *ctx = fn.getContext();
    fn.walk([&](gpu::LaunchOp launch) {
      if (launch.getFunctionAttr())
        return;
      std::string node = nodeName(launch.getLoc());
      if (node.empty())
        launch.getBody().walk([&](Operation *op) {
          node = nodeName(op->getLoc());
          return node.empty() ? WalkResult::advance()
                              : WalkResult::interrupt();
        });
      std::string name;
      for (char c : node.substr(0, 48))
        name += llvm::isAlnum(c) ? c : '_';
      name = "k" + std::to_string(n++) + (name.empty() ? "" : "_" + name);
      launch.setFunctionAttr(FlatSymbolRefAttr::get(ctx, name));
      launch.setModuleAttr(FlatSymbolRefAttr::get(ctx, name));
    });
  }

  /// Moves the entry point's reads of its argument array (llvm ops on the
  /// function's arguments and constants, and the casts of the buffers they
  /// give) to the top: they read host memory, and where they sat between
  /// launches the async region would wait for the stream there.
  static void hoistArgumentReads(func::FuncOp fn) {
    Block &entry = fn.getBody().front();
    Operation *insertAfter = nullptr;
    llvm::SmallPtrSet<Operation *, 16> hoisted;
    for (Operation &op : llvm::make_early_inc_range(entry)) {
      if (!isa<LLVM::LLVMDialect>(op.getDialect()) &&
          !isa<UnrealizedConversionCastOp>(op))
        continue;
      if (op.getNumRegions() || op.hasTrait<OpTrait::IsTerminator>())
        continue;
      bool fromArguments = llvm::all_of(op.getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return !def ? v.getParentBlock() == &entry
                    : hoisted.contains(def) || def->hasTrait<OpTrait::ConstantLike>();
      });
      if (!fromArguments)
        continue;
      for (Value v : op.getOperands())
        if (Operation *def = v.getDefiningOp();
            def && !hoisted.contains(def)) {
          // a constant: hoist it first
          if (insertAfter)
            def->moveAfter(insertAfter);
          else
            def->moveBefore(&entry, entry.begin());
          insertAfter = def;
          hoisted.insert(def);
        }
      if (insertAfter)
        op.moveAfter(insertAfter);
      else
        op.moveBefore(&entry, entry.begin());
      insertAfter = &op;
      hoisted.insert(&op);
    }
  }

  /// A result computed into a temporary device buffer, then copied whole
  /// into the caller's output buffer (bufferization does that when the
  /// producer wants a fresh buffer): the producer writes the output buffer
  /// instead, and the copy and the temporary go.
  static void elideOutputCopies(func::FuncOp fn) {
    Block &entry = fn.getBody().front();
    for (auto copy :
         llvm::make_early_inc_range(entry.getOps<gpu::MemcpyOp>())) {
      Value dst = copy.getDst(), src = copy.getSrc();
      auto cast = dst.getDefiningOp<UnrealizedConversionCastOp>();
      auto alloc = src.getDefiningOp<gpu::AllocOp>();
      if (!cast || !alloc || dst.getType() != src.getType() ||
          !dst.hasOneUse() || alloc->getBlock() != &entry ||
          !cast->isBeforeInBlock(alloc))
        continue;
      // The temporary's uses end at the copy (and its free after it).
      SmallVector<Operation *> frees;
      bool ok = true;
      for (Operation *user : src.getUsers()) {
        if (user == copy.getOperation())
          continue;
        if (isa<gpu::DeallocOp>(user)) {
          frees.push_back(user);
          continue;
        }
        Operation *ancestor = entry.findAncestorOpInBlock(*user);
        ok &= ancestor && ancestor->isBeforeInBlock(copy);
      }
      if (!ok)
        continue;
      for (Operation *f : frees)
        f->erase();
      copy.erase();
      src.replaceAllUsesWith(dst);
      alloc.erase();
    }
  }

  /// Keeps what a reduction loop accumulates through memory (a load of
  /// one element before, a store of it after, both at loop-invariant
  /// indices, and no other access to that buffer in the loop: the loops of
  /// a lowered contraction or convolution) in a register: the loop carries
  /// it, loaded before and stored after. Innermost loops first, so a nest
  /// of reduction loops keeps the sum in a register throughout.
  void promoteAccumulators(Operation *root) {
    SmallVector<scf::ForOp> loops;
    root->walk<WalkOrder::PostOrder>([&](scf::ForOp f) { loops.push_back(f); });
    IRRewriter rewriter(root->getContext());
    for (scf::ForOp forOp : loops) {
      bool changed = true;
      while (changed) {
        changed = false;
        for (auto store : forOp.getBody()->getOps<memref::StoreOp>()) {
          if (succeeded(promote(rewriter, forOp, store))) {
            changed = true;
            break;
          }
        }
      }
    }
  }

  LogicalResult promote(IRRewriter &rewriter, scf::ForOp &forOp,
                        memref::StoreOp store) {
    Value buffer = store.getMemref();
    ValueRange indices = store.getIndices();
    if (!llvm::all_of(indices,
                      [&](Value v) { return forOp.isDefinedOutsideOfLoop(v); }) ||
        !forOp.isDefinedOutsideOfLoop(buffer))
      return failure();
    memref::LoadOp load;
    for (auto l : forOp.getBody()->getOps<memref::LoadOp>())
      if (l.getMemref() == buffer && l.getIndices() == indices &&
          l->isBeforeInBlock(store)) {
        load = l;
        break;
      }
    if (!load)
      return failure();
    // No other access to the buffer, and nothing that may write memory
    // unseen, anywhere in the loop.
    WalkResult other = forOp.getBody()->walk([&](Operation *op) {
      if (op == load.getOperation() || op == store.getOperation())
        return WalkResult::advance();
      if (auto l = dyn_cast<memref::LoadOp>(op))
        return l.getMemref() == buffer ? WalkResult::interrupt()
                                       : WalkResult::advance();
      if (auto s = dyn_cast<memref::StoreOp>(op))
        return s.getMemref() == buffer ? WalkResult::interrupt()
                                       : WalkResult::advance();
      if (isMemoryEffectFree(op) || isa<scf::ForOp, scf::YieldOp, scf::IfOp>(op))
        return WalkResult::advance();
      return WalkResult::interrupt();
    });
    if (other.wasInterrupted())
      return failure();
    rewriter.setInsertionPoint(forOp);
    Value init = memref::LoadOp::create(rewriter, load.getLoc(), buffer,
                                        indices);
    Value stored = store.getValue();
    FailureOr<LoopLikeOpInterface> grown = forOp.replaceWithAdditionalYields(
        rewriter, ValueRange{init}, /*replaceInitOperandUsesInLoop=*/false,
        [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
          return SmallVector<Value>{stored};
        });
    if (failed(grown))
      return failure();
    forOp = cast<scf::ForOp>(grown->getOperation());
    rewriter.replaceAllUsesWith(load.getResult(),
                                forOp.getRegionIterArgs().back());
    rewriter.eraseOp(load);
    rewriter.eraseOp(store);
    rewriter.setInsertionPointAfter(forOp);
    memref::StoreOp::create(rewriter, forOp.getLoc(), forOp.getResults().back(),
                            buffer, indices);
    return success();
  }

  /// The identity of the reduction `combiner` (one operand the loop's
  /// accumulator), for the 32-bit types a warp shuffle moves; null if not
  /// one of these.
  static TypedAttr reductionIdentity(Operation *combiner, Type type) {
    Builder b(combiner->getContext());
    auto f = dyn_cast<Float32Type>(type);
    bool i = type.isSignlessInteger(32);
    if (!f && !i)
      return {};
    float inf = std::numeric_limits<float>::infinity();
    if (f && isa<arith::AddFOp>(combiner))
      return b.getF32FloatAttr(0.0f);
    if (f && isa<arith::MaxNumFOp, arith::MaximumFOp>(combiner))
      return b.getF32FloatAttr(-inf);
    if (f && isa<arith::MinNumFOp, arith::MinimumFOp>(combiner))
      return b.getF32FloatAttr(inf);
    if (i && isa<arith::AddIOp, arith::OrIOp, arith::XOrIOp, arith::MaxUIOp>(
                 combiner))
      return b.getI32IntegerAttr(0);
    if (i && isa<arith::MaxSIOp>(combiner))
      return b.getI32IntegerAttr(std::numeric_limits<int32_t>::min());
    if (i && isa<arith::MinSIOp>(combiner))
      return b.getI32IntegerAttr(std::numeric_limits<int32_t>::max());
    if (i && isa<arith::MinUIOp, arith::AndIOp>(combiner))
      return b.getI32IntegerAttr(-1);
    return {};
  }

  /// A warp per iteration of a parallel launch whose iteration is one long
  /// reduction loop (promoted: its sum loaded before, carried, stored
  /// after), when there are few iterations: LayerNorm's and Softmax's rows,
  /// one thread each, would leave most of the GPU idle and read their rows
  /// uncoalesced. The 32 lanes take every 32nd element from their lane,
  /// combine by xor shuffles, and store the same sum. Float sums then add
  /// in another order than the one-thread loop (integer ones are exact).
  void warpPerReduction(ParallelLaunch &p) {
    constexpr int64_t kWarp = 32;
    if (p.total > (int64_t(1) << 20) || blockSize % kWarp != 0)
      return;
    auto guard = dyn_cast_or_null<scf::IfOp>(
        p.launch.getBody().front().getTerminator()->getPrevNode());
    if (!guard || guard.getNumResults() != 0 || !guard.getElseRegion().empty())
      return;
    Block &then = guard.getThenRegion().front();
    scf::ForOp loop;
    memref::LoadOp init;
    memref::StoreOp result;
    for (Operation &op : then.without_terminator()) {
      if (auto f = dyn_cast<scf::ForOp>(op)) {
        if (loop)
          return;
        loop = f;
      } else if (auto l = dyn_cast<memref::LoadOp>(op)) {
        if (!loop && !init)
          init = l;
      } else if (auto s = dyn_cast<memref::StoreOp>(op)) {
        if (!loop || result)
          return;
        result = s;
      } else if (!isMemoryEffectFree(&op)) {
        return;
      }
    }
    if (!loop || !init || !result || loop.getNumRegionIterArgs() != 1 ||
        loop.getInitArgs()[0] != init.getResult() ||
        result.getValue() != loop.getResult(0) ||
        result.getMemref() != init.getMemref() ||
        result.getIndices() != init.getIndices() ||
        !init.getResult().hasOneUse() || !loop.getResult(0).hasOneUse())
      return;
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()),
                           ub = getConstantIntValue(loop.getUpperBound()),
                           step = getConstantIntValue(loop.getStep());
    if (!lb || !ub || !step || *step <= 0 || (*ub - *lb) / *step < kWarp)
      return;
    // The loop body only reads memory.
    bool pure = true;
    loop.getBody()->walk([&](Operation *op) {
      if (!isa<memref::LoadOp, scf::YieldOp>(op) && !isMemoryEffectFree(op))
        pure = false;
    });
    BlockArgument acc = loop.getRegionIterArgs()[0];
    Operation *combiner =
        loop.getBody()->getTerminator()->getOperand(0).getDefiningOp();
    if (!pure || !combiner || combiner->getNumOperands() != 2 ||
        combiner->getNumResults() != 1 ||
        llvm::count(combiner->getOperands(), Value(acc)) != 1 ||
        !acc.hasOneUse())
      return;
    TypedAttr identity = reductionIdentity(combiner, acc.getType());
    if (!identity)
      return;

    Location loc = p.launch.getLoc();
    OpBuilder b(p.launch);
    p.launch.getGridSizeXMutable().assign(
        indexConst(b, loc, (p.total * kWarp + blockSize - 1) / blockSize));
    // The warp's iteration replaces the thread's.
    b.setInsertionPointAfterValue(p.linear);
    Value warp = indexConst(b, loc, kWarp);
    Value row = arith::DivUIOp::create(b, loc, p.linear, warp);
    Value lane = arith::RemUIOp::create(b, loc, p.linear, warp);
    p.linear.replaceAllUsesExcept(
        row, SmallPtrSet<Operation *, 2>{row.getDefiningOp(),
                                         lane.getDefiningOp()});
    // The lane's elements: lb + lane * step, every 32 * step.
    b.setInsertionPoint(loop);
    loop.getLowerBoundMutable().assign(arith::AddIOp::create(
        b, loc, loop.getLowerBound(),
        arith::MulIOp::create(b, loc, lane, loop.getStep())));
    loop.getStepMutable().assign(indexConst(b, loc, *step * kWarp));
    loop.getInitArgsMutable()[0].assign(
        arith::ConstantOp::create(b, loc, identity));
    // Butterfly over the warp, then the initial value.
    b.setInsertionPointAfter(loop);
    Value sum = loop.getResult(0);
    auto combine = [&](Value x, Value y) -> Value {
      IRMapping map;
      map.map(combiner->getOperand(0), x);
      map.map(combiner->getOperand(1), y);
      return b.clone(*combiner, map)->getResult(0);
    };
    Value width = arith::ConstantIntOp::create(b, loc, b.getI32Type(), kWarp);
    for (int64_t offset = kWarp / 2; offset >= 1; offset /= 2) {
      Value off = arith::ConstantIntOp::create(b, loc, b.getI32Type(), offset);
      auto shuffle = gpu::ShuffleOp::create(b, loc, sum, off, width,
                                            gpu::ShuffleMode::XOR);
      sum = combine(sum, shuffle.getShuffleResult());
    }
    // The accumulator operand order of the original combiner.
    Value first = init.getResult();
    Value total = combiner->getOperand(0) == acc ? combine(first, sum)
                                                  : combine(sum, first);
    result.getValueMutable().assign(total);
  }

  /// The buffer `v` is a view of (through view-like ops), or `v`.
  static Value viewRoot(Value v) {
    while (Operation *def = v.getDefiningOp()) {
      auto view = dyn_cast<ViewLikeOpInterface>(def);
      if (!view || view.getViewSource() == v)
        break;
      v = view.getViewSource();
    }
    return v;
  }

  /// A copy of `v` (a static shape) in a new device buffer, cast back to
  /// v's type: a gpu.memcpy when v is contiguous, else a copy kernel.
  Value ownedCopy(OpBuilder &b, Location loc, Value v) {
    auto type = cast<MemRefType>(v.getType());
    auto dense = MemRefType::get(type.getShape(), type.getElementType());
    Value buffer = gpu::AllocOp::create(b, loc, dense, Type(), ValueRange(),
                                        ValueRange(), ValueRange())
                       .getMemref();
    if (type.getLayout().isIdentity()) {
      gpu::MemcpyOp::create(b, loc, Type(), ValueRange(), buffer, v);
      return buffer;
    }
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t d : type.getShape()) {
      lbs.push_back(indexConst(b, loc, 0));
      ubs.push_back(indexConst(b, loc, d));
      steps.push_back(indexConst(b, loc, 1));
    }
    auto par = scf::ParallelOp::create(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &nb, Location l, ValueRange ivs) {
          Value x = memref::LoadOp::create(nb, l, v, ivs);
          memref::StoreOp::create(nb, l, x, buffer, ivs);
        });
    (void)mapParallel(par);
    return memref::CastOp::create(b, loc, type, buffer);
  }

  /// Makes every memref `body` yields one the body owns (a buffer it
  /// allocated, or for a loop the iteration value it passes through
  /// unchanged), copying the others. Returns whether all are owned: then
  /// the results of the op are its parent's to free.
  bool ownYields(Block &body, ArrayRef<BlockArgument> iterArgs) {
    auto yield = cast<scf::YieldOp>(body.getTerminator());
    bool all = true;
    for (OpOperand &operand : yield->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type)
        continue;
      unsigned i = operand.getOperandNumber();
      if (i < iterArgs.size() && operand.get() == iterArgs[i])
        continue;
      Value root = viewRoot(operand.get());
      auto alloc = root.getDefiningOp<gpu::AllocOp>();
      if (alloc && alloc->getBlock() == &body && root == operand.get())
        continue;
      if (!type.hasStaticShape()) {
        all = false;
        continue;
      }
      OpBuilder b(yield);
      operand.set(ownedCopy(b, yield.getLoc(), operand.get()));
    }
    return all;
  }

  /// Frees each device buffer `block` owns (its gpu.allocs, `owned` (a
  /// loop body's iteration values), the owned results of its scf.ifs and
  /// scf.fors) after its last use in the block, through any view of it; a
  /// buffer the block yields is its parent's to free. (The host code is
  /// structured: the buffer deallocation pipeline's ownership bookkeeping,
  /// host memory the kernels cannot see, is not needed.) A loop owns copies
  /// of its initial values, and each iteration frees the values it was
  /// given once it is done with them.
  void insertDeallocs(Block &block, SmallVector<Value> owned = {}) {
    for (Operation &op : block) {
      if (auto alloc = dyn_cast<gpu::AllocOp>(&op))
        owned.push_back(alloc.getMemref());
      if (auto ifOp = dyn_cast<scf::IfOp>(&op)) {
        bool all = true;
        for (Region *region :
             {&ifOp.getThenRegion(), &ifOp.getElseRegion()}) {
          if (region->empty())
            continue;
          all &= ownYields(region->front(), {});
          insertDeallocs(region->front());
        }
        if (all)
          for (Value r : ifOp.getResults())
            if (isa<MemRefType>(r.getType()))
              owned.push_back(r);
      }
      if (auto forOp = dyn_cast<scf::ForOp>(&op)) {
        bool all = true;
        SmallVector<Value> iterOwned;
        for (auto [init, arg] :
             llvm::zip(forOp.getInitArgsMutable(), forOp.getRegionIterArgs())) {
          auto type = dyn_cast<MemRefType>(init.get().getType());
          if (!type)
            continue;
          if (!type.hasStaticShape()) {
            all = false;
            continue;
          }
          OpBuilder b(forOp);
          init.set(ownedCopy(b, forOp.getLoc(), init.get()));
          iterOwned.push_back(arg);
        }
        all &= ownYields(*forOp.getBody(),
                         SmallVector<BlockArgument>(forOp.getRegionIterArgs()));
        insertDeallocs(*forOp.getBody(), iterOwned);
        if (all)
          for (Value r : forOp.getResults())
            if (isa<MemRefType>(r.getType()))
              owned.push_back(r);
      }
    }
    for (Value buffer : owned) {
      SmallVector<Value> work{buffer};
      Operation *last = nullptr;
      if (Operation *def = buffer.getDefiningOp())
        last = def;
      bool keep = false;
      while (!work.empty()) {
        Value v = work.pop_back_val();
        for (OpOperand &use : v.getUses()) {
          Operation *user = use.getOwner();
          if (isa<gpu::DeallocOp, memref::DeallocOp>(user) ||
              (user->getBlock() == &block &&
               user->hasTrait<OpTrait::IsTerminator>())) {
            keep = true;
            continue;
          }
          if (auto view = dyn_cast<ViewLikeOpInterface>(user);
              view && view.getViewSource() == v)
            for (Value r : user->getResults())
              if (isa<BaseMemRefType>(r.getType()))
                work.push_back(r);
          Operation *ancestor = block.findAncestorOpInBlock(*user);
          if (ancestor && (!last || last->isBeforeInBlock(ancestor)))
            last = ancestor;
        }
      }
      if (keep)
        continue;
      OpBuilder b(buffer.getContext());
      if (last)
        b.setInsertionPointAfter(last);
      else
        b.setInsertionPointToStart(&block);
      gpu::DeallocOp::create(b, buffer.getLoc(), Type(), ValueRange(),
                             buffer);
    }
  }

  LogicalResult mapRegion(Region &region) {
    for (Block &block : region)
      if (failed(mapBlock(block)))
        return failure();
    return success();
  }

  LogicalResult mapBlock(Block &block) {
    SmallVector<Operation *> run; // consecutive ops for one thread
    auto flush = [&]() {
      if (!run.empty())
        wrapSingleThread(run);
      run.clear();
    };
    for (Operation &opRef : llvm::make_early_inc_range(block)) {
      Operation *op = &opRef;
      if (auto par = dyn_cast<scf::ParallelOp>(op)) {
        flush();
        if (failed(mapParallel(par)))
          return failure();
        continue;
      }
      if (isa<memref::AllocOp, memref::DeallocOp, memref::GetGlobalOp,
              memref::CopyOp, memref::AllocaOp>(op)) {
        flush();
        if (failed(mapBuffer(op)))
          return failure();
        continue;
      }
      // A loop around parallel work (an LSTM's time steps) stays on the
      // host, its body mapped in place.
      if (auto forOp = dyn_cast<scf::ForOp>(op);
          forOp && forOp->walk([](scf::ParallelOp) {
                          return WalkResult::interrupt();
                        }).wasInterrupted()) {
        flush();
        if (failed(mapRegion(forOp.getRegion())))
          return failure();
        continue;
      }
      // A reshape to a static shape needs no shape read from memory.
      if (auto reshape = dyn_cast<memref::ReshapeOp>(op)) {
        auto to = reshape.getType();
        auto from = cast<MemRefType>(reshape.getSource().getType());
        if (to.hasStaticShape() && to.getLayout().isIdentity() &&
            from.getLayout().isIdentity()) {
          OpBuilder b(reshape);
          SmallVector<int64_t> strides(to.getRank(), 1);
          for (int64_t d = to.getRank() - 2; d >= 0; --d)
            strides[d] = strides[d + 1] * to.getDimSize(d + 1);
          Value cast = memref::ReinterpretCastOp::create(
              b, reshape.getLoc(), to, reshape.getSource(), 0, to.getShape(),
              strides);
          reshape.replaceAllUsesWith(cast);
          reshape.erase();
          continue;
        }
      }
      if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
        // The branch is taken on the host: a condition the single thread
        // computed is copied back first. The branches' work is mapped in
        // place (their buffers are device buffers).
        Value cond = ifOp.getCondition();
        Operation *def = cond.getDefiningOp();
        if (def && llvm::is_contained(run, def))
          ifOp.getConditionMutable().assign(conditionToHost(cond, run));
        flush();
        if (failed(mapRegion(ifOp.getThenRegion())) ||
            failed(mapRegion(ifOp.getElseRegion())))
          return failure();
        continue;
      }
      bool usesRun = llvm::any_of(op->getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return def && llvm::is_contained(run, def);
      });
      if (op->hasTrait<OpTrait::IsTerminator>()) {
        if (usesRun)
          return op->emitError() << "cannot run on the GPU: this host op "
                                    "uses a value computed from device memory";
        flush();
        continue;
      }
      // Pure arithmetic on what the single thread read joins it.
      if (staysOnHost(op) && !(usesRun && isMemoryEffectFree(op) &&
                               op->getNumRegions() == 0 &&
                               !isa<LLVM::LLVMDialect>(op->getDialect()))) {
        if (usesRun)
          return op->emitError() << "cannot run on the GPU: this host op "
                                    "uses a value computed from device memory";
        continue;
      }
      run.push_back(op);
    }
    flush();
    return success();
  }

  /// `cond`, computed by the pending single-thread `run`, on the host: the
  /// run stores it into a device byte, copied into a host one after the
  /// launch.
  Value conditionToHost(Value cond, SmallVectorImpl<Operation *> &run) {
    Operation *last = run.back();
    OpBuilder b(run.front());
    Location loc = cond.getLoc();
    auto byteTy = MemRefType::get({}, b.getI8Type());
    Value device = gpu::AllocOp::create(b, loc, byteTy, Type(), ValueRange(),
                                        ValueRange(), ValueRange())
                       .getMemref();
    b.setInsertionPointAfter(last);
    Value byte = arith::ExtUIOp::create(b, loc, b.getI8Type(), cond);
    auto store = memref::StoreOp::create(b, loc, byte, device, ValueRange());
    run.push_back(byte.getDefiningOp());
    run.push_back(store);
    // After the launch (made where the run starts): copy, free, read.
    b.setInsertionPointAfter(store);
    Value host = memref::AllocaOp::create(b, loc, byteTy);
    gpu::MemcpyOp::create(b, loc, Type(), ValueRange(), host, device);
    gpu::DeallocOp::create(b, loc, Type(), ValueRange(), device);
    Value read = memref::LoadOp::create(b, loc, host, ValueRange());
    return arith::TruncIOp::create(b, loc, b.getI1Type(), read);
  }

  void wrapSingleThread(ArrayRef<Operation *> ops) {
    OpBuilder b(ops.front());
    Location loc = ops.front()->getLoc();
    Value one = indexConst(b, loc, 1);
    gpu::LaunchOp launch = createLaunch(b, loc, one, one);
    Operation *terminator = launch.getBody().front().getTerminator();
    for (Operation *op : ops)
      op->moveBefore(terminator);
  }

  LogicalResult mapParallel(scf::ParallelOp par) {
    if (par.getNumResults() != 0)
      return par.emitError()
             << "cannot run on the GPU: a parallel loop with reductions";
    OpBuilder b(par);
    Location loc = par.getLoc();
    unsigned n = par.getNumLoops();
    SmallVector<Value> trips;
    Value total = indexConst(b, loc, 1);
    // Folded where the bounds are constants (they are, after bufferization
    // of static shapes): the kernel then divides by constants, not by
    // parameters.
    for (unsigned d = 0; d < n; ++d) {
      Value extent = b.createOrFold<arith::SubIOp>(
          loc, par.getUpperBound()[d], par.getLowerBound()[d]);
      Value trip = ceilDiv(b, loc, extent, par.getStep()[d]);
      trips.push_back(trip);
      total = b.createOrFold<arith::MulIOp>(loc, total, trip);
    }
    Value block = indexConst(b, loc, blockSize);
    Value grid = ceilDiv(b, loc, total, block);
    gpu::LaunchOp launch = createLaunch(b, loc, grid, block);
    Value linear = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, block),
        launch.getThreadIds().x);
    if (std::optional<int64_t> t = getConstantIntValue(total))
      parallelLaunches.push_back({launch, linear, *t});
    Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          linear, total);
    auto guard = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
    b.setInsertionPointToStart(&guard.getThenRegion().front());
    IRMapping mapping;
    Value rest = linear;
    for (int d = int(n) - 1; d >= 0; --d) {
      Value idx = d == 0 ? rest
                         : arith::RemUIOp::create(b, loc, rest, trips[d])
                               .getResult();
      if (d > 0)
        rest = arith::DivUIOp::create(b, loc, rest, trips[d]);
      Value iv = b.createOrFold<arith::AddIOp>(
          loc, par.getLowerBound()[d],
          b.createOrFold<arith::MulIOp>(loc, idx, par.getStep()[d]));
      mapping.map(par.getInductionVars()[d], iv);
    }
    for (Operation &op : par.getBody()->without_terminator())
      b.clone(op, mapping);
    par.erase();
    return success();
  }

  LLVM::LLVMFuncOp getConstantFn(OpBuilder &b) {
    if (constantFn)
      return constantFn;
    ModuleOp module = getOperation();
    if ((constantFn = module.lookupSymbol<LLVM::LLVMFuncOp>(kConstantFn)))
      return constantFn;
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(module.getBody());
    auto ptr = LLVM::LLVMPointerType::get(b.getContext());
    constantFn = LLVM::LLVMFuncOp::create(
        b, module.getLoc(), kConstantFn,
        LLVM::LLVMFunctionType::get(ptr, {ptr, b.getI64Type()}));
    return constantFn;
  }

  LogicalResult mapBuffer(Operation *op) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      auto g = gpu::AllocOp::create(b, loc, alloc.getType(), Type(),
                                    ValueRange(), alloc.getDynamicSizes(),
                                    alloc.getSymbolOperands());
      alloc.replaceAllUsesWith(g.getMemref());
      alloc.erase();
      return success();
    }
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      gpu::DeallocOp::create(b, loc, Type(), ValueRange(),
                             dealloc.getMemref());
      dealloc.erase();
      return success();
    }
    if (auto copy = dyn_cast<memref::CopyOp>(op)) {
      auto srcTy = cast<MemRefType>(copy.getSource().getType());
      auto dstTy = cast<MemRefType>(copy.getTarget().getType());
      if (srcTy.getLayout().isIdentity() && dstTy.getLayout().isIdentity()) {
        gpu::MemcpyOp::create(b, loc, Type(), ValueRange(), copy.getTarget(),
                              copy.getSource());
        copy.erase();
        return success();
      }
      wrapSingleThread({op});
      return success();
    }
    if (isa<memref::AllocaOp>(op))
      return op->emitError() << "cannot run on the GPU: a host stack buffer "
                                "(memref.alloca) outside the loops";
    auto get = cast<memref::GetGlobalOp>(op);
    MemRefType type = get.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return get.emitError() << "cannot upload the global @" << get.getName()
                             << " of type " << type;
    unsigned bits = type.getElementTypeBitWidth();
    int64_t bytes = type.getNumElements() * int64_t((bits + 7) / 8);
    LLVM::LLVMFuncOp fn = getConstantFn(b);
    Type i64 = b.getI64Type();
    auto ptr = LLVM::LLVMPointerType::get(b.getContext());
    b.setInsertionPointAfter(get);
    Value addr = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, get);
    Value addr64 = arith::IndexCastOp::create(b, loc, i64, addr);
    Value host = LLVM::IntToPtrOp::create(b, loc, ptr, addr64);
    Value size =
        LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(bytes));
    Value device =
        LLVM::CallOp::create(b, loc, fn, ValueRange{host, size}).getResult();
    Value wrapped = qc::wrapBuffer(b, loc, device, type);
    get.getResult().replaceAllUsesExcept(wrapped, addr.getDefiningOp());
    return success();
  }
};

} // namespace
