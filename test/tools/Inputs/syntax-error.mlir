// Input for quant-opt-errors.test.
func.func @f(%x: tensor<4xi32>) -> tensor<4xi8> {
  %0 = qc.requantize %x multiplier [5 shift [3] : tensor<4xi32> -> tensor<4xi8>
  return %0 : tensor<4xi8>
}
