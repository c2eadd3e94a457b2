//===- Passes.td - conversions out of qc -------------------*- tablegen -*-===//
#ifndef QC_CONVERSION_PASSES_TD
#define QC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

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

    Ops with dynamic shapes or unsigned integers, broadcast-batch MatMul,
    grouped or non-2-d Conv and the other qc ops are left as they are for
    now.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

#endif // QC_CONVERSION_PASSES_TD
