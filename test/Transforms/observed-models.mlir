// The IR edits of calibration and of the sensitivity measurement, as passes.
// RUN: quant-opt %s --expose-observed | FileCheck %s --check-prefix=EXPOSE
// RUN: quant-opt %s --strip-observers | FileCheck %s --check-prefix=STRIP
// RUN: quant-opt %s --parameterize-for-sensitivity | FileCheck %s --check-prefix=SENS
// RUN: quant-opt %s --qc-prepare-calibration="scope=linear" | FileCheck %s --check-prefix=PREP

// The observed values follow the model's own results, named observed:<name>.
// EXPOSE-LABEL: func.func @main_graph
// EXPOSE-SAME: -> (tensor<2x250xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
// EXPOSE-SAME: qc.output_names = ["y", "z", "observed:x", "observed:h"]
// EXPOSE: %[[X:.*]] = qc.observe "x"
// EXPOSE: %[[H:.*]] = qc.observe "h"
// EXPOSE: return %{{.*}}, %{{.*}}, %[[X]], %[[H]]

// STRIP-LABEL: func.func @main_graph
// STRIP-NOT: qc.observe
// STRIP: qc.matmul %arg0,
// STRIP: qc.relu

// Each layer's weight becomes an argument (weight:0..2); each distinct
// layer input gets a fake quantization switched by five scalar arguments
// (fq:<g>:0..4): x + e * ((clip(round(x / s) + z, lo, hi) - z) * s - x).
// SENS-LABEL: func.func @main_graph
// SENS-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[W0:.*]]: tensor<4x4xf32>, %[[W1:.*]]: tensor<4x250xf32>, %[[W2:.*]]: tensor<4x4xf32>, %[[E:.*]]: tensor<f32>, %[[S:.*]]: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>)
// SENS-SAME: qc.input_names = ["input0", "weight:0", "weight:1", "weight:2", "fq:0:0", "fq:0:1", "fq:0:2", "fq:0:3", "fq:0:4", "fq:1:0", "fq:1:1", "fq:1:2", "fq:1:3", "fq:1:4"]
// SENS-NOT: qc.observe
// SENS: %[[D:.*]] = qc.div %[[X]], %[[S]]
// SENS: qc.round %[[D]]
// SENS: qc.clip
// SENS: %[[FQ:.*]] = qc.add %[[X]], %{{.*}}
// SENS: qc.matmul %[[FQ]], %[[W0]]

// PREP-LABEL: func.func @main_graph
// PREP: qc.observe

func.func @main_graph(%x: tensor<2x4xf32>) -> (tensor<2x250xf32>, tensor<2x4xf32>) attributes {qc.output_names = ["y", "z"]} {
  %w1 = arith.constant dense<[[1.0, 0.0, 2.0, 1.0], [0.0, 1.0, -1.0, 0.5], [3.0, 1.0, 0.0, -1.0], [0.5, 0.5, 0.5, 0.5]]> : tensor<4x4xf32>
  %w2 = arith.constant dense<0.25> : tensor<4x250xf32>
  %w3 = arith.constant dense<0.5> : tensor<4x4xf32>
  %o = qc.observe "x" %x {min = -1.0 : f64, max = 1.0 : f64, channel_axis = 1 : i64} : tensor<2x4xf32>
  %m = qc.matmul %o, %w1 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32> loc("fc1")
  %r = qc.relu %m : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %h = qc.observe "h" %r {min = 0.0 : f64, max = 4.0 : f64, channel_axis = 1 : i64} : tensor<2x4xf32>
  %y = qc.matmul %h, %w2 : (tensor<2x4xf32>, tensor<4x250xf32>) -> tensor<2x250xf32> loc("fc2")
  %z = qc.matmul %h, %w3 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32> loc("fc3")
  return %y, %z : tensor<2x250xf32>, tensor<2x4xf32>
}
