//===- Passes.td - qc passes -------------------------------*- tablegen -*-===//
#ifndef QC_TRANSFORMS_PASSES_TD
#define QC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def CheckIntegerOnly : Pass<"check-integer-only"> {
  let summary = "Fails if floating-point arithmetic remains between quantize and dequantize";
  let description = [{
    The integer-only region of a function is every op that a `qc.quantize`
    result reaches and that reaches a `qc.dequantize` operand (HAWQ-V3's
    "integer-only inference"). This pass reports each op in that region,
    or nested in one, that has a floating-point operand, result or block
    argument, and fails if there is any. It runs at any level of lowering,
    so a lit test can assert that a quantized chain lowered to
    linalg/arith keeps no float op between the first quantize and the last
    dequantize.
  }];
}

def FoldBatchNorm : Pass<"fold-batch-norm"> {
  let summary = "Folds inference BatchNormalization into the preceding Conv or Gemm";
  let description = [{
    `BatchNormalization(Conv(x, W, B))` with constant weights and statistics
    becomes `Conv(x, W', B')` with `W'[f] = W[f] * g[f]`,
    `B'[f] = (B[f] - mean[f]) * g[f] + beta[f]` and
    `g = scale / sqrt(var + epsilon)`; the same for a Gemm whose output
    channels are its columns. The conv or gemm must have no other user.
    Quantization needs it: the folded weights are what gets quantized, and
    the normalization leaves no float op between two integer convolutions.
  }];
}

def InsertObservers : Pass<"insert-observers"> {
  let summary = "Inserts qc.observe on the activations that quantization needs ranges for";
  let description = [{
    Before each quantizable op (Conv, Gemm, MatMul, Add, Concat,
    GlobalAveragePool) every non-constant float operand, and after it its
    result, gets a `qc.observe` named after the value (the op's location
    name and the operand or result). An activation (Relu, Clip with
    constant bounds) that is the result's only user is observed after the
    activation instead, so that it fuses into the requantization clamp.
    Inputs of Conv, Gemm and MatMul record their per-channel means along
    the reduction channel for bias correction. Each value is observed once.
  }];
  let options = [
    Option<"bins", "bins", "int64_t", "2048",
           "Histogram bins per observer (for percentile, MSE and entropy calibration)">,
  ];
}

def FoldCalibration : Pass<"fold-calibration"> {
  let summary = "Turns calibrated observers into quantization and quantizes the weights";
  let description = [{
    Each `qc.observe` with a range becomes `qc.quantize` + `qc.dequantize`
    with the parameters of that range: asymmetric `u8` (zero point inside
    [0, 255], the range widened to include 0) or symmetric `i8`.
    The constant float weights of Conv, Gemm and MatMul are quantized at
    compile time to symmetric int8 in `[-127, 127]`, per output channel
    (default) or per tensor, stored as integer blobs and read through
    `qc.storage_cast` + `qc.dequantize`; a Gemm's transposed weight is
    stored transposed back (`transB = 0`).

    Bias correction (Nagel et al. 2019; Hubara et al. 2021): where the
    layer's input observer recorded per-channel means `E[x]`, the expected
    output shift of the quantized weights, `(W_q - W) E[x]`, is subtracted
    from the bias of Conv and Gemm (a zero bias is added where there was
    none).

    An observer without a range is an error: calibration did not run.
  }];
  let options = [
    Option<"activationType", "activation-type", "std::string", "\"u8\"",
           "Activation storage: u8 (asymmetric) or i8 (symmetric)">,
    Option<"weightGranularity", "weight-granularity", "std::string", "\"channel\"",
           "Weight scales: channel (per output channel), tensor, or block:N (per output "
           "channel and block of N along the reduction axis)">,
    Option<"biasCorrection", "bias-correction", "bool", "true",
           "Correct the bias for the weights' expected quantization error">,
  ];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
}

def LowerQuantizedToInteger : Pass<"lower-quantized-to-integer"> {
  let summary = "Rewrites dequantize -> float op -> quantize chains to integer-only ops";
  let description = [{
    The QDQ form (what `fold-calibration` produces and what QDQ ONNX models
    import to) becomes integer arithmetic:

    * Conv, Gemm, MatMul between a quantized input (per tensor), quantized
      weights (per tensor or per output channel) and a quantized result:
      `qc.conv_int` / `qc.matmul_int` with the bias as int32 at scale
      `s_x * s_w`, then `qc.requantize` with the dyadic form of
      `s_x * s_w / s_y`; a following Relu or Clip fuses into its clamp.
    * Add: both inputs requantized to a common fine scale in int32
      (`s_y / 2^F`), added, and requantized to the result.
    * GlobalAveragePool: an int32 sum, requantized with `s_x / (n s_y)`.
    * Concat: each input requantized to the result's parameters.
    * MaxPool, GlobalMaxPool, Reshape, Flatten, Transpose, Squeeze,
      Unsqueeze run on the integers (dequantization moves after them).
    * `quantize(dequantize(x))` with other parameters: `qc.requantize`.

    Ops with no integer form keep their float computation between
    dequantize and quantize.
  }];
}

#endif // QC_TRANSFORMS_PASSES_TD
