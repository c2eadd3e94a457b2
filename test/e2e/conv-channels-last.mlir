// RUN: quant-opt %s %lower_to_llvm | %mlir_runner | FileCheck %s
//
// qc.conv_int channels_last through the linalg lowering (the NCHW
// convolution between two transposes): NHWC input 1x3x4x2 (zero point 5),
// weights 3x2x2x2, a bias, asymmetric pads (top 1, right 1). Expected: a
// direct numpy evaluation of the definition on the NCHW transpose of x,
// printed back NHWC, computed when this file was written.

func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}

func.func @run(%x: tensor<1x3x4x2xui8>) {
  %w = arith.constant dense<[[[[-6, 1], [-3, 4]], [[-1, 6], [2, -4]]], [[[5, -1], [-5, 2]], [[-3, 4], [0, -6]]], [[[3, -3], [6, 0]], [[-5, 2], [-2, 5]]]]> : tensor<3x2x2x2xi8>
  %b = arith.constant dense<[1, -2, 3]> : tensor<3xi32>
  %y = qc.conv_int %x, %w bias %b zp(5, [0]) strides [1, 1] pads [1, 0, 0, 1] dilations [1, 1] group 1 channels_last
      : (tensor<1x3x4x2xui8>, tensor<3x2x2x2xi8>, tensor<3xi32>) -> tensor<1x3x4x3xi32>
  %m = bufferization.to_buffer %y : tensor<1x3x4x3xi32> to memref<1x3x4x3xi32>
  %u = memref.cast %m : memref<1x3x4x3xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

// CHECK: [-4,   1,   -12]
// CHECK-NEXT: [-7,   -26,   15]
// CHECK-NEXT: [-10,   -53,   42]
// CHECK-NEXT: [7,   -22,   9]
// CHECK: [35,   -73,   48]
// CHECK-NEXT: [32,   -85,   66]
// CHECK-NEXT: [29,   -97,   84]
// CHECK-NEXT: [-33,   -64,   4]
// CHECK: [28,   -101,   90]
// CHECK-NEXT: [117,   25,   -7]
// CHECK-NEXT: [-24,   -33,   57]
// CHECK-NEXT: [-66,   30,   -74]
func.func @main() {
  %x = arith.constant dense<[[[[0, 5], [3, 8], [6, 11], [9, 14]], [[7, 12], [10, 15], [13, 18], [16, 21]], [[14, 19], [17, 22], [20, 2], [0, 5]]]]> : tensor<1x3x4x2xui8>
  call @run(%x) : (tensor<1x3x4x2xui8>) -> ()
  return
}
