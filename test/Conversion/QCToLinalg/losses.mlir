// RUN: quant-opt %s -convert-qc-to-linalg -split-input-file | FileCheck %s

// NLL with ignore_index and mean: the gather clamps the target into [0, C-1],
// ignored targets contribute 0 to both sums, mean = loss sum / weight sum.
// CHECK-LABEL: func @nll_mean
// CHECK: linalg.generic
// CHECK: %[[T:.*]] = tensor.extract %{{.*}} : tensor<3x2xi64>
// CHECK: arith.maxsi %[[T]]
// CHECK: arith.minsi
// CHECK: %[[W:.*]] = tensor.extract %{{.*}} : tensor<5xf32>
// CHECK: %[[X:.*]] = tensor.extract %{{.*}} : tensor<3x5x2xf32>
// CHECK: %[[NEG:.*]] = arith.negf %[[X]]
// CHECK: %[[L:.*]] = arith.mulf %[[NEG]], %[[W]]
// CHECK: %[[HIT:.*]] = arith.cmpi eq, %[[T]], %c-1_i64
// CHECK: arith.select %[[HIT]], %{{.*}}, %[[L]]
// CHECK: arith.divf
// CHECK-NOT: qc.
func.func @nll_mean(%x: tensor<3x5x2xf32>, %t: tensor<3x2xi64>, %w: tensor<5xf32>) -> tensor<f32> {
  %0 = qc.negativeloglikelihoodloss %x, %t, %w {ignore_index = -1 : i64, reduction = "mean"} : (tensor<3x5x2xf32>, tensor<3x2xi64>, tensor<5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// SoftmaxCrossEntropyLoss is NLL of LogSoftmax over axis 1; log_prob is that
// LogSoftmax. No weights: each target weighs 1, and "none" keeps the shape.
// CHECK-LABEL: func @sce_none
// CHECK: math.exp
// CHECK: math.log
// CHECK: arith.negf
// CHECK-NOT: arith.divf
// CHECK: return %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4x3xf32>
func.func @sce_none(%x: tensor<4x3xf32>, %t: tensor<4xi32>) -> (tensor<4xf32>, tensor<4x3xf32>) {
  %0, %1 = qc.softmaxcrossentropyloss %x, %t {reduction = "none"} : (tensor<4x3xf32>, tensor<4xi32>) -> (tensor<4xf32>, tensor<4x3xf32>)
  return %0, %1 : tensor<4xf32>, tensor<4x3xf32>
}
