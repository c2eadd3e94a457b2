// RUN: quant-opt %s --qc-lower-to-integer | FileCheck %s --check-prefix=IR
// RUN: quant-opt %s --qc-lower-to-integer | quant-opt %lower_to_llvm | %mlir_runner | FileCheck %s
//
// The product of two quantized tensors in integers (lower-quantized-to-integer's
// MulToInteger): a squeeze-excitation gate x * HardSigmoid(g), and a plain
// x * g, the second factor broadcast over rows as in a network. Expected
// values: numpy's round-half-even of the float64 product over the output
// scale, plus the zero point, clamped (inputs chosen away from rounding
// ties), computed when this file was written.

// IR-LABEL: func.func @gate
// IR-NOT: qc.dequantize
// IR: qc.table
// IR: qc.mul {{.*}}xi32
// IR: qc.requantize {{.*}} multiplier [1073741824]
// IR-LABEL: func.func @plain
// IR-NOT: qc.dequantize
// IR: qc.mul {{.*}}xi32
// IR-LABEL: func.func @main

!x = !quant.uniform<u8:f32, 0.05:120>
!g = !quant.uniform<u8:f32, 0.1:128>
!y = !quant.uniform<u8:f32, 0.04:110>
!y2 = !quant.uniform<u8:f32, 0.02:100>

func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}

func.func @print(%t: tensor<2x8xui8>) {
  %w = qc.cast %t : tensor<2x8xui8> -> tensor<2x8xi32>
  %m = bufferization.to_buffer %w : tensor<2x8xi32> to memref<2x8xi32>
  %u = memref.cast %m : memref<2x8xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @gate(%x: tensor<2x8xui8>, %g: tensor<1x8xui8>) -> tensor<2x8xui8> {
  %a = qc.storage_cast %x : tensor<2x8xui8> -> tensor<2x8x!x>
  %b = qc.storage_cast %g : tensor<1x8xui8> -> tensor<1x8x!g>
  %da = qc.dequantize %a : tensor<2x8x!x> -> tensor<2x8xf32>
  %db = qc.dequantize %b : tensor<1x8x!g> -> tensor<1x8xf32>
  %h = qc.hardsigmoid %db {alpha = 0.2 : f32, beta = 0.5 : f32} : (tensor<1x8xf32>) -> tensor<1x8xf32>
  %m = qc.mul %da, %h : (tensor<2x8xf32>, tensor<1x8xf32>) -> tensor<2x8xf32>
  %q = qc.quantize %m : tensor<2x8xf32> -> tensor<2x8x!y>
  %r = qc.storage_cast %q : tensor<2x8x!y> -> tensor<2x8xui8>
  return %r : tensor<2x8xui8>
}

func.func @plain(%x: tensor<2x8xui8>, %g: tensor<1x8xui8>) -> tensor<2x8xui8> {
  %a = qc.storage_cast %x : tensor<2x8xui8> -> tensor<2x8x!x>
  %b = qc.storage_cast %g : tensor<1x8xui8> -> tensor<1x8x!g>
  %da = qc.dequantize %a : tensor<2x8x!x> -> tensor<2x8xf32>
  %db = qc.dequantize %b : tensor<1x8x!g> -> tensor<1x8xf32>
  %m = qc.mul %da, %db : (tensor<2x8xf32>, tensor<1x8xf32>) -> tensor<2x8xf32>
  %q = qc.quantize %m : tensor<2x8xf32> -> tensor<2x8x!y2>
  %r = qc.storage_cast %q : tensor<2x8x!y2> -> tensor<2x8xui8>
  return %r : tensor<2x8xui8>
}

func.func @main() {
  %x = arith.constant dense<[[0, 37, 91, 120, 134, 171, 201, 255], [0, 37, 91, 120, 134, 171, 201, 255]]> : tensor<2x8xui8>
  %g = arith.constant dense<[[60, 128, 133, 140, 150, 160, 200, 255]]> : tensor<1x8xui8>
  %y = call @gate(%x, %g) : (tensor<2x8xui8>, tensor<1x8xui8>) -> tensor<2x8xui8>
  // CHECK: {{\[}}{{\[}}110,   58,   88,   110,   126,   174,   211,   255],
  // CHECK-NEXT: {{\[}}110,   58,   88,   110,   126,   174,   211,   255]]
  call @print(%y) : (tensor<2x8xui8>) -> ()
  %y2 = call @plain(%x, %g) : (tensor<2x8xui8>, tensor<1x8xui8>) -> tensor<2x8xui8>
  // CHECK: {{\[}}{{\[}}255,   100,   64,   100,   177,   255,   255,   255],
  // CHECK-NEXT: {{\[}}255,   100,   64,   100,   177,   255,   255,   255]]
  call @print(%y2) : (tensor<2x8xui8>) -> ()
  return
}
