//===- Passes.h - the cuda target's passes ----------------------*- C++ -*-===//
#ifndef QC_TARGET_CUDA_PASSES_H
#define QC_TARGET_CUDA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace qc::cuda {

#define GEN_PASS_DECL
#include "qc/Target/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qc/Target/CUDA/Passes.h.inc"

/// The unit attribute that marks the linalg.generic unpacking W4 weights
/// (qc-cuda-form-int8-gemm makes it, qc-cuda-int8-gemm-to-mma reads the
/// packed operand instead of its result): packed[N, K'/2] i8 -> W[N, K'] i8
/// with W[n, 32g + j] = low nibble of packed[n, 16g + j] and
/// W[n, 32g + 16 + j] = its high nibble (j < 16), nibbles two's complement
/// (sign-extended).
inline constexpr llvm::StringLiteral kW4UnpackAttr = "qc.w4_unpack";

/// The mark of an FP8 GEMM linalg.generic (qc-cuda-form-int8-gemm makes it
/// from qc.matmul_fp8, qc-cuda-int8-gemm-to-mma runs it on the tensor
/// cores): an array of the two operands' PTX types, "e4m3" or "e5m2". The
/// generic computes C[M, N] f32 += value(A[M, K']) * value(B[N, K']), its
/// operands FP8 codes in i8, K' a multiple of 16.
inline constexpr llvm::StringLiteral kFp8GemmAttr = "qc.fp8_gemm";

/// The unit attribute that marks the linalg.generic decoding MXFP4 weights
/// (qc-cuda-form-int8-gemm makes it from qc.matmul_mx, qc-cuda-int8-gemm-to-
/// mma reads the packed operand and decodes in registers): packed[N, K/2]
/// i8 -> W[N, K] i8, W = 2 x the E2M1 value of each code. In each 16-byte
/// group g, byte 16 g + 4 t + q holds two codes of k = 32 g + 16 (q / 2) +
/// 4 t + 2 (q % 2) + h, h = 0 in the low nibble and 1 in the high one.
inline constexpr llvm::StringLiteral kMxUnpackAttr = "qc.mx_unpack";

/// The unit attribute that marks the linalg.generic decoding MXFP6 (E2M3)
/// weights: (nibbles[N, K/2] i8, top[N, K'] i8, K' = K/4 rounded up to 16
/// bytes for cp.async) -> W[N, K] i8, W = 8 x the E2M3 value of each code.
/// A code's low 4 bits (e0 and the mantissa) are in the nibble plane as W4's
/// (qc::cuda::kW4UnpackAttr: byte 16 g + j holds k = 32 g + j low and 32 g + 16
/// + j high); its e1 and sign bits in the top plane, byte 8 g + 2 t + h (t < 4,
/// h < 2) for k = 32 g + 16 h + 4 t + q (q < 4): e1 at bit q, the sign at bit 4
/// + q. An ldmatrix word of the nibbles and the 16 bits at byte 8 g + 2 t are
/// then lane t's codes of both B registers of an m16n8k32 mma.
inline constexpr llvm::StringLiteral kMx6UnpackAttr = "qc.mx6_unpack";

/// The unit attribute that marks an MX GEMM linalg.generic (qc-cuda-form-
/// int8-gemm makes it from qc.matmul_mx): C[M, N] i64 += (A[M, K] i8 *
/// W[N, K] i8) << S[K / 32, N] (0 where S < 0), W the result of a
/// kMxUnpackAttr or kMx6UnpackAttr generic. qc-cuda-int8-gemm-to-mma runs it as
/// int8 mma.sync per block of 32 with the shifts applied to each block's int32
/// sums.
inline constexpr llvm::StringLiteral kMxGemmAttr = "qc.mx_gemm";

} // namespace qc::cuda

#endif // QC_TARGET_CUDA_PASSES_H
