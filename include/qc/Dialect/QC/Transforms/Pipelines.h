//===- Pipelines.h - the quantization pass pipelines ------------*- C++ -*-===//
//
// The pass sequences the quantization driver runs, registered so that
// quant-opt runs the same ones by name:
//
//   qc-prepare-calibration   canonicalize, fold-batch-norm, insert-observers
//   qc-lower-to-integer      lower-quantized-to-integer, canonicalize, cse
//
//===----------------------------------------------------------------------===//
#ifndef QC_DIALECT_QC_TRANSFORMS_PIPELINES_H
#define QC_DIALECT_QC_TRANSFORMS_PIPELINES_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace qc {

struct PrepareCalibrationOptions
    : public mlir::PassPipelineOptions<PrepareCalibrationOptions> {
  PassOptions::Option<int64_t> bins{
      *this, "bins", llvm::cl::desc("Histogram bins per observer"),
      llvm::cl::init(2048)};
  PassOptions::Option<QuantizeScope> scope{
      *this, "scope", llvm::cl::desc("Which activations are observed"),
      llvm::cl::init(QuantizeScope::All), clValues<QuantizeScope>()};
  PassOptions::Option<bool> equalize{
      *this, "equalize",
      llvm::cl::desc("Fold constant affines into convolutions and equalize "
                     "conv pairs (equalize-layers) before observing"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> matmulBiasToGemm{
      *this, "matmul-bias-to-gemm",
      llvm::cl::desc("Fuse MatMul + constant bias Add into a Gemm "
                     "(fold-batch-norm); off for rotation and smoothing"),
      llvm::cl::init(true)};
};

/// Builds the pipeline on functions (nested under the module).
void buildPrepareCalibrationPipeline(mlir::OpPassManager &pm,
                                     const PrepareCalibrationOptions &options);
void buildLowerToIntegerPipeline(mlir::OpPassManager &pm);

/// Registers both with the pass registry (quant-opt --qc-lower-to-integer).
void registerQuantizationPipelines();

} // namespace qc

#endif
