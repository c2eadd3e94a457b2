//===- QCDialect.td - the quantization compiler dialect ----*- tablegen -*-===//
#ifndef QC_DIALECT_TD
#define QC_DIALECT_TD

include "mlir/IR/OpBase.td"

def QC_Dialect : Dialect {
  let name = "qc";
  let cppNamespace = "::qc";
  let summary = "Quantization compiler dialect: observers, (de)quantization and integer-only ops";
  let description = [{
    The `qc` dialect carries a model through quantization. Float tensors become
    quantized tensors with `qc.quantize`, whose result types are upstream
    `!quant.uniform` types (per tensor, per axis or per block); integer ops
    (`qc.conv_int`, `qc.matmul_int`) compute on the integer storage values
    with explicit zero points and accumulate in int32; `qc.requantize` brings
    int32 accumulators back to narrow integers with dyadic parameters
    (an int32 multiplier and a right shift), so that no floating-point
    arithmetic is needed between the first quantize and the last dequantize.

    `qc.observe` marks a tensor whose statistics calibration records, and
    `#qc.scheme` describes a quantization format (integer bit width and
    signedness, or a minifloat such as fp8 e4m3 or fp4 e2m1, with its
    granularity) before calibration has fixed scales.

    Signedness: `uiN` storage is unsigned; `iN` and `siN` are signed.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect", "::mlir::arith::ArithDialect"];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Discardable attribute names the passes attach to ops.
    static constexpr ::llvm::StringLiteral kWeightSchemeAttrName = "qc.weight_scheme";
    static constexpr ::llvm::StringLiteral kActivationSchemeAttrName = "qc.activation_scheme";
    /// On an imported function: the ONNX names of its inputs and outputs.
    static constexpr ::llvm::StringLiteral kInputNamesAttrName = "qc.input_names";
    static constexpr ::llvm::StringLiteral kOutputNamesAttrName = "qc.output_names";
    /// Set by convert-qc-to-linalg when it makes unsigned integer types
    /// signless: per operand, then per result, whether it was unsigned.
    static constexpr ::llvm::StringLiteral kUnsignedAttrName = "qc.unsigned";
    /// Set by fold-calibration on the dequantization of each observed
    /// tensor: the observer's name (the quality report matches by it).
    static constexpr ::llvm::StringLiteral kObservedAttrName = "qc.observed";
    /// SmoothQuant's alpha for the activation a qc.observe sees (the
    /// per-layer search's choice; smooth-activations reads it).
    static constexpr ::llvm::StringLiteral kSmoothAlphaAttrName = "qc.smooth_alpha";
    /// Set by fold-batch-norm on a qc.conv it folded a BatchNormalization
    /// into: the BN's shift and |scale| per output channel (f32 [2, C]),
    /// the expected mean and spread of the conv's outputs, which
    /// equalize-layers' bias absorption reads.
    static constexpr ::llvm::StringLiteral kOutputStatsAttrName = "qc.output_stats";
  }];
}

class QC_Op<string mnemonic, list<Trait> traits = []>
    : Op<QC_Dialect, mnemonic, traits>;

#endif // QC_DIALECT_TD
