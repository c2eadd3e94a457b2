// qc-map-to-gpu: the bufferized host function's loops become launches, its
// buffers device buffers, its weights uploaded device copies.
// RUN: quant-opt %s --qc-map-to-gpu="block-size=128" --split-input-file --verify-diagnostics | FileCheck %s

memref.global "private" constant @w : memref<4x8xi8> = dense<1>

// CHECK: llvm.func @qcCudaConstant(!llvm.ptr, i64) -> !llvm.ptr
// CHECK-LABEL: func.func @parallel
func.func @parallel(%out: memref<4x8xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  // The weight: its host address, 32 bytes, uploaded once by the runtime.
  // CHECK: %[[G:.*]] = memref.get_global @w
  // CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[G]]
  // CHECK: %[[BYTES:.*]] = llvm.mlir.constant(32 : i64)
  // CHECK: llvm.call @qcCudaConstant(%{{.*}}, %[[BYTES]])
  %w = memref.get_global @w : memref<4x8xi8>
  // CHECK: %[[T:.*]] = gpu.alloc () : memref<4x8xi32>
  %tmp = memref.alloc() : memref<4x8xi32>
  // 4 x (8 / 2) iterations: one 128-thread block, guarded, delinearized
  // with the last dimension fastest.
  // CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in
  // CHECK: %[[LIN:.*]] = arith.addi %{{.*}}, %[[TX]]
  // CHECK: %[[IN:.*]] = arith.cmpi ult, %[[LIN]], %{{.*}}
  // CHECK: scf.if %[[IN]]
  // CHECK: arith.remui %[[LIN]]
  // CHECK: arith.divui %[[LIN]]
  // CHECK: memref.load
  // CHECK: memref.store
  // CHECK: gpu.terminator
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c2) {
    %v = memref.load %w[%i, %j] : memref<4x8xi8>
    %e = arith.extsi %v : i8 to i32
    memref.store %e, %tmp[%i, %j] : memref<4x8xi32>
    scf.reduce
  }
  // A contiguous copy: a device-to-device gpu.memcpy.
  // CHECK: gpu.memcpy %{{.*}}, %[[T]] : memref<4x8xi32>, memref<4x8xi32>
  memref.copy %tmp, %out : memref<4x8xi32> to memref<4x8xi32>
  // CHECK: gpu.dealloc %[[T]] : memref<4x8xi32>
  memref.dealloc %tmp : memref<4x8xi32>
  return
}

// -----

// A full reduction and the scalar arithmetic after it: one single-thread
// launch. The sum the loop kept in memory is carried in a register (loaded
// before the loop, stored after).
// CHECK-LABEL: func.func @reduction
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[ONE:[a-z0-9_]+]], {{.*}} threads({{.*}}) in (%{{.*}} = %[[ONE]],
// CHECK: %[[INIT:.*]] = memref.load %{{.*}}[] : memref<f32>
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32)
// CHECK-NOT: memref.store
// CHECK: scf.yield
// CHECK: memref.store %[[SUM]], %{{.*}}[] : memref<f32>
// CHECK: memref.load
// CHECK: math.exp
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @reduction(%in: memref<16xf32>, %out: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %in[%i] : memref<16xf32>
    %s = memref.load %out[] : memref<f32>
    %t = arith.addf %a, %s : f32
    memref.store %t, %out[] : memref<f32>
  }
  %r = memref.load %out[] : memref<f32>
  %e = math.exp %r : f32
  memref.store %e, %out[] : memref<f32>
  return
}

// -----

// Row reductions (a LayerNorm's sums): few rows, long rows. A warp per row:
// 4 rows x 32 lanes in one block of 128; lane l sums elements l, l + 32,
// ... from 0.0, the warp combines by xor shuffles (16, 8, 4, 2, 1), and the
// row's initial value is added last. Rows of 16 elements keep a thread each.
// CHECK-LABEL: func.func @row_sums
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1{{.*}}, {{.*}} threads({{.*}}) in (%{{.*}} = %c128{{.*}},
// CHECK: %[[LIN:.*]] = arith.addi
// CHECK: %[[ROW:.*]] = arith.divui %[[LIN]], %[[C32:.*]] : index
// CHECK: %[[LANE:.*]] = arith.remui %[[LIN]], %[[C32]] : index
// CHECK: arith.cmpi ult, %[[ROW]], %{{.*}} : index
// CHECK: %[[INIT:.*]] = memref.load %{{.*}}[%[[ROW]]] : memref<4xf32>
// CHECK: %[[LB:.*]] = arith.muli %[[LANE]], %{{.*}} : index
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[ZERO]]) -> (f32)
// CHECK: %[[S16:.*]], %{{.*}} = gpu.shuffle  xor %[[SUM]], %{{.*}}, %{{.*}} : f32
// CHECK: %[[A16:.*]] = arith.addf %[[SUM]], %[[S16]] : f32
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK: %[[ALL:.*]] = arith.addf %[[INIT]], %{{.*}} : f32
// CHECK: memref.store %[[ALL]], %{{.*}}[%[[ROW]]] : memref<4xf32>
// CHECK: gpu.launch
// CHECK-NOT: gpu.shuffle
// CHECK: return
func.func @row_sums(%in: memref<4x768xf32>, %out: memref<4xf32>, %in2: memref<4x16xf32>, %out2: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c768 = arith.constant 768 : index
  scf.parallel (%r) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c768 step %c1 {
      %a = memref.load %in[%r, %k] : memref<4x768xf32>
      %s = memref.load %out[%r] : memref<4xf32>
      %t = arith.addf %s, %a : f32
      memref.store %t, %out[%r] : memref<4xf32>
    }
    scf.reduce
  }
  scf.parallel (%r) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c16 step %c1 {
      %a = memref.load %in2[%r, %k] : memref<4x16xf32>
      %s = memref.load %out2[%r] : memref<4xf32>
      %t = arith.addf %s, %a : f32
      memref.store %t, %out2[%r] : memref<4xf32>
    }
    scf.reduce
  }
  return
}

// -----

func.func @reduce(%in: memref<16xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @below {{cannot run on the GPU: a parallel loop with reductions}}
  %r = scf.parallel (%i) = (%c0) to (%c16) step (%c1) init (%zero) -> f32 {
    %a = memref.load %in[%i] : memref<16xf32>
    scf.reduce(%a : f32) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %y : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}

// -----

func.func @host_value(%in: memref<16xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %a = memref.load %in[%c0] : memref<16xf32>
  // expected-error @below {{cannot run on the GPU: this host op uses a value computed from device memory}}
  return %a : f32
}
