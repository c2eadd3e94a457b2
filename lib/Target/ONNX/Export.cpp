//===- Export.cpp - the --export-onnx-qdq translation ---------------------===//
//
// Writes a module in the QDQ form (what fold-calibration leaves, or an
// imported QDQ model: graph ops between qc.quantize / qc.dequantize) as an
// ONNX model at opset 17 that ONNX Runtime loads and runs:
//   - graph ops become the ONNX node they mirror (same operands, attributes
//     under their ONNX names, filtered by the opset-17 schema); the few whose
//     attributes are inputs at opset 17 (ReduceSum, Squeeze, Unsqueeze,
//     Split) get them as int64 initializers;
//   - qc.quantize / qc.dequantize become QuantizeLinear / DequantizeLinear
//     with scale and zero-point initializers (per axis where the type is);
//   - integer weights behind qc.storage_cast are int8 initializers;
//   - the float bias of a Conv or Gemm whose input and weight are dequantized
//     is stored as int32 at scale s_x * s_w behind a DequantizeLinear, as the
//     integer lowering rounds it, so that ONNX Runtime fuses QLinearConv /
//     QGemm and computes what our integer kernels compute.
//   - qc.if becomes If with its regions as subgraphs.
//   - minifloat weights (qc.block_dequantize) become DequantizeLinear of
//     FLOAT8 / FLOAT4 initializers and FP8 activations (qc.minifloat_quantize
//     / _dequantize) QuantizeLinear to FLOAT8 and back: the model's opset is
//     then 19, 21 or 23 as they need.
// Integer-form ops (qc.conv_int, qc.requantize, ...) and uncalibrated
// observers have no QDQ spelling: each is an error at its location.
//
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Support/NestingLimit.h"
#include "qc/Target/ONNX/Import.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

using namespace mlir;

namespace {

constexpr int kOpset = 17;

/// ONNX data type of an element type (quantized types: their storage).
int32_t onnxType(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t))
    return q.isSigned() ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
  if (t.isF32())
    return onnx::TensorProto::FLOAT;
  if (t.isF64())
    return onnx::TensorProto::DOUBLE;
  if (t.isF16())
    return onnx::TensorProto::FLOAT16;
  if (t.isBF16())
    return onnx::TensorProto::BFLOAT16;
  if (t.isInteger(1))
    return onnx::TensorProto::BOOL;
  if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8:
      return u ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8;
    case 16:
      return u ? onnx::TensorProto::UINT16 : onnx::TensorProto::INT16;
    case 32:
      return u ? onnx::TensorProto::UINT32 : onnx::TensorProto::INT32;
    case 64:
      return u ? onnx::TensorProto::UINT64 : onnx::TensorProto::INT64;
    }
  }
  return 0;
}

/// Lower-case op name -> ONNX op type, from ONNX's own schema registry.
const llvm::StringMap<std::string> &onnxOpTypes() {
  static llvm::StringMap<std::string> map = [] {
    llvm::StringMap<std::string> m;
    for (const onnx::OpSchema &s : onnx::OpSchemaRegistry::get_all_schemas())
      if (s.domain().empty())
        m[llvm::StringRef(s.Name()).lower()] = s.Name();
    return m;
  }();
  return map;
}

class Exporter {
public:
  explicit Exporter(onnx::GraphProto &g, int opset = kOpset)
      : graph(&g), opset(opset) {}

  LogicalResult run(func::FuncOp f);

private:
  onnx::GraphProto *graph; // where nodes go: the model's, or a branch's
  /// The model's opset: 17, or 19/21/23 for minifloat weights (nodes keep
  /// their opset-17 form, valid at these; the Reduce ops' axes become an
  /// input).
  int opset;
  DenseMap<Value, std::string> names;
  llvm::StringSet<> used;
  unsigned counter = 0;

  std::string fresh(StringRef hint) {
    std::string base = hint.empty() ? "t" : hint.str();
    std::string n = base;
    while (!used.insert(n).second)
      n = base + "_" + std::to_string(++counter);
    return n;
  }
  StringRef nameOf(Value v) { return names[v]; }
  void bind(Value v, StringRef hint) { names[v] = fresh(hint); }

  static std::string hintOf(Operation *op) {
    if (auto n = dyn_cast<NameLoc>(op->getLoc()))
      return n.getName().str();
    if (auto f = dyn_cast<FusedLoc>(op->getLoc()))
      for (Location l : f.getLocations())
        if (auto n = dyn_cast<NameLoc>(l))
          return n.getName().str();
    return "";
  }

  /// An initializer holding `values` of ONNX type `dt` and shape `dims`.
  std::string initializer(StringRef hint, int32_t dt, ArrayRef<int64_t> dims,
                          StringRef bytes) {
    onnx::TensorProto *t = graph->add_initializer();
    std::string n = fresh(hint);
    t->set_name(n);
    t->set_data_type(dt);
    for (int64_t d : dims)
      t->add_dims(d);
    t->set_raw_data(bytes.str());
    return n;
  }
  template <typename T>
  std::string initializer(StringRef hint, int32_t dt, ArrayRef<int64_t> dims,
                          ArrayRef<T> values) {
    return initializer(hint, dt, dims,
                       StringRef(reinterpret_cast<const char *>(values.data()),
                                 values.size() * sizeof(T)));
  }

  LogicalResult constant(arith::ConstantOp op);
  LogicalResult blockDequantize(qc::BlockDequantizeOp op);
  LogicalResult quantParams(Operation *op, quant::QuantizedType q,
                            StringRef hint, onnx::NodeProto *node);
  LogicalResult graphOp(Operation *op);
  LogicalResult body(Block &block);
  LogicalResult ifOp(qc::IfOp op);
  std::optional<std::string> quantizedBias(Operation *op);
  void valueInfo(onnx::ValueInfoProto *vi, StringRef name, Type type);
};

void Exporter::valueInfo(onnx::ValueInfoProto *vi, StringRef name, Type type) {
  vi->set_name(name.str());
  auto tt = cast<RankedTensorType>(type);
  onnx::TypeProto_Tensor *t = vi->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnxType(tt.getElementType()));
  onnx::TensorShapeProto *s = t->mutable_shape();
  for (int64_t d : tt.getShape())
    s->add_dim()->set_dim_value(d);
}

LogicalResult Exporter::constant(arith::ConstantOp op) {
  // Packed codes and block scales: blockDequantize writes them.
  if (!op->use_empty() && llvm::all_of(op->getUsers(), [](Operation *u) {
        return isa<qc::BlockDequantizeOp>(u);
      }))
    return success();
  auto type = dyn_cast<RankedTensorType>(op.getType());
  if (!type)
    return op.emitError() << "cannot export a scalar constant to ONNX";
  int32_t dt = onnxType(type.getElementType());
  if (!dt)
    return op.emitError() << "cannot export element type "
                          << type.getElementType() << " to ONNX";
  Attribute value = op.getValue();
  std::optional<std::vector<char>> data = qc::readElementBytes(value);
  if (!data) {
    if (auto res = dyn_cast<DenseResourceElementsAttr>(value))
      return op.emitError() << "constant blob '" << res.getRawHandle().getKey()
                            << "' has no data";
    return op.emitError() << "cannot export constant " << value << " to ONNX";
  }
  std::string bytes(data->begin(), data->end());
  names[op.getResult()] = initializer(hintOf(op).empty() ? "const" : hintOf(op),
                                      dt, type.getShape(), bytes);
  return success();
}

/// The ONNX type of a minifloat element format; 0 for FP6 (none).
int32_t minifloatONNXType(qc::ElementFormat f) {
  switch (f) {
  case qc::ElementFormat::FP8E4M3:
    return 17; // FLOAT8E4M3FN
  case qc::ElementFormat::FP8E5M2:
    return 19; // FLOAT8E5M2
  case qc::ElementFormat::FP4E2M1:
    return 23; // FLOAT4E2M1
  default:
    return 0;
  }
}

/// qc.block_dequantize as DequantizeLinear of a FLOAT8 / FLOAT4 initializer
/// (the codes as they are packed: one a byte, or two, low nibble first),
/// with f32 scales per axis or in blocks (opset 21's block_size) along the
/// reduction; a Conv's blocks must hold whole kernel windows.
LogicalResult Exporter::blockDequantize(qc::BlockDequantizeOp op) {
  int32_t dt = minifloatONNXType(op.getFormat());
  if (!dt)
    return op.emitError() << "ONNX has no type for "
                          << stringifyElementFormat(op.getFormat());
  auto ty = op.getOutput().getType();
  std::optional<std::vector<char>> codes, scaleBytes;
  ElementsAttr ca, sa;
  if (matchPattern(op.getCodes(), m_Constant(&ca)))
    codes = qc::readElementBytes(ca);
  if (matchPattern(op.getScales(), m_Constant(&sa)))
    scaleBytes = qc::readElementBytes(sa);
  if (!codes || !scaleBytes)
    return op.emitError() << "exports constant codes and scales only";
  // The scales as f32 [C][nb].
  auto sTy = op.getScales().getType();
  int64_t c = sTy.getDimSize(0), nb = sTy.getDimSize(1);
  std::vector<float> scales(size_t(c * nb));
  std::optional<qc::ElementFormat> sf = op.getScaleFormat();
  float ts = float(op.getTensorScale().convertToDouble());
  for (size_t i = 0; i < scales.size(); ++i) {
    if (!sf) {
      memcpy(&scales[i], scaleBytes->data() + 4 * i, 4);
      continue;
    }
    scales[i] = float(qc::minifloat::decode(*qc::minifloatFormat(*sf),
                                            uint8_t((*scaleBytes)[i]))) *
                ts;
  }
  int64_t axis = op.getAxis(), block = op.getBlock(), rank = ty.getRank();
  int64_t onnxAxis = axis, onnxBlock = 0;
  SmallVector<int64_t> dims;
  std::vector<float> onnxScales;
  if (nb == 1) {
    dims = {c};
    onnxScales = scales;
  } else if (axis == 1) { // [K, N]: blocks along axis 0, scales [nb, N]
    onnxAxis = 0, onnxBlock = block;
    dims = {nb, c};
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t ch = 0; ch < c; ++ch)
        onnxScales.push_back(scales[ch * nb + b]);
  } else {
    // [C, Cin, k...]: blocks along axis 1 of whole windows, each scale
    // repeated over the window.
    int64_t window = 1;
    for (int64_t d = 2; d < rank; ++d)
      window *= ty.getDimSize(d);
    if (block % window)
      return op.emitError()
             << "blocks of " << block << " do not hold whole kernel windows of "
             << window << " taps: ONNX's block_size cannot "
             << "spell them";
    onnxAxis = 1, onnxBlock = block / window;
    dims.assign(ty.getShape().begin(), ty.getShape().end());
    dims[1] = nb;
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t t = 0; t < window; ++t)
          onnxScales.push_back(scales[ch * nb + b]);
  }
  std::string hint = hintOf(op).empty() ? "weight" : hintOf(op);
  onnx::NodeProto *node = graph->add_node();
  node->set_op_type("DequantizeLinear");
  node->set_name(fresh(hint + "_DequantizeLinear"));
  node->add_input(initializer(hint + "_q", dt, ty.getShape(),
                              StringRef(codes->data(), codes->size())));
  node->add_input(initializer(hint + "_scale", onnx::TensorProto::FLOAT, dims,
                              ArrayRef<float>(onnxScales)));
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name("axis");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(onnxAxis);
  if (onnxBlock) {
    a = node->add_attribute();
    a->set_name("block_size");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(onnxBlock);
  }
  bind(op.getOutput(), hint);
  node->add_output(nameOf(op.getOutput()).str());
  return success();
}

/// Scale and zero-point inputs (and axis) of Quantize/DequantizeLinear.
LogicalResult Exporter::quantParams(Operation *op, quant::QuantizedType q,
                                    StringRef hint, onnx::NodeProto *node) {
  SmallVector<float> scales;
  SmallVector<int8_t> zpSigned;
  SmallVector<uint8_t> zpUnsigned;
  auto addZp = [&](int64_t zp) {
    zpSigned.push_back(int8_t(zp));
    zpUnsigned.push_back(uint8_t(zp));
  };
  if (q.getStorageTypeIntegralWidth() != 8)
    return op->emitError() << "ONNX opset " << kOpset
                           << " quantizes to 8 bits only, not to " << q;
  SmallVector<int64_t> dims;
  if (auto u = dyn_cast<quant::UniformQuantizedType>(q)) {
    scales.push_back(float(u.getScale()));
    addZp(u.getZeroPoint());
  } else if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(q)) {
    for (double s : pa.getScales())
      scales.push_back(float(s));
    for (int64_t zp : pa.getZeroPoints())
      addZp(zp);
    dims.push_back(int64_t(scales.size()));
    onnx::AttributeProto *a = node->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(pa.getQuantizedDimension());
  } else if (isa<quant::UniformQuantizedSubChannelType>(q)) {
    return op->emitError()
           << "block-quantized weights (" << q
           << ") need DequantizeLinear's block_size (ONNX opset 21); the "
              "export writes opset 17: quantize with --weight-granularity "
              "channel or tensor to export";
  } else {
    return op->emitError() << "cannot export quantized type " << q
                           << " to ONNX";
  }
  node->add_input(initializer(hint.str() + "_scale", onnx::TensorProto::FLOAT,
                              dims, ArrayRef<float>(scales)));
  if (q.isSigned())
    node->add_input(initializer(hint.str() + "_zero_point",
                                onnx::TensorProto::INT8, dims,
                                ArrayRef<int8_t>(zpSigned)));
  else
    node->add_input(initializer(hint.str() + "_zero_point",
                                onnx::TensorProto::UINT8, dims,
                                ArrayRef<uint8_t>(zpUnsigned)));
  return success();
}

/// The quantization type behind `v` when it is a qc.dequantize result.
quant::QuantizedType dequantizedType(Value v) {
  auto dq = v.getDefiningOp<qc::DequantizeOp>();
  if (!dq)
    return nullptr;
  return dyn_cast<quant::QuantizedType>(
      cast<ShapedType>(dq->getOperand(0).getType()).getElementType());
}

/// The bias of a Conv/Gemm on dequantized input and weight, as int32 at
/// scale s_x * s_w behind a DequantizeLinear (the name of its output).
std::optional<std::string> Exporter::quantizedBias(Operation *op) {
  bool conv = isa<qc::ConvOp>(op), gemm = isa<qc::GemmOp>(op);
  if ((!conv && !gemm) || op->getNumOperands() < 3)
    return std::nullopt;
  auto x = dyn_cast_or_null<quant::UniformQuantizedType>(
      dequantizedType(op->getOperand(0)));
  quant::QuantizedType w = dequantizedType(op->getOperand(1));
  DenseFPElementsAttr bias;
  if (!x || !w || !matchPattern(op->getOperand(2), m_Constant(&bias)))
    return std::nullopt;
  auto biasType = cast<RankedTensorType>(bias.getType());
  if (biasType.getRank() != 1)
    return std::nullopt;
  int64_t n = biasType.getDimSize(0);
  if (gemm) {
    // Per-channel weight scales must run along N (the bias's axis).
    auto g = cast<qc::GemmOp>(op);
    auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(w);
    int64_t nAxis = g.getTransB() ? 0 : 1;
    if (pa && pa.getQuantizedDimension() != nAxis)
      return std::nullopt;
    if (g.getBeta().convertToDouble() != 1.0 ||
        g.getAlpha().convertToDouble() != 1.0)
      return std::nullopt;
  } else if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(w)) {
    if (pa.getQuantizedDimension() != 0)
      return std::nullopt;
  }
  SmallVector<double> ws;
  if (auto u = dyn_cast<quant::UniformQuantizedType>(w))
    ws.assign(size_t(n), u.getScale());
  else if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(w))
    ws.assign(pa.getScales().begin(), pa.getScales().end());
  if (int64_t(ws.size()) != n)
    return std::nullopt;
  SmallVector<int32_t> q;
  SmallVector<float> scales;
  int64_t i = 0;
  for (const APFloat &b : bias.getValues<APFloat>()) {
    double s = x.getScale() * ws[i++];
    double r = std::round(b.convertToDouble() / s);
    if (!(std::fabs(r) < 2147483647.0))
      return std::nullopt;
    q.push_back(int32_t(r));
    scales.push_back(float(s));
  }
  std::string hint = nameOf(op->getOperand(2)).str() + "_quantized";
  onnx::NodeProto *node = graph->add_node();
  node->set_op_type("DequantizeLinear");
  node->set_name(fresh(hint + "_DequantizeLinear"));
  node->add_input(
      initializer(hint, onnx::TensorProto::INT32, {n}, ArrayRef<int32_t>(q)));
  node->add_input(initializer(hint + "_scale", onnx::TensorProto::FLOAT, {n},
                              ArrayRef<float>(scales)));
  SmallVector<int32_t> zeros(size_t(n), 0);
  node->add_input(initializer(hint + "_zero_point", onnx::TensorProto::INT32,
                              {n}, ArrayRef<int32_t>(zeros)));
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name("axis");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(0);
  std::string out = fresh(hint + "_dequantized");
  node->add_output(out);
  return out;
}

LogicalResult Exporter::graphOp(Operation *op) {
  StringRef opName = op->getName().getStringRef();
  std::string hint = hintOf(op);
  if (isa<qc::QuantizeOp, qc::DequantizeOp>(op)) {
    // The quantized side: the result of a quantize, the operand of a
    // dequantize.
    bool quantize = isa<qc::QuantizeOp>(op);
    Value quantized = quantize ? op->getResult(0) : op->getOperand(0);
    auto qt = cast<quant::QuantizedType>(
        cast<ShapedType>(quantized.getType()).getElementType());
    std::string type = quantize ? "QuantizeLinear" : "DequantizeLinear";
    onnx::NodeProto *node = graph->add_node();
    node->set_op_type(type);
    std::string base = nameOf(op->getOperand(0)).str();
    node->set_name(fresh(base + "_" + type));
    node->add_input(base);
    if (failed(quantParams(op, qt, base, node)))
      return failure();
    bind(op->getResult(0), base + (quantize ? "_quantized" : "_dequantized"));
    node->add_output(nameOf(op->getResult(0)).str());
    return success();
  }
  if (isa<qc::MinifloatQuantizeOp, qc::MinifloatDequantizeOp>(op)) {
    // FP8 activations: opset 19's QuantizeLinear to FLOAT8 (x / scale
    // rounded to nearest even, saturating: the default saturate = 1) with a
    // FLOAT8 zero point of +0 naming the type, and DequantizeLinear back.
    bool quantize = isa<qc::MinifloatQuantizeOp>(op);
    auto fmtAttr = op->getAttrOfType<qc::ElementFormatAttr>("format");
    int32_t dt = fmtAttr ? minifloatONNXType(fmtAttr.getValue()) : 0;
    if (dt != 17 && dt != 19)
      return op->emitError() << "ONNX has FLOAT8E4M3FN and FLOAT8E5M2 "
                                "activations only";
    std::string type = quantize ? "QuantizeLinear" : "DequantizeLinear";
    std::string base = nameOf(op->getOperand(0)).str();
    onnx::NodeProto *node = graph->add_node();
    node->set_op_type(type);
    node->set_name(fresh(base + "_" + type));
    node->add_input(base);
    float scale =
        float(op->getAttrOfType<FloatAttr>("scale").getValueAsDouble());
    node->add_input(initializer(base + "_scale", onnx::TensorProto::FLOAT, {},
                                ArrayRef<float>(scale)));
    uint8_t zero = 0;
    node->add_input(initializer(base + "_zero_point", dt, {},
                                StringRef(reinterpret_cast<char *>(&zero), 1)));
    bind(op->getResult(0), base + (quantize ? "_quantized" : "_dequantized"));
    node->add_output(nameOf(op->getResult(0)).str());
    return success();
  }
  if (isa<qc::StorageCastOp>(op)) {
    // The same bytes: storage integers <-> quantized values.
    names[op->getResult(0)] = nameOf(op->getOperand(0)).str();
    return success();
  }
  if (isa<qc::ObserveOp>(op))
    return op->emitError()
           << "an uncalibrated observer cannot be exported: calibrate and "
              "fold the statistics first (fold-calibration)";
  if (isa<qc::ConvIntOp, qc::MatMulIntOp, qc::RequantizeOp, qc::ClampOp,
          qc::CastOp>(op))
    return op->emitError()
           << "'" << opName
           << "' is the integer form; export the QDQ form (quant-compile "
              "--emit-qdq), before lower-quantized-to-integer";
  if (op->getNumRegions())
    return op->emitError() << "'" << opName
                           << "' has regions, which only qc.if may have in "
                              "an exported graph";
  if (op->getDialect() && !isa<qc::QCDialect>(op->getDialect()))
    return op->emitError() << "'" << opName << "' has no ONNX form";
  if (isa<qc::ConvertOp>(op)) {
    // ONNX Cast: the target is the result's element type.
    onnx::NodeProto *node = graph->add_node();
    node->set_op_type("Cast");
    node->set_name(fresh(hint.empty() ? "Cast" : hint));
    node->add_input(nameOf(op->getOperand(0)).str());
    onnx::AttributeProto *to = node->add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(onnxType(
        cast<ShapedType>(op->getResult(0).getType()).getElementType()));
    bind(op->getResult(0), hint.empty() ? "Cast" : hint);
    node->add_output(nameOf(op->getResult(0)).str());
    return success();
  }
  auto it = onnxOpTypes().find(opName.drop_front(3)); // "qc."
  const onnx::OpSchema *schema =
      it == onnxOpTypes().end()
          ? nullptr
          : onnx::OpSchemaRegistry::Schema(it->second, kOpset, "");
  if (!schema)
    return op->emitError() << "'" << opName << "' has no ONNX opset " << kOpset
                           << " form";

  std::optional<std::string> bias = quantizedBias(op); // its node goes first
  onnx::NodeProto *node = graph->add_node();
  node->set_op_type(it->second);
  node->set_name(fresh(hint.empty() ? it->second : hint));
  if (auto resize = dyn_cast<qc::ResizeOp>(op)) {
    // ONNX's inputs are (X, roi, scales, sizes), one of scales and sizes
    // given; ours hold the target in one operand.
    bool scales = resize.getTarget() == "scales";
    node->add_input(nameOf(resize.getX()).str());
    node->add_input(resize.getRoi() ? nameOf(resize.getRoi()).str() : "");
    node->add_input(scales ? nameOf(resize.getScalesOrSizes()).str() : "");
    if (!scales)
      node->add_input(nameOf(resize.getScalesOrSizes()).str());
  } else {
    for (auto [i, v] : llvm::enumerate(op->getOperands()))
      node->add_input(i == 2 && bias ? *bias : nameOf(v).str());
  }
  // Attributes the opset-17 schema has; these ops take them as inputs (and
  // from opset 18 on the other reductions too).
  static const llvm::StringMap<std::string> asInput = {{"ReduceSum", "axes"},
                                                       {"Squeeze", "axes"},
                                                       {"Unsqueeze", "axes"},
                                                       {"Split", "split"}};
  static const llvm::StringMap<std::string> asInput18 = {
      {"ReduceMean", "axes"},     {"ReduceMax", "axes"},
      {"ReduceMin", "axes"},      {"ReduceProd", "axes"},
      {"ReduceL1", "axes"},       {"ReduceL2", "axes"},
      {"ReduceLogSum", "axes"},   {"ReduceLogSumExp", "axes"},
      {"ReduceSumSquare", "axes"}};
  std::optional<std::string> inputAttr;
  if (auto f = asInput.find(it->second); f != asInput.end())
    inputAttr = f->second;
  else if (auto f18 = asInput18.find(it->second);
           opset >= 18 && f18 != asInput18.end())
    inputAttr = f18->second;
  for (NamedAttribute a : op->getAttrs()) {
    std::string name = a.getName().str();
    if (inputAttr && name == *inputAttr) {
      auto values = dyn_cast<DenseI64ArrayAttr>(a.getValue());
      if (values && !values.empty())
        node->add_input(
            initializer(node->name() + "_" + name, onnx::TensorProto::INT64,
                        {int64_t(values.size())}, values.asArrayRef()));
      continue;
    }
    if (!schema->attributes().count(name))
      continue;
    onnx::AttributeProto *p = node->add_attribute();
    p->set_name(name);
    Attribute v = a.getValue();
    if (auto i = dyn_cast<IntegerAttr>(v)) {
      p->set_type(onnx::AttributeProto::INT);
      p->set_i(i.getValue().getSExtValue());
    } else if (auto f = dyn_cast<FloatAttr>(v)) {
      p->set_type(onnx::AttributeProto::FLOAT);
      p->set_f(float(f.getValueAsDouble()));
    } else if (auto s = dyn_cast<StringAttr>(v)) {
      p->set_type(onnx::AttributeProto::STRING);
      p->set_s(s.str());
    } else if (auto ints = dyn_cast<DenseI64ArrayAttr>(v)) {
      p->set_type(onnx::AttributeProto::INTS);
      for (int64_t x : ints.asArrayRef())
        p->add_ints(x);
    } else if (auto floats = dyn_cast<DenseF32ArrayAttr>(v)) {
      p->set_type(onnx::AttributeProto::FLOATS);
      for (float x : floats.asArrayRef())
        p->add_floats(x);
    } else if (auto t = dyn_cast<TypeAttr>(v)) {
      p->set_type(onnx::AttributeProto::INT);
      p->set_i(onnxType(t.getValue()));
    } else if (auto arr = dyn_cast<ArrayAttr>(v)) {
      p->set_type(onnx::AttributeProto::INTS);
      for (Attribute e : arr) {
        if (auto i = dyn_cast<IntegerAttr>(e)) {
          p->add_ints(i.getValue().getSExtValue());
        } else if (auto f = dyn_cast<FloatAttr>(e)) {
          p->set_type(onnx::AttributeProto::FLOATS);
          p->add_floats(float(f.getValueAsDouble()));
        } else if (auto s = dyn_cast<StringAttr>(e)) {
          p->set_type(onnx::AttributeProto::STRINGS);
          p->add_strings(s.str());
        } else {
          return op->emitError()
                 << "cannot export attribute '" << name << "' = " << v;
        }
      }
    } else {
      return op->emitError()
             << "cannot export attribute '" << name << "' = " << v;
    }
  }
  for (OpResult r : op->getResults()) {
    bind(r, hint.empty()
                ? it->second
                : (r.getResultNumber()
                       ? hint + "_" + std::to_string(r.getResultNumber())
                       : hint));
    node->add_output(nameOf(r).str());
  }
  return success();
}

LogicalResult Exporter::body(Block &block) {
  for (Operation &op : block) {
    if (op.hasTrait<OpTrait::IsTerminator>())
      continue;
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      if (failed(constant(c)))
        return failure();
      continue;
    }
    if (auto i = dyn_cast<qc::IfOp>(op)) {
      if (failed(ifOp(i)))
        return failure();
      continue;
    }
    if (auto bd = dyn_cast<qc::BlockDequantizeOp>(op)) {
      if (failed(blockDequantize(bd)))
        return failure();
      continue;
    }
    if (failed(graphOp(&op)))
      return failure();
  }
  return success();
}

/// ONNX If: each region becomes a subgraph (no inputs; outer values are
/// read by name) whose outputs are what its qc.yield yields.
LogicalResult Exporter::ifOp(qc::IfOp op) {
  std::string hint = hintOf(op);
  onnx::NodeProto *node = graph->add_node();
  node->set_op_type("If");
  node->set_name(fresh(hint.empty() ? "If" : hint));
  node->add_input(nameOf(op->getOperand(0)).str());
  onnx::GraphProto *outer = graph;
  for (auto [k, region] : llvm::enumerate(op->getRegions())) {
    onnx::AttributeProto *a = node->add_attribute();
    a->set_name(k == 0 ? "then_branch" : "else_branch");
    a->set_type(onnx::AttributeProto::GRAPH);
    graph = a->mutable_g();
    graph->set_name(fresh(node->name() + (k == 0 ? "_then" : "_else")));
    Block &block = region.front();
    if (failed(body(block))) {
      graph = outer;
      return failure();
    }
    for (Value v : block.getTerminator()->getOperands()) {
      std::string out = fresh(graph->name() + "_out");
      onnx::NodeProto *id = graph->add_node();
      id->set_op_type("Identity");
      id->set_name(fresh(out + "_Identity"));
      id->add_input(nameOf(v).str());
      id->add_output(out);
      valueInfo(graph->add_output(), out, v.getType());
    }
    graph = outer;
  }
  for (OpResult r : op->getResults()) {
    bind(r, hint.empty() ? "If" : hint);
    node->add_output(nameOf(r).str());
  }
  return success();
}

LogicalResult Exporter::run(func::FuncOp f) {
  auto inNames =
      f->getAttrOfType<ArrayAttr>(qc::QCDialect::kInputNamesAttrName);
  auto outNames =
      f->getAttrOfType<ArrayAttr>(qc::QCDialect::kOutputNamesAttrName);
  auto nameAt = [](ArrayAttr names, size_t i, StringRef kind) {
    if (names && i < names.size())
      if (auto s = dyn_cast<StringAttr>(names[i]))
        return s.str();
    return kind.str() + std::to_string(i);
  };
  // Output names are reserved first, so no value takes one by accident.
  auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
  SmallVector<std::string> outputs;
  for (size_t i = 0; i < ret.getNumOperands(); ++i)
    outputs.push_back(nameAt(outNames, i, "output"));
  for (const std::string &o : outputs)
    used.insert(o);
  for (BlockArgument a : f.getArguments()) {
    auto tt = dyn_cast<RankedTensorType>(a.getType());
    if (!tt || !onnxType(tt.getElementType()))
      return f.emitError() << "input #" << a.getArgNumber() << " has type "
                           << a.getType() << ", which ONNX cannot spell";
    std::string n = nameAt(inNames, a.getArgNumber(), "input");
    names[a] = n;
    used.insert(n);
    valueInfo(graph->add_input(), n, a.getType());
  }
  if (failed(body(f.getBody().front())))
    return failure();
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto tt = dyn_cast<RankedTensorType>(v.getType());
    if (!tt || !onnxType(tt.getElementType()))
      return ret.emitError() << "output #" << i << " has type " << v.getType()
                             << ", which ONNX cannot spell";
    onnx::NodeProto *id = graph->add_node();
    id->set_op_type("Identity");
    id->set_name(fresh(outputs[i] + "_Identity"));
    id->add_input(nameOf(v).str());
    id->add_output(outputs[i]);
    valueInfo(graph->add_output(), outputs[i], v.getType());
  }
  // Constants no node reads (a float bias replaced by its int32 form); the
  // branches of an If read outer values too.
  llvm::StringSet<> read;
  std::function<void(const onnx::GraphProto &)> reads =
      [&](const onnx::GraphProto &g) {
        for (const onnx::NodeProto &n : g.node()) {
          for (const std::string &i : n.input())
            read.insert(i);
          for (const onnx::AttributeProto &a : n.attribute())
            if (a.has_g())
              reads(a.g());
        }
      };
  reads(*graph);
  std::function<void(onnx::GraphProto &)> prune = [&](onnx::GraphProto &g) {
    auto *inits = g.mutable_initializer();
    inits->erase(std::remove_if(inits->begin(), inits->end(),
                                [&](const onnx::TensorProto &t) {
                                  return !read.count(t.name());
                                }),
                 inits->end());
    for (onnx::NodeProto &n : *g.mutable_node())
      for (onnx::AttributeProto &a : *n.mutable_attribute())
        if (a.has_g())
          prune(*a.mutable_g());
  };
  prune(*graph);
  return success();
}

/// ONNX has no op for a scale per row or per group of a row (its
/// DynamicQuantizeLinear has one per tensor): qc.dynamic_quantize and
/// qc.dynamic_dequantize are written as the graph ops that compute them
/// (the op's description, op for op: ReduceMax, Clip, Div, Round, Cast ...)
/// in `f`, which must be a copy.
void expandDynamicQuantization(func::FuncOp f) {
  SmallVector<Operation *> reshapes;
  auto reshape = [&](OpBuilder &b, Location loc, Value v,
                     ArrayRef<int64_t> shape) -> Value {
    auto ty = cast<RankedTensorType>(v.getType());
    if (ty.getShape() == shape)
      return v;
    auto shapeTy =
        RankedTensorType::get({int64_t(shape.size())}, b.getI64Type());
    Value s = arith::ConstantOp::create(
        b, loc, DenseIntElementsAttr::get(shapeTy, shape));
    auto r = qc::ReshapeOp::create(
        b, loc, RankedTensorType::get(shape, ty.getElementType()), v, s);
    reshapes.push_back(r);
    return r.getResult();
  };
  // [..., K] as [..., S, G] and [..., S] as [..., S, 1]; S = 1: unchanged.
  auto grouped = [](RankedTensorType ty, int64_t groups) {
    SmallVector<int64_t> shape(ty.getShape());
    if (groups > 1) {
      shape.back() = groups;
      shape.push_back(ty.getShape().back() / groups);
    }
    return shape;
  };
  auto perGroup = [](RankedTensorType ty, int64_t groups) {
    SmallVector<int64_t> shape(ty.getShape());
    if (groups > 1)
      shape.push_back(1);
    return shape;
  };
  struct Expanded {
    Value q, s, z; // in the grouped shapes
  };
  DenseMap<Operation *, Expanded> expanded;
  SmallVector<Operation *> dead;
  f.walk([&](qc::DynamicQuantizeOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto inTy = op.getInput().getType();
    int64_t groups = op.getScales().getType().getShape().back();
    Value x = reshape(b, loc, op.getInput(), grouped(inTy, groups));
    auto ty = cast<RankedTensorType>(x.getType());
    auto rowTy = RankedTensorType::get(
        perGroup(op.getScales().getType(), groups), b.getF32Type());
    auto scalar = [&](double v) -> Value {
      return arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                 float(v)));
    };
    auto lastAxis = b.getDenseI64ArrayAttr({ty.getRank() - 1});
    double qmax = double((int64_t(1) << (op.getBits() - 1)) - 1), qmin = -qmax;
    Value s, z;
    if (op.getZeroPoints()) {
      qmin = -qmax - 1;
      Value lo = qc::ReduceMinOp::create(b, loc, rowTy, x, lastAxis, 1, 0);
      Value hi = qc::ReduceMaxOp::create(b, loc, rowTy, x, lastAxis, 1, 0);
      lo = qc::ClipOp::create(b, loc, rowTy, lo,
                              ValueRange{scalar(-FLT_MAX), scalar(0)});
      hi = qc::ClipOp::create(b, loc, rowTy, hi,
                              ValueRange{scalar(0), scalar(FLT_MAX)});
      Value range = qc::SubOp::create(b, loc, rowTy, hi, lo);
      range =
          qc::ClipOp::create(b, loc, rowTy, range, ValueRange{scalar(1e-12)});
      s = qc::DivOp::create(b, loc, rowTy, range, scalar(qmax - qmin));
      Value loQ = qc::RoundOp::create(b, loc, rowTy,
                                      qc::DivOp::create(b, loc, rowTy, lo, s));
      z = qc::SubOp::create(b, loc, rowTy, scalar(qmin), loQ);
    } else {
      Value abs = qc::AbsOp::create(b, loc, ty, x);
      Value m = qc::ReduceMaxOp::create(b, loc, rowTy, abs, lastAxis, 1, 0);
      m = qc::ClipOp::create(b, loc, rowTy, m, ValueRange{scalar(1e-12)});
      s = qc::DivOp::create(b, loc, rowTy, m, scalar(qmax));
    }
    Value q =
        qc::RoundOp::create(b, loc, ty, qc::DivOp::create(b, loc, ty, x, s));
    if (z)
      q = qc::AddOp::create(b, loc, ty, q, z);
    q = qc::ClipOp::create(b, loc, ty, q,
                           ValueRange{scalar(qmin), scalar(qmax)});
    q = qc::ConvertOp::create(b, loc, ty.clone(b.getI8Type()), q);
    expanded[op] = {q, s, z};
    SmallVector<Value> results{
        reshape(b, loc, q, op.getOutput().getType().getShape()),
        reshape(b, loc, s, op.getScales().getType().getShape())};
    if (z)
      results.push_back(
          reshape(b, loc, z, op.getScales().getType().getShape()));
    op->replaceAllUsesWith(results);
    dead.push_back(op);
  });
  f.walk([&](qc::DynamicDequantizeOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto ty = op.getOutput().getType();
    int64_t groups = op.getScales().getType().getShape().back();
    // The values of the qc.dynamic_quantize it undoes, before their reshapes.
    auto before = [&](Value v) {
      auto r = v.getDefiningOp<qc::ReshapeOp>();
      return r && llvm::is_contained(reshapes, r.getOperation()) ? r.getData()
                                                                 : v;
    };
    Value q = reshape(b, loc, before(op.getInput()),
                      grouped(op.getInput().getType(), groups));
    Value s = reshape(b, loc, before(op.getScales()),
                      perGroup(op.getScales().getType(), groups));
    Value z = op.getZeroPoints()
                  ? reshape(b, loc, before(op.getZeroPoints()),
                            perGroup(op.getScales().getType(), groups))
                  : Value();
    auto gTy = cast<RankedTensorType>(q.getType()).clone(b.getF32Type());
    Value r = qc::ConvertOp::create(b, loc, gTy, q);
    if (z)
      r = qc::SubOp::create(b, loc, gTy, r, z);
    r = qc::MulOp::create(b, loc, gTy, r, s);
    op.replaceAllUsesWith(reshape(b, loc, r, ty.getShape()));
    dead.push_back(op);
  });
  for (Operation *op : llvm::reverse(dead))
    op->erase();
  // Reshapes (and their shape constants) only the replaced ops read.
  for (Operation *r : llvm::reverse(reshapes)) {
    if (!r->use_empty())
      continue;
    Operation *shape = r->getOperand(1).getDefiningOp();
    r->erase();
    if (shape && shape->use_empty())
      shape->erase();
  }
}

} // namespace

LogicalResult qc::exportONNXQDQ(ModuleOp module, llvm::raw_ostream &os) {
  auto f = module.lookupSymbol<func::FuncOp>("main_graph");
  if (!f) {
    auto funcs = module.getOps<func::FuncOp>();
    if (std::distance(funcs.begin(), funcs.end()) != 1)
      return module.emitError()
             << "export needs @main_graph (or a single function)";
    f = *funcs.begin();
  }
  if (!f.getBody().hasOneBlock())
    return f.emitError() << "export needs a function of one block";
  OwningOpRef<func::FuncOp> copy;
  if (f.walk([](Operation *op) {
         return isa<qc::DynamicQuantizeOp, qc::DynamicDequantizeOp>(op)
                    ? WalkResult::interrupt()
                    : WalkResult::advance();
       }).wasInterrupted()) {
    copy = f.clone();
    expandDynamicQuantization(*copy);
    f = *copy;
  }
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("quant-compiler");
  // Minifloat weights need DequantizeLinear of opset 19 (FLOAT8), 21
  // (block_size) or 23 (FLOAT4); FP8 activations opset 19.
  int version = kOpset;
  f.walk([&](qc::BlockDequantizeOp bd) {
    int need = bd.getFormat() == qc::ElementFormat::FP4E2M1 ? 23
               : bd.getScales().getType().getDimSize(1) > 1 ? 21
                                                            : 19;
    version = std::max(version, need);
  });
  // FP8 activations: QuantizeLinear / DequantizeLinear of opset 19.
  if (f.walk([](qc::MinifloatQuantizeOp) {
         return WalkResult::interrupt();
       }).wasInterrupted())
    version = std::max(version, 19);
  if (version > kOpset)
    model.set_ir_version(version >= 23 ? 11 : version >= 21 ? 10 : 9);
  onnx::OperatorSetIdProto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(version);
  onnx::GraphProto *graph = model.mutable_graph();
  graph->set_name(f.getSymName().str());
  Exporter e(*graph, version);
  if (failed(e.run(f)))
    return failure();
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return module.emitError() << "cannot serialize the ONNX model";
  os << bytes;
  return success();
}

void qc::registerONNXExportTranslation() {
  // Registered on the source text rather than on a parsed module: the text's
  // bracket depth is checked before MLIR's recursive parser reads it.
  TranslateRegistration reg(
      "export-onnx-qdq",
      "Export a quantized (QDQ-form) or float module as an ONNX model (opset "
      "17)",
      [](const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
         llvm::raw_ostream &os, MLIRContext *context) -> LogicalResult {
        const llvm::MemoryBuffer *buf =
            sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
        if (auto at = qc::findExcessiveNesting(buf->getBuffer()))
          return emitError(FileLineColLoc::get(context,
                                               buf->getBufferIdentifier(),
                                               at->first, at->second))
                 << "brackets nested deeper than " << qc::kMaxTextNesting
                 << " levels";
        DialectRegistry registry;
        registry.insert<QCDialect, func::FuncDialect, arith::ArithDialect,
                        quant::QuantDialect>();
        context->appendDialectRegistry(registry);
        OwningOpRef<ModuleOp> module =
            parseSourceFile<ModuleOp>(*sourceMgr, ParserConfig(context));
        if (!module)
          return failure();
        return exportONNXQDQ(*module, os);
      });
}
