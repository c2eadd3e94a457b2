//===- StripObservers.cpp - the float model without its observers ---------===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

namespace qc {
#define GEN_PASS_DEF_STRIPOBSERVERS
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

struct StripObserversPass : qc::impl::StripObserversBase<StripObserversPass> {
  void runOnOperation() override {
    getOperation()->walk([](qc::ObserveOp obs) {
      obs.getOutput().replaceAllUsesWith(obs.getInput());
      obs.erase();
    });
  }
};

} // namespace
