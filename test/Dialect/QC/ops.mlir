// RUN: quant-opt --allow-unregistered-dialect %s | FileCheck %s
// Round trip: printing then parsing again gives the same IR, custom and generic.
// RUN: quant-opt --allow-unregistered-dialect %s | quant-opt --allow-unregistered-dialect | FileCheck %s
// RUN: quant-opt --allow-unregistered-dialect %s -mlir-print-op-generic | quant-opt --allow-unregistered-dialect | FileCheck %s
// And through bytecode.
// RUN: quant-opt --allow-unregistered-dialect %s -emit-bytecode | quant-opt --allow-unregistered-dialect | FileCheck %s

// CHECK-LABEL: func @observe
func.func @observe(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  // CHECK: qc.observe "conv1.out" %{{.*}} : tensor<1x16x8x8xf32>
  %0 = qc.observe "conv1.out" %x : tensor<1x16x8x8xf32>
  // CHECK: qc.observe "conv1.hist" bins 2048 %{{.*}} : tensor<1x16x8x8xf32>
  %1 = qc.observe "conv1.hist" bins 2048 %0 : tensor<1x16x8x8xf32>
  return %1 : tensor<1x16x8x8xf32>
}

// CHECK-LABEL: func @quantize_per_tensor
func.func @quantize_per_tensor(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK: qc.quantize %{{.*}} : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 5.000000e-02:128>>
  %q = qc.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.05:128>>
  // CHECK: qc.dequantize %{{.*}} : tensor<4x8x!quant.uniform<u8:f32, 5.000000e-02:128>> -> tensor<4x8xf32>
  %d = qc.dequantize %q : tensor<4x8x!quant.uniform<u8:f32, 0.05:128>> -> tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// CHECK-LABEL: func @quantize_per_axis
func.func @quantize_per_axis(%w: tensor<4x3x3x3xf32>) -> tensor<4x3x3x3x!quant.uniform<i8<-127:127>:f32:0, {1.000000e-01,2.000000e-01,3.000000e-01,4.000000e-01}>> {
  // CHECK: qc.quantize %{{.*}} : tensor<4x3x3x3xf32> -> tensor<4x3x3x3x!quant.uniform<i8<-127:127>:f32:0, {1.000000e-01,2.000000e-01,3.000000e-01,4.000000e-01}>>
  %q = qc.quantize %w : tensor<4x3x3x3xf32> -> tensor<4x3x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.1, 0.2, 0.3, 0.4}>>
  return %q : tensor<4x3x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.1, 0.2, 0.3, 0.4}>>
}

// Per block: blocks of 32 along the reduction axis, one scale per (row, block).
// CHECK-LABEL: func @quantize_per_block
func.func @quantize_per_block(%w: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // CHECK: qc.quantize {{.*}} -> tensor<2x64x!quant.uniform<i4:f32:{1:32}, {{\{\{}}5.000000e-01, 2.500000e-01}, {1.250000e-01, 1.000000e+00}}>>
  %q = qc.quantize %w : tensor<2x64xf32> -> tensor<2x64x!quant.uniform<i4:f32:{1:32}, {{0.5, 0.25}, {0.125, 1.0}}>>
  %d = qc.dequantize %q : tensor<2x64x!quant.uniform<i4:f32:{1:32}, {{0.5, 0.25}, {0.125, 1.0}}>> -> tensor<2x64xf32>
  return %d : tensor<2x64xf32>
}

// Narrow formats: 4-bit, 2-bit, 1-bit, f16 expressed type, dynamic dims.
// CHECK-LABEL: func @narrow
func.func @narrow(%x: tensor<?x8xf16>) -> (tensor<?x8x!quant.uniform<i4:f16, 2.500000e-01:-3>>, tensor<?x8x!quant.uniform<u2:f16, 1.000000e+00:1>>, tensor<?x8x!quant.uniform<u1:f16, 5.000000e-01>>) {
  // CHECK: qc.quantize %{{.*}} : tensor<?x8xf16> -> tensor<?x8x!quant.uniform<i4:f16, 2.500000e-01:-3>>
  %a = qc.quantize %x : tensor<?x8xf16> -> tensor<?x8x!quant.uniform<i4:f16, 0.25:-3>>
  %b = qc.quantize %x : tensor<?x8xf16> -> tensor<?x8x!quant.uniform<u2:f16, 1.0:1>>
  %c = qc.quantize %x : tensor<?x8xf16> -> tensor<?x8x!quant.uniform<u1:f16, 0.5>>
  return %a, %b, %c : tensor<?x8x!quant.uniform<i4:f16, 0.25:-3>>, tensor<?x8x!quant.uniform<u2:f16, 1.0:1>>, tensor<?x8x!quant.uniform<u1:f16, 0.5>>
}

// CHECK-LABEL: func @storage_cast
func.func @storage_cast(%q: tensor<4x!quant.uniform<u8:f32, 0.05:128>>, %i: tensor<2x64xi4>) -> (tensor<4xui8>, tensor<2x64x!quant.uniform<i4:f32:{1:32}, {{0.5, 0.25}, {0.125, 1.0}}>>) {
  // CHECK: qc.storage_cast %{{.*}} : tensor<4x!quant.uniform<u8:f32, 5.000000e-02:128>> -> tensor<4xui8>
  %0 = qc.storage_cast %q : tensor<4x!quant.uniform<u8:f32, 0.05:128>> -> tensor<4xui8>
  // CHECK: qc.storage_cast %{{.*}} : tensor<2x64xi4> -> tensor<2x64x!quant.uniform<i4:f32:{1:32}
  %1 = qc.storage_cast %i : tensor<2x64xi4> -> tensor<2x64x!quant.uniform<i4:f32:{1:32}, {{0.5, 0.25}, {0.125, 1.0}}>>
  return %0, %1 : tensor<4xui8>, tensor<2x64x!quant.uniform<i4:f32:{1:32}, {{0.5, 0.25}, {0.125, 1.0}}>>
}

// CHECK-LABEL: func @requantize
func.func @requantize(%acc: tensor<1x4x8x8xi32>) -> (tensor<1x4x8x8xi8>, tensor<1x4x8x8xui8>) {
  // CHECK: qc.requantize %{{.*}} multiplier [1374389535] shift [37] zp(0 -> -3) clamp(-128, 127) : tensor<1x4x8x8xi32> -> tensor<1x4x8x8xi8>
  %0 = qc.requantize %acc multiplier [1374389535] shift [37] zp (0 -> -3) clamp (-128, 127) : tensor<1x4x8x8xi32> -> tensor<1x4x8x8xi8>
  // Per channel along axis 1, with a fused Relu (clamp starts at the zero point).
  // CHECK: qc.requantize %{{.*}} multiplier [1073741824, 1288490189, 1503238554, 2147483647] shift [33, 34, 35, 36] axis 1 zp(0 -> 10) clamp(10, 255) : tensor<1x4x8x8xi32> -> tensor<1x4x8x8xui8>
  %1 = qc.requantize %acc multiplier [1073741824, 1288490189, 1503238554, 2147483647] shift [33, 34, 35, 36] axis 1 zp (0 -> 10) clamp (10, 255) : tensor<1x4x8x8xi32> -> tensor<1x4x8x8xui8>
  return %0, %1 : tensor<1x4x8x8xi8>, tensor<1x4x8x8xui8>
}

// CHECK-LABEL: func @conv_int
func.func @conv_int(%x: tensor<1x3x8x8xui8>, %w: tensor<16x3x3x3xi8>, %b: tensor<16xi32>, %x2: tensor<1x16x8x8xi8>, %dw: tensor<16x1x3x3xi8>) -> (tensor<1x16x8x8xi32>, tensor<1x16x4x4xi32>) {
  // CHECK: qc.conv_int %{{.*}}, %{{.*}} bias %{{.*}} zp(128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x3x8x8xui8>, tensor<16x3x3x3xi8>, tensor<16xi32>) -> tensor<1x16x8x8xi32>
  %0 = qc.conv_int %x, %w bias %b zp (128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x3x8x8xui8>, tensor<16x3x3x3xi8>, tensor<16xi32>) -> tensor<1x16x8x8xi32>
  // Depthwise, strided, per-channel weight zero points, no bias.
  // CHECK: qc.conv_int %{{.*}}, %{{.*}} zp(-3, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]) strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] group 16 : (tensor<1x16x8x8xi8>, tensor<16x1x3x3xi8>) -> tensor<1x16x4x4xi32>
  %1 = qc.conv_int %x2, %dw zp (-3, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]) strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] group 16 : (tensor<1x16x8x8xi8>, tensor<16x1x3x3xi8>) -> tensor<1x16x4x4xi32>
  return %0, %1 : tensor<1x16x8x8xi32>, tensor<1x16x4x4xi32>
}

// 1-d and 3-d convolutions, dilation, asymmetric pads, dynamic batch.
// CHECK-LABEL: func @conv_int_nd
func.func @conv_int_nd(%x: tensor<?x4x10xi8>, %w: tensor<8x4x3xi8>, %v: tensor<1x2x4x4x4xui8>, %k: tensor<2x2x2x2x2xi8>) -> (tensor<?x8x7xi32>, tensor<1x2x3x3x3xi32>) {
  // CHECK: qc.conv_int {{.*}} -> tensor<?x8x7xi32>
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1] pads [0, 1] dilations [2] group 1 : (tensor<?x4x10xi8>, tensor<8x4x3xi8>) -> tensor<?x8x7xi32>
  // CHECK: qc.conv_int {{.*}} -> tensor<1x2x3x3x3xi32>
  %1 = qc.conv_int %v, %k zp (7, [1, 2]) strides [1, 1, 1] pads [0, 0, 0, 0, 0, 0] dilations [1, 1, 1] group 1 : (tensor<1x2x4x4x4xui8>, tensor<2x2x2x2x2xi8>) -> tensor<1x2x3x3x3xi32>
  return %0, %1 : tensor<?x8x7xi32>, tensor<1x2x3x3x3xi32>
}

// CHECK-LABEL: func @matmul_int
func.func @matmul_int(%a: tensor<2x4x64xi8>, %b: tensor<64x32xi8>, %c: tensor<3x1x4x64xui8>, %d: tensor<5x64x32xi4>, %bias: tensor<32xi32>) -> (tensor<2x4x32xi32>, tensor<3x5x4x32xi32>) {
  // CHECK: qc.matmul_int %{{.*}}, %{{.*}} bias %{{.*}} zp(3, [0]) : (tensor<2x4x64xi8>, tensor<64x32xi8>, tensor<32xi32>) -> tensor<2x4x32xi32>
  %0 = qc.matmul_int %a, %b bias %bias zp (3, [0]) : (tensor<2x4x64xi8>, tensor<64x32xi8>, tensor<32xi32>) -> tensor<2x4x32xi32>
  // Broadcast batch dims, 4-bit weights.
  // CHECK: qc.matmul_int %{{.*}}, %{{.*}} zp(128, [-1]) : (tensor<3x1x4x64xui8>, tensor<5x64x32xi4>) -> tensor<3x5x4x32xi32>
  %1 = qc.matmul_int %c, %d zp (128, [-1]) : (tensor<3x1x4x64xui8>, tensor<5x64x32xi4>) -> tensor<3x5x4x32xi32>
  return %0, %1 : tensor<2x4x32xi32>, tensor<3x5x4x32xi32>
}

// Ternary weights computed on bit planes.
// CHECK-LABEL: func @matmul_lowbit
// CHECK: qc.matmul_int %{{.*}}, %{{.*}} zp(0, [0]) {lowbit = #qc.lowbit<bits = 2, base = -1, step = 1>} : (tensor<1x3xi8>, tensor<3x2xi8>) -> tensor<1x2xi32>
func.func @matmul_lowbit(%a: tensor<1x3xi8>) -> tensor<1x2xi32> {
  %w = arith.constant dense<[[-1, 0], [1, 1], [0, -1]]> : tensor<3x2xi8>
  %0 = qc.matmul_int %a, %w zp (0, [0]) {lowbit = #qc.lowbit<bits = 2, base = -1, step = 1>} : (tensor<1x3xi8>, tensor<3x2xi8>) -> tensor<1x2xi32>
  return %0 : tensor<1x2xi32>
}

// CHECK-LABEL: func @matmul_group_scaled
func.func @matmul_group_scaled(%a: tensor<2x4x64xi8>, %b: tensor<64x32xi8>, %sa: tensor<2x4x2xf32>, %sb: tensor<32xf32>, %s1: tensor<1xf32>, %bias: tensor<32xf32>) -> (tensor<2x4x32xf32>, tensor<2x4x32xf32>) {
  // CHECK: qc.matmul_group_scaled %{{.*}}, %{{.*}} scales(%{{.*}}, %{{.*}}) zeros %{{.*}} bias %{{.*}} group 32 : (tensor<2x4x64xi8>, tensor<64x32xi8>, tensor<2x4x2xf32>, tensor<32xf32>, tensor<2x4x2xf32>, tensor<32xf32>) -> tensor<2x4x32xf32>
  %0 = qc.matmul_group_scaled %a, %b scales(%sa, %sb) zeros %sa bias %bias group 32 : (tensor<2x4x64xi8>, tensor<64x32xi8>, tensor<2x4x2xf32>, tensor<32xf32>, tensor<2x4x2xf32>, tensor<32xf32>) -> tensor<2x4x32xf32>
  // One weight scale (per tensor), no zero points, no bias.
  // CHECK: qc.matmul_group_scaled %{{.*}}, %{{.*}} scales(%{{.*}}, %{{.*}}) group 32 : (tensor<2x4x64xi8>, tensor<64x32xi8>, tensor<2x4x2xf32>, tensor<1xf32>) -> tensor<2x4x32xf32>
  %1 = qc.matmul_group_scaled %a, %b scales(%sa, %s1) group 32 : (tensor<2x4x64xi8>, tensor<64x32xi8>, tensor<2x4x2xf32>, tensor<1xf32>) -> tensor<2x4x32xf32>
  return %0, %1 : tensor<2x4x32xf32>, tensor<2x4x32xf32>
}

// CHECK-LABEL: func @dynamic_quantize
func.func @dynamic_quantize(%x: tensor<2x4x64xf32>) -> (tensor<2x4x64xf32>, tensor<2x4x64xf32>) {
  // Per token, symmetric, 4 bits: one scale per row.
  // CHECK: %[[Q:.*]], %[[S:.*]] = qc.dynamic_quantize %{{.*}} bits 4 : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4x1xf32>
  %q, %s = qc.dynamic_quantize %x bits 4 : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4x1xf32>
  // CHECK: qc.dynamic_dequantize %[[Q]] scales %[[S]] : (tensor<2x4x64xi8>, tensor<2x4x1xf32>) -> tensor<2x4x64xf32>
  %0 = qc.dynamic_dequantize %q scales %s : (tensor<2x4x64xi8>, tensor<2x4x1xf32>) -> tensor<2x4x64xf32>
  // Groups of 32 channels with zero points.
  // CHECK: %[[GQ:.*]], %[[GS:.*]], %[[GZ:.*]] = qc.dynamic_quantize %{{.*}} bits 8 : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4x2xf32>, tensor<2x4x2xf32>
  %gq, %gs, %gz = qc.dynamic_quantize %x bits 8 : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4x2xf32>, tensor<2x4x2xf32>
  // CHECK: qc.dynamic_dequantize %[[GQ]] scales %[[GS]] zero_points %[[GZ]] : (tensor<2x4x64xi8>, tensor<2x4x2xf32>, tensor<2x4x2xf32>) -> tensor<2x4x64xf32>
  %1 = qc.dynamic_dequantize %gq scales %gs zero_points %gz : (tensor<2x4x64xi8>, tensor<2x4x2xf32>, tensor<2x4x2xf32>) -> tensor<2x4x64xf32>
  return %0, %1 : tensor<2x4x64xf32>, tensor<2x4x64xf32>
}

// CHECK-LABEL: func @clamp_cast
func.func @clamp_cast(%x: tensor<16xi32>) -> tensor<16xui8> {
  // CHECK: qc.clamp %{{.*}}(0, 1000) : tensor<16xi32>
  %0 = qc.clamp %x (0, 1000) : tensor<16xi32>
  // CHECK: qc.cast %{{.*}} : tensor<16xi32> -> tensor<16xui8>
  %1 = qc.cast %0 : tensor<16xi32> -> tensor<16xui8>
  return %1 : tensor<16xui8>
}

// CHECK-LABEL: func @table
func.func @table(%x: tensor<2x3xi2>) -> tensor<2x3xui8> {
  // CHECK: qc.table %{{.*}} [0, 5, 7, 255] : tensor<2x3xi2> -> tensor<2x3xui8>
  %0 = qc.table %x [0, 5, 7, 255] : tensor<2x3xi2> -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// Schemes: the formats bit-width assignment writes onto ops.
// CHECK-LABEL: func @schemes
// CHECK-SAME: qc.activation_scheme = #qc.scheme<format = int, bits = 8, isSigned = false, symmetric = false>
// CHECK-SAME: qc.weight_scheme = #qc.scheme<format = int, bits = 4, isSigned = true, symmetric = true, axis = 0>
func.func @schemes() attributes {
    qc.weight_scheme = #qc.scheme<format = int, bits = 4, isSigned = true, symmetric = true, axis = 0>,
    qc.activation_scheme = #qc.scheme<format = int, bits = 8, isSigned = false, symmetric = false>} {
  // CHECK: fp4 = #qc.scheme<format = fp4_e2m1, bits = 4, isSigned = true, symmetric = true, axis = 1, block = 32>
  // CHECK-SAME: fp8 = #qc.scheme<format = fp8_e4m3, bits = 8, isSigned = true, symmetric = true>
  // CHECK-SAME: i2 = #qc.scheme<format = int, bits = 2, isSigned = true, symmetric = false, axis = 1, block = 64>
  "test.formats"() {fp4 = #qc.scheme<format = fp4_e2m1, bits = 4, isSigned = true, symmetric = true, axis = 1, block = 32>,
                    fp8 = #qc.scheme<format = fp8_e4m3, bits = 8, isSigned = true, symmetric = true>,
                    i2 = #qc.scheme<format = int, bits = 2, isSigned = true, symmetric = false, axis = 1, block = 64>} : () -> ()
  return
}
