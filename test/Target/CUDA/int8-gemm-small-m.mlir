// qc-cuda-int8-gemm-to-mma picks the kernel's tiling by M: M <= 16, 32, 64
// take 16x32, 32x32, 64x32 tiles of 2, 4, 4 warps with 256-, 128-, 128-wide
// K steps and 4-, 5-, 3-stage rings; larger M the 128x128 tile of 8 warps.
// A W4 GEMM (B unpacked by a qc.w4_unpack generic from a packed constant)
// copies the packed tiles and expands the nibbles in registers.
// RUN: quant-opt %s --split-input-file --qc-cuda-int8-gemm-to-mma --cse | FileCheck %s

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>

// M = 4, N = 72: ceil(72/32) = 3 blocks of 64 threads; per stage 16 x 256
// bytes of A (4 chunks a thread), 32 x 256 of B (8); each warp one m16
// tile by two n8 tiles, 8 k32 steps a stage: 16 mma.sync.
// CHECK-LABEL: func.func @m4(
// CHECK-SAME: %[[A:[^:]*]]: memref<4x512xi8>, %[[B:[^:]*]]: memref<72x512xi8>
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C3]], {{.*}} = %[[C1]], {{.*}} = %[[C1]]) threads({{.*}}) in ({{.*}} = %[[C64]], {{.*}} = %[[C1]], {{.*}} = %[[C1]])
// CHECK-SAME: workgroup(%[[SA:.*]] : memref<4x16x256xi8, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<4x32x256xi8, #gpu.address_space<workgroup>>)
// Three stages in flight in the prologue.
// CHECK-COUNT-4: nvgpu.device_async_copy %[[A]][{{.*}}], %[[SA]][{{.*}}], 16
// CHECK-COUNT-8: nvgpu.device_async_copy %[[B]][{{.*}}], %[[SB]][{{.*}}], 16
// CHECK: nvgpu.device_async_create_group
// CHECK: nvgpu.device_async_create_group
// CHECK: %[[G:.*]] = nvgpu.device_async_create_group
// CHECK: scf.for {{.*}} iter_args(
// CHECK: nvgpu.device_async_wait %[[G]] {numGroups = 2 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.ldmatrix %[[SA]][{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<4x16x256xi8, #gpu.address_space<workgroup>> -> vector<4x4xi8>
// CHECK: nvgpu.ldmatrix %[[SB]][{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<4x32x256xi8, #gpu.address_space<workgroup>> -> vector<4x4xi8>
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK-NOT: linalg.matmul
func.func @m4(%a: memref<4x512xi8>, %b: memref<72x512xi8>, %c: memref<4x72xi32>) {
  %c0 = arith.constant 0 : i32
  linalg.fill ins(%c0 : i32) outs(%c : memref<4x72xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<4x512xi8>, memref<72x512xi8>) outs(%c : memref<4x72xi32>)
  return
}

// -----

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>

// M = 24: 32x32 tiles of 4 warps (2 x 2), a 5-stage ring of 128-wide K.
// CHECK-LABEL: func.func @m24(
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C2]], {{.*}} = %[[C1]], {{.*}} = %[[C1]]) threads({{.*}}) in ({{.*}} = %[[C128]], {{.*}} = %[[C1]], {{.*}} = %[[C1]])
// CHECK-SAME: workgroup(%{{.*}} : memref<5x32x128xi8, #gpu.address_space<workgroup>>, %{{.*}} : memref<5x32x128xi8, #gpu.address_space<workgroup>>)
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 3 : i32}
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
func.func @m24(%a: memref<24x256xi8>, %b: memref<64x256xi8>, %c: memref<24x64xi32>) {
  %c0 = arith.constant 0 : i32
  linalg.fill ins(%c0 : i32) outs(%c : memref<24x64xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<24x256xi8>, memref<64x256xi8>) outs(%c : memref<24x64xi32>)
  return
}

// -----

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>

// M = 64: 64x32 tiles (each warp 32x16), 3 stages; M = 65: 128x128.
// CHECK-LABEL: func.func @m64(
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%{{.*}} : memref<3x64x128xi8, #gpu.address_space<workgroup>>, %{{.*}} : memref<3x32x128xi8, #gpu.address_space<workgroup>>)
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%{{.*}} : memref<3x128x64xi8, #gpu.address_space<workgroup>>, %{{.*}} : memref<3x128x64xi8, #gpu.address_space<workgroup>>)
func.func @m64(%a: memref<64x256xi8>, %b: memref<64x256xi8>, %c: memref<64x64xi32>,
               %a2: memref<65x256xi8>, %c2: memref<65x64xi32>) {
  %c0 = arith.constant 0 : i32
  linalg.fill ins(%c0 : i32) outs(%c : memref<64x64xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<64x256xi8>, memref<64x256xi8>) outs(%c : memref<64x64xi32>)
  linalg.fill ins(%c0 : i32) outs(%c2 : memref<65x64xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a2, %b : memref<65x256xi8>, memref<64x256xi8>) outs(%c2 : memref<65x64xi32>)
  return
}

// -----

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>
#pk = affine_map<(d0, d1) -> (d0, (d1 floordiv 32) * 16 + d1 mod 16)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// W4, M = 1: the packed [72, 256] constant is the kernel's B; its ring
// holds 32 x 128 packed bytes a stage (4 chunks a thread), 5 stages.
// Each k32 step: one ldmatrix x2 of packed B (one 16-byte chunk per n8
// tile), each word's low and high nibbles sign-extended a byte at a time
// (((x ^ 0x08) + 0x78) ^ 0x80), then mma.sync. The unpack generic, its
// buffer and C are gone; the correction is the epilogue.
// CHECK-LABEL: func.func @w4(
// CHECK-SAME: %[[A:[^:]*]]: memref<1x512xi8>, %[[CORR:[^:]*]]: memref<72xi32>, %[[Y:[^:]*]]: memref<1x72xi32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.
// CHECK: %[[P:.*]] = memref.get_global @packed : memref<72x256xi8>
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[SA:.*]] : memref<5x16x256xi8, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<5x32x128xi8, #gpu.address_space<workgroup>>)
// CHECK-COUNT-4: nvgpu.device_async_copy %[[A]][{{.*}}], %[[SA]][{{.*}}], 16
// CHECK-COUNT-4: nvgpu.device_async_copy %[[P]][{{.*}}], %[[SB]][{{.*}}], 16
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 3 : i32}
// CHECK: nvgpu.ldmatrix %[[SA]]
// CHECK: %[[F:.*]] = nvgpu.ldmatrix %[[SB]][{{.*}}] {numTiles = 2 : i32, transpose = false} : memref<5x32x128xi8, #gpu.address_space<workgroup>> -> vector<2x4xi8>
// CHECK: %[[V:.*]] = vector.extract %[[F]][0] : vector<4xi8> from vector<2x4xi8>
// CHECK: %[[W:.*]] = vector.bitcast %[[V]] : vector<4xi8> to vector<1xi32>
// CHECK: %[[X:.*]] = vector.extract %[[W]][0] : i32 from vector<1xi32>
// CHECK: %[[LO:.*]] = arith.andi %[[X]], %[[MASK:.*]] : i32
// CHECK: %[[SH:.*]] = arith.shrui %[[X]], %{{.*}} : i32
// CHECK: %[[HI:.*]] = arith.andi %[[SH]], %[[MASK]] : i32
// CHECK: %[[L1:.*]] = arith.xori %[[LO]], %[[C8:.*]] : i32
// CHECK: %[[L2:.*]] = arith.addi %[[L1]], %[[C78:.*]] : i32
// CHECK: %[[B0:.*]] = arith.xori %[[L2]], %[[C80:.*]] : i32
// CHECK: %[[H1:.*]] = arith.xori %[[HI]], %[[C8]] : i32
// CHECK: %[[H2:.*]] = arith.addi %[[H1]], %[[C78]] : i32
// CHECK: %[[B1:.*]] = arith.xori %[[H2]], %[[C80]] : i32
// CHECK: nvvm.mma.sync A[{{.*}}] B[%[[B0]], %[[B1]]] C[{{.*}}] {{.*}}multiplicandAPtxType = #nvvm.mma_type<s8>, multiplicandBPtxType = #nvvm.mma_type<s8>, shape = #nvvm.shape<m = 16, n = 8, k = 32>}
// CHECK-COUNT-15: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: scf.if
// CHECK: memref.load %[[CORR]]
// CHECK: vector.store %{{.*}}, %[[Y]]
// CHECK-NOT: linalg.
// CHECK: return
memref.global "private" constant @packed : memref<72x256xi8> = dense<17>
func.func @w4(%a: memref<1x512xi8>, %corr: memref<72xi32>, %y: memref<1x72xi32>) {
  %c0 = arith.constant 0 : i32
  %p = memref.get_global @packed : memref<72x256xi8>
  %w = memref.alloc() : memref<72x512xi8>
  linalg.generic {indexing_maps = [#pk, #id], iterator_types = ["parallel", "parallel"]} ins(%p : memref<72x256xi8>) outs(%w : memref<72x512xi8>) attrs = {qc.w4_unpack} {
  ^bb0(%in: i8, %out: i8):
    linalg.yield %in : i8
  }
  %c = memref.alloc() : memref<1x72xi32>
  linalg.fill ins(%c0 : i32) outs(%c : memref<1x72xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %w : memref<1x512xi8>, memref<72x512xi8>) outs(%c : memref<1x72xi32>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %corr : memref<1x72xi32>, memref<72xi32>) outs(%y : memref<1x72xi32>) {
  ^bb0(%v: i32, %k: i32, %o: i32):
    %s = arith.addi %v, %k : i32
    linalg.yield %s : i32
  }
  return
}

// -----

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>
#pk = affine_map<(d0, d1) -> (d0, (d1 floordiv 32) * 16 + d1 mod 16)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// W4 with the 128x128 tile (M = 200): 32 packed bytes a row (2 chunks),
// one ldmatrix x4 of packed B per 4 n8 tiles. B read elsewhere too: the
// unpacked operand is kept (an int8 kernel).
// CHECK-LABEL: func.func @w4_large(
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%{{.*}} : memref<3x128x64xi8, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<3x128x32xi8, #gpu.address_space<workgroup>>)
// CHECK: nvgpu.ldmatrix %[[SB]][{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<3x128x32xi8, #gpu.address_space<workgroup>> -> vector<4x4xi8>
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK-LABEL: func.func @w4_shared(
// CHECK: linalg.generic {{.*}} attrs = {qc.w4_unpack}
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%{{.*}} : memref<4x16x256xi8, #gpu.address_space<workgroup>>, %{{.*}} : memref<4x32x256xi8, #gpu.address_space<workgroup>>)
memref.global "private" constant @packed : memref<72x128xi8> = dense<17>
func.func @w4_large(%a: memref<200x256xi8>, %c: memref<200x72xi32>) {
  %c0 = arith.constant 0 : i32
  %p = memref.get_global @packed : memref<72x128xi8>
  %w = memref.alloc() : memref<72x256xi8>
  linalg.generic {indexing_maps = [#pk, #id], iterator_types = ["parallel", "parallel"]} ins(%p : memref<72x128xi8>) outs(%w : memref<72x256xi8>) attrs = {qc.w4_unpack} {
  ^bb0(%in: i8, %out: i8):
    linalg.yield %in : i8
  }
  linalg.fill ins(%c0 : i32) outs(%c : memref<200x72xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %w : memref<200x256xi8>, memref<72x256xi8>) outs(%c : memref<200x72xi32>)
  return
}
func.func @w4_shared(%a: memref<1x256xi8>, %c: memref<1x72xi32>, %other: memref<72x256xi8>) {
  %c0 = arith.constant 0 : i32
  %p = memref.get_global @packed : memref<72x128xi8>
  %w = memref.alloc() : memref<72x256xi8>
  linalg.generic {indexing_maps = [#pk, #id], iterator_types = ["parallel", "parallel"]} ins(%p : memref<72x128xi8>) outs(%w : memref<72x256xi8>) attrs = {qc.w4_unpack} {
  ^bb0(%in: i8, %out: i8):
    linalg.yield %in : i8
  }
  linalg.fill ins(%c0 : i32) outs(%c : memref<1x72xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %w : memref<1x256xi8>, memref<72x256xi8>) outs(%c : memref<1x72xi32>)
  memref.copy %w, %other : memref<72x256xi8> to memref<72x256xi8>
  return
}
