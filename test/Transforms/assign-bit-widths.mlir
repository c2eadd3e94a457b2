// assign-bit-widths solves the integer program over a sensitivity table
// (Inputs/bit-widths-table.json: fc1 and fc3 are first and last, pinned to
// 8 bits; fc2 holds 1000 of the weights) and writes the formats, which
// fold-calibration honours.
//
// Size budget 700 bytes: 100 fixed + 16 + 16 (fc1, fc3 at 8 bits) + 1000 w / 8
// leaves fc2 at most 4.5 bits: 4 (cost 0.002 < 0.03 at 2 bits); without a
// BOPs budget both inputs keep their cheapest format, 8 bits.
// RUN: quant-opt %s --assign-bit-widths="table=%S/Inputs/bit-widths-table.json size-budget=700" 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: quant-opt %s --assign-bit-widths="table=%S/Inputs/bit-widths-table.json size-budget=700" --fold-calibration 2>&1 | FileCheck %s --check-prefix=FOLD
// BOPs budget 40000: fc2 at W2 with h at A8 costs 0.03 (36096 BOPs); W4 with h at
// A4 costs 0.002 + 0.001 (35072 BOPs); W8A4 exceeds (64000 + ...).
// RUN: quant-opt %s --assign-bit-widths="table=%S/Inputs/bit-widths-table.json bops-budget=40000" 2>&1 | FileCheck %s --check-prefix=BOPS
// The greedy baseline on the same budget.
// RUN: quant-opt %s --assign-bit-widths="table=%S/Inputs/bit-widths-table.json size-budget=700 method=greedy" 2>&1 | FileCheck %s --check-prefix=SIZE
// Below the smallest model (100 + 16 + 16 + 1000 * 2 / 8 = 382 bytes):
// RUN: not quant-opt %s --assign-bit-widths="table=%S/Inputs/bit-widths-table.json size-budget=300" 2>&1 | FileCheck %s --check-prefix=INFEASIBLE
// RUN: not quant-opt %s --assign-bit-widths="table=%S/Inputs/missing.json size-budget=300" 2>&1 | FileCheck %s --check-prefix=MISSING
// Tables that break the rules are refused with the rule (issue 31): a width
// no format has, a fraction of a bit, an infinite cost, a negative size.
// RUN: rm -rf %t && mkdir -p %t
// RUN: sed 's/"weight_bits": \[2, 4, 8\]/"weight_bits": [2, 4, 12]/' %S/Inputs/bit-widths-table.json > %t/bits.json
// RUN: not quant-opt %s --assign-bit-widths="table=%t/bits.json size-budget=700" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: sed 's/"activation_bits": \[4, 8\]/"activation_bits": [4.5, 8]/' %S/Inputs/bit-widths-table.json > %t/half.json
// RUN: not quant-opt %s --assign-bit-widths="table=%t/half.json size-budget=700" 2>&1 | FileCheck %s --check-prefix=HALF
// RUN: sed 's/"cost": \[0.5,/"cost": [1e999,/' %S/Inputs/bit-widths-table.json > %t/inf.json
// RUN: not quant-opt %s --assign-bit-widths="table=%t/inf.json size-budget=700" 2>&1 | FileCheck %s --check-prefix=INF
// RUN: sed 's/"params": 16,/"params": -16,/' %S/Inputs/bit-widths-table.json > %t/neg.json
// RUN: not quant-opt %s --assign-bit-widths="table=%t/neg.json size-budget=700" 2>&1 | FileCheck %s --check-prefix=NEG

// SIZE: remark: assign-bit-widths: {{.*}}; 632 bytes
// SIZE: qc.observe "x" {{.*}}qc.activation_scheme = #qc.scheme<format = int, bits = 8
// SIZE: qc.matmul {{.*}}qc.weight_scheme = #qc.scheme<format = int, bits = 8, isSigned = true, symmetric = true, axis = 1>
// SIZE: qc.observe "h" {{.*}}qc.activation_scheme = #qc.scheme<format = int, bits = 8
// SIZE: qc.matmul {{.*}}qc.weight_scheme = #qc.scheme<format = int, bits = 4,
// SIZE: qc.matmul {{.*}}qc.weight_scheme = #qc.scheme<format = int, bits = 8,

// FOLD: tensor<4x4x!quant.uniform<i8<-127:127>:f32:1
// FOLD: tensor<4x250x!quant.uniform<i8<-7:7>:f32:1
// FOLD: tensor<4x4x!quant.uniform<i8<-127:127>:f32:1

// BOPS: remark: assign-bit-widths: {{.*}}; 632 bytes, 3.507e+04 BOPs
// BOPS: qc.observe "x" {{.*}}bits = 8
// BOPS: qc.observe "h" {{.*}}bits = 4
// BOPS: qc.matmul {{.*}}bits = 4,

// INFEASIBLE: error: assign-bit-widths: the size budget of 300 bytes is infeasible: the smallest model these formats allow has 382 bytes
// MISSING: error: assign-bit-widths: cannot read '{{.*}}missing.json'
// BITS: error: assign-bit-widths: {{.*}}bits.json: sensitivity table: weight formats must have 2-8 bits, got 12
// HALF: error: assign-bit-widths: {{.*}}half.json: sensitivity table: weight_bits and activation_bits need whole numbers of bits
// INF: error: assign-bit-widths: {{.*}}inf.json: sensitivity table: a layer needs a name, its activation's index and one cost per weight format
// NEG: error: assign-bit-widths: {{.*}}neg.json: sensitivity table: layer 'fc1': params, channels, macs, inputs and outputs must not be negative

func.func @main_graph(%x: tensor<2x4xf32>) -> (tensor<2x250xf32>, tensor<2x4xf32>) {
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
