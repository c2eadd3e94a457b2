//===- TileFloatMatmul.cpp - matmuls through shared memory ----------------===//
//
// A bufferized contraction generic C[b, m, n] = body over k of (A[b, m, k],
// B[b, k, n] or B[k, n], C) with f32 or i32 accumulators (the named
// linalg.matmul / batch_matmul generalized, or what elementwise fusion made
// of them: a dequantization of i8 operands in the body) becomes a
// gpu.launch of 64x64 output tiles per block: 256 threads, each a 4x4
// register tile at rows ty + 16 i and columns tx + 16 j (ty = tid / 16,
// tx = tid % 16), K in steps of 16 staged in shared memory with the
// operands' own element types:
//
//   As[16][65]: A's 64x16 tile transposed (k major; the odd row length
//               keeps the transposing stores free of bank conflicts; a
//               warp's reads As[k][ty + 16 i] are two broadcasts),
//   Bs[16][64]: B's 16x64 tile as it is (coalesced loads, conflict-free
//               reads Bs[k][tx + 16 j]).
//
// Each output starts from C's value (the zero fill before the product) and
// applies the generic's body for k = 0, 1, ... in order: the arithmetic,
// and so the bits, of the one-thread-per-output loop this replaces. Rows
// and columns past the edges read 0 and are not stored; in the last step of
// a K that is not a multiple of 16 the products past K are skipped (the
// body of a zero-filled element need not be the identity).
//
//===----------------------------------------------------------------------===//
#include "qc/Target/CUDA/Passes.h"

#include "KernelArith.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace qc::cuda {
#define GEN_PASS_DEF_TILEFLOATMATMUL
#include "qc/Target/CUDA/Passes.h.inc"
} // namespace qc::cuda

using namespace mlir;

namespace {

constexpr int64_t kTile = 64, kStep = 16, kThreads = 256, kPer = 4;

bool plain(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && t.hasStaticShape() && t.getLayout().isIdentity() &&
         !t.getMemorySpace() && t.getElementType().isIntOrFloat() &&
         t.getElementType().getIntOrFloatBitWidth() <= 32;
}

/// A contraction generic C[b.., m, n] = body over k of (A[b.., m, k],
/// B[b.., k, n] or B[k, n], C): the named matmuls generalized, or what
/// elementwise fusion made of them (a dequantization in the body).
struct Product {
  linalg::GenericOp op;
  Value a, b, c;
  int64_t batch, m, n, k;
  bool batchedB;
};

std::optional<Product> match(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op->getParentOfType<gpu::LaunchOp>())
    return std::nullopt;
  unsigned loops = op.getNumLoops();
  if ((loops != 3 && loops != 4) || op.getNumReductionLoops() != 1 ||
      op.getIteratorTypesArray().back() != utils::IteratorType::reduction)
    return std::nullopt;
  Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1],
        c = op.getDpsInits()[0];
  if (!plain(a) || !plain(b) || !plain(c))
    return std::nullopt;
  Type out = cast<MemRefType>(c.getType()).getElementType();
  if (!out.isF32() && !out.isSignlessInteger(32))
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  unsigned rank = loops - 1; // of C
  auto dims = [&](ArrayRef<unsigned> ds) {
    SmallVector<AffineExpr> e;
    for (unsigned d : ds)
      e.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(loops, 0, e, ctx);
  };
  // Dims: batch (rank 3 only) 0, m rank - 2, n rank - 1, k rank.
  unsigned m = rank - 2, n = rank - 1, k = rank;
  SmallVector<unsigned> batchDims = rank == 3 ? SmallVector<unsigned>{0}
                                              : SmallVector<unsigned>{};
  auto with = [&](ArrayRef<unsigned> tail) {
    SmallVector<unsigned> ds(batchDims);
    ds.append(tail.begin(), tail.end());
    return ds;
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[0] != dims(with({m, k})) || maps[2] != dims(with({m, n})))
    return std::nullopt;
  bool batchedB = maps[1] == dims(with({k, n}));
  if (!batchedB && maps[1] != dims({k, n}))
    return std::nullopt;
  for (Operation &inner : op.getBody()->without_terminator())
    if (inner.getNumRegions() || isa<linalg::IndexOp>(inner) ||
        !isMemoryEffectFree(&inner))
      return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  Product p{op,        a,         b,         c,       rank == 3 ? ranges[0] : 1,
            ranges[m], ranges[n], ranges[k], batchedB};
  if (p.m * p.n * p.batch < kTile * kTile || p.k < kStep)
    return std::nullopt; // too small to be worth a tile
  return p;
}

class Builder : qc::cuda::KernelArith {
public:
  Builder(OpBuilder &b, Location loc, const Product &p)
      : KernelArith(b, loc), p(p),
        rank(linalg::GenericOp(p.op).getNumLoops() - 1) {}

  void build() {
    MLIRContext *ctx = b.getContext();
    auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    auto elem = [](Value v) {
      return cast<MemRefType>(v.getType()).getElementType();
    };
    auto aTy = MemRefType::get({kStep, kTile + 1}, elem(p.a),
                               MemRefLayoutAttrInterface(), wg);
    auto bTy = MemRefType::get({kStep, kTile}, elem(p.b),
                               MemRefLayoutAttrInterface(), wg);
    Value one = cst(1);
    auto launch = gpu::LaunchOp::create(
        b, loc, cst(ceilDiv(p.n, kTile)), cst(ceilDiv(p.m, kTile)),
        cst(p.batch), cst(kThreads), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        ValueRange(), TypeRange{aTy, bTy});
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    Value sA = launch.getWorkgroupAttributions()[0];
    Value sB = launch.getWorkgroupAttributions()[1];
    tid = launch.getThreadIds().x;
    Value ty = divu(tid, kTile / kPer), tx = remu(tid, kTile / kPer);
    m0 = mul(launch.getBlockIds().y, kTile);
    n0 = mul(launch.getBlockIds().x, kTile);
    batch = launch.getBlockIds().z;

    // The accumulators, from C.
    SmallVector<Value> init;
    for (int64_t i = 0; i < kPer; ++i)
      for (int64_t j = 0; j < kPer; ++j)
        init.push_back(guardedLoad(p.c, add(m0, add(ty, i * 16)),
                                   add(n0, add(tx, j * 16)), p.m, p.n));
    auto loop = scf::ForOp::create(b, loc, cst(0), cst(p.k), cst(kStep),
                                   init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value k0 = loop.getInductionVar();
      // A: element e = tid + 256 r of the 64x16 tile, row e / 16, k e % 16.
      for (int64_t r = 0; r < kTile * kStep / kThreads; ++r) {
        Value e = add(tid, r * kThreads);
        Value row = divu(e, kStep), kk = remu(e, kStep);
        Value v = guardedLoad(p.a, add(m0, row), add(k0, kk), p.m, p.k, true);
        memref::StoreOp::create(b, loc, v, sA, ValueRange{kk, row});
      }
      // B: element e, k e / 64, column e % 64.
      for (int64_t r = 0; r < kTile * kStep / kThreads; ++r) {
        Value e = add(tid, r * kThreads);
        Value kk = divu(e, kTile), col = remu(e, kTile);
        Value v =
            guardedLoad(p.b, add(k0, kk), add(n0, col), p.k, p.n, p.batchedB);
        memref::StoreOp::create(b, loc, v, sB, ValueRange{kk, col});
      }
      gpu::BarrierOp::create(b, loc);
      SmallVector<Value> acc(loop.getRegionIterArgs());
      for (int64_t kk = 0; kk < kStep; ++kk) {
        // The last step of a K that is not a multiple of 16 stops at K.
        scf::IfOp tail;
        OpBuilder::InsertionGuard kg(b);
        if (p.k % kStep != 0) {
          Value inK = ult(add(k0, kk), p.k);
          SmallVector<Type> types(acc.size(), acc[0].getType());
          tail = scf::IfOp::create(b, loc, types, inK, /*withElse=*/true);
          b.setInsertionPointToStart(&tail.getElseRegion().front());
          scf::YieldOp::create(b, loc, acc);
          b.setInsertionPointToStart(&tail.getThenRegion().front());
        }
        SmallVector<Value> av, bv, next;
        for (int64_t i = 0; i < kPer; ++i)
          av.push_back(memref::LoadOp::create(
              b, loc, sA, ValueRange{cst(kk), add(ty, i * 16)}));
        for (int64_t j = 0; j < kPer; ++j)
          bv.push_back(memref::LoadOp::create(
              b, loc, sB, ValueRange{cst(kk), add(tx, j * 16)}));
        for (int64_t i = 0; i < kPer; ++i)
          for (int64_t j = 0; j < kPer; ++j)
            next.push_back(step(av[i], bv[j], acc[i * kPer + j]));
        if (tail) {
          scf::YieldOp::create(b, loc, next);
          acc.assign(tail.getResults().begin(), tail.getResults().end());
        } else {
          acc = next;
        }
      }
      gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, acc);
    }
    for (int64_t i = 0; i < kPer; ++i)
      for (int64_t j = 0; j < kPer; ++j) {
        Value row = add(m0, add(ty, i * 16)), col = add(n0, add(tx, j * 16));
        Value ok = arith::AndIOp::create(b, loc, ult(row, p.m), ult(col, p.n));
        auto guard = scf::IfOp::create(b, loc, ok, /*withElse=*/false);
        OpBuilder::InsertionGuard ig(b);
        b.setInsertionPointToStart(&guard.getThenRegion().front());
        memref::StoreOp::create(b, loc, loop.getResult(i * kPer + j), p.c,
                                indices(row, col));
      }
  }

private:
  SmallVector<Value> indices(Value row, Value col, bool batched = true) {
    if (rank == 3 && batched)
      return {batch, row, col};
    return {row, col};
  }

  /// The generic's body on (a, b, acc): the new accumulator.
  Value step(Value a, Value bv, Value acc) {
    Block *body = linalg::GenericOp(p.op).getBody();
    IRMapping map;
    map.map(body->getArgument(0), a);
    map.map(body->getArgument(1), bv);
    map.map(body->getArgument(2), acc);
    for (Operation &op : body->without_terminator())
      b.clone(op, map);
    return map.lookupOrDefault(body->getTerminator()->getOperand(0));
  }

  /// mat[row, col] (of this block's batch), or 0 outside rows x cols: the
  /// load reads element 0 then, and the select drops it.
  Value guardedLoad(Value mat, Value row, Value col, int64_t rows,
                    int64_t cols, bool batched = true) {
    Value ok = arith::AndIOp::create(b, loc, ult(row, rows), ult(col, cols));
    Value c0 = cst(0);
    Value r = arith::SelectOp::create(b, loc, ok, row, c0);
    Value c = arith::SelectOp::create(b, loc, ok, col, c0);
    Value v = memref::LoadOp::create(b, loc, mat, indices(r, c, batched));
    Type t = v.getType();
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
    return arith::SelectOp::create(b, loc, ok, v, zero);
  }

  const Product &p;
  int64_t rank;
  Value tid, m0, n0, batch;
};

struct TileFloatMatmulPass
    : qc::cuda::impl::TileFloatMatmulBase<TileFloatMatmulPass> {
  void runOnOperation() override {
    // The named matmuls as generics, like the fused ones.
    SmallVector<linalg::LinalgOp> named;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          !op->getParentOfType<gpu::GPUModuleOp>())
        named.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : named) {
      rewriter.setInsertionPoint(op);
      (void)linalg::generalizeNamedOp(rewriter, op);
    }
    SmallVector<Product> products;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (op->getParentOfType<gpu::GPUModuleOp>())
        return;
      if (std::optional<Product> p = match(op))
        products.push_back(*p);
    });
    for (const Product &p : products) {
      OpBuilder b(p.op);
      Builder(b, p.op->getLoc(), p).build();
      p.op->erase();
    }
  }
};

} // namespace
