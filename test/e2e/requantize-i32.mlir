// RUN: quant-opt %s %lower_to_llvm | %mlir_runner | FileCheck %s
//
// qc.requantize lowered in i32 lanes (per tensor: 8-bit inputs with shifts
// 17-46 or multipliers below 2^21, or a power-of-two multiplier, also one
// that shifts left) against the i64 lowering the same op
// gets per channel (two equal channels), on every uint8 input: the summed
// |difference| is 0. The printed values are also checked against
// clamp(((x - zp_in) m + 2^(s-1)) >> s + zp_out), computed with Python's
// integers when this file was written. The inputs are @run's arguments, so
// nothing folds at compile time.

func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}

func.func @print(%t: tensor<9xi32>) {
  %m = bufferization.to_buffer %t : tensor<9xi32> to memref<9xi32>
  %u = memref.cast %m : memref<9xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @run(%x: tensor<256xui8>, %x2: tensor<2x256xui8>) {
  %one = arith.constant dense<[1]> : tensor<1xi64>
  %pick = arith.constant dense<[0, 1, 37, 100, 127, 128, 200, 255]> : tensor<8xi64>
  // multiplier 1342177280, shift 32, zero points 120 -> 110
  %a0 = qc.requantize %x multiplier [1342177280] shift [32] zp(120 -> 110) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b0 = qc.requantize %x2 multiplier [1342177280, 1342177280] shift [32, 32] axis 0 zp(120 -> 110) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c0 = qc.cast %a0 : tensor<256xui8> -> tensor<256xi32>
  %d0 = qc.cast %b0 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e0 = qc.sub %d0, %c0 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f0 = qc.abs %e0 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g0 = qc.reducesum %f0 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g0f = qc.reshape %g0, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h0 = qc.gather %c0, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p0 = qc.concat %h0, %g0f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [73,  73,  84,  104,  112,  113,  135,  152,  0]
  call @print(%p0) : (tensor<9xi32>) -> ()
  // multiplier 1932735283, shift 31, zero points 128 -> 0
  %a1 = qc.requantize %x multiplier [1932735283] shift [31] zp(128 -> 0) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b1 = qc.requantize %x2 multiplier [1932735283, 1932735283] shift [31, 31] axis 0 zp(128 -> 0) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c1 = qc.cast %a1 : tensor<256xui8> -> tensor<256xi32>
  %d1 = qc.cast %b1 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e1 = qc.sub %d1, %c1 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f1 = qc.abs %e1 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g1 = qc.reducesum %f1 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g1f = qc.reshape %g1, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h1 = qc.gather %c1, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p1 = qc.concat %h1, %g1f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [0,  0,  0,  0,  0,  0,  65,  114,  0]
  call @print(%p1) : (tensor<9xi32>) -> ()
  // multiplier 1073741824, shift 33, zero points 7 -> 100
  %a2 = qc.requantize %x multiplier [1073741824] shift [33] zp(7 -> 100) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b2 = qc.requantize %x2 multiplier [1073741824, 1073741824] shift [33, 33] axis 0 zp(7 -> 100) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c2 = qc.cast %a2 : tensor<256xui8> -> tensor<256xi32>
  %d2 = qc.cast %b2 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e2 = qc.sub %d2, %c2 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f2 = qc.abs %e2 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g2 = qc.reducesum %f2 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g2f = qc.reshape %g2, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h2 = qc.gather %c2, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p2 = qc.concat %h2, %g2f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [99,  99,  104,  112,  115,  115,  124,  131,  0]
  call @print(%p2) : (tensor<9xi32>) -> ()
  // multiplier 2147483647, shift 35, zero points 255 -> 20
  %a3 = qc.requantize %x multiplier [2147483647] shift [35] zp(255 -> 20) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b3 = qc.requantize %x2 multiplier [2147483647, 2147483647] shift [35, 35] axis 0 zp(255 -> 20) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c3 = qc.cast %a3 : tensor<256xui8> -> tensor<256xi32>
  %d3 = qc.cast %b3 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e3 = qc.sub %d3, %c3 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f3 = qc.abs %e3 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g3 = qc.reducesum %f3 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g3f = qc.reshape %g3, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h3 = qc.gather %c3, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p3 = qc.concat %h3, %g3f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [4,  4,  6,  10,  12,  12,  17,  20,  0]
  call @print(%p3) : (tensor<9xi32>) -> ()
  // multiplier 1500000001, shift 17, zero points 0 -> 128
  %a4 = qc.requantize %x multiplier [1500000001] shift [17] zp(0 -> 128) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b4 = qc.requantize %x2 multiplier [1500000001, 1500000001] shift [17, 17] axis 0 zp(0 -> 128) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c4 = qc.cast %a4 : tensor<256xui8> -> tensor<256xi32>
  %d4 = qc.cast %b4 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e4 = qc.sub %d4, %c4 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f4 = qc.abs %e4 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g4 = qc.reducesum %f4 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g4f = qc.reshape %g4, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h4 = qc.gather %c4, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p4 = qc.concat %h4, %g4f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [128,  255,  255,  255,  255,  255,  255,  255,  0]
  call @print(%p4) : (tensor<9xi32>) -> ()
  // multiplier 1073741824, shift 33, zero points 0 -> 128
  %a5 = qc.requantize %x multiplier [1073741824] shift [33] zp(0 -> 128) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b5 = qc.requantize %x2 multiplier [1073741824, 1073741824] shift [33, 33] axis 0 zp(0 -> 128) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c5 = qc.cast %a5 : tensor<256xui8> -> tensor<256xi32>
  %d5 = qc.cast %b5 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e5 = qc.sub %d5, %c5 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f5 = qc.abs %e5 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g5 = qc.reducesum %f5 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g5f = qc.reshape %g5, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h5 = qc.gather %c5, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p5 = qc.concat %h5, %g5f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [128,  128,  133,  141,  144,  144,  153,  160,  0]
  call @print(%p5) : (tensor<9xi32>) -> ()
  // multiplier 1500007, shift 24, zero points 131 -> 90
  %a6 = qc.requantize %x multiplier [1500007] shift [24] zp(131 -> 90) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b6 = qc.requantize %x2 multiplier [1500007, 1500007] shift [24, 24] axis 0 zp(131 -> 90) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c6 = qc.cast %a6 : tensor<256xui8> -> tensor<256xi32>
  %d6 = qc.cast %b6 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e6 = qc.sub %d6, %c6 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f6 = qc.abs %e6 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g6 = qc.reducesum %f6 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g6f = qc.reshape %g6, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h6 = qc.gather %c6, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p6 = qc.concat %h6, %g6f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [78,  78,  82,  87,  90,  90,  96,  101,  0]
  call @print(%p6) : (tensor<9xi32>) -> ()
  // multiplier 1073741824, shift 29, zero points 60 -> 128
  %a7 = qc.requantize %x multiplier [1073741824] shift [29] zp(60 -> 128) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b7 = qc.requantize %x2 multiplier [1073741824, 1073741824] shift [29, 29] axis 0 zp(60 -> 128) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c7 = qc.cast %a7 : tensor<256xui8> -> tensor<256xi32>
  %d7 = qc.cast %b7 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e7 = qc.sub %d7, %c7 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f7 = qc.abs %e7 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g7 = qc.reducesum %f7 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g7f = qc.reshape %g7, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h7 = qc.gather %c7, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p7 = qc.concat %h7, %g7f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [8,  10,  82,  208,  255,  255,  255,  255,  0]
  call @print(%p7) : (tensor<9xi32>) -> ()
  // multiplier 2097151, shift 22, zero points 255 -> 128
  %a8 = qc.requantize %x multiplier [2097151] shift [22] zp(255 -> 128) clamp(0, 255) : tensor<256xui8> -> tensor<256xui8>
  %b8 = qc.requantize %x2 multiplier [2097151, 2097151] shift [22, 22] axis 0 zp(255 -> 128) clamp(0, 255) : tensor<2x256xui8> -> tensor<2x256xui8>
  %c8 = qc.cast %a8 : tensor<256xui8> -> tensor<256xi32>
  %d8 = qc.cast %b8 : tensor<2x256xui8> -> tensor<2x256xi32>
  %e8 = qc.sub %d8, %c8 : (tensor<2x256xi32>, tensor<256xi32>) -> tensor<2x256xi32>
  %f8 = qc.abs %e8 : (tensor<2x256xi32>) -> tensor<2x256xi32>
  %g8 = qc.reducesum %f8 {axes = array<i64: 0, 1>} : (tensor<2x256xi32>) -> tensor<1x1xi32>
  %g8f = qc.reshape %g8, %one : (tensor<1x1xi32>, tensor<1xi64>) -> tensor<1xi32>
  %h8 = qc.gather %c8, %pick {axis = 0 : i64} : (tensor<256xi32>, tensor<8xi64>) -> tensor<8xi32>
  %p8 = qc.concat %h8, %g8f {axis = 0 : i64} : (tensor<8xi32>, tensor<1xi32>) -> tensor<9xi32>
  // CHECK: [1,  1,  19,  51,  64,  65,  101,  128,  0]
  call @print(%p8) : (tensor<9xi32>) -> ()
  return
}

func.func @main() {
  %x = arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255]> : tensor<256xui8>
  %x2 = arith.constant dense<[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255]]> : tensor<2x256xui8>
  call @run(%x, %x2) : (tensor<256xui8>, tensor<2x256xui8>) -> ()
  return
}
