// RUN: quant-opt %s -convert-qc-to-linalg -split-input-file | FileCheck %s

// CHECK-LABEL: func @matmul
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%[[Z]] : tensor<4x16xf32>)
// CHECK: linalg.batch_matmul ins(%arg2, %arg3 : tensor<2x4x8xf32>, tensor<2x8x16xf32>)
func.func @matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<2x4x8xf32>, %d: tensor<2x8x16xf32>) -> (tensor<4x16xf32>, tensor<2x4x16xf32>) {
  %0 = qc.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = qc.matmul %c, %d : (tensor<2x4x8xf32>, tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<2x4x16xf32>
}

// -----

// Broadcast batch dims: one generic, B's missing batch dim not indexed.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-LABEL: func @matmul_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-NOT: qc.matmul
func.func @matmul_broadcast(%a: tensor<2x4x8xf32>, %b: tensor<8x16xf32>) -> tensor<2x4x16xf32> {
  %0 = qc.matmul %a, %b : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// transB becomes a linalg.transpose; alpha and beta * C one epilogue generic.
// CHECK-LABEL: func @gemm
// CHECK: %[[T:.*]] = linalg.transpose ins(%arg1 : tensor<10x16xf32>) outs(%{{.*}} : tensor<16x10xf32>) permutation = [1, 0]
// CHECK: %[[M:.*]] = linalg.matmul ins(%arg0, %[[T]] : tensor<2x16xf32>, tensor<16x10xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[M]], %arg2 : tensor<2x10xf32>, tensor<10xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @gemm(%a: tensor<2x16xf32>, %b: tensor<10x16xf32>, %c: tensor<10xf32>) -> tensor<2x10xf32> {
  %0 = qc.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 0.5 : f32, transA = 0 : i64, transB = 1 : i64} : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  return %0 : tensor<2x10xf32>
}

// -----

// CHECK-LABEL: func @conv
// CHECK: %[[P:.*]] = tensor.pad %arg0 low[0, 0, 1, 2] high[0, 0, 3, 4]
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<[1, 2]> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>} ins(%[[P]], %arg1 : tensor<1x3x12x14xf32>, tensor<4x3x3x3xf32>)
// CHECK: %[[B:.*]] = tensor.expand_shape %arg2 {{\[\[}}0, 1, 2]] output_shape [4, 1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[C]], %[[B]] : tensor<1x4x5x10xf32>, tensor<4x1x1xf32>)
func.func @conv(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x5x10xf32> {
  %0 = qc.conv %x, %w, %b {auto_pad = "NOTSET", group = 1 : i64, pads = array<i64: 1, 2, 3, 4>, strides = array<i64: 2, 1>, dilations = array<i64: 1, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x10xf32>
  return %0 : tensor<1x4x5x10xf32>
}

// -----

// Depthwise convolution: linalg's named op, the weight as [C, kh, kw].
// CHECK-LABEL: func @depthwise
// CHECK: linalg.depthwise_conv_2d_nchw_chw {{.*}} ins(%arg0, %{{.*}} : tensor<1x4x8x8xf32>, tensor<4x3x3xf32>)
func.func @depthwise(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %0 = qc.conv %x, %w {auto_pad = "NOTSET", group = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// BatchNormalization: one generic, parameters read along the channel dim.
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func @batchnorm
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #[[CH]], #[[CH]], #[[CH]], #{{.*}}]
// CHECK: arith.subf
// CHECK: math.sqrt
func.func @batchnorm(%x: tensor<1x4x2x2xf32>, %s: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<1x4x2x2xf32> {
  %0 = qc.batchnormalization %x, %s, %b, %m, %v {epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// GlobalAveragePool: sum over H, W into [N, C], / (H * W), unit dims back.
// CHECK-LABEL: func @gap
// CHECK-DAG: %[[INV:.*]] = arith.constant 6.250000e-02 : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.addf
// CHECK: arith.mulf %{{.*}}, %[[INV]]
// CHECK: tensor.expand_shape {{.*}} {{\[\[}}0], [1, 2, 3]] output_shape [1, 8, 1, 1]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.maximumf
func.func @gap(%x: tensor<1x8x4x4xf32>) -> (tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>) {
  %0 = qc.globalaveragepool %x : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %1 = qc.globalmaxpool %x : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  return %0, %1 : tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>
}

// -----

// CHECK-LABEL: func @reshapes
// CHECK: %[[S:.*]] = arith.constant dense<[2, 32]> : tensor<2xi64>
// CHECK: tensor.reshape %arg0(%[[S]]) : (tensor<2x8x2x2xf32>, tensor<2xi64>) -> tensor<2x32xf32>
// CHECK: tensor.reshape
func.func @reshapes(%x: tensor<2x8x2x2xf32>, %s: tensor<2xi64>) -> (tensor<2x32xf32>, tensor<4x16xf32>) {
  %0 = qc.flatten %x {axis = 1 : i64} : (tensor<2x8x2x2xf32>) -> tensor<2x32xf32>
  %1 = qc.reshape %x, %s : (tensor<2x8x2x2xf32>, tensor<2xi64>) -> tensor<4x16xf32>
  return %0, %1 : tensor<2x32xf32>, tensor<4x16xf32>
}

// -----

// Cubic Resize of the two spatial dims with scales given at run time: the
// scales are read from the operand (dims 2 and 3), each dim has 4 taps, so
// 16 reads of the input are weighted and summed; exclude_outside zeroes the
// taps outside and divides by the weights' sum.
// CHECK-LABEL: func @resize_cubic
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x4xf32>, %[[S:.*]]: tensor<4xf32>)
// CHECK: linalg.generic
// CHECK: tensor.extract %[[S]][%c2]
// CHECK: math.floor
// CHECK: arith.select
// CHECK: arith.divf
// CHECK: tensor.extract %[[S]][%c3]
// CHECK-COUNT-16: tensor.extract %[[X]]
// CHECK-NOT: tensor.extract %[[X]]
// CHECK: linalg.yield
func.func @resize_cubic(%x: tensor<1x1x4x4xf32>, %s: tensor<4xf32>) -> tensor<1x1x3x3xf32> {
  %0 = qc.resize %x, %s {target = "scales", mode = "cubic", coordinate_transformation_mode = "half_pixel", nearest_mode = "round_prefer_floor", cubic_coeff_a = -7.500000e-01 : f32, exclude_outside = 1 : i64, extrapolation_value = 0.0 : f32} : (tensor<1x1x4x4xf32>, tensor<4xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

// Einsum with "..." and a repeated label: the batch dim is parallel, "ii"
// reads the diagonal (d1, d1) into the output's i.
// CHECK-DAG: #[[DIAG:.*]] = affine_map<(d0, d1) -> (d0, d1, d1)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func @einsum_diagonal
// CHECK: linalg.generic {indexing_maps = [#[[DIAG]], #[[OUT]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.addf
func.func @einsum_diagonal(%x: tensor<3x5x5xf32>) -> tensor<3x5xf32> {
  %0 = qc.einsum %x {equation = "...ii ->...i"} : (tensor<3x5x5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// Batch matmul as einsum: b, i, k parallel, j the reduction.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func @einsum_bmm
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @einsum_bmm(%a: tensor<5x2x3xf32>, %b: tensor<5x3x4xf32>) -> tensor<5x2x4xf32> {
  %0 = qc.einsum %a, %b {equation = "bij, bjk -> bik"} : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
  return %0 : tensor<5x2x4xf32>
}

// -----

// Gemm with transB on a constant weight: the transpose is folded into a new
// constant (no linalg.transpose at run time); the matmul reads it as is.
// CHECK-LABEL: func @gemm_const_transb
// CHECK-NOT: linalg.transpose
// CHECK: %[[W:.*]] = arith.constant dense_resource<transposed> : tensor<3x2xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]] : tensor<4x3xf32>, tensor<3x2xf32>)
// The transpose [[4, 6], [2, 3], [1, 2]] as little-endian f32 (after the
// blob's 4-byte alignment word).
// CHECK: transposed: "0x04000000000080400000C04000000040000040400000803F00000040"
func.func @gemm_const_transb(%a: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[4.0, 2.0, 1.0], [6.0, 3.0, 2.0]]> : tensor<2x3xf32>
  %0 = qc.gemm %a, %w {alpha = 1.0 : f32, beta = 1.0 : f32, transA = 0 : i64, transB = 1 : i64} : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// tf_crop_and_resize: the source coordinate comes from roi (starts at 2, 3;
// ends at 6, 7), and a coordinate outside the input gives
// extrapolation_value (10) instead of the interpolation.
// CHECK-LABEL: func @resize_crop
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x4xf32>, %[[S:.*]]: tensor<4xi64>, %[[R:.*]]: tensor<8xf32>)
// CHECK-DAG: %[[TEN:.*]] = arith.constant 1.000000e+01 : f32
// CHECK: linalg.generic
// CHECK-DAG: tensor.extract %[[R]][%c2]
// CHECK-DAG: tensor.extract %[[R]][%c6]
// CHECK-DAG: tensor.extract %[[R]][%c3]
// CHECK-DAG: tensor.extract %[[R]][%c7]
// CHECK-DAG: arith.cmpf olt
// CHECK-DAG: arith.cmpf ogt
// CHECK: arith.ori %{{.*}}, %{{.*}} : i1
// CHECK: %[[OUT:.*]] = arith.ori %{{.*}}, %{{.*}} : i1
// CHECK: arith.select %[[OUT]], %[[TEN]], %{{.*}} : f32
// CHECK-NEXT: linalg.yield
func.func @resize_crop(%x: tensor<1x1x4x4xf32>, %s: tensor<4xi64>, %roi: tensor<8xf32>) -> tensor<1x1x3x3xf32> {
  %0 = qc.resize %x, %s, %roi {target = "sizes", mode = "linear", coordinate_transformation_mode = "tf_crop_and_resize", nearest_mode = "round_prefer_floor", cubic_coeff_a = -7.500000e-01 : f32, exclude_outside = 0 : i64, extrapolation_value = 10.0 : f32} : (tensor<1x1x4x4xf32>, tensor<4xi64>, tensor<8xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}
