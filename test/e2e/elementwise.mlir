// RUN: quant-opt %s %lower_to_llvm | %mlir_runner | FileCheck %s
//
// Elementwise graph ops lowered through linalg and JIT-run. Expected values are
// the ONNX formulas evaluated by Python's math module (6 significant digits, as
// printMemrefF32 prints), e.g. sigmoid(x) = 1 / (1 + exp(-x)),
// gelu(x) = 0.5 x (1 + erf(x / sqrt 2)), hardswish(x) = x max(0, min(1, x / 6 + 1/2)).

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @print(%t: tensor<2x3xf32>) {
  %m = bufferization.to_buffer %t : tensor<2x3xf32> to memref<2x3xf32>
  %u = memref.cast %m : memref<2x3xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %a = arith.constant dense<[[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]]> : tensor<2x3xf32>
  %b = arith.constant dense<[10.0, 20.0, 30.0]> : tensor<3xf32>
  %c = arith.constant dense<[[1.0], [-1.0]]> : tensor<2x1xf32>
  // relu((a + b) * c), b broadcast along rows, c along columns.
  %0 = qc.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = qc.mul %0, %c : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  %2 = qc.relu %1 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: {{\[\[}}11,   18,   33],
  // CHECK-NEXT: [0,   0,   0]]
  call @print(%2) : (tensor<2x3xf32>) -> ()

  %x = arith.constant dense<[[0.0, 1.0, -2.0], [2.0, 0.5, -1.0]]> : tensor<2x3xf32>
  %s = qc.sigmoid %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: {{\[\[}}0.5,   0.731059,   0.119203],
  // CHECK-NEXT: [0.880797,   0.622459,   0.268941]]
  call @print(%s) : (tensor<2x3xf32>) -> ()
  %g = qc.gelu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: {{\[\[}}0,   0.841345,   -0.0455003],
  // CHECK-NEXT: [1.9545,   0.345731,   -0.158655]]
  call @print(%g) : (tensor<2x3xf32>) -> ()
  %h = qc.hardswish %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: {{\[\[}}0,   0.666667,   -0.333333],
  // CHECK-NEXT: [1.66667,   0.291667,   -0.333333]]
  call @print(%h) : (tensor<2x3xf32>) -> ()
  %l = qc.leakyrelu %x {alpha = 0.5 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: {{\[\[}}0,   1,   -1],
  // CHECK-NEXT: [2,   0.5,   -0.5]]
  call @print(%l) : (tensor<2x3xf32>) -> ()
  // where(x > c, x, a): row 0 compares with 1, row 1 with -1.
  %cmp = qc.greater %x, %c : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xi1>
  %w = qc.where %cmp, %x, %a : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: {{\[\[}}1,   -2,   3],
  // CHECK-NEXT: [2,   0.5,   -6]]
  call @print(%w) : (tensor<2x3xf32>) -> ()
  return
}
