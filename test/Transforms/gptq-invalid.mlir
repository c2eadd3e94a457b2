// GPTQ without the layer input's second moments is an error naming the observer.
// RUN: not quant-opt %s --fold-calibration="weight-rounding=gptq" 2>&1 | FileCheck %s
// RUN: not quant-opt %s --fold-calibration="weight-rounding=best" 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK: error: gptq rounding needs the second moments of 'h' (3x3 gram; calibrate with them)
func.func @nogram(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<0.5> : tensor<3x2xf32>
  %o = qc.observe "h" %x {min = -1.0 : f64, max = 1.0 : f64, channel_axis = 1 : i64} : tensor<4x3xf32>
  %y = qc.matmul %o, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
// BAD: for the --weight-rounding option: Cannot find option named 'best'
