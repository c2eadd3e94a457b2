//===- Passes.td - linalg, memref and math transforms ------*- tablegen -*-===//
//
// Transforms of upstream dialects the CPU code generator runs between
// convert-qc-to-linalg and the LLVM dialect: not conversions out of qc.
//
//===----------------------------------------------------------------------===//
#ifndef QC_TRANSFORMS_PASSES_TD
#define QC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMemRefCopyToLinalg : Pass<"convert-memref-copy-to-linalg"> {
  let summary = "Rewrites strided memref.copy as linalg.copy";
  let description = [{
    finalize-memref-to-llvm lowers a copy between non-contiguous memrefs to a
    call of `memrefCopy` from MLIR's runner library, which compiled models do
    not link. This pass turns such copies (bufferized `tensor.pad` and
    `tensor.insert_slice` produce them) into `linalg.copy`, which lowers to
    loops; contiguous copies stay `memref.copy` (an `llvm.memcpy`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def ForwardOutputBuffers : Pass<"qc-forward-output-buffers"> {
  let summary = "Computes a result directly into the caller's output buffer when it would be copied there";
  let description = [{
    After bufferization, a model's result is copied (`memref.copy`) from
    the buffer its last op wrote (a microkernel call's `memref.alloc`, a
    loop's output) into the caller's output buffer. When that buffer is a
    `memref.alloc` of the same type in the same block, and the destination
    is a view nothing else in the function touches, the allocation is
    replaced by the destination and the copy is erased: the producer
    writes the output in place (the copy had been 4% of a 2048^3 int8
    GEMM).
  }];
}

def PlanBuffers : Pass<"qc-plan-buffers", "::mlir::func::FuncOp"> {
  let summary = "Places a function's intermediate buffers in one arena, sharing bytes by liveness";
  let description = [{
    After bufferization and the deallocation pipeline, each intermediate
    tensor is a `memref.alloc` at the function's top level with a
    `memref.dealloc` after its last use. This pass plans those buffers
    (static shapes, identity layouts, whole-byte elements) at compile time:
    a buffer's live range runs from its allocation to the last top-level op
    that uses it or any view, cast or pointer derived from it; buffers whose
    ranges do not overlap may share bytes. Offsets are assigned largest
    buffer first, each at the lowest 64-byte aligned offset free of the
    overlapping buffers already placed. The function then allocates one
    arena of the planned size on entry, every planned buffer becomes a
    `memref.view` of it, and the arena is freed before the return: one
    allocation per call instead of one per tensor, and the bytes a layer
    wrote are reused, still in cache, by a later one. Buffers that escape
    (returned, yielded, passed into a loop as an iteration argument) or are
    freed conditionally keep their own allocation.
  }];
  let statistics = [
    Statistic<"planned", "planned-buffers", "Buffers placed in an arena">,
    Statistic<"arenaBytes", "arena-bytes", "Bytes of the arenas">,
    Statistic<"concatenated", "concatenated-buffers",
              "Buffers written in place into a concatenation's slice">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"];
}

def FuseElementwise : Pass<"qc-fuse-elementwise"> {
  let summary = "Fuses chains of elementwise linalg.generic ops";
  let description = [{
    Upstream elementwise fusion, where both ops are all-parallel
    `linalg.generic`s and the producer has no other user: a chain such as
    dequantize, add, clip, mul, quantize becomes one generic, one loop nest
    and one buffer. Contractions, convolutions and reductions are left as
    they are.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def ApproximateMath : Pass<"qc-approximate-math"> {
  let summary = "exp, erf and tanh of f32 as polynomial approximations";
  let description = [{
    Upstream's polynomial approximations (`populateMathPolynomialApproximationPatterns`)
    of `math.exp`, `math.erf` and `math.tanh` on f32: arith ops only, so the
    loops of Softmax, GELU and the like vectorize instead of calling libm's
    scalar functions once per element.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def ReassociateReductions : Pass<"qc-reassociate-reductions"> {
  let summary = "Float reductions may be reassociated (and so vectorized)";
  let description = [{
    The combiner of each float reduction `linalg.generic` (the add, mul, max
    or min that folds a value into the output and is yielded) gets the
    `reassoc` fast-math flag: LLVM's loop vectorizer then keeps vector partial
    results (sums of LayerNorm, Softmax, ReduceMean, pooling) instead of one
    serial chain. Results change by rounding only.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LinalgLoopOrder : Pass<"qc-linalg-loop-order"> {
  let summary = "Orders contraction loops for vectorization";
  let description = [{
    Generalizes linalg contractions and convolutions (ops with reduction
    iterators and one output) and interchanges their iterators to
    (parallel..., reduction..., j), j being the output's innermost dim, when
    every operand reads j only in its innermost position. After
    convert-linalg-to-loops the inner loop then updates a contiguous output
    row from contiguous or broadcast inputs, which LLVM's loop vectorizer
    turns into packed FMAs of the target's vector width (AVX-512 on hosts
    that have it). Reductions whose output's inner dim is strided in the
    input (GlobalAveragePool) keep their order. 2-d NCHW convolutions with
    output rows shorter than 16 or 1x1 filters first become im2col + a
    matmul-like contraction (upstream `rewriteInIm2Col`), whose inner dim is
    the whole output plane.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LinalgVectorize : Pass<"qc-linalg-vectorize"> {
  let summary = "Register-tiles and vectorizes f32 contractions";
  let description = [{
    For f32 contractions on static tensors (linalg.matmul, batch_matmul and
    contraction generics; 2-d NCHW convolutions with 1x1 filters, output
    rows shorter than 16 or an im2col buffer of at most 1M values first
    become im2col + such a contraction): tiles the output's innermost dim by 32, 16 or 8 and the
    one before it by 8, 6, 4, 3, 2 or 1 (sizes that divide it; other
    parallel dims and the reductions by 1), vectorizes the tile to a
    vector.contract and lowers that to outer products, so that the inner
    loop is a row of FMAs per output row of the tile (zmm registers with
    AVX-512). Ops whose innermost output dim is not a multiple of 8 keep
    their loops (qc-linalg-loop-order orders them). The accumulator tile is
    hoisted out of the reduction loop on tensors (upstream
    `hoistLoopInvariantSubsets`: a loop-carried vector), which holds whatever
    views bufferization makes of the output; qc-hoist-vector-transfers does
    the same on buffers after bufferization. With `parallel` (threads), the output tiles
    are one scf.forall and every other linalg op on tensors is split over its
    outermost parallel loop longer than 1 by an scf.forall; the pipeline
    turns those into OpenMP worksharing loops.
  }];
  let options = [
    Option<"parallel", "parallel", "bool", /*default=*/"false",
           "Tile the output with scf.forall (run by threads) instead of "
           "scf.for">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::affine::AffineDialect"];
}

def HoistVectorTransfers : Pass<"qc-hoist-vector-transfers"> {
  let summary = "Hoists loop-invariant vector transfer pairs out of loops";
  let description = [{
    Upstream `linalg::hoistRedundantVectorTransfers` on bufferized code: a
    transfer_read/transfer_write pair of the same memref slice in a loop
    (the accumulator tile of a vectorized contraction) becomes a read before
    the loop, a loop-carried vector and a write after it.
  }];
}

#endif // QC_TRANSFORMS_PASSES_TD
