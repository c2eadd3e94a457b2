//===- CheckIntegerOnly.cpp - no float between quantize and dequantize ----===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

namespace qc {
#define GEN_PASS_DEF_CHECKINTEGERONLY
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

bool isFloatLike(Type t) { return isa<FloatType>(getElementTypeOrSelf(t)); }

/// The first float-typed value an op defines, uses or holds in its regions.
std::optional<Type> firstFloatType(Operation *op) {
  std::optional<Type> found;
  op->walk([&](Operation *nested) {
    for (Type t : nested->getOperandTypes())
      if (isFloatLike(t))
        found = t;
    for (Type t : nested->getResultTypes())
      if (isFloatLike(t))
        found = t;
    for (Region &region : nested->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          if (isFloatLike(arg.getType()))
            found = arg.getType();
    return found ? WalkResult::interrupt() : WalkResult::advance();
  });
  return found;
}

struct CheckIntegerOnlyPass
    : qc::impl::CheckIntegerOnlyBase<CheckIntegerOnlyPass> {
  void runOnOperation() override {
    SetVector<Operation *> reached, reaching;
    getOperation()->walk([&](qc::QuantizeOp q) {
      ForwardSliceOptions options;
      getForwardSlice(q.getOperation(), &reached, options);
    });
    getOperation()->walk([&](qc::DequantizeOp dq) {
      BackwardSliceOptions options;
      options.omitBlockArguments = true;
      (void)getBackwardSlice(dq.getOperation(), &reaching, options);
    });
    bool failed = false;
    for (Operation *op : reached) {
      if (!reaching.contains(op) || isa<qc::QuantizeOp, qc::DequantizeOp>(op))
        continue;
      if (std::optional<Type> t = firstFloatType(op)) {
        op->emitError() << "floating-point value of type " << *t
                        << " inside the integer-only region";
        failed = true;
      }
    }
    if (failed)
      signalPassFailure();
  }
};

} // namespace
