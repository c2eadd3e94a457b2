// RUN: quant-opt %s %lower_to_llvm | %mlir_runner | FileCheck %s
//
// qc.block_dequantize decoded by its linalg lowering and JIT-run. Expected
// values by hand from the OCP MX v1.0 / OFP8 tables: E2M1 codes
// 0..7 = 0, 0.5, 1, 1.5, 2, 3, 4, 6 (bit 3 the sign); E8M0 code e = 2^(e-127)
// (0: 2^-127); E3M2 (bias 3) 0b0_011_01 = 1.25, 0b1_111_11 = -28,
// 0b0_000_01 = 2^-2 * 1/4 (subnormal), 0b0_100_10 = 3; E4M3 (bias 7)
// 0x7E = 448, 0x38 = 1, 0x01 = 2^-9, 0xC0 = -2.

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @print(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // FP4, [K = 4, N = 2] with the channel on axis 1, blocks of 2, E8M0
  // scales [[1, 2], [0.5, 2^-127]]: codes (row-major) 1, 7, 2, 15, 3, 4, 5, 9
  // two to a byte, low nibble first.
  %c = arith.constant dense<[113, -14, 67, -107]> : tensor<4xi8>
  %s = arith.constant dense<[[127, -128], [126, 0]]> : tensor<2x2xi8>
  %w = qc.block_dequantize %c, %s {axis = 1 : i64, block = 2 : i64, format = #qc<format fp4_e2m1>,
         scale_format = #qc<format e8m0>} : (tensor<4xi8>, tensor<2x2xi8>) -> tensor<4x2xf32>
  %w1 = tensor.cast %w : tensor<4x2xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}0.5,   3],
  // CHECK-NEXT: [1,   -3],
  // CHECK-NEXT: [3,   1.17549e-38],
  // CHECK-NEXT: [6,   -2.93874e-39]]
  call @print(%w1) : (tensor<?x?xf32>) -> ()

  // FP6 E3M2, [F = 2, K = 2] with the channel on axis 0 and one f32 scale
  // per channel (2, 0.5): codes 13, 63, 1, 18, four to three bytes
  // (bits 0-5, 6-11, 12-17, 18-23): 0xCD, 0x1F, 0x48.
  %c6 = arith.constant dense<[-51, 31, 72]> : tensor<3xi8>
  %s6 = arith.constant dense<[[2.0], [0.5]]> : tensor<2x1xf32>
  %w6 = qc.block_dequantize %c6, %s6 {axis = 0 : i64, block = 2 : i64, format = #qc<format fp6_e3m2>}
      : (tensor<3xi8>, tensor<2x1xf32>) -> tensor<2x2xf32>
  %w61 = tensor.cast %w6 : tensor<2x2xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}2.5,   -56],
  // CHECK-NEXT: [0.03125,   1.5]]
  call @print(%w61) : (tensor<?x?xf32>) -> ()

  // NVFP4-style: FP4 codes with E4M3 block scales (blocks of 2 along K = 4
  // of one channel, axis 0) and a tensor scale of 0.25: codes 7, 7, 1, 12
  // (6, 6, 0.5, -2) with scales 448 and 2^-9 (E4M3 0x7E, 0x01), and codes 2, 2,
  // 4, 4 (1, 1, 2, 2) with scales 1 and -2 (0x38, 0xC0) on a second channel.
  %c4 = arith.constant dense<[119, -63, 34, 68]> : tensor<4xi8>
  %s4 = arith.constant dense<[[126, 1], [56, -64]]> : tensor<2x2xi8>
  %w4 = qc.block_dequantize %c4, %s4 {axis = 0 : i64, block = 2 : i64, format = #qc<format fp4_e2m1>,
         scale_format = #qc<format fp8_e4m3>, tensor_scale = 0.25 : f64}
      : (tensor<4xi8>, tensor<2x2xi8>) -> tensor<2x4xf32>
  %w41 = tensor.cast %w4 : tensor<2x4xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}672,   672,   0.000244141,   -0.000976562],
  // CHECK-NEXT: [0.25,   0.25,   -1,   -1]]
  call @print(%w41) : (tensor<?x?xf32>) -> ()
  return
}
