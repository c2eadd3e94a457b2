// RUN: quant-opt %s -split-input-file -verify-diagnostics

//===--- observe ---===//

func.func @observe_empty_name(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{needs a non-empty name}}
  %0 = qc.observe "" %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @observe_negative_bins(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{bins must be non-negative, got -1}}
  %0 = qc.observe "a" bins -1 %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @observe_gram_shape(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{gram must be a 3x3 f32 tensor, got 'tensor<2x2xf32>'}}
  %0 = qc.observe "a" %x {channel_axis = 1 : i64, gram = dense<1.0> : tensor<2x2xf32>} : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @observe_gram_axis(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{gram needs the last axis as channel_axis}}
  %0 = qc.observe "a" %x {channel_axis = 0 : i64, gram = dense<1.0> : tensor<3x3xf32>} : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @observe_integer(%x: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %0 = qc.observe "a" %x : tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

//===--- quant types ---===//

func.func @zero_point_out_of_storage_range(%x: tensor<4xf32>) {
  // expected-error @+1 {{zero point 300 is outside the storage range [-128, 127]}}
  %0 = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.5:300>>
  return
}

// -----

func.func @zero_point_out_of_narrow_range(%x: tensor<4xf32>) {
  // expected-error @+1 {{zero point 8 is outside the storage range [-8, 7]}}
  %0 = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i4:f32, 0.5:8>>
  return
}

// -----

func.func @per_axis_zero_point(%x: tensor<2xf32>) {
  // expected-error @+1 {{zero point -1 is outside the storage range [0, 255]}}
  %0 = qc.quantize %x : tensor<2xf32> -> tensor<2x!quant.uniform<u8:f32:0, {0.5:3, 0.5:-1}>>
  return
}

// -----

func.func @non_positive_scale(%x: tensor<4xf32>) {
  // expected-error @+1 {{scale -5.000000e-01 out of expressed type range}}
  %0 = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, -0.5>>
  return
}

// -----

func.func @axis_out_of_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{quantization axis 1 is out of range for a tensor of rank 1}}
  %0 = qc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32:1, {0.5, 0.25}>>
  return
}

// -----

func.func @scale_count_vs_channels(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{per-axis type has 2 scales but axis 0 has 3 channels}}
  %0 = qc.quantize %x : tensor<3x4xf32> -> tensor<3x4x!quant.uniform<i8:f32:0, {0.5, 0.25}>>
  return
}

// -----

func.func @block_does_not_tile(%x: tensor<2x48xf32>) {
  // expected-error @+1 {{dimension 1 of size 48 is not a multiple of the block size 32}}
  %0 = qc.quantize %x : tensor<2x48xf32> -> tensor<2x48x!quant.uniform<i8:f32:{1:32}, {{0.5, 0.25}, {0.5, 0.25}}>>
  return
}

// -----

func.func @block_scale_count(%x: tensor<2x96xf32>) {
  // expected-error @+1 {{dimension 1 has 3 blocks but the type has 2 scales along it}}
  %0 = qc.quantize %x : tensor<2x96xf32> -> tensor<2x96x!quant.uniform<i8:f32:{1:32}, {{0.5, 0.25}, {0.5, 0.25}}>>
  return
}

// -----

func.func @quantize_shape_mismatch(%x: tensor<4xf32>) {
  // expected-error @+1 {{quantized tensor shape 5 does not match the expected 4}}
  %0 = qc.quantize %x : tensor<4xf32> -> tensor<5x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @expressed_type_mismatch(%x: tensor<4xf16>) {
  // expected-error @+1 {{expressed type 'f32' of the quantized type differs from the float element type 'f16'}}
  %0 = qc.quantize %x : tensor<4xf16> -> tensor<4x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @dequantize_checks_too(%q: tensor<3x!quant.uniform<i8:f32:0, {0.5, 0.25}>>) {
  // expected-error @+1 {{per-axis type has 2 scales but axis 0 has 3 channels}}
  %0 = qc.dequantize %q : tensor<3x!quant.uniform<i8:f32:0, {0.5, 0.25}>> -> tensor<3xf32>
  return
}

// -----

//===--- storage_cast ---===//

func.func @storage_cast_signedness(%q: tensor<4x!quant.uniform<u8:f32, 0.5:3>>) {
  // expected-error @+1 {{integer type 'i8' is not the storage type of '!quant.uniform<u8:f32, 5.000000e-01:3>' (expected ui8)}}
  %0 = qc.storage_cast %q : tensor<4x!quant.uniform<u8:f32, 0.5:3>> -> tensor<4xi8>
  return
}

// -----

func.func @storage_cast_width(%i: tensor<4xi8>) {
  // expected-error @+1 {{integer type 'i8' is not the storage type of '!quant.uniform<i4:f32, 5.000000e-01>' (expected i4)}}
  %0 = qc.storage_cast %i : tensor<4xi8> -> tensor<4x!quant.uniform<i4:f32, 0.5>>
  return
}

// -----

func.func @storage_cast_two_ints(%i: tensor<4xi8>) {
  // expected-error @+1 {{casts between a quantized tensor and an integer tensor, one of each}}
  %0 = qc.storage_cast %i : tensor<4xi8> -> tensor<4xi8>
  return
}

// -----

func.func @storage_cast_checks_type(%i: tensor<3xi8>) {
  // expected-error @+1 {{per-axis type has 2 scales but axis 0 has 3 channels}}
  %0 = qc.storage_cast %i : tensor<3xi8> -> tensor<3x!quant.uniform<i8:f32:0, {0.5, 0.25}>>
  return
}

// -----

//===--- requantize ---===//

func.func @requant_multiplier_count(%x: tensor<4xi32>) {
  // expected-error @+1 {{has 2 multipliers but 1 shifts}}
  %0 = qc.requantize %x multiplier [1, 2] shift [3] axis 0 zp (0 -> 0) clamp (-128, 127) : tensor<4xi32> -> tensor<4xi8>
  return
}

// -----

func.func @requant_negative_multiplier(%x: tensor<4xi32>) {
  // expected-error @+1 {{multiplier -5 must be non-negative}}
  %0 = qc.requantize %x multiplier [-5] shift [3] zp (0 -> 0) clamp (-128, 127) : tensor<4xi32> -> tensor<4xi8>
  return
}

// -----

func.func @requant_shift_range(%x: tensor<4xi32>) {
  // expected-error @+1 {{shift 64 must be in [0, 63]}}
  %0 = qc.requantize %x multiplier [5] shift [64] zp (0 -> 0) clamp (-128, 127) : tensor<4xi32> -> tensor<4xi8>
  return
}

// -----

func.func @requant_per_channel_without_axis(%x: tensor<2x4xi32>) {
  // expected-error @+1 {{has 2 multipliers (per channel) but no axis}}
  %0 = qc.requantize %x multiplier [5, 6] shift [3, 3] zp (0 -> 0) clamp (-128, 127) : tensor<2x4xi32> -> tensor<2x4xi8>
  return
}

// -----

func.func @requant_axis_out_of_rank(%x: tensor<2x4xi32>) {
  // expected-error @+1 {{axis 2 is out of range for a tensor of rank 2}}
  %0 = qc.requantize %x multiplier [5, 6] shift [3, 3] axis 2 zp (0 -> 0) clamp (-128, 127) : tensor<2x4xi32> -> tensor<2x4xi8>
  return
}

// -----

func.func @requant_channel_count(%x: tensor<2x4xi32>) {
  // expected-error @+1 {{has 2 multipliers but axis 1 has 4 channels}}
  %0 = qc.requantize %x multiplier [5, 6] shift [3, 3] axis 1 zp (0 -> 0) clamp (-128, 127) : tensor<2x4xi32> -> tensor<2x4xi8>
  return
}

// -----

func.func @requant_output_zp(%x: tensor<4xi32>) {
  // expected-error @+1 {{output zero point 128 is outside the range [-128, 127] of 'i8'}}
  %0 = qc.requantize %x multiplier [5] shift [3] zp (0 -> 128) clamp (-128, 127) : tensor<4xi32> -> tensor<4xi8>
  return
}

// -----

func.func @requant_clamp_outside_type(%x: tensor<4xi32>) {
  // expected-error @+1 {{clamp_max 255 is outside the range [-128, 127] of 'i8'}}
  %0 = qc.requantize %x multiplier [5] shift [3] zp (0 -> 0) clamp (0, 255) : tensor<4xi32> -> tensor<4xi8>
  return
}

// -----

func.func @requant_clamp_unsigned(%x: tensor<4xi32>) {
  // expected-error @+1 {{clamp_min -1 is outside the range [0, 15] of 'ui4'}}
  %0 = qc.requantize %x multiplier [5] shift [3] zp (0 -> 0) clamp (-1, 15) : tensor<4xi32> -> tensor<4xui4>
  return
}

// -----

func.func @requant_clamp_order(%x: tensor<4xi32>) {
  // expected-error @+1 {{clamp_min 10 exceeds clamp_max 5}}
  %0 = qc.requantize %x multiplier [5] shift [3] zp (0 -> 0) clamp (10, 5) : tensor<4xi32> -> tensor<4xi8>
  return
}

// -----

func.func @requant_wide_input(%x: tensor<4xui64>) {
  // expected-error @+1 {{input elements must fit in int64, got 'ui64'}}
  %0 = qc.requantize %x multiplier [5] shift [3] zp (0 -> 0) clamp (-128, 127) : tensor<4xui64> -> tensor<4xi8>
  return
}

// -----

func.func @requant_shape(%x: tensor<4xi32>) {
  // expected-error @+1 {{result shape 5 does not match the expected 4}}
  %0 = qc.requantize %x multiplier [5] shift [3] zp (0 -> 0) clamp (-128, 127) : tensor<4xi32> -> tensor<5xi8>
  return
}

// -----

//===--- conv_int ---===//

func.func @conv_wide_operands(%x: tensor<1x3x8x8xi32>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{input must have integer elements of at most 16 bits, got 'i32'}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi32>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_wide_input_narrow_acc(%x: tensor<1x3x8x8xi16>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{result must be i64 for input of 'i16'}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi16>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_wide_weight(%x: tensor<1x3x8x8xi16>, %w: tensor<4x3x3x3xi16>) {
  // expected-error @+1 {{weight must have integer elements of at most 8 bits, got 'i16'}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi16>, tensor<4x3x3x3xi16>) -> tensor<1x4x6x6xi64>
  return
}

// -----

func.func @conv_channels_last_group(%x: tensor<1x8x8x4xi8>, %w: tensor<4x2x3x3xi8>) {
  // expected-error @+1 {{channels_last needs a 2-d convolution of group 1}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 2 channels_last : (tensor<1x8x8x4xi8>, tensor<4x2x3x3xi8>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @conv_channels_last_shape(%x: tensor<1x8x8x3xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{result shape}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 channels_last : (tensor<1x8x8x3xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_rank(%x: tensor<3x8xi8>, %w: tensor<4x3xi8>) {
  // expected-error @+1 {{input must have rank 3 to 5 (N, C, 1 to 3 spatial dims), got rank 2}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [] pads [] dilations [] group 1 : (tensor<3x8xi8>, tensor<4x3xi8>) -> tensor<3x4xi32>
  return
}

// -----

func.func @conv_attr_counts(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{needs 2 strides, 2 dilations and 4 pads for 2 spatial dims}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_zero_stride(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{strides and dilations must be positive}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [0, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_negative_pad(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{pads must be non-negative}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [-1, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x4x8x8xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{input has 4 channels but weight expects 3 x group 1}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x4x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_group_divides_filters(%x: tensor<1x6x8x8xi8>, %w: tensor<5x3x3x3xi8>) {
  // expected-error @+1 {{5 output channels are not divisible by group 2}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 2 : (tensor<1x6x8x8xi8>, tensor<5x3x3x3xi8>) -> tensor<1x5x6x6xi32>
  return
}

// -----

func.func @conv_weight_zp_count(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{weight_zp needs 1 or 4 entries, got 2}}
  %0 = qc.conv_int %x, %w zp (0, [0, 0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_input_zp_range(%x: tensor<1x3x8x8xui8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{input zero point -1 is outside the range [0, 255] of 'ui8'}}
  %0 = qc.conv_int %x, %w zp (-1, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xui8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_weight_zp_range(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi4>) {
  // expected-error @+1 {{weight zero point 8 is outside the range [-8, 7] of 'i4'}}
  %0 = qc.conv_int %x, %w zp (0, [8]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi4>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_bias_shape(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi8>, %b: tensor<3xi32>) {
  // expected-error @+1 {{bias shape 3 does not match the expected 4}}
  %0 = qc.conv_int %x, %w bias %b zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>, tensor<3xi32>) -> tensor<1x4x6x6xi32>
  return
}

// -----

func.func @conv_result_shape(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{result shape 1x4x8x8 does not match the expected 1x4x6x6}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x8x8xi32>
  return
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x3x2x2xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{kernel of spatial dim 0 is larger than the padded input}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x2x2xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x1x1xi32>
  return
}

// -----

func.func @conv_float_result(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = qc.conv_int %x, %w zp (0, [0]) strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xf32>
  return
}

// -----

//===--- matmul_int ---===//

func.func @lowbit_bits(%a: tensor<1x2xi8>) {
  %w = arith.constant dense<[[1], [0]]> : tensor<2x1xi8>
  // expected-error @+1 {{low-bit weights have 1 to 4 bits, got 5}}
  %0 = qc.matmul_int %a, %w zp (0, [0]) {lowbit = #qc.lowbit<bits = 5, base = 0, step = 1>} : (tensor<1x2xi8>, tensor<2x1xi8>) -> tensor<1x1xi32>
  return
}

// -----

func.func @lowbit_step(%a: tensor<1x2xi8>) {
  %w = arith.constant dense<[[1], [0]]> : tensor<2x1xi8>
  // expected-error @+1 {{the step between weight levels must be positive, got 0}}
  %0 = qc.matmul_int %a, %w zp (0, [0]) {lowbit = #qc.lowbit<bits = 1, base = 0, step = 0>} : (tensor<1x2xi8>, tensor<2x1xi8>) -> tensor<1x1xi32>
  return
}

// -----

func.func @lowbit_level(%a: tensor<1x3xi8>) {
  %w = arith.constant dense<[[-1], [1], [0]]> : tensor<3x1xi8>
  // expected-error @+1 {{weight 2 (0) is not a level of #qc.lowbit<bits = 1, base = -1, step = 2>}}
  %0 = qc.matmul_int %a, %w zp (0, [0]) {lowbit = #qc.lowbit<bits = 1, base = -1, step = 2>} : (tensor<1x3xi8>, tensor<3x1xi8>) -> tensor<1x1xi32>
  return
}

// -----

func.func @lowbit_range(%a: tensor<1x2xi8>) {
  %w = arith.constant dense<[[-2], [2]]> : tensor<2x1xi8>
  // expected-error @+1 {{weight 1 (2) is not a level of #qc.lowbit<bits = 2, base = -2, step = 1>}}
  %0 = qc.matmul_int %a, %w zp (0, [0]) {lowbit = #qc.lowbit<bits = 2, base = -2, step = 1>} : (tensor<1x2xi8>, tensor<2x1xi8>) -> tensor<1x1xi32>
  return
}

// -----

func.func @lowbit_not_constant(%a: tensor<1x2xi8>, %w: tensor<2x1xi8>) {
  // expected-error @+1 {{lowbit needs constant weights}}
  %0 = qc.matmul_int %a, %w zp (0, [0]) {lowbit = #qc.lowbit<bits = 2, base = -2, step = 1>} : (tensor<1x2xi8>, tensor<2x1xi8>) -> tensor<1x1xi32>
  return
}

// -----

func.func @lowbit_storage(%a: tensor<1x2xi8>) {
  %w = arith.constant dense<[[-2], [1]]> : tensor<2x1xi4>
  // expected-error @+1 {{lowbit needs 8-bit weight storage, got 'tensor<2x1xi4>'}}
  %0 = qc.matmul_int %a, %w zp (0, [0]) {lowbit = #qc.lowbit<bits = 2, base = -2, step = 1>} : (tensor<1x2xi8>, tensor<2x1xi4>) -> tensor<1x1xi32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<4xi8>, %b: tensor<4x2xi8>) {
  // expected-error @+1 {{operands must have rank >= 2, got ranks 1 and 2}}
  %0 = qc.matmul_int %a, %b zp (0, [0]) : (tensor<4xi8>, tensor<4x2xi8>) -> tensor<2xi32>
  return
}

// -----

func.func @matmul_reduction(%a: tensor<3x4xi8>, %b: tensor<5x2xi8>) {
  // expected-error @+1 {{reduction dims differ: 4 vs 5}}
  %0 = qc.matmul_int %a, %b zp (0, [0]) : (tensor<3x4xi8>, tensor<5x2xi8>) -> tensor<3x2xi32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xi8>, %b: tensor<3x4x2xi8>) {
  // expected-error @+1 {{batch dims 2 and 3 do not broadcast}}
  %0 = qc.matmul_int %a, %b zp (0, [0]) : (tensor<2x3x4xi8>, tensor<3x4x2xi8>) -> tensor<2x3x2xi32>
  return
}

// -----

func.func @matmul_b_zp(%a: tensor<3x4xi8>, %b: tensor<4x2xui8>) {
  // expected-error @+1 {{b_zp needs 1 or 2 entries, got 3}}
  %0 = qc.matmul_int %a, %b zp (0, [1, 2, 3]) : (tensor<3x4xi8>, tensor<4x2xui8>) -> tensor<3x2xi32>
  return
}

// -----

func.func @matmul_result(%a: tensor<3x4xi8>, %b: tensor<4x2xi8>) {
  // expected-error @+1 {{result shape 3x3 does not match the expected 3x2}}
  %0 = qc.matmul_int %a, %b zp (0, [0]) : (tensor<3x4xi8>, tensor<4x2xi8>) -> tensor<3x3xi32>
  return
}

// -----

func.func @matmul_a_zp(%a: tensor<3x4xi8>, %b: tensor<4x2xi8>) {
  // expected-error @+1 {{a zero point 200 is outside the range [-128, 127] of 'i8'}}
  %0 = qc.matmul_int %a, %b zp (200, [0]) : (tensor<3x4xi8>, tensor<4x2xi8>) -> tensor<3x2xi32>
  return
}

// -----

//===--- clamp / cast ---===//

func.func @clamp_order(%x: tensor<4xi8>) {
  // expected-error @+1 {{min 5 exceeds max 3}}
  %0 = qc.clamp %x (5, 3) : tensor<4xi8>
  return
}

// -----

func.func @clamp_range(%x: tensor<4xui8>) {
  // expected-error @+1 {{max 256 is outside the range [0, 255] of 'ui8'}}
  %0 = qc.clamp %x (0, 256) : tensor<4xui8>
  return
}

// -----

func.func @cast_shape(%x: tensor<4xi32>) {
  // expected-error @+1 {{result shape 2x2 does not match the expected 4}}
  %0 = qc.cast %x : tensor<4xi32> -> tensor<2x2xi8>
  return
}

// -----

//===--- scheme attribute ---===//

// expected-error @+1 {{integer bit width must be in [1, 8] or 16, got 9}}
func.func private @scheme_bits() attributes {qc.weight_scheme = #qc.scheme<format = int, bits = 9, isSigned = true, symmetric = true>}

// -----

// expected-error @+1 {{fp4_e2m1 has 4 bits, got 8}}
func.func private @scheme_minifloat_bits() attributes {qc.weight_scheme = #qc.scheme<format = fp4_e2m1, bits = 8, isSigned = true, symmetric = true>}

// -----

// expected-error @+1 {{minifloat formats are signed and symmetric}}
func.func private @scheme_minifloat_zp() attributes {qc.weight_scheme = #qc.scheme<format = fp8_e5m2, bits = 8, isSigned = true, symmetric = false>}

// -----

// expected-error @+1 {{a block size needs the axis it runs along}}
func.func private @scheme_block_axis() attributes {qc.weight_scheme = #qc.scheme<format = int, bits = 4, isSigned = true, symmetric = true, block = 32>}

// -----

// expected-error @+1 {{block size must be positive, got 0}}
func.func private @scheme_block_size() attributes {qc.weight_scheme = #qc.scheme<format = int, bits = 4, isSigned = true, symmetric = true, axis = 1, block = 0>}

// -----

// expected-error @+1 {{axis must be non-negative, got -1}}
func.func private @scheme_axis() attributes {qc.weight_scheme = #qc.scheme<format = int, bits = 4, isSigned = true, symmetric = true, axis = -1>}

// -----

// expected-error @+1 {{a signed 1-bit integer has no room for a zero point}}
func.func private @scheme_1bit() attributes {qc.weight_scheme = #qc.scheme<format = int, bits = 1, isSigned = true, symmetric = false>}

// -----

// expected-error @+1 {{'qc.weight_scheme' must be a #qc.scheme, got 4 : i64}}
func.func private @scheme_wrong_kind() attributes {qc.weight_scheme = 4}

// -----

// expected-error @+1 {{unknown qc dialect attribute 'qc.bits'}}
func.func private @unknown_attr() attributes {qc.bits = 4}

// -----

func.func @if_yield_types(%c: tensor<i1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  %y = qc.if %c : tensor<i1> -> tensor<4xf32> {
    qc.yield %x : tensor<4xf32>
  } else {
    %z = arith.constant dense<0.0> : tensor<2xf32>
    // expected-error @+1 {{yields 'tensor<2xf32>' but the qc.if has results 'tensor<4xf32>'}}
    qc.yield %z : tensor<2xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @if_condition_size(%c: tensor<2xi1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{condition must hold one element, got 'tensor<2xi1>'}}
  %y = qc.if %c : tensor<2xi1> -> tensor<4xf32> {
    qc.yield %x : tensor<4xf32>
  } else {
    qc.yield %x : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @graph_op_verifiers(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{input has 3 channels but weight expects 2 x group 1}}
  %0 = qc.conv %x, %w {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @transpose_perm(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{perm is not a permutation of 0..1}}
  %0 = qc.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>, %s: tensor<1xi64>) {
  // expected-error @+1 {{reshapes 6 elements into 5}}
  %0 = qc.reshape %x, %s : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<5xf32>
  return
}

// -----

func.func @gemm_k(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{reduction dims differ: 3 vs 4}}
  %0 = qc.gemm %a, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = 0 : i64, transB = 0 : i64} : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{operands don't have broadcast-compatible shapes}}
  %0 = qc.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @loss_target_rank(%x: tensor<3x5x2xf32>, %t: tensor<3xi64>) {
  // expected-error @+1 {{target must have rank 2, got 1}}
  %0 = qc.negativeloglikelihoodloss %x, %t {reduction = "mean"} : (tensor<3x5x2xf32>, tensor<3xi64>) -> tensor<f32>
  return
}

// -----

func.func @loss_reduction(%x: tensor<3x5xf32>, %t: tensor<3xi64>) {
  // expected-error @+1 {{reduction must be none, sum or mean, got 'max'}}
  %0 = qc.softmaxcrossentropyloss %x, %t {reduction = "max"} : (tensor<3x5xf32>, tensor<3xi64>) -> tensor<f32>
  return
}

// -----

//===--- matmul_group_scaled ---===//

func.func @group_divides(%a: tensor<2x6xi8>, %b: tensor<6x3xi8>, %sa: tensor<2x1xf32>, %sb: tensor<3xf32>) {
  // expected-error @+1 {{group 4 does not divide the 6 input channels}}
  %0 = qc.matmul_group_scaled %a, %b scales(%sa, %sb) group 4 : (tensor<2x6xi8>, tensor<6x3xi8>, tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @group_scales_shape(%a: tensor<2x8xi8>, %b: tensor<8x3xi8>, %sa: tensor<2x4xf32>, %sb: tensor<3xf32>) {
  // expected-error @+1 {{a_scales shape 2x4 does not match the expected 2x2}}
  %0 = qc.matmul_group_scaled %a, %b scales(%sa, %sb) group 4 : (tensor<2x8xi8>, tensor<8x3xi8>, tensor<2x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @group_zeros_shape(%a: tensor<2x8xi8>, %b: tensor<8x3xi8>, %sa: tensor<2x2xf32>, %sb: tensor<3xf32>, %za: tensor<2x1xf32>) {
  // expected-error @+1 {{a_zeros shape 2x1 does not match the expected 2x2}}
  %0 = qc.matmul_group_scaled %a, %b scales(%sa, %sb) zeros %za group 4 : (tensor<2x8xi8>, tensor<8x3xi8>, tensor<2x2xf32>, tensor<3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @group_b_scales(%a: tensor<2x8xi8>, %b: tensor<8x3xi8>, %sa: tensor<2x2xf32>, %sb: tensor<2xf32>) {
  // expected-error @+1 {{b_scales must have 1 or 3 entries, got shape 2}}
  %0 = qc.matmul_group_scaled %a, %b scales(%sa, %sb) group 4 : (tensor<2x8xi8>, tensor<8x3xi8>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @group_reduction(%a: tensor<2x8xi8>, %b: tensor<4x3xi8>, %sa: tensor<2x2xf32>, %sb: tensor<3xf32>) {
  // expected-error @+1 {{reduction dims differ: 8 vs 4}}
  %0 = qc.matmul_group_scaled %a, %b scales(%sa, %sb) group 4 : (tensor<2x8xi8>, tensor<4x3xi8>, tensor<2x2xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @group_zero(%a: tensor<2x8xi8>, %b: tensor<8x3xi8>, %sa: tensor<2x2xf32>, %sb: tensor<3xf32>) {
  // expected-error @+1 {{group must be positive, got 0}}
  %0 = qc.matmul_group_scaled %a, %b scales(%sa, %sb) group 0 : (tensor<2x8xi8>, tensor<8x3xi8>, tensor<2x2xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @group_result(%a: tensor<2x8xi8>, %b: tensor<8x3xi8>, %sa: tensor<2x2xf32>, %sb: tensor<3xf32>) {
  // expected-error @+1 {{result shape 2x4 does not match the expected 2x3}}
  %0 = qc.matmul_group_scaled %a, %b scales(%sa, %sb) group 4 : (tensor<2x8xi8>, tensor<8x3xi8>, tensor<2x2xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return
}

// -----

//===--- dynamic_quantize / dynamic_dequantize ---===//

func.func @dynamic_groups_divide(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{the 4 scales per row do not divide the 6 channels into equal groups}}
  %q, %s = qc.dynamic_quantize %x bits 8 : tensor<2x6xf32> -> tensor<2x6xi8>, tensor<2x4xf32>
  return
}

// -----

func.func @dynamic_bits(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{attribute 'bits' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 2 whose maximum value is 8}}
  %q, %s = qc.dynamic_quantize %x bits 9 : tensor<2x6xf32> -> tensor<2x6xi8>, tensor<2x1xf32>
  return
}

// -----

func.func @dynamic_bits_low(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{attribute 'bits' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 2 whose maximum value is 8}}
  %q, %s = qc.dynamic_quantize %x bits 1 : tensor<2x6xf32> -> tensor<2x6xi8>, tensor<2x1xf32>
  return
}

// -----

func.func @dynamic_output_shape(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{output shape 2x3 does not match the expected 2x6}}
  %q, %s = qc.dynamic_quantize %x bits 8 : tensor<2x6xf32> -> tensor<2x3xi8>, tensor<2x1xf32>
  return
}

// -----

func.func @dynamic_output_type(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 8-bit signless integer values}}
  %q, %s = qc.dynamic_quantize %x bits 8 : tensor<2x6xf32> -> tensor<2x6xi32>, tensor<2x1xf32>
  return
}

// -----

func.func @dynamic_scales_rows(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{scales shape 3x2 does not match the expected 2x2}}
  %q, %s = qc.dynamic_quantize %x bits 8 : tensor<2x6xf32> -> tensor<2x6xi8>, tensor<3x2xf32>
  return
}

// -----

func.func @dynamic_scales_rank(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{needs a static last axis and scales of the same rank with a static last dim, got 2x6 and 2}}
  %q, %s = qc.dynamic_quantize %x bits 8 : tensor<2x6xf32> -> tensor<2x6xi8>, tensor<2xf32>
  return
}

// -----

func.func @dynamic_zero_points_shape(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{zero_points shape 2x1 differs from the scales' 2x2}}
  %q, %s, %z = qc.dynamic_quantize %x bits 8 : tensor<2x6xf32> -> tensor<2x6xi8>, tensor<2x2xf32>, tensor<2x1xf32>
  return
}

// -----

func.func @dynamic_input_type(%x: tensor<2x6xf16>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %q, %s = qc.dynamic_quantize %x bits 8 : tensor<2x6xf16> -> tensor<2x6xi8>, tensor<2x1xf32>
  return
}

// -----

func.func @dynamic_dequantize_groups(%q: tensor<2x6xi8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{the 4 scales per row do not divide the 6 channels into equal groups}}
  %0 = qc.dynamic_dequantize %q scales %s : (tensor<2x6xi8>, tensor<2x4xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @dynamic_dequantize_output(%q: tensor<2x6xi8>, %s: tensor<2x2xf32>) {
  // expected-error @+1 {{output shape 6x2 does not match the expected 2x6}}
  %0 = qc.dynamic_dequantize %q scales %s : (tensor<2x6xi8>, tensor<2x2xf32>) -> tensor<6x2xf32>
  return
}

// -----

func.func @dynamic_dequantize_zero_points(%q: tensor<2x6xi8>, %s: tensor<2x2xf32>, %z: tensor<2x3xf32>) {
  // expected-error @+1 {{zero_points shape 2x3 differs from the scales' 2x2}}
  %0 = qc.dynamic_dequantize %q scales %s zero_points %z : (tensor<2x6xi8>, tensor<2x2xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

//===--- table ---===//

func.func @table_size(%x: tensor<4xui8>) {
  // expected-error @+1 {{table has 2 entries; 'ui8' needs 256}}
  %0 = qc.table %x [0, 1] : tensor<4xui8> -> tensor<4xui8>
  return
}

// -----

func.func @table_width(%x: tensor<4xi16>) {
  // expected-error @+1 {{indexes with integers of at most 8 bits, not 'i16'}}
  %0 = qc.table %x [0, 1] : tensor<4xi16> -> tensor<4xi8>
  return
}

// -----

func.func @table_entry(%x: tensor<4xi2>) {
  // expected-error @+1 {{table entry 300 is outside the range [0, 255] of 'ui8'}}
  %0 = qc.table %x [0, 1, 300, 3] : tensor<4xi2> -> tensor<4xui8>
  return
}

// -----

func.func @table_shape(%x: tensor<4xi2>) {
  // expected-error @+1 {{input and result shapes differ}}
  %0 = qc.table %x [0, 1, 2, 3] : tensor<4xi2> -> tensor<5xi8>
  return
}
