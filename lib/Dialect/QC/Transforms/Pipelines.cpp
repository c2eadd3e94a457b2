//===- Pipelines.cpp - the quantization pass pipelines --------------------===//
#include "qc/Dialect/QC/Transforms/Pipelines.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void qc::buildPrepareCalibrationPipeline(
    OpPassManager &pm, const PrepareCalibrationOptions &options) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createCanonicalizerPass());
  FoldBatchNormOptions fold;
  fold.matmulBiasToGemm = options.matmulBiasToGemm;
  fn.addPass(createFoldBatchNorm(fold));
  fn.addPass(createDecomposeConvTranspose());
  if (options.equalize)
    fn.addPass(createEqualizeLayers());
  InsertObserversOptions io;
  io.bins = options.bins;
  io.scope = options.scope;
  fn.addPass(createInsertObservers(io));
}

void qc::buildLowerToIntegerPipeline(OpPassManager &pm) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createLowerQuantizedToInteger());
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createCSEPass());
}

void qc::registerQuantizationPipelines() {
  PassPipelineRegistration<PrepareCalibrationOptions>(
      "qc-prepare-calibration",
      "Canonicalizes, folds BatchNorm and inserts observers: the float graph "
      "made ready "
      "for calibration",
      buildPrepareCalibrationPipeline);
  PassPipelineRegistration<>(
      "qc-lower-to-integer",
      "Rewrites quantize/dequantize islands to integer-only ops, then "
      "canonicalizes and "
      "CSEs (as quant-compile does after folding the calibration)",
      buildLowerToIntegerPipeline);
}
