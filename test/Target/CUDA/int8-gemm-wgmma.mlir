// qc-cuda-int8-gemm-to-mma{wgmma} (sm_90a): GEMMs with M > 64 on the
// warpgroup instructions. Tiles chosen to fill 132 SMs twice: 8192 x 4096 takes
// 128x256 tiles (2048 blocks of two warpgroups); 200 x 72 the smallest,
// 64x64 (one warpgroup). Both operands go through a 4-stage ring in dynamic
// shared memory aligned to 1024 bytes, read by wgmma through 128-byte
// swizzle descriptors; M <= 64 keeps the mma.sync kernel.
// RUN: quant-opt %s --split-input-file --qc-cuda-int8-gemm-to-mma=wgmma=true --cse | FileCheck %s
// RUN: quant-opt %s --split-input-file --qc-cuda-int8-gemm-to-mma --cse | FileCheck %s --check-prefix=SYNC

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>

// 4096 / 256 x 8192 / 128 blocks of 256 threads; 4 x (128 + 256) x 128
// bytes of ring + 1024 for the alignment.
// CHECK-LABEL: func.func @big(
// CHECK-SAME: %[[A:[^:]*]]: memref<8192x256xi8>, %[[B:[^:]*]]: memref<4096x256xi8>, %[[C:[^:]*]]: memref<8192x4096xi32>
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 197632 : i32
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C16]], {{.*}} = %[[C64]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C256]], {{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK: %[[DYN:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: %[[ADDR:.*]] = memref.extract_aligned_pointer_as_index %[[DYN]]
// CHECK: %[[SA:.*]] = memref.view %[[DYN]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4x128x128xi8, #gpu.address_space<workgroup>>
// CHECK: %[[SB:.*]] = memref.view %[[DYN]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4x256x128xi8, #gpu.address_space<workgroup>>
// The descriptors' fixed bits: LBO 1, SBO 1024 >> 4 = 64, 128-byte swizzle.
// CHECK: arith.constant 4611686293305360384 : i64
// Prologue: two tiles in flight, 4 + 8 chunks a thread each.
// CHECK-COUNT-4: nvgpu.device_async_copy %[[A]][{{.*}}], %[[SA]][{{.*}}], 16, %{{.*}} {bypassL1}
// CHECK-COUNT-8: nvgpu.device_async_copy %[[B]][{{.*}}], %[[SB]][{{.*}}], 16, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_create_group
// CHECK: %[[G:.*]] = nvgpu.device_async_create_group
// CHECK: %[[ZERO:.*]] = llvm.mlir.zero : !llvm.struct<(i32,
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]])
// CHECK: nvgpu.device_async_wait %[[G]] {numGroups = 1 : i32}
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.device_async_create_group
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: %[[W0:.*]] = nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %[[ACC]], <m = 64, n = 256, k = 32>, D[<s32>, <one>, <wrapped>], A[<s8>, <one>, <row>], B[<s8>, <one>, <col>]
// CHECK-COUNT-3: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK-NEXT: scf.yield
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// 128 accumulators a thread, stored in range two columns at a time.
// CHECK-COUNT-128: llvm.extractvalue
// CHECK: scf.if
// CHECK: vector.store %{{.*}}, %[[C]][{{.*}}] {alignment = 8 : i64} : memref<8192x4096xi32>, vector<2xi32>
// SYNC-LABEL: func.func @big(
// SYNC-NOT: wgmma
// SYNC: nvvm.mma.sync
func.func @big(%a: memref<8192x256xi8>, %b: memref<4096x256xi8>, %c: memref<8192x4096xi32>) {
  %c0 = arith.constant 0 : i32
  linalg.fill ins(%c0 : i32) outs(%c : memref<8192x4096xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<8192x256xi8>, memref<4096x256xi8>) outs(%c : memref<8192x4096xi32>)
  return
}

// -----

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>

// 200 x 72: 2 x 4 blocks of 128 threads, m64n64 wgmma; 4 x 128 x 128 +
// 1024 bytes.
// CHECK-LABEL: func.func @small(
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 66560 : i32
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C2]], {{.*}} = %[[C4]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C128]], {{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK: memref<4x64x128xi8, #gpu.address_space<workgroup>>
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 32>
func.func @small(%a: memref<200x1008xi8>, %b: memref<72x1008xi8>, %c: memref<200x72xi32>) {
  %c0 = arith.constant 0 : i32
  linalg.fill ins(%c0 : i32) outs(%c : memref<200x72xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<200x1008xi8>, memref<72x1008xi8>) outs(%c : memref<200x72xi32>)
  return
}

// -----

#mA = affine_map<(d0, d1, d2) -> (d0, d2)>
#mB = affine_map<(d0, d1, d2) -> (d1, d2)>
#mC = affine_map<(d0, d1, d2) -> (d0, d1)>

// M = 64: the mma.sync 64x32 tile, as without the option.
// CHECK-LABEL: func.func @m64(
// CHECK-NOT: wgmma
// CHECK: nvvm.mma.sync
func.func @m64(%a: memref<64x256xi8>, %b: memref<72x256xi8>, %c: memref<64x72xi32>) {
  %c0 = arith.constant 0 : i32
  linalg.fill ins(%c0 : i32) outs(%c : memref<64x72xi32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%a, %b : memref<64x256xi8>, memref<72x256xi8>) outs(%c : memref<64x72xi32>)
  return
}
