// RUN: quant-opt %s --fold-batch-norm | FileCheck %s

// g = scale / sqrt(var + eps) = 3 / sqrt(3 + 1) = 1.5: W' = 2 * 1.5 = 3,
// B' = (1 - mean 1) * 1.5 + beta 0.5 = 0.5.
// CHECK-LABEL: func.func @conv_bn
// CHECK: %[[W:.*]] = arith.constant dense_resource<bn_folded_weight> : tensor<1x1x1x1xf32>
// CHECK: %[[B:.*]] = arith.constant dense_resource<bn_folded_bias> : tensor<1xf32>
// CHECK: %[[Y:.*]] = qc.conv %arg0, %[[W]], %[[B]]
// CHECK-NOT: qc.batchnormalization
// CHECK: return %[[Y]]
func.func @conv_bn(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<2.0> : tensor<1x1x1x1xf32>
  %b = arith.constant dense<1.0> : tensor<1xf32>
  %s = arith.constant dense<3.0> : tensor<1xf32>
  %beta = arith.constant dense<0.5> : tensor<1xf32>
  %m = arith.constant dense<1.0> : tensor<1xf32>
  %v = arith.constant dense<3.0> : tensor<1xf32>
  %c = qc.conv %x, %w, %b {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  %y = qc.batchnormalization %c, %s, %beta, %m, %v {epsilon = 1.0 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}
// CHECK: bn_folded_weight: "0x0400000000004040"
// CHECK: bn_folded_bias: "0x040000000000003F"
