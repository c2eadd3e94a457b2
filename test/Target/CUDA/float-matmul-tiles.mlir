// qc-cuda-tile-float-matmul: f32 (batch) matmuls as 64x64 tiles of 256
// threads, K in steps of 16 through shared memory (A transposed into
// 16x65, B into 16x64), a 4x4 register tile per thread started from C,
// each product a multiply then an add in increasing k.
// RUN: quant-opt %s --split-input-file --qc-cuda-tile-float-matmul --cse | FileCheck %s

// Batch 384 of 128x64 by 64x128: 2 x 2 x 384 blocks.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME: %[[A:[^:]*]]: memref<384x128x64xf32>, %[[B:[^:]*]]: memref<384x64x128xf32>, %[[C:[^:]*]]: memref<384x128x128xf32>
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C384:.*]] = arith.constant 384 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %[[Z:.*]]) in ({{.*}} = %[[C2]], {{.*}} = %[[C2]], {{.*}} = %[[C384]]) threads({{.*}}) in ({{.*}} = %[[C256]],
// CHECK-SAME: workgroup(%[[SA:.*]] : memref<16x65xf32, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<16x64xf32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-16: memref.load %[[C]][%[[Z]],
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK: memref.load %[[A]][%[[Z]],
// CHECK: memref.store %{{.*}}, %[[SA]][
// CHECK: memref.load %[[B]][%[[Z]],
// CHECK: memref.store %{{.*}}, %[[SB]][
// CHECK: gpu.barrier
// CHECK: %[[P:.*]] = arith.mulf
// CHECK-NEXT: arith.addf %{{.*}}, %[[P]] : f32
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK-COUNT-16: memref.store %{{.*}}, %[[C]][%[[Z]],
// CHECK-NOT: linalg.batch_matmul
func.func @attention(%a: memref<384x128x64xf32>, %b: memref<384x64x128xf32>, %c: memref<384x128x128xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<384x128x128xf32>)
  linalg.batch_matmul ins(%a, %b : memref<384x128x64xf32>, memref<384x64x128xf32>) outs(%c : memref<384x128x128xf32>)
  return
}

// -----

// A 2-d matmul with edges (100 x 70, K = 30): 2 x 2 x 1 blocks, guarded.
// CHECK-LABEL: func.func @edges(
// CHECK: gpu.launch
// CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK: scf.for
// CHECK: scf.if
// CHECK-NOT: linalg.matmul
func.func @edges(%a: memref<100x30xf32>, %b: memref<30x70xf32>, %c: memref<100x70xf32>) {
  linalg.matmul ins(%a, %b : memref<100x30xf32>, memref<30x70xf32>) outs(%c : memref<100x70xf32>)
  return
}

// -----

// Integer and tiny products are left to the other paths.
// CHECK-LABEL: func.func @left(
// CHECK: linalg.matmul
// CHECK: linalg.matmul
func.func @left(%a: memref<100x32xi32>, %b: memref<32x70xi32>, %c: memref<100x70xi32>, %d: memref<4x4xf32>, %e: memref<4x4xf32>) {
  linalg.matmul ins(%a, %b : memref<100x32xi32>, memref<32x70xi32>) outs(%c : memref<100x70xi32>)
  linalg.matmul ins(%d, %d : memref<4x4xf32>, memref<4x4xf32>) outs(%e : memref<4x4xf32>)
  return
}
