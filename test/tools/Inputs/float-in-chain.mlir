func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.05>>
  %s = qc.storage_cast %q : tensor<4x!quant.uniform<i8:f32, 0.05>> -> tensor<4xi8>
  %f = arith.sitofp %s : tensor<4xi8> to tensor<4xf32>
  %i = arith.fptosi %f : tensor<4xf32> to tensor<4xi8>
  %o = qc.storage_cast %i : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %d = qc.dequantize %o : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf32>
  return %d : tensor<4xf32>
}
