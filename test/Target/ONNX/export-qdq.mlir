// --export-onnx-qdq writes the QDQ form as ONNX (opset 17); importing the
// file back gives the same quantization parameters: u8 activations, per-axis
// i8 weights, the float bias as int32 at s_x * s_w (0.5 / (0.02 * 0.01) =
// 2500, -0.25 / (0.02 * 0.005) = -2500; the float one is not written),
// ReduceSum's and Squeeze's axes as inputs, Cast's target from the result type.
// RUN: quant-translate --export-onnx-qdq %s -o %t.onnx
// RUN: %python -c "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m); print(m.opset_import[0].version, ' '.join(n.op_type for n in m.graph.node))" %t.onnx | FileCheck %s --check-prefix=ONNX
// ONNX: 17 QuantizeLinear DequantizeLinear DequantizeLinear DequantizeLinear Conv Relu ReduceSum Squeeze Cast Identity
// RUN: quant-translate --import-onnx %t.onnx | FileCheck %s
// CHECK: func.func @main_graph(%arg0: tensor<1x2x4x4xf32>) -> tensor<1x2xf64>
// CHECK-SAME: qc.input_names = ["image"], qc.output_names = ["scores"]
// The scales are float32 in ONNX.
// CHECK-NOT: dense<[5.000000e-01, -2.500000e-01]>
// CHECK: arith.constant dense<[2500, -2500]> : tensor<2xi32>
// CHECK-NOT: dense<[5.000000e-01, -2.500000e-01]>
// CHECK: qc.quantize %arg0 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<u8:f32, 0.0199999995{{[0-9]*}}:128>>
// CHECK: qc.dequantize %{{.*}} : tensor<2x2x1x1x!quant.uniform<i8:f32:0, {0.00999999977{{[0-9]*}},0.00499999988{{[0-9]*}}}>>
// CHECK: qc.dequantize %{{.*}} : tensor<2x!quant.uniform<i32:f32:0, {1.99999994{{[0-9]*}}E-4,9.9999997{{[0-9]*}}E-5}>>
// CHECK: qc.conv
// CHECK: qc.relu
// CHECK: qc.reducesum %{{.*}} {axes = array<i64: 2, 3>}
// CHECK: qc.squeeze %{{.*}} {axes = array<i64: 2, 3>}
// CHECK: qc.convert %{{.*}} : (tensor<1x2xf32>) -> tensor<1x2xf64>
func.func @main_graph(%x: tensor<1x2x4x4xf32>) -> tensor<1x2xf64>
    attributes {qc.input_names = ["image"], qc.output_names = ["scores"]} {
  %wq = arith.constant dense<[[[[100]], [[-50]]], [[[20]], [[127]]]]> : tensor<2x2x1x1xi8>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %q = qc.quantize %x : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<u8:f32, 0.02:128>>
  %dx = qc.dequantize %q : tensor<1x2x4x4x!quant.uniform<u8:f32, 0.02:128>> -> tensor<1x2x4x4xf32>
  %w = qc.storage_cast %wq : tensor<2x2x1x1xi8> -> tensor<2x2x1x1x!quant.uniform<i8:f32:0, {0.01, 0.005}>>
  %dw = qc.dequantize %w : tensor<2x2x1x1x!quant.uniform<i8:f32:0, {0.01, 0.005}>> -> tensor<2x2x1x1xf32>
  %c = qc.conv %dx, %dw, %b {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %r = qc.relu %c : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %s = qc.reducesum %r {axes = array<i64: 2, 3>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32>
  %sq = qc.squeeze %s {axes = array<i64: 2, 3>} : (tensor<1x2x1x1xf32>) -> tensor<1x2xf32>
  %d = qc.convert %sq : (tensor<1x2xf32>) -> tensor<1x2xf64>
  return %d : tensor<1x2xf64>
}
