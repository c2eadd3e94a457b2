//===- AssignBitWidths.cpp - the assign-bit-widths pass -------------------===//
#include "qc/Quantization/BitWidths.h"
#include "qc/Quantization/Passes.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

namespace qc {
#define GEN_PASS_DEF_ASSIGNBITWIDTHS
#include "qc/Quantization/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

struct AssignBitWidthsPass
    : qc::impl::AssignBitWidthsBase<AssignBitWidthsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](const llvm::Twine &msg) {
      module.emitError() << "assign-bit-widths: " << msg;
      signalPassFailure();
    };
    if (table.empty())
      return fail("needs a sensitivity table (table=FILE)");
    auto t = qc::readSensitivityTable(table);
    if (!t)
      return fail(llvm::toString(t.takeError()));
    qc::BitBudget b;
    if (!sizeBudget.empty() && !(b.bytes = qc::parseQuantity(sizeBudget)))
      return fail("size-budget '" + sizeBudget + "' is not a size");
    if (!bopsBudget.empty() && !(b.bops = qc::parseQuantity(bopsBudget)))
      return fail("bops-budget '" + bopsBudget + "' is not a count");
    if (!b.bytes && !b.bops)
      return fail("needs size-budget or bops-budget");
    if (t->layers.empty() || t->weightBits.empty())
      return fail(table + " has no layers or no formats");
    if (pinFirstLast) {
      unsigned widest =
          *std::max_element(t->weightBits.begin(), t->weightBits.end());
      b.weightPins = {{0, widest}, {t->layers.size() - 1, widest}};
    }
    llvm::Expected<qc::BitAssignment> a = qc::assignBitWidths(*t, b, method);
    if (!a)
      return fail(llvm::toString(a.takeError()));
    if (llvm::Error e = qc::applyBitWidths(module, *t, *a))
      return fail(llvm::toString(std::move(e)));
    module.emitRemark() << "assign-bit-widths: " << a->status << "; "
                        << llvm::formatv("{0:f0} bytes, {1:e3} BOPs", a->bytes,
                                         a->bops);
  }
};

} // namespace
