// qc-cuda-int8-gemm-to-mma on bufferized i8 GEMMs: one gpu.launch of
// 128x128 tiles, cp.async into a 3-stage shared-memory ring, ldmatrix,
// mma.sync m16n8k32 (wrapping s32), guarded stores; an elementwise consumer
// of C runs in the epilogue.
// RUN: quant-opt %s --qc-cuda-int8-gemm-to-mma --cse | FileCheck %s

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// CHECK-LABEL: func.func @fused(
// CHECK-SAME: %[[A:[^:]*]]: memref<200x96xi8>, %[[B:[^:]*]]: memref<72x96xi8>, %[[CORR:[^:]*]]: memref<72xi32>, %[[Y:[^:]*]]: memref<200x72xi8>
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.
// ceil(72/128) x ceil(200/128) blocks of 256 threads.
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C1]], {{.*}} = %[[C2]], {{.*}} = %[[C1]]) threads({{.*}}) in ({{.*}} = %[[C256]], {{.*}} = %[[C1]], {{.*}} = %[[C1]])
// CHECK-SAME: workgroup(%[[SA:.*]] : memref<3x128x64xi8, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<3x128x64xi8, #gpu.address_space<workgroup>>)
// The prologue: two stages in flight, 2 chunks of A and B a thread each.
// CHECK-COUNT-2: nvgpu.device_async_copy %[[A]][{{.*}}], %[[SA]][{{.*}}], 16, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_create_group
// CHECK: %[[G:.*]] = nvgpu.device_async_create_group
// CHECK: scf.for {{.*}} iter_args(
// CHECK: nvgpu.device_async_wait %[[G]] {numGroups = 1 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.device_async_copy %[[B]][{{.*}}], %[[SB]][{{.*}}], 16, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_create_group
// CHECK: nvgpu.ldmatrix %[[SA]][{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<3x128x64xi8, #gpu.address_space<workgroup>> -> vector<4x4xi8>
// CHECK: nvgpu.ldmatrix %[[SB]][{{.*}}] {numTiles = 4 : i32, transpose = false}
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {intOverflowBehavior = #nvvm.mma_int_overflow<wrapped>, layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<s8>, multiplicandBPtxType = #nvvm.mma_type<s8>, shape = #nvvm.shape<m = 16, n = 8, k = 32>} : (i32, i32, i32) -> !llvm.struct<(i32, i32, i32, i32)>
// CHECK-COUNT-31: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// The epilogue: the generic's body per accumulator, C never stored; two
// adjacent columns a store.
// CHECK: scf.if
// CHECK-NEXT: %[[K:.*]] = memref.load %[[CORR]][
// CHECK-NEXT: %[[S:.*]] = arith.addi %{{.*}}, %[[K]] : i32
// CHECK-NEXT: %[[T:.*]] = arith.trunci %[[S]] : i32 to i8
// CHECK: %[[T2:.*]] = arith.trunci %{{.*}} : i32 to i8
// CHECK-NEXT: %[[V:.*]] = vector.from_elements %[[T]], %[[T2]] : vector<2xi8>
// CHECK-NEXT: vector.store %[[V]], %[[Y]][{{.*}}] {alignment = 2 : i64}
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
func.func @fused(%a: memref<200x96xi8>, %b: memref<72x96xi8>, %corr: memref<72xi32>, %y: memref<200x72xi8>) {
  %c0 = arith.constant 0 : i32
  %c = memref.alloc() : memref<200x72xi32>
  linalg.fill ins(%c0 : i32) outs(%c : memref<200x72xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<200x96xi8>, memref<72x96xi8>) outs(%c : memref<200x72xi32>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %corr : memref<200x72xi32>, memref<72xi32>) outs(%y : memref<200x72xi8>) {
  ^bb0(%v: i32, %k: i32, %o: i8):
    %s = arith.addi %v, %k : i32
    %t = arith.trunci %s : i32 to i8
    linalg.yield %t : i8
  }
  return
}

// Without a zero fill the kernel adds to what C holds.
// CHECK-LABEL: func.func @accumulate(
// CHECK-SAME: %{{[^:]*}}: memref<16x64xi8>, %{{[^:]*}}: memref<8x64xi8>, %[[C:[^:]*]]: memref<16x8xi32>
// CHECK: gpu.launch
// CHECK: nvvm.mma.sync
// CHECK: scf.if
// CHECK-NEXT: %[[OLD:.*]] = memref.load %[[C]][
// CHECK-NEXT: %[[NEW:.*]] = arith.addi %[[OLD]], %{{.*}} : i32
// CHECK: %[[NEW2:.*]] = arith.addi %{{.*}}, %{{.*}} : i32
// CHECK-NEXT: %[[V:.*]] = vector.from_elements %[[NEW]], %[[NEW2]] : vector<2xi32>
// CHECK-NEXT: vector.store %[[V]], %[[C]][{{.*}}] {alignment = 8 : i64}
// CHECK-NOT: linalg.matmul
func.func @accumulate(%a: memref<16x64xi8>, %b: memref<8x64xi8>, %c: memref<16x8xi32>) {
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<16x64xi8>, memref<8x64xi8>) outs(%c : memref<16x8xi32>)
  return
}

// K not a multiple of 16 (rows not 16-byte aligned for cp.async), the
// default (untransposed) map, i32 operands: left alone.
// CHECK-LABEL: func.func @not_handled(
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: linalg.matmul
func.func @not_handled(%a: memref<16x40xi8>, %b: memref<8x40xi8>, %c: memref<16x8xi32>,
                       %bt: memref<64x8xi8>, %a2: memref<16x64xi8>, %a3: memref<16x64xi32>, %b3: memref<8x64xi32>) {
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<16x40xi8>, memref<8x40xi8>) outs(%c : memref<16x8xi32>)
  linalg.matmul ins(%a2, %bt : memref<16x64xi8>, memref<64x8xi8>) outs(%c : memref<16x8xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a3, %b3 : memref<16x64xi32>, memref<8x64xi32>) outs(%c : memref<16x8xi32>)
  return
}
