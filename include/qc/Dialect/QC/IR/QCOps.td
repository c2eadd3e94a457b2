//===- QCOps.td - qc operations ----------------------------*- tablegen -*-===//
#ifndef QC_OPS_TD
#define QC_OPS_TD

include "qc/Dialect/QC/IR/QCDialect.td"
include "qc/Dialect/QC/IR/QCAttrs.td"
include "mlir/Dialect/Quant/IR/QuantBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "qc/Dialect/QC/IR/QCGraphOps.td"

def QC_FloatTensor : RankedTensorOf<[AnyFloat]>;
def QC_IntTensor : RankedTensorOf<[AnyInteger]>;
def QC_QuantizedTensor : RankedTensorOf<[quant_QuantizedType]>;

// Resource written by observers: the calibration statistics of a run.
def QC_CalibrationStats : Resource<"::qc::CalibrationStatsResource">;

//===----------------------------------------------------------------------===//
// Calibration
//===----------------------------------------------------------------------===//

def QC_ObserveOp : QC_Op<"observe", [SameOperandsAndResultType,
    MemoryEffects<[MemWrite<QC_CalibrationStats>]>]> {
  let summary = "Records statistics of a tensor during calibration";
  let description = [{
    Returns its operand unchanged and, when the model runs for calibration,
    records the statistics of the values that flow through it under `name`:
    minimum, maximum and, with `bins` > 0, a histogram of |x| with that many
    bins (for percentile, MSE and entropy calibration). Its write to the
    calibration statistics keeps it alive through canonicalization.

    Calibration writes what it decided back onto the op: the range
    `[min, max]` the tensor is to be quantized over (chosen by the
    calibration method from the statistics), and, for bias correction, the
    mean of each channel along `channel_axis` (`channel_mean`) and, for
    `smooth-activations`, the maximum |x| of each channel (`channel_abs_max`)
    and, for GPTQ weight rounding, the channels' second moments
    `gram[i, j] = mean over rows of x_i x_j` (a C x C f32 tensor, the
    channel axis being the last).
    `fold-calibration` turns calibrated observers into quantization.

    ```mlir
    %y = qc.observe "conv1.out" bins 2048 %x : tensor<1x16x32x32xf32>
    %z = qc.observe "conv2.in" %x {min = -1.5 : f64, max = 6.0 : f64} : tensor<1x16x32x32xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name,
                       DefaultValuedAttr<I64Attr, "0">:$bins,
                       QC_FloatTensor:$input,
                       OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max,
                       OptionalAttr<I64Attr>:$channel_axis,
                       OptionalAttr<DenseF64ArrayAttr>:$channel_mean,
                       OptionalAttr<DenseF64ArrayAttr>:$channel_abs_max,
                       OptionalAttr<ElementsAttr>:$gram);
  let results = (outs QC_FloatTensor:$output);
  let assemblyFormat = "$name (`bins` $bins^)? $input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Rotation
//===----------------------------------------------------------------------===//

def QC_HadamardOp : QC_Op<"hadamard", [Pure, AllTypesMatch<["input", "output"]>]> {
  let summary = "Orthogonal Hadamard-based transform of the last axis";
  let description = [{
    `y = x T` over the last axis (size n = m 2^k), with the orthogonal
    `T = F (x) H_k / sqrt(2^k)`: `H_k` the 2^k x 2^k Sylvester Hadamard
    matrix and `F` the m x m orthogonal `factor` (absent: m = 1). Index
    `j = a 2^k + b` of the last axis is entry `(a, b)` of the product:
    `y[a', b'] = sum_{a,b} x[a, b] F[a, a'] H[b, b'] / sqrt(2^k)`.
    `rotate-hadamard` inserts it where a rotation cannot be folded into a
    neighbouring weight (QuaRot's online Hadamard); it lowers to k
    butterfly stages (a fast Walsh-Hadamard transform, O(n log n)) and an
    m x m contraction.

    ```mlir
    %y = qc.hadamard %x : tensor<4x128xf32>
    %z = qc.hadamard %x, %f : tensor<4x192xf32>, tensor<3x3xf32>
    ```
  }];
  let arguments = (ins QC_FloatTensor:$input, Optional<QC_FloatTensor>:$factor);
  let results = (outs QC_FloatTensor:$output);
  let assemblyFormat = "$input (`,` $factor^)? attr-dict `:` type($input) (`,` type($factor)^)?";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// m, the size of the factor (1 without one).
    int64_t getFactorSize();
  }];
}

//===----------------------------------------------------------------------===//
// Quantize / dequantize
//===----------------------------------------------------------------------===//

def QC_QuantizeOp : QC_Op<"quantize", [Pure]> {
  let summary = "Quantizes a float tensor to a quantized type";
  let description = [{
    `q = clamp(round_half_to_even(x / scale) + zero_point, storage_min, storage_max)`
    with the scale and zero point of the result's `!quant.uniform` element
    type, per tensor, per axis or per block. The result element type's
    expressed type must be the operand's element type.

    ```mlir
    %q = qc.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3, 0.4}>>
    ```
  }];
  let arguments = (ins QC_FloatTensor:$input);
  let results = (outs QC_QuantizedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QC_DequantizeOp : QC_Op<"dequantize", [Pure]> {
  let summary = "Dequantizes a quantized tensor to float";
  let description = [{
    `x = (q - zero_point) * scale` with the parameters of the operand's
    quantized element type; the result element type is its expressed type.

    ```mlir
    %x = qc.dequantize %q : tensor<4x!quant.uniform<u8:f32, 0.05:128>> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins QC_QuantizedTensor:$input);
  let results = (outs QC_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def QC_BlockDequantizeOp : QC_Op<"block_dequantize", [Pure]> {
  let summary = "Decodes packed minifloat weights with their block scales";
  let description = [{
    Weights in a minifloat `format` (fp8_e4m3, fp8_e5m2, fp6_e3m2,
    fp6_e2m3, fp4_e2m1), stored packed: `codes` holds the row-major
    elements' codes of `b` bits each (8, 6 or 4), least significant bit
    first (FP4 two to a byte, FP6 four to three bytes; qc::minifloat's
    packCodes). The result is
    `code_value(format, code) * scale[c, k / B] * tensor_scale`, where `c`
    is the element's index along the channel axis `axis` (0, or the last of
    a 2-D tensor) and `k` its index among the other dims (row-major), with
    `scales` of shape `[C, nb]`, `B` = `block` and `nb = ceil(K / B)` (the
    last block of a channel may be shorter).

    The scales are f32, or codes of `scale_format`: `e8m0` (OCP MX v1.0:
    `2^(e - 127)`, blocks of 32) or `fp8_e4m3` (NVFP4: blocks of 16, with a
    per-tensor f32 `tensor_scale`). fold-calibration writes this op for a
    minifloat weight scheme; lower-quantized-to-integer turns a product
    with an MXFP4 or MXFP6-E2M3 weight into exact integers (docs/minifloat.md).

    ```mlir
    %w = qc.block_dequantize %codes, %scales {format = #qc<format fp4_e2m1>, axis = 1 : i64,
           block = 32 : i64, scale_format = #qc<format e8m0>} : (tensor<2048xi8>, tensor<64x2xi8>) -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8, UI8]>:$codes,
                       RankedTensorOf<[I8, UI8, F32]>:$scales,
                       QC_ElementFormatAttr:$format,
                       I64Attr:$axis, I64Attr:$block,
                       OptionalAttr<QC_ElementFormatAttr>:$scale_format,
                       DefaultValuedAttr<F64Attr, "1.0">:$tensor_scale);
  let results = (outs QC_FloatTensor:$output);
  let assemblyFormat = [{
    $codes `,` $scales attr-dict `:` `(` type($codes) `,` type($scales) `)`
    `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bits per code (8, 6 or 4).
    unsigned getCodeBits();
  }];
}

def QC_MinifloatQuantizeOp : QC_Op<"minifloat_quantize", [Pure]> {
  let summary = "Encodes float activations as minifloat codes at a per-tensor scale";
  let description = [{
    Each element `x` becomes the code (one per byte, in the low bits) of
    `x / scale` in the minifloat `format`, rounded to nearest with ties to
    even; magnitudes above the format's largest finite value saturate to it
    (OCP 8-bit floating point v1.0's saturating conversion); NaN becomes a
    NaN code where the format has one (fp8_e4m3, fp8_e5m2), else the
    largest code. fold-calibration writes it for FP8 activations
    (`activation-type=fp8_e4m3|fp8_e5m2`), `scale` being the calibrated
    range over the format's largest value.

    ```mlir
    %c = qc.minifloat_quantize %x {format = #qc<format fp8_e4m3>, scale = 0.01 : f64}
           : tensor<4x64xf32> -> tensor<4x64xi8>
    ```
  }];
  let arguments = (ins QC_FloatTensor:$input, QC_ElementFormatAttr:$format,
                       F64Attr:$scale);
  let results = (outs RankedTensorOf<[I8]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def QC_MinifloatDequantizeOp : QC_Op<"minifloat_dequantize", [Pure]> {
  let summary = "Decodes minifloat codes (one per byte) times a per-tensor scale";
  let description = [{
    The inverse of qc.minifloat_quantize: `code_value(format, code) * scale`
    for each byte's code.

    ```mlir
    %x = qc.minifloat_dequantize %c {format = #qc<format fp8_e4m3>, scale = 0.01 : f64}
           : tensor<4x64xi8> -> tensor<4x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$input, QC_ElementFormatAttr:$format,
                       F64Attr:$scale);
  let results = (outs QC_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def QC_MatMulFp8Op : QC_Op<"matmul_fp8", [Pure]> {
  let summary = "FP8 x FP8 matmul with f32 accumulation";
  let description = [{
    The product of FP8 codes `a` (`[..., M, K]`, one code a byte, format
    `a_format`) and FP8 weight codes `b` given as `[N, K]` (each output
    channel's row, as qc.block_dequantize stores 8-bit weights):

    ```
    out[..., m, n] = sum_k value(a_format, a[..., m, k]) * value(b_format, b[n, k])
    ```

    Every product is exact in f32; the sum is accumulated in f32 in an
    order the lowering chooses (the tensor cores' FP8 accumulation keeps
    fewer bits than f32: docs/minifloat.md). Scales are applied by the ops
    after it. lower-quantized-to-integer makes it from a Gemm or MatMul
    whose input is qc.minifloat_dequantize and whose weight is a
    per-channel FP8 qc.block_dequantize. Formats: fp8_e4m3, fp8_e5m2.

    ```mlir
    %y = qc.matmul_fp8 %a, %b {a_format = #qc<format fp8_e4m3>, b_format = #qc<format fp8_e4m3>}
           : (tensor<4x64xi8>, tensor<32x64xi8>) -> tensor<4x32xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$a, RankedTensorOf<[I8]>:$b,
                       QC_ElementFormatAttr:$a_format,
                       QC_ElementFormatAttr:$b_format);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $a `,` $b attr-dict `:` `(` type($a) `,` type($b) `)` `->` type($output)
  }];
  let hasVerifier = 1;
}

def QC_StorageCastOp : QC_Op<"storage_cast", [Pure]> {
  let summary = "Reinterprets quantized values as their integer storage, or back";
  let description = [{
    Converts between a tensor of `!quant.uniform` type and a tensor of its
    storage integers, with no change to the bits. Unlike upstream
    `quant.scast`, the integer side keeps the signedness of the storage:
    `u8` storage is `ui8`, `i8` storage is `i8` or `si8`. Integer ops take
    these integers; the scale and zero point stay in the quantized type.

    ```mlir
    %i = qc.storage_cast %q : tensor<4x!quant.uniform<u8:f32, 0.05:128>> -> tensor<4xui8>
    ```
  }];
  let arguments = (ins AnyTypeOf<[QC_QuantizedTensor, QC_IntTensor]>:$input);
  let results = (outs AnyTypeOf<[QC_QuantizedTensor, QC_IntTensor]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QC_DynamicQuantizeOp : QC_Op<"dynamic_quantize", [Pure]> {
  let summary = "Quantizes each row, or each group of a row, with scales found at run time";
  let description = [{
    Dynamic quantization along the last axis: the input `[..., K]` is cut
    into groups of `G` consecutive channels of a row, where `G = K / S` and
    `S` is the last dim of `scales` (`[..., S]`; `S = 1`: one scale per row,
    i.e. per token). Each group gets its scale (and, with the `zero_points`
    result, its zero point) from its own values when the op runs; the
    results are the `bits`-bit integers stored as `i8`, the f32 scales and
    the zero points (integer values held as f32, the form the consumers
    compute with). All arithmetic is in f32, in this order
    (`round` rounds half to even, `clip(v, a, b) = min(max(v, a), b)`):

    - symmetric (two results), with `qmax = 2^(bits-1) - 1`:
      `s = max(max_g |x|, 1e-12) / qmax`,
      `q = clip(round(x / s), -qmax, qmax)`;
    - with zero points (three results), `qmin = -2^(bits-1)`:
      `lo = min(min_g x, 0)`, `hi = max(max_g x, 0)`,
      `s = max(hi - lo, 1e-12) / (qmax - qmin)`,
      `z = qmin - round(lo / s)`,
      `q = clip(round(x / s) + z, qmin, qmax)`.

    `qc.dynamic_dequantize` computes `(q - z) * s` back. fold-calibration
    emits the pair for `activation-granularity=token|group:G` (a group size
    that does not divide `K` falls back to a scale per row there);
    lower-quantized-to-integer feeds `q` and the scales straight to
    `qc.matmul_int` / `qc.matmul_group_scaled`, and convert-qc-to-linalg
    expands what is left into one pass over each row for its range and
    one to quantize.

    ```mlir
    %q, %s = qc.dynamic_quantize %x bits 8 : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4x1xf32>
    %q2, %s2, %z2 = qc.dynamic_quantize %x bits 8
                      : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4x2xf32>, tensor<4x2xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input,
                       ConfinedAttr<I64Attr, [IntMinValue<2>, IntMaxValue<8>]>:$bits);
  let results = (outs RankedTensorOf<[I8]>:$output, RankedTensorOf<[F32]>:$scales,
                      Optional<RankedTensorOf<[F32]>>:$zero_points);
  let assemblyFormat = [{
    $input `bits` $bits attr-dict `:` type($input) `->` type($output) `,` type($scales)
    (`,` type($zero_points)^)?
  }];
  let builders = [
    // groupSize 0: a scale per row.
    OpBuilder<(ins "::mlir::Value":$input, "unsigned":$bits, "int64_t":$groupSize,
                   "bool":$zeroPoints)>
  ];
  let extraClassDeclaration = [{
    /// Consecutive channels sharing a scale (K for a scale per row).
    int64_t getGroupSize();
  }];
  let hasVerifier = 1;
}

def QC_DynamicDequantizeOp : QC_Op<"dynamic_dequantize", [Pure]> {
  let summary = "Dequantizes the result of qc.dynamic_quantize";
  let description = [{
    `x = (f32(q) - z) * s` in f32, with the scale `s` (and zero point `z`,
    when given) of the group of `G = K / S` consecutive channels each
    element of the `[..., K]` input belongs to; `scales` and `zero_points`
    are `[..., S]` (see `qc.dynamic_quantize`).

    ```mlir
    %y = qc.dynamic_dequantize %q scales %s zero_points %z
           : (tensor<4x64xi8>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$input, RankedTensorOf<[F32]>:$scales,
                       Optional<RankedTensorOf<[F32]>>:$zero_points);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input `scales` $scales (`zero_points` $zero_points^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// Consecutive channels sharing a scale (K for a scale per row).
    int64_t getGroupSize();
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Integer-only arithmetic
//===----------------------------------------------------------------------===//

def QC_RequantizeOp : QC_Op<"requantize", [Pure]> {
  let summary = "Rescales integers with dyadic parameters";
  let description = [{
    Integer-only rescaling of an accumulator to a narrower integer:

    ```
    y = clamp(output_zp + rshift_round((x - input_zp) * multiplier[c], shift[c]),
              clamp_min, clamp_max)
    ```

    computed in 64-bit arithmetic, where `rshift_round(v, s)` is
    `floor((v + 2^(s-1)) / 2^s)` (round half toward +infinity; `v` for
    `s = 0`) and `c` is the index along `axis` when more than one
    multiplier is given (per-channel requantization). `multiplier / 2^shift`
    approximates a real scale `s_in * s_w / s_out`; `qc::computeDyadic` in
    `qc/Support/Dyadic.h` chooses it with a 31-bit normalized multiplier so
    that the result is within one unit of `round(x * scale)` for every
    int32 `x`. Activation functions such as Relu and Relu6 fold into the
    clamp range. An i64 input (the accumulator of a 16-bit activation's
    product) needs `|x - input_zp| * multiplier < 2^62`; the lowering picks
    a multiplier of fewer bits from the accumulator's bound for it.

    ```mlir
    %y = qc.requantize %acc multiplier [1374389535] shift [37] zp (0 -> -3) clamp (-128, 127)
           : tensor<1x16x8x8xi32> -> tensor<1x16x8x8xi8>
    ```
  }];
  let arguments = (ins QC_IntTensor:$input,
                       DenseI32ArrayAttr:$multiplier,
                       DenseI32ArrayAttr:$shift,
                       OptionalAttr<I64Attr>:$axis,
                       DefaultValuedAttr<I32Attr, "0">:$input_zp,
                       DefaultValuedAttr<I32Attr, "0">:$output_zp,
                       I64Attr:$clamp_min,
                       I64Attr:$clamp_max);
  let results = (outs QC_IntTensor:$output);
  let assemblyFormat = [{
    $input `multiplier` $multiplier `shift` $shift (`axis` $axis^)?
    `zp` `(` $input_zp `->` $output_zp `)` `clamp` `(` $clamp_min `,` $clamp_max `)`
    attr-dict `:` type($input) `->` type($output)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QC_ConvIntOp : QC_Op<"conv_int", [Pure]> {
  let summary = "N-d integer convolution with zero points and int32 accumulation";
  let description = [{
    ONNX ConvInteger semantics on `N x C x D1 x ... x Dn` inputs and
    `F x C/group x K1 x ... x Kn` weights (n = 1, 2 or 3):

    ```
    acc[n, f, o...] = bias[f] + sum_{c, k...} (x[n, c, i...] - input_zp) * (w[f, c, k...] - weight_zp[f])
    ```

    `weight_zp` has one entry (per tensor) or `F` entries (per output
    channel). `pads` holds the begin pads of every spatial dim, then the end
    pads, like ONNX. Padding inserts `input_zp`, the quantized zero.
    Operands are integers of at most 8 bits and the result is i32; or, for
    a 16-bit activation (W8A16), the input has 9-16 bits and the result is
    i64. With
    `lowbit` (`#qc.lowbit`), the constant weights are levels of a 1-4 bit
    format, computed on bit planes (with binary activations: by popcount).

    With `channels_last` (2-d, group 1), the input is `N x H x W x C` and
    the result `N x OH x OW x F` (NHWC); the weights keep their layout.
    `qc-channels-last` sets it where the int8 kernels run the convolution
    in that layout.

    ```mlir
    %acc = qc.conv_int %x, %w bias %b zp (128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1
             : (tensor<1x3x8x8xui8>, tensor<16x3x3x3xi8>, tensor<16xi32>) -> tensor<1x16x8x8xi32>
    ```
  }];
  let arguments = (ins QC_IntTensor:$input, QC_IntTensor:$weight,
                       Optional<RankedTensorOf<[I32, I64]>>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       DefaultValuedAttr<I32Attr, "0">:$input_zp,
                       DenseI32ArrayAttr:$weight_zp,
                       OptionalAttr<QC_LowBitAttr>:$lowbit,
                       UnitAttr:$channels_last);
  let results = (outs RankedTensorOf<[I32, I64]>:$output);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? `zp` `(` $input_zp `,` $weight_zp `)`
    `strides` $strides `pads` $pads `dilations` $dilations `group` $group
    (`channels_last` $channels_last^)? attr-dict
    `:` `(` type($input) `,` type($weight) (`,` type($bias)^)? `)` `->` type($output)
  }];
  let hasVerifier = 1;
}

def QC_MatMulIntOp : QC_Op<"matmul_int", [Pure]> {
  let summary = "Batched integer matmul with zero points and int32 accumulation";
  let description = [{
    ONNX MatMulInteger semantics: `acc = bias + (a - a_zp) x (b - b_zp)` over
    the last two dims, with numpy broadcasting of the batch dims. `b_zp`
    holds one entry (per tensor) or `N` entries (per column). Operands are
    integers of at most 8 bits; the result is i32.

    With `lowbit` (a `#qc.lowbit` format; `b` must then be a constant whose
    values it holds), the product is computed on the weights' bit planes.

    ```mlir
    %acc = qc.matmul_int %a, %b zp (3, [0]) : (tensor<2x4x64xi8>, tensor<64x32xi8>) -> tensor<2x4x32xi32>
    %acc = qc.matmul_int %a, %w zp (3, [0]) {lowbit = #qc.lowbit<bits = 2, base = -2, step = 1>}
             : (tensor<1x64xi8>, tensor<64x32xi8>) -> tensor<1x32xi32>
    ```
  }];
  let arguments = (ins QC_IntTensor:$a, QC_IntTensor:$b,
                       Optional<RankedTensorOf<[I32, I64]>>:$bias,
                       DefaultValuedAttr<I32Attr, "0">:$a_zp,
                       DenseI32ArrayAttr:$b_zp,
                       OptionalAttr<QC_LowBitAttr>:$lowbit);
  let results = (outs RankedTensorOf<[I32, I64]>:$output);
  let assemblyFormat = [{
    $a `,` $b (`bias` $bias^)? `zp` `(` $a_zp `,` $b_zp `)` attr-dict
    `:` `(` type($a) `,` type($b) (`,` type($bias)^)? `)` `->` type($output)
  }];
  let hasVerifier = 1;
}

def QC_MatMulMxOp : QC_Op<"matmul_mx", [Pure]> {
  let summary = "Integer matmul with MX weights: exact int8 products, block shifts";
  let description = [{
    The product of integer activations `a` (`[..., M, K]`, 8-bit, zero point
    `a_zp`) with `[K, N]` weights whose blocks of `block` consecutive `k`
    are packed minifloat codes (`codes`, as qc.block_dequantize stores
    them) that are exact small integers once scaled: an fp4_e2m1 value
    times 2, an fp6_e2m3 value times 8 (`w[k, n]` below). Each block's int32
    product is shifted left by `shifts[n, b]` (0 to 62; -1 drops the block)
    and accumulated in int64:

    ```
    acc[m, n] = bias[n] + sum_b (sum_{k in b} (a[m, k] - a_zp) w[k, n]) << shifts[n, b]
    ```

    lower-quantized-to-integer makes it from a product with an OCP MX
    weight (E8M0 block scales 2^e): the shift of a block is `e - e_ref[n]`,
    and the requantization after it carries `2^(e_ref[n] - 127)` over the
    integer factor. Every product and sum is exact.

    ```mlir
    %acc = qc.matmul_mx %a, %codes, %shifts zp 3 {format = #qc<format fp4_e2m1>, block = 32 : i64}
             : (tensor<1x64xi8>, tensor<512xi8>, tensor<16x2xi8>) -> tensor<1x16xi64>
    ```
  }];
  let arguments = (ins QC_IntTensor:$a, RankedTensorOf<[I8, UI8]>:$codes,
                       RankedTensorOf<[I8]>:$shifts,
                       Optional<RankedTensorOf<[I64]>>:$bias,
                       DefaultValuedAttr<I32Attr, "0">:$a_zp,
                       QC_ElementFormatAttr:$format, I64Attr:$block);
  let results = (outs RankedTensorOf<[I64]>:$output);
  let assemblyFormat = [{
    $a `,` $codes `,` $shifts (`bias` $bias^)? `zp` $a_zp attr-dict
    `:` `(` type($a) `,` type($codes) `,` type($shifts) (`,` type($bias)^)? `)`
    `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The integer each code stands for (the format's value times 2 or 8),
    /// or none for a format that has no exact integer form.
    static std::optional<int> integerFactor(ElementFormat format);
  }];
}

def QC_MatMulGroupScaledOp : QC_Op<"matmul_group_scaled",
                                   [Pure, AttrSizedOperandSegments]> {
  let summary = "int8 matmul whose input has a scale (and zero point) per group of channels";
  let description = [{
    The product of an input quantized dynamically per group of `group`
    consecutive channels of a row (fold-calibration's
    `activation-granularity=group:G`) with a per-channel quantized weight,
    in float:

    ```
    y[..., n] = bias[n] + b_scales[n] * sum_g a_scales[..., g] *
                sum_{k = gG}^{gG + G - 1} (a[..., k] - a_zeros[..., g]) * b[k, n]
    ```

    `a` is `[..., K]` i8, `b` is `[K, N]` i8 (symmetric: no zero point),
    `a_scales` and the optional `a_zeros` (integer values held as f32) are
    `[..., K/G]`, `b_scales` has 1 or `N` entries, the optional `bias` `N`;
    the result is `[..., N]` f32. Each group's sum is an exact int32 sum of
    products; the kernels (convert-qc-to-linalg int8-kernels=vnni|generic)
    compute it per register tile and scale it there, so the groups' partial
    products never reach memory.

    ```mlir
    %y = qc.matmul_group_scaled %a, %b scales (%sa, %sb) zeros %za group 32
           : (tensor<4x64xi8>, tensor<64x16xi8>, tensor<4x2xf32>, tensor<16xf32>, tensor<4x2xf32>) -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$a, RankedTensorOf<[I8]>:$b,
                       RankedTensorOf<[F32]>:$a_scales, RankedTensorOf<[F32]>:$b_scales,
                       Optional<RankedTensorOf<[F32]>>:$a_zeros,
                       Optional<RankedTensorOf<[F32]>>:$bias,
                       I64Attr:$group);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $a `,` $b `scales` `(` $a_scales `,` $b_scales `)` (`zeros` $a_zeros^)?
    (`bias` $bias^)? `group` $group attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def QC_ClampOp : QC_Op<"clamp", [Pure, SameOperandsAndResultType]> {
  let summary = "Clamps integers to a range";
  let description = [{
    `y = min(max(x, min), max)` elementwise on integers; both bounds must be
    representable in the element type.

    ```mlir
    %y = qc.clamp %x (0, 127) : tensor<16xi8>
    ```
  }];
  let arguments = (ins QC_IntTensor:$input, I64Attr:$min, I64Attr:$max);
  let results = (outs QC_IntTensor:$output);
  let assemblyFormat = "$input `(` $min `,` $max `)` attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def QC_TableOp : QC_Op<"table", [Pure]> {
  let summary = "Looks each 8-bit integer up in a table";
  let description = [{
    `y = table[x - min(x's type)]` elementwise: an input of 8 bits or fewer
    indexes the table (256 entries for 8 bits, 2^bits in general) from its
    type's smallest value, so `table[0]` is the value of 0 for `ui8` and of
    -128 for `i8`. Every entry must be representable in the result element
    type; shapes match.

    lower-quantized-to-integer makes one of a unary float function between
    a dequantization and a quantization (HardSwish, GELU, Sigmoid, ...):
    the function evaluated at compile time at every input level, so the
    chain stays in integers, and the kernels apply it in their epilogue
    when it follows a product's requantization.

    ```mlir
    %y = qc.table %x [0, 0, 1, ...] : tensor<8xui8> -> tensor<8xui8>
    ```
  }];
  let arguments = (ins QC_IntTensor:$input, DenseI32ArrayAttr:$table);
  let results = (outs QC_IntTensor:$output);
  let assemblyFormat =
      "$input $table attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def QC_CastOp : QC_Op<"cast", [Pure]> {
  let summary = "Saturating conversion between integer element types";
  let description = [{
    Converts each element to the result element type, interpreting `uiN`
    as unsigned and `iN`/`siN` as signed, saturating to the result range.

    ```mlir
    %y = qc.cast %x : tensor<16xi32> -> tensor<16xi8>
    ```
  }];
  let arguments = (ins QC_IntTensor:$input);
  let results = (outs QC_IntTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // QC_OPS_TD
