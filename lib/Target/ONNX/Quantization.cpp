//===- Quantization.cpp - ONNX quantization op handlers -------------------===//
//
// QDQ models (QuantizeLinear / DequantizeLinear with constant parameters)
// import to qc.quantize / qc.dequantize with !quant.uniform types; QOperator
// models (ConvInteger, MatMulInteger, QLinearConv, QLinearMatMul) import
// straight to the integer ops, QLinear* with a dyadic qc.requantize.
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"

#include "qc/Dialect/QC/IR/ElementsData.h"
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Support/Dyadic.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace qc;
using namespace qc::onnx_import;

namespace {

/// Static form with constant parameters at `params`, else the ONNX form.
Handler staticOrDirect(std::initializer_list<unsigned> params,
                       LogicalResult (*importStatic)(NodeImporter &)) {
  std::vector<unsigned> p(params);
  return [p, importStatic](NodeImporter &n) {
    for (unsigned i : p)
      if (i < n.inputs.size() && n.inputs[i] &&
          !matchPattern(n.inputs[i], m_Constant()))
        return n.createDirect();
    return importStatic(n);
  };
}

/// Values of a constant float tensor operand.
std::optional<SmallVector<double>> constantFloats(NodeImporter &n, unsigned i) {
  if (i >= n.inputs.size() || !n.inputs[i])
    return std::nullopt;
  ElementsAttr attr;
  if (!matchPattern(n.inputs[i], m_Constant(&attr)))
    return std::nullopt;
  SmallVector<double> out;
  // Per-channel scales of more than a few channels arrive as resource blobs.
  if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> values = blob.tryGetAsArrayRef();
    if (!values)
      return std::nullopt;
    out.assign(values->begin(), values->end());
    return out;
  }
  auto dense = dyn_cast<DenseFPElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  for (const APFloat &v : dense.getValues<APFloat>())
    out.push_back(v.convertToDouble());
  return out;
}

/// Zero points (all 0 when the input is omitted), `count` of them.
FailureOr<SmallVector<int64_t>> zeroPoints(NodeImporter &n, unsigned i,
                                           size_t count) {
  if (i >= n.inputs.size() || !n.inputs[i])
    return SmallVector<int64_t>(count, 0);
  std::optional<SmallVector<int64_t>> zp = n.constantInts(i);
  if (!zp)
    return n.error() << "zero point (input #" << i << ") must be a constant";
  if (zp->size() == 1 && count > 1)
    zp->assign(count, (*zp)[0]);
  return *zp;
}

FailureOr<SmallVector<double>> scales(NodeImporter &n, unsigned i) {
  std::optional<SmallVector<double>> s = constantFloats(n, i);
  if (!s)
    return n.error() << "scale (input #" << i << ") must be a constant";
  for (double v : *s)
    if (!(v > 0))
      return n.error() << "scale " << v << " must be positive";
  return *s;
}

/// The !quant.uniform type of `storage` values with these parameters:
/// per tensor, or per `axis` when there is more than one scale.
FailureOr<quant::QuantizedType> quantType(NodeImporter &n, IntegerType storage,
                                          Type expressed, ArrayRef<double> s,
                                          ArrayRef<int64_t> zp, int64_t axis,
                                          RankedTensorType tensor) {
  IntRange r = integerRange(storage);
  unsigned flags = storage.isUnsigned() ? 0 : quant::QuantizationFlags::Signed;
  // 4-bit storage is widened to a byte (widenInt4), its range kept.
  Type storageTy = IntegerType::get(n.builder.getContext(),
                                    std::max(8u, storage.getWidth()));
  auto emit = [&] { return n.error(); };
  if (s.size() == 1)
    return quant::QuantizedType(quant::UniformQuantizedType::getChecked(
        emit, flags, storageTy, expressed, s[0], zp[0], r.min, r.max));
  if (axis < 0)
    axis += tensor.getRank();
  return quant::QuantizedType(quant::UniformQuantizedPerAxisType::getChecked(
      emit, flags, storageTy, expressed, s, zp, int32_t(axis), r.min, r.max));
}

/// The !quant.uniform type of QuantizeLinear/DequantizeLinear: scales from
/// input #1, zero points from input #2, per `axis` when there are several.
/// Scales (input #1) and zero points (input #2, as many) of a
/// Quantize/DequantizeLinear.
LogicalResult scalesAndZeroPoints(NodeImporter &n, SmallVector<double> &s,
                                  SmallVector<int64_t> &zp) {
  FailureOr<SmallVector<double>> sv = scales(n, 1);
  if (failed(sv))
    return failure();
  FailureOr<SmallVector<int64_t>> z = zeroPoints(n, 2, sv->size());
  if (failed(z))
    return failure();
  s = std::move(*sv);
  zp = std::move(*z);
  return success();
}

FailureOr<quant::QuantizedType> linearQuantType(NodeImporter &n,
                                                IntegerType storage,
                                                Type expressed,
                                                RankedTensorType tensor) {
  SmallVector<double> s;
  SmallVector<int64_t> zp;
  if (failed(scalesAndZeroPoints(n, s, zp)))
    return failure();
  FailureOr<quant::QuantizedType> q = quantType(
      n, storage, expressed, s, zp, n.getInt("axis").value_or(1), tensor);
  if (failed(q) || !*q)
    return failure();
  return q;
}

std::optional<std::vector<char>> constantBytes(NodeImporter &n, unsigned i);

/// The FP8 format of a FLOAT8E4M3FN / FLOAT8E5M2 element type.
std::optional<ElementFormat> fp8Format(Type t) {
  if (isa_and_nonnull<Float8E4M3FNType>(t))
    return ElementFormat::FP8E4M3;
  if (isa_and_nonnull<Float8E5M2Type>(t))
    return ElementFormat::FP8E5M2;
  return std::nullopt;
}

/// The per-tensor scale (input #1) and the +0 zero point (input #2, if any)
/// of a Quantize/DequantizeLinear of FP8 activations.
FailureOr<double> fp8Scale(NodeImporter &n) {
  FailureOr<SmallVector<double>> s = scales(n, 1);
  if (failed(s))
    return failure();
  if (s->size() != 1)
    return n.error() << "FP8 activations take one scale (per tensor), got "
                     << s->size();
  if (std::optional<std::vector<char>> zp = constantBytes(n, 2)) {
    if (llvm::any_of(*zp, [](char c) { return c != 0; }))
      return n.error() << "the zero point of FP8 activations must be +0";
  } else if (n.inputs.size() > 2 && n.inputs[2]) {
    return n.error() << "zero point (input #2) must be a constant";
  }
  return (*s)[0];
}

/// QuantizeLinear to FLOAT8 (opset 19; the zero point's type names it):
/// qc.minifloat_quantize, x / scale to nearest even, saturating.
LogicalResult importFp8Quantize(NodeImporter &n, RankedTensorType x,
                                ElementFormat fmt) {
  if (!x || !x.getElementType().isF32())
    return n.error() << "quantizes f32 to FLOAT8 only";
  if (n.getInt("saturate").value_or(1) != 1)
    return n.error() << "saturate = 0 (out of range to NaN or infinity) is "
                        "not supported; FP8 activations saturate";
  FailureOr<double> s = fp8Scale(n);
  if (failed(s))
    return failure();
  n.results = {MinifloatQuantizeOp::create(
      n.builder, n.loc,
      RankedTensorType::get(x.getShape(), n.builder.getI8Type()), n.inputs[0],
      fmt, APFloat(*s))};
  return success();
}

LogicalResult importQuantizeLinear(NodeImporter &n) {
  RankedTensorType x = n.inputType(0);
  auto out = dyn_cast_or_null<RankedTensorType>(n.resultTypes[0]);
  RankedTensorType zpTy = n.inputs.size() > 2 ? n.inputType(2) : nullptr;
  if (std::optional<ElementFormat> f = fp8Format(zpTy  ? zpTy.getElementType()
                                                 : out ? out.getElementType()
                                                       : Type()))
    return importFp8Quantize(n, x, *f);
  if (!out)
    return n.error() << "result type unknown";
  auto storage = dyn_cast<IntegerType>(out.getElementType());
  if (!storage)
    return n.error() << "quantizing to " << out.getElementType()
                     << " is not supported";
  FailureOr<quant::QuantizedType> q =
      linearQuantType(n, storage, x.getElementType(), x);
  if (failed(q))
    return failure();
  auto qTensor = RankedTensorType::get(x.getShape(), *q);
  Value quantized = QuantizeOp::create(n.builder, n.loc, qTensor, n.inputs[0]);
  n.results = {StorageCastOp::create(n.builder, n.loc, out, quantized)};
  return success();
}

/// A constant 1-D i8 tensor of `bytes` (a resource blob).
Value byteConstant(NodeImporter &n, ArrayRef<uint8_t> bytes, StringRef name) {
  auto ty =
      RankedTensorType::get({int64_t(bytes.size())}, n.builder.getI8Type());
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(bytes.data()),
                     bytes.size()),
      alignof(uint64_t));
  return arith::ConstantOp::create(
      n.builder, n.loc,
      DenseResourceElementsAttr::get(ty, name, std::move(blob)));
}

/// The bytes of constant input #i, one per element; none if not constant.
std::optional<std::vector<char>> constantBytes(NodeImporter &n, unsigned i) {
  ElementsAttr attr;
  if (i >= n.inputs.size() || !n.inputs[i] ||
      !matchPattern(n.inputs[i], m_Constant(&attr)))
    return std::nullopt;
  return readElementBytes(attr);
}

/// Scales laid out as qc.block_dequantize takes them ([C, nb], C along
/// `channelAxis`, blocks of `block` along the rest) from an ONNX
/// Dequantize/QuantizeLinear's per-tensor, per-axis or blocked (opset 21
/// `block_size`) scales of a tensor `x`; fails for layouts it cannot take.
struct BlockLayout {
  int64_t channelAxis, block, blocks;
  SmallVector<double> scales; // [C][blocks]
};
FailureOr<BlockLayout> blockLayout(NodeImporter &n, RankedTensorType x,
                                   ArrayRef<double> s) {
  int64_t rank = x.getRank(), numel = x.getNumElements();
  int64_t axis = n.getInt("axis").value_or(1),
          b = n.getInt("block_size").value_or(0);
  if (axis < 0)
    axis += rank;
  BlockLayout l;
  auto channels = [&](int64_t a) { return x.getDimSize(a); };
  if (s.size() == 1 && b == 0) { // per tensor
    l.channelAxis = rank == 2 ? 1 : 0;
    int64_t c = channels(l.channelAxis);
    l.block = numel / c, l.blocks = 1;
    l.scales.assign(c, s[0]);
    return l;
  }
  if (axis < 0 || axis >= rank)
    return n.error() << "axis " << n.getInt("axis").value_or(1)
                     << " is out of range for rank " << rank;
  if (b == 0) { // per axis
    if (!(axis == 0 || (rank == 2 && axis == 1)))
      return n.error() << "per-axis scales of a minifloat tensor along axis "
                       << axis << " (rank " << rank
                       << ") are not supported: axis 0, or 1 of a matrix";
    if (int64_t(s.size()) != channels(axis))
      return n.error() << s.size() << " scales for " << channels(axis)
                       << " channels along axis " << axis;
    l.channelAxis = axis;
    l.block = numel / channels(axis), l.blocks = 1;
    l.scales.assign(s.begin(), s.end());
    return l;
  }
  if (b < 0)
    return n.error() << "block_size must be positive, got " << b;
  if (rank != 2)
    return n.error() << "blocked scales (block_size " << b
                     << ") of a minifloat tensor of rank " << rank
                     << " are not supported: a matrix only";
  l.channelAxis = 1 - axis;
  l.block = b;
  l.blocks = (x.getDimSize(axis) + b - 1) / b;
  int64_t c = channels(l.channelAxis);
  if (int64_t(s.size()) != c * l.blocks)
    return n.error() << s.size() << " scales for " << c << " x " << l.blocks
                     << " blocks of " << b << " along axis " << axis;
  l.scales.resize(c * l.blocks);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t bl = 0; bl < l.blocks; ++bl)
      l.scales[ch * l.blocks + bl] =
          axis == 0 ? s[bl * c + ch] : s[ch * l.blocks + bl];
  return l;
}

/// DequantizeLinear of a constant FLOAT8E4M3FN / FLOAT8E5M2 / FLOAT4E2M1
/// tensor: qc.block_dequantize of its packed codes. FP4 scales that are all
/// powers of two in blocks along a matrix's rows become E8M0 codes (an MX
/// weight the integer products take); other scales stay f32.
LogicalResult importMinifloatDequantize(NodeImporter &n, RankedTensorType x,
                                        RankedTensorType out) {
  Type elt = x.getElementType();
  qc::ElementFormat fmt = isa<Float8E4M3FNType>(elt) ? ElementFormat::FP8E4M3
                          : isa<Float8E5M2Type>(elt) ? ElementFormat::FP8E5M2
                                                     : ElementFormat::FP4E2M1;
  minifloat::Format mf = *minifloatFormat(fmt);
  std::optional<std::vector<char>> codes = constantBytes(n, 0);
  if (!x.hasStaticShape() || x.getRank() < 1 || !codes ||
      int64_t(codes->size()) != x.getNumElements())
    return n.error()
           << "dequantizes " << elt
           << " only from a constant of static shape (an initializer)";
  if (std::optional<std::vector<char>> zp = constantBytes(n, 2)) {
    if (llvm::any_of(*zp, [](char c) { return (c & 0x7F) != 0; }))
      return n.error() << "the zero point of a " << elt << " tensor must be 0";
  } else if (n.inputs.size() > 2 && n.inputs[2]) {
    return n.error() << "zero point (input #2) must be a constant";
  }
  FailureOr<SmallVector<double>> s = scales(n, 1);
  if (failed(s))
    return failure();
  FailureOr<BlockLayout> l = blockLayout(n, x, *s);
  if (failed(l))
    return failure();
  unsigned bits = minifloat::layout(mf).bits;
  std::vector<uint32_t> c(codes->size());
  for (size_t i = 0; i < c.size(); ++i) {
    c[i] = uint8_t((*codes)[i]) & ((1u << bits) - 1);
    double v = minifloat::decode(mf, c[i]);
    if (!std::isfinite(v)) {
      auto diag = n.error() << "weight holds "
                            << (std::isnan(v) ? "NaN" : "inf") << " at [";
      llvm::interleaveComma(
          delinearize(int64_t(i), computeStrides(x.getShape())), diag);
      return diag << "] of its " << x << "; it cannot be computed with";
    }
  }
  std::vector<uint8_t> packed = minifloat::packCodes(c.data(), c.size(), bits);
  Value codesV = byteConstant(n, packed, "codes");
  int64_t channels = x.getDimSize(l->channelAxis);
  bool mx = fmt == ElementFormat::FP4E2M1 && x.getRank() == 2 &&
            l->channelAxis == 1 && llvm::all_of(l->scales, [](double v) {
              int e;
              return std::frexp(v, &e) == 0.5 && e - 1 >= -127 && e - 1 <= 127;
            });
  Value scalesV;
  ElementFormatAttr scaleFormat;
  auto sTy = RankedTensorType::get({channels, l->blocks},
                                   mx ? Type(n.builder.getI8Type())
                                      : Type(n.builder.getF32Type()));
  if (mx) {
    SmallVector<int8_t> e;
    for (double v : l->scales) {
      int ex;
      std::frexp(v, &ex);
      e.push_back(int8_t(minifloat::e8m0Code(ex - 1)));
    }
    scalesV = arith::ConstantOp::create(
        n.builder, n.loc, DenseElementsAttr::get(sTy, ArrayRef(e)));
    scaleFormat =
        ElementFormatAttr::get(n.builder.getContext(), ElementFormat::E8M0);
  } else {
    SmallVector<float> f(l->scales.begin(), l->scales.end());
    scalesV = arith::ConstantOp::create(
        n.builder, n.loc, DenseElementsAttr::get(sTy, ArrayRef(f)));
  }
  auto resTy = RankedTensorType::get(
      x.getShape(), out ? out.getElementType() : n.builder.getF32Type());
  if (!resTy.getElementType().isF32())
    return n.error() << "dequantizes " << elt << " to f32 only";
  n.results = {BlockDequantizeOp::create(
      n.builder, n.loc, resTy, codesV, scalesV, fmt, uint64_t(l->channelAxis),
      uint64_t(l->block), scaleFormat, APFloat(1.0))};
  return success();
}

/// A constant INT4 / UINT4 tensor widened to i8 / ui8 (the integer
/// kernels' storage; the quantized type keeps the 4-bit range).
Value widenInt4(NodeImporter &n, RankedTensorType x, IntegerType storage) {
  std::optional<std::vector<char>> bytes = constantBytes(n, 0);
  if (!bytes || int64_t(bytes->size()) != x.getNumElements())
    return nullptr;
  bool isSigned = !storage.isUnsigned(); // INT4 imports signless
  auto ty = RankedTensorType::get(
      x.getShape(), isSigned ? n.builder.getIntegerType(8)
                             : n.builder.getIntegerType(8, false));
  SmallVector<APInt> v;
  for (char c : *bytes) {
    int64_t val = isSigned ? int64_t(int8_t(uint8_t(c) << 4) >> 4)
                           : int64_t(uint8_t(c) & 0xF);
    v.push_back(APInt(8, uint64_t(val), isSigned));
  }
  return arith::ConstantOp::create(n.builder, n.loc,
                                   DenseElementsAttr::get(ty, v));
}

/// The !quant type of a blocked (opset 21 `block_size`) integer
/// DequantizeLinear: blocks of B along `axis`, a scale per block and
/// position along every other dim.
FailureOr<quant::QuantizedType> blockedQuantType(NodeImporter &n,
                                                 IntegerType storage,
                                                 Type expressed,
                                                 RankedTensorType x) {
  int64_t rank = x.getRank(), axis = n.getInt("axis").value_or(1),
          b = *n.getInt("block_size");
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank || b <= 0 || !x.hasStaticShape() ||
      x.getDimSize(axis) % b)
    return n.error() << "block_size " << b << " along axis "
                     << n.getInt("axis").value_or(1) << " of " << x
                     << " is not supported (blocks must divide the axis)";
  SmallVector<double> s;
  SmallVector<int64_t> zp;
  if (failed(scalesAndZeroPoints(n, s, zp)))
    return failure();
  SmallVector<int64_t> shape(x.getShape());
  shape[axis] /= b;
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  if (int64_t(s.size()) != count)
    return n.error() << s.size() << " scales, expected " << count
                     << " for blocks of " << b << " along axis " << axis;
  SmallVector<int32_t> dims;
  SmallVector<int64_t> sizes;
  for (int64_t d = 0; d < rank; ++d) {
    dims.push_back(int32_t(d));
    sizes.push_back(d == axis ? b : 1);
  }
  IntRange r = integerRange(storage);
  Type st = n.builder.getIntegerType(8);
  SmallVector<float> sf(s.begin(), s.end());
  SmallVector<int8_t> zf(zp.begin(), zp.end());
  auto emit = [&] { return n.error(); };
  return quant::QuantizedType(quant::UniformQuantizedSubChannelType::getChecked(
      emit, storage.isUnsigned() ? 0 : quant::QuantizationFlags::Signed, st,
      expressed,
      DenseElementsAttr::get(
          RankedTensorType::get(shape, n.builder.getF32Type()), ArrayRef(sf)),
      DenseElementsAttr::get(RankedTensorType::get(shape, st), ArrayRef(zf)),
      dims, sizes, r.min, r.max));
}

LogicalResult importDequantizeLinear(NodeImporter &n) {
  RankedTensorType x = n.inputType(0);
  auto out = dyn_cast_or_null<RankedTensorType>(n.resultTypes[0]);
  if (auto q = n.inputs[0] ? n.inputs[0].getDefiningOp<MinifloatQuantizeOp>()
                           : MinifloatQuantizeOp()) {
    // FP8 activations back to f32: qc.minifloat_dequantize.
    FailureOr<double> s = fp8Scale(n);
    if (failed(s))
      return failure();
    n.results = {MinifloatDequantizeOp::create(
        n.builder, n.loc,
        RankedTensorType::get(x.getShape(), n.builder.getF32Type()),
        n.inputs[0], q.getFormat(), APFloat(*s))};
    return success();
  }
  if (x && isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType>(
               x.getElementType()))
    return importMinifloatDequantize(n, x, out);
  auto storage = x ? dyn_cast<IntegerType>(x.getElementType()) : IntegerType();
  if (!out && x && storage)
    out = RankedTensorType::get(x.getShape(), n.builder.getF32Type());
  if (!out || !storage)
    return n.error() << "dequantizes integers to a known float type";
  if (storage.getWidth() == 4) {
    Value wide = widenInt4(n, x, storage);
    if (!wide)
      return n.error() << "dequantizes " << storage
                       << " only from a constant (an initializer)";
    n.inputs[0] = wide;
    x = cast<RankedTensorType>(wide.getType());
  }
  FailureOr<quant::QuantizedType> q =
      n.getInt("block_size").value_or(0)
          ? blockedQuantType(n, storage, out.getElementType(), x)
          : linearQuantType(n, storage, out.getElementType(), x);
  if (failed(q))
    return failure();
  Value quantized = StorageCastOp::create(
      n.builder, n.loc, RankedTensorType::get(x.getShape(), *q), n.inputs[0]);
  n.results = {DequantizeOp::create(n.builder, n.loc, out, quantized)};
  return success();
}

/// Strides, dilations and explicit pads of a conv node, auto_pad resolved.
struct ConvGeometry {
  SmallVector<int64_t> strides, dilations, pads;
  int64_t group;
};

FailureOr<ConvGeometry> convGeometry(NodeImporter &n, RankedTensorType x,
                                     RankedTensorType w) {
  int64_t spatial = x.getRank() - 2;
  ConvGeometry g;
  g.strides = n.getInts("strides").value_or(SmallVector<int64_t>(spatial, 1));
  g.dilations =
      n.getInts("dilations").value_or(SmallVector<int64_t>(spatial, 1));
  g.pads = n.getInts("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  g.group = n.getInt("group").value_or(1);
  std::string autoPad = n.getString("auto_pad").value_or("NOTSET");
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = x.getDimSize(i + 2), k = w.getDimSize(i + 2);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k))
        return n.error() << "auto_pad " << autoPad
                         << " needs static spatial dims";
      int64_t out = (in + g.strides[i] - 1) / g.strides[i];
      int64_t total = std::max<int64_t>(
          0, (out - 1) * g.strides[i] + g.dilations[i] * (k - 1) + 1 - in);
      int64_t small = total / 2, big = total - small;
      g.pads[i] = autoPad == "SAME_UPPER" ? small : big;
      g.pads[i + spatial] = autoPad == "SAME_UPPER" ? big : small;
    }
  } else if (autoPad == "VALID") {
    g.pads.assign(2 * spatial, 0);
  } else if (autoPad != "NOTSET") {
    return n.error() << "auto_pad '" << autoPad << "' is not supported";
  }
  return g;
}

/// qc.conv_int from input #xi, weight #wi and their zero points.
FailureOr<Value> convInt(NodeImporter &n, unsigned xi, unsigned xzpi,
                         unsigned wi, unsigned wzpi, Value bias,
                         RankedTensorType accTy) {
  RankedTensorType x = n.inputType(xi), w = n.inputType(wi);
  FailureOr<ConvGeometry> g = convGeometry(n, x, w);
  if (failed(g))
    return failure();
  FailureOr<SmallVector<int64_t>> xzp = zeroPoints(n, xzpi, 1);
  FailureOr<SmallVector<int64_t>> wzp = zeroPoints(n, wzpi, 1);
  if (failed(xzp) || failed(wzp))
    return failure();
  if (xzp->size() != 1)
    return n.error() << "the input zero point must be a scalar";
  SmallVector<int32_t> wzp32(wzp->begin(), wzp->end());
  return ConvIntOp::create(n.builder, n.loc, accTy, n.inputs[xi], n.inputs[wi],
                           bias, g->strides, g->pads, g->dilations, g->group,
                           int32_t((*xzp)[0]), wzp32, /*lowbit=*/nullptr)
      .getResult();
}

FailureOr<Value> matmulInt(NodeImporter &n, unsigned ai, unsigned azpi,
                           unsigned bi, unsigned bzpi, RankedTensorType accTy) {
  FailureOr<SmallVector<int64_t>> azp = zeroPoints(n, azpi, 1);
  FailureOr<SmallVector<int64_t>> bzp = zeroPoints(n, bzpi, 1);
  if (failed(azp) || failed(bzp))
    return failure();
  if (!llvm::all_equal(*azp))
    return n.error() << "per-row zero points of A are not supported";
  SmallVector<int32_t> bzp32(bzp->begin(), bzp->end());
  return MatMulIntOp::create(n.builder, n.loc, accTy, n.inputs[ai],
                             n.inputs[bi], Value(), int32_t((*azp)[0]), bzp32,
                             /*lowbit=*/nullptr)
      .getResult();
}

/// The accumulator type: the result's shape with i32 elements.
FailureOr<RankedTensorType> accType(NodeImporter &n) {
  auto out = dyn_cast_or_null<RankedTensorType>(n.resultTypes[0]);
  if (!out)
    return n.error() << "result type unknown";
  return RankedTensorType::get(out.getShape(), n.builder.getI32Type());
}

/// qc.requantize of `acc` to the node's result with scales
/// s_a * s_b[c] / s_y and output zero point from input #yzpi.
LogicalResult requantizeTo(NodeImporter &n, Value acc, unsigned sai,
                           unsigned sbi, unsigned syi, unsigned yzpi,
                           int64_t axis) {
  FailureOr<SmallVector<double>> sa = scales(n, sai), sb = scales(n, sbi),
                                 sy = scales(n, syi);
  if (failed(sa) || failed(sb) || failed(sy))
    return failure();
  if (sa->size() != 1 || sy->size() != 1)
    return n.error() << "input and output scales must be per tensor";
  FailureOr<SmallVector<int64_t>> yzp = zeroPoints(n, yzpi, 1);
  if (failed(yzp))
    return failure();
  auto out = cast<RankedTensorType>(n.resultTypes[0]);
  auto outInt = dyn_cast<IntegerType>(out.getElementType());
  if (!outInt)
    return n.error() << "result must be an integer tensor";
  SmallVector<int32_t> mult, shift;
  for (double b : *sb) {
    double scale = (*sa)[0] * b / (*sy)[0];
    std::optional<Dyadic> d = computeDyadic(scale);
    if (!d)
      return n.error() << "requantization scale " << scale
                       << " has no int32 dyadic form";
    mult.push_back(d->multiplier);
    shift.push_back(d->shift);
  }
  IntRange r = integerRange(outInt);
  std::optional<int64_t> axisAttr;
  if (mult.size() > 1)
    axisAttr = axis;
  n.results = {RequantizeOp::create(
      n.builder, n.loc, out, acc, mult, shift,
      axisAttr ? n.builder.getI64IntegerAttr(*axisAttr) : IntegerAttr(),
      /*input_zp=*/0, int32_t((*yzp)[0]), r.min, r.max)};
  return success();
}

LogicalResult importConvInteger(NodeImporter &n) {
  FailureOr<RankedTensorType> acc = accType(n);
  if (failed(acc))
    return failure();
  FailureOr<Value> conv = convInt(n, 0, 2, 1, 3, Value(), *acc);
  if (failed(conv))
    return failure();
  n.results = {*conv};
  return success();
}

LogicalResult importMatMulInteger(NodeImporter &n) {
  FailureOr<RankedTensorType> acc = accType(n);
  if (failed(acc))
    return failure();
  FailureOr<Value> mm = matmulInt(n, 0, 2, 1, 3, *acc);
  if (failed(mm))
    return failure();
  n.results = {*mm};
  return success();
}

// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B)
LogicalResult importQLinearConv(NodeImporter &n) {
  Value bias = n.inputs.size() > 8 ? n.inputs[8] : Value();
  FailureOr<RankedTensorType> acc = accType(n);
  if (failed(acc))
    return failure();
  FailureOr<Value> conv = convInt(n, 0, 2, 3, 5, bias, *acc);
  if (failed(conv))
    return failure();
  return requantizeTo(n, *conv, 1, 4, 6, 7, /*axis=*/1);
}

// QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)
LogicalResult importQLinearMatMul(NodeImporter &n) {
  FailureOr<RankedTensorType> acc = accType(n);
  if (failed(acc))
    return failure();
  FailureOr<Value> mm = matmulInt(n, 0, 2, 3, 5, *acc);
  if (failed(mm))
    return failure();
  return requantizeTo(n, *mm, 1, 4, 6, 7, /*axis=*/acc->getRank() - 1);
}

} // namespace

void qc::onnx_import::registerQuantizationHandlers(HandlerRegistry &r) {
  r.add("", "QuantizeLinear", 10, 1 << 30,
        staticOrDirect({1, 2}, importQuantizeLinear));
  r.add("", "DequantizeLinear", 10, 1 << 30,
        staticOrDirect({1, 2}, importDequantizeLinear));
  r.add("", "ConvInteger", 10, 1 << 30,
        staticOrDirect({2, 3}, importConvInteger));
  r.add("", "MatMulInteger", 10, 1 << 30,
        staticOrDirect({2, 3}, importMatMulInteger));
  r.add("", "QLinearConv", 10, 1 << 30,
        staticOrDirect({1, 2, 4, 5, 6, 7}, importQLinearConv));
  r.add("", "QLinearMatMul", 10, 1 << 30,
        staticOrDirect({1, 2, 4, 5, 6, 7}, importQLinearMatMul));
  r.addDirect("DynamicQuantizeLinear", 11);
}
