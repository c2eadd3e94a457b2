// Per-group activations (activation-granularity=group:G) in fold-calibration,
// and their integer form in lower-quantized-to-integer: qc.matmul_group_scaled.
// RUN: quant-opt %s --fold-calibration="activation-granularity=group:2" | FileCheck %s --check-prefix=GROUP
// RUN: quant-opt %s --fold-calibration="activation-granularity=group:2" --lower-quantized-to-integer --canonicalize | FileCheck %s --check-prefix=INT
// RUN: quant-opt %s --fold-calibration="activation-granularity=group:2" --lower-quantized-to-integer --canonicalize --convert-qc-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: quant-opt %s --fold-calibration="activation-granularity=group:3" | FileCheck %s --check-prefix=ROWS
// RUN: not quant-opt %s --fold-calibration="activation-granularity=group:0" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: quant-opt %s --fold-calibration="activation-granularity=group:2 dynamic-zero-points=true" | FileCheck %s --check-prefix=ASYM
// RUN: quant-opt %s --fold-calibration="activation-granularity=group:2 dynamic-zero-points=true" --lower-quantized-to-integer --canonicalize | FileCheck %s --check-prefix=ASYMINT
// RUN: quant-opt %s --fold-calibration="activation-granularity=token dynamic-zero-points=true" --lower-quantized-to-integer --canonicalize | FileCheck %s --check-prefix=ASYMTOK

// Each row of 4 channels is split into 2 groups of 2, each with its own
// scale max |x| of the group / 127 (the op's arithmetic is checked in
// Conversion/QCToLinalg/dynamic-quantization.mlir).
// GROUP-LABEL: func.func @linear
// GROUP: %[[Q:.*]], %[[S:.*]] = qc.dynamic_quantize %arg0 bits 8 : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2x2xf32>
// GROUP: %[[X:.*]] = qc.dynamic_dequantize %[[Q]] scales %[[S]] : (tensor<2x4xi8>, tensor<2x2xf32>) -> tensor<2x4xf32>
// GROUP: qc.gemm %[[X]]

// One qc.matmul_group_scaled: the int8 groups [rows, K] and their scales
// [rows, K/G] as qc.dynamic_quantize gives them, the int8 weights, s_w per
// channel (1/127 and 0.6/127) and the float bias times beta (0.1, -0.2).
// INT-LABEL: func.func @linear
// INT-DAG: %[[BIAS:.*]] = arith.constant dense_resource<bias_beta> : tensor<2xf32>
// INT-DAG: %[[SW:.*]] = arith.constant dense_resource<group_weight_scales> : tensor<2xf32>
// INT-DAG: %[[W:.*]] = arith.constant dense_resource<weight> : tensor<4x2xi8>
// INT: %[[A:.*]], %[[S:.*]] = qc.dynamic_quantize %arg0 bits 8 : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2x2xf32>
// INT: %[[Y:.*]] = qc.matmul_group_scaled %[[A]], %[[W]] scales(%[[S]], %[[SW]]) bias %[[BIAS]] group 2
// INT: return %[[Y]]
// INT-NOT: qc.gemm
// INT-NOT: qc.dynamic_dequantize
// INT: bias_beta: "0x04000000CDCCCC3DCDCC4CBE"
// INT: group_weight_scales: "0x040000000402013C38CF9A3B"

// LINALG-LABEL: func.func @linear
// LINALG-NOT: qc.
// LINALG: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// LINALG: return

// A group size that does not divide the row: a scale per row.
// ROWS-LABEL: func.func @linear
// ROWS: qc.dynamic_quantize %arg0 bits 8 : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2x1xf32>

// With zero points: each group over [min(x, 0), max(x, 0)] in 255 steps,
// z = -128 - round(lo / s), q = clip(round(x / s) + z, -128, 127) and the
// dequantization (q - z) * s.
// ASYM-LABEL: func.func @linear
// ASYM: %[[Q:.*]], %[[S:.*]], %[[Z:.*]] = qc.dynamic_quantize %arg0 bits 8 : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xf32>
// ASYM: %[[X:.*]] = qc.dynamic_dequantize %[[Q]] scales %[[S]] zero_points %[[Z]] : (tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x4xf32>
// ASYM: qc.gemm %[[X]]

// With zero points: the same op with the groups' zero points, [rows, K/G].
// ASYMINT-LABEL: func.func @linear
// ASYMINT: %[[Q:.*]], %[[S:.*]], %[[Z:.*]] = qc.dynamic_quantize %arg0 bits 8 : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xf32>
// ASYMINT: qc.matmul_group_scaled %[[Q]], %{{.*}} scales(%[[S]], %{{.*}}) zeros %[[Z]] bias %{{.*}} group 2
// ASYMINT-NOT: qc.matmul_int
// ASYMINT-NOT: qc.gemm

// Per token with zero points: one product, corrected, scaled per row.
// ASYMTOK-LABEL: func.func @linear
// ASYMTOK: %[[Q:.*]], %[[S:.*]], %[[Z:.*]] = qc.dynamic_quantize %arg0 bits 8 : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x1xf32>
// ASYMTOK: %[[P:.*]] = qc.matmul_int %[[Q]], %{{.*}} zp(0, [0, 0]) : (tensor<2x4xi8>, tensor<4x2xi8>) -> tensor<2x2xi32>
// ASYMTOK: %[[D:.*]] = qc.dequantize
// ASYMTOK: %[[C:.*]] = qc.mul %[[Z]], %{{.*}} : (tensor<2x1xf32>, tensor<2xf32>) -> tensor<2x2xf32>
// ASYMTOK: %[[SUB:.*]] = qc.sub %[[D]], %[[C]]
// ASYMTOK: qc.mul %[[SUB]], %[[S]] : (tensor<2x2xf32>, tensor<2x1xf32>)
// ASYMTOK-NOT: qc.gemm

// BAD: for the --activation-granularity option: 'group:0' is not an activation granularity (tensor, token or group:G with G >= 1)
func.func @linear(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[0.5, -0.2], [1.0, 0.4], [-0.25, 0.1], [0.3, -0.6]]> : tensor<4x2xf32>
  %c = arith.constant dense<[0.2, -0.4]> : tensor<2xf32>
  %o = qc.observe "x" %x {min = -1.0 : f64, max = 1.0 : f64, channel_axis = 1 : i64} : tensor<2x4xf32>
  %y = qc.gemm %o, %w, %c {alpha = 1.0 : f32, beta = 0.5 : f32, transA = 0 : i64, transB = 0 : i64} : (tensor<2x4xf32>, tensor<4x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
