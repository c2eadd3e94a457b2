// qc.matmul_fp8 on the tensor cores: qc-cuda-form-int8-gemm makes the
// qc.fp8_gemm generic (A's K padded with +0 codes to a multiple of 16, the
// constant B padded alike; its body the table decode, what any other
// lowering runs); qc-cuda-int8-gemm-to-mma runs it on wgmma with E4M3 /
// E5M2 operands and f32 accumulators (sm_90a, M > 64) or on the FP8
// mma.sync m16n8k32 as inline PTX (PTX 8.4); the per-channel scale is the
// fused epilogue; ptxas accepts both for sm_90a and the mma.sync form for
// sm_90.
// REQUIRES: ptxas
// RUN: quant-opt %s --split-input-file --qc-cuda-form-int8-gemm | FileCheck %s --check-prefix=FORM
// RUN: quant-opt %s --split-input-file --qc-compile-model-cuda="binary-format=isa chip=sm_90a" | FileCheck %s --check-prefix=PTX
// RUN: quant-opt %s --split-input-file --qc-compile-model-cuda="binary-format=bin chip=sm_90a" | FileCheck %s --check-prefix=BIN
// RUN: quant-opt %s --split-input-file --qc-compile-model-cuda="binary-format=bin chip=sm_90" | FileCheck %s --check-prefix=BIN

// FORM-LABEL: func.func @main_graph(
// FORM: %[[B:.*]] = arith.constant dense_resource<qc_fp8_gemm_weights> : tensor<136x208xi8>
// FORM: %[[A:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<300x208xi8>)
// FORM: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<300x136xf32>)
// FORM: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[A]], %[[B]] : tensor<300x208xi8>, tensor<136x208xi8>) outs(%[[Z]] : tensor<300x136xf32>) attrs = {qc.fp8_gemm = ["e4m3", "e5m2"]}
// FORM: tensor.extract
// FORM: tensor.extract
// FORM: arith.mulf
// FORM: arith.addf
// PTX: wgmma.mma_async.sync.aligned.m64n{{[0-9]+}}k32.f32.e4m3.e5m2
// BIN: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<300x200xi8>) -> tensor<300x136xf32> {
  %b = arith.constant dense<56> : tensor<136x200xi8>
  %s = arith.constant dense<0.5> : tensor<136xf32>
  %c = qc.matmul_fp8 %a, %b {a_format = #qc<format fp8_e4m3>, b_format = #qc<format fp8_e5m2>} : (tensor<300x200xi8>, tensor<136x200xi8>) -> tensor<300x136xf32>
  %r = qc.mul %c, %s : (tensor<300x136xf32>, tensor<136xf32>) -> tensor<300x136xf32>
  return %r : tensor<300x136xf32>
}

// -----

// B an input (not a constant) of K a multiple of 16: taken as it is.
// FORM-LABEL: func.func @main_graph(
// FORM-SAME: %[[A:.*]]: tensor<5x64xi8>, %[[B:.*]]: tensor<96x64xi8>
// FORM: ins(%[[A]], %[[B]] : tensor<5x64xi8>, tensor<96x64xi8>) {{.*}} attrs = {qc.fp8_gemm = ["e4m3", "e4m3"]}
// PTX: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32
// BIN: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<5x64xi8>, %b: tensor<96x64xi8>) -> tensor<5x96xf32> {
  %c = qc.matmul_fp8 %a, %b {a_format = #qc<format fp8_e4m3>, b_format = #qc<format fp8_e4m3>} : (tensor<5x64xi8>, tensor<96x64xi8>) -> tensor<5x96xf32>
  return %c : tensor<5x96xf32>
}

