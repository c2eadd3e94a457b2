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

} // namespace qc::cuda

#endif // QC_TARGET_CUDA_PASSES_H
