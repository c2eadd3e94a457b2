//===- ModelImporter.cpp - ONNX graph to qc ops ---------------------------===//
#include "ModelImporter.h"
#include "ShapeFolding.h"
#include <set>

#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Dialect/QC/IR/QCDialect.h"
#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <limits>

using namespace mlir;
using namespace qc;
using namespace qc::onnx_import;

Type qc::onnx_import::convertElementType(int32_t dt, MLIRContext *ctx) {
  Builder b(ctx);
  switch (dt) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  case onnx::TensorProto::INT8:
    return b.getIntegerType(8);
  case onnx::TensorProto::INT16:
    return b.getIntegerType(16);
  case onnx::TensorProto::INT32:
    return b.getIntegerType(32);
  case onnx::TensorProto::INT64:
    return b.getIntegerType(64);
  case onnx::TensorProto::UINT8:
    return b.getIntegerType(8, false);
  case onnx::TensorProto::UINT16:
    return b.getIntegerType(16, false);
  case onnx::TensorProto::UINT32:
    return b.getIntegerType(32, false);
  case onnx::TensorProto::UINT64:
    return b.getIntegerType(64, false);
  // Types after Debian's libonnx 1.12, by their enum values.
  case 17: // FLOAT8E4M3FN (opset 19)
    return b.getType<Float8E4M3FNType>();
  case 19: // FLOAT8E5M2
    return b.getType<Float8E5M2Type>();
  case 21: // UINT4 (opset 21)
    return b.getIntegerType(4, false);
  case 22: // INT4
    return b.getIntegerType(4);
  case 23: // FLOAT4E2M1 (opset 23)
    return b.getType<Float4E2M1FNType>();
  default:
    return nullptr;
  }
}

unsigned qc::onnx_import::rawElementBits(Type elt) {
  return elt.isInteger(1) ? 8 : elt.getIntOrFloatBitWidth();
}

static std::string dataTypeName(int32_t dt) {
  if (onnx::TensorProto_DataType_IsValid(dt))
    return onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(dt));
  switch (dt) {
  case 17:
    return "FLOAT8E4M3FN";
  case 18:
    return "FLOAT8E4M3FNUZ";
  case 19:
    return "FLOAT8E5M2";
  case 20:
    return "FLOAT8E5M2FNUZ";
  case 21:
    return "UINT4";
  case 22:
    return "INT4";
  case 23:
    return "FLOAT4E2M1";
  }
  return "data type " + std::to_string(dt);
}

ModelImporter::ModelImporter(MLIRContext *ctx, StringRef path,
                             const ONNXImportOptions &options)
    : ctx(ctx), builder(ctx), path(path.str()), options(options) {}

Location ModelImporter::fileLoc() {
  return FileLineColLoc::get(ctx, path, 0, 0);
}

Location ModelImporter::nodeLoc(const onnx::NodeProto &node) {
  std::string name = node.name();
  if (name.empty()) // unnamed nodes: name them after their first output
    name = node.output_size() ? node.output(0) : node.op_type();
  return NameLoc::get(StringAttr::get(ctx, name), fileLoc());
}

FailureOr<RankedTensorType> ModelImporter::convertType(const onnx::TypeProto &t,
                                                       Location loc,
                                                       StringRef what) {
  if (!t.has_tensor_type())
    return emitError(loc) << what << " is not a tensor (sequences, maps and "
                          << "optionals are not supported)";
  const auto &tt = t.tensor_type();
  Type elt = convertElementType(tt.elem_type(), ctx);
  if (!elt)
    return emitError(loc) << what << " has unsupported element type "
                          << dataTypeName(tt.elem_type());
  if (!tt.has_shape())
    return emitError(loc) << what << " has an unknown rank; give its input "
                          << "shapes with --input-shape";
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() < 0)
      return emitError(loc) << what << " has negative dim " << d.dim_value();
    dims.push_back(d.has_dim_value() ? d.dim_value() : ShapedType::kDynamic);
  }
  std::optional<int64_t> bytes = tensorBytes(dims, elt);
  if (!bytes || *bytes > kMaxTensorBytes) {
    InFlightDiagnostic diag = emitError(loc) << what << " of shape [";
    for (auto [i, d] : llvm::enumerate(dims)) {
      diag << (i ? ", " : "");
      if (ShapedType::isDynamic(d))
        diag << "?";
      else
        diag << d;
    }
    return diag << "] holds more than the largest tensor supported "
                << "(2^36 bytes)";
  }
  return RankedTensorType::get(dims, elt);
}

/// Reads the bytes of a tensor stored outside the model file: a file in the
/// model's directory (or below it), unless `anywhere`: no absolute path, no
/// `..`, no symbolic link that leads out of it; exactly `want` bytes.
static FailureOr<std::string> readExternal(const onnx::TensorProto &t,
                                           StringRef modelPath, Location loc,
                                           bool anywhere, uint64_t want) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset" || kv.key() == "length") {
      int64_t v;
      if (StringRef(kv.value()).getAsInteger(10, v) || v < 0)
        return emitError(loc) << "external data of tensor '" << t.name()
                              << "' has " << kv.key() << " '" << kv.value()
                              << "', not a non-negative integer";
      (kv.key() == "offset" ? offset : length) = v;
    }
  }
  SmallString<256> dir = llvm::sys::path::parent_path(modelPath);
  SmallString<256> file = dir;
  if (llvm::sys::path::is_absolute(location))
    file = location;
  else
    llvm::sys::path::append(file, location);
  if (!anywhere) {
    auto outside = [&](const Twine &why) {
      return emitError(loc) << "external data '" << location << "' of tensor '"
                            << t.name() << "' " << why
                            << "; external data must lie in the model's "
                               "directory (--allow-external-data-anywhere "
                               "lifts this)";
    };
    if (location.empty() || llvm::sys::path::is_absolute(location) ||
        llvm::sys::path::is_absolute(location, llvm::sys::path::Style::windows))
      return outside("is not a relative path");
    for (StringRef part : llvm::make_range(llvm::sys::path::begin(location),
                                           llvm::sys::path::end(location)))
      if (part == "..")
        return outside("climbs out with '..'");
    SmallString<256> realDir, realFile;
    if (dir.empty())
      dir = ".";
    if (!llvm::sys::fs::real_path(dir, realDir) &&
        !llvm::sys::fs::real_path(file, realFile)) {
      StringRef rel = realFile.str();
      if (!rel.consume_front(realDir) ||
          (!rel.empty() && !llvm::sys::path::is_separator(rel.front())))
        return outside("leads out through a symbolic link to '" + realFile +
                       "'");
    }
  }
  auto buf = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return emitError(loc) << "cannot read external data '" << file
                          << "' of tensor '" << t.name()
                          << "': " << buf.getError().message();
  StringRef all = (*buf)->getBuffer();
  if (offset < 0 || offset > int64_t(all.size()) ||
      (length >= 0 && length > int64_t(all.size()) - offset))
    return emitError(loc) << "external data of tensor '" << t.name()
                          << "' lies outside '" << file << "' (" << all.size()
                          << " bytes)";
  // Checked before the copy: what is copied is what the dims declare.
  StringRef data = all.substr(offset, length < 0 ? StringRef::npos : length);
  if (data.size() != want)
    return emitError(loc) << "external data of tensor '" << t.name()
                          << "' holds " << data.size() << " bytes, its dims "
                          << "need " << want;
  return data.str();
}

/// The little-endian bytes of a tensor stored in the protobuf (raw_data or
/// the typed repeated fields), one element per `eltBytes`.
static std::string inlineTensorBytes(const onnx::TensorProto &t,
                                     unsigned eltBytes) {
  if (t.has_raw_data())
    return t.raw_data();
  std::string bytes;
  auto append = [&](const void *p, size_t size) {
    bytes.append(static_cast<const char *>(p), size);
  };
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    append(t.float_data().data(), t.float_data_size() * 4);
    break;
  case onnx::TensorProto::DOUBLE:
    append(t.double_data().data(), t.double_data_size() * 8);
    break;
  case onnx::TensorProto::INT64:
    append(t.int64_data().data(), t.int64_data_size() * 8);
    break;
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    for (uint64_t v : t.uint64_data())
      append(&v, eltBytes);
    break;
  case onnx::TensorProto::INT32:
    append(t.int32_data().data(), t.int32_data_size() * 4);
    break;
  default: // int8/16, uint8/16, bool, f16, bf16 travel in int32_data
    for (int32_t v : t.int32_data())
      append(&v, eltBytes);
    break;
  }
  return bytes;
}

FailureOr<ElementsAttr> ModelImporter::convertTensor(const onnx::TensorProto &t,
                                                     Location loc) {
  Type elt = convertElementType(t.data_type(), ctx);
  if (!elt)
    return emitError(loc) << "tensor '" << t.name()
                          << "' has unsupported element type "
                          << dataTypeName(t.data_type());
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  // 4-bit types travel two to a byte (low nibble first); in MLIR each takes
  // a byte.
  bool nibbles = rawElementBits(elt) == 4;
  unsigned eltBytes = nibbles ? 1 : rawElementBits(elt) / 8;
  // A corrupt file may claim negative dims or more bytes than exist.
  int64_t n = 1;
  for (int64_t d : dims)
    if (d < 0 || llvm::MulOverflow(n, d, n) ||
        n > std::numeric_limits<int64_t>::max() / int64_t(eltBytes))
      return emitError(loc)
             << "tensor '" << t.name() << "' has invalid dims ["
             << llvm::make_range(dims.begin(), dims.end()) << "]";
  std::optional<int64_t> size = tensorBytes(dims, elt);
  if (!size || *size > kMaxTensorBytes)
    return emitError(loc) << "tensor '" << t.name() << "' of dims ["
                          << llvm::make_range(dims.begin(), dims.end())
                          << "] holds more than the largest tensor supported "
                          << "(2^36 bytes)";
  auto type = RankedTensorType::get(dims, elt);

  // Gather the little-endian bytes, one element per eltBytes.
  std::string bytes;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    FailureOr<std::string> ext =
        readExternal(t, path, loc, options.externalDataAnywhere,
                     uint64_t(nibbles ? (n + 1) / 2 : n * eltBytes));
    if (failed(ext))
      return failure();
    bytes = std::move(*ext);
  } else {
    bytes = inlineTensorBytes(t, eltBytes);
  }
  if (nibbles) {
    if (int64_t(bytes.size()) != (n + 1) / 2)
      return emitError(loc) << "tensor '" << t.name() << "' of shape " << type
                            << " holds " << bytes.size() << " bytes, expected "
                            << (n + 1) / 2 << " (two 4-bit values a byte)";
    std::vector<uint32_t> codes = qc::minifloat::unpackCodes(
        reinterpret_cast<const uint8_t *>(bytes.data()), size_t(n), 4);
    std::string wide(codes.begin(), codes.end());
    bytes = std::move(wide);
  }
  if (int64_t(bytes.size()) != n * int64_t(eltBytes))
    return emitError(loc) << "tensor '" << t.name() << "' of shape " << type
                          << " holds " << bytes.size() << " bytes, expected "
                          << n * eltBytes;

  // Weights become resource blobs (printed elided, no quadratic text); small
  // tensors and integer ones stay dense so folders can read them.
  bool dense = n <= 16 || isa<IntegerType>(elt);
  if (!dense) {
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(bytes.data(), bytes.size()), alignof(uint64_t));
    std::string name = t.name().empty() ? "tensor" : t.name();
    return cast<ElementsAttr>(
        DenseResourceElementsAttr::get(type, name, std::move(blob)));
  }
  if (elt.isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : bytes)
      bits.push_back(c != 0);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, bits));
  }
  bool detectedSplat = false;
  if (!DenseElementsAttr::isValidRawBuffer(
          type, ArrayRef<char>(bytes.data(), bytes.size()), detectedSplat))
    return emitError(loc) << "tensor '" << t.name() << "' has invalid data";
  return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(bytes.data(), bytes.size())));
}

LogicalResult ModelImporter::applyConstantInputs(onnx::GraphProto &graph) {
  for (const auto &entry : options.constantInputs) {
    StringRef name = entry.getKey();
    auto *inputs = graph.mutable_input();
    auto it = llvm::find_if(*inputs, [&](const onnx::ValueInfoProto &v) {
      return v.name() == name;
    });
    if (it == inputs->end())
      return emitError(fileLoc()) << "--constant-input names '" << name
                                  << "', which is not an input of the model";
    auto buf = llvm::MemoryBuffer::getFile(entry.getValue(), /*IsText=*/false);
    onnx::TensorProto t;
    if (!buf || !t.ParseFromArray((*buf)->getBufferStart(),
                                  int((*buf)->getBufferSize())))
      return emitError(fileLoc())
             << "--constant-input for '" << name << "': cannot read a "
             << "TensorProto from '" << entry.getValue() << "'";
    if (it->type().tensor_type().elem_type() != t.data_type())
      return emitError(fileLoc())
             << "--constant-input for '" << name << "' holds "
             << dataTypeName(t.data_type()) << " but the input is "
             << dataTypeName(it->type().tensor_type().elem_type());
    t.set_name(name.str());
    *graph.add_initializer() = t;
    inputs->erase(it);
  }
  return success();
}

LogicalResult ModelImporter::applyInputShapes(onnx::GraphProto &graph) {
  llvm::StringSet<llvm::MallocAllocator> used;
  for (auto &input : *graph.mutable_input()) {
    auto it = options.inputShapes.find(input.name());
    if (it == options.inputShapes.end())
      continue;
    used.insert(input.name());
    auto *tt = input.mutable_type()->mutable_tensor_type();
    auto *shape = tt->mutable_shape();
    if (shape->dim_size() && shape->dim_size() != int(it->second.size()))
      return emitError(fileLoc())
             << "--input-shape for '" << input.name() << "' has "
             << it->second.size() << " dims but the model's input has rank "
             << shape->dim_size();
    for (int i = 0; i < int(it->second.size()); ++i) {
      auto *d =
          i < shape->dim_size() ? shape->mutable_dim(i) : shape->add_dim();
      if (d->has_dim_value() && d->dim_value() != it->second[i])
        return emitError(fileLoc())
               << "--input-shape for '" << input.name() << "' sets dim " << i
               << " to " << it->second[i] << " but the model fixes it at "
               << d->dim_value();
      d->set_dim_value(it->second[i]);
    }
  }
  for (const auto &entry : options.inputShapes)
    if (!used.contains(entry.getKey()))
      return emitError(fileLoc()) << "--input-shape names '" << entry.getKey()
                                  << "', which is not an input of the model";
  return success();
}

OwningOpRef<ModuleOp> ModelImporter::import(onnx::ModelProto &model) {
  for (const auto &o : model.opset_import())
    opsets[canonicalDomain(o.domain())] = int(o.version());
  if (!opsets.count(""))
    opsets[""] = 1;
  onnx::GraphProto &graph = *model.mutable_graph();
  if (failed(applyConstantInputs(graph)) || failed(applyInputShapes(graph)))
    return nullptr;

  // Nothing reads the model before it is checked (Validate.cpp).
  if (failed(validateGraph(graph, {}, fileLoc())))
    return nullptr;

  // Malformed nodes would trip shape inference with messages that do not
  // name them.
  for (const auto &node : graph.node()) {
    std::string domain = canonicalDomain(node.domain());
    auto it = opsets.find(domain);
    if (it == opsets.end())
      continue; // importNode reports it
    if (failed(checkArity(node, it->second,
                          onnx::OpSchemaRegistry::Schema(node.op_type(),
                                                         it->second, domain))))
      return nullptr;
  }

  // ONNX's own shape inference fills in every intermediate type; shape
  // subgraphs on static shapes fold to initializers between its rounds.
  std::string inferenceError;
  if (!inferShapesAndFold(model, inferenceError)) {
    emitError(fileLoc()) << "ONNX shape inference failed: "
                         << StringRef(inferenceError).trim();
    return nullptr;
  }

  for (const auto &vi : graph.input())
    valueTypes[vi.name()] = &vi.type();

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc());
  builder.setInsertionPointToEnd(module->getBody());

  llvm::StringSet<llvm::MallocAllocator> initializerNames;
  for (const auto &init : graph.initializer())
    initializerNames.insert(init.name());

  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> args;
  for (const auto &in : graph.input()) {
    if (initializerNames.contains(in.name()))
      continue; // pre-IR4 models list initializers as inputs
    Location loc = NameLoc::get(builder.getStringAttr(in.name()), fileLoc());
    auto t = convertType(in.type(), loc, "graph input '" + in.name() + "'");
    if (failed(t))
      return nullptr;
    argTypes.push_back(*t);
    args.push_back(&in);
  }
  // Result types follow the returned values (declared graph output types
  // may lack shapes that inference found).
  auto func = func::FuncOp::create(builder, fileLoc(), options.functionName,
                                   builder.getFunctionType(argTypes, {}));
  SmallVector<Attribute> argNames, resNames;
  for (auto *a : args)
    argNames.push_back(builder.getStringAttr(a->name()));
  for (const auto &o : graph.output())
    resNames.push_back(builder.getStringAttr(o.name()));
  func->setAttr(QCDialect::kInputNamesAttrName, builder.getArrayAttr(argNames));
  func->setAttr(QCDialect::kOutputNamesAttrName,
                builder.getArrayAttr(resNames));
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToStart(body);
  for (auto [a, v] : llvm::zip(args, body->getArguments()))
    values[a->name()] = v;

  FailureOr<SmallVector<Value>> results =
      importGraphBody(graph, fileLoc(), "graph output");
  if (failed(results))
    return nullptr;
  func::ReturnOp::create(builder, fileLoc(), *results);
  func.setFunctionType(
      builder.getFunctionType(argTypes, ValueRange(*results).getTypes()));
  if (failed(verify(*module)) || failed(checkTensorSizes(*module)))
    return nullptr;
  return module;
}

/// Arity from ONNX's schema, so handlers may rely on required operands. The
/// upper bounds hold only for opsets the library knows: for newer ones it
/// hands back the latest schema it has, which may take fewer inputs.
LogicalResult ModelImporter::checkArity(const onnx::NodeProto &node, int opset,
                                        const onnx::OpSchema *schema) {
  if (!schema)
    return success();
  Location loc = nodeLoc(node);
  const auto &formals = schema->inputs();
  for (size_t i = 0; i < formals.size(); ++i) {
    if (formals[i].GetOption() != onnx::OpSchema::Single)
      continue;
    if (int(i) >= node.input_size() || node.input(i).empty())
      return nodeError(loc, node, opset)
             << "required input #" << i << " ('" << formals[i].GetName()
             << "') is missing";
  }
  const auto &known =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto range = known.find(canonicalDomain(node.domain()));
  bool schemaCurrent = range != known.end() && opset <= range->second.second;
  if (node.output_size() < schema->min_output() ||
      (schemaCurrent && (node.input_size() > schema->max_input() ||
                         node.output_size() > schema->max_output())))
    return nodeError(loc, node, opset)
           << "has " << node.input_size() << " inputs and "
           << node.output_size() << " outputs; the schema allows "
           << schema->min_input() << "-" << schema->max_input()
           << " inputs and " << schema->min_output() << "-"
           << schema->max_output() << " outputs";
  return success();
}

LogicalResult ModelImporter::importNode(const onnx::NodeProto &node) {
  Location loc = nodeLoc(node);
  std::string domain = canonicalDomain(node.domain());
  auto opsetIt = opsets.find(domain);
  if (opsetIt == opsets.end())
    return nodeError(loc, node, 0)
           << "the model imports no opset of domain '" << domain << "'";
  int opset = opsetIt->second;
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(node.op_type(), opset, domain);
  const Handler *handler =
      HandlerRegistry::get().lookup(domain, node.op_type(), opset);
  if (!handler)
    return nodeError(loc, node, opset) << "unsupported op";

  if (failed(checkArity(node, opset, schema)))
    return failure();

  SmallVector<Value> inputs;
  for (const std::string &name : node.input()) {
    if (name.empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    Value v = values.lookup(name);
    if (!v)
      return nodeError(loc, node, opset)
             << "input '" << name << "' is neither a graph input, an "
             << "initializer nor the output of an earlier node";
    inputs.push_back(v);
  }
  SmallVector<Type> resultTypes;
  for (const std::string &name : node.output()) {
    if (name.empty()) {
      resultTypes.push_back(nullptr);
      continue;
    }
    auto it = valueTypes.find(name);
    bool unknownRank = it != valueTypes.end() &&
                       it->second->has_tensor_type() &&
                       !it->second->tensor_type().has_shape();
    if (it == valueTypes.end() || (unknownRank && node.op_type() == "If")) {
      // Shape inference gave up on this value: the handler may still know
      // the type (Constant, Identity); null tells it so.
      resultTypes.push_back(nullptr);
      continue;
    }
    auto t = convertType(*it->second, loc,
                         "output '" + name + "' of " + node.op_type() +
                             " node '" + node.name() + "'");
    if (failed(t))
      return failure();
    resultTypes.push_back(*t);
  }

  NodeImporter ni(*this, node, opset, schema, loc, std::move(inputs),
                  std::move(resultTypes));
  if (failed((*handler)(ni)))
    return failure();
  for (auto [i, name] : llvm::enumerate(node.output())) {
    if (name.empty())
      continue;
    if (i >= ni.results.size() || !ni.results[i])
      return ni.error() << "output '" << name << "' (#" << i
                        << ") is not supported";
    values[name] = ni.results[i];
  }
  return success();
}

FailureOr<SmallVector<Value>>
ModelImporter::importGraphBody(const onnx::GraphProto &graph, Location loc,
                               StringRef outputKind) {
  for (const auto &vi : graph.value_info())
    valueTypes[vi.name()] = &vi.type();
  for (const auto &vi : graph.output())
    valueTypes[vi.name()] = &vi.type();
  for (const auto &init : graph.initializer()) {
    Location initLoc =
        NameLoc::get(builder.getStringAttr(init.name()), fileLoc());
    FailureOr<ElementsAttr> attr = convertTensor(init, initLoc);
    if (failed(attr))
      return failure();
    values[init.name()] =
        arith::ConstantOp::create(builder, initLoc, cast<TypedAttr>(*attr));
  }
  for (const auto &node : graph.node())
    if (failed(importNode(node)))
      return failure();
  SmallVector<Value> outputs;
  for (const auto &out : graph.output()) {
    Value v = values.lookup(out.name());
    if (!v)
      return emitError(loc)
             << outputKind << " '" << out.name() << "' is produced by no node";
    outputs.push_back(v);
  }
  return outputs;
}

LogicalResult ModelImporter::importSubgraph(const onnx::GraphProto &graph,
                                            Region &region, Location loc) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(builder.createBlock(&region));
  FailureOr<SmallVector<Value>> yields =
      importGraphBody(graph, loc, "branch output");
  if (failed(yields))
    return failure();
  YieldOp::create(builder, loc, *yields);
  return success();
}

OwningOpRef<ModuleOp> qc::importONNXModel(StringRef bytes, StringRef path,
                                          MLIRContext *context,
                                          const ONNXImportOptions &options) {
  context->loadDialect<QCDialect, func::FuncDialect, arith::ArithDialect,
                       tensor::TensorDialect>();
  onnx::ModelProto model;
  if (bytes.size() > size_t(INT_MAX) ||
      !model.ParseFromArray(bytes.data(), int(bytes.size()))) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "not a valid ONNX model: protobuf parsing of " << bytes.size()
        << " bytes failed (truncated or corrupt file?)";
    return nullptr;
  }
  if (!model.has_graph()) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "not a valid ONNX model: no graph";
    return nullptr;
  }
  onnx_import::ModelImporter importer(context, path, options);
  return importer.import(model);
}

LogicalResult qc::parseInputShape(StringRef spec, ONNXImportOptions &options,
                                  std::string &error) {
  auto [name, dims] = spec.rsplit(':');
  if (name.empty() || dims.empty()) {
    error = "--input-shape expects NAME:D0xD1x..., got '" + spec.str() + "'";
    return failure();
  }
  std::vector<int64_t> shape;
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  for (StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d < 0) {
      error = "--input-shape '" + spec.str() + "': '" + p.str() +
              "' is not a non-negative dimension";
      return failure();
    }
    shape.push_back(d);
  }
  auto [it, inserted] = options.inputShapes.try_emplace(name, shape);
  if (!inserted && it->second != shape) {
    error = "--input-shape gives '" + name.str() + "' two different shapes";
    return failure();
  }
  return success();
}

LogicalResult qc::parseConstantInput(StringRef spec, ONNXImportOptions &options,
                                     std::string &error) {
  auto [name, path] = spec.split('=');
  if (name.empty() || path.empty()) {
    error = "--constant-input expects NAME=FILE.pb, got '" + spec.str() + "'";
    return failure();
  }
  auto [it, inserted] = options.constantInputs.try_emplace(name, path.str());
  if (!inserted && it->second != path) {
    error = "--constant-input gives '" + name.str() + "' two different files";
    return failure();
  }
  return success();
}

LogicalResult qc::readONNXTensorFile(StringRef path, ONNXTensorFile &out,
                                     std::string &error) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buf) {
    error = "cannot read '" + path.str() + "': " + buf.getError().message();
    return failure();
  }
  return parseONNXTensor((*buf)->getBuffer(), "'" + path.str() + "'", out,
                         error);
}

LogicalResult qc::parseONNXTensor(StringRef bytes, StringRef what,
                                  ONNXTensorFile &out, std::string &error) {
  onnx::TensorProto t;
  if (bytes.size() > size_t(INT_MAX) ||
      !t.ParseFromArray(bytes.data(), int(bytes.size()))) {
    error = what.str() + " is not a serialized ONNX TensorProto";
    return failure();
  }
  MLIRContext ctx;
  Type elt = onnx_import::convertElementType(t.data_type(), &ctx);
  if (!elt || onnx_import::rawElementBits(elt) % 8) {
    error = what.str() + " holds unsupported element type " +
            dataTypeName(t.data_type());
    return failure();
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    error = what.str() + " keeps its data externally (not supported)";
    return failure();
  }
  int64_t eltBytes = onnx_import::rawElementBits(elt) / 8;
  out.name = t.name();
  out.dataType = t.data_type();
  out.dims.assign(t.dims().begin(), t.dims().end());
  int64_t n = eltBytes;
  for (int64_t d : out.dims)
    if (d < 0 || llvm::MulOverflow(n, d, n)) {
      error = what.str() + " has invalid dims";
      return failure();
    }
  out.bytes = inlineTensorBytes(t, eltBytes);
  if (int64_t(out.bytes.size()) != n) {
    error = what.str() + " holds " + std::to_string(out.bytes.size()) +
            " bytes of data, expected " + std::to_string(n);
    return failure();
  }
  return success();
}

LogicalResult qc::readONNXInputNames(StringRef bytes,
                                     std::vector<std::string> &names) {
  onnx::ModelProto model;
  if (bytes.size() > size_t(INT_MAX) ||
      !model.ParseFromArray(bytes.data(), int(bytes.size())))
    return failure();
  std::set<std::string> inits;
  for (const auto &init : model.graph().initializer())
    inits.insert(init.name());
  for (const auto &in : model.graph().input())
    if (!inits.count(in.name()))
      names.push_back(in.name());
  return success();
}

LogicalResult qc::parseImportOptions(ArrayRef<std::string> inputShapes,
                                     ArrayRef<std::string> constantInputs,
                                     ONNXImportOptions &options,
                                     std::string &error) {
  for (const std::string &spec : inputShapes)
    if (failed(parseInputShape(spec, options, error)))
      return failure();
  for (const std::string &spec : constantInputs)
    if (failed(parseConstantInput(spec, options, error)))
      return failure();
  return success();
}
