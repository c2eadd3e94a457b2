// RUN: quant-opt %s -convert-qc-to-linalg -split-input-file | FileCheck %s

// ScatterElements with reduction add: the data carried through a loop nest
// over the updates; each index is wrapped (negative counts from the end),
// the old value read and combined with the update.
// CHECK-LABEL: func @scatter_add
// CHECK-SAME: (%[[D:.*]]: tensor<3x3xf32>, %[[I:.*]]: tensor<2x3xi64>, %[[U:.*]]: tensor<2x3xf32>)
// CHECK: scf.for %[[A:.*]] = %{{.*}} iter_args(%{{.*}} = %[[D]])
// CHECK: scf.for %[[B:.*]] = %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK: tensor.extract %[[I]][%[[A]], %[[B]]]
// CHECK: %[[NEG:.*]] = arith.cmpi slt
// CHECK: %[[ROW:.*]] = arith.select %[[NEG]]
// CHECK: %[[UPD:.*]] = tensor.extract %[[U]][%[[A]], %[[B]]]
// CHECK: %[[OLD:.*]] = tensor.extract %[[ACC]][%[[ROW]], %[[B]]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[UPD]]
// CHECK: tensor.insert %[[NEW]] into %[[ACC]][%[[ROW]], %[[B]]]
// CHECK-NOT: qc.
func.func @scatter_add(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %0 = qc.scatterelements %d, %i, %u {axis = 0 : i64, reduction = "add"} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// TopK: each element's rank is the count of larger elements plus equal ones
// at lower indices; those ranked below k (2) are inserted at their rank.
// CHECK-LABEL: func @topk
// CHECK-DAG: %[[K:.*]] = arith.constant 2 : index
// CHECK: %[[RANK:.*]] = scf.for {{.*}} -> (index)
// CHECK: arith.cmpi ult
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpf ogt
// CHECK: %[[KEPT:.*]] = arith.cmpi ult, %[[RANK]], %[[K]]
// CHECK: scf.if %[[KEPT]]
// CHECK: tensor.insert %{{.*}}[%{{.*}}, %[[RANK]]] : tensor<3x2xf32>
// CHECK: tensor.insert %{{.*}}[%{{.*}}, %[[RANK]]] : tensor<3x2xi64>
func.func @topk(%x: tensor<3x4xf32>, %k: tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  %0, %1 = qc.topk %x, %k {axis = 1 : i64, largest = 1 : i64, sorted = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %0, %1 : tensor<3x2xf32>, tensor<3x2xi64>
}

// -----

// GatherND with one batch dim: the batch index, then the index tuple read
// from the last dim of indices.
// CHECK-LABEL: func @gathernd
// CHECK: linalg.generic
// CHECK: %[[B:.*]] = linalg.index 0
// CHECK: tensor.extract %{{.*}}[%[[B]], %{{.*}}] : tensor<2x1xi64>
// CHECK: tensor.extract %{{.*}}[%[[B]], %{{.*}}, %{{.*}}] : tensor<2x2x2xf32>
func.func @gathernd(%d: tensor<2x2x2xf32>, %i: tensor<2x1xi64>) -> tensor<2x2xf32> {
  %0 = qc.gathernd %d, %i {batch_dims = 1 : i64} : (tensor<2x2x2xf32>, tensor<2x1xi64>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}
