// lower-quantized-to-integer: a MatMul of FP8 activations
// (qc.minifloat_dequantize) and a per-channel FP8 weight becomes
// qc.matmul_fp8 of the codes (the weight's transposed to [N, K]), times
// s_x * s_w[n]; a Gemm's alpha and its bias times beta. A weight with
// blocks, or int8 activations, keep the float product.
// RUN: quant-opt %s --split-input-file --lower-quantized-to-integer | FileCheck %s

// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[X:.*]]: tensor<2x4xf32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense_resource<fp8_scales{{.*}}> : tensor<3xf32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<fp8_weights{{.*}}> : tensor<3x4xi8>
// CHECK: %[[Q:.*]] = qc.minifloat_quantize %[[X]] {format = #qc<format fp8_e4m3>, scale = 2.500000e-01 : f64}
// CHECK: %[[Y:.*]] = qc.matmul_fp8 %[[Q]], %[[W]] {a_format = #qc<format fp8_e4m3>, b_format = #qc<format fp8_e5m2>} : (tensor<2x4xi8>, tensor<3x4xi8>) -> tensor<2x3xf32>
// CHECK: %[[R:.*]] = qc.mul %[[Y]], %[[S]]
// CHECK: return %[[R]]
// s_x * s_w: 0.125, 0.5, 1 (f32 LE after the blob's alignment word); the
// codes as [N, K].
// CHECK: fp8_scales: "0x040000000000003E0000003F0000803F"
// CHECK: fp8_weights: "0x010000000104070A0205080B0306090C"
func.func @matmul(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  // Codes [K = 4, N = 3] row-major: 1..12.
  %codes = arith.constant dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]> : tensor<12xi8>
  %scales = arith.constant dense<[[0.5], [2.0], [4.0]]> : tensor<3x1xf32>
  %w = qc.block_dequantize %codes, %scales {format = #qc<format fp8_e5m2>, axis = 1 : i64, block = 4 : i64}
         : (tensor<12xi8>, tensor<3x1xf32>) -> tensor<4x3xf32>
  %q = qc.minifloat_quantize %x {format = #qc<format fp8_e4m3>, scale = 0.25 : f64} : tensor<2x4xf32> -> tensor<2x4xi8>
  %d = qc.minifloat_dequantize %q {format = #qc<format fp8_e4m3>, scale = 0.25 : f64} : tensor<2x4xi8> -> tensor<2x4xf32>
  %y = qc.matmul %d, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @blocked(
// CHECK-NOT: qc.matmul_fp8
// CHECK: qc.matmul
func.func @blocked(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %codes = arith.constant dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]> : tensor<12xi8>
  %scales = arith.constant dense<[[0.5, 1.0], [2.0, 1.0], [4.0, 1.0]]> : tensor<3x2xf32>
  %w = qc.block_dequantize %codes, %scales {format = #qc<format fp8_e4m3>, axis = 1 : i64, block = 2 : i64}
         : (tensor<12xi8>, tensor<3x2xf32>) -> tensor<4x3xf32>
  %q = qc.minifloat_quantize %x {format = #qc<format fp8_e4m3>, scale = 0.25 : f64} : tensor<2x4xf32> -> tensor<2x4xi8>
  %d = qc.minifloat_dequantize %q {format = #qc<format fp8_e4m3>, scale = 0.25 : f64} : tensor<2x4xi8> -> tensor<2x4xf32>
  %y = qc.matmul %d, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
