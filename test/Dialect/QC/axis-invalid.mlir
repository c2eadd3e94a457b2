// The graph ops' axis within the rank of their first operand: [-r, r - 1],
// Flatten [-r, r], OneHot [-r - 1, r].
// RUN: quant-opt %s -split-input-file -verify-diagnostics

func.func @softmax(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'qc.softmax' op axis 2 is out of range [-2, 1] for its rank-2 input 'tensor<2x3xf32>'}}
  %y = qc.softmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @concat(%x: tensor<2x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'qc.concat' op axis -3 is out of range [-2, 1]}}
  %y = qc.concat %x, %x {axis = -3 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}

// -----

func.func @flatten_end(%x: tensor<2x3xf32>) -> tensor<6x1xf32> {
  %y = qc.flatten %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %y : tensor<6x1xf32>
}

// -----

func.func @flatten(%x: tensor<2x3xf32>) -> tensor<6x1xf32> {
  // expected-error @+1 {{'qc.flatten' op axis 3 is out of range [-2, 2]}}
  %y = qc.flatten %x {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %y : tensor<6x1xf32>
}

// -----

func.func @gather(%x: tensor<2x3xf32>, %i: tensor<2xi64>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'qc.gather' op axis 1099511627776 is out of range [-2, 1]}}
  %y = qc.gather %x, %i {axis = 1099511627776 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
