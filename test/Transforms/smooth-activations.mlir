// RUN: quant-opt %s --split-input-file --smooth-activations --canonicalize | FileCheck %s
// RUN: not quant-opt %s --split-input-file --smooth-activations=alpha=1.5 2>&1 | FileCheck %s --check-prefix=ALPHA

// LayerNorm feeding two MatMuls (Q and K): one factor vector from the
// activation's max [4, 1] and the rows' max over both weights [1, 4]:
// s = sqrt([4, 1]) / sqrt([1, 4]) = [2, 0.5]. gamma / s, beta / s;
// the weight rows times s.
// CHECK-LABEL: func.func @layernorm_qk
// CHECK-DAG: %[[G:.*]] = arith.constant dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[1.000000e-01, -8.000000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[W1:.*]] = arith.constant dense<{{\[\[}}2.000000e+00, 0.000000e+00], [0.000000e+00, 2.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[W2:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00], [-1.000000e+00, 5.000000e-01]]> : tensor<2x2xf32>
// CHECK: %[[N:.*]] = qc.layernormalization %arg0, %[[G]], %[[B]]
// CHECK: %[[O:.*]] = qc.observe "x" %[[N]] {channel_abs_max = array<f64: 2.000000e+00, 2.000000e+00>, channel_axis = 2 : i64, qc.smooth_alpha = 5.000000e-01 : f64}
// CHECK: qc.matmul %[[O]], %[[W1]]
// CHECK: qc.matmul %[[O]], %[[W2]]
func.func @layernorm_qk(%x: tensor<1x3x2xf32>) -> (tensor<1x3x2xf32>, tensor<1x3x2xf32>) {
  %g = arith.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.2, -0.4]> : tensor<2xf32>
  %w1 = arith.constant dense<[[1.0, 0.0], [0.0, 4.0]]> : tensor<2x2xf32>
  %w2 = arith.constant dense<[[0.5, 0.5], [-2.0, 1.0]]> : tensor<2x2xf32>
  %n = qc.layernormalization %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64} : (tensor<1x3x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  %o = qc.observe "x" %n {min = -4.0 : f64, max = 4.0 : f64, channel_axis = 2 : i64, channel_abs_max = array<f64: 4.0, 1.0>} : tensor<1x3x2xf32>
  %q = qc.matmul %o, %w1 : (tensor<1x3x2xf32>, tensor<2x2xf32>) -> tensor<1x3x2xf32>
  %k = qc.matmul %o, %w2 : (tensor<1x3x2xf32>, tensor<2x2xf32>) -> tensor<1x3x2xf32>
  return %q, %k : tensor<1x3x2xf32>, tensor<1x3x2xf32>
}

// -----

// The tail of a decomposed LayerNorm, Add(Mul(z, gamma), beta); the
// observer's alpha (1: s = max|X|) overrides the option: s = [8, 2].
// CHECK-LABEL: func.func @decomposed
// CHECK-DAG: %[[G:.*]] = arith.constant dense<[2.500000e-01, 1.500000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[1.250000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}8.000000e+00], [-2.000000e+00]]> : tensor<2x1xf32>
// CHECK: %[[M:.*]] = qc.mul %arg0, %[[G]]
// CHECK: %[[A:.*]] = qc.add %[[M]], %[[B]]
// CHECK: qc.observe "z" %[[A]] {channel_abs_max = array<f64: 1.000000e+00, 1.000000e+00>, channel_axis = 1 : i64, qc.smooth_alpha = 1.000000e+00 : f64}
func.func @decomposed(%z: tensor<4x2xf32>) -> tensor<4x1xf32> {
  %g = arith.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %b = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %w = arith.constant dense<[[1.0], [-1.0]]> : tensor<2x1xf32>
  %m = qc.mul %z, %g : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %a = qc.add %m, %b : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %o = qc.observe "z" %a {channel_axis = 1 : i64, channel_abs_max = array<f64: 8.0, 2.0>, qc.smooth_alpha = 1.0 : f64} : tensor<4x2xf32>
  %y = qc.matmul %o, %w : (tensor<4x2xf32>, tensor<2x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// A linear producer (MatMul + bias Add): its columns and bias divided by s,
// the reader's rows times s. act [9, 1], reader rows [1, 1]: s = [3, 1].
// CHECK-LABEL: func.func @linear_producer
// CHECK-DAG: %[[P:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00], [2.000000e+00, 2.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[PB:.*]] = arith.constant dense<[1.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}3.000000e+00], [1.000000e+00]]> : tensor<2x1xf32>
// CHECK: %[[H:.*]] = qc.matmul %arg0, %[[P]]
// CHECK: %[[HB:.*]] = qc.add %[[H]], %[[PB]]
// CHECK: qc.matmul %{{.*}}, %[[W]]
func.func @linear_producer(%x: tensor<4x2xf32>) -> tensor<4x1xf32> {
  %p = arith.constant dense<[[3.0, 1.0], [6.0, 2.0]]> : tensor<2x2xf32>
  %pb = arith.constant dense<[3.0, 0.5]> : tensor<2xf32>
  %w = arith.constant dense<[[1.0], [1.0]]> : tensor<2x1xf32>
  %h = qc.matmul %x, %p : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %hb = qc.add %h, %pb : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %o = qc.observe "h" %hb {channel_axis = 1 : i64, channel_abs_max = array<f64: 9.0, 1.0>} : tensor<4x2xf32>
  %y = qc.matmul %o, %w : (tensor<4x2xf32>, tensor<2x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// A Relu cannot absorb a factor, and an activation also read by an Add (a
// residual) cannot be rescaled: both stay as they are.
// CHECK-LABEL: func.func @not_foldable
// CHECK: qc.observe "r" %{{.*}} {channel_abs_max = array<f64: 9.000000e+00, 1.000000e+00>, channel_axis = 1 : i64}
// CHECK: qc.observe "n" %{{.*}} {channel_abs_max = array<f64: 9.000000e+00, 1.000000e+00>, channel_axis = 1 : i64}
// CHECK-NOT: qc.smooth_alpha
func.func @not_foldable(%x: tensor<4x2xf32>) -> (tensor<4x1xf32>, tensor<4x1xf32>, tensor<4x2xf32>) {
  %g = arith.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %w = arith.constant dense<[[1.0], [1.0]]> : tensor<2x1xf32>
  %r = qc.relu %x : (tensor<4x2xf32>) -> tensor<4x2xf32>
  %o = qc.observe "r" %r {channel_axis = 1 : i64, channel_abs_max = array<f64: 9.0, 1.0>} : tensor<4x2xf32>
  %y = qc.matmul %o, %w : (tensor<4x2xf32>, tensor<2x1xf32>) -> tensor<4x1xf32>
  %m = qc.mul %x, %g : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %n = qc.observe "n" %m {channel_axis = 1 : i64, channel_abs_max = array<f64: 9.0, 1.0>} : tensor<4x2xf32>
  %z = qc.matmul %n, %w : (tensor<4x2xf32>, tensor<2x1xf32>) -> tensor<4x1xf32>
  %s = qc.add %n, %x : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y, %z, %s : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4x2xf32>
}

// ALPHA: error: smooth-activations: alpha must lie in [0, 1], got 1.5
