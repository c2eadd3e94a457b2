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

// An i32 product is tiled too (integer sums are exact in any case); a tiny
// one stays a generic for the loop path.
// CHECK-LABEL: func.func @left(
// CHECK: gpu.launch
// CHECK-SAME: memref<16x65xi32, #gpu.address_space<workgroup>>
// CHECK: linalg.generic
func.func @left(%a: memref<100x32xi32>, %b: memref<32x70xi32>, %c: memref<100x70xi32>, %d: memref<4x4xf32>, %e: memref<4x4xf32>) {
  linalg.matmul ins(%a, %b : memref<100x32xi32>, memref<32x70xi32>) outs(%c : memref<100x70xi32>)
  linalg.matmul ins(%d, %d : memref<4x4xf32>, memref<4x4xf32>) outs(%e : memref<4x4xf32>)
  return
}

// -----

// What elementwise fusion makes of an int8 model's attention product: i8
// operands dequantized in the body, B without a batch dim. The tiles hold
// the i8 elements; the body runs per product; K = 40 is not a multiple of
// 16, so the last step's products past K are skipped, not applied to the
// zero fill.
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @fused(
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[SA:.*]] : memref<16x65xi8, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<16x64xi8, #gpu.address_space<workgroup>>)
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK-NEXT: scf.if %[[IN]] -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: memref.load %[[SA]]
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: } else {
// CHECK: scf.yield
func.func @fused(%a: memref<8x128x40xi8>, %b: memref<40x96xi8>, %c: memref<8x128x96xf32>) {
  %s = arith.constant 0.5 : f32
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %b : memref<8x128x40xi8>, memref<40x96xi8>) outs(%c : memref<8x128x96xf32>) {
  ^bb0(%x: i8, %y: i8, %acc: f32):
    %xf = arith.sitofp %x : i8 to f32
    %yf = arith.sitofp %y : i8 to f32
    %xs = arith.mulf %xf, %s : f32
    %p = arith.mulf %xs, %yf : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}
