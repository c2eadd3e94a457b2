// RUN: quant-opt %s -qc-linalg-vectorize -split-input-file | FileCheck %s
// RUN: quant-opt %s -qc-linalg-vectorize=parallel=true -split-input-file | FileCheck %s --check-prefix=PAR
// RUN: quant-opt %s -pass-pipeline='builtin.module(qc-linalg-vectorize,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,canonicalize,fold-memref-alias-ops,qc-hoist-vector-transfers)' -split-input-file | FileCheck %s --check-prefix=HOIST

// A 64x96x128 matmul: 8x32 output tiles, the reduction innermost by 1; the
// tile's contraction is 8 FMAs of a broadcast A element by a B row.
// CHECK-LABEL: func @matmul
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// The accumulator tile is read before the reduction loop, carried through
// it as a vector and written after it.
// CHECK: scf.for %{{.*}} step %[[C8]]
// CHECK: scf.for %{{.*}} step %[[C32]]
// CHECK: %[[ACC:.*]] = vector.transfer_read {{.*}} vector<8x32xf32>
// CHECK: %[[R:.*]]:2 = scf.for %{{.*}} step %[[C1]] iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %[[ACC]]) -> (tensor<8x32xf32>, vector<8x32xf32>)
// CHECK: vector.transfer_read {{.*}} vector<8x1xf32>
// CHECK: vector.transfer_read {{.*}} vector<32xf32>
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT: vector.fma
// CHECK: scf.yield %{{.*}}, %{{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// CHECK: vector.transfer_write %[[R]]#1
// CHECK-NOT: linalg.matmul

// After bufferization the accumulator tile is read before the reduction
// loop, carried through it and written after it.
// HOIST-LABEL: func @matmul
// HOIST: %[[ACC:.*]] = vector.transfer_read %[[OUT:.*]][%[[I:.*]], %[[J:.*]]], {{.*}} vector<8x32xf32>
// HOIST: %[[R:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<8x32xf32>)
// HOIST-COUNT-8: vector.fma
// HOIST: scf.yield
// HOIST: vector.transfer_write %[[R]], %[[OUT]][%[[I]], %[[J]]]
// For threads, the output tiles are one scf.forall; the reduction stays an
// scf.for inside each tile.
// PAR-LABEL: func @matmul
// PAR: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (64, 96) step (8, 32)
// PAR: scf.for
// PAR-COUNT-8: vector.fma
// PAR: scf.forall.in_parallel
func.func @matmul(%a: tensor<64x128xf32>, %b: tensor<128x96xf32>) -> tensor<64x96xf32> {
  %c = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x96xf32>
  %f = linalg.fill ins(%c : f32) outs(%e : tensor<64x96xf32>) -> tensor<64x96xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x128xf32>, tensor<128x96xf32>) outs(%f : tensor<64x96xf32>) -> tensor<64x96xf32>
  return %r : tensor<64x96xf32>
}

// -----

// 10 columns: no multiple of 8, the matmul keeps its loops.
// CHECK-LABEL: func @ragged
// CHECK: linalg.matmul
// CHECK-NOT: vector.
// For threads, an op left as loops is split over its first parallel dim
// (96 x 64 x 10 iterations: enough for a fork and join).
// PAR-LABEL: func @ragged
// PAR: scf.forall (%{{.*}}) in (96)
// PAR: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x64xf32>, tensor<64x10xf32>)
func.func @ragged(%a: tensor<96x64xf32>, %b: tensor<64x10xf32>, %c: tensor<96x10xf32>) -> tensor<96x10xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<96x64xf32>, tensor<64x10xf32>) outs(%c : tensor<96x10xf32>) -> tensor<96x10xf32>
  return %r : tensor<96x10xf32>
}

// -----

// 6 x 4 x 10 iterations: less work than a fork and join costs, no threads.
// PAR-LABEL: func @small_ragged
// PAR-NOT: scf.forall
// PAR: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x4xf32>, tensor<4x10xf32>)
func.func @small_ragged(%a: tensor<6x4xf32>, %b: tensor<4x10xf32>, %c: tensor<6x10xf32>) -> tensor<6x10xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<6x4xf32>, tensor<4x10xf32>) outs(%c : tensor<6x10xf32>) -> tensor<6x10xf32>
  return %r : tensor<6x10xf32>
}

// -----

// A 1x1 convolution becomes im2col + a contraction over channels whose
// inner dim is the 8x8 output plane: 8-channel x 32-pixel tiles.
// CHECK-LABEL: func @pointwise_conv
// CHECK-NOT: linalg.conv_2d_nchw_fchw
// CHECK: scf.for
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// Its accumulator is hoisted as well, though the output buffer is a
// collapse_shape view (hoisted on tensors, before bufferization).
// HOIST-LABEL: func @pointwise_conv
// HOIST: %[[ACC:.*]] = vector.transfer_read {{.*}} vector<8x32xf32>
// HOIST: scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<8x32xf32>)
// HOIST-COUNT-8: vector.fma
func.func @pointwise_conv(%x: tensor<1x16x8x8xf32>, %w: tensor<8x16x1x1xf32>, %o: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x16x8x8xf32>, tensor<8x16x1x1xf32>) outs(%o : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  return %r : tensor<1x8x8x8xf32>
}
