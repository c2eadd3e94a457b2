// RUN: quant-opt %s --split-input-file --verify-diagnostics

func.func @not_power_of_two(%x: tensor<2x6xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{last dimension 6 is not 1 (the factor's size) times a power of two}}
  %y = qc.hadamard %x : tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}

// -----

func.func @bad_factor(%x: tensor<2x12xf32>, %f: tensor<3x2xf32>) -> tensor<2x12xf32> {
  // expected-error @+1 {{factor must be a static square matrix}}
  %y = qc.hadamard %x, %f : tensor<2x12xf32>, tensor<3x2xf32>
  return %y : tensor<2x12xf32>
}
