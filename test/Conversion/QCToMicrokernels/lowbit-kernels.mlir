// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni lowbit-kernels=lut" -split-input-file | FileCheck %s --check-prefix=LUT
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=generic lowbit-kernels=lut" -split-input-file | FileCheck %s --check-prefix=GENERIC
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni lowbit-kernels=unpack" -split-input-file | FileCheck %s --check-prefix=UNPACK
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni" -split-input-file | FileCheck %s --check-prefix=UNPACK
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni lowbit-kernels=popcount report-choices=1" -split-input-file 2>&1 | FileCheck %s --check-prefix=POPCOUNT
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni lowbit-kernels=auto" -split-input-file | FileCheck %s --check-prefix=AUTO
// RUN: not quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni lowbit-kernels=lookup" 2>&1 | FileCheck %s --check-prefix=BAD

// Ternary weights ({-1, 0, 1}: codes u = w + 1 of 2 bits) with the
// requantization fused: one call of the table-lookup kernel with the
// activations made signed (aXor 128 for uint8), bits 2, step 1, base -1.
// The planes: 1 block of 64 columns x 1 quad of 16 k x 128 bytes per bit
// = 256 bytes.
// LUT-LABEL: func @ternary
// LUT: arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<256xi8>
// LUT: call @qc_k_matmul_lut_i8_vbmi(%c2_i64, %c3_i64, %c5_i64, %{{.*}}, %c128_i64, %{{.*}}, %c2_i64, %c1_i64, %c-1_i64,
// LUT-NOT: qc.requantize
// GENERIC-LABEL: func @ternary
// GENERIC: call @qc_k_matmul_lut_i8_generic(
// UNPACK-LABEL: func @ternary
// UNPACK: call @qc_k_matmul_i8_vnni(
// UNPACK-NOT: qc_k_matmul_lut
// POPCOUNT: remark: lowbit-kernels=popcount: the activations of this product are not binary ('tensor<2x5xui8>'); it takes the lut or int8 kernel instead
// BAD: for the --lowbit-kernels option: Cannot find option named 'lookup'!
func.func @ternary(%a: tensor<2x5xui8>) -> tensor<2x3xi8> {
  %w = arith.constant dense<[[1, 0, -1], [0, 0, 1], [-1, -1, 1], [1, 1, 1], [0, -1, 0]]> : tensor<5x3xi8>
  %acc = qc.matmul_int %a, %w zp(128, [0]) {lowbit = #qc.lowbit<bits = 2, base = -1, step = 1>}
      : (tensor<2x5xui8>, tensor<5x3xi8>) -> tensor<2x3xi32>
  %y = qc.requantize %acc multiplier [1073741824] shift [33] zp(0 -> 0) clamp(-128, 127)
      : tensor<2x3xi32> -> tensor<2x3xi8>
  return %y : tensor<2x3xi8>
}

// -----

// Binary weights ({-3, 3}: one bit, step 6, base -3), int32 result, per
// channel weight zero points (signed after the offset of uint8 storage).
// LUT-LABEL: func @binary_uint8
// LUT: tensor<128xi8>
// LUT: call @qc_k_matmul_lut_i8_vbmi(%c1_i64, %c2_i64, %c4_i64, %{{.*}}, %c0_i64, %{{.*}}, %c1_i64, %c6_i64, %c-3_i64,
func.func @binary_uint8(%a: tensor<1x4xi8>) -> tensor<1x2xi32> {
  %w = arith.constant dense<[[125, 131], [131, 131], [125, 125], [131, 125]]> : tensor<4x2xui8>
  %acc = qc.matmul_int %a, %w zp(0, [127, 129]) {lowbit = #qc.lowbit<bits = 1, base = -3, step = 6>}
      : (tensor<1x4xi8>, tensor<4x2xui8>) -> tensor<1x2xi32>
  return %acc : tensor<1x2xi32>
}

// -----

// Binary activations (levels 1 and 255 of uint8, as the quantization of a
// Where between -1 and 1 gives) and binary weights: AND + popcount, with
// the popcount method or auto; the terms per filter and per tap are blobs
// of 8 and 8 x 9 int32, the weights one word per filter and tap.
// LUT-LABEL: func @binary_conv
// LUT: call @qc_k_conv2d_i8_vnni(
// UNPACK-LABEL: func @binary_conv
// UNPACK: call @qc_k_conv2d_i8_vnni(
// POPCOUNT-LABEL: func @binary_conv
// POPCOUNT-DAG: arith.constant dense_resource<qc_kernel_weights{{.*}}> : tensor<72xi64>
// POPCOUNT-DAG: arith.constant dense_resource<qc_kernel_tapcorr{{.*}}> : tensor<72xi32>
// POPCOUNT: call @qc_k_conv2d_bin_vpopcnt(%c1_i64, %c3_i64, %c6_i64, %c6_i64, %c8_i64, %c3_i64, %c3_i64, %c6_i64, %c6_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %{{.*}}, %c128_i64, %c127_i64, %{{.*}}, %c1_i64, %c64516_i64,
// POPCOUNT-NOT: qc.requantize
// AUTO-LABEL: func @binary_conv
// AUTO: call @qc_k_conv2d_bin_vpopcnt(
func.func @binary_conv(%x: tensor<1x3x6x6xui8>) -> tensor<1x8x6x6xui8> {
  %w = arith.constant dense<127> : tensor<8x3x3x3xi8>
  %acc = qc.conv_int %x, %w zp(128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1
      {lowbit = #qc.lowbit<bits = 1, base = -127, step = 254, act_lo = 1, act_hi = 255>}
      : (tensor<1x3x6x6xui8>, tensor<8x3x3x3xi8>) -> tensor<1x8x6x6xi32>
  %y = qc.requantize %acc multiplier [1358050154] shift [43] zp(0 -> 0) clamp(0, 255)
      : tensor<1x8x6x6xi32> -> tensor<1x8x6x6xui8>
  return %y : tensor<1x8x6x6xui8>
}

// -----

// A binary matmul (int8 activations -1 and 1, ternary weights).
// POPCOUNT-LABEL: func @binary_matmul
// POPCOUNT: call @qc_k_matmul_bin_vpopcnt(%c4_i64, %c2_i64, %c3_i64, %{{.*}}, %c0_i64, %c1_i64, %{{.*}}, %c2_i64, %c2_i64,
func.func @binary_matmul(%a: tensor<4x3xi8>) -> tensor<4x2xi32> {
  %w = arith.constant dense<[[1, 0], [-1, 1], [0, 0]]> : tensor<3x2xi8>
  %acc = qc.matmul_int %a, %w zp(0, [0]) {lowbit = #qc.lowbit<bits = 2, base = -1, step = 1, act_lo = -1, act_hi = 1>}
      : (tensor<4x3xi8>, tensor<3x2xi8>) -> tensor<4x2xi32>
  return %acc : tensor<4x2xi32>
}
