// RUN: quant-opt %s -convert-qc-to-linalg -split-input-file | FileCheck %s

// Broadcasting: a missing leading dim is not indexed, a size-1 dim reads index 0.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @broadcast
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[ADD:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1 : tensor<2x3xf32>, tensor<3xf32>) outs(%[[E0]] : tensor<2x3xf32>)
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], {{.*}} ins(%[[ADD]], %arg2 : tensor<2x3xf32>, tensor<2x1xf32>)
// CHECK: arith.mulf
// CHECK-NOT: qc.
func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<2x1xf32>) -> tensor<2x3xf32> {
  %0 = qc.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = qc.mul %0, %c : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// Signless integers are ONNX's signed ones; unsigned ones become signless with
// the unsigned arith ops, and the function signature follows.
// CHECK-LABEL: func @integers
// CHECK-SAME: tensor<4xi8>, %{{.*}}: tensor<4xi8>) -> (tensor<4xi32>, tensor<4xi1>, tensor<4xi8>, tensor<4xi1>, tensor<4xf32>)
// CHECK: arith.divsi
// CHECK: arith.cmpi slt
// CHECK: arith.divui {{.*}} : i8
// CHECK: arith.cmpi ult, {{.*}} : i8
// CHECK: arith.uitofp {{.*}} : i8 to f32
// CHECK-NOT: qc.
func.func @integers(%a: tensor<4xi32>, %b: tensor<4xi32>, %c: tensor<4xui8>, %d: tensor<4xui8>) -> (tensor<4xi32>, tensor<4xi1>, tensor<4xui8>, tensor<4xi1>, tensor<4xf32>) {
  %0 = qc.div %a, %b : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = qc.less %a, %b : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  %2 = qc.div %c, %d : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %3 = qc.less %c, %d : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xi1>
  %4 = qc.convert %c : (tensor<4xui8>) -> tensor<4xf32>
  return %0, %1, %2, %3, %4 : tensor<4xi32>, tensor<4xi1>, tensor<4xui8>, tensor<4xi1>, tensor<4xf32>
}

// -----

// Dynamic dims: the result's is the operand's (tensor.dim), a static size-1
// operand dim broadcasts against it, and a static result reads a dynamic
// operand as is.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func @dynamic
// CHECK-SAME: (%[[A:.*]]: tensor<?x3xf32>, %[[B:.*]]: tensor<1x3xf32>)
// CHECK: %[[N:.*]] = tensor.dim %[[A]], %c0
// CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]]{{.*}} outs(%[[E]] : tensor<?x3xf32>)
// CHECK: arith.addf
// CHECK: tensor.empty() : tensor<2x3xf32>
// CHECK: arith.maximumf
// CHECK-NOT: qc.
func.func @dynamic(%a: tensor<?x3xf32>, %b: tensor<1x3xf32>) -> (tensor<?x3xf32>, tensor<2x3xf32>) {
  %0 = qc.add %a, %b : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x3xf32>
  %1 = qc.relu %0 : (tensor<?x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<?x3xf32>, tensor<2x3xf32>
}

// -----

// Float-only computations (relu, exp) on integers are not lowered yet: the ops
// stay, rather than becoming float arith on integers.
// CHECK-LABEL: func @float_only_on_integers
// CHECK: qc.relu {{.*}} -> tensor<4xi32>
// CHECK: qc.exp {{.*}} -> tensor<4xi32>
// CHECK: arith.addi
// CHECK: arith.subi
// CHECK-NOT: arith.maximumf
func.func @float_only_on_integers(%a: tensor<4xi32>) -> (tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>) {
  %0 = qc.relu %a : (tensor<4xi32>) -> tensor<4xi32>
  %1 = qc.exp %a : (tensor<4xi32>) -> tensor<4xi32>
  %2 = qc.add %a, %a : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %3 = qc.neg %a : (tensor<4xi32>) -> tensor<4xi32>
  return %0, %1, %2, %3 : tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>
}
