// The cuda pipeline on a W4 matmul (weights in [-8, 7], M = 4): the packed
// weights ([64, 128] i8 for K = 256, N = 64) are the only weight data;
// one kernel (no unpacking kernel) of the 16x32 tiling: 5-stage rings of
// 16x256 bytes of A and 32x128 packed bytes of B, ldmatrix x2 of packed B,
// nibbles expanded in registers, mma.sync m16n8k32 s8.
// RUN: quant-opt %s --qc-compile-model-cuda="binary-format=none" | FileCheck %s --check-prefix=NVVM
// RUN: quant-opt %s --qc-compile-model-cuda="binary-format=isa chip=sm_90" | FileCheck %s --check-prefix=PTX
// RUN: quant-opt %s --qc-compile-model-cuda="binary-format=none w4=false" | FileCheck %s --check-prefix=I8

// NVVM-LABEL: llvm.func @qc_run(
// NVVM: gpu.launch_func <%{{.*}} : !llvm.ptr> @k{{[0-9]+}}{{.*}} blocks in
// NVVM-NOT: gpu.launch_func
// NVVM: gpu.module @k{{[0-9]+}}
// NVVM: llvm.mlir.global internal @__wg_k{{[0-9]+}}_0() {addr_space = 3 : i32} : !llvm.array<20480 x i8>
// NVVM: llvm.mlir.global internal @__wg_k{{[0-9]+}}_1() {addr_space = 3 : i32} : !llvm.array<20480 x i8>
// NVVM: llvm.func @k{{[0-9]+}}(
// NVVM: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 2 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// NVVM: llvm.and %{{.*}} : i32
// NVVM: llvm.xor
// NVVM: llvm.add
// NVVM: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<s8>, multiplicandBPtxType = #nvvm.mma_type<s8>, shape = #nvvm.shape<m = 16, n = 8, k = 32>}
// NVVM: qc_gemm_weights_w4

// PTX: gpu.binary @k{{[0-9]+}}
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x2.shared.b16
// PTX-SAME: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32

// Without W4: the i8 weights and the int8 16x32 tiling (4 stages of
// 16x256 and 32x256 bytes).
// I8: llvm.mlir.global internal @__wg_k{{[0-9]+}}_0() {addr_space = 3 : i32} : !llvm.array<16384 x i8>
// I8: llvm.mlir.global internal @__wg_k{{[0-9]+}}_1() {addr_space = 3 : i32} : !llvm.array<32768 x i8>
// I8-NOT: qc_gemm_weights_w4

func.func @main_graph(%a: tensor<4x256xi8>) -> tensor<4x64xi32> {
  %b = arith.constant dense<-3> : tensor<256x64xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<4x256xi8>, tensor<256x64xi8>) -> tensor<4x64xi32>
  return %c : tensor<4x64xi32>
}
