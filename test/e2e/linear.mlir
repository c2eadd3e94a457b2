// RUN: quant-opt %s %lower_to_llvm | %mlir_runner | FileCheck %s
//
// Gemm, batched MatMul and Conv lowered through linalg and JIT-run. Expected
// values computed with numpy from the same inputs (Gemm: 0.5 * A @ B.T + 2 * C;
// MatMul: P @ Q; Conv: a direct loop over the zero-padded input).

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  %A = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %B = arith.constant dense<[[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]> : tensor<2x3xf32>
  %C = arith.constant dense<[10.0, -10.0]> : tensor<2xf32>
  %g = qc.gemm %A, %B, %C {alpha = 0.5 : f32, beta = 2.0 : f32, transA = 0 : i64, transB = 1 : i64}
      : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %gm = bufferization.to_buffer %g : tensor<2x2xf32> to memref<2x2xf32>
  %gu = memref.cast %gm : memref<2x2xf32> to memref<*xf32>
  // CHECK: {{\[\[}}19,   -18],
  // CHECK-NEXT: [19,   -13.5]]
  call @printMemrefF32(%gu) : (memref<*xf32>) -> ()

  %P = arith.constant dense<[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], [[6.0, 7.0, 8.0], [9.0, 10.0, 11.0]]]> : tensor<2x2x3xf32>
  %Q = arith.constant dense<[[[-5.0, -4.0], [-3.0, -2.0], [-1.0, 0.0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]> : tensor<2x3x2xf32>
  %m = qc.matmul %P, %Q : (tensor<2x2x3xf32>, tensor<2x3x2xf32>) -> tensor<2x2x2xf32>
  %mm = bufferization.to_buffer %m : tensor<2x2x2xf32> to memref<2x2x2xf32>
  %mu = memref.cast %mm : memref<2x2x2xf32> to memref<*xf32>
  // CHECK: {{\[\[\[}}-5, -2],
  // CHECK-NEXT: [-32, -20]],
  // CHECK-NEXT: {{\[\[}}67, 88],
  // CHECK-NEXT: [94, 124]]]
  call @printMemrefF32(%mu) : (memref<*xf32>) -> ()

  // 4x4 input 0..15, pads 1, stride 2; filter 0 all ones, filter 1 picks the
  // centre minus the top-left corner; bias [1, -1].
  %x = arith.constant dense<[[[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0]]]]> : tensor<1x1x4x4xf32>
  %w = arith.constant dense<[[[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]], [[[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]]> : tensor<2x1x3x3xf32>
  %bias = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %c = qc.conv %x, %w, %bias {auto_pad = "NOTSET", group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %cm = bufferization.to_buffer %c : tensor<1x2x2x2xf32> to memref<1x2x2x2xf32>
  %cu = memref.cast %cm : memref<1x2x2x2xf32> to memref<*xf32>
  // CHECK: {{\[\[\[\[}}11, 25],
  // CHECK-NEXT: [52, 91]],
  // CHECK-NEXT: {{\[\[}}-1, 1],
  // CHECK-NEXT: [7, 4]]]]
  call @printMemrefF32(%cu) : (memref<*xf32>) -> ()
  return
}
