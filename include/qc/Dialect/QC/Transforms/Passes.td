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

#endif // QC_TRANSFORMS_PASSES_TD
