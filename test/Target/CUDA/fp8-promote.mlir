// fp8-promote-steps=2: every second K step of 128 (and the last) waits for
// the wgmma group, adds the accumulators into f32 sums carried beside them
// and restarts them from zero; the sums are what is stored.
// RUN: quant-opt %s --qc-cuda-form-int8-gemm --convert-qc-to-linalg --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --qc-cuda-int8-gemm-to-mma="wgmma=true fp8-promote-steps=2" | FileCheck %s --check-prefix=PROMOTE
// PROMOTE-LABEL: func.func @promoted(
// PROMOTE: %[[Z:.*]] = llvm.mlir.zero : !llvm.struct<(f32,
// PROMOTE: scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[Z]], %[[SUM:.*]] = %[[Z]])
// PROMOTE: nvvm.wgmma.mma_async {{.*}} D[<f32>, <one>], A[<e4m3>, <one>, <row>], B[<e4m3>, <one>, <col>]
// PROMOTE: nvvm.wgmma.commit.group.sync.aligned
// PROMOTE: scf.if
// PROMOTE-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// PROMOTE-COUNT-32: arith.addf
// PROMOTE: } else {
// PROMOTE-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
func.func @promoted(%a: tensor<300x512xi8>, %b: tensor<64x512xi8>) -> tensor<300x64xf32> {
  %c = qc.matmul_fp8 %a, %b {a_format = #qc<format fp8_e4m3>, b_format = #qc<format fp8_e4m3>} : (tensor<300x512xi8>, tensor<64x512xi8>) -> tensor<300x64xf32>
  return %c : tensor<300x64xf32>
}
