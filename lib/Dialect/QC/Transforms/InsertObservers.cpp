//===- InsertObservers.cpp - qc.observe on the tensors to quantize --------===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringSet.h"

namespace qc {
#define GEN_PASS_DEF_INSERTOBSERVERS
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// A float tensor computed when the model runs: not a constant, nor a
/// constant weight decoded from its minifloat codes (qc.block_dequantize,
/// which carries its own scales).
bool isFloatActivation(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && isa<FloatType>(t.getElementType()) &&
         !matchPattern(v, m_Constant()) &&
         !v.getDefiningOp<qc::BlockDequantizeOp>();
}

/// A readable, stable name for a value: its producer's location name (the
/// ONNX node or graph input), with the result number when there are several.
std::string valueName(Value v) {
  Location loc = v.getLoc();
  std::string name = "value";
  if (auto n = dyn_cast<NameLoc>(loc))
    name = n.getName().str();
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    Operation *fn = arg.getOwner()->getParentOp();
    auto names =
        fn ? fn->getAttrOfType<ArrayAttr>(qc::QCDialect::kInputNamesAttrName)
           : nullptr;
    if (names && arg.getArgNumber() < names.size())
      if (auto s = dyn_cast<StringAttr>(names[arg.getArgNumber()]))
        name = s.str();
  }
  if (auto r = dyn_cast<OpResult>(v))
    if (r.getOwner()->getNumResults() > 1)
      name += ":" + std::to_string(r.getResultNumber());
  return name;
}

/// Whether `op` is an activation that fuses into a requantization clamp.
bool isFusableActivation(Operation *op) {
  if (isa<qc::ReluOp>(op))
    return true;
  if (auto clip = dyn_cast<qc::ClipOp>(op))
    return llvm::all_of(clip.getBounds(),
                        [](Value b) { return matchPattern(b, m_Constant()); });
  return false;
}

struct InsertObserversPass
    : qc::impl::InsertObserversBase<InsertObserversPass> {
  using Base::Base;

  /// Observes `v` once: every other use reads the observer's result.
  void observe(Value v, std::optional<int64_t> channelAxis) {
    if (!isFloatActivation(v) || v.getDefiningOp<qc::ObserveOp>())
      return;
    for (Operation *user : v.getUsers())
      if (auto obs = dyn_cast<qc::ObserveOp>(user)) {
        if (channelAxis && !obs.getChannelAxis())
          obs.setChannelAxis(*channelAxis);
        return;
      }
    OpBuilder b(v.getContext());
    b.setInsertionPointAfterValue(v);
    std::string name = valueName(v);
    while (!names.insert(name).second)
      name += "'";
    auto obs = qc::ObserveOp::create(
        b, v.getLoc(), v.getType(), name, bins, v, FloatAttr(), FloatAttr(),
        channelAxis ? b.getI64IntegerAttr(*channelAxis) : IntegerAttr(),
        DenseF64ArrayAttr(), DenseF64ArrayAttr(), ElementsAttr());
    v.replaceAllUsesExcept(obs.getOutput(), obs);
  }

  void runOnOperation() override {
    bool linearOnly = scope != qc::QuantizeScope::All;
    SmallVector<Operation *> ops;
    // Only the function's own body: calibration reads the observed values as
    // extra function results, which a value inside an If branch cannot be
    // (such branches stay float).
    getOperation()->walk([&](Operation *op) {
      if (isa<qc::ConvOp, qc::GemmOp, qc::MatMulOp, qc::AddOp, qc::ConcatOp,
              qc::GlobalAveragePoolOp>(op) &&
          isa<FunctionOpInterface>(op->getParentOp()) &&
          !(scope == qc::QuantizeScope::MatMul && isa<qc::ConvOp>(op)))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      SmallVector<std::pair<Value, std::optional<int64_t>>> inputs;
      if (isa<qc::ConvOp>(op)) {
        inputs.push_back({op->getOperand(0), 1});
      } else if (auto gemm = dyn_cast<qc::GemmOp>(op)) {
        if (gemm.getTransA())
          continue;
        inputs.push_back({gemm.getA(), 1});
      } else if (auto mm = dyn_cast<qc::MatMulOp>(op)) {
        int64_t rank = cast<RankedTensorType>(mm.getA().getType()).getRank();
        if (rank < 2)
          continue;
        // Products of two activations (attention's) stay float in the
        // linear scope: it quantizes layers with weights.
        if (linearOnly && isFloatActivation(mm.getB()))
          continue;
        inputs.push_back({mm.getA(), rank - 1});
        inputs.push_back({mm.getB(), std::nullopt});
      } else {
        if (linearOnly)
          continue;
        // Add, Concat and pooling quantize only when every input is an
        // activation.
        if (!llvm::all_of(op->getOperands(), isFloatActivation))
          continue;
        for (Value v : op->getOperands())
          inputs.push_back({v, std::nullopt});
      }
      if (!isFloatActivation(op->getOperand(0)))
        continue;
      for (auto [v, axis] : inputs)
        observe(v, axis);
      if (linearOnly)
        continue;
      Value out = op->getResult(0);
      if (out.hasOneUse() && isFusableActivation(*out.getUsers().begin()))
        out = out.getUsers().begin()->getResult(0);
      observe(out, std::nullopt);
    }
  }

  llvm::StringSet<> names;
};

} // namespace
