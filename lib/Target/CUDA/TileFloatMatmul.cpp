//===- TileFloatMatmul.cpp - f32 matmuls through shared memory ------------===//
//
// A bufferized f32 linalg.batch_matmul (or linalg.matmul, batch 1) becomes a
// gpu.launch of 64x64 output tiles per block: 256 threads, each a 4x4
// register tile at rows ty + 16 i and columns tx + 16 j (ty = tid / 16,
// tx = tid % 16), K in steps of 16 staged in shared memory:
//
//   As[16][65]: A's 64x16 tile transposed (k major; the odd row length
//               keeps the transposing stores free of bank conflicts; a
//               warp's reads As[k][ty + 16 i] are two broadcasts),
//   Bs[16][64]: B's 16x64 tile as it is (coalesced loads, conflict-free
//               reads Bs[k][tx + 16 j]).
//
// Each output starts from C's value (the zero fill before the product) and
// adds a[k] * b[k] for k = 0, 1, ... in order, a multiply then an add (no
// contraction): the arithmetic, and so the bits, of the one-thread-per-output
// loop this replaces. Out-of-range rows, columns and k read 0 (an extra
// + 0 * 0 leaves every sum as it was, but a -0 initial value).
//
//===----------------------------------------------------------------------===//
#include "qc/Target/CUDA/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace qc::cuda {
#define GEN_PASS_DEF_TILEFLOATMATMUL
#include "qc/Target/CUDA/Passes.h.inc"
} // namespace qc::cuda

using namespace mlir;

namespace {

constexpr int64_t kTile = 64, kStep = 16, kThreads = 256, kPer = 4;

bool plainF32(Value v, int64_t rank) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && t.getRank() == rank && t.hasStaticShape() &&
         t.getLayout().isIdentity() && !t.getMemorySpace() &&
         t.getElementType().isF32();
}

struct Product {
  Operation *op;
  Value a, b, c;
  int64_t batch, m, n, k;
};

std::optional<Product> match(Operation *op) {
  auto lin = dyn_cast<linalg::LinalgOp>(op);
  if (!lin || !lin.hasPureBufferSemantics() || lin->getParentOfType<gpu::LaunchOp>())
    return std::nullopt;
  int64_t rank;
  MLIRContext *ctx = op->getContext();
  if (auto mm = dyn_cast<linalg::MatmulOp>(op)) {
    if (mm.getCast() != linalg::TypeFn::cast_signed ||
        mm.getIndexingMapsArray() !=
            linalg::MatmulOp::getDefaultIndexingMaps(ctx))
      return std::nullopt;
    rank = 2;
  } else if (auto bm = dyn_cast<linalg::BatchMatmulOp>(op)) {
    if (bm.getIndexingMapsArray() !=
        linalg::BatchMatmulOp::getDefaultIndexingMaps(ctx))
      return std::nullopt;
    rank = 3;
  } else {
    return std::nullopt;
  }
  Value a = lin.getDpsInputs()[0], b = lin.getDpsInputs()[1],
        c = lin.getDpsInits()[0];
  if (!plainF32(a, rank) || !plainF32(b, rank) || !plainF32(c, rank))
    return std::nullopt;
  ArrayRef<int64_t> sa = cast<MemRefType>(a.getType()).getShape();
  ArrayRef<int64_t> sb = cast<MemRefType>(b.getType()).getShape();
  int64_t off = rank - 2;
  Product p{op, a, b, c, rank == 3 ? sa[0] : 1, sa[off], sb[off + 1],
            sa[off + 1]};
  if (p.m * p.n * p.batch < kTile * kTile)
    return std::nullopt; // too small to be worth a tile
  return p;
}

class Builder {
public:
  Builder(OpBuilder &b, Location loc, const Product &p)
      : b(b), loc(loc), p(p),
        rank(isa<linalg::BatchMatmulOp>(p.op) ? 3 : 2) {}

  void build() {
    MLIRContext *ctx = b.getContext();
    Type f32 = b.getF32Type();
    auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    auto aTy = MemRefType::get({kStep, kTile + 1}, f32,
                               MemRefLayoutAttrInterface(), wg);
    auto bTy =
        MemRefType::get({kStep, kTile}, f32, MemRefLayoutAttrInterface(), wg);
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
    zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));

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
        Value v = guardedLoad(p.a, add(m0, row), add(k0, kk), p.m, p.k);
        memref::StoreOp::create(b, loc, v, sA, ValueRange{kk, row});
      }
      // B: element e, k e / 64, column e % 64.
      for (int64_t r = 0; r < kTile * kStep / kThreads; ++r) {
        Value e = add(tid, r * kThreads);
        Value kk = divu(e, kTile), col = remu(e, kTile);
        Value v = guardedLoad(p.b, add(k0, kk), add(n0, col), p.k, p.n);
        memref::StoreOp::create(b, loc, v, sB, ValueRange{kk, col});
      }
      gpu::BarrierOp::create(b, loc);
      SmallVector<Value> acc(loop.getRegionIterArgs());
      for (int64_t kk = 0; kk < kStep; ++kk) {
        SmallVector<Value> av, bv;
        for (int64_t i = 0; i < kPer; ++i)
          av.push_back(memref::LoadOp::create(
              b, loc, sA, ValueRange{cst(kk), add(ty, i * 16)}));
        for (int64_t j = 0; j < kPer; ++j)
          bv.push_back(memref::LoadOp::create(
              b, loc, sB, ValueRange{cst(kk), add(tx, j * 16)}));
        for (int64_t i = 0; i < kPer; ++i)
          for (int64_t j = 0; j < kPer; ++j) {
            Value prod = arith::MulFOp::create(b, loc, av[i], bv[j]);
            Value &s = acc[i * kPer + j];
            s = arith::AddFOp::create(b, loc, s, prod);
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
  static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
  Value cst(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, cst(y)) : x; }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, cst(y));
  }
  Value divu(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, cst(y));
  }
  Value remu(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, cst(y));
  }
  Value ult(Value x, int64_t y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, cst(y));
  }

  SmallVector<Value> indices(Value row, Value col) {
    if (rank == 3)
      return {batch, row, col};
    return {row, col};
  }

  /// mat[row, col] (of this block's batch), or 0 outside rows x cols: the
  /// load reads element 0 then, and the select drops it.
  Value guardedLoad(Value mat, Value row, Value col, int64_t rows,
                    int64_t cols) {
    Value ok = arith::AndIOp::create(b, loc, ult(row, rows), ult(col, cols));
    Value c0 = cst(0);
    Value r = arith::SelectOp::create(b, loc, ok, row, c0);
    Value c = arith::SelectOp::create(b, loc, ok, col, c0);
    Value v = memref::LoadOp::create(b, loc, mat, indices(r, c));
    return arith::SelectOp::create(b, loc, ok, v, zero);
  }

  OpBuilder &b;
  Location loc;
  const Product &p;
  int64_t rank;
  Value tid, m0, n0, batch, zero;
};

struct TileFloatMatmulPass
    : qc::cuda::impl::TileFloatMatmulBase<TileFloatMatmulPass> {
  void runOnOperation() override {
    SmallVector<Product> products;
    getOperation()->walk([&](Operation *op) {
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
