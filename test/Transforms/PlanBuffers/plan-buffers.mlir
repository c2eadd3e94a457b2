// RUN: quant-opt %s --pass-pipeline='builtin.module(func.func(qc-plan-buffers))' -split-input-file | FileCheck %s

// A chain: %a dies where %c is allocated, so %c takes %a's bytes; %b, live
// with both, sits after them. One 2048-byte arena, freed before the return.
// CHECK-LABEL: func.func @chain
// CHECK:       %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2048xi8>
// CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:   %[[C1024:.*]] = arith.constant 1024 : index
// CHECK:       %[[A:.*]] = memref.view %[[ARENA]][%[[C0]]][] : memref<2048xi8> to memref<256xf32>
// CHECK:       linalg.copy ins(%{{.*}} : memref<256xf32>) outs(%[[A]] : memref<256xf32>)
// CHECK:       %[[B:.*]] = memref.view %[[ARENA]][%[[C1024]]][] : memref<2048xi8> to memref<256xf32>
// CHECK:       linalg.copy ins(%[[A]] : memref<256xf32>) outs(%[[B]] : memref<256xf32>)
// CHECK:       %[[C:.*]] = memref.view %[[ARENA]][%[[C0]]][] : memref<2048xi8> to memref<256xf32>
// CHECK:       linalg.copy ins(%[[B]] : memref<256xf32>) outs(%[[C]] : memref<256xf32>)
// CHECK:       linalg.copy ins(%[[C]] : memref<256xf32>) outs(%{{.*}} : memref<256xf32>)
// CHECK-NOT:   memref.dealloc %[[A]]
// CHECK-NOT:   memref.dealloc %[[B]]
// CHECK-NOT:   memref.dealloc %[[C]]
// CHECK:       memref.dealloc %[[ARENA]] : memref<2048xi8>
// CHECK-NEXT:  return
func.func @chain(%in: memref<256xf32>, %out: memref<256xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  linalg.copy ins(%in : memref<256xf32>) outs(%a : memref<256xf32>)
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  linalg.copy ins(%a : memref<256xf32>) outs(%b : memref<256xf32>)
  memref.dealloc %a : memref<256xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  linalg.copy ins(%b : memref<256xf32>) outs(%c : memref<256xf32>)
  memref.dealloc %b : memref<256xf32>
  linalg.copy ins(%c : memref<256xf32>) outs(%out : memref<256xf32>)
  memref.dealloc %c : memref<256xf32>
  return
}

// -----

// A pointer taken of %a (a kernel call's argument) keeps %a live until the
// call that reads it, though %a's own last use is earlier: %b must not take
// its bytes. Sizes round up to 64-byte offsets.
// CHECK-LABEL: func.func @pointer
// CHECK:       memref.alloc() {alignment = 64 : i64} : memref<104xi8>
// CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:   %[[C64:.*]] = arith.constant 64 : index
// CHECK:       memref.view %{{.*}}[%[[C0]]][] : memref<104xi8> to memref<10xi32>
// CHECK:       memref.view %{{.*}}[%[[C64]]][] : memref<104xi8> to memref<10xi32>
func.func private @kernel(!llvm.ptr, !llvm.ptr)
func.func @pointer(%in: memref<10xi32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<10xi32>
  linalg.copy ins(%in : memref<10xi32>) outs(%a : memref<10xi32>)
  %i = memref.extract_aligned_pointer_as_index %a : memref<10xi32> -> index
  %j = arith.index_cast %i : index to i64
  %p = llvm.inttoptr %j : i64 to !llvm.ptr
  memref.dealloc %a : memref<10xi32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<10xi32>
  %k = memref.extract_aligned_pointer_as_index %b : memref<10xi32> -> index
  %l = arith.index_cast %k : index to i64
  %q = llvm.inttoptr %l : i64 to !llvm.ptr
  func.call @kernel(%p, %q) : (!llvm.ptr, !llvm.ptr) -> ()
  memref.dealloc %b : memref<10xi32>
  return
}

// -----

// Not planned: a returned buffer (no deallocation here), a dynamic shape,
// one handed to a loop as an iteration argument, and i1 elements. With
// fewer than two plannable buffers no arena is made.
// CHECK-LABEL: func.func @unplanned
// CHECK-NOT:   memref.view
// CHECK:       memref.alloc() : memref<4xf32>
// CHECK:       memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK:       memref.alloc() : memref<8xf32>
// CHECK:       memref.alloc() : memref<8xi1>
// CHECK-NOT:   memref.view
func.func @unplanned(%n: index, %lb: index, %ub: index) -> memref<4xf32> {
  %r = memref.alloc() : memref<4xf32>
  %d = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %d : memref<?xf32>
  %l = memref.alloc() : memref<8xf32>
  %s = arith.constant 1 : index
  %x = scf.for %i = %lb to %ub step %s iter_args(%m = %l) -> memref<8xf32> {
    scf.yield %m : memref<8xf32>
  }
  memref.dealloc %l : memref<8xf32>
  %b = memref.alloc() : memref<8xi1>
  memref.dealloc %b : memref<8xi1>
  return %r : memref<4xf32>
}

// -----

// A concatenation along channels (NCHW, batch 1): each input's only
// remaining use is its copy into one contiguous slice of %cat, so it is
// placed there (4 * 16 * 4 bytes apart) and the copies go; %cat's live
// range covers its inputs'. %w (768 bytes, the largest) is placed first at
// 0, %cat after it at 768, %z after both. The input of a strided slice
// (%z, along the last axis) keeps its copy.
// CHECK-LABEL: func.func @concat
// CHECK:       %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1344xi8>
// CHECK-DAG:   %[[C768:.*]] = arith.constant 768 : index
// CHECK-DAG:   %[[C1024:.*]] = arith.constant 1024 : index
// CHECK:       %[[X:.*]] = memref.view %[[ARENA]][%[[C768]]][] : memref<1344xi8> to memref<1x4x4x4xf32>
// CHECK:       linalg.copy ins(%{{.*}} : memref<1x4x4x4xf32>) outs(%[[X]] : memref<1x4x4x4xf32>)
// CHECK:       %[[Y:.*]] = memref.view %[[ARENA]][%[[C1024]]][] : memref<1344xi8> to memref<1x2x4x4xf32>
// CHECK:       linalg.copy ins(%{{.*}} : memref<1x2x4x4xf32>) outs(%[[Y]] : memref<1x2x4x4xf32>)
// CHECK:       %[[CAT:.*]] = memref.view %[[ARENA]][%[[C768]]][] : memref<1344xi8> to memref<1x6x4x4xf32>
// CHECK-NOT:   memref.copy %[[X]]
// CHECK-NOT:   memref.copy %[[Y]]
// CHECK:       %[[Z:.*]] = memref.view
// CHECK:       memref.copy %[[CAT]], %{{.*}} : memref<1x6x4x4xf32> to memref<1x6x4x4xf32, strided<[192, 32, 8, 1]>>
// CHECK:       memref.copy %[[Z]], %{{.*}} : memref<1x6x4x2xf32> to memref<1x6x4x2xf32, strided<[192, 32, 8, 1], offset: 4>>
func.func @concat(%in: memref<1x4x4x4xf32>, %in2: memref<1x2x4x4xf32>, %in3: memref<1x6x4x2xf32>, %out: memref<1x6x4x8xf32>) {
  %x = memref.alloc() {alignment = 64 : i64} : memref<1x4x4x4xf32>
  linalg.copy ins(%in : memref<1x4x4x4xf32>) outs(%x : memref<1x4x4x4xf32>)
  %y = memref.alloc() {alignment = 64 : i64} : memref<1x2x4x4xf32>
  linalg.copy ins(%in2 : memref<1x2x4x4xf32>) outs(%y : memref<1x2x4x4xf32>)
  %cat = memref.alloc() {alignment = 64 : i64} : memref<1x6x4x4xf32>
  %s0 = memref.subview %cat[0, 0, 0, 0] [1, 4, 4, 4] [1, 1, 1, 1] : memref<1x6x4x4xf32> to memref<1x4x4x4xf32, strided<[96, 16, 4, 1]>>
  memref.copy %x, %s0 : memref<1x4x4x4xf32> to memref<1x4x4x4xf32, strided<[96, 16, 4, 1]>>
  memref.dealloc %x : memref<1x4x4x4xf32>
  %s1 = memref.subview %cat[0, 4, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : memref<1x6x4x4xf32> to memref<1x2x4x4xf32, strided<[96, 16, 4, 1], offset: 64>>
  memref.copy %y, %s1 : memref<1x2x4x4xf32> to memref<1x2x4x4xf32, strided<[96, 16, 4, 1], offset: 64>>
  memref.dealloc %y : memref<1x2x4x4xf32>
  %z = memref.alloc() {alignment = 64 : i64} : memref<1x6x4x2xf32>
  linalg.copy ins(%in3 : memref<1x6x4x2xf32>) outs(%z : memref<1x6x4x2xf32>)
  %w = memref.alloc() {alignment = 64 : i64} : memref<1x6x4x8xf32>
  %s2 = memref.subview %w[0, 0, 0, 0] [1, 6, 4, 4] [1, 1, 1, 1] : memref<1x6x4x8xf32> to memref<1x6x4x4xf32, strided<[192, 32, 8, 1]>>
  memref.copy %cat, %s2 : memref<1x6x4x4xf32> to memref<1x6x4x4xf32, strided<[192, 32, 8, 1]>>
  memref.dealloc %cat : memref<1x6x4x4xf32>
  %s3 = memref.subview %w[0, 0, 0, 4] [1, 6, 4, 2] [1, 1, 1, 1] : memref<1x6x4x8xf32> to memref<1x6x4x2xf32, strided<[192, 32, 8, 1], offset: 4>>
  memref.copy %z, %s3 : memref<1x6x4x2xf32> to memref<1x6x4x2xf32, strided<[192, 32, 8, 1], offset: 4>>
  memref.dealloc %z : memref<1x6x4x2xf32>
  linalg.copy ins(%w : memref<1x6x4x8xf32>) outs(%out : memref<1x6x4x8xf32>)
  memref.dealloc %w : memref<1x6x4x8xf32>
  return
}
