//===- Passes.td - conversions out of qc -------------------*- tablegen -*-===//
#ifndef QC_CONVERSION_PASSES_TD
#define QC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQCToLinalg : Pass<"convert-qc-to-linalg"> {
  let summary = "Lowers qc elementwise graph ops to linalg.generic";
  let description = [{
    Each elementwise op (unary math and activations, binary arithmetic with
    numpy broadcasting, comparisons and logic, Where) becomes one
    `linalg.generic` over the result shape, broadcast dims read at index 0,
    with the scalar computation in arith/math. Signless integers are ONNX's
    signed ones. Ops with dynamic shapes or unsigned integers, and the other
    qc ops, are left as they are for now.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

#endif // QC_CONVERSION_PASSES_TD
