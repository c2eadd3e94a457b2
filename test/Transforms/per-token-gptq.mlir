// Per-token activations and GPTQ weight rounding in fold-calibration, and
// the integer form of per-token products in lower-quantized-to-integer.
// RUN: quant-opt %s --fold-calibration="activation-granularity=token" | FileCheck %s --check-prefix=TOKEN
// RUN: quant-opt %s --fold-calibration="activation-granularity=token" --lower-quantized-to-integer --canonicalize | FileCheck %s --check-prefix=INT
// RUN: quant-opt %s --fold-calibration="activation-granularity=token" --lower-quantized-to-integer --canonicalize --convert-qc-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: quant-opt %s --fold-calibration="weight-bits=2 weight-rounding=gptq" | FileCheck %s --check-prefix=GPTQ
// RUN: quant-opt %s --fold-calibration="weight-bits=2 weight-rounding=nearest" | FileCheck %s --check-prefix=RTN

// Each row's scale is max |x| of the row / 127 (8 bits), the row rounded
// and clipped to [-127, 127] as int8 (the op's arithmetic is checked in
// Conversion/QCToLinalg/dynamic-quantization.mlir).
// TOKEN-LABEL: func.func @linear
// TOKEN: %[[Q:.*]], %[[S:.*]] = qc.dynamic_quantize %arg0 bits 8 : tensor<2x3xf32> -> tensor<2x3xi8>, tensor<2x1xf32>
// TOKEN: %[[DQ:.*]] = qc.dynamic_dequantize %[[Q]] scales %[[S]] : (tensor<2x3xi8>, tensor<2x1xf32>) -> tensor<2x3xf32>
// TOKEN: qc.gemm %[[DQ]]

// The Gemm becomes an int32 product of the int8 rows and weights, scaled
// by s_w per channel (the accumulator's per-axis type), then by the rows'
// scales, plus the float bias (times beta = 0.5).
// INT-LABEL: func.func @linear
// INT: %[[I:.*]], %[[S:.*]] = qc.dynamic_quantize %arg0 bits 8 : tensor<2x3xf32> -> tensor<2x3xi8>, tensor<2x1xf32>
// INT: %[[ACC:.*]] = qc.matmul_int %[[I]], %{{.*}} zp(0, [0, 0]) : (tensor<2x3xi8>, tensor<3x2xi8>) -> tensor<2x2xi32>
// INT: %[[Q:.*]] = qc.storage_cast %[[ACC]] : tensor<2x2xi32> -> tensor<2x2x!quant.uniform<i32:f32:1, {0.0078740157480314959,0.00314960634{{[0-9]*}}}>>
// INT: %[[D:.*]] = qc.dequantize %[[Q]]
// INT: %[[R:.*]] = qc.mul %[[D]], %[[S]] : (tensor<2x2xf32>, tensor<2x1xf32>) -> tensor<2x2xf32>
// INT: %[[B:.*]] = qc.add %[[R]], %{{.*}} : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
// INT: return %[[B]]
// INT-NOT: qc.gemm

// LINALG-LABEL: func.func @linear
// LINALG-NOT: qc.
// LINALG: linalg.matmul {{.*}}ins(%{{.*}}, %{{.*}} : tensor<2x3xi32>, tensor<3x2xi32>)
// LINALG: return
func.func @linear(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[0.5, -0.2], [1.0, 0.4], [-0.25, 0.1]]> : tensor<3x2xf32>
  %c = arith.constant dense<[0.2, -0.4]> : tensor<2xf32>
  %o = qc.observe "x" %x {min = -1.0 : f64, max = 1.0 : f64, channel_axis = 1 : i64,
                          gram = dense<[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]> : tensor<3x3xf32>} : tensor<2x3xf32>
  %y = qc.gemm %o, %w, %c {alpha = 1.0 : f32, beta = 0.5 : f32, transA = 0 : i64, transB = 0 : i64} : (tensor<2x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// GPTQ on a 3 x 2 weight with 2-bit levels {-1, 0, 1} at scales 0.5 and
// 0.75: numpy's Algorithm 1 (act order, 1% dampening) on this gram gives
// [[1, 0], [0, 0], [0, 1]] where rounding to nearest gives [[1, 0], [0, 1], [0, 0]]
// (row-major int8 blobs after the 4 alignment bytes).
// GPTQ: fc.weight_int2: "0x01000000010000000001"
// RTN: fc.weight_int2: "0x01000000010000010000"
func.func @gptq(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[0.5, -0.25], [0.2, 0.75], [-0.1, 0.3]]> : tensor<3x2xf32>
  %o = qc.observe "x" %x {min = -1.0 : f64, max = 1.0 : f64, channel_axis = 1 : i64,
                          gram = dense<[[2.0, 0.9, 0.0], [0.9, 1.0, 0.5], [0.0, 0.5, 1.5]]> : tensor<3x3xf32>} : tensor<4x3xf32>
  %y = qc.matmul %o, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y : tensor<4x2xf32>
}

