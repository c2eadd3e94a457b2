// RUN: quant-opt %s -convert-qc-to-linalg -split-input-file | FileCheck %s

// QuantizeLinear to uint8: divide, round half to even, add the (unsigned)
// zero point, saturate to [0, 255], convert as unsigned.
// CHECK-LABEL: func @quantize_u8
// CHECK-SAME: %{{.*}}: tensor<i8>) -> tensor<6xi8>
// CHECK-DAG: %[[HI:.*]] = arith.constant 2.550000e+02 : f32
// CHECK-DAG: %[[LO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic
// CHECK: %[[Q:.*]] = arith.divf
// CHECK: %[[R:.*]] = math.roundeven %[[Q]]
// CHECK: %[[Z:.*]] = arith.uitofp %{{.*}} : i8 to f32
// CHECK: %[[S:.*]] = arith.addf %[[R]], %[[Z]]
// CHECK: %[[M:.*]] = arith.maximumf %[[S]], %[[LO]]
// CHECK: %[[N:.*]] = arith.minimumf %[[M]], %[[HI]]
// CHECK: arith.fptoui %[[N]] : f32 to i8
// CHECK-NOT: qc.
func.func @quantize_u8(%x: tensor<6xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<6xui8> {
  %0 = qc.quantizelinear %x, %s, %z {axis = 1 : i64} : (tensor<6xf32>, tensor<f32>, tensor<ui8>) -> tensor<6xui8>
  return %0 : tensor<6xui8>
}

// -----

// Per-axis DequantizeLinear: scale and zero point are indexed by the axis
// dimension; int8 converts as signed.
// CHECK: #[[AX:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @dequantize_axis
// CHECK: linalg.generic {{.*}}#[[AX]], #[[AX]]
// CHECK: %[[X:.*]] = arith.sitofp %{{.*}} : i8 to f32
// CHECK: %[[Z:.*]] = arith.sitofp %{{.*}} : i8 to f32
// CHECK: %[[D:.*]] = arith.subf %[[X]], %[[Z]]
// CHECK: arith.mulf %[[D]]
func.func @dequantize_axis(%x: tensor<2x3xi8>, %s: tensor<3xf32>, %z: tensor<3xi8>) -> tensor<2x3xf32> {
  %0 = qc.dequantizelinear %x, %s, %z {axis = 1 : i64} : (tensor<2x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// MatMulInteger: each operand minus its zero point widened to i32 (uint8
// zero-extends, int8 sign-extends), then an i32 linalg.matmul from zero.
// CHECK-LABEL: func @matmul_integer
// CHECK: linalg.generic
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: linalg.generic
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: %[[ACC:.*]] = linalg.fill ins(%c0_i32 : i32)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x3xi32>, tensor<3x2xi32>) outs(%[[ACC]] : tensor<4x2xi32>)
func.func @matmul_integer(%a: tensor<4x3xui8>, %b: tensor<3x2xi8>, %za: tensor<1xui8>, %zb: tensor<1xi8>) -> tensor<4x2xi32> {
  %0 = qc.matmulinteger %a, %b, %za, %zb : (tensor<4x3xui8>, tensor<3x2xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<4x2xi32>
  return %0 : tensor<4x2xi32>
}
