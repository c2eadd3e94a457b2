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

// -----

// qc.table: each element indexes the constant table from the type's
// minimum (-128 for i8: + 128).
// CHECK-LABEL: func @table
// CHECK: %[[T:.*]] = arith.constant dense<{{.*}}> : tensor<256xi32>
// CHECK: linalg.generic
// CHECK: %[[E:.*]] = arith.extsi %{{.*}} : i8 to i64
// CHECK: %[[I:.*]] = arith.subi %[[E]], %c-128_i64 : i64
// CHECK: %[[X:.*]] = arith.index_cast %[[I]] : i64 to index
// CHECK: tensor.extract %[[T]][%[[X]]] : tensor<256xi32>
// CHECK: arith.trunci %{{.*}} : i32 to i8
func.func @table(%x: tensor<4xi8>) -> tensor<4xui8> {
  %0 = qc.table %x [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255] : tensor<4xi8> -> tensor<4xui8>
  return %0 : tensor<4xui8>
}
