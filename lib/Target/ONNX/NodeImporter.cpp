//===- NodeImporter.cpp - helpers for ONNX op handlers, the registry ------===//
#include "NodeImporter.h"
#include "ModelImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace qc::onnx_import;

NodeImporter::NodeImporter(ModelImporter &model, const onnx::NodeProto &node,
                           int opset, const onnx::OpSchema *schema,
                           Location loc, SmallVector<Value> inputs,
                           SmallVector<Type> resultTypes)
    : node(node), opset(opset), schema(schema), loc(loc),
      builder(model.builder), inputs(std::move(inputs)),
      resultTypes(std::move(resultTypes)), model(model) {}

InFlightDiagnostic qc::onnx_import::nodeError(Location loc,
                                              const onnx::NodeProto &node,
                                              int opset) {
  std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
  InFlightDiagnostic d = emitError(loc)
                         << "ONNX " << node.op_type() << " (domain " << domain;
  if (opset > 0)
    d << ", opset " << opset;
  return std::move(d) << ") node '"
                      << (node.name().empty() ? "<unnamed>" : node.name())
                      << "': ";
}

InFlightDiagnostic NodeImporter::error() { return nodeError(loc, node, opset); }

const onnx::AttributeProto *NodeImporter::attr(StringRef name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  if (schema) {
    auto it = schema->attributes().find(name.str());
    if (it != schema->attributes().end() && it->second.default_value.has_name())
      return &it->second.default_value;
  }
  return nullptr;
}

std::optional<int64_t> NodeImporter::getInt(StringRef name) const {
  if (const auto *a = attr(name); a && a->has_i())
    return a->i();
  return std::nullopt;
}
std::optional<float> NodeImporter::getFloat(StringRef name) const {
  if (const auto *a = attr(name); a && a->has_f())
    return a->f();
  return std::nullopt;
}
std::optional<std::string> NodeImporter::getString(StringRef name) const {
  if (const auto *a = attr(name); a && a->has_s())
    return a->s();
  return std::nullopt;
}
std::optional<SmallVector<int64_t>>
NodeImporter::getInts(StringRef name) const {
  if (const auto *a = attr(name); a && a->type() == onnx::AttributeProto::INTS)
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  return std::nullopt;
}

std::optional<SmallVector<int64_t>>
NodeImporter::constantInts(unsigned i) const {
  if (i >= inputs.size() || !inputs[i])
    return std::nullopt;
  DenseIntElementsAttr attr;
  if (!matchPattern(inputs[i], m_Constant(&attr)))
    return std::nullopt;
  bool isUnsigned = attr.getElementType().isUnsignedInteger();
  SmallVector<int64_t> out;
  for (const APInt &v : attr.getValues<APInt>())
    out.push_back(isUnsigned ? int64_t(v.getZExtValue()) : v.getSExtValue());
  return out;
}

Value NodeImporter::constI64(ArrayRef<int64_t> values) {
  auto type =
      RankedTensorType::get({int64_t(values.size())}, builder.getI64Type());
  return arith::ConstantOp::create(builder, loc,
                                   DenseIntElementsAttr::get(type, values));
}

Value NodeImporter::create(StringRef name, ValueRange operands, Type type,
                           ArrayRef<NamedAttribute> attrs) {
  OperationState s(loc, name);
  s.addOperands(operands);
  s.addTypes(type);
  s.addAttributes(attrs);
  return builder.create(s)->getResult(0);
}

Value NodeImporter::splat(RankedTensorType type, double value) {
  Type elt = type.getElementType();
  TypedAttr attr;
  if (auto ft = dyn_cast<FloatType>(elt))
    attr = DenseElementsAttr::get(type, builder.getFloatAttr(ft, value));
  else
    attr = DenseElementsAttr::get(
        type, builder.getIntegerAttr(elt, APInt(elt.getIntOrFloatBitWidth(),
                                                uint64_t(int64_t(value)),
                                                !elt.isUnsignedInteger())));
  return arith::ConstantOp::create(builder, loc, attr);
}

RankedTensorType NodeImporter::inputType(unsigned i) const {
  return cast<RankedTensorType>(inputs[i].getType());
}

FailureOr<Attribute> NodeImporter::convert(const onnx::AttributeProto &a) {
  switch (a.type()) {
  case onnx::AttributeProto::INT:
    return Attribute(builder.getI64IntegerAttr(a.i()));
  case onnx::AttributeProto::FLOAT:
    return Attribute(builder.getF32FloatAttr(a.f()));
  case onnx::AttributeProto::STRING:
    return Attribute(builder.getStringAttr(a.s()));
  case onnx::AttributeProto::INTS:
    return Attribute(builder.getDenseI64ArrayAttr(
        SmallVector<int64_t>(a.ints().begin(), a.ints().end())));
  case onnx::AttributeProto::STRINGS: {
    SmallVector<StringRef> strs(a.strings().begin(), a.strings().end());
    return Attribute(builder.getStrArrayAttr(strs));
  }
  case onnx::AttributeProto::FLOATS:
    return Attribute(builder.getDenseF32ArrayAttr(
        SmallVector<float>(a.floats().begin(), a.floats().end())));
  case onnx::AttributeProto::TENSOR: {
    FailureOr<ElementsAttr> t = model.convertTensor(a.t(), loc);
    if (failed(t))
      return failure();
    return Attribute(*t);
  }
  default:
    return error() << "attribute '" << a.name() << "' has unsupported kind "
                   << onnx::AttributeProto_AttributeType_Name(a.type());
  }
}

LogicalResult NodeImporter::createDirect(StringRef opName,
                                         ArrayRef<NamedAttribute> extraAttrs,
                                         ArrayRef<StringRef> ignoredAttrs) {
  // Trailing omitted optional inputs drop out; one in the middle cannot be
  // told apart from a later one, so the handler must deal with it.
  SmallVector<Value> operands(inputs);
  while (!operands.empty() && !operands.back())
    operands.pop_back();
  if (llvm::is_contained(operands, Value()))
    return error() << "an omitted optional input followed by a present one "
                   << "is not supported for this op";
  return createDirect(opName, operands, extraAttrs, ignoredAttrs);
}

LogicalResult NodeImporter::createDirect(StringRef opName, ValueRange operands,
                                         ArrayRef<NamedAttribute> extraAttrs,
                                         ArrayRef<StringRef> ignoredAttrs) {
  std::string name =
      opName.empty() ? "qc." + StringRef(node.op_type()).lower() : opName.str();
  std::optional<RegisteredOperationName> opInfo =
      RegisteredOperationName::lookup(name, builder.getContext());
  if (!opInfo)
    return error() << "no op '" << name << "' to import into";
  auto declared = [&](StringRef attrName) {
    return llvm::any_of(opInfo->getAttributeNames(),
                        [&](StringAttr n) { return n.getValue() == attrName; });
  };
  NamedAttrList attrs(extraAttrs);
  // Node attributes, then schema defaults for what the node leaves out.
  for (const auto &a : node.attribute()) {
    if (llvm::is_contained(ignoredAttrs, a.name()) || attrs.get(a.name()))
      continue;
    if (!declared(a.name())) {
      // Harmless when it says what the default says.
      if (schema) {
        auto it = schema->attributes().find(a.name());
        if (it != schema->attributes().end() &&
            it->second.default_value.has_name() &&
            it->second.default_value.SerializeAsString() == [&] {
              onnx::AttributeProto c = a;
              c.clear_doc_string();
              return c.SerializeAsString();
            }())
          continue;
      }
      return error() << "attribute '" << a.name() << "' is not supported";
    }
    FailureOr<Attribute> v = convert(a);
    if (failed(v))
      return failure();
    attrs.set(a.name(), *v);
  }
  if (schema)
    for (const auto &[attrName, def] : schema->attributes()) {
      if (!def.default_value.has_name() || attrs.get(attrName) ||
          !declared(attrName) || llvm::is_contained(ignoredAttrs, attrName))
        continue;
      FailureOr<Attribute> v = convert(def.default_value);
      if (failed(v))
        return failure();
      attrs.set(attrName, *v);
    }

  SmallVector<Type> types;
  for (auto [i, t] : llvm::enumerate(resultTypes)) {
    if (t) {
      types.push_back(t);
      continue;
    }
    // Omitted trailing optional outputs drop out.
    if (llvm::all_of(ArrayRef<Type>(resultTypes).drop_front(i),
                     [](Type x) { return !x; }))
      break;
    return error() << "the type of output #" << i << " ('" << node.output(i)
                   << "') is unknown; give the inputs' shapes with "
                   << "--input-shape";
  }
  OperationState state(loc, *opInfo);
  state.addOperands(operands);
  state.addAttributes(attrs);
  state.addTypes(types);
  Operation *op = builder.create(state);
  // An attribute of the wrong kind (an INT where the op declares a float)
  // does not convert to the op's property and would vanish silently.
  for (const NamedAttribute &a : attrs) {
    if (!declared(a.getName()))
      continue;
    std::optional<Attribute> stored = op->getInherentAttr(a.getName());
    if (!stored || *stored != a.getValue()) {
      op->erase();
      return error() << "attribute '" << a.getName().getValue()
                     << "' = " << a.getValue()
                     << " is not of the kind the op takes";
    }
  }
  results.assign(op->getResults().begin(), op->getResults().end());
  return success();
}

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

void HandlerRegistry::add(StringRef domain, StringRef opType, int since,
                          int until, Handler handler) {
  table[{domain.str(), opType.str()}].push_back(
      {since, until, std::move(handler)});
}

void HandlerRegistry::addDirect(StringRef opType, int since, int until) {
  add("", opType, since, until,
      [](NodeImporter &n) { return n.createDirect(); });
}

const Handler *HandlerRegistry::lookup(StringRef domain, StringRef opType,
                                       int opset) const {
  auto it = table.find({domain.str(), opType.str()});
  if (it == table.end())
    return nullptr;
  for (const HandlerEntry &e : it->second)
    if (opset >= e.since && opset <= e.until)
      return &e.handler;
  return nullptr;
}

std::vector<std::string> HandlerRegistry::supportedOps() const {
  std::vector<std::string> out;
  for (const auto &entry : table)
    out.push_back((entry.first.first.empty() ? "" : entry.first.first + ".") +
                  entry.first.second);
  return out;
}

std::vector<qc::SupportedONNXOp> qc::supportedONNXOps() {
  std::vector<SupportedONNXOp> out;
  for (auto &[key, entries] : HandlerRegistry::get().entries())
    for (const HandlerEntry &e : entries)
      out.push_back({key.first, key.second, e.since, e.until});
  return out;
}

const HandlerRegistry &HandlerRegistry::get() {
  static const HandlerRegistry registry = [] {
    HandlerRegistry r;
    registerElementwiseHandlers(r);
    registerConvPoolHandlers(r);
    registerNormalizationHandlers(r);
    registerShapeHandlers(r);
    registerQuantizationHandlers(r);
    return r;
  }();
  return registry;
}
