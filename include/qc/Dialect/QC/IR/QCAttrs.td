//===- QCAttrs.td - qc attributes --------------------------*- tablegen -*-===//
#ifndef QC_ATTRS_TD
#define QC_ATTRS_TD

include "qc/Dialect/QC/IR/QCDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def QC_ElementFormat : I32EnumAttr<"ElementFormat",
    "element format of quantized values", [
      I32EnumAttrCase<"Int", 0, "int">,
      I32EnumAttrCase<"FP8E4M3", 1, "fp8_e4m3">,
      I32EnumAttrCase<"FP8E5M2", 2, "fp8_e5m2">,
      I32EnumAttrCase<"FP6E3M2", 3, "fp6_e3m2">,
      I32EnumAttrCase<"FP6E2M3", 4, "fp6_e2m3">,
      I32EnumAttrCase<"FP4E2M1", 5, "fp4_e2m1">,
      I32EnumAttrCase<"E8M0", 6, "e8m0">
    ]> {
  let cppNamespace = "::qc";
  let genSpecializedAttr = 0;
}

def QC_ElementFormatAttr : EnumAttr<QC_Dialect, QC_ElementFormat, "format">;

def QC_SchemeAttr : AttrDef<QC_Dialect, "Scheme"> {
  let mnemonic = "scheme";
  let summary = "A quantization format, before scales are known";
  let description = [{
    Describes how a tensor is to be quantized: the element format (an integer
    of `bits` bits, signed or unsigned, or a minifloat), whether the range is
    symmetric (zero point 0), and the granularity: per tensor (no `axis`),
    per channel along `axis`, or per block of `block` consecutive elements
    along `axis` (the reduction axis for weights).

    Calibration turns a scheme plus statistics into a concrete
    `!quant.uniform` type; bit-width assignment writes schemes onto ops as
    `qc.weight_scheme` / `qc.activation_scheme`.

    ```mlir
    #qc.scheme<format = int, bits = 4, isSigned = true, symmetric = true, axis = 0>
    #qc.scheme<format = fp4_e2m1, bits = 4, isSigned = true, symmetric = true, axis = 1, block = 32>
    ```
  }];
  let parameters = (ins
    "ElementFormat":$format,
    "unsigned":$bits,
    "bool":$isSigned,
    "bool":$symmetric,
    OptionalParameter<"std::optional<int64_t>">:$axis,
    OptionalParameter<"std::optional<int64_t>">:$block);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isMinifloat() const { return getFormat() != ElementFormat::Int; }
    /// Smallest and largest storage value of an integer format.
    int64_t getStorageMin() const;
    int64_t getStorageMax() const;
  }];
}

def QC_LowBitAttr : AttrDef<QC_Dialect, "LowBit"> {
  let mnemonic = "lowbit";
  let summary = "Weights of 1 to 4 bits, computed bit-serially";
  let description = [{
    On a `qc.matmul_int` whose weights are constant: every weight (its
    signed value, after the XOR that makes unsigned storage signed) is
    `base + step * u` with `u` an unsigned code of `bits` bits. The product
    is computed on the codes' bit planes, without expanding the weights to
    bytes:

    ```
    sum_k (a_k - a_zp) (w_kn - w_zp_n)
      = step * sum_p 2^p sum_k x_k u_p,kn + (base - w_zp_n) * sum_k x_k + ...
    ```

    (`x` the activations made signed; the remaining terms are constants
    folded into the kernel's per-channel correction). The CPU kernels look
    up `sum_k x_k u_p,kn` four weights at a time in tables of activation
    partial sums (docs/kernels.md, "Low-bit kernels"); the kernel lowering's
    `lowbit-kernels` option picks them or the int8 kernels. Binary weights
    are `bits = 1, base = -1, step = 2`, ternary `bits = 2, base = -1,
    step = 1`. `lower-quantized-to-integer` sets it from the weight values.

    With `act_lo` and `act_hi` the activations (stored values, before the
    zero point is subtracted) are known to take only these two values:
    binary. The products are then popcounts of the activations' bits
    ANDed with the weights' planes (`qc_k_conv2d_bin`, `qc_k_matmul_bin`).
    `lower-quantized-to-integer` sets them where it proves it: the input is
    the quantization of a `Where` between two constants (how binarized
    activations export, `sign` with 0 mapped to +1).

    ```mlir
    #qc.lowbit<bits = 2, base = -2, step = 1>
    #qc.lowbit<bits = 1, base = -127, step = 254, act_lo = 0, act_hi = 255>
    ```
  }];
  let parameters = (ins "unsigned":$bits, "int32_t":$base, "int32_t":$step,
                        OptionalParameter<"std::optional<int32_t>">:$act_lo,
                        OptionalParameter<"std::optional<int32_t>">:$act_hi);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether the activations are known to take two values.
    bool hasBinaryActivations() const { return getActLo() && getActHi(); }
  }];
}

#endif // QC_ATTRS_TD
