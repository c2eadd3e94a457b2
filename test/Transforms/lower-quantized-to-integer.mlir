// RUN: quant-opt %s -split-input-file --fold-calibration --lower-quantized-to-integer --canonicalize -verify-diagnostics | FileCheck %s

// A unary function between a dequantization and a quantization becomes a
// table of its 256 levels: sigmoid(x) for x = (q - 128) 2 / 255, quantized
// with scale 1/255: sigmoid(-256 / 255) * 255 = 68.4 -> 68 first,
// sigmoid(254 / 255) * 255 = 186.1 -> 186 last; max pooling and reshapes
// run on the integers.
// CHECK-LABEL: func.func @float_island
// CHECK: %[[Q:.*]] = qc.storage_cast %{{.*}} -> tensor<1x4x4x4xui8>
// CHECK: %[[M:.*]] = qc.maxpool %[[Q]] {{.*}} : (tensor<1x4x4x4xui8>) -> tensor<1x4x2x2xui8>
// CHECK: qc.table %[[M]] [68, {{.*}}, 186] : tensor<1x4x2x2xui8> -> tensor<1x4x2x2xui8>
// CHECK-NOT: qc.sigmoid
func.func @float_island(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32> {
  %x0 = qc.observe "x" %x {min = -1.0 : f64, max = 1.0 : f64} : tensor<1x4x4x4xf32>
  %m = qc.maxpool %x0 {auto_pad = "NOTSET", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32>
  %s = qc.sigmoid %m : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %o = qc.observe "s" %s {min = 0.0 : f64, max = 1.0 : f64} : tensor<1x4x2x2xf32>
  return %o : tensor<1x4x2x2xf32>
}

// -----

// A QDQ model as ONNX Runtime writes it (imported QuantizeLinear /
// DequantizeLinear pairs): the same integer rewrite; a Gemm with alpha and
// a bias folds alpha into the requantization scale.
// CHECK-LABEL: func.func @qdq_gemm
// CHECK: %[[A:.*]] = qc.storage_cast %{{.*}} -> tensor<2x4xui8>
// CHECK: %[[M:.*]] = qc.matmul_int %[[A]], %{{.*}} bias %{{.*}} zp(10, [0, 0]) {lowbit = #qc.lowbit<bits = 4, base = -8, step = 1>} : (tensor<2x4xui8>, tensor<4x2xi8>, tensor<2xi32>) -> tensor<2x2xi32>
// CHECK: qc.requantize %[[M]] multiplier [{{.*}}] shift [{{.*}}] axis 1 zp(0 -> 3) clamp(0, 255)
// CHECK-NOT: qc.gemm
func.func @qdq_gemm(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1, -2], [3, 4], [-5, 6], [7, -8]]> : tensor<4x2xi8>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %q = qc.quantize %x : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<u8:f32, 0.1:10>>
  %dq = qc.dequantize %q : tensor<2x4x!quant.uniform<u8:f32, 0.1:10>> -> tensor<2x4xf32>
  %wq = qc.storage_cast %w : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>
  %wd = qc.dequantize %wq : tensor<4x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>> -> tensor<4x2xf32>
  %g = qc.gemm %dq, %wd, %b {alpha = 2.0 : f32, beta = 1.0 : f32, transA = 0 : i64, transB = 0 : i64} : (tensor<2x4xf32>, tensor<4x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %yq = qc.quantize %g : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<u8:f32, 0.05:3>>
  %y = qc.dequantize %yq : tensor<2x2x!quant.uniform<u8:f32, 0.05:3>> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// A concatenation of a quantized and a float input stays float (the second
// input has no integers to concatenate), and the rewrite settles: the
// pattern that tried it left nothing behind (it used to create a cast for
// the first input, fail on the second, and loop).
// CHECK-LABEL: func.func @concat_mixed
// CHECK: %[[C:.*]] = qc.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x4xf32>
// CHECK: qc.quantize %[[C]]
func.func @concat_mixed(%x: tensor<1x2xf32>, %y: tensor<1x2xf32>) -> tensor<1x4xf32> {
  %q = qc.quantize %x : tensor<1x2xf32> -> tensor<1x2x!quant.uniform<u8:f32, 0.1:10>>
  %dq = qc.dequantize %q : tensor<1x2x!quant.uniform<u8:f32, 0.1:10>> -> tensor<1x2xf32>
  %c = qc.concat %dq, %y {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x4xf32>
  %cq = qc.quantize %c : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<u8:f32, 0.1:10>>
  %r = qc.dequantize %cq : tensor<1x4x!quant.uniform<u8:f32, 0.1:10>> -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

// -----

// An observer that calibration never filled in.
func.func @uncalibrated(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'x' has no calibrated range (run calibration first)}}
  %o = qc.observe "x" %x : tensor<4xf32>
  return %o : tensor<4xf32>
}

// -----

// A block-quantized weight no integer op takes folds to the floats it
// dequantizes to: blocks of 2 at scales 0.5 and 0.25 give [1, -2, 1.5, 2]
// (f32 little-endian 0x3F800000, 0xC0000000, 0x3FC00000, 0x40000000).
// CHECK-LABEL: func.func @blocked_weight_left_float
// CHECK: %[[W:.*]] = arith.constant dense_resource<weight_dequantized> : tensor<1x4xf32>
// CHECK: return %[[W]]
// CHECK: weight_dequantized: "0x040000000000803F000000C00000C03F00000040"
func.func @blocked_weight_left_float() -> tensor<1x4xf32> {
  %c = arith.constant dense<[[2, -4, 6, 8]]> : tensor<1x4xi8>
  %q = qc.storage_cast %c : tensor<1x4xi8> -> tensor<1x4x!quant.uniform<i8:f32:{0:1, 1:2}, {{0.5, 0.25}}>>
  %d = qc.dequantize %q : tensor<1x4x!quant.uniform<i8:f32:{0:1, 1:2}, {{0.5, 0.25}}>> -> tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

// Binarized activations (GreaterOrEqual + Where between -1 and 1, quantized
// per tensor to u8 at 1/127.5, zero point 128: levels 1 and 255 by
// qc.quantize's rounding), flattened on the way, and binary weights: the
// product is marked #qc.lowbit with both formats. An input that is not a
// Where of constants gets the weights' format only.
// CHECK-LABEL: func.func @binary_activations
// CHECK: qc.matmul_int {{.*}} {lowbit = #qc.lowbit<bits = 1, base = -127, step = 254, act_lo = 1, act_hi = 255>}
// CHECK: qc.matmul_int {{.*}} {lowbit = #qc.lowbit<bits = 1, base = -127, step = 254>}
func.func @binary_activations(%x: tensor<1x2x2xf32>, %z: tensor<1x4xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>) {
  %zero = arith.constant dense<0.0> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %mone = arith.constant dense<-1.0> : tensor<f32>
  %w = arith.constant dense<[[127, -127], [-127, 127], [127, 127], [-127, -127]]> : tensor<4x2xi8>
  %c = qc.greaterorequal %x, %zero : (tensor<1x2x2xf32>, tensor<f32>) -> tensor<1x2x2xi1>
  %s = qc.where %c, %one, %mone : (tensor<1x2x2xi1>, tensor<f32>, tensor<f32>) -> tensor<1x2x2xf32>
  %f = qc.flatten %s {axis = 1 : i64} : (tensor<1x2x2xf32>) -> tensor<1x4xf32>
  %q = qc.quantize %f : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<u8:f32, 0.0078431372549019607:128>>
  %dq = qc.dequantize %q : tensor<1x4x!quant.uniform<u8:f32, 0.0078431372549019607:128>> -> tensor<1x4xf32>
  %wq = qc.storage_cast %w : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>
  %wd = qc.dequantize %wq : tensor<4x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>> -> tensor<4x2xf32>
  %m = qc.matmul %dq, %wd : (tensor<1x4xf32>, tensor<4x2xf32>) -> tensor<1x2xf32>
  %mq = qc.quantize %m : tensor<1x2xf32> -> tensor<1x2x!quant.uniform<u8:f32, 0.05:3>>
  %y = qc.dequantize %mq : tensor<1x2x!quant.uniform<u8:f32, 0.05:3>> -> tensor<1x2xf32>
  %zq = qc.quantize %z : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<u8:f32, 0.0078431372549019607:128>>
  %zd = qc.dequantize %zq : tensor<1x4x!quant.uniform<u8:f32, 0.0078431372549019607:128>> -> tensor<1x4xf32>
  %m2 = qc.matmul %zd, %wd : (tensor<1x4xf32>, tensor<4x2xf32>) -> tensor<1x2xf32>
  %m2q = qc.quantize %m2 : tensor<1x2xf32> -> tensor<1x2x!quant.uniform<u8:f32, 0.05:3>>
  %y2 = qc.dequantize %m2q : tensor<1x2x!quant.uniform<u8:f32, 0.05:3>> -> tensor<1x2xf32>
  return %y, %y2 : tensor<1x2xf32>, tensor<1x2xf32>
}

// -----

// Comparisons of a quantized product with constants (the sign before a
// binary layer) run on the int32 accumulator, against a threshold per
// output channel: s_x s_w = 0.001 and 0.002, so v >= 0.0105 is acc >= 11
// and acc >= 6 (10.5 and 5.25 rounded up), v > 0.0151 is acc >= 16 and 8,
// v < -0.0031 is acc < -3 and -1, v <= -0.0049 is acc < -4 and -2. The
// requantized u8 output (scale 0.05) would put all of these at the zero
// point. A float value with other users keeps its requantization.
// CHECK-LABEL: func.func @compare_accumulator
// CHECK-DAG: %[[GE:.*]] = arith.constant dense<{{\[\[}}11, 6]]> : tensor<1x2xi32>
// CHECK-DAG: %[[GT:.*]] = arith.constant dense<{{\[\[}}16, 8]]> : tensor<1x2xi32>
// CHECK-DAG: %[[LT:.*]] = arith.constant dense<{{\[\[}}-3, -1]]> : tensor<1x2xi32>
// CHECK-DAG: %[[LE:.*]] = arith.constant dense<{{\[\[}}-4, -2]]> : tensor<1x2xi32>
// CHECK: %[[M:.*]] = qc.matmul_int
// CHECK-DAG: qc.greaterorequal %[[M]], %[[GE]] : (tensor<2x2xi32>, tensor<1x2xi32>) -> tensor<2x2xi1>
// CHECK-DAG: qc.greaterorequal %[[M]], %[[GT]] : (tensor<2x2xi32>, tensor<1x2xi32>) -> tensor<2x2xi1>
// CHECK-DAG: qc.less %[[M]], %[[LT]] : (tensor<2x2xi32>, tensor<1x2xi32>) -> tensor<2x2xi1>
// CHECK-DAG: qc.less %[[M]], %[[LE]] : (tensor<2x2xi32>, tensor<1x2xi32>) -> tensor<2x2xi1>
// CHECK-DAG: qc.requantize %[[M]]
func.func @compare_accumulator(%x: tensor<2x4xf32>) -> (tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xf32>) {
  %w = arith.constant dense<[[1, -2], [3, 4], [-5, 6], [7, -8]]> : tensor<4x2xi8>
  %t0 = arith.constant dense<0.0105> : tensor<f32>
  %t1 = arith.constant dense<0.0151> : tensor<f32>
  %t2 = arith.constant dense<-0.0031> : tensor<f32>
  %t3 = arith.constant dense<-0.0049> : tensor<f32>
  %q = qc.quantize %x : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<u8:f32, 0.1:10>>
  %dq = qc.dequantize %q : tensor<2x4x!quant.uniform<u8:f32, 0.1:10>> -> tensor<2x4xf32>
  %wq = qc.storage_cast %w : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>
  %wd = qc.dequantize %wq : tensor<4x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>> -> tensor<4x2xf32>
  %m = qc.matmul %dq, %wd : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  %mq = qc.quantize %m : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<u8:f32, 0.05:3>>
  %y = qc.dequantize %mq : tensor<2x2x!quant.uniform<u8:f32, 0.05:3>> -> tensor<2x2xf32>
  %c0 = qc.greaterorequal %y, %t0 : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xi1>
  %c1 = qc.greater %y, %t1 : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xi1>
  %c2 = qc.less %y, %t2 : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xi1>
  %c3 = qc.lessorequal %y, %t3 : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xi1>
  return %c0, %c1, %c2, %c3, %y : tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xf32>
}

// -----

// A sign before a binary layer (GreaterOrEqual 0, Where 1 / -1, max
// reshape, quantized to u8 at 1/127.5, zero point 128: levels 255 and 1)
// becomes a step on the accumulator: requantize with multiplier 254 =
// 255 - 1, shift 0, input zero point 0 (the threshold), output zero point
// 255 and clamp (1, 255), so acc >= 0 gives 255 and acc <= -1 gives 1. The
// reshape runs on its integers, and the next product sees the two levels.
// CHECK-LABEL: func.func @sign_to_step
// CHECK: %[[M:.*]] = qc.matmul_int
// CHECK: %[[S:.*]] = qc.requantize %[[M]] multiplier [254] shift [0] zp(0 -> 255) clamp(1, 255) : tensor<1x4xi32> -> tensor<1x4xui8>
// CHECK: %[[R:.*]] = qc.reshape %[[S]], %{{.*}} : (tensor<1x4xui8>, tensor<2xi64>) -> tensor<2x2xui8>
// CHECK-NOT: qc.where
// CHECK: qc.matmul_int {{.*}} {lowbit = #qc.lowbit<bits = 1, base = -127, step = 254, act_lo = 1, act_hi = 255>}
func.func @sign_to_step(%x: tensor<1x4xf32>) -> tensor<2x2xf32> {
  %zero = arith.constant dense<0.0> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %mone = arith.constant dense<-1.0> : tensor<f32>
  %shape = arith.constant dense<[2, 2]> : tensor<2xi64>
  %w = arith.constant dense<[[1, -2, 3, 4], [3, 4, -1, 2], [-5, 6, 7, 1], [7, -8, 2, 2]]> : tensor<4x4xi8>
  %w2 = arith.constant dense<[[127, -127], [-127, 127]]> : tensor<2x2xi8>
  %q = qc.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<u8:f32, 0.1:10>>
  %dq = qc.dequantize %q : tensor<1x4x!quant.uniform<u8:f32, 0.1:10>> -> tensor<1x4xf32>
  %wq = qc.storage_cast %w : tensor<4x4xi8> -> tensor<4x4x!quant.uniform<i8:f32, 0.01>>
  %wd = qc.dequantize %wq : tensor<4x4x!quant.uniform<i8:f32, 0.01>> -> tensor<4x4xf32>
  %m = qc.matmul %dq, %wd : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %mq = qc.quantize %m : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<u8:f32, 0.05:3>>
  %y = qc.dequantize %mq : tensor<1x4x!quant.uniform<u8:f32, 0.05:3>> -> tensor<1x4xf32>
  %c = qc.greaterorequal %y, %zero : (tensor<1x4xf32>, tensor<f32>) -> tensor<1x4xi1>
  %s = qc.where %c, %one, %mone : (tensor<1x4xi1>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32>
  %r = qc.reshape %s, %shape : (tensor<1x4xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  %sq = qc.quantize %r : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<u8:f32, 0.0078431372549019607:128>>
  %sd = qc.dequantize %sq : tensor<2x2x!quant.uniform<u8:f32, 0.0078431372549019607:128>> -> tensor<2x2xf32>
  %w2q = qc.storage_cast %w2 : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i8:f32, 0.01>>
  %w2d = qc.dequantize %w2q : tensor<2x2x!quant.uniform<i8:f32, 0.01>> -> tensor<2x2xf32>
  %m2 = qc.matmul %sd, %w2d : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %m2q = qc.quantize %m2 : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<u8:f32, 0.05:3>>
  %o = qc.dequantize %m2q : tensor<2x2x!quant.uniform<u8:f32, 0.05:3>> -> tensor<2x2xf32>
  return %o : tensor<2x2xf32>
}

// -----

// A 16-bit activation (W8A16, an observer with a 16-bit scheme): int16 x
// int8 products accumulate in int64, with an int64 bias; the 8-bit output
// is requantized from int64 with a multiplier short enough for it.
// CHECK-LABEL: func.func @conv_a16
// CHECK: %[[X:.*]] = qc.storage_cast %{{.*}} -> tensor<1x2x4x4xui16>
// CHECK: %[[A:.*]] = qc.conv_int %[[X]], %{{.*}} bias %{{.*}} zp(32768, [0, 0]) {{.*}} : (tensor<1x2x4x4xui16>, tensor<2x2x3x3xi8>, tensor<2xi64>) -> tensor<1x2x4x4xi64>
// CHECK: qc.requantize %[[A]] {{.*}} : tensor<1x2x4x4xi64> -> tensor<1x2x4x4xui8>
func.func @conv_a16(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %x0 = qc.observe "x" %x {min = -1.0 : f64, max = 1.0 : f64, qc.activation_scheme = #qc.scheme<format = int, bits = 16, isSigned = false, symmetric = false>} : tensor<1x2x4x4xf32>
  %c = qc.conv %x0, %w, %b {auto_pad = "NOTSET", group = 1 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %o = qc.observe "c" %c {min = -5.0 : f64, max = 5.0 : f64} : tensor<1x2x4x4xf32>
  return %o : tensor<1x2x4x4xf32>
}

// -----

// HardSwish written out (x * clip(x + 3, 0, 6) / 6, as exporters do) reads
// one dequantized tensor twice: still one table. A binary op of two
// different tensors is no unary function: it stays float.
// CHECK-LABEL: func.func @hardswish_chain
// CHECK: qc.table %{{.*}} [{{.*}}] : tensor<8xui8> -> tensor<8xui8>
// CHECK: qc.mul
// CHECK-NOT: qc.table
func.func @hardswish_chain(%x: tensor<8xf32>, %z: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %three = arith.constant dense<3.0> : tensor<f32>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %six = arith.constant dense<6.0> : tensor<f32>
  %x0 = qc.observe "x" %x {min = -4.0 : f64, max = 4.0 : f64} : tensor<8xf32>
  %z0 = qc.observe "z" %z {min = -4.0 : f64, max = 4.0 : f64} : tensor<8xf32>
  %a = qc.add %x0, %three : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %c = qc.clip %a, %zero, %six : (tensor<8xf32>, tensor<f32>, tensor<f32>) -> tensor<8xf32>
  %m = qc.mul %x0, %c : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %d = qc.div %m, %six : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %h = qc.observe "h" %d {min = -0.5 : f64, max = 4.0 : f64} : tensor<8xf32>
  %p = qc.mul %x0, %z0 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %q = qc.observe "p" %p {min = -16.0 : f64, max = 16.0 : f64} : tensor<8xf32>
  return %h, %q : tensor<8xf32>, tensor<8xf32>
}

// -----

// quantize(maxpool(f(x))) = maxpool(quantize(f(x))) (quantization does not
// decrease, so it commutes with max): the table, then the pooling on its
// integers.
// CHECK-LABEL: func.func @table_then_pool
// CHECK: %[[T:.*]] = qc.table %{{.*}} [{{.*}}] : tensor<1x2x4x4xui8> -> tensor<1x2x4x4xui8>
// CHECK: qc.maxpool %[[T]] {{.*}} : (tensor<1x2x4x4xui8>) -> tensor<1x2x2x2xui8>
// CHECK-NOT: qc.leakyrelu
func.func @table_then_pool(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %x0 = qc.observe "x" %x {min = -2.0 : f64, max = 2.0 : f64} : tensor<1x2x4x4xf32>
  %l = qc.leakyrelu %x0 {alpha = 2.000000e-01 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %m = qc.maxpool %l {auto_pad = "NOTSET", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  %o = qc.observe "m" %m {min = -0.4 : f64, max = 2.0 : f64} : tensor<1x2x2x2xf32>
  return %o : tensor<1x2x2x2xf32>
}
