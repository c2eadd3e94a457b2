//===- Passes.td - conversions out of qc -------------------*- tablegen -*-===//
#ifndef QC_CONVERSION_PASSES_TD
#define QC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQCToLinalg : Pass<"convert-qc-to-linalg"> {
  let summary = "Lowers qc graph ops to linalg";
  let description = [{
    Each elementwise op (unary math and activations, binary arithmetic with
    numpy broadcasting, comparisons and logic, Where) becomes one
    `linalg.generic` over the result shape, broadcast dims read at index 0,
    with the scalar computation in arith/math. Signless integers are ONNX's
    signed ones.

    MatMul becomes `linalg.matmul` (matrices) or `linalg.batch_matmul`
    (equal batch); Gemm a matmul with `linalg.transpose` for transA/transB
    and one epilogue generic for alpha and beta * C; a 2-d group-1 Conv
    `tensor.pad` + `linalg.conv_2d_nchw_fchw` + a bias generic;
    inference BatchNormalization one generic; GlobalAverage/MaxPool a
    reduction generic (and the mean's scaling) plus `tensor.expand_shape`;
    Reshape and Flatten `tensor.reshape`.

    Conv of other ranks, groups or auto_pad, ConvTranspose, Max/Average/Lp
    pooling: one generic over output and window dims reading the input with
    `tensor.extract` under bounds checks. Reductions, ArgMax/ArgMin,
    Softmax/LogSoftmax/Hardmax, Layer/Instance/MeanVariance normalization:
    reduction generics and broadcast elementwise generics. Gathers, Slice,
    Pad, Tile, Expand, DepthToSpace, Trilu, Range, CumSum, nearest/linear
    Resize: index generics (the body computes the source index). Concat and
    Split: `tensor.insert_slice`/`extract_slice`; Transpose `linalg.transpose`;
    `qc.if` becomes `scf.if`; broadcast-batch MatMul a generic.

    Ops with dynamic shapes, unsigned integers or no lowering yet (LSTM/GRU/
    RNN, the quantization ops, cubic Resize, ...) are left as they are; the
    compile driver reports each of them with its location.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"int8Kernels", "int8-kernels", "std::string", /*default=*/"\"none\"",
           "qc.conv_int (2-d, 1-d) and qc.matmul_int with a following "
           "qc.requantize fused: calls to the int8 microkernels (docs/kernels.md): "
           "'vnni' (AVX-512 VNNI), 'generic' (any x86-64), or 'none' (linalg)">,
    Option<"f32Kernels", "f32-kernels", "std::string", /*default=*/"\"none\"",
           "f32 qc.conv (2-d, group 1, constant weights) and qc.matmul: calls to "
           "the float microkernels: 'avx512' (AVX-512F) or 'none' (linalg)">,
    Option<"kernelTasks", "kernel-tasks", "unsigned", /*default=*/"1",
           "Tasks each kernel call is split into (an scf.parallel over them when "
           "above 1: one per thread)">,
  ];
}

def CreateEntryPoint : Pass<"qc-create-entry-point", "::mlir::ModuleOp"> {
  let summary = "Wraps the imported graph function in the native entry point";
  let description = [{
    Replaces the graph function with `func.func @qc_run(%buffers: !llvm.ptr)`:
    the inputs' data pointers, then the outputs', each a dense row-major
    buffer of the graph's static shape. Inputs become read-only tensors
    (`bufferization.to_tensor restrict`); each result is materialized into its
    output buffer (`bufferization.materialize_in_destination restrict
    writable`), so one-shot bufferization computes results in place in the
    caller's memory. The graph must have static shapes (fix them at import
    with `--input-shape`); otherwise the pass fails naming the input.
  }];
  let options = [
    Option<"graphFunction", "graph-function", "std::string",
           /*default=*/"\"main_graph\"", "The function to wrap">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

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

#endif // QC_CONVERSION_PASSES_TD
