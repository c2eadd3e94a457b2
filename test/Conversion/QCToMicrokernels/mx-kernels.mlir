// qc.matmul_mx on the MX kernels: FP4 (E2M1) blocks of 32 call
// qc_k_matmul_mx_i8_*, FP6 (E2M3) blocks qc_k_matmul_mx6_i8_* (the panels
// of 16 columns x 32 k: 256 bytes of nibbles, FP6 128 bytes of top bits
// more), the variant as int8-kernels says; K not a multiple of 32 stays for
// the loops. The numerics: test/e2e/minifloat-weights.test.
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=vnni" -split-input-file | FileCheck %s --check-prefix=VNNI
// RUN: quant-opt %s -qc-lower-to-microkernels="int8-kernels=generic" -split-input-file | FileCheck %s --check-prefix=GENERIC

// VNNI-LABEL: func @fp4
// VNNI: arith.constant dense_resource<qc_kernel_mx_weights{{.*}}> : tensor<512xi8>
// VNNI: call @qc_k_matmul_mx_i8_vnni(
// VNNI-NOT: qc.matmul_mx
// GENERIC-LABEL: func @fp4
// GENERIC: call @qc_k_matmul_mx_i8_generic(
func.func @fp4(%a: tensor<3x64xui8>) -> tensor<3x16xi64> {
  %codes = arith.constant dense<23> : tensor<512xi8>
  %shifts = arith.constant dense<[[0, 3], [1, -1], [2, 2], [0, 0], [0, 1], [5, 0], [0, 0], [1, 1],
                                  [0, 3], [1, -1], [2, 2], [0, 0], [0, 1], [5, 0], [0, 0], [1, 1]]> : tensor<16x2xi8>
  %acc = qc.matmul_mx %a, %codes, %shifts zp 3 {format = #qc<format fp4_e2m1>, block = 32 : i64}
      : (tensor<3x64xui8>, tensor<512xi8>, tensor<16x2xi8>) -> tensor<3x16xi64>
  return %acc : tensor<3x16xi64>
}

// -----

// VNNI-LABEL: func @fp6
// VNNI: arith.constant dense_resource<qc_kernel_mx_weights{{.*}}> : tensor<768xi8>
// VNNI: call @qc_k_matmul_mx6_i8_vnni(
// VNNI-NOT: qc.matmul_mx
// GENERIC-LABEL: func @fp6
// GENERIC: call @qc_k_matmul_mx6_i8_generic(
func.func @fp6(%a: tensor<3x64xi8>) -> tensor<3x16xi64> {
  %codes = arith.constant dense<45> : tensor<768xi8>
  %shifts = arith.constant dense<1> : tensor<16x2xi8>
  %acc = qc.matmul_mx %a, %codes, %shifts zp 0 {format = #qc<format fp6_e2m3>, block = 32 : i64}
      : (tensor<3x64xi8>, tensor<768xi8>, tensor<16x2xi8>) -> tensor<3x16xi64>
  return %acc : tensor<3x16xi64>
}

// -----

// VNNI-LABEL: func @short_block
// VNNI-NOT: call
// VNNI: qc.matmul_mx
func.func @short_block(%a: tensor<3x48xi8>) -> tensor<3x16xi64> {
  %codes = arith.constant dense<45> : tensor<576xi8>
  %shifts = arith.constant dense<1> : tensor<16x2xi8>
  %acc = qc.matmul_mx %a, %codes, %shifts zp 0 {format = #qc<format fp6_e2m3>, block = 32 : i64}
      : (tensor<3x48xi8>, tensor<576xi8>, tensor<16x2xi8>) -> tensor<3x16xi64>
  return %acc : tensor<3x16xi64>
}
