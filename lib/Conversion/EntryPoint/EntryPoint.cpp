//===- EntryPoint.cpp - qc_run(void **) around an imported graph ----------===//
#include "qc/Conversion/EntryPoint.h"
#include "qc/Conversion/Passes.h"
#include "qc/Dialect/QC/IR/QCDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/IRMapping.h"

namespace qc {
#define GEN_PASS_DEF_CREATEENTRYPOINT
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

bool qc::dtypeOf(Type t, DType &dtype) {
  if (t.isF32())
    dtype = DType::Float;
  else if (t.isF64())
    dtype = DType::Double;
  else if (t.isF16())
    dtype = DType::Float16;
  else if (t.isBF16())
    dtype = DType::BFloat16;
  else if (t.isInteger(1))
    dtype = DType::Bool;
  else if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8:
      dtype = u ? DType::UInt8 : DType::Int8;
      break;
    case 16:
      dtype = u ? DType::UInt16 : DType::Int16;
      break;
    case 32:
      dtype = u ? DType::UInt32 : DType::Int32;
      break;
    case 64:
      dtype = u ? DType::UInt64 : DType::Int64;
      break;
    default:
      return false;
    }
  } else
    return false;
  return true;
}

int64_t qc::dtypeSize(DType d) {
  switch (d) {
  case DType::Bool:
  case DType::UInt8:
  case DType::Int8:
    return 1;
  case DType::UInt16:
  case DType::Int16:
  case DType::Float16:
  case DType::BFloat16:
    return 2;
  case DType::Float:
  case DType::Int32:
  case DType::UInt32:
    return 4;
  case DType::Double:
  case DType::Int64:
  case DType::UInt64:
    return 8;
  }
  return 0;
}

const char *qc::dtypeName(DType d) {
  switch (d) {
  case DType::Float:
    return "float32";
  case DType::Double:
    return "float64";
  case DType::Float16:
    return "float16";
  case DType::BFloat16:
    return "bfloat16";
  case DType::Bool:
    return "bool";
  case DType::UInt8:
    return "uint8";
  case DType::Int8:
    return "int8";
  case DType::UInt16:
    return "uint16";
  case DType::Int16:
    return "int16";
  case DType::UInt32:
    return "uint32";
  case DType::Int32:
    return "int32";
  case DType::UInt64:
    return "uint64";
  case DType::Int64:
    return "int64";
  }
  return "?";
}

int64_t qc::TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

FailureOr<qc::ModelSignature> qc::getModelSignature(func::FuncOp graph) {
  ModelSignature sig;
  auto collect = [&](TypeRange types, StringRef namesAttr, StringRef kind,
                     std::vector<TensorSpec> &specs) -> LogicalResult {
    auto names = graph->getAttrOfType<ArrayAttr>(namesAttr);
    for (auto [i, t] : llvm::enumerate(types)) {
      TensorSpec spec;
      spec.name = kind.str() + std::to_string(i);
      if (names && i < names.size())
        if (auto s = dyn_cast<StringAttr>(names[i]))
          spec.name = s.str();
      auto tt = dyn_cast<RankedTensorType>(t);
      if (!tt || !tt.hasStaticShape())
        return graph.emitError()
               << kind << " '" << spec.name << "' has type " << t
               << "; a compiled model needs static shapes (give them with "
                  "--input-shape NAME:DIMS)";
      if (!dtypeOf(tt.getElementType(), spec.dtype))
        return graph.emitError()
               << kind << " '" << spec.name << "' has unsupported element type "
               << tt.getElementType();
      spec.shape.assign(tt.getShape().begin(), tt.getShape().end());
      specs.push_back(std::move(spec));
    }
    return success();
  };
  if (failed(collect(graph.getArgumentTypes(), QCDialect::kInputNamesAttrName,
                     "input", sig.inputs)) ||
      failed(collect(graph.getResultTypes(), QCDialect::kOutputNamesAttrName,
                     "output", sig.outputs)))
    return failure();
  return sig;
}

Value qc::wrapBuffer(OpBuilder &b, Location loc, Value ptr, MemRefType type) {
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type();
  auto ptrTy = LLVM::LLVMPointerType::get(ctx);
  int64_t rank = type.getRank();
  SmallVector<Type> fields = {ptrTy, ptrTy, i64};
  if (rank > 0) {
    fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
    fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
  }
  auto descTy = LLVM::LLVMStructType::getLiteral(ctx, fields);
  Value desc = LLVM::PoisonOp::create(b, loc, descTy);
  auto i64c = [&](int64_t v) {
    return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  };
  desc = LLVM::InsertValueOp::create(b, loc, desc, ptr, ArrayRef<int64_t>{0});
  desc = LLVM::InsertValueOp::create(b, loc, desc, ptr, ArrayRef<int64_t>{1});
  desc =
      LLVM::InsertValueOp::create(b, loc, desc, i64c(0), ArrayRef<int64_t>{2});
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    desc = LLVM::InsertValueOp::create(b, loc, desc, i64c(type.getDimSize(d)),
                                       ArrayRef<int64_t>{3, d});
    desc = LLVM::InsertValueOp::create(b, loc, desc, i64c(stride),
                                       ArrayRef<int64_t>{4, d});
    stride *= type.getDimSize(d);
  }
  return UnrealizedConversionCastOp::create(b, loc, type, desc).getResult(0);
}

namespace {

struct CreateEntryPointPass
    : qc::impl::CreateEntryPointBase<CreateEntryPointPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto graph = module.lookupSymbol<func::FuncOp>(graphFunction);
    if (!graph || graph.isExternal()) {
      module.emitError() << "no function @" << graphFunction
                         << " with a body to compile";
      return signalPassFailure();
    }
    if (failed(qc::getModelSignature(graph)))
      return signalPassFailure();
    if (!graph.getBody().hasOneBlock()) {
      graph.emitError() << "expected a single-block graph function";
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    Location loc = graph.getLoc();
    OpBuilder b(graph);
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    auto entry = func::FuncOp::create(b, loc, qc::kEntryPointName,
                                      b.getFunctionType({ptrTy}, {}));
    b.setInsertionPointToStart(entry.addEntryBlock());
    Value argv = entry.getArgument(0);
    int64_t slot = 0;
    auto buffer = [&](MemRefType type) {
      Value addr = LLVM::GEPOp::create(b, loc, ptrTy, ptrTy, argv,
                                       ArrayRef<LLVM::GEPArg>{slot++});
      Value ptr = LLVM::LoadOp::create(b, loc, ptrTy, addr);
      return qc::wrapBuffer(b, loc, ptr, type);
    };
    auto memrefOf = [](Type t) {
      auto tt = cast<RankedTensorType>(t);
      return MemRefType::get(tt.getShape(), tt.getElementType());
    };
    // Inputs are read-only views of the caller's buffers: bufferization
    // copies before any in-place update.
    IRMapping mapping;
    Block &body = graph.getBody().front();
    for (BlockArgument arg : body.getArguments()) {
      Value m = buffer(memrefOf(arg.getType()));
      mapping.map(arg, bufferization::ToTensorOp::create(b, loc, arg.getType(),
                                                         m, /*restrict=*/true,
                                                         /*writable=*/false));
    }
    // The caller's output buffers, wrapped before the body so that
    // qc-forward-output-buffers can let the op that computes a result write
    // it there.
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    SmallVector<Value> outs;
    for (Value v : ret.getOperands())
      outs.push_back(buffer(memrefOf(v.getType())));
    for (Operation &op : body.without_terminator())
      b.clone(op, mapping);
    // Results are computed into the caller's output buffers.
    for (auto [v, m] : llvm::zip(ret.getOperands(), outs)) {
      auto mat = bufferization::MaterializeInDestinationOp::create(
          b, ret.getLoc(), mapping.lookupOrDefault(v), m);
      mat.setRestrict(true);
      mat.setWritable(true);
    }
    func::ReturnOp::create(b, ret.getLoc());
    graph.erase();
  }
};

} // namespace
