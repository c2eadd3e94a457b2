//===- QCGraphOps.td - float graph ops mirroring ONNX ------*- tablegen -*-===//
//
// Graph-level ops as the ONNX importer produces them: one op per ONNX op, the
// same operands in the same order, attributes under their ONNX names with the
// defaults of ONNX's schema materialized by the importer. Result types come
// from shape inference; verifiers check what the ops' semantics fix.
//
//===----------------------------------------------------------------------===//
#ifndef QC_GRAPH_OPS_TD
#define QC_GRAPH_OPS_TD

include "qc/Dialect/QC/IR/QCDialect.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// An `axis` attribute within its operand's rank (qc::verifyAxisInRange).
def QC_AxisInRange : NativeOpTrait<"AxisInRange"> {
  let cppNamespace = "::mlir::OpTrait::qc";
}

class QC_GraphOp<string onnxName, list<Trait> traits = []>
    : QC_Op<!tolower(onnxName), !listconcat([Pure, QC_AxisInRange], traits)> {
  let summary = "ONNX " # onnxName;
  let description = "Semantics of ONNX `" # onnxName # "` (see the ONNX operator "
                    # "specification); attributes carry their ONNX names.";
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

foreach name = ["Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Relu",
                "Sigmoid", "Tanh", "Erf", "Floor", "Ceil", "Round", "Sign",
                "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh",
                "Asinh", "Acosh", "Atanh", "Softplus", "Softsign", "HardSwish",
                "Not", "IsNaN", "BitwiseNot", "Mish"] in
def QC_#name#Op : QC_GraphOp<name, [SameOperandsAndResultShape]> {
  let arguments = (ins AnyRankedTensor:$X);
  let results = (outs AnyRankedTensor:$Y);
}

foreach name = ["Add", "Sub", "Mul", "Div", "Pow", "PRelu", "And",
                "Or", "Xor", "Equal", "Less", "Greater", "LessOrEqual",
                "GreaterOrEqual", "BitwiseAnd", "BitwiseOr", "BitwiseXor"] in
def QC_#name#Op : QC_GraphOp<name, [ResultsBroadcastableShape]> {
  let arguments = (ins AnyRankedTensor:$A, AnyRankedTensor:$B);
  let results = (outs AnyRankedTensor:$C);
}

def QC_ModOp : QC_GraphOp<"Mod", [ResultsBroadcastableShape]> {
  let arguments = (ins AnyRankedTensor:$A, AnyRankedTensor:$B, I64Attr:$fmod);
  let results = (outs AnyRankedTensor:$C);
}

def QC_BitShiftOp : QC_GraphOp<"BitShift", [ResultsBroadcastableShape]> {
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$Y, StrAttr:$direction);
  let results = (outs AnyRankedTensor:$Z);
}

// Variadic in ONNX (Max, Min, Sum): the importer folds them into a
// chain of two-operand ops, so they are binary here.
foreach name = ["Max", "Min", "Sum"] in
def QC_#name#Op : QC_GraphOp<name, [ResultsBroadcastableShape]> {
  let arguments = (ins AnyRankedTensor:$A, AnyRankedTensor:$B);
  let results = (outs AnyRankedTensor:$C);
}

def QC_WhereOp : QC_GraphOp<"Where", [ResultsBroadcastableShape]> {
  let arguments = (ins AnyRankedTensor:$condition, AnyRankedTensor:$X,
                       AnyRankedTensor:$Y);
  let results = (outs AnyRankedTensor:$output);
}

foreach name = ["LeakyRelu", "Elu", "ThresholdedRelu", "Celu"] in
def QC_#name#Op : QC_GraphOp<name, [SameOperandsAndResultType]> {
  let arguments = (ins AnyRankedTensor:$X, F32Attr:$alpha);
  let results = (outs AnyRankedTensor:$Y);
}

foreach name = ["HardSigmoid", "Selu"] in
def QC_#name#Op : QC_GraphOp<name, [SameOperandsAndResultType]> {
  let arguments = (ins AnyRankedTensor:$X, F32Attr:$alpha,
                       OptionalAttr<F32Attr>:$beta, OptionalAttr<F32Attr>:$gamma);
  let results = (outs AnyRankedTensor:$Y);
}

def QC_GeluOp : QC_GraphOp<"Gelu", [SameOperandsAndResultType]> {
  let arguments = (ins AnyRankedTensor:$X,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs AnyRankedTensor:$Y);
}

def QC_ClipOp : QC_GraphOp<"Clip"> {
  let description = [{
    ONNX `Clip` with `bounds` = [] (no-op), [min] or [min, max]. Opsets
    before 11 carry min/max as attributes, which the importer turns into
    constant operands; a max without a min gets the lowest value of the type
    as its min.
  }];
  let arguments = (ins AnyRankedTensor:$input, Variadic<AnyRankedTensor>:$bounds);
  let results = (outs AnyRankedTensor:$output);
}

foreach name = ["Softmax", "LogSoftmax", "Hardmax"] in
def QC_#name#Op : QC_GraphOp<name, [SameOperandsAndResultType]> {
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
}

def QC_ConvertOp : QC_GraphOp<"Convert", [SameOperandsAndResultShape]> {
  let summary = "ONNX Cast";
  let description = [{
    ONNX `Cast` (named `convert` here: `qc.cast` is the saturating integer
    conversion of the quantized chain). The target type is the result's
    element type.
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
}

//===----------------------------------------------------------------------===//
// Convolution, matmul and pooling
//===----------------------------------------------------------------------===//

def QC_ConvOp : QC_GraphOp<"Conv"> {
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$W,
                       Optional<AnyRankedTensor>:$B,
                       StrAttr:$auto_pad, I64Attr:$group,
                       OptionalAttr<DenseI64ArrayAttr>:$dilations,
                       OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
                       OptionalAttr<DenseI64ArrayAttr>:$pads,
                       OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs AnyRankedTensor:$Y);
  let hasVerifier = 1;
}

def QC_ConvTransposeOp : QC_GraphOp<"ConvTranspose"> {
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$W,
                       Optional<AnyRankedTensor>:$B,
                       StrAttr:$auto_pad, I64Attr:$group,
                       OptionalAttr<DenseI64ArrayAttr>:$dilations,
                       OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
                       OptionalAttr<DenseI64ArrayAttr>:$output_padding,
                       OptionalAttr<DenseI64ArrayAttr>:$output_shape,
                       OptionalAttr<DenseI64ArrayAttr>:$pads,
                       OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs AnyRankedTensor:$Y);
}

def QC_GemmOp : QC_GraphOp<"Gemm"> {
  let arguments = (ins AnyRankedTensor:$A, AnyRankedTensor:$B,
                       Optional<AnyRankedTensor>:$C,
                       F32Attr:$alpha, F32Attr:$beta,
                       I64Attr:$transA, I64Attr:$transB);
  let results = (outs AnyRankedTensor:$Y);
  let hasVerifier = 1;
}

def QC_MatMulOp : QC_GraphOp<"MatMul"> {
  let arguments = (ins AnyRankedTensor:$A, AnyRankedTensor:$B);
  let results = (outs AnyRankedTensor:$Y);
}

foreach name = ["MaxPool", "AveragePool", "LpPool"] in
def QC_#name#Op : QC_GraphOp<name> {
  let arguments = (ins AnyRankedTensor:$X, StrAttr:$auto_pad,
                       DenseI64ArrayAttr:$kernel_shape,
                       OptionalAttr<I64Attr>:$ceil_mode,
                       OptionalAttr<I64Attr>:$count_include_pad,
                       OptionalAttr<I64Attr>:$storage_order,
                       OptionalAttr<I64Attr>:$p,
                       OptionalAttr<DenseI64ArrayAttr>:$dilations,
                       OptionalAttr<DenseI64ArrayAttr>:$pads,
                       OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs AnyRankedTensor:$Y, Optional<AnyRankedTensor>:$Indices);
}

foreach name = ["GlobalAveragePool", "GlobalMaxPool"] in
def QC_#name#Op : QC_GraphOp<name> {
  let arguments = (ins AnyRankedTensor:$X);
  let results = (outs AnyRankedTensor:$Y);
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

def QC_BatchNormalizationOp : QC_GraphOp<"BatchNormalization"> {
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$scale,
                       AnyRankedTensor:$B, AnyRankedTensor:$input_mean,
                       AnyRankedTensor:$input_var, F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$Y);
}

def QC_InstanceNormalizationOp : QC_GraphOp<"InstanceNormalization"> {
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$B, F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$output);
}

def QC_LayerNormalizationOp : QC_GraphOp<"LayerNormalization"> {
  let description = [{
    ONNX `LayerNormalization`; `stats` holds the optional Mean and
    InvStdDev outputs: none, Mean, or both.
  }];
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$Scale,
                       Optional<AnyRankedTensor>:$B, I64Attr:$axis,
                       F32Attr:$epsilon, I64Attr:$stash_type);
  let results = (outs AnyRankedTensor:$Y, Variadic<AnyRankedTensor>:$stats);
}

def QC_LRNOp : QC_GraphOp<"LRN"> {
  let arguments = (ins AnyRankedTensor:$X, F32Attr:$alpha, F32Attr:$beta,
                       F32Attr:$bias, I64Attr:$size);
  let results = (outs AnyRankedTensor:$Y);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

foreach name = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
                "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                "ReduceLogSumExp", "ReduceSumSquare"] in
def QC_#name#Op : QC_GraphOp<name> {
  let description = [{
    Axes are an attribute here whatever the opset: the importer takes them
    from the constant `axes` input of later opsets. Empty axes reduce all
    dims unless `noop_with_empty_axes` is 1.
  }];
  let arguments = (ins AnyRankedTensor:$data, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<I64Attr, "1">:$keepdims,
                       DefaultValuedAttr<I64Attr, "0">:$noop_with_empty_axes);
  let results = (outs AnyRankedTensor:$reduced);
}

foreach name = ["ArgMax", "ArgMin"] in
def QC_#name#Op : QC_GraphOp<name> {
  let arguments = (ins AnyRankedTensor:$data, I64Attr:$axis,
                       I64Attr:$keepdims, I64Attr:$select_last_index);
  let results = (outs AnyRankedTensor:$reduced);
}

//===----------------------------------------------------------------------===//
// Shape and indexing
//===----------------------------------------------------------------------===//

def QC_ReshapeOp : QC_GraphOp<"Reshape"> {
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$shape,
                       DefaultValuedAttr<I64Attr, "0">:$allowzero);
  let results = (outs AnyRankedTensor:$reshaped);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QC_TransposeOp : QC_GraphOp<"Transpose"> {
  let arguments = (ins AnyRankedTensor:$data, DenseI64ArrayAttr:$perm);
  let results = (outs AnyRankedTensor:$transposed);
  let hasVerifier = 1;
}

def QC_FlattenOp : QC_GraphOp<"Flatten"> {
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
}

foreach name = ["Squeeze", "Unsqueeze"] in
def QC_#name#Op : QC_GraphOp<name> {
  let arguments = (ins AnyRankedTensor:$data, DenseI64ArrayAttr:$axes);
  let results = (outs AnyRankedTensor:$output);
}

def QC_ConcatOp : QC_GraphOp<"Concat"> {
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$concat_result);
}

def QC_SplitOp : QC_GraphOp<"Split"> {
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis,
                       DenseI64ArrayAttr:$split);
  let results = (outs Variadic<AnyRankedTensor>:$outputs);
}

def QC_SliceOp : QC_GraphOp<"Slice"> {
  let description = [{
    ONNX `Slice` with `axes_and_steps` = [], [axes] or [axes, steps]: steps
    without axes get axes 0..n-1. Opsets before 10 carry starts/ends/axes
    as attributes, which the importer turns into constant operands.
  }];
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$starts,
                       AnyRankedTensor:$ends,
                       Variadic<AnyRankedTensor>:$axes_and_steps);
  let results = (outs AnyRankedTensor:$output);
}

foreach name = ["Gather", "GatherElements"] in
def QC_#name#Op : QC_GraphOp<name> {
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$indices,
                       I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
}

def QC_ExpandOp : QC_GraphOp<"Expand"> {
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$shape);
  let results = (outs AnyRankedTensor:$output);
}

def QC_TileOp : QC_GraphOp<"Tile"> {
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$repeats);
  let results = (outs AnyRankedTensor:$output);
}

def QC_PadOp : QC_GraphOp<"Pad"> {
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$pads,
                       Optional<AnyRankedTensor>:$constant_value, StrAttr:$mode);
  let results = (outs AnyRankedTensor:$output);
}

def QC_ResizeOp : QC_GraphOp<"Resize"> {
  let description = [{
    ONNX `Resize` with its target as one operand: `target` says whether
    `scales_or_sizes` holds scales (float, one per dim) or sizes (int64).
    `roi` (starts then ends, normalized, 2 x rank values) is the region of
    interest of `tf_crop_and_resize`, and only present with it.
  }];
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$scales_or_sizes,
                       Optional<AnyRankedTensor>:$roi,
                       StrAttr:$target, StrAttr:$mode,
                       StrAttr:$coordinate_transformation_mode,
                       StrAttr:$nearest_mode, F32Attr:$cubic_coeff_a,
                       I64Attr:$exclude_outside, F32Attr:$extrapolation_value);
  let results = (outs AnyRankedTensor:$Y);
}

def QC_ShapeOp : QC_GraphOp<"Shape"> {
  let arguments = (ins AnyRankedTensor:$data, I64Attr:$start,
                       OptionalAttr<I64Attr>:$end);
  let results = (outs AnyRankedTensor:$shape);
  let hasFolder = 1;
}

def QC_SizeOp : QC_GraphOp<"Size"> {
  let arguments = (ins AnyRankedTensor:$data);
  let results = (outs AnyRankedTensor:$size);
  let hasFolder = 1;
}

def QC_ConstantOfShapeOp : QC_GraphOp<"ConstantOfShape"> {
  let arguments = (ins AnyRankedTensor:$input, ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$output);
}

def QC_RangeOp : QC_GraphOp<"Range"> {
  let arguments = (ins AnyRankedTensor:$start, AnyRankedTensor:$limit,
                       AnyRankedTensor:$delta);
  let results = (outs AnyRankedTensor:$output);
}

def QC_DepthToSpaceOp : QC_GraphOp<"DepthToSpace"> {
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$blocksize,
                       StrAttr:$mode);
  let results = (outs AnyRankedTensor:$output);
}

def QC_SpaceToDepthOp : QC_GraphOp<"SpaceToDepth"> {
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$blocksize);
  let results = (outs AnyRankedTensor:$output);
}

//===----------------------------------------------------------------------===//
// Indexing, scans and selection
//===----------------------------------------------------------------------===//

def QC_CumSumOp : QC_GraphOp<"CumSum"> {
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$axis,
                       I64Attr:$exclusive, I64Attr:$reverse);
  let results = (outs AnyRankedTensor:$y);
}

def QC_TriluOp : QC_GraphOp<"Trilu"> {
  let description = "ONNX `Trilu`; `k` is the optional diagonal offset.";
  let arguments = (ins AnyRankedTensor:$input, Variadic<AnyRankedTensor>:$k,
                       I64Attr:$upper);
  let results = (outs AnyRankedTensor:$output);
}

def QC_TopKOp : QC_GraphOp<"TopK"> {
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$K, I64Attr:$axis,
                       I64Attr:$largest, I64Attr:$sorted);
  let results = (outs AnyRankedTensor:$Values, AnyRankedTensor:$Indices);
}

def QC_GatherNDOp : QC_GraphOp<"GatherND"> {
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$indices,
                       I64Attr:$batch_dims);
  let results = (outs AnyRankedTensor:$output);
}

def QC_ScatterNDOp : QC_GraphOp<"ScatterND"> {
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$indices,
                       AnyRankedTensor:$updates,
                       DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs AnyRankedTensor:$output);
}

def QC_ScatterElementsOp : QC_GraphOp<"ScatterElements"> {
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$indices,
                       AnyRankedTensor:$updates, I64Attr:$axis,
                       DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs AnyRankedTensor:$output);
}

def QC_OneHotOp : QC_GraphOp<"OneHot"> {
  let arguments = (ins AnyRankedTensor:$indices, AnyRankedTensor:$depth,
                       AnyRankedTensor:$values, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
}

def QC_EinsumOp : QC_GraphOp<"Einsum"> {
  let arguments = (ins Variadic<AnyRankedTensor>:$Inputs, StrAttr:$equation);
  let results = (outs AnyRankedTensor:$Output);
}

def QC_NonZeroOp : QC_GraphOp<"NonZero"> {
  let arguments = (ins AnyRankedTensor:$X);
  let results = (outs AnyRankedTensor:$Y);
}

def QC_EyeLikeOp : QC_GraphOp<"EyeLike"> {
  let description = "ONNX `EyeLike`; the result type carries `dtype`.";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$k);
  let results = (outs AnyRankedTensor:$output);
}

def QC_IsInfOp : QC_GraphOp<"IsInf"> {
  let arguments = (ins AnyRankedTensor:$X, I64Attr:$detect_negative,
                       I64Attr:$detect_positive);
  let results = (outs AnyRankedTensor:$Y);
}

def QC_MeanVarianceNormalizationOp : QC_GraphOp<"MeanVarianceNormalization"> {
  let arguments = (ins AnyRankedTensor:$X, DenseI64ArrayAttr:$axes);
  let results = (outs AnyRankedTensor:$Y);
}

def QC_ShrinkOp : QC_GraphOp<"Shrink"> {
  let arguments = (ins AnyRankedTensor:$input, F32Attr:$bias, F32Attr:$lambd);
  let results = (outs AnyRankedTensor:$output);
}

def QC_CompressOp : QC_GraphOp<"Compress"> {
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$condition,
                       OptionalAttr<I64Attr>:$axis);
  let results = (outs AnyRankedTensor:$output);
}

def QC_ReverseSequenceOp : QC_GraphOp<"ReverseSequence"> {
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$sequence_lens,
                       I64Attr:$batch_axis, I64Attr:$time_axis);
  let results = (outs AnyRankedTensor:$Y);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def QC_NegativeLogLikelihoodLossOp : QC_GraphOp<"NegativeLogLikelihoodLoss"> {
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$target,
                       Optional<AnyRankedTensor>:$weight,
                       OptionalAttr<I64Attr>:$ignore_index, StrAttr:$reduction);
  let results = (outs AnyRankedTensor:$loss);
  let hasVerifier = 1;
}

def QC_SoftmaxCrossEntropyLossOp : QC_GraphOp<"SoftmaxCrossEntropyLoss"> {
  let arguments = (ins AnyRankedTensor:$scores, AnyRankedTensor:$labels,
                       Optional<AnyRankedTensor>:$weights,
                       OptionalAttr<I64Attr>:$ignore_index, StrAttr:$reduction);
  let results = (outs AnyRankedTensor:$output,
                      Optional<AnyRankedTensor>:$log_prob);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Recurrent
//===----------------------------------------------------------------------===//

foreach name = ["LSTM", "GRU", "RNN"] in
def QC_#name#Op : QC_GraphOp<name> {
  let description = [{
    ONNX `}] # name # [{`: inputs in ONNX order (omitted optional inputs
    only at the end), results Y, Y_h (and Y_c for LSTM) as far as the model
    asks for them.
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs,
                       OptionalAttr<DenseF32ArrayAttr>:$activation_alpha,
                       OptionalAttr<DenseF32ArrayAttr>:$activation_beta,
                       OptionalAttr<StrArrayAttr>:$activations,
                       OptionalAttr<F32Attr>:$clip,
                       DefaultValuedStrAttr<StrAttr, "forward">:$direction,
                       I64Attr:$hidden_size,
                       OptionalAttr<I64Attr>:$input_forget,
                       OptionalAttr<I64Attr>:$layout,
                       OptionalAttr<I64Attr>:$linear_before_reset);
  let results = (outs Variadic<AnyRankedTensor>:$outputs);
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

def QC_YieldOp : QC_Op<"yield", [Pure, Terminator, ParentOneOf<["IfOp"]>]> {
  let summary = "Yields the results of a qc.if branch";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

def QC_IfOp : QC_Op<"if", [RecursiveMemoryEffects, NoRegionArguments]> {
  let summary = "ONNX If";
  let description = [{
    Runs `then_branch` when the single boolean in `cond` is true, else
    `else_branch`; each yields the results. A constant condition folds the
    taken branch into the parent (canonicalization).
  }];
  let arguments = (ins RankedTensorOf<[I1]>:$cond);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$then_branch,
                        SizedRegion<1>:$else_branch);
  let assemblyFormat = [{
    $cond `:` type($cond) (`->` type($results)^)? $then_branch `else` $else_branch attr-dict
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Quantization ops without a static form
//===----------------------------------------------------------------------===//

def QC_DynamicQuantizeLinearOp : QC_GraphOp<"DynamicQuantizeLinear"> {
  let description = [{
    ONNX `DynamicQuantizeLinear`: uint8 quantization with scale and zero
    point computed at run time from the input's range. Static quantization
    (QuantizeLinear with constant parameters) imports to `qc.quantize`.
  }];
  let arguments = (ins AnyRankedTensor:$x);
  let results = (outs AnyRankedTensor:$y, AnyRankedTensor:$y_scale,
                      AnyRankedTensor:$y_zero_point);
}

// With constant scales and zero points the importer produces qc.quantize /
// qc.dequantize / qc.conv_int / qc.matmul_int / qc.requantize instead; these
// keep the ONNX form when the parameters are only known at run time. Inputs
// in ONNX order; omitted optional inputs only at the end.
foreach name = ["QuantizeLinear", "DequantizeLinear", "ConvInteger",
                "MatMulInteger", "QLinearConv", "QLinearMatMul"] in
def QC_#name#Op : QC_GraphOp<name> {
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs,
                       OptionalAttr<I64Attr>:$axis,
                       OptionalAttr<StrAttr>:$auto_pad,
                       OptionalAttr<I64Attr>:$group,
                       OptionalAttr<DenseI64ArrayAttr>:$dilations,
                       OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
                       OptionalAttr<DenseI64ArrayAttr>:$pads,
                       OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs AnyRankedTensor:$output);
}

#endif // QC_GRAPH_OPS_TD
