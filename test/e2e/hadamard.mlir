// RUN: quant-opt %s %lower_to_llvm | %mlir_runner | FileCheck %s
//
// qc.hadamard lowered to butterfly stages and run. Expected values from
// numpy: x @ (H4 / 2) with H4 the Sylvester matrix, and
// x @ kron(F, H4 / 2) for the 3x3 orthogonal factor F below.

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  %x = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %h = qc.hadamard %x : tensor<2x4xf32>
  %hm = bufferization.to_buffer %h : tensor<2x4xf32> to memref<2x4xf32>
  %hu = memref.cast %hm : memref<2x4xf32> to memref<*xf32>
  // CHECK: {{\[\[}}5,   -1,   -2,   0],
  // CHECK-NEXT: [0.5,   0.5,   0.5,   0.5]]
  call @printMemrefF32(%hu) : (memref<*xf32>) -> ()

  %y = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]]> : tensor<1x12xf32>
  %f = arith.constant dense<[[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]> : tensor<3x3xf32>
  %g = qc.hadamard %y, %f : tensor<1x12xf32>, tensor<3x3xf32>
  %gm = bufferization.to_buffer %g : tensor<1x12xf32> to memref<1x12xf32>
  %gu = memref.cast %gm : memref<1x12xf32> to memref<*xf32>
  // CHECK: {{\[\[}}21,   -1,   -2,   0,   5,   -1,   -2,   0,   -13,   1,   2,   0]]
  call @printMemrefF32(%gu) : (memref<*xf32>) -> ()
  return
}
