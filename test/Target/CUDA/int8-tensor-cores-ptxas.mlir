// ptxas (gpu-module-to-binary format=bin) accepts the tensor-core kernels
// for sm_90: a W4 matmul (weights 3 - 0 fit in 4 bits; M = 37: the 64x32
// tile), a convolution (M = 8 output channels: the 16x32 tile), int8 and
// W4 matmuls of every tiling (M = 1, 24, 64, 300; the 16x32 int8 one uses
// all 48 KiB of static shared memory).
// REQUIRES: ptxas
// RUN: quant-opt %s --split-input-file --qc-compile-model-cuda="binary-format=bin chip=sm_90" | FileCheck %s

// CHECK: gpu.binary @k{{[0-9]+}} [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx84">, properties = {{.*}}, bin = "
func.func @main_graph(%a: tensor<37x50xi8>) -> tensor<37x70xi8> {
  %b = arith.constant dense<3> : tensor<50x70xi8>
  %c = qc.matmul_int %a, %b zp(5, [0]) : (tensor<37x50xi8>, tensor<50x70xi8>) -> tensor<37x70xi32>
  %r = qc.requantize %c multiplier [1518500250] shift [38] zp (0 -> 0) clamp (-128, 127) : tensor<37x70xi32> -> tensor<37x70xi8>
  return %r : tensor<37x70xi8>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%x: tensor<1x3x9x11xui8>) -> tensor<1x8x5x6xi32> {
  %w = arith.constant dense<2> : tensor<8x3x3x3xi8>
  %b = arith.constant dense<7> : tensor<8xi32>
  %c = qc.conv_int %x, %w bias %b zp (128, [0]) strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x3x9x11xui8>, tensor<8x3x3x3xi8>, tensor<8xi32>) -> tensor<1x8x5x6xi32>
  return %c : tensor<1x8x5x6xi32>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<1x512xi8>) -> tensor<1x96xi32> {
  %b = arith.constant dense<100> : tensor<512x96xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<1x512xi8>, tensor<512x96xi8>) -> tensor<1x96xi32>
  return %c : tensor<1x96xi32>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<1x512xi8>) -> tensor<1x96xi32> {
  %b = arith.constant dense<-5> : tensor<512x96xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<1x512xi8>, tensor<512x96xi8>) -> tensor<1x96xi32>
  return %c : tensor<1x96xi32>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<24x512xi8>) -> tensor<24x96xi32> {
  %b = arith.constant dense<100> : tensor<512x96xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<24x512xi8>, tensor<512x96xi8>) -> tensor<24x96xi32>
  return %c : tensor<24x96xi32>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<24x512xi8>) -> tensor<24x96xi32> {
  %b = arith.constant dense<-5> : tensor<512x96xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<24x512xi8>, tensor<512x96xi8>) -> tensor<24x96xi32>
  return %c : tensor<24x96xi32>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<64x512xi8>) -> tensor<64x96xi32> {
  %b = arith.constant dense<100> : tensor<512x96xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<64x512xi8>, tensor<512x96xi8>) -> tensor<64x96xi32>
  return %c : tensor<64x96xi32>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<64x512xi8>) -> tensor<64x96xi32> {
  %b = arith.constant dense<-5> : tensor<512x96xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<64x512xi8>, tensor<512x96xi8>) -> tensor<64x96xi32>
  return %c : tensor<64x96xi32>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<300x512xi8>) -> tensor<300x96xi32> {
  %b = arith.constant dense<100> : tensor<512x96xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<300x512xi8>, tensor<512x96xi8>) -> tensor<300x96xi32>
  return %c : tensor<300x96xi32>
}

// -----

// CHECK: gpu.binary @k{{[0-9]+}}{{.*}} bin = "
func.func @main_graph(%a: tensor<300x512xi8>) -> tensor<300x96xi32> {
  %b = arith.constant dense<-5> : tensor<512x96xi8>
  %c = qc.matmul_int %a, %b zp(0, [0]) : (tensor<300x512xi8>, tensor<512x96xi8>) -> tensor<300x96xi32>
  return %c : tensor<300x96xi32>
}
