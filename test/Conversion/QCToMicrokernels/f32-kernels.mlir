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
