//===- ExposeObserved.cpp - observed activations as function results ------===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace qc {
#define GEN_PASS_DEF_EXPOSEOBSERVED
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

struct ExposeObservedPass : qc::impl::ExposeObservedBase<ExposeObservedPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto graph = module.lookupSymbol<func::FuncOp>("main_graph");
    if (!graph) {
      module.emitError() << "expose-observed: no function @main_graph";
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    Block &body = graph.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    SmallVector<Value> values(ret.getOperands());
    SmallVector<Attribute> names;
    if (auto n = graph->getAttrOfType<ArrayAttr>(
            qc::QCDialect::kOutputNamesAttrName))
      names.assign(n.begin(), n.end());
    while (names.size() < values.size())
      names.push_back(
          StringAttr::get(ctx, "output" + std::to_string(names.size())));
    for (Operation &op : body) {
      StringAttr name;
      if (auto obs = dyn_cast<qc::ObserveOp>(op); obs && !quantized)
        name = obs.getNameAttr();
      else if (quantized)
        name = op.getAttrOfType<StringAttr>(qc::QCDialect::kObservedAttrName);
      if (!name)
        continue;
      values.push_back(op.getResult(0));
      names.push_back(StringAttr::get(ctx, kObservedPrefix + name.str()));
    }
    OpBuilder b(ret);
    func::ReturnOp::create(b, ret.getLoc(), values);
    ret.erase();
    graph.setType(FunctionType::get(ctx, graph.getArgumentTypes(),
                                    ValueRange(values).getTypes()));
    graph->setAttr(qc::QCDialect::kOutputNamesAttrName,
                   ArrayAttr::get(ctx, names));
  }

  static constexpr llvm::StringLiteral kObservedPrefix = "observed:";
};

} // namespace
