// The CPU target's registered pipelines, with typed options.
// RUN: quant-opt %s --qc-lower-to-llvm="int8-kernels=generic" | FileCheck %s
// RUN: quant-opt %s --qc-lower-to-llvm | FileCheck %s --check-prefix=NONE
// RUN: quant-opt %s --qc-lower-to-llvm="int8-kernels=vnni threads=2" | FileCheck %s --check-prefix=THREADS
// RUN: not quant-opt %s --qc-lower-to-llvm="int8-kernels=avx9" 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK: llvm.func @qc_k_matmul_i8_generic(
// CHECK-LABEL: llvm.func @matmul
// CHECK: llvm.call @qc_k_matmul_i8_generic(
// NONE-LABEL: llvm.func @matmul
// NONE-NOT: qc_k_
// A product this small runs on the calling thread (no fork and join).
// THREADS-LABEL: llvm.func @matmul
// THREADS-NOT: omp.parallel
// THREADS: llvm.call @qc_k_matmul_i8_vnni(
// THREADS-LABEL: llvm.func @large_matmul
// THREADS: omp.parallel
// THREADS: llvm.call @qc_k_matmul_i8_vnni(
// BAD: for the --int8-kernels option: Cannot find option named 'avx9'!
func.func @matmul(%a: tensor<4x7xi8>) -> tensor<4x5xi32> {
  %b = arith.constant dense<3> : tensor<7x5xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<4x7xi8>, tensor<7x5xi8>) -> tensor<4x5xi32>
  return %c : tensor<4x5xi32>
}

// CHECK-LABEL: llvm.func @large_matmul
func.func @large_matmul(%a: tensor<64x128xi8>) -> tensor<64x64xi32> {
  %b = arith.constant dense<3> : tensor<128x64xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<64x128xi8>, tensor<128x64xi8>) -> tensor<64x64xi32>
  return %c : tensor<64x64xi32>
}
