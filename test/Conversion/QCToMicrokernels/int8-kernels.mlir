// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni" -convert-qc-to-linalg -split-input-file | FileCheck %s
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=generic kernel-tasks=2" -convert-qc-to-linalg -split-input-file | FileCheck %s --check-prefix=TASKS
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni" -split-input-file | FileCheck %s --check-prefix=ALONE
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni byte-permutes" -split-input-file | FileCheck %s --check-prefix=VBMI
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=none" -split-input-file | FileCheck %s --check-prefix=NONE
// RUN: not quant-opt %s -qc-lower-to-microkernels="int8-kernels=avx9" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: for the --int8-kernels option: Cannot find option named 'avx9'!

// A conv_int with constant weights and the requantize using it: one kernel
// call on pointers into the operands' buffers and a fresh output buffer,
// no linalg left; the weights are packed (rows of 4 * ceil(27 / 4) = 28
// bytes, one byte per weight: wBits 8) and the per-channel terms are
// constants.
// CHECK-DAG: func.func private @qc_k_conv2d_i8_vnni(
// CHECK-LABEL: func @conv_requant
// CHECK-NOT: linalg.
// CHECK: %[[W:.*]] = arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<56xi8>
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x8x8xi8>
// CHECK: call @qc_k_conv2d_i8_vnni({{.*}}, %c128_i64, %{{.*}}, %c8_i64, %{{.*}}, %{{.*}}, %c0_i64,
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: qc.requantize
// The pass alone: the kernel call, declared with Kernels.def's signature
// (15 + 2 i64, x, 2 i64, w, wBits, the epilogue, lut, lutVbmi, res,
// resParams, out, task, ntasks); no table follows: lut is null.
// ALONE: func.func private @qc_k_conv2d_i8_vnni(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64)
// ALONE-LABEL: func @conv_requant
// ALONE: call @qc_k_conv2d_i8_vnni(
// ALONE-NOT: qc.requantize
// NONE-LABEL: func @conv_requant
// NONE-NOT: call
// NONE: qc.conv_int
// NONE: qc.requantize
// 3456 multiply-adds: less than a fork and join of the threads costs, so
// one task even with kernel-tasks=2 (conv_large below is split).
// TASKS-LABEL: func @conv_requant
// TASKS-NOT: scf.parallel
// TASKS: call @qc_k_conv2d_i8_generic(
func.func @conv_requant(%x: tensor<1x3x8x8xui8>) -> tensor<1x2x8x8xi8> {
  %w = arith.constant dense<100> : tensor<2x3x3x3xi8>
  %b = arith.constant dense<[10, -10]> : tensor<2xi32>
  %acc = qc.conv_int %x, %w bias %b zp(128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1
      : (tensor<1x3x8x8xui8>, tensor<2x3x3x3xi8>, tensor<2xi32>) -> tensor<1x2x8x8xi32>
  %y = qc.requantize %acc multiplier [1073741824, 1073741824] shift [38, 37] axis 1 zp(0 -> -3) clamp(-128, 127)
      : tensor<1x2x8x8xi32> -> tensor<1x2x8x8xi8>
  return %y : tensor<1x2x8x8xi8>
}

// -----

// channels_last: the same call with nhwc = 1 (after group = 1), the weights
// packed as matmul_i8's B (one block of 4 panels of 16 columns x 28 rows:
// 1792 bytes), the requantization per channel along dim 3.
// CHECK-LABEL: func @conv_channels_last
// CHECK: %[[W:.*]] = arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<1792xi8>
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x8x8x2xi8>
// CHECK: call @qc_k_conv2d_i8_vnni(%c1_i64, %c3_i64, %c8_i64, %c8_i64, %c2_i64, %c3_i64, %c3_i64, %c8_i64, %c8_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %{{.*}}, %c0_i64, %c128_i64,
// CHECK-NOT: qc.requantize
// NONE-LABEL: func @conv_channels_last
// NONE: qc.conv_int {{.*}} channels_last
func.func @conv_channels_last(%x: tensor<1x8x8x3xui8>) -> tensor<1x8x8x2xi8> {
  %w = arith.constant dense<100> : tensor<2x3x3x3xi8>
  %b = arith.constant dense<[10, -10]> : tensor<2xi32>
  %acc = qc.conv_int %x, %w bias %b zp(128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 channels_last
      : (tensor<1x8x8x3xui8>, tensor<2x3x3x3xi8>, tensor<2xi32>) -> tensor<1x8x8x2xi32>
  %y = qc.requantize %acc multiplier [1073741824, 1073741824] shift [38, 37] axis 3 zp(0 -> -3) clamp(-128, 127)
      : tensor<1x8x8x2xi32> -> tensor<1x8x8x2xi8>
  return %y : tensor<1x8x8x2xi8>
}

// -----

// Both matmul operands activations (attention): B is packed at run time
// (bPacked 0, batch stride 35); int8 A is made unsigned (XOR 128) and the
// kernel subtracts (128 + zp) = 131 times B's column sums. The int32 result
// is the kernel's output (no requantize follows).
// CHECK-LABEL: func @matmul_activations
// CHECK: call @qc_k_matmul_i8_vnni(%c2_i64, %c4_i64, %c5_i64, %c7_i64, %{{.*}}, %c28_i64, %c128_i64, %{{.*}}, %c35_i64, %c0_i64, %c0_i64, %c131_i64,
// CHECK: bufferization.to_tensor %{{.*}} restrict writable : memref<2x4x5xi32>
func.func @matmul_activations(%a: tensor<2x4x7xi8>, %b: tensor<2x7x5xi8>) -> tensor<2x4x5xi32> {
  %c = qc.matmul_int %a, %b zp(3, [0]) : (tensor<2x4x7xi8>, tensor<2x7x5xi8>) -> tensor<2x4x5xi32>
  return %c : tensor<2x4x5xi32>
}

// -----

// Weights that 4 bits hold ([-8, 7]) are stored two per byte: the 56 bytes
// of packed rows in 28, and the kernel told wBits 4.
// CHECK-LABEL: func @conv_int4
// CHECK: arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<28xi8>
// CHECK: call @qc_k_conv2d_i8_vnni({{.*}}, %c128_i64, %{{.*}}, %c4_i64, %{{.*}}, %{{.*}}, %c0_i64,
func.func @conv_int4(%x: tensor<1x3x8x8xui8>) -> tensor<1x2x8x8xi32> {
  %w = arith.constant dense<[[[[-8, 7, 3], [0, 1, 2], [3, 4, 5]], [[-1, -2, -3], [6, 5, 4], [0, 0, 0]], [[1, 1, 1], [2, 2, 2], [3, 3, 3]]],
                              [[[7, 7, 7], [-8, -8, -8], [0, 1, 0]], [[2, 3, 4], [5, 6, 7], [-4, -5, -6]], [[1, 0, -1], [0, 1, 0], [-1, 0, 1]]]]> : tensor<2x3x3x3xi8>
  %c = qc.conv_int %x, %w zp(128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1
      : (tensor<1x3x8x8xui8>, tensor<2x3x3x3xi8>) -> tensor<1x2x8x8xi32>
  return %c : tensor<1x2x8x8xi32>
}

// -----

// Constant matmul weights: int8 panels (K4 = 2, 4 panels of 16 columns:
// 512 bytes, bPacked 8); weights in [-8, 7] two per byte (256 bytes,
// bPacked 4); in [-2, 1] four per byte (128 bytes, bPacked 2).
// CHECK-LABEL: func @matmul_weight_bits
// CHECK-DAG: arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<512xi8>
// CHECK-DAG: arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<256xi8>
// CHECK-DAG: arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<128xi8>
// CHECK: call @qc_k_matmul_i8_vnni(%c1_i64, %c4_i64, %c5_i64, %c7_i64, %{{.*}}, %c0_i64, %c128_i64, %{{.*}}, %c0_i64, %c8_i64,
// CHECK: call @qc_k_matmul_i8_vnni(%c1_i64, %c4_i64, %c5_i64, %c7_i64, %{{.*}}, %c0_i64, %c128_i64, %{{.*}}, %c0_i64, %c4_i64,
// CHECK: call @qc_k_matmul_i8_vnni(%c1_i64, %c4_i64, %c5_i64, %c7_i64, %{{.*}}, %c0_i64, %c128_i64, %{{.*}}, %c0_i64, %c2_i64,
func.func @matmul_weight_bits(%a: tensor<4x7xi8>) -> (tensor<4x5xi32>, tensor<4x5xi32>, tensor<4x5xi32>) {
  %b8 = arith.constant dense<[[100, 1, 2, 3, 4], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [2, 2, 2, 2, 2], [3, 3, 3, 3, 3], [4, 4, 4, 4, 4], [5, 5, 5, 5, 5]]> : tensor<7x5xi8>
  %b4 = arith.constant dense<[[-8, 1, 2, 3, 4], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [2, 2, 2, 2, 2], [3, 3, 3, 3, 3], [4, 4, 4, 4, 4], [5, 5, 5, 5, 7]]> : tensor<7x5xi8>
  %b2 = arith.constant dense<[[-2, 1, 0, -1, 1], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [-2, -2, -2, -2, -2], [1, 0, 1, 0, 1], [0, -1, 0, -1, 0], [1, 1, 1, 1, 1]]> : tensor<7x5xi8>
  %c8 = qc.matmul_int %a, %b8 zp(0, [0]) : (tensor<4x7xi8>, tensor<7x5xi8>) -> tensor<4x5xi32>
  %c4 = qc.matmul_int %a, %b4 zp(0, [0]) : (tensor<4x7xi8>, tensor<7x5xi8>) -> tensor<4x5xi32>
  %c2 = qc.matmul_int %a, %b2 zp(0, [0]) : (tensor<4x7xi8>, tensor<7x5xi8>) -> tensor<4x5xi32>
  return %c8, %c4, %c2 : tensor<4x5xi32>, tensor<4x5xi32>, tensor<4x5xi32>
}

// -----

// A 3-d convolution keeps the linalg lowering.
// CHECK-LABEL: func @conv3d
// CHECK-NOT: call @qc_k
// CHECK: linalg.generic
// Left as it is by the pass alone, for convert-qc-to-linalg.
// ALONE-LABEL: func @conv3d
// ALONE-NOT: call
// ALONE: qc.conv_int
func.func @conv3d(%x: tensor<1x1x4x4x4xi8>) -> tensor<1x1x4x4x4xi32> {
  %w = arith.constant dense<1> : tensor<1x1x1x1x1xi8>
  %c = qc.conv_int %x, %w zp(0, [0]) strides [1, 1, 1] pads [0, 0, 0, 0, 0, 0] dilations [1, 1, 1] group 1
      : (tensor<1x1x4x4x4xi8>, tensor<1x1x1x1x1xi8>) -> tensor<1x1x4x4x4xi32>
  return %c : tensor<1x1x4x4x4xi32>
}

// -----

// An empty matmul_int (a zero dim) keeps the linalg lowering.
// CHECK-LABEL: func @empty
// CHECK-NOT: call @qc_k
func.func @empty(%a: tensor<0x7xi8>) -> tensor<0x5xi32> {
  %b = arith.constant dense<1> : tensor<7x5xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<0x7xi8>, tensor<7x5xi8>) -> tensor<0x5xi32>
  return %c : tensor<0x5xi32>
}

// -----

// A product with a scale and zero point per group of 4 input channels: one
// call of the group kernel (M = 2 x 3 rows, N = 5, K = 8, G = 4) with the
// packed weights (K 8 x 64 columns), each group's column sums (2 x 5),
// the weight scales widened to the 5 channels and the bias.
// CHECK-DAG: func.func private @qc_k_matmul_group_i8_vnni(
// CHECK-LABEL: func @matmul_group
// CHECK-NOT: linalg.
// CHECK-DAG: arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<512xi8>
// CHECK-DAG: arith.constant dense_resource<qc_kernel_colsums{{.*}}> : tensor<10xi32>
// CHECK-DAG: arith.constant dense_resource<qc_kernel_scales{{.*}}> : tensor<5xf32>
// CHECK-DAG: arith.constant dense_resource<qc_kernel_bias{{.*}}> : tensor<5xf32>
// CHECK: call @qc_k_matmul_group_i8_vnni(%c6_i64, %c5_i64, %c8_i64, %c4_i64,
// CHECK: bufferization.to_tensor %{{.*}} restrict writable : memref<2x3x5xf32>
// TASKS-LABEL: func @matmul_group
// TASKS: scf.parallel
// TASKS: call @qc_k_matmul_group_i8_generic(
func.func @matmul_group(%a: tensor<2x3x8xi8>, %sa: tensor<2x3x2xf32>, %za: tensor<2x3x2xf32>) -> tensor<2x3x5xf32> {
  %b = arith.constant dense<3> : tensor<8x5xi8>
  %sb = arith.constant dense<0.5> : tensor<1xf32>
  %bias = arith.constant dense<1.0> : tensor<5xf32>
  %y = qc.matmul_group_scaled %a, %b scales(%sa, %sb) zeros %za bias %bias group 4 : (tensor<2x3x8xi8>, tensor<8x5xi8>, tensor<2x3x2xf32>, tensor<1xf32>, tensor<2x3x2xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

// Groups of 2 channels (not a multiple of 4): the linalg loops instead.
// CHECK-LABEL: func @matmul_group_loops
// CHECK-NOT: call
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.sitofp
// CHECK: arith.subf
// CHECK: linalg.generic
// CHECK: arith.mulf
// TASKS-LABEL: func @matmul_group_loops
// TASKS-NOT: call
func.func @matmul_group_loops(%a: tensor<3x8xi8>, %sa: tensor<3x4xf32>, %za: tensor<3x4xf32>) -> tensor<3x5xf32> {
  %b = arith.constant dense<3> : tensor<8x5xi8>
  %sb = arith.constant dense<0.5> : tensor<5xf32>
  %y = qc.matmul_group_scaled %a, %b scales(%sa, %sb) zeros %za group 2 : (tensor<3x8xi8>, tensor<8x5xi8>, tensor<3x4xf32>, tensor<5xf32>, tensor<3x4xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

// A 16-bit activation (W8A16): the high byte (signed, x >> 8) and the low
// byte (unsigned) each go through the int8 kernel, the zero point split as
// 300 = 256 * 1 + 44; the two int32 results and the int64 bias are
// combined in int64 (hi << 8 + lo + bias).
// CHECK-LABEL: func @conv_a16
// CHECK: call @qc_k_conv2d_i8_vnni(
// TASKS-LABEL: func @conv_a16
// TASKS: call @qc_k_conv2d_i8_generic(
// ALONE-LABEL: func @conv_a16
// ALONE: arith.shrsi
// ALONE: call @qc_k_conv2d_i8_vnni(
// ALONE: call @qc_k_conv2d_i8_vnni(
// ALONE: arith.shli
// ALONE-NOT: qc.conv_int
// NONE-LABEL: func @conv_a16
// NONE: qc.conv_int {{.*}} -> tensor<1x4x6x6xi64>
func.func @conv_a16(%x: tensor<1x3x8x8xi16>) -> tensor<1x4x6x6xi64> {
  %w = arith.constant dense<3> : tensor<4x3x3x3xi8>
  %b = arith.constant dense<100000000000> : tensor<4xi64>
  %c = qc.conv_int %x, %w bias %b zp(300, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1
      : (tensor<1x3x8x8xi16>, tensor<4x3x3x3xi8>, tensor<4xi64>) -> tensor<1x4x6x6xi64>
  return %c : tensor<1x4x6x6xi64>
}

// -----

// A qc.table after the requantization (HardSwish as lower-quantized-to-
// integer makes it) runs in the kernel's epilogue: its 256 entries become
// the kernel's byte table (the i8 input reindexed by the stored byte); with
// byte-permutes the call asks for VBMI lookups (lutVbmi 1).
// ALONE-LABEL: func @conv_requant_table
// ALONE: %[[LUT:.*]] = arith.constant dense_resource<qc_kernel_lut{{.*}}> : tensor<256xi8>
// ALONE: call @qc_k_conv2d_i8_vnni(
// ALONE-SAME: %c0_i64, %{{.*}}, %c0_i64, %c1_i64)
// ALONE-NOT: qc.table
// ALONE-NOT: qc.requantize
// VBMI-LABEL: func @conv_requant_table
// VBMI: call @qc_k_conv2d_i8_vnni(
// VBMI-SAME: %c1_i64, %{{.*}}, %c0_i64, %c1_i64)
// NONE-LABEL: func @conv_requant_table
// NONE: qc.requantize
// NONE: qc.table
func.func @conv_requant_table(%x: tensor<1x3x8x8xui8>) -> tensor<1x2x8x8xui8> {
  %w = arith.constant dense<100> : tensor<2x3x3x3xi8>
  %acc = qc.conv_int %x, %w zp(128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1
      : (tensor<1x3x8x8xui8>, tensor<2x3x3x3xi8>) -> tensor<1x2x8x8xi32>
  %y = qc.requantize %acc multiplier [1073741824, 1073741824] shift [38, 37] axis 1 zp(0 -> -3) clamp(-128, 127)
      : tensor<1x2x8x8xi32> -> tensor<1x2x8x8xi8>
  %t = qc.table %y [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255]
      : tensor<1x2x8x8xi8> -> tensor<1x2x8x8xui8>
  return %t : tensor<1x2x8x8xui8>
}

// -----

// 2.4M multiply-adds: the call sits in an scf.parallel over the tasks.
// TASKS-LABEL: func @conv_large
// TASKS: scf.parallel
// TASKS: call @qc_k_conv2d_i8_generic(
func.func @conv_large(%x: tensor<1x16x32x32xui8>) -> tensor<1x16x32x32xi32> {
  %w = arith.constant dense<100> : tensor<16x16x3x3xi8>
  %acc = qc.conv_int %x, %w zp(128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1
      : (tensor<1x16x32x32xui8>, tensor<16x16x3x3xi8>) -> tensor<1x16x32x32xi32>
  return %acc : tensor<1x16x32x32xi32>
}
