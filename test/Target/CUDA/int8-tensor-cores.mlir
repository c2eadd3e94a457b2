// The cuda pipeline runs an int8 matmul with per-channel requantization on
// the tensor cores: one kernel (the requantization in its epilogue) of
// cp.async, ldmatrix and mma.sync m16n8k32 s32.s8.s8.s32 (wrapping).
// RUN: quant-opt %s --qc-compile-model-cuda="binary-format=none" | FileCheck %s --check-prefix=NVVM
// RUN: quant-opt %s --qc-compile-model-cuda="binary-format=isa chip=sm_90" | FileCheck %s --check-prefix=PTX

// The kernel writes the caller's output buffer: no temporary, no copy.
// NVVM-LABEL: llvm.func @qc_run(
// NVVM-NOT: llvm.call @mgpuMemAlloc(
// NVVM: gpu.launch_func <%{{.*}} : !llvm.ptr> @k{{[0-9]+}}{{.*}} blocks in
// NVVM-NOT: gpu.launch_func
// NVVM-NOT: llvm.call @mgpuMemcpy(
// NVVM: llvm.call @mgpuStreamSynchronize(
// NVVM: gpu.module @k{{[0-9]+}}
// NVVM: llvm.mlir.global internal @__wg_k{{[0-9]+}}_0() {addr_space = 3 : i32} : !llvm.array<24576 x i8>
// NVVM: llvm.mlir.global internal @__wg_k{{[0-9]+}}_1() {addr_space = 3 : i32} : !llvm.array<24576 x i8>
// NVVM: llvm.func @k{{[0-9]+}}(
// NVVM: nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache = cg, %{{.*}}
// NVVM: nvvm.cp.async.commit.group
// NVVM: nvvm.cp.async.wait.group 1
// NVVM: nvvm.barrier
// NVVM: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// NVVM: nvvm.mma.sync {{.*}} {intOverflowBehavior = #nvvm.mma_int_overflow<wrapped>, layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<s8>, multiplicandBPtxType = #nvvm.mma_type<s8>, shape = #nvvm.shape<m = 16, n = 8, k = 32>}
// The requantization: i64 multiply, rounding shift, clamp, i8 store.
// NVVM: llvm.sext %{{.*}} : i32 to i64
// NVVM: llvm.mul %{{.*}} : i64
// NVVM: llvm.ashr
// NVVM: llvm.trunc %{{.*}} : i{{32|64}} to i8
// NVVM: llvm.store %{{.*}} {alignment = 2 : i64} : vector<2xi8>, !llvm.ptr

// PTX: gpu.binary @k{{[0-9]+}}
// PTX-SAME: .target sm_90
// PTX-SAME: .shared .align {{[0-9]+}} .b8 __wg_k{{[0-9]+}}_0[24576]
// PTX-SAME: cp.async.cg.shared.global [%rd{{[0-9]+}}], [%rd{{[0-9]+}}], 16, %r{{[0-9]+}};
// PTX-SAME: cp.async.commit_group;
// PTX-SAME: cp.async.wait_group \091;
// PTX-SAME: bar.sync
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-SAME: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
// PTX-SAME: st.global.v2.b8

func.func @main_graph(%a: tensor<300x256xi8>) -> tensor<300x136xi8> {
  %b = arith.constant dense<30> : tensor<256x136xi8>
  %bias = arith.constant dense<-7> : tensor<136xi32>
  %c = qc.matmul_int %a, %b bias %bias zp(5, [0]) : (tensor<300x256xi8>, tensor<256x136xi8>, tensor<136xi32>) -> tensor<300x136xi32>
  %r = qc.requantize %c multiplier [1518500250, 1518500251, 1518500252, 1518500253, 1518500254, 1518500255, 1518500256, 1518500257, 1518500258, 1518500259, 1518500260, 1518500261, 1518500262, 1518500263, 1518500264, 1518500265, 1518500266, 1518500267, 1518500268, 1518500269, 1518500270, 1518500271, 1518500272, 1518500273, 1518500274, 1518500275, 1518500276, 1518500277, 1518500278, 1518500279, 1518500280, 1518500281, 1518500282, 1518500283, 1518500284, 1518500285, 1518500286, 1518500287, 1518500288, 1518500289, 1518500290, 1518500291, 1518500292, 1518500293, 1518500294, 1518500295, 1518500296, 1518500297, 1518500298, 1518500299, 1518500300, 1518500301, 1518500302, 1518500303, 1518500304, 1518500305, 1518500306, 1518500307, 1518500308, 1518500309, 1518500310, 1518500311, 1518500312, 1518500313, 1518500314, 1518500315, 1518500316, 1518500317, 1518500318, 1518500319, 1518500320, 1518500321, 1518500322, 1518500323, 1518500324, 1518500325, 1518500326, 1518500327, 1518500328, 1518500329, 1518500330, 1518500331, 1518500332, 1518500333, 1518500334, 1518500335, 1518500336, 1518500337, 1518500338, 1518500339, 1518500340, 1518500341, 1518500342, 1518500343, 1518500344, 1518500345, 1518500346, 1518500347, 1518500348, 1518500349, 1518500350, 1518500351, 1518500352, 1518500353, 1518500354, 1518500355, 1518500356, 1518500357, 1518500358, 1518500359, 1518500360, 1518500361, 1518500362, 1518500363, 1518500364, 1518500365, 1518500366, 1518500367, 1518500368, 1518500369, 1518500370, 1518500371, 1518500372, 1518500373, 1518500374, 1518500375, 1518500376, 1518500377, 1518500378, 1518500379, 1518500380, 1518500381, 1518500382, 1518500383, 1518500384, 1518500385] shift [40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40] axis 1 zp (0 -> -3) clamp (-128, 127) : tensor<300x136xi32> -> tensor<300x136xi8>
  return %r : tensor<300x136xi8>
}
