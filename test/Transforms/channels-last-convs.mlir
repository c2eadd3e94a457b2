// RUN: quant-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(channels-last-convs))' | FileCheck %s

// A residual block: three convolutions and the add between them run NHWC;
// one transpose in (the block's input), one out (its result). The
// per-channel requantization's axis moves to the channels' new dim (3).
// CHECK-LABEL: func.func @residual
// CHECK: %[[X:.*]] = qc.transpose %arg0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x64x8x8xui8>) -> tensor<1x8x8x64xui8>
// CHECK: %[[C1:.*]] = qc.conv_int %[[X]], {{.*}} group 1 channels_last : (tensor<1x8x8x64xui8>, tensor<64x64x1x1xi8>, tensor<64xi32>) -> tensor<1x8x8x64xi32>
// CHECK: qc.requantize %[[C1]] multiplier [{{.*}}] shift [{{.*}}] axis 3
// CHECK: qc.conv_int {{.*}} pads [1, 1, 1, 1] {{.*}} channels_last : (tensor<1x8x8x64xui8>, tensor<64x64x3x3xi8>) -> tensor<1x8x8x64xi32>
// CHECK: qc.conv_int {{.*}} channels_last : (tensor<1x8x8x64xui8>, tensor<128x64x1x1xi8>) -> tensor<1x8x8x128xi32>
// CHECK: qc.conv_int %[[X]], {{.*}} channels_last : (tensor<1x8x8x64xui8>, tensor<128x64x1x1xi8>) -> tensor<1x8x8x128xi32>
// CHECK: %[[S:.*]] = qc.add {{.*}} : (tensor<1x8x8x128xi32>, tensor<1x8x8x128xi32>) -> tensor<1x8x8x128xi32>
// CHECK: %[[Y:.*]] = qc.requantize %[[S]] {{.*}} -> tensor<1x8x8x128xui8>
// CHECK: %[[B:.*]] = qc.transpose %[[Y]] {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x8x8x128xui8>) -> tensor<1x128x8x8xui8>
// CHECK: return %[[B]]
// CHECK-NOT: qc.transpose
func.func @residual(%x: tensor<1x64x8x8xui8>) -> tensor<1x128x8x8xui8> {
  %w1 = arith.constant dense<1> : tensor<64x64x1x1xi8>
  %w2 = arith.constant dense<2> : tensor<64x64x3x3xi8>
  %w3 = arith.constant dense<3> : tensor<128x64x1x1xi8>
  %wp = arith.constant dense<-1> : tensor<128x64x1x1xi8>
  %b = arith.constant dense<5> : tensor<64xi32>
  %c1 = qc.conv_int %x, %w1 bias %b zp (3, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x64x8x8xui8>, tensor<64x64x1x1xi8>, tensor<64xi32>) -> tensor<1x64x8x8xi32>
  %r1 = qc.requantize %c1 multiplier [1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824] shift [40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40] axis 1 zp (0 -> 0) clamp (0, 255) : tensor<1x64x8x8xi32> -> tensor<1x64x8x8xui8>
  %c2 = qc.conv_int %r1, %w2 zp (0, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x64x8x8xui8>, tensor<64x64x3x3xi8>) -> tensor<1x64x8x8xi32>
  %r2 = qc.requantize %c2 multiplier [1073741824] shift [41] zp (0 -> 0) clamp (0, 255) : tensor<1x64x8x8xi32> -> tensor<1x64x8x8xui8>
  %c3 = qc.conv_int %r2, %w3 zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x64x8x8xui8>, tensor<128x64x1x1xi8>) -> tensor<1x128x8x8xi32>
  %cp = qc.conv_int %x, %wp zp (3, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x64x8x8xui8>, tensor<128x64x1x1xi8>) -> tensor<1x128x8x8xi32>
  %s = qc.add %c3, %cp : (tensor<1x128x8x8xi32>, tensor<1x128x8x8xi32>) -> tensor<1x128x8x8xi32>
  %y = qc.requantize %s multiplier [1073741824] shift [42] zp (0 -> 0) clamp (0, 255) : tensor<1x128x8x8xi32> -> tensor<1x128x8x8xui8>
  return %y : tensor<1x128x8x8xui8>
}

// -----

// One convolution between two ops that stay NCHW (a max pool, a return)
// would need as many transposes as it has convolutions plus one: left
// alone. So is a convolution of 24 output channels (partial column blocks).
// CHECK-LABEL: func.func @isolated
// CHECK-NOT: qc.transpose
// CHECK-NOT: channels_last
func.func @isolated(%x: tensor<1x64x8x8xui8>, %z: tensor<1x64x8x8xui8>) -> (tensor<1x64x4x4xui8>, tensor<1x24x8x8xi32>) {
  %w = arith.constant dense<1> : tensor<64x64x3x3xi8>
  %c = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x64x8x8xui8>, tensor<64x64x3x3xi8>) -> tensor<1x64x8x8xi32>
  %r = qc.requantize %c multiplier [1073741824] shift [41] zp (0 -> 0) clamp (0, 255) : tensor<1x64x8x8xi32> -> tensor<1x64x8x8xui8>
  %p = qc.maxpool %r {auto_pad = "NOTSET", ceil_mode = 0 : i64, kernel_shape = array<i64: 2, 2>, storage_order = 0 : i64, strides = array<i64: 2, 2>} : (tensor<1x64x8x8xui8>) -> tensor<1x64x4x4xui8>
  %w24 = arith.constant dense<1> : tensor<24x64x1x1xi8>
  %n = qc.conv_int %z, %w24 zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x64x8x8xui8>, tensor<24x64x1x1xi8>) -> tensor<1x24x8x8xi32>
  %n2 = qc.conv_int %z, %w24 zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x64x8x8xui8>, tensor<24x64x1x1xi8>) -> tensor<1x24x8x8xi32>
  %s = qc.add %n, %n2 : (tensor<1x24x8x8xi32>, tensor<1x24x8x8xi32>) -> tensor<1x24x8x8xi32>
  return %p, %s : tensor<1x64x4x4xui8>, tensor<1x24x8x8xi32>
}
