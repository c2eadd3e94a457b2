// What has no QDQ spelling is an error at the op, and nothing is written.
// RUN: quant-translate --export-onnx-qdq %s -split-input-file -verify-diagnostics -o /dev/null

func.func @main_graph(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{an uncalibrated observer cannot be exported}}
  %o = qc.observe "x" %x : tensor<4xf32>
  return %o : tensor<4xf32>
}

// -----

func.func @main_graph(%x: tensor<1x4xi32>) -> tensor<1x4xui8> {
  // expected-error @below {{'qc.requantize' is the integer form; export the QDQ form}}
  %r = qc.requantize %x multiplier [1073741824] shift [31] zp(0 -> 0) clamp(0, 255) : tensor<1x4xi32> -> tensor<1x4xui8>
  return %r : tensor<1x4xui8>
}

// -----

func.func @main_graph(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i16:f32, 0.5>> {
  // expected-error @below {{ONNX opset 17 quantizes to 8 bits only}}
  %q = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i16:f32, 0.5>>
  return %q : tensor<4x!quant.uniform<i16:f32, 0.5>>
}

// -----

func.func @main_graph() -> tensor<2x4xf32> {
  %c = arith.constant dense<1> : tensor<2x4xi8>
  %q = qc.storage_cast %c : tensor<2x4xi8> -> tensor<2x4x!quant.uniform<i8:f32:{0:1, 1:2}, {{0.5, 0.25}, {1.0, 2.0}}>>
  // expected-error @below {{block-quantized weights}}
  %d = qc.dequantize %q : tensor<2x4x!quant.uniform<i8:f32:{0:1, 1:2}, {{0.5, 0.25}, {1.0, 2.0}}>> -> tensor<2x4xf32>
  return %d : tensor<2x4xf32>
}

// -----

// expected-error @below {{export needs @main_graph (or a single function)}}
module {
  func.func @a() { return }
  func.func @b() { return }
}
