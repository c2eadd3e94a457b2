//===- Int8GemmToMMA.cpp - i8 GEMMs on the int8 tensor cores --------------===//
//
// A bufferized linalg.matmul of A[M, K] i8 by B[N, K] i8 (transposed map,
// static shapes, K a multiple of 16) into C[M, N] i32 becomes a gpu.launch
// whose tiling (TileConfig) is chosen by M:
//
//  - M > 64: blocks of 8 warps own a 128x128 tile of C; each warp 64x32 of
//    it, as 4x4 accumulators of mma.sync m16n8k32 (s8 x s8 -> s32,
//    wrapping); K advances in 64-wide steps through a 3-stage ring;
//  - M <= 16 / 32 / 64 (GEMV-like, bound by reading B once): 16x32 /
//    32x32 / 64x32 tiles of 2 / 4 / 4 warps, K in 256 / 128 / 128-wide
//    steps through 4- to 6-stage rings: N / 32 blocks, each with more
//    bytes in flight;
//  - the ring of shared-memory tiles is filled by cp.async 16-byte copies
//    stages - 1 steps ahead; out-of-range rows and columns are zero-filled
//    (cp.async with src-size 0), so any M and N work;
//  - the 16-byte chunks of a tile row are xor-swizzled by the row so that
//    ldmatrix reads 8 rows without bank conflicts;
//  - W4: when B is the result of a qc.w4_unpack generic (see
//    qc::cuda::kW4UnpackAttr) of a packed [N, K/2] constant, the kernel
//    copies the packed tiles (half the bytes), ldmatrix-loads one 16-byte
//    chunk per n8k32 fragment and expands each 32-bit word (8 nibbles) to
//    the fragment's two s8x4 registers with integer ops before mma.sync;
//  - MX (qc::cuda::kMxGemmAttr, from qc.matmul_mx of MXFP4 weights): B is
//    the packed E2M1 codes of a qc::cuda::kMxUnpackAttr generic, copied and
//    loaded as W4's; each 32-bit word's 8 codes become the fragment's two
//    s8x4 registers (2x the E2M1 values) by byte permutes (prmt) in
//    registers. Each k32 slice is one MX block: its mma.sync int32 sums
//    are shifted by the block's per-column shift and added to i64
//    accumulators, or, where the shifts bound every sum below 2^53, times
//    2^shift to f64 ones (exact either way, as the CPU kernel); the 16- to
//    64-row tiles only;
//  - MXFP6 (E2M3; a qc::cuda::kMx6UnpackAttr generic): the codes' low 4
//    bits are a nibble plane laid out as W4's, their e1 and sign bits a
//    second [N, K/4] plane with its own ring of shared-memory tiles; each
//    lane reads 16 bits of it per k32 slice and SWAR integer ops and
//    byte permutes make the s8x4 registers of 8x the E2M3 values;
//  - the epilogue writes each accumulator (guarded by M and N), through
//    the sole elementwise linalg.generic that consumes C when there is one
//    (bias, zero-point correction, requantization to i8): C is then never
//    written to memory.
//
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Target/CUDA/Passes.h"

#include "KernelArith.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace qc::cuda {
#define GEN_PASS_DEF_INT8GEMMTOMMA
#include "qc/Target/CUDA/Passes.h.inc"
} // namespace qc::cuda

using namespace mlir;

namespace {

/// The tiling of one kernel: a blockM x blockN tile of C a block, K in
/// blockK steps through a `stages`-deep ring of shared-memory tiles,
/// warpsM x warpsN warps each owning (blockM / warpsM) x (blockN / warpsN)
/// of the tile as m16n8 accumulators.
struct TileConfig {
  int64_t blockM, blockN, blockK, stages, warpsM, warpsN;

  int64_t threads() const { return 32 * warpsM * warpsN; }
  int64_t warpM() const { return blockM / warpsM; }
  int64_t warpN() const { return blockN / warpsN; }
  int64_t tilesM() const { return warpM() / 16; }
  int64_t tilesN() const { return warpN() / 8; }
  /// Bytes of one K row of B in shared memory (W4: packed, half).
  int64_t rowBytesB(bool w4) const { return w4 ? blockK / 2 : blockK; }
  /// MXFP6: bytes of one K row of B's top plane (2 bits a weight).
  int64_t rowBytesT(bool fp6) const { return fp6 ? blockK / 4 : 0; }
  int64_t sharedBytes(bool w4, bool fp6) const {
    return stages *
           (blockM * blockK + blockN * rowBytesB(w4) + blockN * rowBytesT(fp6));
  }
  /// Whether the builder below can generate it: whole m16 / n8 tiles per
  /// warp (B fragments by pairs, W4 by 1, 2 or 4), every copy of a stage
  /// a whole number of 16-byte chunks per thread (the MXFP6 top plane's:
  /// or fewer chunks than threads, a divisor), rows of a power of two
  /// chunks (the swizzle), static shared memory within 48 KiB.
  bool valid(bool w4, bool fp6) const {
    auto pow2 = [](int64_t v) { return v > 0 && (v & (v - 1)) == 0; };
    int64_t cA = blockK / 16, cB = rowBytesB(w4) / 16, cT = rowBytesT(fp6) / 16;
    return blockK % 32 == 0 && blockM % warpsM == 0 && blockN % warpsN == 0 &&
           warpM() % 16 == 0 && warpN() % 8 == 0 &&
           (w4 ? (tilesN() <= 2 || tilesN() % 4 == 0) : tilesN() % 2 == 0) &&
           pow2(cA) && pow2(cB) && (blockM * cA) % threads() == 0 &&
           (blockN * cB) % threads() == 0 &&
           (!fp6 || (pow2(cT) && ((blockN * cT) % threads() == 0 ||
                                  threads() % (blockN * cT) == 0))) &&
           stages >= 2 && sharedBytes(w4, fp6) <= 48 * 1024;
  }
};

/// The kernel configuration for M rows. Small M (GEMV-like, memory bound:
/// the weights are read once) takes a narrow N tile, so that N = 4096
/// makes 128 blocks for the 132 SMs of an H200, long K steps and a deep
/// ring (more bytes in flight per SM), and tiles of 16, 32 or 64 rows so
/// that few of the tensor cores' rows are padding. W4 tiles of B are half
/// the bytes: one more stage where it fits (MXFP6, with its top plane: where
/// that fits too).
TileConfig chooseConfig(int64_t m, bool w4, bool fp6) {
  if (m <= 16)
    return {16, 32, 256, w4 && !fp6 ? 5 : 4, 1, 2};
  if (m <= 32)
    return {32, 32, 128, w4 ? 6 : 5, 2, 2};
  if (m <= 64)
    return {64, 32, 128, w4 ? 4 : 3, 2, 2};
  return {128, 128, 64, 3, 2, 4};
}

/// The GEMM's operands, if `op` is one this pass runs.
struct Gemm {
  Operation *op; // the linalg.matmul, or the kFp8GemmAttr generic
  Value a, b, c;
  int64_t m, n, k;
  /// FP8: the PTX types of A and B ("e4m3" / "e5m2"); C is f32.
  StringRef fp8A, fp8B;
  bool isFp8() const { return !fp8A.empty(); }
  /// W4 and MX: B's packed form [N, K/2] and the generic unpacking it into
  /// B; MXFP6 (qc::cuda::kMx6UnpackAttr): also the top plane [N, K/4].
  Value bPacked, bTop;
  bool isMx6() const { return bool(bTop); }
  linalg::GenericOp unpack;
  /// MX (qc::cuda::kMxGemmAttr): the shifts [K/32, N] i8 of each block of 32
  /// k; C is i64.
  Value shifts;
  bool isMx() const { return bool(shifts); }
  /// MX: every partial sum is an integer below 2^53 in magnitude, so f64
  /// accumulators hold them exactly (cheaper than i64 shifts and adds).
  bool mxF64 = false;
};

bool contiguous(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && t.hasStaticShape() && t.getLayout().isIdentity() &&
         !t.getMemorySpace();
}

std::optional<Gemm> matchGemm(linalg::LinalgOp op) {
  StringRef fp8A, fp8B;
  bool mx = op->hasAttr(qc::cuda::kMxGemmAttr);
  if (auto mm = dyn_cast<linalg::MatmulOp>(op.getOperation())) {
    if (mm.getCast() != linalg::TypeFn::cast_signed)
      return std::nullopt;
  } else if (auto types = op->getAttrOfType<ArrayAttr>(qc::cuda::kFp8GemmAttr);
             types && types.size() == 2) {
    fp8A = cast<StringAttr>(types[0]).getValue();
    fp8B = cast<StringAttr>(types[1]).getValue();
  } else if (!mx) {
    return std::nullopt;
  }
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != (mx ? 3 : 2) ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1],
        c = op.getDpsInits()[0];
  if (!contiguous(a) || !contiguous(b) || !contiguous(c))
    return std::nullopt;
  auto aTy = cast<MemRefType>(a.getType()), bTy = cast<MemRefType>(b.getType()),
       cTy = cast<MemRefType>(c.getType());
  if (aTy.getRank() != 2 || bTy.getRank() != 2 || cTy.getRank() != 2 ||
      !aTy.getElementType().isSignlessInteger(8) ||
      !bTy.getElementType().isSignlessInteger(8) ||
      (mx             ? !cTy.getElementType().isSignlessInteger(64)
       : fp8A.empty() ? !cTy.getElementType().isSignlessInteger(32)
                      : !cTy.getElementType().isF32()))
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineExpr d0, d1, d2;
  bindDims(ctx, d0, d1, d2);
  auto want =
      mx ? AffineMap::inferFromExprList(
               ArrayRef<ArrayRef<AffineExpr>>{
                   {d0, d2}, {d1, d2}, {d2.floorDiv(32), d1}, {d0, d1}},
               ctx)
         : AffineMap::inferFromExprList(
               ArrayRef<ArrayRef<AffineExpr>>{{d0, d2}, {d1, d2}, {d0, d1}},
               ctx);
  if (op.getIndexingMapsArray() != want)
    return std::nullopt;
  Gemm g{
      op,   a,   b, c, aTy.getDimSize(0), bTy.getDimSize(0), aTy.getDimSize(1),
      fp8A, fp8B};
  if (g.k % 16 != 0 || bTy.getDimSize(1) != g.k || cTy.getDimSize(0) != g.m ||
      cTy.getDimSize(1) != g.n)
    return std::nullopt;
  if (mx) {
    Value s = op.getDpsInputs()[2];
    auto sTy = dyn_cast<MemRefType>(s.getType());
    if (g.k % 32 != 0 || !contiguous(s) ||
        !sTy.getElementType().isSignlessInteger(8) ||
        sTy.getShape() != ArrayRef<int64_t>{g.k / 32, g.n})
      return std::nullopt;
    g.shifts = s;
  }
  return g;
}

/// The qc::cuda::kW4UnpackAttr (MX: kMxUnpackAttr or kMx6UnpackAttr) generic
/// that is the only writer of B (a memref.alloc read by nothing but the
/// GEMM), from a packed [N, K/2] i8 constant (memref.get_global; MXFP6: and
/// the [N, K/4] top plane), earlier in the same block.
linalg::GenericOp w4Unpack(const Gemm &g) {
  if (g.k % 32 != 0 || !g.b.getDefiningOp<memref::AllocOp>())
    return {};
  linalg::GenericOp unpack;
  for (Operation *user : g.b.getUsers()) {
    if (user == g.op)
      continue;
    auto gen = dyn_cast<linalg::GenericOp>(user);
    if (!gen || unpack ||
        !(g.isMx() ? gen->hasAttr(qc::cuda::kMxUnpackAttr) ||
                         gen->hasAttr(qc::cuda::kMx6UnpackAttr)
                   : gen->hasAttr(qc::cuda::kW4UnpackAttr)))
      return {};
    unpack = gen;
  }
  unsigned planes = unpack && unpack->hasAttr(qc::cuda::kMx6UnpackAttr) ? 2 : 1;
  if (!unpack || unpack->getBlock() != g.op->getBlock() ||
      !unpack->isBeforeInBlock(g.op) || !unpack.hasPureBufferSemantics() ||
      unpack.getNumDpsInputs() != planes || unpack.getNumDpsInits() != 1 ||
      unpack.getDpsInits()[0] != g.b)
    return {};
  for (unsigned p = 0; p < planes; ++p) {
    Value packed = unpack.getDpsInputs()[p];
    auto ty = dyn_cast<MemRefType>(packed.getType());
    if (!contiguous(packed) || !packed.getDefiningOp<memref::GetGlobalOp>() ||
        !ty.getElementType().isSignlessInteger(8) ||
        ty.getShape() !=
            ArrayRef<int64_t>{g.n, p ? int64_t(llvm::alignTo(g.k / 4, 16))
                                     : g.k / 2})
      return {};
  }
  return unpack;
}

/// MX: whether |sum_b part_b << shift[b, n]| < 2^53 for every column, each
/// block's int32 part at most 32 * 128 * 12 (i8 activations, 2 x E2M1; MXFP6:
/// 32 * 128 * 60, 8 x E2M3), from the constant shifts (a memref.get_global
/// of a constant global).
bool mxSumsFitF64(const Gemm &g) {
  auto get = g.shifts.getDefiningOp<memref::GetGlobalOp>();
  if (!get)
    return false;
  auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
      get, get.getNameAttr());
  if (!global || !global.getConstant() || !global.getInitialValue())
    return false;
  std::optional<std::vector<int64_t>> sh =
      qc::readIntegerElements(*global.getInitialValue(), /*isSigned=*/true);
  if (!sh || int64_t(sh->size()) != g.k / 32 * g.n)
    return false;
  for (int64_t n = 0; n < g.n; ++n) {
    double bound = 0;
    for (int64_t b = 0; b < g.k / 32; ++b)
      if (int64_t s = (*sh)[b * g.n + n]; s >= 0)
        bound += 32.0 * 128 * (g.isMx6() ? 60 : 12) *
                 std::ldexp(1.0, int(std::min<int64_t>(s, 62)));
    if (!(bound < 0x1p53))
      return false;
  }
  return true;
}

/// A linalg.fill of zero into `c` before `op` in its block, with no other
/// use of `c` between them: the accumulation starts from zero.
linalg::FillOp zeroFillBefore(const Gemm &g) {
  Operation *op = g.op;
  Value c = g.c;
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (prev == g.unpack)
      continue; // writes only B
    if (auto fill = dyn_cast<linalg::FillOp>(prev);
        fill && fill.hasPureBufferSemantics() && fill.getDpsInits()[0] == c) {
      if (matchPattern(fill.getDpsInputs()[0], m_Zero()) ||
          matchPattern(fill.getDpsInputs()[0], m_PosZeroFloat()))
        return fill;
      return {};
    }
    if (llvm::is_contained(prev->getOperands(), c))
      return {};
    if (prev->getNumRegions() && !isMemoryEffectFree(prev))
      return {};
  }
  return {};
}

/// The elementwise generic that is the only other reader of `c` (defined by
/// a memref.alloc), later in the block with nothing between that could
/// write memory: its body becomes the kernel's epilogue.
linalg::GenericOp epilogueGeneric(const Gemm &g, linalg::FillOp fill) {
  if (!g.c.getDefiningOp<memref::AllocOp>())
    return {};
  linalg::GenericOp generic;
  for (Operation *user : g.c.getUsers()) {
    if (user == g.op || user == fill)
      continue;
    auto gen = dyn_cast<linalg::GenericOp>(user);
    if (!gen || (generic && generic != gen))
      return {};
    generic = gen;
  }
  if (!generic || generic->getBlock() != g.op->getBlock() ||
      !g.op->isBeforeInBlock(generic) || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInits() != 1 || generic.getNumLoops() != 2 ||
      generic.getNumParallelLoops() != 2)
    return {};
  for (Operation *op = g.op->getNextNode(); op != generic;
       op = op->getNextNode())
    if (!isMemoryEffectFree(op) &&
        !isa<memref::AllocOp, memref::GetGlobalOp, ViewLikeOpInterface>(op))
      return {};
  auto id = AffineMap::getMultiDimIdentityMap(2, generic.getContext());
  OpOperand *out = generic.getDpsInitOperand(0);
  if (!contiguous(out->get()) || generic.getMatchingIndexingMap(out) != id ||
      cast<MemRefType>(out->get().getType()).getShape() !=
          ArrayRef<int64_t>{g.m, g.n})
    return {};
  bool readsC = false;
  for (OpOperand *in : generic.getDpsInputOperands()) {
    if (!isa<MemRefType>(in->get().getType()))
      continue; // a scalar
    AffineMap map = generic.getMatchingIndexingMap(in);
    if (in->get() == g.c) {
      if (map != id)
        return {};
      readsC = true;
      continue;
    }
    for (AffineExpr e : map.getResults())
      if (!isa<AffineDimExpr, AffineConstantExpr>(e))
        return {};
  }
  if (!readsC)
    return {};
  for (Operation &op : generic.getBody()->without_terminator())
    if (op.getNumRegions() || isa<linalg::IndexOp>(op) ||
        !isMemoryEffectFree(&op))
      return {};
  return generic;
}

/// What every GEMM kernel builder shares: index arithmetic, the swizzled
/// cp.async tile copies and the epilogue's stores.
class GemmEmitter : protected qc::cuda::KernelArith {
public:
  GemmEmitter(OpBuilder &b, Location loc, const Gemm &g,
              linalg::GenericOp epilogue, bool accumulate)
      : KernelArith(b, loc), g(g), epilogue(epilogue),
        accumulate(accumulate) {}

protected:
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }

  /// The byte column of 16-byte chunk `chunk` of tile row `row` (rows of
  /// `chunks` chunks, a power of two) in shared memory: the chunk xor the
  /// row's 128-byte line (mod the chunks of a line), so that 8 consecutive
  /// rows' same chunk fall in 8 different 16-byte bank groups. 64-byte
  /// rows: chunk ^ ((row / 2) % 4); 128 bytes and more: chunk ^ (row % 8)
  /// (for 128-byte rows at a 1024-byte aligned base, the layout of the
  /// tensor cores' 128-byte swizzle mode).
  Value swizzled(Value row, Value chunk, int64_t chunks) {
    int64_t perLine = std::min<int64_t>(chunks, 8);
    int64_t rowsPerLine = 8 / perLine;
    if (perLine == 1)
      return mul(chunk, 16);
    Value line = rowsPerLine == 1
                     ? row
                     : arith::ShRUIOp::create(
                           b, loc, row, cst(llvm::Log2_64(rowsPerLine)));
    Value key = arith::AndIOp::create(b, loc, line, cst(perLine - 1));
    return mul(arith::XOrIOp::create(b, loc, chunk, key), 16);
  }

  /// One operand's K tile in shared memory: `rows` rows of `rowBytes`
  /// from matrix `mat` (`extent` rows of `kBytes`) at row `base`.
  struct TileCopy {
    Value tile, mat, base;
    int64_t extent, rows, rowBytes, kBytes;
  };

  /// cp.async of K-tile `kTile` of each operand into ring stage `stage`
  /// by `threads` threads; one commit group. Chunks outside the matrices
  /// read nothing and zero-fill.
  Value copyTiles(ArrayRef<TileCopy> copies, Value stage, Value kTile,
                  int64_t threads) {
    auto tokTy = nvgpu::DeviceAsyncTokenType::get(b.getContext());
    SmallVector<Value> tokens;
    for (const TileCopy &o : copies) {
      int64_t chunks = o.rowBytes / 16, total = o.rows * chunks;
      Value kBase = mul(kTile, o.rowBytes);
      // Fewer chunks than threads (a divisor): threads t and t + total copy
      // the same chunk, the same bytes.
      for (int64_t i = 0; i < ceilDiv(total, threads); ++i) {
        Value id = total < threads ? remu(tid, total) : add(tid, i * threads);
        Value row = divu(id, chunks);
        Value chunk = remu(id, chunks);
        Value col = add(kBase, mul(chunk, 16));
        Value r = add(o.base, row);
        Value ok = arith::AndIOp::create(b, loc, ult(col, o.kBytes),
                                         ult(r, o.extent));
        Value zero = cst(0);
        tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
            b, loc, tokTy, o.tile,
            ValueRange{stage, row, swizzled(row, chunk, chunks)}, o.mat,
            ValueRange{select(ok, r, zero), select(ok, col, zero)},
            b.getIndexAttr(16), select(ok, cst(16), zero), b.getUnitAttr()));
      }
    }
    return nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokTy, tokens);
  }

  /// Stores the m16n8 accumulator layout of mma.sync (and of each warp's
  /// 16 rows of wgmma): value r of n8 tile j, for tiles (i, j) of a
  /// tilesM x tilesN grid at (rowBase + 16 i, colBase + 8 j), is element
  /// (lane / 4 + (r / 2) * 8, (lane % 4) * 2 + r % 2) of the tile. Where
  /// N is even, values r and r + 1 (adjacent columns, the first even) are
  /// in range together and go out as one 2-element store.
  void writeFragments(ValueRange acc, Value rowBase, Value colBase,
                      int64_t tilesM, int64_t tilesN) {
    Value laneRow = divu(lane, 4);
    Value laneCol = mul(remu(lane, 4), 2);
    bool pairs = g.n % 2 == 0;
    for (int64_t i = 0; i < tilesM; ++i)
      for (int64_t j = 0; j < tilesN; ++j)
        for (int64_t r = 0; r < 4; r += pairs ? 2 : 1) {
          Value row = add(add(rowBase, laneRow), i * 16 + (r / 2) * 8);
          Value col = add(add(colBase, laneCol), j * 8 + r % 2);
          Value ok =
              arith::AndIOp::create(b, loc, ult(row, g.m), ult(col, g.n));
          auto guard = scf::IfOp::create(b, loc, ok, /*withElse=*/false);
          OpBuilder::InsertionGuard ig(b);
          b.setInsertionPointToStart(&guard.getThenRegion().front());
          Value v = acc[(i * tilesN + j) * 4 + r];
          if (!pairs) {
            store(v, row, col);
            continue;
          }
          Value first = finalValue(v, row, col);
          Value pair[2] = {first, finalValue(acc[(i * tilesN + j) * 4 + r + 1],
                                             row, add(col, 1))};
          auto vecTy = VectorType::get({2}, pair[0].getType());
          Value vec = vector::FromElementsOp::create(b, loc, vecTy, pair);
          int64_t bytes = 2 * llvm::divideCeil(
                                  pair[0].getType().getIntOrFloatBitWidth(), 8);
          vector::StoreOp::create(b, loc, vec, destination(),
                                  ValueRange{row, col}, /*nontemporal=*/false,
                                  llvm::MaybeAlign(bytes));
        }
  }

  /// What is stored at (row, col) for accumulator value `v`: C's old value
  /// added when accumulating, then the epilogue generic's body.
  Value finalValue(Value v, Value row, Value col);
  /// Where the results go: the epilogue's output, or C.
  Value destination() { return epilogue ? epilogue.getDpsInits()[0] : g.c; }
  void store(Value v, Value row, Value col) {
    memref::StoreOp::create(b, loc, finalValue(v, row, col), destination(),
                            ValueRange{row, col});
  }

  const Gemm &g;
  linalg::GenericOp epilogue;
  bool accumulate;
  Value tid, lane, m0, n0;
};

/// Builds the mma.sync kernel of one GEMM.
class KernelBuilder : GemmEmitter {
public:
  KernelBuilder(OpBuilder &b, Location loc, const Gemm &g,
                const TileConfig &cfg, linalg::GenericOp epilogue,
                bool accumulate)
      : GemmEmitter(b, loc, g, epilogue, accumulate), cfg(cfg),
        w4(bool(g.bPacked)) {}

  void build() {
    MLIRContext *ctx = b.getContext();
    Type i8 = b.getI8Type();
    auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    auto tileTy = MemRefType::get({cfg.stages, cfg.blockM, cfg.blockK}, i8,
                                  MemRefLayoutAttrInterface(), wg);
    auto tileTyB =
        MemRefType::get({cfg.stages, cfg.blockN, cfg.rowBytesB(w4)}, i8,
                        MemRefLayoutAttrInterface(), wg);
    SmallVector<Type> tiles{tileTy, tileTyB};
    if (g.isMx6())
      tiles.push_back(
          MemRefType::get({cfg.stages, cfg.blockN, cfg.rowBytesT(true)}, i8,
                          MemRefLayoutAttrInterface(), wg));
    Value one = cst(1);
    auto launch = gpu::LaunchOp::create(
        b, loc, cst(ceilDiv(g.n, cfg.blockN)), cst(ceilDiv(g.m, cfg.blockM)),
        one, cst(cfg.threads()), one, one,
        /*dynamicSharedMemorySize=*/nullptr,
        /*asyncTokenType=*/nullptr, ValueRange(), tiles);
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    sA = launch.getWorkgroupAttributions()[0];
    sB = launch.getWorkgroupAttributions()[1];
    if (g.isMx6())
      sT = launch.getWorkgroupAttributions()[2];
    tid = launch.getThreadIds().x;
    lane = remu(tid, 32);
    Value warp = divu(tid, 32);
    warpRow = mul(divu(warp, cfg.warpsN), cfg.warpM());
    warpCol = mul(remu(warp, cfg.warpsN), cfg.warpN());
    m0 = mul(launch.getBlockIds().y, cfg.blockM);
    n0 = mul(launch.getBlockIds().x, cfg.blockN);

    int64_t steps = ceilDiv(g.k, cfg.blockK);
    // Prologue: the first stages - 1 tiles in flight, one group each.
    // (nvgpu.device_async_wait names a group but waits by count,
    // cp.async.wait_group: every wait below names the prologue's last.)
    Value group;
    for (int64_t s = 0; s < cfg.stages - 1; ++s)
      group = loadTiles(cst(s), cst(s));

    Value zero =
        g.isFp8() ? arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0))
                        .getResult()
        : g.mxF64 ? arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0))
                        .getResult()
                  : arith::ConstantIntOp::create(
                        b, loc, g.isMx() ? b.getI64Type() : b.getI32Type(), 0)
                        .getResult();
    SmallVector<Value> init(cfg.tilesM() * cfg.tilesN() * 4, zero);
    auto loop = scf::ForOp::create(b, loc, cst(0), cst(steps), one, init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value step = loop.getInductionVar();
      // Tile `step` has landed (at most stages - 2 younger groups are
      // pending); the barrier also ends every warp's reads of the stage
      // refilled next, the one step - 1 computed on.
      nvgpu::DeviceAsyncWaitOp::create(b, loc, group,
                                       b.getI32IntegerAttr(cfg.stages - 2));
      gpu::BarrierOp::create(b, loc);
      Value next = add(step, cst(cfg.stages - 1));
      loadTiles(remu(next, cfg.stages), next);
      SmallVector<Value> acc(loop.getRegionIterArgs());
      Value stage = remu(step, cfg.stages);
      for (int64_t kk = 0; kk < cfg.blockK / 32; ++kk) {
        if (!g.isMx()) {
          mmaStep(stage, kk, acc);
          continue;
        }
        // MX: each k32 slice is one block; its int32 sums, shifted by the
        // column's shift of the block, are added to the i64 accumulators.
        SmallVector<Value> part(acc.size(), arith::ConstantIntOp::create(
                                                b, loc, b.getI32Type(), 0));
        mmaStep(stage, kk, part);
        addShifted(add(mul(step, cfg.blockK / 32), kk), part, acc);
      }
      scf::YieldOp::create(b, loc, acc);
    }
    nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
    writeResults(loop.getResults());
  }

private:
  Value loadTiles(Value stage, Value kTile) {
    SmallVector<TileCopy> copies{
        {sA, g.a, m0, g.m, cfg.blockM, cfg.blockK, g.k},
        {sB, w4 ? g.bPacked : g.b, n0, g.n, cfg.blockN, cfg.rowBytesB(w4),
         w4 ? g.k / 2 : g.k}};
    if (g.isMx6())
      copies.push_back(
          {sT, g.bTop, n0, g.n, cfg.blockN, cfg.rowBytesT(true), g.k / 4});
    return copyTiles(copies, stage, kTile, cfg.threads());
  }

  /// The 32-bit registers of an ldmatrix result.
  SmallVector<Value> registers(Value fragment, int64_t count) {
    auto word = VectorType::get({1}, b.getI32Type());
    SmallVector<Value> regs;
    for (int64_t r = 0; r < count; ++r) {
      Value bytes = vector::ExtractOp::create(b, loc, fragment,
                                              ArrayRef<int64_t>{r});
      Value w = vector::BitCastOp::create(b, loc, word, bytes);
      regs.push_back(
          vector::ExtractOp::create(b, loc, w, ArrayRef<int64_t>{0}));
    }
    return regs;
  }

  Value ldmatrix(Value tile, Value stage, Value row, Value chunk,
                 int64_t chunks, int64_t count) {
    auto ty = VectorType::get({count, 4}, b.getI8Type());
    return nvgpu::LdMatrixOp::create(
        b, loc, ty, tile, ValueRange{stage, row, swizzled(row, chunk, chunks)},
        /*transpose=*/false, count);
  }

  /// The four bytes of nibbles `nibbles` (each 0x0 or 0xF masked in place,
  /// low 4 bits of each byte) sign-extended to i8 each, without carries
  /// across bytes: ((x ^ 8) + 0x78) ^ 0x80 per byte.
  Value signExtendNibbles(Value nibbles) {
    Value v = arith::XOrIOp::create(b, loc, nibbles, i32(0x08080808));
    v = arith::AddIOp::create(b, loc, v, i32(0x78787878));
    return arith::XOrIOp::create(b, loc, v, i32(int32_t(0x80808080u)));
  }

  /// The four E2M1 codes in nibbles 0-3 of `w` as the s8x4 register of 2x
  /// their values, by byte permutes (prmt, whose 8-byte pool is the table of
  /// magnitudes; a selector nibble with bit 3 set gives the selected byte's
  /// sign replicated): `pos` holds a positive code's value and 0 for a
  /// negative one (the magnitudes' sign), `neg` a negative one's (selected
  /// with bit 3 flipped from the negated table), `mask` 0xFF for negative
  /// codes (bit 3 moved to bit 2: byte 4, 0xFF, or byte 0, 0).
  Value decodeE2M1(Value w) {
    Type i32Ty = b.getI32Type();
    auto prmt = [&](uint32_t lo, uint32_t hi, Value sel) {
      return NVVM::PermuteOp::create(b, loc, i32Ty, i32(int32_t(lo)),
                                     i32(int32_t(hi)), sel,
                                     NVVM::PermuteMode::DEFAULT)
          .getResult();
    };
    Value pos = prmt(0x03020100u, 0x0C080604u, w);
    Value neg = prmt(0xFDFEFF00u, 0xF4F8FAFCu,
                     arith::XOrIOp::create(b, loc, w, i32(0x8888)));
    Value mask = prmt(
        0u, 0xFFFFFFFFu,
        arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, w, i32(1)),
                              i32(0x4444)));
    return arith::OrIOp::create(b, loc, pos,
                                arith::AndIOp::create(b, loc, neg, mask));
  }

  /// prmt of `a` and the constant `pool` by the constant `selector`.
  Value prmt(Value a, uint32_t pool, uint32_t selector) {
    return NVVM::PermuteOp::create(b, loc, a.getType(), a, i32(int32_t(pool)),
                                   i32(int32_t(selector)),
                                   NVVM::PermuteMode::DEFAULT)
        .getResult();
  }

  /// The four E2M3 codes of an MXFP6 B register as the s8x4 register of 8x
  /// their values: `n` their low 4 bits (e0, the mantissa m), one a byte;
  /// byte `h` of `top` their e1 bits (bits 0-3) and signs (4-7). The
  /// magnitude is n where e1 = 0, else (8 + m) << (1 + e0): x = (n | 8) << 1,
  /// plus x again where e0 = 1; byte masks come from prmt's sign
  /// replication (selector 0xBA98) of bit 7 of each byte; a negative byte
  /// is (0x80 - v) ^ 0x80 (no borrows: v <= 60).
  Value decodeE2M3(Value n, Value top, int64_t h) {
    auto bytesOf = [&](uint32_t bitsPerByte) {
      // Byte q of the replicated top byte keeps its bit q (of bitsPerByte's
      // pattern); + 0x7F sets bit 7 where it is set, carry-free.
      Value y = prmt(top, 0, h ? 0x1111 : 0x0000);
      Value v = arith::AndIOp::create(b, loc, y, i32(int32_t(bitsPerByte)));
      v = arith::AddIOp::create(b, loc, v, i32(0x7F7F7F7F));
      return prmt(v, 0, 0xBA98);
    };
    auto blend = [&](Value x, Value y, Value mask) { // mask ? y : x
      return arith::XOrIOp::create(
          b, loc, x,
          arith::AndIOp::create(b, loc, arith::XOrIOp::create(b, loc, x, y),
                                mask));
    };
    Value e1 = bytesOf(0x08040201u), sign = bytesOf(0x80402010u);
    Value e0 = prmt(arith::ShLIOp::create(b, loc, n, i32(4)), 0, 0xBA98);
    Value x = arith::ShLIOp::create(
        b, loc, arith::OrIOp::create(b, loc, n, i32(0x08080808)), i32(1));
    Value v1 =
        arith::AddIOp::create(b, loc, x, arith::AndIOp::create(b, loc, x, e0));
    Value mag = blend(n, v1, e1);
    Value neg = arith::XOrIOp::create(
        b, loc, arith::SubIOp::create(b, loc, i32(int32_t(0x80808080u)), mag),
        i32(int32_t(0x80808080u)));
    return blend(mag, neg, sign);
  }

  /// MXFP6: the 16 bits of top plane lane `lane % 4` reads for row `row` of
  /// the B tile in `stage`, slice `kk`, as the low half of an i32.
  Value topBits(Value stage, Value row, int64_t kk) {
    int64_t chunks = cfg.rowBytesT(true) / 16;
    Value col = add(swizzled(row, cst(kk / 2), chunks),
                    add(mul(remu(lane, 4), 2), (kk % 2) * 8));
    auto vecTy = VectorType::get({2}, b.getI8Type());
    Value bytes =
        vector::LoadOp::create(b, loc, vecTy, sT, ValueRange{stage, row, col});
    Value half = vector::ExtractOp::create(
        b, loc,
        vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI16Type()),
                                  bytes),
        ArrayRef<int64_t>{0});
    return arith::ExtUIOp::create(b, loc, b.getI32Type(), half);
  }

  /// MX: acc (i64) += part (the int32 sums of block `block`) << the shift
  /// of each value's column in that block, nothing where it is negative
  /// (a dropped block). Out-of-range blocks (the zero-filled tail of the last
  /// K tile: their sums are 0) and columns (never stored) read a clamped
  /// shift.
  void addShifted(Value block, ArrayRef<Value> part,
                  SmallVectorImpl<Value> &acc) {
    Type i64 = b.getI64Type(), f64 = b.getF64Type();
    Value lastBlock = cst(g.k / 32 - 1);
    Value blk = arith::MinUIOp::create(b, loc, block, lastBlock);
    Value laneCol = add(add(n0, warpCol), mul(remu(lane, 4), 2));
    Value zero = arith::ConstantIntOp::create(b, loc, i64, 0);
    for (int64_t j = 0; j < cfg.tilesN(); ++j)
      for (int64_t c = 0; c < 2; ++c) {
        Value col = arith::MinUIOp::create(b, loc, add(laneCol, j * 8 + c),
                                           cst(g.n - 1));
        Value sh = arith::ExtSIOp::create(
            b, loc, i64,
            memref::LoadOp::create(b, loc, g.shifts, ValueRange{blk, col}));
        Value dropped =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, sh, zero);
        Value amount = arith::SelectOp::create(b, loc, dropped, zero, sh);
        // f64: the factor 2^shift built from its exponent bits (0 when
        // dropped); each product and sum is an exact integer.
        Value factor;
        if (g.mxF64) {
          Value bits = arith::ShLIOp::create(
              b, loc,
              arith::AddIOp::create(
                  b, loc, amount,
                  arith::ConstantIntOp::create(b, loc, i64, 1023)),
              arith::ConstantIntOp::create(b, loc, i64, 52));
          factor = arith::BitcastOp::create(
              b, loc, f64,
              arith::SelectOp::create(b, loc, dropped, zero, bits));
        }
        for (int64_t i = 0; i < cfg.tilesM(); ++i)
          for (int64_t r = c; r < 4; r += 2) {
            int64_t at = (i * cfg.tilesN() + j) * 4 + r;
            if (g.mxF64) {
              Value v = arith::SIToFPOp::create(b, loc, f64, part[at]);
              acc[at] = arith::AddFOp::create(
                  b, loc, acc[at], arith::MulFOp::create(b, loc, v, factor));
              continue;
            }
            Value v = arith::ShLIOp::create(
                b, loc, arith::ExtSIOp::create(b, loc, i64, part[at]), amount);
            v = arith::SelectOp::create(b, loc, dropped, zero, v);
            acc[at] = arith::AddIOp::create(b, loc, acc[at], v);
          }
      }
  }

  /// One k32 step of the warp's mma tiles on stage `stage`, 32-wide slice
  /// `kk` of the K tile.
  void mmaStep(Value stage, int64_t kk, SmallVectorImpl<Value> &acc) {
    int64_t kTilesM = cfg.tilesM(), kTilesN = cfg.tilesN();
    int64_t chunksA = cfg.blockK / 16, chunksB = cfg.rowBytesB(w4) / 16;
    // A m16k32 fragment: lanes 0-15 address rows 0-15 at k 0-15, lanes
    // 16-31 the same rows at k 16-31 (registers a0..a3 of mma.sync).
    SmallVector<SmallVector<Value>> aFrag, bFrag;
    Value aRowInTile = remu(lane, 16);
    Value aChunk = add(divu(lane, 16), kk * 2);
    for (int64_t i = 0; i < kTilesM; ++i) {
      Value row = add(add(warpRow, i * 16), aRowInTile);
      aFrag.push_back(
          registers(ldmatrix(sA, stage, row, aChunk, chunksA, 4), 4));
    }
    if (w4) {
      // Packed chunk kk of a row holds k 32kk + j (low nibbles) and
      // 32kk + 16 + j (high), j < 16: one 8x16-byte ldmatrix matrix per
      // n8 tile gives lane l the bytes j = 4 (l % 4) + 0..3 of row l / 4,
      // i.e. both B registers of its n8k32 fragment. Up to 4 n-tiles a
      // ldmatrix (lanes 8t..8t+7 address tile t's rows).
      int64_t group = std::min<int64_t>(kTilesN, 4);
      Value rowInGroup = remu(lane, 8 * group);
      for (int64_t j = 0; j < kTilesN; j += group) {
        Value row = add(add(warpCol, j * 8), rowInGroup);
        SmallVector<Value> words =
            registers(ldmatrix(sB, stage, row, cst(kk), chunksB, group), group);
        for (auto [t, w] : llvm::enumerate(words)) {
          if (g.isMx6()) {
            // Lane l holds tile j + t's row l / 4, bytes 4 (l % 4) + 0..3.
            Value top = topBits(
                stage, add(add(warpCol, (j + int64_t(t)) * 8), divu(lane, 4)),
                kk);
            Value lo = arith::AndIOp::create(b, loc, w, i32(0x0F0F0F0F));
            Value hi = arith::AndIOp::create(
                b, loc, arith::ShRUIOp::create(b, loc, w, i32(4)),
                i32(0x0F0F0F0F));
            bFrag.push_back({decodeE2M3(lo, top, 0), decodeE2M3(hi, top, 1)});
            continue;
          }
          if (g.isMx()) {
            bFrag.push_back({decodeE2M1(w), decodeE2M1(arith::ShRUIOp::create(
                                                b, loc, w, i32(16)))});
            continue;
          }
          Value lo = arith::AndIOp::create(b, loc, w, i32(0x0F0F0F0F));
          Value hi = arith::AndIOp::create(
              b, loc, arith::ShRUIOp::create(b, loc, w, i32(4)),
              i32(0x0F0F0F0F));
          bFrag.push_back({signExtendNibbles(lo), signExtendNibbles(hi)});
        }
      }
      mmas(aFrag, bFrag, acc);
      return;
    }
    // B n8k32 fragments of two n-tiles: lanes 0-7 rows (n) 0-7 at k 0-15,
    // 8-15 the same at k 16-31, 16-31 likewise for n 8-15.
    Value bRowInPair = add(remu(lane, 8), mul(divu(lane, 16), 8));
    Value bChunk = add(remu(divu(lane, 8), 2), kk * 2);
    for (int64_t j = 0; j < kTilesN; j += 2) {
      Value row = add(add(warpCol, j * 8), bRowInPair);
      SmallVector<Value> regs =
          registers(ldmatrix(sB, stage, row, bChunk, chunksB, 4), 4);
      bFrag.push_back({regs[0], regs[1]});
      bFrag.push_back({regs[2], regs[3]});
    }
    mmas(aFrag, bFrag, acc);
  }

  /// The warp's mma.sync of every (m16, n8) tile pair on its fragments.
  void mmas(ArrayRef<SmallVector<Value>> aFrag,
            ArrayRef<SmallVector<Value>> bFrag, SmallVectorImpl<Value> &acc) {
    int64_t kTilesM = cfg.tilesM(), kTilesN = cfg.tilesN();
    Type i32 = b.getI32Type();
    auto resTy = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                  {i32, i32, i32, i32});
    if (g.isFp8()) {
      fp8Mmas(aFrag, bFrag, acc);
      return;
    }
    for (int64_t i = 0; i < kTilesM; ++i)
      for (int64_t j = 0; j < kTilesN; ++j) {
        int64_t at = (i * kTilesN + j) * 4;
        auto mma = NVVM::MmaOp::create(
            b, loc, resTy, aFrag[i], bFrag[j],
            ArrayRef<Value>(acc).slice(at, 4), {16, 8, 32},
            /*b1Op=*/std::nullopt, NVVM::MMAIntOverflow::wrapped,
            std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::s8,
                                          NVVM::MMATypes::s8},
            std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                           NVVM::MMALayout::col});
        for (int64_t r = 0; r < 4; ++r)
          acc[at + r] = LLVM::ExtractValueOp::create(b, loc, mma, r);
      }
  }

  /// The FP8 mma.sync (m16n8k32, f32 accumulators; sm_89 and later) as
  /// inline PTX: NVVM's mma op has no dense FP8 form. Its fragments have
  /// the s8 layout (8-bit elements, four to a register).
  void fp8Mmas(ArrayRef<SmallVector<Value>> aFrag,
               ArrayRef<SmallVector<Value>> bFrag,
               SmallVectorImpl<Value> &acc) {
    Type f32 = b.getF32Type();
    auto resTy =
        LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
    std::string ptx =
        ("mma.sync.aligned.m16n8k32.row.col.f32." + g.fp8A + "." + g.fp8B +
         ".f32 {$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, "
         "{$10, $11, $12, $13};")
            .str();
    for (int64_t i = 0; i < cfg.tilesM(); ++i)
      for (int64_t j = 0; j < cfg.tilesN(); ++j) {
        int64_t at = (i * cfg.tilesN() + j) * 4;
        SmallVector<Value> operands(aFrag[i]);
        llvm::append_range(operands, bFrag[j]);
        llvm::append_range(operands, ArrayRef<Value>(acc).slice(at, 4));
        auto mma = LLVM::InlineAsmOp::create(
            b, loc, resTy, operands, ptx, "=f,=f,=f,=f,r,r,r,r,r,r,f,f,f,f",
            /*has_side_effects=*/false,
            /*is_align_stack=*/false, LLVM::TailCallKind::None,
            LLVM::AsmDialectAttr(), ArrayAttr());
        for (int64_t r = 0; r < 4; ++r)
          acc[at + r] = LLVM::ExtractValueOp::create(b, loc, mma.getRes(), r);
      }
  }

  void writeResults(ValueRange acc) {
    SmallVector<Value> values(acc);
    if (g.mxF64) // exact integers: back to the i64 sums
      for (Value &v : values)
        v = arith::FPToSIOp::create(b, loc, b.getI64Type(), v);
    writeFragments(values, add(m0, warpRow), add(n0, warpCol), cfg.tilesM(),
                   cfg.tilesN());
  }

  const TileConfig &cfg;
  bool w4;
  Value sA, sB, sT, warpRow, warpCol;
};

/// The wgmma kernel's tiling: a blockM x blockN tile of C a block, one
/// warpgroup (128 threads) per 64 rows, each issuing m64 x blockN x k32
/// wgmma; K in 128-byte steps (one 128-byte swizzle row per tile row)
/// through a `stages`-deep ring in dynamic shared memory.
struct WgmmaConfig {
  int64_t blockM, blockN, stages;
  static constexpr int64_t kStep = 128;

  int64_t warpgroups() const { return blockM / 64; }
  int64_t threads() const { return 128 * warpgroups(); }
  int64_t stageBytes() const { return (blockM + blockN) * kStep; }
  /// The ring, plus 1 KiB to align it to the swizzle pattern's 1024 bytes.
  int64_t sharedBytes() const { return stages * stageBytes() + 1024; }
};

/// The SMs of an H100 / H200: the wgmma tile shrinks until the grid fills
/// them kWaves times over (a short K, 768 in BERT-base, leaves a block too
/// little work to hide its prologue and epilogue: more, smaller blocks
/// overlap them).
constexpr int64_t kSMs = 132, kWaves = 2;

/// The largest of 128x256, 128x128, 128x64, 64x128, 64x64 (N tiles no
/// wider than N rounded up to 64) that launches at least kWaves * kSMs
/// blocks; the smallest allowed when none does.
WgmmaConfig chooseWgmma(int64_t m, int64_t n, bool narrow) {
  static const int64_t tiles[][2] = {
      {128, 256}, {128, 128}, {128, 64}, {64, 128}, {64, 64}};
  // Promoted FP8 sums hold a second set of accumulators: at most 128 wide.
  int64_t widest = std::min<int64_t>(
      narrow ? 128 : 256, std::max<int64_t>(64, llvm::alignTo(n, 64)));
  WgmmaConfig chosen{64, 64, 4};
  for (auto [bm, bn] : tiles) {
    if (bn > widest)
      continue;
    chosen = {bm, bn, 4};
    if (llvm::divideCeil(m, bm) * llvm::divideCeil(n, bn) >= kWaves * kSMs)
      break;
  }
  return chosen;
}

/// Builds the wgmma kernel of one GEMM (sm_90a).
///
/// Shared memory holds, per stage, the A tile [blockM][128 B] then the B
/// tile [blockN][128 B], row r's 16-byte chunk c at r * 128 + (c ^ r % 8)
/// * 16 from a 1024-byte aligned base: the 128-byte swizzle layout the
/// tensor cores read through a matrix descriptor (start address >> 4 in
/// bits 0-13, leading byte offset 16 >> 4 in 16-29 (unused for K-major
/// swizzled tiles), stride byte offset 1024 >> 4 (between 8-row groups)
/// in 32-45, swizzle mode 1 = 128 bytes in 62-63). The k32 slice kk of a
/// stage is the descriptor of its start plus 32 kk bytes: the hardware
/// applies the xor to the computed addresses.
///
/// Per K step: wait for this thread's copies of the tile, fence them into
/// the async proxy (wgmma reads shared memory through it), barrier, start
/// copying the tile two steps ahead into the stage whose wgmma finished,
/// issue four wgmma on the tile, commit, and wait until at most the group
/// just issued is in flight (the previous step's stage is then free for
/// the next refill).
class WgmmaBuilder : GemmEmitter {
public:
  WgmmaBuilder(OpBuilder &b, Location loc, const Gemm &g,
               const WgmmaConfig &cfg, linalg::GenericOp epilogue,
               bool accumulate, int64_t promoteSteps)
      : GemmEmitter(b, loc, g, epilogue, accumulate), cfg(cfg),
        promoteSteps(promoteSteps) {}

  void build() {
    MLIRContext *ctx = b.getContext();
    Type i8 = b.getI8Type(), i32Type = b.getI32Type(), i64 = b.getI64Type();
    auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    int64_t bm = cfg.blockM, bn = cfg.blockN, stages = cfg.stages;
    Value one = cst(1);
    auto launch = gpu::LaunchOp::create(
        b, loc, cst(ceilDiv(g.n, bn)), cst(ceilDiv(g.m, bm)), one,
        cst(cfg.threads()), one, one, i32(cfg.sharedBytes()));
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    tid = launch.getThreadIds().x;
    lane = remu(tid, 32);
    m0 = mul(launch.getBlockIds().y, bm);
    n0 = mul(launch.getBlockIds().x, bn);
    Value warpgroup = divu(tid, 128);
    Value warpInGroup = remu(divu(tid, 32), 4);

    // The ring at the first 1024-byte boundary of dynamic shared memory.
    Value dyn = gpu::DynamicSharedMemoryOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic}, i8,
                        MemRefLayoutAttrInterface(), wg));
    Value addr = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, dyn);
    Value pad = remu(arith::SubIOp::create(b, loc, cst(1024), remu(addr, 1024)),
                     1024);
    auto view = [&](int64_t rows, Value shift) -> Value {
      auto ty = MemRefType::get({stages, rows, WgmmaConfig::kStep}, i8,
                                MemRefLayoutAttrInterface(), wg);
      return memref::ViewOp::create(b, loc, ty, dyn, shift, ValueRange());
    };
    sA = view(bm, pad);
    sB = view(bn, add(pad, stages * bm * WgmmaConfig::kStep));

    // Descriptors of stage 0, k slice 0: A at this warpgroup's 64 rows.
    auto toI64 = [&](Value index) -> Value {
      return arith::IndexCastUIOp::create(b, loc, i64, index);
    };
    int64_t fixed = (int64_t(1) << 16) | (int64_t(1024 >> 4) << 32) |
                    (int64_t(1) << 62);
    auto descriptor = [&](Value byteAddr) -> Value {
      Value a = arith::ShRUIOp::create(b, loc, toI64(byteAddr), i64c(4));
      return arith::OrIOp::create(b, loc, a, i64c(fixed));
    };
    Value base = add(addr, pad);
    Value descA = descriptor(add(base, mul(warpgroup, 64 * WgmmaConfig::kStep)));
    Value descB = descriptor(add(base, stages * bm * WgmmaConfig::kStep));

    int64_t steps = ceilDiv(g.k, WgmmaConfig::kStep);
    int64_t ahead = stages - 2;
    Value group;
    for (int64_t s = 0; s < ahead; ++s)
      group = loadTiles(cst(s), cst(s));

    Type accElt = g.isFp8() ? Type(b.getF32Type()) : i32Type;
    SmallVector<Type> fields(bn / 2, accElt);
    auto wgmmaType = [&](StringRef fp8) {
      if (fp8.empty())
        return NVVM::WGMMATypes::s8;
      return fp8 == "e5m2" ? NVVM::WGMMATypes::e5m2 : NVVM::WGMMATypes::e4m3;
    };
    auto typeA = NVVM::WGMMATypesAttr::get(ctx, wgmmaType(g.fp8A));
    auto typeB = NVVM::WGMMATypesAttr::get(ctx, wgmmaType(g.fp8B));
    auto typeD = NVVM::WGMMATypesAttr::get(
        ctx, g.isFp8() ? NVVM::WGMMATypes::f32 : NVVM::WGMMATypes::s32);
    auto overflow =
        g.isFp8()
            ? NVVM::MMAIntOverflowAttr()
            : NVVM::MMAIntOverflowAttr::get(ctx, NVVM::MMAIntOverflow::wrapped);
    auto accTy = LLVM::LLVMStructType::getLiteral(ctx, fields);
    Value init = LLVM::ZeroOp::create(b, loc, accTy);
    // FP8 with promotion: every `promote` K steps (and at the last) the
    // tensor cores' accumulators are added into f32 sums of their own and
    // restarted from zero (the tensor cores' FP8 accumulation keeps fewer
    // bits than f32).
    int64_t promote = g.isFp8() ? promoteSteps : 0;
    SmallVector<Value> inits{init};
    if (promote)
      inits.push_back(init);
    auto loop = scf::ForOp::create(b, loc, cst(0), cst(steps), one, inits);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value step = loop.getInductionVar();
      nvgpu::DeviceAsyncWaitOp::create(b, loc, group,
                                       b.getI32IntegerAttr(ahead - 1));
      NVVM::FenceProxyOp::create(
          b, loc, NVVM::ProxyKind::async_shared,
          NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
      gpu::BarrierOp::create(b, loc);
      Value next = add(step, ahead);
      loadTiles(remu(next, stages), next);
      // This stage's descriptors (their address fields count 16 bytes).
      Value stage = toI64(remu(step, stages));
      auto atStage = [&](Value desc, int64_t stageBytes) -> Value {
        Value off =
            arith::MulIOp::create(b, loc, stage, i64c(stageBytes / 16));
        return arith::AddIOp::create(b, loc, desc, off);
      };
      Value stageA = atStage(descA, bm * WgmmaConfig::kStep);
      Value stageB = atStage(descB, bn * WgmmaConfig::kStep);
      Value acc = loop.getRegionIterArgs()[0];
      NVVM::WgmmaFenceAlignedOp::create(b, loc);
      for (int64_t kk = 0; kk < WgmmaConfig::kStep / 32; ++kk) {
        // The k32 slice kk: 32 kk bytes further.
        auto at = [&](Value desc) -> Value {
          return kk ? arith::AddIOp::create(b, loc, desc, i64c(kk * 32 / 16))
                    : desc;
        };
        acc = NVVM::WgmmaMmaAsyncOp::create(
            b, loc, accTy, acc, at(stageA), at(stageB),
            NVVM::MMAShapeAttr::get(ctx, 64, bn, 32), typeA, typeB, typeD,
            NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::one),
            NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one),
            NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one),
            NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row),
            NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::col), overflow);
      }
      NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
      if (!promote) {
        NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
        scf::YieldOp::create(b, loc, acc);
      } else {
        Value total = loop.getRegionIterArgs()[1];
        Value next1 = add(step, 1);
        Value due = arith::OrIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                  remu(next1, promote), cst(0)),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, next1,
                                  cst(steps)));
        auto ifOp = scf::IfOp::create(b, loc, TypeRange{accTy, accTy}, due,
                                      /*withElse=*/true);
        {
          OpBuilder::InsertionGuard ig(b);
          b.setInsertionPointToStart(&ifOp.getThenRegion().front());
          NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
          Value sum = total;
          for (int64_t i = 0; i < bn / 2; ++i) {
            Value t = LLVM::ExtractValueOp::create(b, loc, total, i);
            Value v = LLVM::ExtractValueOp::create(b, loc, acc, i);
            sum = LLVM::InsertValueOp::create(
                b, loc, sum, arith::AddFOp::create(b, loc, t, v), i);
          }
          scf::YieldOp::create(
              b, loc, ValueRange{LLVM::ZeroOp::create(b, loc, accTy), sum});
          b.setInsertionPointToStart(&ifOp.getElseRegion().front());
          NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
          scf::YieldOp::create(b, loc, ValueRange{acc, total});
        }
        scf::YieldOp::create(b, loc, ifOp.getResults());
      }
    }
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
    nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
    SmallVector<Value> values;
    Value result = loop.getResult(promote ? 1 : 0);
    for (int64_t i = 0; i < bn / 2; ++i)
      values.push_back(LLVM::ExtractValueOp::create(b, loc, result, i));
    // Warp w of the warpgroup holds rows 16 w .. 16 w + 15 of its 64, in
    // the m16n8 layout for each n8 tile.
    Value rowBase = add(add(m0, mul(warpgroup, 64)), mul(warpInGroup, 16));
    writeFragments(values, rowBase, n0, 1, bn / 8);
  }

private:
  Value i64c(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }

  Value loadTiles(Value stage, Value kTile) {
    TileCopy copies[] = {
        {sA, g.a, m0, g.m, cfg.blockM, WgmmaConfig::kStep, g.k},
        {sB, g.b, n0, g.n, cfg.blockN, WgmmaConfig::kStep, g.k}};
    return copyTiles(copies, stage, kTile, cfg.threads());
  }

  const WgmmaConfig &cfg;
  int64_t promoteSteps;
  Value sA, sB;
};

Value GemmEmitter::finalValue(Value v, Value row, Value col) {
  if (accumulate) {
    Value old = memref::LoadOp::create(b, loc, g.c, ValueRange{row, col});
    v = g.isFp8() ? arith::AddFOp::create(b, loc, old, v).getResult()
                  : arith::AddIOp::create(b, loc, old, v).getResult();
  }
  if (!epilogue)
    return v;
  // The generic's body at (row, col), C's element being v.
  IRMapping map;
  Block *body = epilogue.getBody();
  Value dims[2] = {row, col};
  for (OpOperand &operand : epilogue->getOpOperands()) {
    Value arg = body->getArgument(operand.getOperandNumber());
    Value src = operand.get();
    if (src == g.c) {
      map.map(arg, v);
      continue;
    }
    if (!isa<MemRefType>(src.getType())) {
      map.map(arg, src);
      continue;
    }
    if (arg.use_empty())
      continue;
    SmallVector<Value> idx;
    for (AffineExpr e :
         epilogue.getMatchingIndexingMap(&operand).getResults()) {
      if (auto d = dyn_cast<AffineDimExpr>(e))
        idx.push_back(dims[d.getPosition()]);
      else
        idx.push_back(cst(cast<AffineConstantExpr>(e).getValue()));
    }
    map.map(arg, memref::LoadOp::create(b, loc, src, idx));
  }
  for (Operation &op : body->without_terminator())
    b.clone(op, map);
  return map.lookupOrDefault(body->getTerminator()->getOperand(0));
}

struct Int8GemmToMMAPass
    : qc::cuda::impl::Int8GemmToMMABase<Int8GemmToMMAPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> matmuls;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if ((isa<linalg::MatmulOp>(op) || op->hasAttr(qc::cuda::kFp8GemmAttr) ||
           op->hasAttr(qc::cuda::kMxGemmAttr)) &&
          !op->getParentOfType<gpu::GPUModuleOp>())
        matmuls.push_back(op);
    });
    for (linalg::LinalgOp op : matmuls) {
      std::optional<Gemm> g = matchGemm(op);
      if (!g)
        continue;
      if (!g->isFp8() && (g->unpack = w4Unpack(*g)))
        g->bPacked = g->unpack.getDpsInputs()[0];
      if (g->unpack && g->unpack->hasAttr(qc::cuda::kMx6UnpackAttr))
        g->bTop = g->unpack.getDpsInputs()[1];
      if (g->isMx() && !g->bPacked)
        continue; // the MX kernel reads the packed codes: loops otherwise
      if (g->isMx())
        g->mxF64 = mxSumsFitF64(*g);

      linalg::FillOp fill = zeroFillBefore(*g);
      linalg::GenericOp generic =
          fill ? epilogueGeneric(*g, fill) : linalg::GenericOp();
      OpBuilder b(generic ? generic.getOperation() : op.getOperation());
      if (wgmma && g->m > 64 && !g->bPacked && !g->isMx()) {
        int64_t promote = fp8PromoteSteps;
        WgmmaConfig cfg = chooseWgmma(g->m, g->n, g->isFp8() && promote);
        WgmmaBuilder(b, op.getLoc(), *g, cfg, generic, /*accumulate=*/!fill,
                     promote)
            .build();
      } else {
        // MX keeps i64 accumulators: at most the 64-row tiles' 16 a thread.
        TileConfig cfg =
            chooseConfig(g->isMx() ? std::min<int64_t>(g->m, 64) : g->m,
                         bool(g->bPacked), g->isMx6());
        assert(cfg.valid(bool(g->bPacked), g->isMx6()) &&
               "an invalid kernel configuration");
        KernelBuilder(b, op.getLoc(), *g, cfg, generic, /*accumulate=*/!fill)
            .build();
      }
      Value c = g->c;
      if (generic)
        generic.erase();
      op->erase();
      if (fill)
        fill.erase();
      if (c.use_empty())
        c.getDefiningOp()->erase();
      if (g->unpack) {
        Value unpacked = g->unpack.getDpsInits()[0];
        g->unpack.erase();
        if (unpacked.use_empty())
          unpacked.getDefiningOp()->erase();
      }
    }
  }
};

} // namespace
