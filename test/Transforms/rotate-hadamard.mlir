// RUN: quant-opt %s --split-input-file --rotate-hadamard --canonicalize | FileCheck %s
//
// The float function is unchanged: test/e2e/Inputs/rewrites.py checks it
// numerically on trained transformers (against ONNX Runtime).

// LayerNorm: gamma and beta stay in the norm, times the random signs D
// (here +1, -1, +1, -1), so that what is rotated and quantized is the norm's
// output as the readers saw it; an online qc.hadamard (K = 4, a power of two:
// no factor) follows and the readers take T^T D (no bias: beta did not
// move); the observer sees the rotated tensor and has lost its statistics.
// CHECK-LABEL: func.func @layernorm
// CHECK-DAG: %[[G:.*]] = arith.constant dense<[1.000000e+00, -2.000000e+00, 5.000000e-01, -1.500000e+00]> : tensor<4xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, -0.000000e+00]> : tensor<4xf32>
// CHECK: %[[N:.*]] = qc.layernormalization %arg0, %[[G]], %[[B]]
// CHECK: %[[H:.*]] = qc.hadamard %[[N]] : tensor<2x4xf32>
// CHECK: %[[O:.*]] = qc.observe "x" %[[H]] {channel_axis = 1 : i64} : tensor<2x4xf32>
// CHECK: %[[Y:.*]] = qc.matmul %[[O]], %{{.*}} : (tensor<2x4xf32>, tensor<4x3xf32>)
// CHECK-NEXT: return %[[Y]]
func.func @layernorm(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %g = arith.constant dense<[1.0, 2.0, 0.5, 1.5]> : tensor<4xf32>
  %b = arith.constant dense<[0.1, -0.2, 0.3, 0.0]> : tensor<4xf32>
  %w = arith.constant dense<[[1.0, 0.0, 2.0], [0.0, 1.0, -1.0], [3.0, 1.0, 0.0], [0.5, 0.5, 0.5]]> : tensor<4x3xf32>
  %n = qc.layernormalization %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %o = qc.observe "x" %n {min = -4.0 : f64, max = 4.0 : f64, channel_axis = 1 : i64, channel_abs_max = array<f64: 4.0, 1.0, 1.0, 1.0>} : tensor<2x4xf32>
  %y = qc.matmul %o, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// A linear producer takes D T into its columns and bias: nothing online
// between the two layers (the function's input, produced by nothing, is
// rotated online).
// CHECK-LABEL: func.func @linear_producer
// CHECK: %[[XH:.*]] = qc.hadamard %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x3xf32>
// CHECK: %[[H:.*]] = qc.matmul %[[XH]], %{{.*}} : (tensor<2x3xf32>, tensor<3x4xf32>)
// CHECK-NEXT: %[[HB:.*]] = qc.add %[[H]], %{{.*}} : (tensor<2x4xf32>, tensor<4xf32>)
// CHECK-NEXT: qc.matmul %[[HB]], %{{.*}} : (tensor<2x4xf32>, tensor<4x1xf32>)
func.func @linear_producer(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  %p = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0], [2.0, 0.0, 1.0, 0.0]]> : tensor<3x4xf32>
  %pb = arith.constant dense<[0.5, 0.0, -0.5, 1.0]> : tensor<4xf32>
  %w = arith.constant dense<[[1.0], [2.0], [3.0], [4.0]]> : tensor<4x1xf32>
  %h = qc.matmul %x, %p : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %hb = qc.add %h, %pb : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %y = qc.matmul %hb, %w : (tensor<2x4xf32>, tensor<4x1xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

// Any other producer (a Relu): an online Mul by D and a qc.hadamard; K = 12
// = 3 x 4 takes Paley's 12 x 12 Hadamard factor (11 is prime), entries
// +-1/sqrt(12) (0x3E93CD3A, 0xBE93CD3A). A Gemm reader with transB.
// CHECK-LABEL: func.func @online
// CHECK-DAG: %[[F:.*]] = arith.constant dense<"0x{{(3ACD93(3|B)E)+}}"> : tensor<12x12xf32>
// CHECK: %[[R:.*]] = qc.relu %arg0
// CHECK: %[[M:.*]] = qc.mul %[[R]], %{{.*}} : (tensor<2x12xf32>, tensor<12xf32>)
// CHECK: %[[H:.*]] = qc.hadamard %[[M]], %[[F]] : tensor<2x12xf32>, tensor<12x12xf32>
// CHECK: qc.gemm %[[H]]
func.func @online(%x: tensor<2x12xf32>, %w: tensor<5x12xf32>) -> tensor<2x5xf32> {
  %c = arith.constant dense<1.0> : tensor<5x12xf32>
  %r = qc.relu %x : (tensor<2x12xf32>) -> tensor<2x12xf32>
  %y = qc.gemm %r, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = 0 : i64, transB = 1 : i64} : (tensor<2x12xf32>, tensor<5x12xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// A residual stream (embedding lookup + positions, a linear layer's output
// added back, LayerNorms reading it): its writers are centered and rotated
// offline (the table and the positions rewritten, the layer's weight and
// bias), the LayerNorms become RMSNorms x / sqrt(mean(x^2) + eps), and no
// qc.hadamard runs online.
// CHECK-LABEL: func.func @residual
// CHECK-NOT: qc.hadamard
// CHECK-NOT: qc.layernormalization
// CHECK-DAG: %[[EPS:.*]] = arith.constant dense<9.99999974E-6> : tensor<f32>
// The positions, rows centered and rotated (rewritten), the table likewise.
// CHECK-DAG: %[[P:.*]] = arith.constant dense<{{\[\[\[}}{{.*}}]]]> : tensor<1x3x4xf32>
// CHECK-DAG: %[[T:.*]] = arith.constant dense_resource<residual.rotated> : tensor<6x4xf32>
// CHECK: %[[E:.*]] = qc.gather %[[T]], %arg0
// CHECK: %[[H0:.*]] = qc.add %[[E]], %[[P]]
// CHECK: %[[SQ:.*]] = qc.mul %[[H0]], %[[H0]]
// CHECK: %[[MS:.*]] = qc.reducemean %[[SQ]] {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
// CHECK: %[[V:.*]] = qc.add %[[MS]], %[[EPS]]
// CHECK: %[[R:.*]] = qc.sqrt %[[V]]
// CHECK: %[[N1:.*]] = qc.div %[[H0]], %[[R]]
// CHECK: %[[M:.*]] = qc.matmul %[[N1]]
// CHECK: %[[MB:.*]] = qc.add %[[M]]
// CHECK: %[[H1:.*]] = qc.add %[[H0]], %[[MB]]
// CHECK: qc.mul %[[H1]], %[[H1]]
// CHECK: %[[N2:.*]] = qc.div %[[H1]]
// CHECK: %[[Y:.*]] = qc.matmul %[[N2]]
// The head takes the second LayerNorm's beta as its bias.
// CHECK: qc.add %[[Y]]
func.func @residual(%ids: tensor<2x3xi64>) -> tensor<2x3x5xf32> {
  %E = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.0, 0.0], [3.0, 1.0, -2.0, 1.0], [0.0, 0.0, 1.0, 5.0], [2.0, 2.0, 2.0, -2.0], [1.0, -1.0, 1.0, -1.0]]> : tensor<6x4xf32>
  %P = arith.constant dense<[[[0.1, 0.2, 0.3, 0.4], [0.0, -0.1, 0.1, 0.0], [0.2, 0.2, -0.2, -0.2]]]> : tensor<1x3x4xf32>
  %g = arith.constant dense<[1.0, 2.0, 0.5, 1.5]> : tensor<4xf32>
  %b = arith.constant dense<[0.1, -0.2, 0.3, 0.0]> : tensor<4xf32>
  %w1 = arith.constant dense<[[1.0, 0.0, 2.0, 1.0], [0.0, 1.0, -1.0, 0.5], [3.0, 1.0, 0.0, -1.0], [0.5, 0.5, 0.5, 0.5]]> : tensor<4x4xf32>
  %b1 = arith.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>
  %wh = arith.constant dense<[[1.0, 0.0, 2.0, 1.0, 0.0], [0.0, 1.0, -1.0, 0.5, 1.0], [3.0, 1.0, 0.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5, -0.5]]> : tensor<4x5xf32>
  %e = qc.gather %E, %ids {axis = 0 : i64} : (tensor<6x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %h0 = qc.add %e, %P : (tensor<2x3x4xf32>, tensor<1x3x4xf32>) -> tensor<2x3x4xf32>
  %n1 = qc.layernormalization %h0, %g, %b {axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %m = qc.matmul %n1, %w1 : (tensor<2x3x4xf32>, tensor<4x4xf32>) -> tensor<2x3x4xf32>
  %mb = qc.add %m, %b1 : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %h1 = qc.add %h0, %mb : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %n2 = qc.layernormalization %h1, %g, %b {axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %y = qc.matmul %n2, %wh : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

// No residual stream to rotate offline: the sum's terms are the function's
// arguments (no writer whose weights could take the rotation) and the sum
// is returned. The LayerNorm keeps its online Hadamard.
// CHECK-LABEL: func.func @not_a_stream
// CHECK: qc.layernormalization
// CHECK: qc.hadamard
func.func @not_a_stream(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>) {
  %g = arith.constant dense<[1.0, 2.0, 0.5, 1.5]> : tensor<4xf32>
  %w = arith.constant dense<[[1.0, 0.0, 2.0], [0.0, 1.0, -1.0], [3.0, 1.0, 0.0], [0.5, 0.5, 0.5]]> : tensor<4x3xf32>
  %h = qc.add %x, %y : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %n = qc.layernormalization %h, %g {axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %o = qc.matmul %n, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %o, %h : tensor<2x3xf32>, tensor<2x4xf32>
}
