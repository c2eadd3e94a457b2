//===- Passes.td - conversions out of qc -------------------*- tablegen -*-===//
#ifndef QC_CONVERSION_PASSES_TD
#define QC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToMicrokernels : Pass<"qc-lower-to-microkernels", "::mlir::ModuleOp"> {
  let summary = "Replaces the qc ops a microkernel computes by calls of it";
  let description = [{
    Decides which qc ops become calls of the microkernels of lib/Kernels
    (docs/kernels.md), for the instruction sets the options name; everything
    else is left to `convert-qc-to-linalg`, which runs after it. The choice
    is explicit and visible in the IR (IREE's "ukernel" lowering).

    With `int8-kernels`: a qc.conv_int (2-d or 1-d, constant weights) or
    qc.matmul_int (constant B, or an activation B with matching batch), and
    the qc.requantize that is its only user (and a qc.table that alone uses
    that), become one call of
    `qc_k_conv2d_i8_<isa>` / `qc_k_matmul_i8_<isa>`; a
    qc.matmul_group_scaled with constant weights one call of
    `qc_k_matmul_group_i8_<isa>`. Constant weights are packed at compile time
    with their per-channel correction terms. A qc.matmul_int whose weights
    are `#qc.lowbit` (1-4 bits) calls `qc_k_matmul_lut_i8_<vbmi|generic>`
    on the weights' bit planes with `lowbit-kernels=lut`; with `auto` where
    this machine runs that faster than the int8 kernel (both timed on the
    layer's packed weights, one thread); with `unpack` the int8 kernel, the
    weights stored 4 or 2 to a byte and expanded. Where `#qc.lowbit` also
    names two activation levels (binary activations), a 2-d group-1
    qc.conv_int with symmetric padding or a qc.matmul_int calls
    `qc_k_conv2d_bin_<vpopcnt|generic>` / `qc_k_matmul_bin_<...>` (AND +
    popcount) with `auto` and `popcount`; the other products then take
    `auto`'s choice (with `report-choices`, a remark says so). With `f32-kernels`: float 2-d
    group-1 and depthwise qc.conv with constant weights, qc.matmul, qc.hadamard and
    qc.softmax over the last axis become calls of the AVX-512 float kernels; a
    conv's call also computes the chain of qc.relu, qc.leakyrelu, qc.clip,
    qc.max / qc.min with a constant and one residual qc.add after it, and a
    non-overlapping qc.maxpool where the kernel's blocks hold whole windows.

    The operands cross to a call as pointers into their buffers
    (`bufferization.to_buffer`, then the aligned pointer); the result is a
    fresh 64-byte-aligned buffer the kernel fills, a tensor again through
    `bufferization.to_tensor restrict writable`. With `kernel-tasks` above 1
    the call sits in an `scf.parallel` over tasks (one per thread). The
    kernels are declared (`func.func private`) with the signatures of
    include/qc/Kernels/Kernels.def, the same table their C prototypes come
    from.

    Signedness stays in the types (uint8 operands are read as such, and
    buffers of unsigned elements passed as they are); `convert-qc-to-linalg`
    makes everything signless afterwards.
  }];
  let options = [
    Option<"int8Kernels", "int8-kernels", "::qc::kernels::Int8ISA",
           /*default=*/"::qc::kernels::Int8ISA::None",
           "The int8 kernels qc.conv_int, qc.matmul_int and qc.matmul_group_scaled call",
           [{::qc::clValues<::qc::kernels::Int8ISA>()}]>,
    Option<"f32Kernels", "f32-kernels", "::qc::kernels::F32ISA",
           /*default=*/"::qc::kernels::F32ISA::None",
           "The float kernels f32 qc.conv (2-d, group 1, constant weights), "
           "qc.matmul, qc.hadamard and last-axis qc.softmax call",
           [{::qc::clValues<::qc::kernels::F32ISA>()}]>,
    Option<"lowbitKernels", "lowbit-kernels", "::qc::kernels::LowBitMethod",
           /*default=*/"::qc::kernels::LowBitMethod::Unpack",
           "How qc.matmul_int ops with #qc.lowbit weights are computed (with "
           "int8-kernels): auto times lut and unpack for each and keeps the "
           "faster",
           [{::qc::clValues<::qc::kernels::LowBitMethod>()}]>,
    Option<"reportChoices", "report-choices", "bool", /*default=*/"false",
           "Remark on each product that cannot take the kernel lowbit-kernels "
           "names, with why">,
    Option<"bytePermutes", "byte-permutes", "bool", /*default=*/"false",
           "The target CPU has AVX-512 VBMI: the VNNI kernels look a fused "
           "qc.table up with byte permutes (else one load per byte)">,
    Option<"bf16Dot", "bf16-dot", "bool", /*default=*/"false",
           "The target CPU has AVX512-BF16: qc.matmul_fp8 takes the "
           "vdpbf16ps kernel with the vnni kernels (else the generic one)">,
    Option<"residualAdds", "residual-adds", "bool", /*default=*/"false",
           "Fuse a residual add (requantize -> add -> requantize, per tensor) "
           "after a channels_last conv_int into its kernel's epilogue; off by "
           "default: measured slower than the separate loop on ResNet-50 "
           "(docs/kernels.md)">,
    Option<"kernelTasks", "kernel-tasks", "unsigned", /*default=*/"1",
           "Tasks each kernel call is split into (an scf.parallel over them when "
           "above 1: one per thread)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

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

    Kernel calls are decided before, by `qc-lower-to-microkernels`: what it
    replaced is no longer a qc op here.

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

#endif // QC_CONVERSION_PASSES_TD
