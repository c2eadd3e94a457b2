// RUN: quant-opt %s -split-input-file -check-integer-only -verify-diagnostics | FileCheck %s

// quantize -> conv -> requant -> matmul -> requant -> dequantize: integer only.
// CHECK-LABEL: func @integer_chain
func.func @integer_chain(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xi8>, %m: tensor<6x2xi8>) -> tensor<1x4x6x2xf32> {
  %q = qc.quantize %x : tensor<1x3x8x8xf32> -> tensor<1x3x8x8x!quant.uniform<u8:f32, 0.05:128>>
  %s = qc.storage_cast %q : tensor<1x3x8x8x!quant.uniform<u8:f32, 0.05:128>> -> tensor<1x3x8x8xui8>
  %acc = qc.conv_int %s, %w zp (128, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xui8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  %r = qc.requantize %acc multiplier [1374389535] shift [37] zp (0 -> 0) clamp (0, 127) : tensor<1x4x6x6xi32> -> tensor<1x4x6x6xi8>
  %acc2 = qc.matmul_int %r, %m zp (0, [0]) : (tensor<1x4x6x6xi8>, tensor<6x2xi8>) -> tensor<1x4x6x2xi32>
  %r2 = qc.requantize %acc2 multiplier [1374389535] shift [37] zp (0 -> 0) clamp (-128, 127) : tensor<1x4x6x2xi32> -> tensor<1x4x6x2xi8>
  %o = qc.storage_cast %r2 : tensor<1x4x6x2xi8> -> tensor<1x4x6x2x!quant.uniform<i8:f32, 0.1>>
  %d = qc.dequantize %o : tensor<1x4x6x2x!quant.uniform<i8:f32, 0.1>> -> tensor<1x4x6x2xf32>
  return %d : tensor<1x4x6x2xf32>
}

// -----

// A float rescale between the integer ops breaks the chain.
func.func @float_rescale(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.05>>
  %s = qc.storage_cast %q : tensor<4x!quant.uniform<i8:f32, 0.05>> -> tensor<4xi8>
  // expected-error @+1 {{floating-point value of type 'tensor<4xf32>' inside the integer-only region}}
  %f = arith.sitofp %s : tensor<4xi8> to tensor<4xf32>
  %c = arith.constant dense<0.5> : tensor<4xf32>
  // expected-error @+1 {{floating-point value of type 'tensor<4xf32>' inside the integer-only region}}
  %m = arith.mulf %f, %c : tensor<4xf32>
  // expected-error @+1 {{floating-point value of type 'tensor<4xf32>' inside the integer-only region}}
  %i = arith.fptosi %m : tensor<4xf32> to tensor<4xi8>
  %o = qc.storage_cast %i : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %d = qc.dequantize %o : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// Float ops nested in a region count: a linalg.generic whose body rescales in f32.
func.func @float_in_region(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.05>>
  %s = qc.storage_cast %q : tensor<4x!quant.uniform<i8:f32, 0.05>> -> tensor<4xi8>
  %e = tensor.empty() : tensor<4xi8>
  // expected-error @+1 {{floating-point value of type 'f32' inside the integer-only region}}
  %g = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%s : tensor<4xi8>) outs(%e : tensor<4xi8>) {
  ^bb0(%in: i8, %out: i8):
    %f = arith.sitofp %in : i8 to f32
    %h = arith.fptosi %f : f32 to i8
    linalg.yield %h : i8
  } -> tensor<4xi8>
  %o = qc.storage_cast %g : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %d = qc.dequantize %o : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// Float work before the first quantize and after the last dequantize is fine.
// CHECK-LABEL: func @float_outside
func.func @float_outside(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = arith.addf %x, %x : tensor<4xf32>
  %q = qc.quantize %a : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.05>>
  %d = qc.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.05>> -> tensor<4xf32>
  %b = arith.mulf %d, %d : tensor<4xf32>
  return %b : tensor<4xf32>
}
