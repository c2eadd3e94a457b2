// RUN: quant-opt %s --insert-observers=scope=all | FileCheck %s --check-prefix=ALL
// RUN: quant-opt %s --insert-observers=scope=linear | FileCheck %s --check-prefix=LINEAR
// RUN: quant-opt %s --insert-observers=scope=matmul | FileCheck %s --check-prefix=MATMUL
// RUN: not quant-opt %s --insert-observers=scope=convs 2>&1 | FileCheck %s --check-prefix=BAD

// all: every input and result between quantizable ops (the integer-only
// chains). linear: the activation inputs of the layers with weights (the
// convolution's and the first MatMul's), not attention's product of two
// activations. matmul: as linear without the convolution (a transformer
// inside a convolutional model).
// ALL-LABEL: func.func @mixed
// ALL-COUNT-6: qc.observe
// LINEAR-LABEL: func.func @mixed
// LINEAR: qc.observe {{.*}} %arg0 {channel_axis = 1 : i64} : tensor<1x2x4x4xf32>
// LINEAR: qc.observe {{.*}} {channel_axis = 2 : i64} : tensor<1x4x12xf32>
// LINEAR-NOT: qc.observe
// MATMUL-LABEL: func.func @mixed
// MATMUL-NOT: qc.observe {{.*}} %arg0
// MATMUL: qc.observe {{.*}} {channel_axis = 2 : i64} : tensor<1x4x12xf32>
// MATMUL-NOT: qc.observe
// BAD: for the --scope option: Cannot find option named 'convs'
func.func @mixed(%x: tensor<1x2x4x4xf32>, %k: tensor<1x4x8xf32>) -> tensor<1x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<3x2x1x1xf32>
  %c = qc.conv %x, %w {auto_pad = "NOTSET", dilations = array<i64: 1, 1>, group = 1 : i64, kernel_shape = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
  %shape = arith.constant dense<[1, 4, 12]> : tensor<3xi64>
  %r = qc.reshape %c, %shape : (tensor<1x3x4x4xf32>, tensor<3xi64>) -> tensor<1x4x12xf32>
  %v = arith.constant dense<0.25> : tensor<12x8xf32>
  %m = qc.matmul %r, %v : (tensor<1x4x12xf32>, tensor<12x8xf32>) -> tensor<1x4x8xf32>
  %kt = qc.transpose %k {perm = array<i64: 0, 2, 1>} : (tensor<1x4x8xf32>) -> tensor<1x8x4xf32>
  %a = qc.matmul %m, %kt : (tensor<1x4x8xf32>, tensor<1x8x4xf32>) -> tensor<1x4x4xf32>
  return %a : tensor<1x4x4xf32>
}
