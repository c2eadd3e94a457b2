// The loop kernels' index arithmetic: the trip counts of a launch are
// constants (folded when the launch is made), so the delinearization of
// the thread id divides by constants (multiplies by reciprocals), and
// integer range analysis narrows it to 32 bits: no 64-bit division, and
// no trip count passed as a kernel parameter. A convolution's im2col
// gather, its GEMM (mma.sync: M = 16 output channels), the NCHW reshape
// with the bias, the requantization.
// RUN: quant-opt %s --qc-compile-model-cuda="binary-format=isa chip=sm_90" | FileCheck %s

// CHECK: gpu.binary @k0
// CHECK-SAME: mul.hi.u32
// CHECK-NOT: div.u64
// CHECK-NOT: rem.u64
// CHECK-NOT: div.s64
// CHECK-NOT: rem.s64
func.func @main_graph(%x: tensor<2x16x56x56xui8>) -> tensor<2x16x56x56xi8> {
  %w = arith.constant dense<2> : tensor<16x16x3x3xi8>
  %b = arith.constant dense<7> : tensor<16xi32>
  %c = qc.conv_int %x, %w bias %b zp (128, [0]) strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<2x16x56x56xui8>, tensor<16x16x3x3xi8>, tensor<16xi32>) -> tensor<2x16x56x56xi32>
  %r = qc.requantize %c multiplier [1518500250] shift [38] zp (0 -> 0) clamp (-128, 127) : tensor<2x16x56x56xi32> -> tensor<2x16x56x56xi8>
  return %r : tensor<2x16x56x56xi8>
}
