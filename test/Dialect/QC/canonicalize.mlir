// RUN: quant-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func @quantize_of_dequantize
// CHECK-SAME: (%[[Q:.*]]: tensor
// CHECK-NOT: qc.
// CHECK: return %[[Q]]
func.func @quantize_of_dequantize(%q: tensor<4x!quant.uniform<i8:f32, 0.5:3>>) -> tensor<4x!quant.uniform<i8:f32, 0.5:3>> {
  %d = qc.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.5:3>> -> tensor<4xf32>
  %r = qc.quantize %d : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.5:3>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.5:3>>
}

// -----

// Different parameters: a real rescale, kept.
// CHECK-LABEL: func @quantize_of_dequantize_other_params
// CHECK: qc.dequantize
// CHECK: qc.quantize
func.func @quantize_of_dequantize_other_params(%q: tensor<4x!quant.uniform<i8:f32, 0.5:3>>) -> tensor<4x!quant.uniform<i8:f32, 0.25:3>> {
  %d = qc.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.5:3>> -> tensor<4xf32>
  %r = qc.quantize %d : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.25:3>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.25:3>>
}

// -----

// dequantize(quantize(x)) loses precision: never folded.
// CHECK-LABEL: func @dequantize_of_quantize
// CHECK: qc.quantize
// CHECK: qc.dequantize
func.func @dequantize_of_quantize(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.5:3>>
  %d = qc.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.5:3>> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @storage_cast_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<4xui8>)
// CHECK-NEXT: return %[[X]]
func.func @storage_cast_round_trip(%x: tensor<4xui8>) -> tensor<4xui8> {
  %q = qc.storage_cast %x : tensor<4xui8> -> tensor<4x!quant.uniform<u8:f32, 0.5:3>>
  %i = qc.storage_cast %q : tensor<4x!quant.uniform<u8:f32, 0.5:3>> -> tensor<4xui8>
  return %i : tensor<4xui8>
}

// -----

// Unit scale (m = 2^s), equal zero points, full clamp range: identity.
// CHECK-LABEL: func @identity_requantize
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xi8>)
// CHECK-NOT: qc.requantize
// CHECK: return %[[X]], %[[X]]
func.func @identity_requantize(%x: tensor<2x4xi8>) -> (tensor<2x4xi8>, tensor<2x4xi8>) {
  %0 = qc.requantize %x multiplier [1073741824] shift [30] zp (5 -> 5) clamp (-128, 127) : tensor<2x4xi8> -> tensor<2x4xi8>
  %1 = qc.requantize %x multiplier [1, 2] shift [0, 1] axis 0 zp (0 -> 0) clamp (-128, 127) : tensor<2x4xi8> -> tensor<2x4xi8>
  return %0, %1 : tensor<2x4xi8>, tensor<2x4xi8>
}

// -----

// Each differs from the identity in one parameter: all kept.
// CHECK-LABEL: func @not_identity_requantize
// CHECK-COUNT-4: qc.requantize
func.func @not_identity_requantize(%x: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi8>, tensor<4xi8>, tensor<4xi8>) {
  %0 = qc.requantize %x multiplier [1073741825] shift [30] zp (0 -> 0) clamp (-128, 127) : tensor<4xi8> -> tensor<4xi8>
  %1 = qc.requantize %x multiplier [1073741824] shift [30] zp (0 -> 1) clamp (-128, 127) : tensor<4xi8> -> tensor<4xi8>
  %2 = qc.requantize %x multiplier [1073741824] shift [30] zp (0 -> 0) clamp (0, 127) : tensor<4xi8> -> tensor<4xi8>
  %3 = qc.requantize %x multiplier [1073741824] shift [31] zp (0 -> 0) clamp (-128, 127) : tensor<4xi8> -> tensor<4xi8>
  return %0, %1, %2, %3 : tensor<4xi8>, tensor<4xi8>, tensor<4xi8>, tensor<4xi8>
}

// -----

// Constant folding follows the documented formula, computed here by hand:
// scale 2^30 / 2^31 = 0.5, round half up, + zp 10, clamp to [-128, 127]:
// -3 -> -1.5 -> -1 -> 9;  -1 -> -0.5 -> 0 -> 10;  0 -> 10;  1 -> 0.5 -> 1 -> 11;
// 3 -> 1.5 -> 2 -> 12;  235 -> 117.5 -> 118 -> 128 -> 127;  -400 -> -200 -> -190 -> -128.
// CHECK-LABEL: func @fold_constant_requantize
// CHECK: arith.constant dense<[9, 10, 10, 11, 12, 127, -128]> : tensor<7xi8>
// CHECK-NOT: qc.requantize
func.func @fold_constant_requantize() -> tensor<7xi8> {
  %c = arith.constant dense<[-3, -1, 0, 1, 3, 235, -400]> : tensor<7xi32>
  %0 = qc.requantize %c multiplier [1073741824] shift [31] zp (0 -> 10) clamp (-128, 127) : tensor<7xi32> -> tensor<7xi8>
  return %0 : tensor<7xi8>
}

// -----

// Per channel along axis 0: row 0 scale 0.5, row 1 scale 0.75 (1610612736 / 2^31);
// input zero point 2: [10, 11] - 2 = [8, 9]: row 0 -> [4, 4.5 -> 5], row 1 -> [6, 6.75 -> 7].
// Unsigned output with a Relu clamp at the zero point 0.
// CHECK-LABEL: func @fold_constant_requantize_per_channel
// CHECK: arith.constant dense<{{\[\[}}4, 5], [6, 7]]> : tensor<2x2xui8>
func.func @fold_constant_requantize_per_channel() -> tensor<2x2xui8> {
  %c = arith.constant dense<[[10, 11], [10, 11]]> : tensor<2x2xi32>
  %0 = qc.requantize %c multiplier [1073741824, 1610612736] shift [31, 31] axis 0 zp (2 -> 0) clamp (0, 255) : tensor<2x2xi32> -> tensor<2x2xui8>
  return %0 : tensor<2x2xui8>
}

// -----

// CHECK-LABEL: func @clamp_full_range
// CHECK-SAME: (%[[X:.*]]: tensor<4xui8>)
// CHECK-NEXT: return %[[X]]
func.func @clamp_full_range(%x: tensor<4xui8>) -> tensor<4xui8> {
  %0 = qc.clamp %x (0, 255) : tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// CHECK-LABEL: func @nested_clamps
// CHECK-SAME: (%[[X:.*]]: tensor<4xi8>)
// CHECK: %[[A:.*]] = qc.clamp %[[X]](0, 100)
// CHECK: %[[B:.*]] = qc.clamp %[[X]](50, 50)
// CHECK: %[[C:.*]] = qc.clamp %[[X]](-20, -20)
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @nested_clamps(%x: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi8>, tensor<4xi8>) {
  // Overlapping: the intersection.
  %0 = qc.clamp %x (-10, 100) : tensor<4xi8>
  %1 = qc.clamp %0 (0, 120) : tensor<4xi8>
  // Disjoint, inner below outer: always the outer min.
  %2 = qc.clamp %x (-10, 10) : tensor<4xi8>
  %3 = qc.clamp %2 (50, 60) : tensor<4xi8>
  // Disjoint, inner above outer: always the outer max.
  %4 = qc.clamp %x (10, 20) : tensor<4xi8>
  %5 = qc.clamp %4 (-30, -20) : tensor<4xi8>
  return %1, %3, %5 : tensor<4xi8>, tensor<4xi8>, tensor<4xi8>
}

// -----

// CHECK-LABEL: func @fold_constant_clamp_cast
// CHECK-DAG: arith.constant dense<[0, 5, 100]> : tensor<3xi32>
// CHECK-DAG: arith.constant dense<[255, 0, 100, 7]> : tensor<4xui8>
// CHECK-DAG: arith.constant dense<[127, -5, 100, 7]> : tensor<4xi8>
func.func @fold_constant_clamp_cast() -> (tensor<3xi32>, tensor<4xui8>, tensor<4xi8>) {
  %c = arith.constant dense<[-7, 5, 300]> : tensor<3xi32>
  %0 = qc.clamp %c (0, 100) : tensor<3xi32>
  %d = arith.constant dense<[300, -5, 100, 7]> : tensor<4xi32>
  %1 = qc.cast %d : tensor<4xi32> -> tensor<4xui8>
  %2 = qc.cast %d : tensor<4xi32> -> tensor<4xi8>
  return %0, %1, %2 : tensor<3xi32>, tensor<4xui8>, tensor<4xi8>
}

// -----

// An unsigned 255 widens to 255, not -1.
// CHECK-LABEL: func @fold_cast_unsigned
// CHECK: arith.constant dense<[255, 0]> : tensor<2xi32>
func.func @fold_cast_unsigned() -> tensor<2xi32> {
  %c = arith.constant dense<[255, 0]> : tensor<2xui8>
  %0 = qc.cast %c : tensor<2xui8> -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

// CHECK-LABEL: func @cast_same_type
// CHECK-SAME: (%[[X:.*]]: tensor<4xi8>)
// CHECK-NEXT: return %[[X]]
func.func @cast_same_type(%x: tensor<4xi8>) -> tensor<4xi8> {
  %0 = qc.cast %x : tensor<4xi8> -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Observers write calibration statistics: kept even when unused.
// CHECK-LABEL: func @observer_kept
// CHECK: qc.observe "x"
func.func @observer_kept(%x: tensor<4xf32>) {
  %0 = qc.observe "x" %x : tensor<4xf32>
  return
}

// -----

// A constant condition inlines the taken branch.
// CHECK-LABEL: func @constant_if
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT: qc.if
// CHECK: %[[N:.*]] = qc.neg %[[X]]
// CHECK-NEXT: return %[[N]]
func.func @constant_if(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<false> : tensor<i1>
  %y = qc.if %c : tensor<i1> -> tensor<4xf32> {
    %r = qc.relu %x : (tensor<4xf32>) -> tensor<4xf32>
    qc.yield %r : tensor<4xf32>
  } else {
    %n = qc.neg %x : (tensor<4xf32>) -> tensor<4xf32>
    qc.yield %n : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// Shape of a static tensor folds; start/end count from the back when
// negative and clamp to [0, rank]: of 2x3x4x5, [-3, -1) is [3, 4] and
// [-10, 99) is all dims.
// CHECK-LABEL: func @fold_shape
// CHECK-DAG: arith.constant dense<[3, 4]> : tensor<2xi64>
// CHECK-DAG: arith.constant dense<[2, 3, 4, 5]> : tensor<4xi64>
// CHECK-NOT: qc.shape
func.func @fold_shape(%x: tensor<2x3x4x5xf32>) -> (tensor<2xi64>, tensor<4xi64>) {
  %0 = qc.shape %x {start = -3 : i64, end = -1 : i64} : (tensor<2x3x4x5xf32>) -> tensor<2xi64>
  %1 = qc.shape %x {start = -10 : i64, end = 99 : i64} : (tensor<2x3x4x5xf32>) -> tensor<4xi64>
  return %0, %1 : tensor<2xi64>, tensor<4xi64>
}
