// qc-cuda-form-int8-gemm: integer matmuls and convolutions with constant
// weights become i8 x i8^T GEMMs (weights transposed, shifted by their zero
// points and padded to K' = 16k at compile time) plus one generic adding
// bias - a_zp * (sums of the weight rows).
// RUN: quant-opt %s --split-input-file --qc-cuda-form-int8-gemm | FileCheck %s
// RUN: quant-opt %s --split-input-file --qc-cuda-form-int8-gemm=w4=false | FileCheck %s --check-prefix=NOW4

// CHECK-DAG: #[[MA:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[MB:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MC:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[A:.*]]: tensor<3x16xi8>
// CHECK-DAG: %[[CORR:.*]] = arith.constant dense_resource<qc_gemm_corr> : tensor<2xi32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<qc_gemm_weights> : tensor<2x16xi8>
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: %[[ACC:.*]] = linalg.matmul indexing_maps = [#[[MA]], #[[MB]], #[[MC]]] ins(%[[A]], %[[W]] : tensor<3x16xi8>, tensor<2x16xi8>) outs(%[[Z]] : tensor<3x2xi32>)
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], {{.*}}} ins(%[[ACC]], %[[CORR]] : tensor<3x2xi32>, tensor<2xi32>)
// CHECK: arith.addi
// CHECK: return %[[R]]
// The weights transposed: row 0 = 1..16, row 1 = -1..-16; corr =
// bias - 3 * row sums = [10 - 408, 20 + 408] = [-398, 428].
// CHECK: qc_gemm_corr: "0x0400000072FEFFFFAC010000"
// CHECK: qc_gemm_weights: "0x010000000102030405060708090A0B0C0D0E0F10FFFEFDFCFBFAF9F8F7F6F5F4F3F2F1F0"
func.func @matmul(%a: tensor<3x16xi8>) -> tensor<3x2xi32> {
  %b = arith.constant dense<[[1, -1], [2, -2], [3, -3], [4, -4], [5, -5], [6, -6], [7, -7], [8, -8], [9, -9], [10, -10], [11, -11], [12, -12], [13, -13], [14, -14], [15, -15], [16, -16]]> : tensor<16x2xi8>
  %bias = arith.constant dense<[10, 20]> : tensor<2xi32>
  %c = qc.matmul_int %a, %b bias %bias zp(3, [0]) : (tensor<3x16xi8>, tensor<16x2xi8>, tensor<2xi32>) -> tensor<3x2xi32>
  return %c : tensor<3x2xi32>
}

// -----

// Batched u8 activations, K = 50: collapsed to [8, 50], gathered into
// [8, 64] i8 (x xor 0x80 = x - 128, zero columns past K); the zero point 128
// becomes 0: no correction; the result expanded back.
// CHECK-LABEL: func.func @batched_u8(
// CHECK: %[[BC:.*]] = tensor.bitcast %{{.*}} : tensor<2x4x50xui8> to tensor<2x4x50xi8>
// CHECK: %[[A2:.*]] = tensor.collapse_shape %[[BC]] {{\[}}[0, 1], [2]] : tensor<2x4x50xi8> into tensor<8x50xi8>
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8x64xi8>)
// CHECK: linalg.index 1
// CHECK: arith.cmpi ult, %{{.*}}, %c50
// CHECK: tensor.extract %[[A2]]
// CHECK: arith.xori %{{.*}}, %c-128_i8
// CHECK: %[[ACC:.*]] = linalg.matmul {{.*}} ins(%[[G]], %{{.*}} : tensor<8x64xi8>, tensor<32x64xi8>)
// CHECK-NOT: linalg.generic
// CHECK: tensor.expand_shape %[[ACC]] {{\[}}[0, 1], [2]] output_shape [2, 4, 32] : tensor<8x32xi32> into tensor<2x4x32xi32>
func.func @batched_u8(%a: tensor<2x4x50xui8>) -> tensor<2x4x32xi32> {
  %b = arith.constant dense<50> : tensor<50x32xi8>
  %c = qc.matmul_int %a, %b zp(128, [0]) : (tensor<2x4x50xui8>, tensor<50x32xi8>) -> tensor<2x4x32xi32>
  return %c : tensor<2x4x32xi32>
}

// -----

// A 3x3 convolution, stride 2, pad 1, u8 input with zero point 128: the
// weights [8, 27 -> 32] times im2col [5*6, 32]^T, rows = output channels;
// padding reads the shifted zero point (0); bias added per row.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @conv(
// CHECK: %[[COLS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<30x32xi8>)
// CHECK: tensor.extract %{{.*}} : tensor<1x3x9x11xi8>
// CHECK: %[[ACC:.*]] = linalg.matmul {{.*}} ins(%{{.*}}, %[[COLS]] : tensor<8x32xi8>, tensor<30x32xi8>) outs(%{{.*}} : tensor<8x30xi32>)
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[ROW]], #{{.*}}], {{.*}}} ins(%[[ACC]], %{{.*}} : tensor<8x30xi32>, tensor<8xi32>)
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1], [2, 3]] output_shape [1, 8, 5, 6] : tensor<8x30xi32> into tensor<1x8x5x6xi32>
func.func @conv(%x: tensor<1x3x9x11xui8>) -> tensor<1x8x5x6xi32> {
  %w = arith.constant dense<2> : tensor<8x3x3x3xi8>
  %b = arith.constant dense<7> : tensor<8xi32>
  %c = qc.conv_int %x, %w bias %b zp (128, [0]) strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x3x9x11xui8>, tensor<8x3x3x3xi8>, tensor<8xi32>) -> tensor<1x8x5x6xi32>
  return %c : tensor<1x8x5x6xi32>
}

// -----

// Left for convert-qc-to-linalg: runtime weights; weights minus their zero
// point outside i8; a grouped convolution.
// CHECK-LABEL: func.func @not_handled(
// CHECK-NOT: linalg.matmul
// CHECK: qc.matmul_int
// CHECK: qc.matmul_int
// CHECK: qc.conv_int
func.func @not_handled(%a: tensor<4x64xi8>, %b: tensor<64x8xi8>, %x: tensor<1x4x5x5xi8>) -> (tensor<4x8xi32>, tensor<4x8xi32>, tensor<1x4x3x3xi32>) {
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<4x64xi8>, tensor<64x8xi8>) -> tensor<4x8xi32>
  %bc = arith.constant dense<-100> : tensor<64x8xi8>
  %d = qc.matmul_int %a, %bc zp(0, [100]) : (tensor<4x64xi8>, tensor<64x8xi8>) -> tensor<4x8xi32>
  %w = arith.constant dense<1> : tensor<4x2x3x3xi8>
  %e = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 2 : (tensor<1x4x5x5xi8>, tensor<4x2x3x3xi8>) -> tensor<1x4x3x3xi32>
  return %c, %d, %e : tensor<4x8xi32>, tensor<4x8xi32>, tensor<1x4x3x3xi32>
}

// -----

// W4: weights minus their zero point in [-8, 7] are packed two a byte,
// K = 20 -> K' = 32: [2, 16] i8, byte j of a row holding k = j (low nibble)
// and k = 16 + j (high); the GEMM reads them through the qc.w4_unpack
// generic (byte << (k & 16 ? 0 : 4) >>s 4). corr = -3 * row sums =
// -3 * [-34, 14] = [102, -42].
// CHECK-DAG: #[[PK:.*]] = affine_map<(d0, d1) -> (d0, (d1 floordiv 32) * 16 + d1 mod 16)>
// CHECK-LABEL: func.func @w4(
// CHECK-DAG: %[[P:.*]] = arith.constant dense_resource<qc_gemm_weights_w4> : tensor<2x16xi8>
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x32xi8>)
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[PK]], #{{.*}}], {{.*}}} ins(%[[P]] : tensor<2x16xi8>) outs(%{{.*}} : tensor<2x32xi8>) attrs = {qc.w4_unpack}
// CHECK: %[[K:.*]] = linalg.index 1 : index
// CHECK: arith.andi %[[K]], %c16
// CHECK: arith.shli
// CHECK: arith.shrsi
// CHECK: linalg.matmul {{.*}} ins(%[[G]], %[[W]] : tensor<3x32xi8>, tensor<2x32xi8>)
// CHECK: qc_gemm_corr: "0x0400000066000000D6FFFFFF"
// CHECK: qc_gemm_weights_w4: "0x010000008899AABB0C0D0E0F000102030405060777665544030201000F0E0D0C0B0A0908"
// Without w4: the i8 weights, K' = 32 -> 32 (a multiple of 16 anyway: 20 -> 32).
// NOW4-LABEL: func.func @w4(
// NOW4-NOT: qc.w4_unpack
// NOW4: linalg.matmul {{.*}} : tensor<3x32xi8>, tensor<2x32xi8>)
func.func @w4(%a: tensor<3x20xi8>) -> tensor<3x2xi32> {
  %b = arith.constant dense<[[-8,7],[-7,6],[-6,5],[-5,4],[-4,3],[-3,2],[-2,1],[-1,0],[0,-1],[1,-2],[2,-3],[3,-4],[4,-5],[5,-6],[6,-7],[7,-8],[-8,7],[-7,6],[-6,5],[-5,4]]> : tensor<20x2xi8>
  %c = qc.matmul_int %a, %b zp(3, [0]) : (tensor<3x20xi8>, tensor<20x2xi8>) -> tensor<3x2xi32>
  return %c : tensor<3x2xi32>
}
