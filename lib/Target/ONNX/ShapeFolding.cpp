//===- ShapeFolding.cpp - fold shape subgraphs on the ONNX graph ----------===//
//
// Exporters compute reshape targets at run time: Shape -> Gather -> Unsqueeze
// -> Concat -> Reshape. When the input shapes are static these are constants,
// but ONNX's shape inference (1.12) does not see through all of them, so the
// Reshape's result stays unknown. This folds such integer subgraphs into
// initializers, alternating with shape inference until nothing changes.
//
//===----------------------------------------------------------------------===//
#include "ShapeFolding.h"

#include "qc/Support/Index.h"

#include "onnx/shape_inference/implementation.h"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>

namespace {

/// A small integer tensor known at import time.
struct IntTensor {
  std::vector<int64_t> dims;
  std::vector<int64_t> values;
};

constexpr size_t kMaxFoldedElements = 4096;

std::optional<IntTensor> fromInitializer(const onnx::TensorProto &t) {
  if (t.data_type() != onnx::TensorProto::INT64 &&
      t.data_type() != onnx::TensorProto::INT32 &&
      t.data_type() != onnx::TensorProto::BOOL)
    return std::nullopt;
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  IntTensor r;
  r.dims.assign(t.dims().begin(), t.dims().end());
  size_t n = 1;
  for (int64_t d : r.dims)
    n *= size_t(d);
  if (n > kMaxFoldedElements)
    return std::nullopt;
  bool is64 = t.data_type() == onnx::TensorProto::INT64;
  if (t.data_type() == onnx::TensorProto::BOOL) {
    if (t.has_raw_data())
      for (char c : t.raw_data())
        r.values.push_back(c != 0);
    else
      r.values.assign(t.int32_data().begin(), t.int32_data().end());
  } else if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    size_t width = is64 ? 8 : 4;
    if (raw.size() != n * width)
      return std::nullopt;
    for (size_t i = 0; i < n; ++i) {
      if (is64) {
        int64_t v;
        memcpy(&v, raw.data() + i * 8, 8);
        r.values.push_back(v);
      } else {
        int32_t v;
        memcpy(&v, raw.data() + i * 4, 4);
        r.values.push_back(v);
      }
    }
  } else if (is64) {
    r.values.assign(t.int64_data().begin(), t.int64_data().end());
  } else {
    r.values.assign(t.int32_data().begin(), t.int32_data().end());
  }
  if (r.values.size() != n)
    return std::nullopt;
  return r;
}

onnx::TensorProto toInitializer(const IntTensor &t, const std::string &name,
                                int32_t dataType) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(dataType);
  for (int64_t d : t.dims)
    p.add_dims(d);
  for (int64_t v : t.values) {
    if (dataType == onnx::TensorProto::INT32 ||
        dataType == onnx::TensorProto::BOOL)
      p.add_int32_data(int32_t(v));
    else
      p.add_int64_data(v);
  }
  return p;
}

std::optional<int64_t> intAttr(const onnx::NodeProto &n, const char *name) {
  for (const auto &a : n.attribute())
    if (a.name() == name && a.has_i())
      return a.i();
  return std::nullopt;
}

std::optional<std::vector<int64_t>> intsAttr(const onnx::NodeProto &n,
                                             const char *name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return std::vector<int64_t>(a.ints().begin(), a.ints().end());
  return std::nullopt;
}

bool isComparison(const std::string &op) {
  return op == "Equal" || op == "Less" || op == "Greater" ||
         op == "LessOrEqual" || op == "GreaterOrEqual" || op == "And" ||
         op == "Or";
}

class Folder {
public:
  /// Folds what it can in `graph` and the subgraphs of its nodes (If
  /// branches see the outer constants); returns whether anything changed.
  bool run(onnx::GraphProto &graph) {
    for (const auto &init : graph.initializer())
      if (auto t = fromInitializer(init))
        consts[init.name()] = {*t, init.data_type()};
    auto addTypes = [&](const auto &list) {
      for (const auto &vi : list)
        types[vi.name()] = &vi.type();
    };
    addTypes(graph.input());
    addTypes(graph.value_info());
    addTypes(graph.output());

    bool changed = false;
    auto *nodes = graph.mutable_node();
    for (int i = 0; i < nodes->size();) {
      for (auto &a : *nodes->Mutable(i)->mutable_attribute())
        if (a.has_g())
          changed |= run(*a.mutable_g());
      const onnx::NodeProto &n = nodes->Get(i);
      if (n.op_type() == "If" && inlineConstantIf(graph, i)) {
        changed = true;
        continue; // the branch's nodes now start at i
      }
      std::optional<IntTensor> r;
      if (n.domain().empty() || n.domain() == "ai.onnx")
        r = fold(n);
      // Empty results stay: ONNX 1.12's inference rejects a Concat fed by an
      // empty initializer.
      if (!r || n.output_size() != 1 || r->values.empty() ||
          r->values.size() > kMaxFoldedElements) {
        ++i;
        continue;
      }
      int32_t dt = resultType(n);
      consts[n.output(0)] = {*r, dt};
      *graph.add_initializer() = toInitializer(*r, n.output(0), dt);
      nodes->DeleteSubrange(i, 1);
      changed = true;
    }
    return changed;
  }

private:
  /// Replaces If node `i` whose condition is a known constant by the taken
  /// branch: its initializers join the graph's, its nodes take the If's place,
  /// and Identity nodes bind the If's outputs to the branch's.
  bool inlineConstantIf(onnx::GraphProto &graph, int i) {
    onnx::NodeProto ifNode = graph.node(i);
    const IntTensor *cond = get(ifNode, 0);
    if (!cond || cond->values.size() != 1)
      return false;
    const char *taken = cond->values[0] ? "then_branch" : "else_branch";
    const onnx::GraphProto *branch = nullptr;
    for (const auto &a : ifNode.attribute())
      if (a.name() == taken)
        branch = &a.g();
    if (!branch || branch->output_size() != ifNode.output_size())
      return false;
    for (const auto &init : branch->initializer())
      *graph.add_initializer() = init;
    std::vector<onnx::NodeProto> replacement(branch->node().begin(),
                                             branch->node().end());
    for (int o = 0; o < ifNode.output_size(); ++o) {
      onnx::NodeProto id;
      id.set_op_type("Identity");
      id.set_name(ifNode.name() + "/" + taken + "/" + std::to_string(o));
      id.add_input(branch->output(o).name());
      id.add_output(ifNode.output(o));
      replacement.push_back(id);
    }
    auto *nodes = graph.mutable_node();
    nodes->DeleteSubrange(i, 1);
    // Insert the replacement at i, keeping the order.
    std::vector<onnx::NodeProto> rest(nodes->begin() + i, nodes->end());
    nodes->DeleteSubrange(i, nodes->size() - i);
    for (auto &nd : replacement)
      *nodes->Add() = nd;
    for (auto &nd : rest)
      *nodes->Add() = nd;
    return true;
  }

  int32_t resultType(const onnx::NodeProto &n) {
    if (n.op_type() == "Cast")
      return int32_t(intAttr(n, "to").value_or(onnx::TensorProto::INT64));
    if (n.op_type() == "Shape" || n.op_type() == "Size")
      return onnx::TensorProto::INT64;
    if (n.op_type() == "Constant") {
      for (const auto &a : n.attribute())
        if (a.name() == "value" && a.has_t())
          return a.t().data_type();
      return onnx::TensorProto::INT64;
    }
    if (isComparison(n.op_type()) || n.op_type() == "Not")
      return onnx::TensorProto::BOOL;
    auto it = consts.find(n.input(0));
    return it != consts.end() ? it->second.second : onnx::TensorProto::INT64;
  }

  const IntTensor *get(const onnx::NodeProto &n, int i) {
    if (i >= n.input_size() || n.input(i).empty())
      return nullptr;
    auto it = consts.find(n.input(i));
    return it == consts.end() ? nullptr : &it->second.first;
  }

  /// Static dims of a value, if shape inference knows them all.
  std::optional<std::vector<int64_t>> staticShape(const std::string &name) {
    auto it = types.find(name);
    if (it == types.end() || !it->second->has_tensor_type() ||
        !it->second->tensor_type().has_shape())
      return std::nullopt;
    std::vector<int64_t> dims;
    for (const auto &d : it->second->tensor_type().shape().dim()) {
      if (!d.has_dim_value())
        return std::nullopt;
      dims.push_back(d.dim_value());
    }
    return dims;
  }

  std::optional<IntTensor> fold(const onnx::NodeProto &n) {
    const std::string &op = n.op_type();
    if (op == "Shape" || op == "Size") {
      auto dims = staticShape(n.input(0));
      if (!dims)
        return std::nullopt;
      if (op == "Size") {
        int64_t numel = 1;
        for (int64_t d : *dims)
          numel *= d;
        return IntTensor{{}, {numel}};
      }
      int64_t rank = dims->size();
      int64_t b = qc::clampIndex(intAttr(n, "start").value_or(0), rank);
      int64_t e =
          intAttr(n, "end") ? qc::clampIndex(*intAttr(n, "end"), rank) : rank;
      IntTensor r;
      for (int64_t i = b; i < e; ++i)
        r.values.push_back((*dims)[i]);
      r.dims = {int64_t(r.values.size())};
      return r;
    }
    if (op == "Constant") {
      for (const auto &a : n.attribute())
        if (a.name() == "value" && a.has_t())
          return fromInitializer(a.t());
      if (auto v = intAttr(n, "value_int"))
        return IntTensor{{}, {*v}};
      if (auto v = intsAttr(n, "value_ints"))
        return IntTensor{{int64_t(v->size())}, *v};
      return std::nullopt;
    }
    if (op == "Cast" || op == "Identity") {
      const IntTensor *x = get(n, 0);
      if (!x)
        return std::nullopt;
      if (op == "Cast") {
        int64_t to = intAttr(n, "to").value_or(0);
        if (to != onnx::TensorProto::INT64 && to != onnx::TensorProto::INT32 &&
            to != onnx::TensorProto::BOOL)
          return std::nullopt;
        if (to == onnx::TensorProto::BOOL) {
          IntTensor r = *x;
          for (int64_t &v : r.values)
            v = v != 0;
          return r;
        }
      }
      return *x;
    }
    if (op == "Gather") {
      const IntTensor *data = get(n, 0), *idx = get(n, 1);
      if (!data || !idx || data->dims.size() != 1 ||
          intAttr(n, "axis").value_or(0) != 0)
        return std::nullopt;
      IntTensor r{idx->dims, {}};
      int64_t size = data->dims[0];
      for (int64_t i : idx->values) {
        if (i < 0)
          i += size;
        if (i < 0 || i >= size)
          return std::nullopt;
        r.values.push_back(data->values[i]);
      }
      return r;
    }
    if (op == "Unsqueeze" || op == "Squeeze") {
      const IntTensor *x = get(n, 0);
      if (!x)
        return std::nullopt;
      std::vector<int64_t> axes;
      if (const IntTensor *a = get(n, 1))
        axes = a->values;
      else if (auto attr = intsAttr(n, "axes"))
        axes = *attr;
      else if (n.input_size() > 1 && !n.input(1).empty())
        return std::nullopt;
      IntTensor r = *x;
      if (op == "Unsqueeze") {
        int64_t rank = x->dims.size() + axes.size();
        for (int64_t &a : axes)
          if (a < 0)
            a += rank;
        std::sort(axes.begin(), axes.end());
        for (int64_t a : axes) {
          if (a < 0 || a > int64_t(r.dims.size()))
            return std::nullopt;
          r.dims.insert(r.dims.begin() + a, 1);
        }
      } else {
        std::vector<int64_t> dims;
        int64_t rank = x->dims.size();
        for (int64_t i = 0; i < rank; ++i) {
          bool drop = axes.empty() ? x->dims[i] == 1
                                   : std::count(axes.begin(), axes.end(), i) +
                                             std::count(axes.begin(),
                                                        axes.end(), i - rank) >
                                         0;
          if (!drop)
            dims.push_back(x->dims[i]);
        }
        r.dims = dims;
      }
      return r;
    }
    if (op == "Concat") {
      IntTensor r{{0}, {}};
      for (int i = 0; i < n.input_size(); ++i) {
        const IntTensor *x = get(n, i);
        if (!x || x->dims.size() != 1)
          return std::nullopt;
        r.values.insert(r.values.end(), x->values.begin(), x->values.end());
      }
      r.dims = {int64_t(r.values.size())};
      return r;
    }
    if (op == "Slice") {
      // Starts, ends and axes are attributes before opset 10, inputs after.
      std::optional<IntTensor> attrStarts, attrEnds, attrAxes;
      if (auto v = intsAttr(n, "starts"))
        attrStarts = IntTensor{{int64_t(v->size())}, *v};
      if (auto v = intsAttr(n, "ends"))
        attrEnds = IntTensor{{int64_t(v->size())}, *v};
      if (auto v = intsAttr(n, "axes"))
        attrAxes = IntTensor{{int64_t(v->size())}, *v};
      const IntTensor *x = get(n, 0);
      const IntTensor *starts = attrStarts ? &*attrStarts : get(n, 1);
      const IntTensor *ends = attrEnds ? &*attrEnds : get(n, 2);
      const IntTensor *axes = attrAxes ? &*attrAxes : get(n, 3);
      const IntTensor *steps = get(n, 4);
      if (!x || !starts || !ends || x->dims.size() != 1 ||
          starts->values.size() != 1 || ends->values.size() != 1)
        return std::nullopt;
      if (axes && (axes->values.size() != 1 ||
                   (axes->values[0] != 0 && axes->values[0] != -1)))
        return std::nullopt;
      int64_t size = x->dims[0], step = steps ? steps->values[0] : 1;
      if (step != 1)
        return std::nullopt;
      int64_t b = qc::clampIndex(starts->values[0], size);
      int64_t e = qc::clampIndex(ends->values[0], size);
      IntTensor r;
      for (int64_t i = b; i < e; ++i)
        r.values.push_back(x->values[i]);
      r.dims = {int64_t(r.values.size())};
      return r;
    }
    if (op == "Not") {
      const IntTensor *x = get(n, 0);
      if (!x)
        return std::nullopt;
      IntTensor r = *x;
      for (int64_t &v : r.values)
        v = !v;
      return r;
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" ||
        isComparison(op)) {
      const IntTensor *a = get(n, 0), *b = get(n, 1);
      if (!a || !b)
        return std::nullopt;
      size_t na = a->values.size(), nb = b->values.size();
      if (na != nb && na != 1 && nb != 1)
        return std::nullopt;
      // numpy broadcasting of the dims ([] and [1] give [1]).
      std::vector<int64_t> dims(std::max(a->dims.size(), b->dims.size()), 1);
      for (size_t k = 0; k < dims.size(); ++k) {
        auto dimOf = [&](const IntTensor &t) -> int64_t {
          size_t off = dims.size() - t.dims.size();
          return k < off ? 1 : t.dims[k - off];
        };
        int64_t da = dimOf(*a), db = dimOf(*b);
        if (da != db && da != 1 && db != 1)
          return std::nullopt;
        dims[k] = da == 1 ? db : da;
      }
      IntTensor r{dims, {}};
      for (size_t i = 0; i < std::max(na, nb); ++i) {
        int64_t x = a->values[na == 1 ? 0 : i], y = b->values[nb == 1 ? 0 : i];
        if (op == "Div" && y == 0)
          return std::nullopt;
        r.values.push_back(op == "Add"              ? x + y
                           : op == "Sub"            ? x - y
                           : op == "Mul"            ? x * y
                           : op == "Div"            ? x / y
                           : op == "Equal"          ? x == y
                           : op == "Less"           ? x < y
                           : op == "Greater"        ? x > y
                           : op == "LessOrEqual"    ? x <= y
                           : op == "GreaterOrEqual" ? x >= y
                           : op == "And"            ? (x && y)
                                                    : (x || y));
      }
      size_t numel = 1;
      for (int64_t d : r.dims)
        numel *= size_t(d);
      if (numel != r.values.size())
        return std::nullopt;
      return r;
    }
    return std::nullopt;
  }

  std::map<std::string, std::pair<IntTensor, int32_t>> consts;
  std::map<std::string, const onnx::TypeProto *> types;
};

} // namespace

/// The rank of input `i` where inference knows it, else -1.
static int inputRank(onnx::InferenceContext &ctx, int i) {
  if (i < 0 || size_t(i) >= ctx.getNumInputs())
    return -1;
  const onnx::TypeProto *t = ctx.getInputType(i);
  if (!t || !t->has_tensor_type() || !t->tensor_type().has_shape())
    return -1;
  return t->tensor_type().shape().dim_size();
}

/// Convolution and pooling: input X (0) of rank 3 or more, the weight
/// (input `w`, -1: none) of X's rank, the spatial attributes' lengths.
static void checkConvPool(onnx::InferenceContext &ctx, int w) {
  int r = inputRank(ctx, 0);
  if (r < 0)
    return;
  if (r < 3)
    fail_shape_inference("input X has rank ", r,
                         "; it needs 3 or more (N, C, ...)");
  int rw = inputRank(ctx, w);
  if (rw >= 0 && rw != r)
    fail_shape_inference("the weight has rank ", rw, " but input X has rank ",
                         r);
  for (const char *a :
       {"kernel_shape", "strides", "dilations", "pads", "output_padding"}) {
    const onnx::AttributeProto *attr = ctx.getAttribute(a);
    int want = std::string(a) == "pads" ? 2 * (r - 2) : r - 2;
    if (attr && attr->ints_size() != want)
      fail_shape_inference("attribute ", a, " has ", attr->ints_size(),
                           " values; rank-", r, " input X needs ", want);
  }
}

/// Gemm: A and B are matrices.
static void checkGemm(onnx::InferenceContext &ctx) {
  for (int i = 0; i < 2; ++i)
    if (int r = inputRank(ctx, i); r >= 0 && r != 2)
      fail_shape_inference("input ", i == 0 ? "A" : "B", " has rank ", r,
                           "; Gemm takes matrices");
}

/// ONNX 1.12's inference of these ops indexes inputs' dims and attributes
/// by ranks it never checks (a rank-3 Conv input with a rank-4 weight, a
/// rank-1 Gemm B read out of bounds: found by scripts/fuzz.sh). Every
/// version of their schemas gets its inference function wrapped in the
/// checks, which fail as inference errors do.
static void guardInference() {
  static std::once_flag once;
  std::call_once(once, [] {
    using Check = std::function<void(onnx::InferenceContext &)>;
    auto conv = [](int w) -> Check {
      return [w](onnx::InferenceContext &ctx) { checkConvPool(ctx, w); };
    };
    const std::pair<const char *, Check> ops[] = {
        {"Conv", conv(1)},        {"ConvInteger", conv(1)},
        {"QLinearConv", conv(3)}, {"ConvTranspose", conv(1)},
        {"MaxPool", conv(-1)},    {"AveragePool", conv(-1)},
        {"LpPool", conv(-1)},     {"Gemm", checkGemm}};
    for (const auto &[name, check] : ops) {
      std::set<const onnx::OpSchema *> seen;
      for (int v = 1; v <= 30; ++v) {
        const onnx::OpSchema *s = onnx::OpSchemaRegistry::Schema(name, v, "");
        if (!s || !seen.insert(s).second ||
            !s->has_type_and_shape_inference_function())
          continue;
        onnx::InferenceFunction inner = s->GetTypeAndShapeInferenceFunction();
        const_cast<onnx::OpSchema *>(s)->TypeAndShapeInferenceFunction(
            [inner, check = check](onnx::InferenceContext &ctx) {
              check(ctx);
              if (inner)
                inner(ctx);
            });
      }
    }
  });
}

bool qc::onnx_import::inferShapesAndFold(onnx::ModelProto &model,
                                         std::string &error) {
  guardInference();
  try {
    for (int round = 0; round < 16; ++round) {
      onnx::shape_inference::InferShapes(
          model, onnx::OpSchemaRegistry::Instance(),
          onnx::ShapeInferenceOptions(/*check_type=*/false, /*error_mode=*/1,
                                      /*data_prop=*/true));
      if (!Folder().run(*model.mutable_graph()))
        return true;
      // Inferred types of the folded values are stale; let inference redo them.
      model.mutable_graph()->clear_value_info();
    }
    return true;
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
}
