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
  let summary = "Folds inference BatchNormalization and constant bias Adds into the preceding Conv, ConvTranspose or Gemm";
  let description = [{
    `BatchNormalization(Conv(x, W, B))` with constant weights and statistics
    becomes `Conv(x, W', B')` with `W'[f] = W[f] * g[f]`,
    `B'[f] = (B[f] - mean[f]) * g[f] + beta[f]` and
    `g = scale / sqrt(var + epsilon)`; the same for a Gemm whose output
    channels are its columns, and for a ConvTranspose (output channel
    `f` is weight dim 1 within its group). The producer must have no other
    user.
    Quantization needs it: the folded weights are what gets quantized, and
    the normalization leaves no float op between two integer convolutions.

    A constant `Add` after a Conv, ConvTranspose or Gemm with one value per
    output channel (or one) folds into its bias the same way (exporters
    write a ConvTranspose's bias as a separate Add). With
    `matmul-bias-to-gemm`, `Add(MatMul(a, W), b)` with a constant `[K, N]`
    weight and a bias along the last axis becomes a Gemm with bias on `a`
    reshaped to `[rows, K]` (and the result reshaped back): the bias then
    joins the int32 accumulators instead of being a float Add between two
    quantizations (transformers' projections). Rotation and smoothing
    rewrite MatMul + Add pairs themselves, and dynamic (per-token or
    per-group) activations keep them too: quant-compile turns this off for
    all three.
  }];
  let options = [
    Option<"matmulBiasToGemm", "matmul-bias-to-gemm", "bool", "true",
           "Fuse MatMul + constant bias Add into a Gemm">,
  ];
}

def DecomposeConvTranspose : Pass<"decompose-conv-transpose"> {
  let summary = "Runs upsampling ConvTranspose (windows that do not overlap) as a 1x1 Conv and a depth-to-space rearrangement";
  let description = [{
    A 2-d ConvTranspose with strides equal to its kernel, dilation 1, no
    padding, group 1 and constant weights (the upsampling heads of
    segmentation and text-detection models, e.g. PP-OCR's DB head) computes
    every output pixel `(h KH + kh, w KW + kw)` from input pixel `(h, w)`
    alone. It becomes a 1x1 `Conv` to `F KH KW` channels (weights
    `W'[(f, kh, kw)][c] = W[c][f][kh][kw]`, the bias repeated per tap)
    and `Reshape -> Transpose -> Reshape` to `[N, F, H KH, W KW]`: the
    convolution runs in the int8 or float kernels (and is quantized like any
    other), the rearrangement on integers, instead of a generic loop over
    every output pixel and window tap. `fold-batch-norm` runs first, so a
    BatchNormalization after the ConvTranspose is already in its weights.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def EqualizeLayers : Pass<"equalize-layers", "::mlir::func::FuncOp"> {
  let summary = "Folds constant affines into convolutions and equalizes conv pairs (float function unchanged)";
  let description = [{
    Data-free rewrites (Nagel et al., 2019) that keep what the float model
    computes and make it quantize better. A `qc.Mul` or `qc.Add` of a Conv's
    only result by a constant (one value, or one per output channel) folds
    into the Conv's weights and bias, so the product's output is quantized
    once. Then, for each `Conv1 -> [Relu] -> Conv2` whose intermediate value
    has no other user (any group count, depthwise included), output channel
    `c` of Conv1 is divided by `s_c = sqrt(r1_c / r2_c)` and the weights of
    Conv2 that read input channel `c` multiplied by it, where `r1_c` and
    `r2_c` are the channel's largest weight magnitudes in the two layers;
    both become `sqrt(r1_c r2_c)`. Relu commutes with a positive scale and
    zero padding stays zero. Pairs are swept until the scales settle (at
    most `sweeps` times).

    Bias absorption (with `absorb-bias`, Nagel et al. 2019 section 4.2):
    where Conv1 carries `qc.output_stats` (fold-batch-norm's record of the
    folded BN's shift `beta_c` and `|gamma_c|`, rescaled with the
    equalization), the pair has a Relu between and Conv2 no padding, the
    part of channel `c` that is almost always above zero,
    `a_c = max(0, beta_c - 3 |gamma_c|)`, moves from Conv1's bias into
    Conv2's: `b1_c -= a_c`, `b2_f += sum_k W2[f, c, k] a_c`. The
    intermediate activation's range shrinks by `a_c`; the function changes
    only where a pre-activation falls below `a_c` (under the BN's Gaussian,
    0.13% of values).
  }];
  let options = [
    Option<"sweeps", "sweeps", "int64_t", "16",
           "Sweeps over the conv pairs at most">,
    Option<"absorbBias", "absorb-bias", "bool", "true",
           "Move each Relu-ed channel's always-positive part into the next conv's bias">
  ];
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
    Option<"scope", "scope", "::qc::QuantizeScope", "::qc::QuantizeScope::All",
           "Which activations are observed (and so quantized)",
           [{::qc::clValues<::qc::QuantizeScope>()}]>,
  ];
}

def SmoothActivations : Pass<"smooth-activations"> {
  let summary = "SmoothQuant: moves activation outliers into the weights";
  let description = [{
    For each activation whose readers are all linear layers (MatMul with a
    constant 2-D weight, Gemm with a constant B) and whose producer can
    absorb a per-channel factor (LayerNormalization over the last axis,
    `Mul(z, gamma)` / `Add(Mul(z, gamma), beta)` with per-channel constants
    as decomposed LayerNorms end, or a linear layer whose only output it
    is), computes SmoothQuant's factors (Xiao et al. 2023)

        s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)

    from the observer's `channel_abs_max` (calibration) and the maximum of
    row j over all readers' weights (Q, K and V share one vector), and
    rewrites `X W = (X / s)(s W)`: 1/s into the producer's gamma and beta
    (or its weight columns and bias), s into the readers' weight rows. The
    float function is unchanged; the activation's channels are flattened.
    A `qc.smooth_alpha` attribute on an observer (the driver's per-layer
    search) overrides the option. The observer's range is stale afterwards:
    `min`/`max` are dropped and the channel statistics rescaled, so the
    model is to be calibrated again. Activations without statistics or
    with another producer stay as they are.
  }];
  let options = [
    Option<"alpha", "alpha", "double", "0.5",
           "Migration strength in [0, 1] (0: all difficulty on the activations)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def RotateHadamard : Pass<"rotate-hadamard"> {
  let summary = "QuaRot-style randomized Hadamard rotation of linear layers' inputs";
  let description = [{
    For each activation X (K channels) whose readers are all linear layers
    (as for `smooth-activations`), rewrites `X W = (X D T)(T^T D W)` with D
    random signs and T the orthogonal transform of `qc.hadamard`
    (for K = c 2^k: Paley's Hadamard matrix of order 4c times a
    Walsh-Hadamard transform of order 2^(k-2) where 4c - 1 is prime and
    k >= 2, so that T is a Hadamard matrix; else a random orthogonal c x c
    factor times the Walsh-Hadamard transform of order 2^k).
    `T^T D W` is computed offline
    into every reader's weights. `X D T` is folded into the producer
    where the algebra allows: a linear producer's weight columns and bias
    take `D T` and nothing runs online. A LayerNormalization (or the
    `Mul`/`Add` tail of a decomposed one) takes D into its scale and shift
    (`gamma D`, `beta D`) and is followed by an online `qc.hadamard`, so
    that what is rotated and quantized is the normalization's output as
    the readers saw it (folding gamma into the readers instead would
    quantize the normalized input, whose channels that a small gamma
    silences can be large); any other producer gets a `Mul` by D and an
    online `qc.hadamard`. The float function is unchanged; outlier
    channels are spread over all channels before quantization. Observers
    between the producer and the readers then observe the rotated
    activation, their statistics dropped (calibrate again).

    With `residual` (default), a pre-LN transformer's residual stream is
    rotated first, as QuaRot and SliceGPT do, so that the normalizations'
    readers need nothing online: the stream is the sums (embedding
    lookups, constants such as positions, and linear layers' outputs)
    that only normalizations and further sums read. Every writer is
    centered (its output rows minus their mean, so that the stream has
    zero mean and each LayerNorm equals an RMSNorm) and rotated by `D T`
    offline (weight rows and bias, embedding table rows, constant rows);
    each LayerNormalization (or decomposed LayerNorm) becomes
    `x / sqrt(mean(x^2) + eps)`, which commutes with the rotation, and its
    readers take gamma, beta and `T^T D`. Where the graph has no such
    stream (a reader of it that is neither a sum nor a normalization, a
    writer that is none of those), nothing changes and every activation is
    rotated on its own as above.
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", "0",
           "Seed of the random signs and orthogonal factors">,
    Option<"residual", "residual", "bool", "true",
           "Rotate a transformer's residual stream offline (writers centered and rotated, "
           "LayerNorms as RMSNorms), before the remaining activations">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def ExposeObserved : Pass<"expose-observed", "::mlir::ModuleOp"> {
  let summary = "Returns the observed activations of @main_graph as extra results";
  let description = [{
    Calibration and the quality report read activations by running the
    model: this pass appends each observed value of `@main_graph` to its
    results, after the model's own, named `observed:<name>` in
    `qc.output_names`. Observed are the `qc.observe` ops (by their name), or,
    with `quantized`, the ops fold-calibration tagged `qc.observed` (the
    dequantized activations). Values inside nested regions are not exposed
    (a function result cannot read them).
  }];
  let options = [
    Option<"quantized", "quantized", "bool", "false",
           "Expose the qc.observed-tagged dequantized activations instead of qc.observe ops">,
  ];
}

def StripObservers : Pass<"strip-observers"> {
  let summary = "Removes qc.observe ops, leaving the float model";
  let description = [{
    Replaces every `qc.observe` by its input: the float model as the
    rewrites left it (`quant-compile --emit-rewritten`), or the base of a
    sensitivity model.
  }];
}

def ParameterizeForSensitivity
    : Pass<"parameterize-for-sensitivity", "::mlir::ModuleOp"> {
  let summary = "Makes layer weights and activation fake quantization run-time inputs";
  let description = [{
    The sensitivity measurement of bit-width assignment runs one compiled
    model many times, each time with one layer's weights, or one layer
    input, quantized to one format. This pass builds that model from a
    calibrated `@main_graph`: the weight of every layer the measurement
    covers (Conv, Gemm and MatMul with a constant f32 weight and a
    calibrated `qc.observe` input; see `qc::sensitivityLayers`) becomes an
    extra argument `weight:<i>`; each distinct observed layer input `x`
    becomes `x + e * (fq(x) - x)` with
    `fq(x) = (clip(round(x / s) + z, lo, hi) - z) * s` and the scalars
    `e, s, z, lo, hi` extra arguments `fq:<g>:0..4` (`e = 0` switches it
    off); other observers are removed. An output computed by a Softmax over
    its last axis is returned at the Softmax's input (the logits).

    With `all-activations`, every calibrated observer gets the switch, not
    only the layer inputs: the model the error attribution runs, where
    every tensor the integer-only path quantizes can be turned on alone or
    all together.
  }];
  let options = [
    Option<"allActivations", "all-activations", "bool", "false",
           "A switch on every calibrated observer, not only layer inputs">
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
    stored transposed back (`transB = 0`). With `weight-bits` /
    `activation-bits` below 8 the types keep 8-bit storage with a narrowed
    storage range (`!quant.uniform<i8<-7:7>:f32, ...>` for 4-bit weights), so
    that the integer kernels run them unchanged. 16-bit activations (W8A16)
    are stored as `i16` / `ui16`; lower-quantized-to-integer multiplies them
    with int8 weights into int64 accumulators.

    Bias correction (Nagel et al. 2019; Hubara et al. 2021): where the
    layer's input observer recorded per-channel means `E[x]`, the expected
    output shift of the quantized weights, `(W_q - W) E[x]`, is subtracted
    from the bias of Conv and Gemm (a zero bias is added where there was
    none).

    With `weight-rounding=gptq` the weights of Gemm and MatMul are rounded
    by GPTQ (Frantar et al. 2023) instead of to nearest: same scales, but
    each input row's rounding error is compensated in the rows not yet
    rounded through the inverse of the input's second moments, which the
    observer carries as `gram` (calibration records them); a Conv's come
    from its input patches, per group (`qc.patch_gram` on the Conv, which
    this pass reads and drops). `weight-rounding=auto` takes GPTQ only for
    layers of 4 bits or fewer whose input has second moments.

    `weight-rounding=adaround|adaquant` reconstruct each layer's output
    over second moments G (Hubara et al. 2021; layer by layer): they
    minimize `sum_n (q_n - w_n)^T G (q_n - w_n)` per output channel n by
    `reconstruction-steps` Adam steps. G is the layer's input second
    moments in the quantized model where the layer carries them as
    `qc.quantized_input_gram` (quant-compile measures them), else the float
    model's plus the input's own rounding noise (`s_x^2 / 12` on the
    diagonal, step s_x at the input's bits). AdaRound (Nagel et
    al. 2020) learns whether each weight rounds up or down (a rectified
    sigmoid annealed to 0 or 1), keeping the scales; AdaQuant learns the
    weights and each channel's scale through the rounding
    (straight-through). Bias correction then applies as for any rounding.

    Per-layer formats: a `qc.weight_scheme` (#qc.scheme, signed symmetric
    integer) on a layer sets its weight bits, a `qc.activation_scheme` on an
    observer its activation bits, over the pass options (assign-bit-widths
    and `quant-compile --bits auto` write them).

    Minifloat weights (`weight-format`, or a minifloat `qc.weight_scheme`):
    each channel's weights, in blocks along the reduction, get a scale and
    are rounded to nearest even (saturating) into fp8_e4m3, fp8_e5m2,
    fp6_e3m2, fp6_e2m3 or fp4_e2m1 codes, stored packed and read through
    `qc.block_dequantize`. `mxfp*` formats: blocks of 32 sharing an E8M0
    scale, `2^(floor(log2 max|w|) - emax_elem)` as OCP MX v1.0 section 6.3
    says (`block-scale=mse`: of that exponent and its two neighbours the one
    of least squared error); `nvfp4`: FP4 blocks of 16 with an E4M3 scale
    and an f32 scale per tensor (max|w| / (448 * 6)); the plain formats: an
    f32 scale per channel, or per `weight-granularity` block, of max|w| /
    max finite (`mse`: 20 candidates down to half of it). A weight holding
    NaN or infinity is refused with its index, in every format.

    An observer without a range is an error: calibration did not run.
  }];
  let options = [
    Option<"activationType", "activation-type", "::qc::ActivationType",
           "::qc::ActivationType::U8", "Storage of calibrated activations",
           [{::qc::clValues<::qc::ActivationType>()}]>,
    Option<"weightGranularity", "weight-granularity", "::qc::WeightGranularity",
           "::qc::WeightGranularity{}",
           "Weight scales: channel (per output channel), tensor, or block:N (per output "
           "channel and block of N along the reduction axis)">,
    Option<"weightFormat", "weight-format", "::qc::WeightFormat",
           "::qc::WeightFormat::Int",
           "Weight element format: int (weight-bits), a minifloat with f32 scales, "
           "an OCP MX format or NVFP4",
           [{::qc::clValues<::qc::WeightFormat>()}]>,
    Option<"blockScale", "block-scale", "::qc::BlockScaleMethod",
           "::qc::BlockScaleMethod::Max",
           "How a minifloat block's (or channel's) scale is chosen",
           [{::qc::clValues<::qc::BlockScaleMethod>()}]>,
    Option<"biasCorrection", "bias-correction", "bool", "true",
           "Correct the bias for the weights' expected quantization error">,
    Option<"weightBits", "weight-bits", "unsigned", "8",
           "Weight bits (2-8): symmetric levels in [-(2^(b-1) - 1), 2^(b-1) - 1], stored in int8">,
    Option<"activationBits", "activation-bits", "unsigned", "8",
           "Activation bits (2-8, or 16): 2^b levels, stored in an 8-bit container (16: in 16 bits)">,
    Option<"weightRounding", "weight-rounding", "::qc::WeightRounding",
           "::qc::WeightRounding::Auto", "Weight rounding",
           [{::qc::clValues<::qc::WeightRounding>()}]>,
    Option<"reconstructionSteps", "reconstruction-steps", "int", "300",
           "Adam steps of weight-rounding=adaround|adaquant per layer">,
    Option<"gptqDamp", "gptq-damp", "double", "0.01",
           "GPTQ's dampening: this fraction of the mean diagonal added to the second moments">,
    Option<"activationGranularity", "activation-granularity", "::qc::ActivationGranularity",
           "::qc::ActivationGranularity{}",
           "tensor: one static scale per activation (calibrated); token: a dynamic symmetric "
           "scale per row of the inputs of MatMul and Gemm (max |x| of the row; int8 rows "
           "that lower-quantized-to-integer multiplies in integers); group:G: the same per "
           "group of G consecutive channels of a row (an int32 product per group, scaled "
           "and summed in float; rows whose length G does not divide get a scale per row)">,
    Option<"dynamicZeroPoints", "dynamic-zero-points", "bool", "false",
           "With token or group:G: asymmetric dynamic scales, a zero point per row or group "
           "(the range [min(x, 0), max(x, 0)] over 2^b levels, stored in int8) instead of "
           "symmetric ones; the integer products subtract z times the weight's column sums">,
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
    * Gemm, MatMul whose input is `qc.dynamic_dequantize` with a scale per
      row (fold-calibration's per-token activations), and quantized
      weights: `qc.matmul_int` of the op's int8 rows, dequantized with
      `s_w` per channel, multiplied by the rows' `s` (less the zero points
      times the weight column sums, with zero points), plus the float bias.
      With more than one group per row: `qc.matmul_group_scaled`.
    * Add: both inputs requantized to a common fine scale in int32
      (`s_y / 2^F`), added, and requantized to the result.
    * GlobalAveragePool: an int32 sum, requantized with `s_x / (n s_y)`.
    * Concat: each input requantized to the result's parameters.
    * MaxPool, GlobalMaxPool, Reshape, Flatten, Transpose, Squeeze,
      Unsqueeze run on the integers (dequantization moves after them).
    * `quantize(dequantize(x))` with other parameters: `qc.requantize`.

    Ops with no integer form keep their float computation between
    dequantize and quantize.

    Last, each qc.conv_int / qc.matmul_int whose constant weights take at
    most 16 levels `base + step * u` is marked `#qc.lowbit` (1-4 bits),
    with its activations' two levels (`act_lo`, `act_hi`) where the input is
    provably binary: the per-tensor quantization of a `Where` between two
    constants, through reshapes, transposes and max pooling. The kernel
    lowering (`qc-lower-to-microkernels lowbit-kernels=...`) computes such
    products on bit planes.
  }];
}

def ChannelsLastConvs : Pass<"channels-last-convs", "::mlir::func::FuncOp"> {
  let summary = "Runs chains of int8 convolutions channels-last (NHWC), with transposes only at the chains' edges";
  let description = [{
    The int8 kernels' NCHW convolution repacks its input for every layer
    (im2col columns interleaved into panels); channels-last, a convolution
    is a product of whole NHWC rows (`qc_k_conv2d_i8` with `nhwc = 1`:
    a pointwise one reads its input in place, others copy runs of C bytes
    per tap) and stores NHWC directly. This pass chooses the layout on the
    integer graph.

    Regions are grown over def-use edges between 2-d `qc.conv_int` of
    group 1 with 8-bit input and constant weights, and the elementwise
    integer ops between them (`qc.requantize`, `qc.table`, `qc.clamp`,
    `qc.cast`, Add, Sub, Mul, Max, Min on 4-d or scalar operands: residual
    adds, activations). Every value that enters a region from elsewhere
    gets one `Transpose` to NHWC, every value leaving it one back to NCHW.
    A region is converted when it holds at least as many convolutions as it
    needs transposes: the convolutions of a ResNet after its stem are one
    region with two transposes, while a pointwise convolution between two
    depthwise ones (which stay NCHW) is left as it is.

    Converted convolutions get `channels_last`; per-channel
    `qc.requantize` axes move with the channels, and 4-d operands of the
    elementwise ops (broadcast ones too) are transposed like the values.
  }];
}

#endif // QC_TRANSFORMS_PASSES_TD
