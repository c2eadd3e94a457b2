// A calibrated float chain conv -> relu -> conv -> add (residual) -> pool:
// fold-calibration quantizes it (u8 activations, per-channel int8 weights),
// lower-quantized-to-integer leaves no float op between the first quantize
// and the last dequantize, before and after lowering to linalg.
// RUN: quant-opt %s --fold-calibration --lower-quantized-to-integer --canonicalize -check-integer-only | FileCheck %s
// RUN: quant-opt %s --fold-calibration --lower-quantized-to-integer --canonicalize --convert-qc-to-linalg -check-integer-only | FileCheck %s --check-prefix=LINALG
// RUN: quant-opt %s --fold-calibration=activation-type=i8 --lower-quantized-to-integer --canonicalize -check-integer-only | FileCheck %s --check-prefix=I8
// RUN: quant-opt %s --fold-calibration=bias-correction=false | FileCheck %s --check-prefix=NOBC
// RUN: quant-opt %s --fold-calibration=weight-granularity=block:1 | FileCheck %s --check-prefix=BLOCKQDQ
// RUN: quant-opt %s --fold-calibration=weight-granularity=block:1 --lower-quantized-to-integer --canonicalize -check-integer-only | FileCheck %s --check-prefix=BLOCK
// RUN: quant-opt %s --fold-calibration=weight-granularity=block:1 --lower-quantized-to-integer --canonicalize --convert-qc-to-linalg -check-integer-only | FileCheck %s --check-prefix=BLOCKLINALG

// CHECK-LABEL: func.func @chain
// CHECK: qc.quantize %arg0 : tensor<1x2x6x6xf32> -> tensor<1x2x6x6x!quant.uniform<u8:f32, 0.015686274509803921:128>>
// CHECK: %[[X:.*]] = qc.storage_cast
// Relu fuses into the clamp: the output zero point is 0, so clamp(0, 255).
// CHECK: %[[C1:.*]] = qc.conv_int %[[X]], %{{.*}} bias %{{.*}} zp(128, [0, 0, 0]) strides [1, 1] pads [0, 0, 1, 1]
// CHECK: %[[R1:.*]] = qc.requantize %[[C1]] multiplier [{{.*}}] shift [{{.*}}] axis 1 zp(0 -> 0) clamp(0, 255) : tensor<1x3x6x6xi32> -> tensor<1x3x6x6xui8>
// CHECK: %[[C2:.*]] = qc.conv_int %[[R1]], %{{.*}} zp(0, [0, 0, 0])
// CHECK: %[[R2:.*]] = qc.requantize %[[C2]]
// The residual add: both terms at a common fine scale in int32.
// CHECK-DAG: %[[A:.*]] = qc.requantize %[[R2]] {{.*}} -> tensor<1x3x6x6xi32>
// CHECK-DAG: %[[B:.*]] = qc.requantize %[[R1]] {{.*}} -> tensor<1x3x6x6xi32>
// CHECK: %[[S:.*]] = qc.add %[[A]], %[[B]] : (tensor<1x3x6x6xi32>, tensor<1x3x6x6xi32>) -> tensor<1x3x6x6xi32>
// CHECK: %[[Y:.*]] = qc.requantize %[[S]] {{.*}} clamp(0, 255) : tensor<1x3x6x6xi32> -> tensor<1x3x6x6xui8>
// Average pooling: an int32 sum of the 36 values minus 36 zero points.
// CHECK: %[[W:.*]] = qc.cast %[[Y]] : tensor<1x3x6x6xui8> -> tensor<1x3x6x6xi32>
// CHECK: %[[P:.*]] = qc.reducesum %[[W]] {axes = array<i64: 2, 3>}
// CHECK: qc.requantize %[[P]] {{.*}} zp(0 -> 0)
// CHECK: qc.dequantize
// CHECK-NOT: qc.conv %
// CHECK-NOT: qc.globalaveragepool
// CHECK: return

// LINALG-LABEL: func.func @chain
// LINALG-NOT: qc.
// LINALG: linalg.conv_2d_nchw_fchw {{.*}} tensor<1x2x7x7xi32>
// LINALG: return

// I8-LABEL: func.func @chain
// I8: qc.quantize %arg0 : tensor<1x2x6x6xf32> -> tensor<1x2x6x6x!quant.uniform<i8:f32, 0.015748031496062992>>
// I8: qc.conv_int %{{.*}} zp(0, [0, 0, 0])
// I8: clamp(0, 127)

// Without bias correction the first conv keeps its bias (0.1, -0.2, 0.3).
// NOBC-LABEL: func.func @chain
// NOBC: qc.dequantize %{{.*}} : tensor<3x2x2x2x!quant.uniform<i8<-127:127>:f32:0, {{.*}}>> -> tensor<3x2x2x2xf32>
// NOBC: qc.conv %{{.*}}, %{{.*}}, %cst_
// Blocks of one input channel: conv1's weights get a scale per (output
// channel, input channel), max|w| / 127: channel 1's blocks 0.4 / 127 and
// 0.9 / 127.
// BLOCKQDQ-LABEL: func.func @chain
// BLOCKQDQ: tensor<3x2x2x2x!quant.uniform<i8<-127:127>:f32:{0:1, 1:1, 2:2, 3:2}, {{.*}}0.00787401571{{.*}}0.00787401571{{.*}}0.00314960629{{.*}}0.00708661414
// Each block is its own int32 product on a slice of the input, rescaled to
// the channel's largest block scale (times 2^8) and summed in int32; the bias
// rides with block 0.
// BLOCK-LABEL: func.func @chain
// BLOCK: %[[XS0:.*]] = qc.slice %{{.*}} -> tensor<1x1x6x6xui8>
// BLOCK: %[[P0:.*]] = qc.conv_int %[[XS0]], %{{.*}} bias %{{.*}} zp(128, [0, 0, 0])
// BLOCK: %[[R0:.*]] = qc.requantize %[[P0]] {{.*}} axis 1 zp(0 -> 0) clamp(-2147483648, 2147483647) : tensor<1x3x6x6xi32> -> tensor<1x3x6x6xi32>
// BLOCK: %[[XS1:.*]] = qc.slice %{{.*}} -> tensor<1x1x6x6xui8>
// BLOCK: %[[P1:.*]] = qc.conv_int %[[XS1]], %{{.*}} zp(128, [0, 0, 0])
// BLOCK: %[[R1:.*]] = qc.requantize %[[P1]] multiplier [1073741824, 1073741824, 1073741824] shift [22, 22, 22]
// BLOCK: %[[S:.*]] = qc.add %[[R0]], %[[R1]] : (tensor<1x3x6x6xi32>, tensor<1x3x6x6xi32>) -> tensor<1x3x6x6xi32>
// BLOCK: qc.requantize %[[S]] {{.*}} clamp(0, 255) : tensor<1x3x6x6xi32> -> tensor<1x3x6x6xui8>
// BLOCKLINALG-LABEL: func.func @chain
// BLOCKLINALG-NOT: qc.
// BLOCKLINALG: linalg.conv_2d_nchw_fchw {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x7x7xi32>, tensor<3x1x2x2xi32>)
// BLOCKLINALG: linalg.conv_2d_nchw_fchw {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x7x7xi32>, tensor<3x1x2x2xi32>)
// BLOCKLINALG: return
func.func @chain(%x: tensor<1x2x6x6xf32>) -> tensor<1x3x1x1xf32> {
  %w1 = arith.constant dense<[[[[0.5, -0.25], [0.125, 1.0]], [[-0.5, 0.75], [0.25, -1.0]]], [[[0.3, 0.2], [0.1, -0.4]], [[0.6, -0.7], [0.8, 0.9]]], [[[-0.1, 0.2], [-0.3, 0.4]], [[0.5, -0.6], [0.7, -0.8]]]]> : tensor<3x2x2x2xf32>
  %b1 = arith.constant dense<[0.1, -0.2, 0.3]> : tensor<3xf32>
  %w2 = arith.constant dense<0.25> : tensor<3x3x1x1xf32>
  %x0 = qc.observe "x" %x {min = -2.0 : f64, max = 2.0 : f64, channel_axis = 1 : i64, channel_mean = array<f64: 0.1, -0.1>} : tensor<1x2x6x6xf32>
  %c1 = qc.conv %x0, %w1, %b1 {auto_pad = "NOTSET", group = 1 : i64, pads = array<i64: 0, 0, 1, 1>} : (tensor<1x2x6x6xf32>, tensor<3x2x2x2xf32>, tensor<3xf32>) -> tensor<1x3x6x6xf32>
  %r1 = qc.relu %c1 : (tensor<1x3x6x6xf32>) -> tensor<1x3x6x6xf32>
  %o1 = qc.observe "r1" %r1 {min = 0.0 : f64, max = 4.0 : f64, channel_axis = 1 : i64, channel_mean = array<f64: 0.5, 0.5, 0.5>} : tensor<1x3x6x6xf32>
  %c2 = qc.conv %o1, %w2 {auto_pad = "NOTSET", group = 1 : i64} : (tensor<1x3x6x6xf32>, tensor<3x3x1x1xf32>) -> tensor<1x3x6x6xf32>
  %o2 = qc.observe "c2" %c2 {min = 0.0 : f64, max = 3.0 : f64} : tensor<1x3x6x6xf32>
  %a = qc.add %o2, %o1 : (tensor<1x3x6x6xf32>, tensor<1x3x6x6xf32>) -> tensor<1x3x6x6xf32>
  %o3 = qc.observe "add" %a {min = 0.0 : f64, max = 7.0 : f64} : tensor<1x3x6x6xf32>
  %p = qc.globalaveragepool %o3 : (tensor<1x3x6x6xf32>) -> tensor<1x3x1x1xf32>
  %o4 = qc.observe "pool" %p {min = 0.0 : f64, max = 5.0 : f64} : tensor<1x3x1x1xf32>
  return %o4 : tensor<1x3x1x1xf32>
}
