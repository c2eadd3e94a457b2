// A quantized conv -> relu -> matmul chain in the qc dialect, as the int8
// pipeline produces it: uint8 activations (scale 0.05, zero point 128),
// per-channel int8 weights, int32 accumulation, dyadic requantization with
// Relu fused into the clamp.
func.func @conv_relu_matmul(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xi8>,
                            %b: tensor<4xi32>, %m: tensor<6x2xi8>) -> tensor<1x4x6x2xf32> {
  %q = qc.quantize %x : tensor<1x3x8x8xf32> -> tensor<1x3x8x8x!quant.uniform<u8:f32, 0.05:128>>
  %s = qc.storage_cast %q : tensor<1x3x8x8x!quant.uniform<u8:f32, 0.05:128>> -> tensor<1x3x8x8xui8>
  %acc = qc.conv_int %s, %w bias %b zp (128, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1
      : (tensor<1x3x8x8xui8>, tensor<4x3x3x3xi8>, tensor<4xi32>) -> tensor<1x4x6x6xi32>
  // Per-channel scales s_in * s_w[c] / s_out as (multiplier, shift); Relu: clamp at the zero point.
  %r = qc.requantize %acc multiplier [1374389535, 1099511628, 1649267442, 1236950581] shift [37, 37, 38, 36] axis 1
      zp (0 -> -128) clamp (-128, 127) : tensor<1x4x6x6xi32> -> tensor<1x4x6x6xi8>
  // A redundant clamp a naive Relu lowering would leave: merged away.
  %c0 = qc.clamp %r (-128, 127) : tensor<1x4x6x6xi8>
  %acc2 = qc.matmul_int %c0, %m zp (-128, [0]) : (tensor<1x4x6x6xi8>, tensor<6x2xi8>) -> tensor<1x4x6x2xi32>
  %r2 = qc.requantize %acc2 multiplier [1288490189] shift [38] zp (0 -> 0) clamp (-128, 127)
      : tensor<1x4x6x2xi32> -> tensor<1x4x6x2xi8>
  %o = qc.storage_cast %r2 : tensor<1x4x6x2xi8> -> tensor<1x4x6x2x!quant.uniform<i8:f32, 0.1>>
  %y = qc.dequantize %o : tensor<1x4x6x2x!quant.uniform<i8:f32, 0.1>> -> tensor<1x4x6x2xf32>
  return %y : tensor<1x4x6x2xf32>
}
