// RUN: quant-opt %s -convert-qc-to-linalg -split-input-file | FileCheck %s

// Per token, symmetric, 8 bits: one reduction pass for max |x| per row,
// s = max(m, 1e-12) / 127, one pass for q = clip(round(x / s), -127, 127).
// CHECK-LABEL: func @per_token
// CHECK-DAG: %[[QMIN:.*]] = arith.constant -1.270000e+02 : f32
// CHECK-DAG: %[[QMAX:.*]] = arith.constant 1.270000e+02 : f32
// CHECK-DAG: %[[TINY:.*]] = arith.constant 9.99999996E-13 : f32
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[X:.*]] = tensor.expand_shape %arg0 {{\[\[}}0], [1, 2]] output_shape [4, 1, 64] : tensor<4x64xf32> into tensor<4x1x64xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: %[[M:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<4x1x64xf32>) outs(%[[INIT]] : tensor<4x1xf32>)
// CHECK: %[[A:.*]] = math.absf
// CHECK: arith.maximumf %[[A]]
// CHECK: %[[S:.*]] = linalg.generic {{.*}}ins(%[[M]] : tensor<4x1xf32>)
// CHECK: %[[C:.*]] = arith.maximumf %{{.*}}, %[[TINY]]
// CHECK: arith.divf %[[C]], %[[QMAX]]
// CHECK: %[[Q:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[S]] : tensor<4x1x64xf32>, tensor<4x1xf32>) outs(%{{.*}} : tensor<4x1x64xi8>)
// CHECK: %[[D:.*]] = arith.divf
// CHECK: %[[R:.*]] = math.roundeven %[[D]]
// CHECK: %[[LO:.*]] = arith.maximumf %[[R]], %[[QMIN]]
// CHECK: %[[HI:.*]] = arith.minimumf %[[LO]], %[[QMAX]]
// CHECK: arith.fptosi %[[HI]] : f32 to i8
// CHECK: %[[QF:.*]] = tensor.collapse_shape %[[Q]] {{\[\[}}0], [1, 2]] : tensor<4x1x64xi8> into tensor<4x64xi8>
// CHECK: return %[[QF]], %[[S]]
// CHECK-NOT: qc.
func.func @per_token(%x: tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<4x1xf32>) {
  %q, %s = qc.dynamic_quantize %x bits 8 : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4x1xf32>
  return %q, %s : tensor<4x64xi8>, tensor<4x1xf32>
}

// -----

// Groups of 32 with zero points, 4 bits: the row viewed as [rows, 2, 32];
// a pass for the min and one for the max per group; lo = clip(min, -FLT_MAX, 0),
// hi = clip(max, 0, FLT_MAX), s = max(hi - lo, 1e-12) / 15,
// z = -8 - round(lo / s); one pass for q = clip(round(x / s) + z, -8, 7).
// CHECK-LABEL: func @groups_zero_points
// CHECK-DAG: %[[QMAX:.*]] = arith.constant 7.000000e+00 : f32
// CHECK-DAG: %[[QMIN:.*]] = arith.constant -8.000000e+00 : f32
// CHECK-DAG: %[[LEVELS:.*]] = arith.constant 1.500000e+01 : f32
// CHECK-DAG: %[[FMAX:.*]] = arith.constant 3.40282347E+38 : f32
// CHECK-DAG: %[[NEGFMAX:.*]] = arith.constant -3.40282347E+38 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[TINY:.*]] = arith.constant 9.99999996E-13 : f32
// CHECK: %[[X:.*]] = tensor.expand_shape %arg0 {{\[\[}}0], [1, 2]] output_shape [4, 2, 32] : tensor<4x64xf32> into tensor<4x2x32xf32>
// CHECK: %[[MIN:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<4x2x32xf32>)
// CHECK: arith.minimumf
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<4x2x32xf32>)
// CHECK: arith.maximumf
// CHECK: %[[P:.*]]:2 = linalg.generic {{.*}}ins(%[[MIN]], %[[MAX]] : tensor<4x2xf32>, tensor<4x2xf32>)
// CHECK: %[[L0:.*]] = arith.maximumf %{{.*}}, %[[NEGFMAX]]
// CHECK: %[[L:.*]] = arith.minimumf %[[L0]], %[[ZERO]]
// CHECK: %[[H0:.*]] = arith.maximumf %{{.*}}, %[[ZERO]]
// CHECK: %[[H:.*]] = arith.minimumf %[[H0]], %[[FMAX]]
// CHECK: %[[RANGE:.*]] = arith.subf %[[H]], %[[L]]
// CHECK: %[[RC:.*]] = arith.maximumf %[[RANGE]], %[[TINY]]
// CHECK: %[[S:.*]] = arith.divf %[[RC]], %[[LEVELS]]
// CHECK: %[[LS:.*]] = arith.divf %[[L]], %[[S]]
// CHECK: %[[LR:.*]] = math.roundeven %[[LS]]
// CHECK: %[[Z:.*]] = arith.subf %[[QMIN]], %[[LR]]
// CHECK: linalg.yield %[[S]], %[[Z]]
// CHECK: %[[Q:.*]] = linalg.generic {{.*}}ins(%[[X]], %[[P]]#0, %[[P]]#1 : tensor<4x2x32xf32>, tensor<4x2xf32>, tensor<4x2xf32>) outs(%{{.*}} : tensor<4x2x32xi8>)
// CHECK: %[[D:.*]] = arith.divf
// CHECK: %[[RD:.*]] = math.roundeven %[[D]]
// CHECK: %[[RZ:.*]] = arith.addf %[[RD]]
// CHECK: %[[C0:.*]] = arith.maximumf %[[RZ]], %[[QMIN]]
// CHECK: %[[C1:.*]] = arith.minimumf %[[C0]], %[[QMAX]]
// CHECK: arith.fptosi %[[C1]] : f32 to i8
// CHECK: %[[QF:.*]] = tensor.collapse_shape %[[Q]] {{\[\[}}0], [1, 2]] : tensor<4x2x32xi8> into tensor<4x64xi8>
// CHECK: return %[[QF]], %[[P]]#0, %[[P]]#1
func.func @groups_zero_points(%x: tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %q, %s, %z = qc.dynamic_quantize %x bits 4 : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4x2xf32>, tensor<4x2xf32>
  return %q, %s, %z : tensor<4x64xi8>, tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// (q - z) * s per group.
// CHECK-LABEL: func @dequantize
// CHECK: %[[Q:.*]] = tensor.expand_shape %arg0 {{\[\[}}0], [1, 2]] output_shape [4, 2, 32] : tensor<4x64xi8> into tensor<4x2x32xi8>
// CHECK: %[[Y:.*]] = linalg.generic {{.*}}ins(%[[Q]], %arg1, %arg2 : tensor<4x2x32xi8>, tensor<4x2xf32>, tensor<4x2xf32>)
// CHECK: ^bb0(%[[QV:.*]]: i8, %[[SV:.*]]: f32, %[[ZV:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[F:.*]] = arith.sitofp %[[QV]] : i8 to f32
// CHECK: %[[FZ:.*]] = arith.subf %[[F]], %[[ZV]]
// CHECK: arith.mulf %[[FZ]], %[[SV]]
// CHECK: tensor.collapse_shape %[[Y]] {{\[\[}}0], [1, 2]] : tensor<4x2x32xf32> into tensor<4x64xf32>
func.func @dequantize(%q: tensor<4x64xi8>, %s: tensor<4x2xf32>, %z: tensor<4x2xf32>) -> tensor<4x64xf32> {
  %0 = qc.dynamic_dequantize %q scales %s zero_points %z : (tensor<4x64xi8>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}
