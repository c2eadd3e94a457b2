//===- Validate.cpp - ONNX model checks before anything trusts it ---------===//
//
// What ModelImporter::validate checks before ONNX 1.12's shape inference (or
// anything else) reads the model, each failure one diagnostic at the node:
//
//  - always (the inference and ParseData crash or read out of bounds on
//    them): every tensor's data holds exactly its dims' element count (raw
//    bytes or typed values); strides, dilations and kernel_shape >= 1,
//    pads >= 0, group >= 1, DepthToSpace / SpaceToDepth blocksize in
//    [1, 46340] (its square fits an int), axis / axes within 32 bits;
//  - the ONNX checker's rules, refused unless --allow-invalid (salvage): a
//    value defined twice (node outputs, graph inputs, initializers), graph
//    outputs named twice or produced by nothing, inputs that nothing defines
//    (dangling), nodes out of topological order or in a cycle, attributes
//    the op's schema does not declare or of another type, and attribute
//    values outside the spec (a negative or NaN epsilon, an RNN direction
//    not forward / reverse / bidirectional). With --allow-invalid, nodes out
//    of order are sorted (a cycle stays an error).
//
// Subgraphs (If / Loop / Scan bodies) are checked alike, the names defined
// before their node visible in them.
//
//===----------------------------------------------------------------------===//
#include "ModelImporter.h"

#include "onnx/defs/schema.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>

using namespace mlir;
using namespace qc;
using namespace qc::onnx_import;

namespace {

/// The number of values in the typed repeated field a tensor of `type`
/// keeps its data in (int32_data for the narrow types, two 4-bit values to
/// an entry).
std::optional<int64_t> typedValues(const onnx::TensorProto &t,
                                   MLIRContext *ctx) {
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    return t.float_data_size();
  case onnx::TensorProto::DOUBLE:
    return t.double_data_size();
  case onnx::TensorProto::INT64:
    return t.int64_data_size();
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    return t.uint64_data_size();
  case onnx::TensorProto::STRING:
    return t.string_data_size();
  default:
    if (convertElementType(t.data_type(), ctx))
      return t.int32_data_size();
    return std::nullopt;
  }
}

bool isAxisAttribute(StringRef name) {
  return name == "axis" || name == "axes";
}

} // namespace

LogicalResult ModelImporter::checkTensorData(const onnx::TensorProto &t,
                                             Location loc) {
  int64_t n = 1;
  for (int64_t d : t.dims())
    if (d < 0 || llvm::MulOverflow(n, d, n))
      return emitError(loc) << "tensor '" << t.name() << "' has invalid dims ["
                            << llvm::make_range(t.dims().begin(),
                                                t.dims().end())
                            << "]";
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return success(); // readExternal checks its bytes
  // Types the importer does not read are refused when converted; libonnx
  // 1.12 parses none of the ones it does not know.
  Type elt = convertElementType(t.data_type(), ctx);
  bool nibbles = elt && rawElementBits(elt) == 4;
  if (t.has_raw_data()) {
    if (!elt)
      return success();
    uint64_t width = rawElementBits(elt) / 8;
    uint64_t want = nibbles ? (uint64_t(n) + 1) / 2 : uint64_t(n) * width;
    if (!nibbles && uint64_t(n) > UINT64_MAX / width)
      want = UINT64_MAX;
    if (t.raw_data().size() != want)
      return emitError(loc)
             << "tensor '" << t.name() << "' of dims ["
             << llvm::make_range(t.dims().begin(), t.dims().end()) << "] has "
             << t.raw_data().size() << " bytes of raw_data, not " << want;
    return success();
  }
  std::optional<int64_t> count = typedValues(t, ctx);
  if (!count)
    return success();
  int64_t want = nibbles ? (n + 1) / 2 : n;
  if (*count != want)
    return emitError(loc) << "tensor '" << t.name() << "' of dims ["
                          << llvm::make_range(t.dims().begin(), t.dims().end())
                          << "] holds " << *count << " values, not " << want;
  return success();
}

LogicalResult ModelImporter::checkNode(const onnx::NodeProto &node) {
  Location loc = nodeLoc(node);
  std::string domain = canonicalDomain(node.domain());
  int opset = opsetOf(node);
  const onnx::OpSchema *schema =
      opset ? onnx::OpSchemaRegistry::Schema(node.op_type(), opset, domain)
            : nullptr;
  bool strict = !options.allowInvalid;
  // Newer opsets than ONNX 1.12 knows get its latest schema, which may lack
  // their attributes: the schema rules hold only for opsets it knows.
  const auto &known =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto range = known.find(domain);
  if (range == known.end() || opset > range->second.second)
    schema = nullptr;
  auto fail = [&](const onnx::AttributeProto &a) {
    return nodeError(loc, node, opset) << "attribute '" << a.name() << "' ";
  };
  for (const onnx::AttributeProto &a : node.attribute()) {
    StringRef name = a.name();
    // Tensors in attributes (Constant's value) hold what their dims say.
    if (a.has_t() && failed(checkTensorData(a.t(), loc)))
      return failure();
    for (const onnx::TensorProto &t : a.tensors())
      if (failed(checkTensorData(t, loc)))
        return failure();
    if (schema && strict) {
      auto it = schema->attributes().find(a.name());
      if (it == schema->attributes().end())
        return fail(a) << "is not an attribute of " << node.op_type()
                       << " (ONNX checker: unrecognized attribute; "
                          "--allow-invalid accepts the model)";
      if (a.type() != onnx::AttributeProto::UNDEFINED &&
          a.type() != it->second.type)
        return fail(a) << "has type "
                       << onnx::AttributeProto_AttributeType_Name(a.type())
                       << " where the op takes "
                       << onnx::AttributeProto_AttributeType_Name(
                              it->second.type)
                       << " (ONNX checker: mismatched attribute type)";
    }
    // Values that crash ONNX's shape inference (a division by them, an
    // int truncation) are never accepted.
    auto ints = [&]() {
      SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
      if (a.type() == onnx::AttributeProto::INT || a.has_i())
        v.push_back(a.i());
      return v;
    };
    if (name == "strides" || name == "dilations" || name == "kernel_shape") {
      for (int64_t v : ints())
        if (v < 1)
          return fail(a) << "holds " << v << "; each must be at least 1";
    } else if (name == "pads") {
      for (int64_t v : ints())
        if (v < 0)
          return fail(a) << "holds " << v << "; pads must not be negative";
    } else if (name == "group" && a.has_i() && a.i() < 1) {
      return fail(a) << "is " << a.i() << "; it must be at least 1";
    } else if (name == "blocksize" && a.has_i() &&
               (a.i() < 1 || a.i() > 46340)) {
      return fail(a) << "is " << a.i() << "; it must be in [1, 46340]";
    } else if (isAxisAttribute(name)) {
      for (int64_t v : ints())
        if (v < INT32_MIN || v > INT32_MAX)
          return fail(a) << "holds " << v
                         << ", beyond any tensor's rank (32 bits)";
    } else if (strict && name == "epsilon" && a.has_f() &&
               !(std::isfinite(a.f()) && a.f() >= 0)) {
      return fail(a) << "is " << a.f()
                     << "; it must be finite and not negative (--allow-invalid "
                        "accepts the model)";
    } else if (strict && name == "direction" && a.has_s() &&
               (node.op_type() == "RNN" || node.op_type() == "GRU" ||
                node.op_type() == "LSTM") &&
               a.s() != "forward" && a.s() != "reverse" &&
               a.s() != "bidirectional") {
      return fail(a) << "is '" << a.s()
                     << "', not forward, reverse or bidirectional";
    }
  }
  return success();
}

int ModelImporter::opsetOf(const onnx::NodeProto &node) const {
  auto it = opsets.find(canonicalDomain(node.domain()));
  return it == opsets.end() ? 0 : it->second;
}

LogicalResult ModelImporter::validateGraph(onnx::GraphProto &graph,
                                           const llvm::StringSet<> &outer,
                                           Location loc) {
  bool strict = !options.allowInvalid;
  // Values the graph defines before its nodes.
  llvm::StringSet<> defined = outer;
  llvm::StringMap<std::string> producer; // value -> what defines it here
  auto define = [&](const std::string &name,
                    const std::string &what) -> LogicalResult {
    if (name.empty())
      return success();
    auto [it, inserted] = producer.try_emplace(name, what);
    if (!inserted && strict && it->second != what)
      return emitError(loc) << "value '" << name << "' is defined twice, by "
                            << it->second << " and by " << what
                            << " (ONNX graphs are single assignment; "
                               "--allow-invalid accepts the model)";
    defined.insert(name);
    return success();
  };
  for (const onnx::TensorProto &t : graph.initializer()) {
    Location tl = NameLoc::get(StringAttr::get(ctx, t.name()), loc);
    if (failed(checkTensorData(t, tl)) ||
        failed(define(t.name(), "an initializer")))
      return failure();
  }
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &t : graph.initializer())
    initializers.insert(t.name());
  for (const onnx::ValueInfoProto &in : graph.input()) {
    if (initializers.contains(in.name()))
      continue; // pre-IR4: listed in both
    if (failed(define(in.name(), "a graph input")))
      return failure();
    // ONNX's inference dereferences the types of inputs (a null one
    // crashed it at opset 77: found by scripts/fuzz.sh).
    if (!in.has_type() || (in.type().has_tensor_type() &&
                           in.type().tensor_type().elem_type() == 0))
      return emitError(loc) << "graph input '" << in.name()
                            << "' has no element type";
  }

  // Every node's outputs, to tell a later producer from none.
  llvm::StringMap<int> producedAt;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    if (failed(checkNode(node)))
      return failure();
    for (const std::string &o : node.output())
      if (!o.empty()) {
        std::string what = "node '" +
                           (node.name().empty() ? node.op_type() : node.name()) +
                           "'";
        if (failed(define(o, what)))
          return failure();
        producedAt.try_emplace(o, i);
      }
  }

  // Order: each input defined before its node (outer scope, graph inputs,
  // initializers, earlier nodes). --allow-invalid sorts the nodes instead.
  auto inputsOf = [](const onnx::NodeProto &node) {
    SmallVector<std::string> names(node.input().begin(), node.input().end());
    return names;
  };
  llvm::StringSet<> before = outer;
  for (const onnx::TensorProto &t : graph.initializer())
    before.insert(t.name());
  for (const onnx::ValueInfoProto &in : graph.input())
    before.insert(in.name());
  bool sorted = true;
  for (int i = 0; i < graph.node_size() && sorted; ++i) {
    const onnx::NodeProto &node = graph.node(i);
    for (const std::string &in : inputsOf(node)) {
      if (in.empty() || before.contains(in))
        continue;
      auto at = producedAt.find(in);
      if (at == producedAt.end())
        return nodeError(nodeLoc(node), node, opsetOf(node))
               << "input '" << in
               << "' is neither a graph input, an initializer nor the output "
                  "of an earlier node";
      if (strict)
        return nodeError(nodeLoc(node), node, opsetOf(node))
               << "input '" << in << "' is produced by a later node ('"
               << graph.node(at->second).name()
               << "'): the graph is not topologically sorted or has a cycle "
                  "(--allow-invalid sorts it)";
      sorted = false;
      break;
    }
    if (sorted)
      for (const std::string &o : node.output())
        before.insert(o);
  }
  if (!sorted) {
    // Kahn's algorithm over the nodes' dependencies within this graph.
    int n = graph.node_size();
    std::vector<SmallVector<int>> users(n);
    std::vector<int> pending(n, 0);
    for (int i = 0; i < n; ++i)
      for (const std::string &in : inputsOf(graph.node(i))) {
        auto at = producedAt.find(in);
        if (in.empty() || outer.contains(in) || at == producedAt.end() ||
            at->second == i)
          continue;
        users[at->second].push_back(i);
        ++pending[i];
      }
    SmallVector<int> order, ready;
    for (int i = n - 1; i >= 0; --i)
      if (!pending[i])
        ready.push_back(i);
    while (!ready.empty()) {
      int i = ready.pop_back_val();
      order.push_back(i);
      for (int u : users[i])
        if (--pending[u] == 0)
          ready.push_back(u);
    }
    if (int(order.size()) != n) {
      for (int i = 0; i < n; ++i)
        if (pending[i])
          return nodeError(nodeLoc(graph.node(i)), graph.node(i),
                           opsetOf(graph.node(i)))
                 << "is on a cycle of the graph";
    }
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    for (int i : order)
      *nodes.Add() = graph.node(i);
    graph.mutable_node()->Swap(&nodes);
  }

  llvm::StringSet<> outputs;
  for (const onnx::ValueInfoProto &o : graph.output()) {
    if (strict && !outputs.insert(o.name()).second)
      return emitError(loc) << "graph output '" << o.name()
                            << "' is listed twice (--allow-invalid accepts "
                               "the model)";
    if (!defined.contains(o.name()))
      return emitError(loc) << "graph output '" << o.name()
                            << "' is produced by no node, input or "
                               "initializer";
  }

  // Subgraphs see what is defined before their node.
  llvm::StringSet<> scope = outer;
  for (const onnx::TensorProto &t : graph.initializer())
    scope.insert(t.name());
  for (const onnx::ValueInfoProto &in : graph.input())
    scope.insert(in.name());
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    for (onnx::AttributeProto &a : *node.mutable_attribute()) {
      if (a.has_g() &&
          failed(validateGraph(*a.mutable_g(), scope, nodeLoc(node))))
        return failure();
      for (onnx::GraphProto &g : *a.mutable_graphs())
        if (failed(validateGraph(g, scope, nodeLoc(node))))
          return failure();
    }
    for (const std::string &o : node.output())
      scope.insert(o);
  }
  return success();
}
