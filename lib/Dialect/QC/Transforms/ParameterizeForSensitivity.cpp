//===- ParameterizeForSensitivity.cpp - a model with switchable formats ---===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Dialect/QC/Transforms/SensitivityLayers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace qc {
#define GEN_PASS_DEF_PARAMETERIZEFORSENSITIVITY
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

SmallVector<Operation *> qc::sensitivityLayers(func::FuncOp graph) {
  SmallVector<Operation *> layers;
  graph.walk([&](Operation *op) {
    if (!isa<ConvOp, GemmOp, MatMulOp>(op))
      return;
    auto obs = op->getOperand(0).getDefiningOp<ObserveOp>();
    auto weight = op->getOperand(1).getDefiningOp<arith::ConstantOp>();
    auto ty = cast<RankedTensorType>(op->getOperand(1).getType());
    if (!obs || !obs.getMin() || !weight || !ty.getElementType().isF32() ||
        (!isa<ConvOp>(op) && ty.getRank() != 2))
      return;
    if (auto gemm = dyn_cast<GemmOp>(op); gemm && gemm.getTransA())
      return;
    layers.push_back(op);
  });
  return layers;
}

SmallVector<Operation *> qc::switchedObservers(func::FuncOp graph, bool all) {
  SmallVector<Operation *> observers;
  for (Operation *op : sensitivityLayers(graph))
    if (Operation *obs = op->getOperand(0).getDefiningOp<ObserveOp>();
        !llvm::is_contained(observers, obs))
      observers.push_back(obs);
  if (all)
    graph.walk([&](ObserveOp obs) {
      if (obs.getMin() && !llvm::is_contained(observers, obs.getOperation()))
        observers.push_back(obs);
    });
  return observers;
}

namespace {

struct ParameterizeForSensitivityPass
    : qc::impl::ParameterizeForSensitivityBase<ParameterizeForSensitivityPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto graph = module.lookupSymbol<func::FuncOp>("main_graph");
    if (!graph) {
      module.emitError()
          << "parameterize-for-sensitivity: no function @main_graph";
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    Block &body = graph.getBody().front();
    SmallVector<Attribute> inputNames;
    if (auto names =
            graph->getAttrOfType<ArrayAttr>(QCDialect::kInputNamesAttrName))
      inputNames.assign(names.begin(), names.end());
    while (inputNames.size() < graph.getNumArguments())
      inputNames.push_back(
          StringAttr::get(ctx, "input" + std::to_string(inputNames.size())));
    auto addArg = [&](Type ty, const std::string &name) {
      inputNames.push_back(StringAttr::get(ctx, name));
      return body.addArgument(ty, graph.getLoc());
    };

    SmallVector<Operation *> layers = sensitivityLayers(graph);
    SmallVector<ObserveOp> inputs;
    for (Operation *obs : switchedObservers(graph, allActivations))
      inputs.push_back(cast<ObserveOp>(obs));
    for (auto [i, op] : llvm::enumerate(layers))
      op->setOperand(1, addArg(op->getOperand(1).getType(),
                               "weight:" + std::to_string(i)));
    auto scalarTy = RankedTensorType::get({}, Float32Type::get(ctx));
    for (auto [g, obs] : llvm::enumerate(inputs)) {
      Value p[5];
      for (int j = 0; j < 5; ++j)
        p[j] = addArg(scalarTy,
                      "fq:" + std::to_string(g) + ":" + std::to_string(j));
      // y = x + e (clip(round(x / s) + z, lo, hi) - z) s - e x
      OpBuilder b(obs);
      Location loc = obs.getLoc();
      Value x = obs.getInput();
      Type ty = x.getType();
      Value q = RoundOp::create(b, loc, ty, DivOp::create(b, loc, ty, x, p[1]));
      q = ClipOp::create(b, loc, ty, AddOp::create(b, loc, ty, q, p[2]),
                         ValueRange{p[3], p[4]});
      Value fq =
          MulOp::create(b, loc, ty, SubOp::create(b, loc, ty, q, p[2]), p[1]);
      Value delta =
          MulOp::create(b, loc, ty, SubOp::create(b, loc, ty, fq, x), p[0]);
      obs.getOutput().replaceAllUsesWith(
          AddOp::create(b, loc, ty, x, delta).getC());
    }
    graph.walk([](ObserveOp obs) {
      obs.getOutput().replaceAllUsesWith(obs.getInput());
      obs.erase();
    });
    // An output that is the Softmax of its last axis is measured at the
    // logits: kl and task are the same there, and mse compares what adds
    // across layers rather than saturated probabilities.
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    for (OpOperand &out : ret->getOpOperands())
      if (auto sm = out.get().getDefiningOp<SoftmaxOp>()) {
        int64_t rank = cast<RankedTensorType>(sm.getType()).getRank();
        if (sm.getAxis() == -1 || sm.getAxis() == rank - 1)
          out.set(sm.getInput());
      }
    graph.setType(FunctionType::get(ctx, body.getArgumentTypes(),
                                    graph.getResultTypes()));
    graph->setAttr(QCDialect::kInputNamesAttrName,
                   ArrayAttr::get(ctx, inputNames));
  }
};

} // namespace
