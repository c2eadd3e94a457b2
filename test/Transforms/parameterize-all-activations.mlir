// With all-activations, every calibrated observer gets a switch (the error
// attribution's model), layer inputs first, then the others in walk order;
// without it only layer inputs do and other observers are removed.
// RUN: quant-opt %s --parameterize-for-sensitivity="all-activations=true" | FileCheck %s --check-prefix=ALL
// RUN: quant-opt %s --parameterize-for-sensitivity | FileCheck %s --check-prefix=LAYERS

// ALL-LABEL: func.func @main_graph
// ALL-SAME: qc.input_names = ["input0", "weight:0", "fq:0:0", "fq:0:1", "fq:0:2", "fq:0:3", "fq:0:4", "fq:1:0", "fq:1:1", "fq:1:2", "fq:1:3", "fq:1:4"]
// ALL-NOT: qc.observe
// ALL: %[[FQX:.*]] = qc.add %arg0,
// ALL: %[[M:.*]] = qc.matmul %[[FQX]], %arg1
// ALL: %[[R:.*]] = qc.relu %[[M]]
// ALL: qc.div %[[R]], %arg8
// ALL: %[[FQR:.*]] = qc.add %[[R]],
// ALL: return %[[FQR]]

// LAYERS-LABEL: func.func @main_graph
// LAYERS-SAME: qc.input_names = ["input0", "weight:0", "fq:0:0", "fq:0:1", "fq:0:2", "fq:0:3", "fq:0:4"]
// LAYERS-NOT: qc.observe
// LAYERS: %[[R:.*]] = qc.relu
// LAYERS: return %[[R]]

func.func @main_graph(%x: tensor<2x4xf32>) -> tensor<2x4xf32> attributes {qc.output_names = ["y"]} {
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %o = qc.observe "x" %x {min = -1.0 : f64, max = 1.0 : f64} : tensor<2x4xf32>
  %m = qc.matmul %o, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32> loc("fc")
  %r = qc.relu %m : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = qc.observe "y" %r {min = 0.0 : f64, max = 2.0 : f64} : tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
