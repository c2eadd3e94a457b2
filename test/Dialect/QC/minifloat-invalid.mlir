// RUN: quant-opt %s -split-input-file -verify-diagnostics

// Round trip of the minifloat ops (no diagnostics).
func.func @ok(%c: tensor<4xi8>, %s: tensor<2x2xi8>, %a: tensor<3x64xi8>,
              %m: tensor<512xi8>, %sh: tensor<16x2xi8>) -> (tensor<4x2xf32>, tensor<3x16xi64>) {
  %w = qc.block_dequantize %c, %s {axis = 1 : i64, block = 2 : i64, format = #qc<format fp4_e2m1>,
         scale_format = #qc<format e8m0>} : (tensor<4xi8>, tensor<2x2xi8>) -> tensor<4x2xf32>
  %y = qc.matmul_mx %a, %m, %sh zp 3 {format = #qc<format fp4_e2m1>, block = 32 : i64}
         : (tensor<3x64xi8>, tensor<512xi8>, tensor<16x2xi8>) -> tensor<3x16xi64>
  return %w, %y : tensor<4x2xf32>, tensor<3x16xi64>
}

// -----

func.func @int_format(%c: tensor<8xi8>, %s: tensor<2x1xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{format must be a minifloat element format}}
  %w = qc.block_dequantize %c, %s {axis = 1 : i64, block = 4 : i64, format = #qc<format int>}
         : (tensor<8xi8>, tensor<2x1xf32>) -> tensor<4x2xf32>
  return %w : tensor<4x2xf32>
}

// -----

func.func @short_codes(%c: tensor<3xi8>, %s: tensor<2x1xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{8 codes of 4 bits take 4 bytes}}
  %w = qc.block_dequantize %c, %s {axis = 1 : i64, block = 4 : i64, format = #qc<format fp4_e2m1>}
         : (tensor<3xi8>, tensor<2x1xf32>) -> tensor<4x2xf32>
  return %w : tensor<4x2xf32>
}

// -----

func.func @scale_shape(%c: tensor<6xi8>, %s: tensor<2x1xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{scales must be [2, 2] (blocks of 3 in the 4 elements of a channel)}}
  %w = qc.block_dequantize %c, %s {axis = 1 : i64, block = 3 : i64, format = #qc<format fp6_e3m2>}
         : (tensor<6xi8>, tensor<2x1xf32>) -> tensor<4x2xf32>
  return %w : tensor<4x2xf32>
}

// -----

func.func @scale_codes_without_format(%c: tensor<8xi8>, %s: tensor<2x1xi8>) -> tensor<4x2xf32> {
  // expected-error @+1 {{f32 scales take no scale_format, integer scales need one}}
  %w = qc.block_dequantize %c, %s {axis = 1 : i64, block = 4 : i64, format = #qc<format fp8_e4m3>}
         : (tensor<8xi8>, tensor<2x1xi8>) -> tensor<4x2xf32>
  return %w : tensor<4x2xf32>
}

// -----

func.func @bad_axis(%c: tensor<4xi8>, %s: tensor<2x1xf32>) -> tensor<1x4x2xf32> {
  // expected-error @+1 {{channel axis must be 0, or 1 of a 2-d result, got 2}}
  %w = qc.block_dequantize %c, %s {axis = 2 : i64, block = 4 : i64, format = #qc<format fp4_e2m1>}
         : (tensor<4xi8>, tensor<2x1xf32>) -> tensor<1x4x2xf32>
  return %w : tensor<1x4x2xf32>
}

// -----

func.func @bad_tensor_scale(%c: tensor<4xi8>, %s: tensor<2x1xi8>) -> tensor<4x2xf32> {
  // expected-error @+1 {{tensor_scale must be positive and finite}}
  %w = qc.block_dequantize %c, %s {axis = 1 : i64, block = 4 : i64, format = #qc<format fp4_e2m1>,
         scale_format = #qc<format fp8_e4m3>, tensor_scale = 0.0 : f64}
         : (tensor<4xi8>, tensor<2x1xi8>) -> tensor<4x2xf32>
  return %w : tensor<4x2xf32>
}

// -----

func.func @mx_format(%a: tensor<1x64xi8>, %m: tensor<1024xi8>, %sh: tensor<16x2xi8>) -> tensor<1x16xi64> {
  // expected-error @+1 {{format must be fp4_e2m1 or fp6_e2m3}}
  %y = qc.matmul_mx %a, %m, %sh zp 0 {format = #qc<format fp8_e4m3>, block = 32 : i64}
         : (tensor<1x64xi8>, tensor<1024xi8>, tensor<16x2xi8>) -> tensor<1x16xi64>
  return %y : tensor<1x16xi64>
}

// -----

func.func @mx_shifts(%a: tensor<1x64xi8>, %m: tensor<512xi8>, %sh: tensor<16x3xi8>) -> tensor<1x16xi64> {
  // expected-error @+1 {{shifts must be [16, 2]}}
  %y = qc.matmul_mx %a, %m, %sh zp 0 {format = #qc<format fp4_e2m1>, block = 32 : i64}
         : (tensor<1x64xi8>, tensor<512xi8>, tensor<16x3xi8>) -> tensor<1x16xi64>
  return %y : tensor<1x16xi64>
}

// -----

func.func @scheme_e8m0() attributes {qc.weight_scheme = #qc.scheme<format = e8m0, bits = 8, isSigned = true, symmetric = true>} {
  // expected-error @-1 {{e8m0 is a scale format, not an element format}}
  return
}

// -----

func.func @fp8_quantize_scale(%x: tensor<4x8xf32>) -> tensor<4x8xi8> {
  // expected-error @+1 {{scale must be positive and finite, got 0}}
  %c = qc.minifloat_quantize %x {format = #qc<format fp8_e4m3>, scale = 0.0 : f64} : tensor<4x8xf32> -> tensor<4x8xi8>
  return %c : tensor<4x8xi8>
}

// -----

func.func @fp8_dequantize_format(%c: tensor<4x8xi8>) -> tensor<4x8xf32> {
  // expected-error @+1 {{format must be a minifloat element format}}
  %x = qc.minifloat_dequantize %c {format = #qc<format e8m0>, scale = 1.0 : f64} : tensor<4x8xi8> -> tensor<4x8xf32>
  return %x : tensor<4x8xf32>
}

// -----

func.func @fp8_dequantize_shape(%c: tensor<4x8xi8>) -> tensor<4x4xf32> {
  // expected-error @+1 {{result shape must match the input's}}
  %x = qc.minifloat_dequantize %c {format = #qc<format fp8_e4m3>, scale = 1.0 : f64} : tensor<4x8xi8> -> tensor<4x4xf32>
  return %x : tensor<4x4xf32>
}

// -----

func.func @fp8_matmul_format(%a: tensor<4x64xi8>, %b: tensor<32x64xi8>) -> tensor<4x32xf32> {
  // expected-error @+1 {{formats must be fp8_e4m3 or fp8_e5m2, got fp4_e2m1}}
  %y = qc.matmul_fp8 %a, %b {a_format = #qc<format fp8_e4m3>, b_format = #qc<format fp4_e2m1>} : (tensor<4x64xi8>, tensor<32x64xi8>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

func.func @fp8_matmul_k(%a: tensor<4x64xi8>, %b: tensor<32x48xi8>) -> tensor<4x32xf32> {
  // expected-error @+1 {{b must be [N, 64] (a's K), got 'tensor<32x48xi8>'}}
  %y = qc.matmul_fp8 %a, %b {a_format = #qc<format fp8_e4m3>, b_format = #qc<format fp8_e4m3>} : (tensor<4x64xi8>, tensor<32x48xi8>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

func.func @fp8_matmul_result(%a: tensor<2x4x64xi8>, %b: tensor<32x64xi8>) -> tensor<4x32xf32> {
  // expected-error @+1 {{result must be 'tensor<2x4x32xf32>'}}
  %y = qc.matmul_fp8 %a, %b {a_format = #qc<format fp8_e4m3>, b_format = #qc<format fp8_e4m3>} : (tensor<2x4x64xi8>, tensor<32x64xi8>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}
