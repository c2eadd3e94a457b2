// The cuda target's registered pipeline: an int8 matmul with its
// requantization lowered to outlined kernels in NVVM, then to PTX, and host
// code that allocates, launches and frees through the runtime.
// RUN: quant-opt %s --qc-compile-model-cuda="binary-format=none tensor-cores=false" | FileCheck %s --check-prefix=NVVM
// RUN: quant-opt %s --qc-compile-model-cuda="binary-format=isa chip=sm_90 tensor-cores=false" | FileCheck %s --check-prefix=PTX
// RUN: not quant-opt %s --qc-compile-model-cuda="binary-format=isa chip=sm_90 block-size=2048" 2>&1 | FileCheck %s --check-prefix=BAD

// NVVM-LABEL: llvm.func @qc_run(
// NVVM: llvm.call @mgpuStreamCreate()
// NVVM: llvm.call @mgpuMemAlloc(
// NVVM: gpu.launch_func <%{{.*}} : !llvm.ptr> @k{{[0-9]+}}{{.*}} blocks in
// NVVM: llvm.call @mgpuMemFree(
// NVVM: llvm.call @mgpuStreamSynchronize(
// NVVM: gpu.module @k{{[0-9]+}}{{.*}} [#nvvm.target<O = 3, chip = "sm_90", features = "+ptx84">]
// NVVM: llvm.func @k{{[0-9]+}}(
// NVVM-SAME: nvvm.kernel
// NVVM: nvvm.read.ptx.sreg.ctaid.x
// NVVM: nvvm.read.ptx.sreg.tid.x
// The int8 products accumulate in i32; the requantization multiplies in
// i64 and shifts (dyadic), no float.
// NVVM: llvm.sext %{{.*}} : i8 to i32
// NVVM: llvm.mul %{{.*}} : i32
// NVVM: llvm.add %{{.*}} : i32

// PTX: gpu.binary @k{{[0-9]+}}
// PTX-SAME: .target sm_90
// PTX-SAME: .visible .entry k{{[0-9]+}}(
// PTX-SAME: mov.u32 {{.*}}%tid.x

// BAD: block-size 2048 is not in [1, 1024]

func.func @main_graph(%a: tensor<4x64xi8>) -> tensor<4x32xi8> {
  %b = arith.constant dense<3> : tensor<64x32xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<4x64xi8>, tensor<64x32xi8>) -> tensor<4x32xi32>
  %r = qc.requantize %c multiplier [1518500250] shift [38] zp (0 -> 0) clamp (-128, 127) : tensor<4x32xi32> -> tensor<4x32xi8>
  return %r : tensor<4x32xi8>
}
