// RUN: quant-opt %s -qc-lower-to-microkernels="f32-kernels=avx512" -convert-qc-to-linalg -split-input-file | FileCheck %s
// RUN: not quant-opt %s -qc-lower-to-microkernels="f32-kernels=sse" 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: for the --f32-kernels option: Cannot find option named 'sse'!

// A float 2-d conv with constant weights and bias: one call, the weights
// passed as they are; no linalg left.
// CHECK-DAG: func.func private @qc_k_conv2d_f32_avx512(
// CHECK-LABEL: func @conv
// CHECK-NOT: linalg.
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x4x4xf32>
// CHECK: call @qc_k_conv2d_f32_avx512(%c1_i64, %c2_i64, %c8_i64, %c8_i64, %c4_i64, %c3_i64, %c3_i64, %c4_i64, %c4_i64, %c2_i64, %c2_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64,
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @conv(%x: tensor<1x2x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<4x2x3x3xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %y = qc.conv %x, %w, %b {auto_pad = "NOTSET", group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : (tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}

// -----

// A residual add (its other addend defined after the conv) and a ReLU are
// the conv's epilogue: one call at the ReLU's place, the addend passed as
// `res`, two steps (add, maximum with 0); nothing left for linalg.
// CHECK-LABEL: func @conv_add_relu
// CHECK-NOT: linalg.
// CHECK: %[[STEPS:.*]] = arith.constant dense_resource<qc_kernel_epilogue{{.*}}> : tensor<4xf32>
// CHECK: bufferization.to_buffer %[[STEPS]]
// CHECK: call @qc_k_conv2d_f32_avx512({{.*}}, %c2_i64, %{{.*}}, %c0_i64, %c1_i64) :
// CHECK-NOT: linalg.
// CHECK: return
func.func @conv_add_relu(%x: tensor<1x8x6x6xf32>, %r0: tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8x1x1xf32>
  %b = arith.constant dense<0.25> : tensor<8xf32>
  %y = qc.conv %x, %w, %b {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x8x6x6xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<1x8x6x6xf32>
  %r = qc.neg %r0 : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %a = qc.add %r, %y : (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %z = qc.relu %a : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  return %z : tensor<1x8x6x6xf32>
}

// -----

// LeakyRelu, Max with a one-element constant and Clip with constant bounds
// (max, then min): four steps, no residual.
// CHECK-LABEL: func @conv_leaky_max_clip
// CHECK-NOT: linalg.
// CHECK: %[[STEPS:.*]] = arith.constant dense_resource<qc_kernel_epilogue{{.*}}> : tensor<8xf32>
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: call @qc_k_conv2d_f32_avx512({{.*}}, %[[NULL]], %{{.*}}, %c4_i64, %{{.*}}, %c0_i64, %c1_i64) :
// CHECK-NOT: linalg.
func.func @conv_leaky_max_clip(%x: tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = arith.constant dense<0.5> : tensor<4x2x3x3xf32>
  %m = arith.constant dense<-0.5> : tensor<1x1x1x1xf32>
  %lo = arith.constant dense<-0.25> : tensor<f32>
  %hi = arith.constant dense<6.0> : tensor<f32>
  %y = qc.conv %x, %w {auto_pad = "NOTSET", group = 1 : i64, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
  %l = qc.leakyrelu %y {alpha = 2.000000e-01 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %mx = qc.max %l, %m : (tensor<1x4x8x8xf32>, tensor<1x1x1x1xf32>) -> tensor<1x4x8x8xf32>
  %c = qc.clip %mx, %lo, %hi : (tensor<1x4x8x8xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x8x8xf32>
  return %c : tensor<1x4x8x8xf32>
}

// -----

// Not fused: a conv result with two users, a clip with a bound computed at
// run time, a max with a non-constant tensor.
// CHECK-LABEL: func @not_fused
// CHECK: call @qc_k_conv2d_f32_avx512({{.*}}, %c0_i64, %{{.*}}, %c0_i64, %c1_i64) :
// CHECK-COUNT-2: linalg.generic
// CHECK: call @qc_k_conv2d_f32_avx512({{.*}}, %c0_i64, %{{.*}}, %c0_i64, %c1_i64) :
// CHECK: linalg.generic
// CHECK: call @qc_k_conv2d_f32_avx512({{.*}}, %c0_i64, %{{.*}}, %c0_i64, %c1_i64) :
// CHECK: linalg.generic
func.func @not_fused(%x: tensor<1x2x8x8xf32>, %lo: tensor<f32>, %t: tensor<1x2x8x8xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) {
  %w = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %y = qc.conv %x, %w {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x8x8xf32>
  %r = qc.relu %y : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s = qc.add %r, %y : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %y2 = qc.conv %x, %w {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x8x8xf32>
  %c = qc.clip %y2, %lo : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %y3 = qc.conv %x, %w {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x8x8xf32>
  %m = qc.max %y3, %t : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %s, %c, %m : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
}

// -----

// A 2x2 max pool (strides 2) after conv -> relu: one call with poolH =
// poolW = 2 writing the pooled shape; an overlapping 3x3 pool (strides 2)
// after another conv is left to linalg.
// CHECK-LABEL: func @conv_relu_pool
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x4x4x8xf32>
// CHECK: call @qc_k_conv2d_f32_avx512({{.*}}, %c1_i64, %c2_i64, %c2_i64, %{{.*}}, %c0_i64, %c1_i64) :
// CHECK: call @qc_k_conv2d_f32_avx512({{.*}}, %c0_i64, %c0_i64, %c0_i64, %{{.*}}, %c0_i64, %c1_i64) :
// CHECK: linalg.generic
func.func @conv_relu_pool(%x: tensor<1x2x10x16xf32>, %x2: tensor<1x2x8x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x3x3xf32>) {
  %w = arith.constant dense<0.5> : tensor<4x2x3x1xf32>
  %y = qc.conv %x, %w {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x2x10x16xf32>, tensor<4x2x3x1xf32>) -> tensor<1x4x8x16xf32>
  %r = qc.relu %y : (tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  %p = qc.maxpool %r {auto_pad = "NOTSET", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x8x16xf32>) -> tensor<1x4x4x8xf32>
  %w2 = arith.constant dense<0.5> : tensor<4x2x1x1xf32>
  %y2 = qc.conv %x2, %w2 {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x8x8xf32>
  %p2 = qc.maxpool %y2 {auto_pad = "NOTSET", kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x3x3xf32>
  return %p, %p2 : tensor<1x4x4x8xf32>, tensor<1x4x3x3xf32>
}

// -----

// A constant B is packed into 64-column blocks at compile time (70 columns:
// two blocks of 5 x 64 floats); the batch of A becomes rows.
// CHECK-LABEL: func @matmul_const
// CHECK: arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<640xf32>
// CHECK: call @qc_k_matmul_f32_avx512(%c1_i64, %c6_i64, %c70_i64, %c5_i64,
func.func @matmul_const(%a: tensor<2x3x5xf32>) -> tensor<2x3x70xf32> {
  %b = arith.constant dense<1.0> : tensor<5x70xf32>
  %y = qc.matmul %a, %b : (tensor<2x3x5xf32>, tensor<5x70xf32>) -> tensor<2x3x70xf32>
  return %y : tensor<2x3x70xf32>
}

// -----

// A grouped conv keeps the linalg lowering.
// CHECK-LABEL: func @grouped
// CHECK-NOT: call @qc_k
func.func @grouped(%x: tensor<1x4x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %y = qc.conv %x, %w {auto_pad = "NOTSET", group = 2 : i64}
      : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

// An empty matmul (a zero dim) keeps the linalg lowering.
// CHECK-LABEL: func @empty
// CHECK-NOT: call @qc_k
func.func @empty(%a: tensor<0x5xf32>) -> tensor<0x7xf32> {
  %b = arith.constant dense<1.0> : tensor<5x7xf32>
  %y = qc.matmul %a, %b : (tensor<0x5xf32>, tensor<5x7xf32>) -> tensor<0x7xf32>
  return %y : tensor<0x7xf32>
}

// -----

// qc.hadamard: one call with the rows (2 x 3 = 6), m = 3 and p = 16; its
// factor passed as a pointer, or null without one.
// CHECK-DAG: func.func private @qc_k_hadamard_f32_avx512(
// CHECK-LABEL: func @hadamard
// CHECK-NOT: linalg.
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: call @qc_k_hadamard_f32_avx512(%c6_i64, %c3_i64, %c16_i64,
// CHECK: call @qc_k_hadamard_f32_avx512(%c6_i64, %c1_i64, %c64_i64, %{{.*}}, %[[NULL]],
func.func @hadamard(%x: tensor<2x3x48xf32>, %w: tensor<2x3x64xf32>) -> (tensor<2x3x48xf32>, tensor<2x3x64xf32>) {
  %f = arith.constant dense<[[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]> : tensor<3x3xf32>
  %y = qc.hadamard %x, %f : tensor<2x3x48xf32>, tensor<3x3xf32>
  %z = qc.hadamard %w : tensor<2x3x64xf32>
  return %y, %z : tensor<2x3x48xf32>, tensor<2x3x64xf32>
}

// -----

// A softmax over the last axis: one call over rows x n (6 rows of 10).
// CHECK-DAG: func.func private @qc_k_softmax_f32_avx512(i64, i64, !llvm.ptr, !llvm.ptr, i64, i64)
// CHECK-LABEL: func @softmax_last
// CHECK-NOT: linalg.
// CHECK: call @qc_k_softmax_f32_avx512(%c6_i64, %c10_i64,
func.func @softmax_last(%x: tensor<2x3x10xf32>) -> tensor<2x3x10xf32> {
  %y = qc.softmax %x {axis = -1 : i64} : (tensor<2x3x10xf32>) -> tensor<2x3x10xf32>
  return %y : tensor<2x3x10xf32>
}

// -----

// Over another axis it keeps the linalg lowering.
// CHECK-LABEL: func @softmax_inner
// CHECK-NOT: call @qc_k
// CHECK: linalg.generic
func.func @softmax_inner(%x: tensor<2x3x10xf32>) -> tensor<2x3x10xf32> {
  %y = qc.softmax %x {axis = 1 : i64} : (tensor<2x3x10xf32>) -> tensor<2x3x10xf32>
  return %y : tensor<2x3x10xf32>
}
