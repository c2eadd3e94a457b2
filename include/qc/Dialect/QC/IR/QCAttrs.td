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
      I32EnumAttrCase<"FP4E2M1", 5, "fp4_e2m1">
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

#endif // QC_ATTRS_TD
