// Invalid quantized types (issue 31): each is a located error, never a
// crash. Scales are checked by upstream quant's parser, zero points against
// the storage range by qc's verifiers.
// RUN: quant-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{scale 0.000000e+00 out of expressed type range}}
func.func @scale_zero(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.0>>

// -----

// expected-error @+1 {{scale -1.000000e+00 out of expressed type range}}
func.func @scale_negative(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, -1.0>>

// -----

// expected-error @+1 {{illegal storage type size: 0}}
func.func @bits_zero(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i0:f32, 1.0>>

// -----

// expected-error @+1 {{illegal storage type size: 33}}
func.func @bits_33(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i33:f32, 1.0>>

// -----

func.func @zero_point_high(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 1.0:300>> {
  // expected-error @+1 {{zero point 300 is outside the storage range [-128, 127]}}
  %q = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 1.0:300>>
  return %q : tensor<4x!quant.uniform<i8:f32, 1.0:300>>
}

// -----

func.func @zero_point_low(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<u8:f32, 1.0:-1>> {
  // expected-error @+1 {{zero point -1 is outside the storage range [0, 255]}}
  %q = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<u8:f32, 1.0:-1>>
  return %q : tensor<4x!quant.uniform<u8:f32, 1.0:-1>>
}

// -----

// A NaN scale passes upstream's range check (comparisons with NaN are false;
// no two NaN-scaled types are equal either, so each is spelled once).
func.func @scale_nan(%x: tensor<4xf32>) {
  // expected-error @+1 {{is not a positive finite number}}
  %q = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0x7FF8000000000000>>
  return
}

// -----

func.func @scale_nan_per_axis(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{is not a positive finite number}}
  %q = qc.quantize %x : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<i8:f32:0, {1.0, 0x7FF8000000000000}>>
  return
}
