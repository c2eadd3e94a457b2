// RUN: quant-opt %s -split-input-file --fold-batch-norm --decompose-conv-transpose | FileCheck %s

// A 2x2 stride-2 ConvTranspose (with a BatchNormalization, folded into it
// first): a 1x1 Conv to 3 x 2 x 2 = 12 channels, then depth to space.
// CHECK-LABEL: func.func @upsample
// CHECK-NOT: qc.batchnormalization
// CHECK: %[[C:.*]] = qc.conv %arg0, %{{.*}}, %{{.*}} {{.*}}kernel_shape = array<i64: 1, 1>{{.*}} : (tensor<1x4x5x6xf32>, tensor<12x4x1x1xf32>, tensor<12xf32>) -> tensor<1x12x5x6xf32>
// CHECK: %[[S:.*]] = qc.reshape %[[C]], %{{.*}} : (tensor<1x12x5x6xf32>, tensor<6xi64>) -> tensor<1x3x2x2x5x6xf32>
// CHECK: %[[T:.*]] = qc.transpose %[[S]] {perm = array<i64: 0, 1, 4, 2, 5, 3>} : (tensor<1x3x2x2x5x6xf32>) -> tensor<1x3x5x2x6x2xf32>
// CHECK: qc.reshape %[[T]], %{{.*}} : (tensor<1x3x5x2x6x2xf32>, tensor<4xi64>) -> tensor<1x3x10x12xf32>
// CHECK-NOT: qc.convtranspose
func.func @upsample(%x: tensor<1x4x5x6xf32>) -> tensor<1x3x10x12xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3x2x2xf32>
  %b = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %s = arith.constant dense<2.0> : tensor<3xf32>
  %o = arith.constant dense<0.0> : tensor<3xf32>
  %m = arith.constant dense<0.5> : tensor<3xf32>
  %v = arith.constant dense<1.0> : tensor<3xf32>
  %t = qc.convtranspose %x, %w, %b {auto_pad = "NOTSET", group = 1 : i64, kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x5x6xf32>, tensor<4x3x2x2xf32>, tensor<3xf32>) -> tensor<1x3x10x12xf32>
  %y = qc.batchnormalization %t, %s, %o, %m, %v {epsilon = 1.0e-5 : f32} : (tensor<1x3x10x12xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x10x12xf32>
  return %y : tensor<1x3x10x12xf32>
}

// -----

// Overlapping windows (3x3 kernel, stride 2) stay a ConvTranspose.
// CHECK-LABEL: func.func @overlapping
// CHECK: qc.convtranspose
// CHECK-NOT: qc.conv
func.func @overlapping(%x: tensor<1x4x5x6xf32>) -> tensor<1x3x11x13xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3x3x3xf32>
  %t = qc.convtranspose %x, %w {auto_pad = "NOTSET", group = 1 : i64, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x4x5x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x11x13xf32>
  return %t : tensor<1x3x11x13xf32>
}
