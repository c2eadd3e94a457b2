// qc.dynamic_quantize / qc.dynamic_dequantize have no ONNX op (ONNX's
// DynamicQuantizeLinear has one scale per tensor): the export writes the
// graph ops that compute them, as their descriptions say. Per group of 2
// channels with zero points: the row viewed as [rows, 2, 2], min and max per
// group, the scale and zero point, the integers and their dequantization,
// viewed back as [rows, 4].
// RUN: quant-translate --export-onnx-qdq %s -o %t.onnx
// RUN: %python -c "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m); print(' '.join(n.op_type for n in m.graph.node))" %t.onnx | FileCheck %s
// CHECK: Reshape ReduceMin ReduceMax Clip Clip Sub Clip Div Div Round Sub Div Round Add Clip Cast Cast Sub Mul Reshape Gemm
func.func @main_graph(%x: tensor<2x4xf32>) -> tensor<2x2xf32>
    attributes {qc.input_names = ["x"], qc.output_names = ["y"]} {
  %w = arith.constant dense<[[0.5, -0.2], [1.0, 0.4], [-0.25, 0.1], [0.3, -0.6]]> : tensor<4x2xf32>
  %q, %s, %z = qc.dynamic_quantize %x bits 8 : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xf32>
  %dq = qc.dynamic_dequantize %q scales %s zero_points %z : (tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x4xf32>
  %y = qc.gemm %dq, %w {alpha = 1.0 : f32, beta = 1.0 : f32, transA = 0 : i64, transB = 0 : i64} : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
