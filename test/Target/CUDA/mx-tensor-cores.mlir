// qc.matmul_mx of MXFP4 weights on the int8 tensor cores:
// qc-cuda-form-int8-gemm makes the packed codes a qc.mx_unpack generic (2x
// the E2M1 values; what any other lowering runs), the product a qc.mx_gemm
// generic (i64 sums of (a * w) << the block's shift, shifts [K/32, N]) and
// the zero point and bias one i64 correction; qc-cuda-int8-gemm-to-mma runs
// it as mma.sync m16n8k32 s8 per block of 32 with the codes decoded by prmt
// in registers and the int32 sums times 2^shift added to f64 accumulators
// where the shifts keep every sum below 2^53, else shifted into i64 ones
// (never wgmma); FP6 E2M3 likewise with a second plane of bits. Bit-exactness against
// the CPU build: bench/gpu/make-gemm.py --variants mx on a GPU
// (docs/gpu-results).
// REQUIRES: ptxas
// RUN: quant-opt %s --split-input-file --qc-cuda-form-int8-gemm | FileCheck %s --check-prefix=FORM
// RUN: quant-opt %s --split-input-file --qc-compile-model-cuda="binary-format=isa chip=sm_90a" | FileCheck %s --check-prefix=PTX
// RUN: quant-opt %s --split-input-file --qc-compile-model-cuda="binary-format=bin chip=sm_90" | FileCheck %s --check-prefix=BIN

// FORM-LABEL: func.func @main_graph(
// FORM: %[[S:.*]] = arith.constant dense_resource<qc_gemm_shifts_mx> : tensor<2x48xi8>
// FORM: arith.constant dense_resource<qc_gemm_weights_mx> : tensor<48x32xi8>
// FORM: %[[W:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<48x32xi8>) outs(%{{.*}} : tensor<48x64xi8>) attrs = {qc.mx_unpack}
// FORM: tensor.extract
// FORM: %[[C:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[W]], %[[S]] : tensor<5x64xi8>, tensor<48x64xi8>, tensor<2x48xi8>) outs(%{{.*}} : tensor<5x48xi64>) attrs = {qc.mx_gemm}
// FORM: arith.shli
// FORM: linalg.generic {{.*}} ins(%[[C]], %{{.*}} : tensor<5x48xi64>, tensor<48xi64>)
// PTX: prmt.b32
// PTX: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
// PTX: cvt.rn.f64.s32
// PTX-NOT: wgmma
// BIN: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<5x64xui8>) -> tensor<5x48xi64> {
  %c = arith.constant dense<37> : tensor<1536xi8>
  %shifts = arith.constant dense<[[0, 3], [1, -1], [2, 2], [0, 0], [0, 1], [5, 0], [0, 0], [1, 1],
                                  [0, 3], [1, -1], [2, 2], [0, 0], [0, 1], [5, 0], [0, 0], [1, 1],
                                  [0, 3], [1, -1], [2, 2], [0, 0], [0, 1], [5, 0], [0, 0], [1, 1],
                                  [0, 3], [1, -1], [2, 2], [0, 0], [0, 1], [5, 0], [0, 0], [1, 1],
                                  [0, 3], [1, -1], [2, 2], [0, 0], [0, 1], [5, 0], [0, 0], [1, 1],
                                  [0, 3], [1, -1], [2, 2], [0, 0], [0, 1], [5, 0], [0, 0], [1, 1]]> : tensor<48x2xi8>
  %bias = arith.constant dense<1000> : tensor<48xi64>
  %acc = qc.matmul_mx %a, %c, %shifts bias %bias zp 3 {format = #qc<format fp4_e2m1>, block = 32 : i64}
      : (tensor<5x64xui8>, tensor<1536xi8>, tensor<48x2xi8>, tensor<48xi64>) -> tensor<5x48xi64>
  return %acc : tensor<5x48xi64>
}

// -----

// M > 64: still mma.sync (64-row tiles), not wgmma.
// FORM-LABEL: func.func @main_graph(
// FORM: qc.mx_gemm
// PTX: prmt.b32
// PTX: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
// PTX-NOT: wgmma
// BIN: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<300x64xi8>) -> tensor<300x48xi64> {
  %c = arith.constant dense<37> : tensor<1536xi8>
  %shifts = arith.constant dense<2> : tensor<48x2xi8>
  %acc = qc.matmul_mx %a, %c, %shifts zp 0 {format = #qc<format fp4_e2m1>, block = 32 : i64}
      : (tensor<300x64xi8>, tensor<1536xi8>, tensor<48x2xi8>) -> tensor<300x48xi64>
  return %acc : tensor<300x48xi64>
}

// -----

// FP6 E2M3: the low 4 bits of each code a W4-layout nibble plane [N, K/2],
// e1 and the sign a top plane [N, K/4] (qc.mx6_unpack, 8x the E2M3 values);
// on the tensor cores each lane reads 16 bits of the top plane's own ring
// (ld.shared.b16) per block and decodes by SWAR ops and prmt. M = 20: the
// 32-row tiles, whose top-plane tile has fewer 16-byte chunks (64) than
// threads (128).
// FORM-LABEL: func.func @main_graph(
// FORM-DAG: arith.constant dense_resource<qc_gemm_weights_mx> : tensor<48x32xi8>
// FORM-DAG: arith.constant dense_resource<qc_gemm_weights_mx_top> : tensor<48x16xi8>
// FORM: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<48x32xi8>, tensor<48x16xi8>) outs(%{{.*}} : tensor<48x64xi8>) attrs = {qc.mx6_unpack}
// FORM: qc.mx_gemm
// PTX: ld.shared.b16
// PTX: prmt.b32
// PTX: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
// PTX: cvt.rn.f64.s32
// PTX-NOT: wgmma
// BIN: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<20x64xi8>) -> tensor<20x48xi64> {
  %c = arith.constant dense<37> : tensor<2304xi8>
  %shifts = arith.constant dense<2> : tensor<48x2xi8>
  %acc = qc.matmul_mx %a, %c, %shifts zp 0 {format = #qc<format fp6_e2m3>, block = 32 : i64}
      : (tensor<20x64xi8>, tensor<2304xi8>, tensor<48x2xi8>) -> tensor<20x48xi64>
  return %acc : tensor<20x48xi64>
}

// -----

// Shifts of 60: sums beyond f64's exact integers, so i64 accumulators.
// PTX: prmt.b32
// PTX: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
// PTX: cvt.s64.s32
// PTX: shl.b64
// BIN: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<5x64xi8>) -> tensor<5x48xi64> {
  %c = arith.constant dense<37> : tensor<1536xi8>
  %shifts = arith.constant dense<60> : tensor<48x2xi8>
  %acc = qc.matmul_mx %a, %c, %shifts zp 0 {format = #qc<format fp4_e2m1>, block = 32 : i64}
      : (tensor<5x64xi8>, tensor<1536xi8>, tensor<48x2xi8>) -> tensor<5x48xi64>
  return %acc : tensor<5x48xi64>
}
