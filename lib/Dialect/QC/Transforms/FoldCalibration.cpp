//===- FoldCalibration.cpp - calibrated observers become quantization -----===//
#include "qc/Dialect/QC/IR/QCOps.h"
#include "qc/Dialect/QC/Transforms/Constants.h"
#include "qc/Dialect/QC/Transforms/Passes.h"
#include "qc/Dialect/QC/Transforms/Quantization.h"
#include "qc/Support/Minifloat.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include <cmath>

namespace qc {
#define GEN_PASS_DEF_FOLDCALIBRATION
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

quant::UniformQuantizedType qc::activationType(MLIRContext *ctx, double lo,
                                               double hi, bool isSigned,
                                               Type expressed, unsigned bits) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  double scale;
  int64_t half = int64_t(1) << (bits - 1);
  int64_t zp = 0, qmin = isSigned ? -half : 0,
          qmax = isSigned ? half - 1 : 2 * half - 1;
  if (isSigned) {
    scale = std::max(-lo, hi) / double(half - 1);
  } else {
    scale = (hi - lo) / double(qmax);
  }
  if (!(scale > 0) || !std::isfinite(scale))
    scale = 1.0;
  if (!isSigned)
    zp = std::clamp<int64_t>(int64_t(std::lround(-lo / scale)), qmin, qmax);
  return quant::UniformQuantizedType::get(
      isSigned ? quant::QuantizationFlags::Signed : 0,
      IntegerType::get(ctx, bits > 8 ? 16 : 8),
      expressed, scale, zp, qmin, qmax);
}

namespace {

/// Dynamic quantization of each row (last axis) of an observed activation,
/// or of each group of `group` channels of a row (`group` > 0 dividing the
/// last axis): qc.dynamic_quantize and the qc.dynamic_dequantize of its
/// results, symmetric or with `zeroPoints`. lower-quantized-to-integer
/// turns the pair into integer products where a linear layer reads it.
Value perTokenQuantize(qc::ObserveOp obs, unsigned bits, int64_t group,
                       bool zeroPoints) {
  OpBuilder b(obs);
  Location loc = obs.getLoc();
  auto q = qc::DynamicQuantizeOp::create(b, loc, obs.getInput(), bits, group,
                                         zeroPoints);
  return qc::DynamicDequantizeOp::create(b, loc, obs.getType(), q.getOutput(),
                                         q.getScales(), q.getZeroPoints());
}

struct FoldCalibrationPass
    : qc::impl::FoldCalibrationBase<FoldCalibrationPass> {
  using Base::Base;

  /// Quantizes operand 1 of a Conv, Gemm or MatMul whose input is observed;
  /// applies bias correction.
  LogicalResult quantizeWeights(Operation *op) {
    auto obs = op->getOperand(0).getDefiningOp<qc::ObserveOp>();
    Value weight = op->getOperand(1);
    std::optional<std::vector<float>> w = qc::readFloatConstant(weight);
    if (!obs || !w)
      return success();
    auto wTy = cast<RankedTensorType>(weight.getType());
    OpBuilder b(op);
    Location loc = op->getLoc();
    auto gemm = dyn_cast<qc::GemmOp>(op);
    if (gemm && gemm.getTransB()) {
      // Stored as K x N so that the integer matmul reads it directly.
      int64_t n = wTy.getDimSize(0), k = wTy.getDimSize(1);
      std::vector<float> t(w->size());
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c)
          t[c * n + r] = (*w)[r * k + c];
      *w = std::move(t);
      wTy = RankedTensorType::get({k, n}, wTy.getElementType());
      gemm.setTransB(0);
    }
    if (isa<qc::MatMulOp>(op) && wTy.getRank() != 2)
      return success();
    bool conv = isa<qc::ConvOp>(op);
    int64_t axis = conv ? 0 : 1;
    int64_t channels = wTy.getDimSize(axis);
    const qc::WeightGranularity &granularity = weightGranularity;
    std::optional<int64_t> block;
    if (granularity.kind == qc::WeightGranularity::Block)
      block = granularity.blockSize;
    bool perChannel = granularity.kind != qc::WeightGranularity::Tensor;
    int64_t per = wTy.getNumElements() / channels, cols = channels;
    // Blocks of `block` along the reduction axis (a Conv's input channels,
    // ungrouped; a Gemm/MatMul's K), each with its own scale per output
    // channel; where the axis is not a multiple of the block, or is one
    // block, per channel.
    int64_t kDim = conv ? wTy.getDimSize(1) : wTy.getDimSize(0);
    int64_t kSize = conv ? per / kDim : 1;
    bool blocked = block && kDim % *block == 0 && kDim > *block &&
                   (!conv || cast<qc::ConvOp>(op).getGroup() == 1);
    int64_t nBlocks = blocked ? kDim / *block : 1;
    auto channelOf = [&](int64_t i) -> int64_t {
      if (!perChannel)
        return 0;
      if (!blocked)
        return conv ? i / per : i % cols;
      if (conv) // scales [Cout, nb, 1, 1]
        return (i / per) * nBlocks + ((i % per) / kSize) / *block;
      return ((i / cols) / *block) * cols + i % cols; // scales [nb, N]
    };
    // A weight that is not finite has no format's value; minifloats
    // without infinities would otherwise saturate it silently.
    for (size_t i = 0, e = w->size(); i < e; ++i)
      if (!std::isfinite((*w)[i])) {
        auto diag = op->emitError()
                    << "weight holds " << (std::isnan((*w)[i]) ? "NaN" : "inf")
                    << " at [";
        llvm::interleaveComma(
            delinearize(int64_t(i), computeStrides(wTy.getShape())), diag);
        return diag << "] of its " << wTy << " weight; it cannot be quantized";
      }
    // A per-layer format (assign-bit-widths) overrides the pass options.
    unsigned bits = weightBits;
    std::optional<qc::MinifloatScheme> minifloat =
        qc::minifloatScheme(weightFormat, granularity);
    if (Attribute a = op->getAttr(qc::QCDialect::kWeightSchemeAttrName)) {
      auto scheme = cast<qc::SchemeAttr>(a);
      if (scheme.isMinifloat()) {
        // A block of a minifloat scheme shares an E8M0 scale (OCP MX).
        minifloat = qc::MinifloatScheme{
            *qc::minifloatFormat(scheme.getFormat()),
            scheme.getBlock() ? qc::MinifloatScheme::Scale::E8M0
                              : qc::MinifloatScheme::Scale::F32,
            scheme.getBlock().value_or(0)};
      } else if (!scheme.getIsSigned() || !scheme.getSymmetric() ||
                 scheme.getBits() < 2 || scheme.getBits() > 8) {
        return op->emitError()
               << "weight scheme " << a
               << " is not supported (signed symmetric integers of 2-8 bits, "
                  "or a minifloat)";
      } else {
        minifloat.reset();
        bits = scheme.getBits();
      }
    }
    std::string name = "weight";
    if (auto n = dyn_cast<NameLoc>(loc))
      name = n.getName().str() + ".weight_" +
             (minifloat ? std::string(qc::minifloat::name(minifloat->element))
                        : "int" + std::to_string(bits));
    if (minifloat) {
      // GPTQ with the format's rounding: asked for, or (auto) at 4 bits
      // where the input has second moments; Gemm and MatMul only.
      unsigned elemBits = qc::minifloat::layout(minifloat->element).bits;
      if (weightRounding == qc::WeightRounding::AdaRound ||
          weightRounding == qc::WeightRounding::AdaQuant)
        return op->emitError() << stringify(weightRounding.getValue())
                               << " rounding does not take minifloat weights ("
                               << qc::minifloat::name(minifloat->element)
                               << "); nearest and gptq do";
      std::optional<std::vector<float>> gram;
      if (!conv &&
          (weightRounding == qc::WeightRounding::GPTQ ||
           (weightRounding == qc::WeightRounding::Auto && elemBits <= 4)))
        if (obs.getGramAttr())
          gram = qc::readFloatElements(obs.getGramAttr());
      if (weightRounding == qc::WeightRounding::GPTQ && !conv &&
          (!gram || int64_t(gram->size()) != kDim * kDim))
        return op->emitError()
               << "gptq rounding needs the second moments of '" << obs.getName()
               << "' (" << kDim << "x" << kDim << " gram; calibrate with them)";
      std::vector<float> dequantized =
          quantizeMinifloat(op, *w, wTy, conv, *minifloat, name, gram);
      return correctBias(op, obs, *w, dequantized, wTy, channels, conv, name);
    }
    int64_t qmax = (int64_t(1) << (bits - 1)) - 1;
    int64_t scaleCount = perChannel ? channels * nBlocks : 1;
    qc::QuantizedWeight qw;
    std::optional<std::vector<float>> gram =
        obs.getGramAttr() ? qc::readFloatElements(obs.getGramAttr())
                          : std::nullopt;
    bool haveGram = gram && int64_t(gram->size()) == kDim * kDim;
    // auto: GPTQ where the layer has 4 bits or fewer and its statistics.
    // A Conv's statistics are its input patches' (qc.patch_gram), one block
    // per group; without them (patches too long) it rounds to nearest.
    std::optional<std::vector<float>> patchGram, quantizedGram;
    if (Attribute a = op->getAttr(qc::kPatchGramAttrName)) {
      patchGram = qc::readFloatElements(a);
      op->removeAttr(qc::kPatchGramAttrName);
    }
    if (Attribute a = op->getAttr(qc::kQuantizedGramAttrName)) {
      quantizedGram = qc::readFloatElements(a);
      op->removeAttr(qc::kQuantizedGramAttrName);
    }
    int64_t group = conv ? cast<qc::ConvOp>(op).getGroup() : 1;
    bool explicitRounding = qc::roundsWithSecondMoments(weightRounding);
    bool wantGptq = explicitRounding ||
                    (weightRounding == qc::WeightRounding::Auto && bits <= 4);
    bool convGptq = conv && wantGptq && patchGram && perChannel && !blocked &&
                    int64_t(patchGram->size()) == group * per * per &&
                    channels % group == 0;
    bool useGptq = !conv && wantGptq && (explicitRounding || haveGram);
    // AdaRound / AdaQuant: per column scales over the same second moments,
    // with the input's rounding noise (its step at its bits, squared / 12).
    bool reconstruct = weightRounding == qc::WeightRounding::AdaRound ||
                       weightRounding == qc::WeightRounding::AdaQuant;
    double inputNoise = 0;
    if (reconstruct) {
      unsigned aBits = activationBits;
      if (auto scheme = obs->getAttrOfType<qc::SchemeAttr>(
              qc::QCDialect::kActivationSchemeAttrName))
        aBits = scheme.getBits();
      if (obs.getMin() && qc::isActivationWidth(aBits)) {
        double s = qc::activationType(op->getContext(),
                                      obs.getMinAttr().getValueAsDouble(),
                                      obs.getMaxAttr().getValueAsDouble(),
                                      activationType != qc::ActivationType::U8,
                                      b.getF32Type(), aBits)
                       .getScale();
        inputNoise = s * s / 12;
      }
    }
    // The K x N rounding of GPTQ or of a reconstruction, one scale per
    // column.
    auto roundKN = [&](ArrayRef<float> kn, int64_t k, int64_t n,
                       ArrayRef<float> g, ArrayRef<float> gq) {
      if (reconstruct)
        return qc::reconstructWeight(
            weightRounding == qc::WeightRounding::AdaRound
                ? qc::ReconstructionMethod::AdaRound
                : qc::ReconstructionMethod::AdaQuant,
            kn, k, n, qmax, g, inputNoise, reconstructionSteps,
            gq.size() == g.size() ? gq : ArrayRef<float>());
      return qc::gptqQuantizeWeight(
          kn, k, n, n, [n](int64_t i) { return i % n; }, qmax, g, gptqDamp);
    };
    if (convGptq) {
      // Per group: the filters' [outPer, K] rows as GPTQ's K x N.
      int64_t outPer = channels / group;
      qw.q.assign(w->size(), 0);
      qw.dequantized.assign(w->size(), 0.f);
      qw.scales.assign(channels, 1.0);
      for (int64_t g = 0; g < group; ++g) {
        std::vector<float> kn(per * outPer);
        for (int64_t f = 0; f < outPer; ++f)
          for (int64_t k = 0; k < per; ++k)
            kn[k * outPer + f] = (*w)[(g * outPer + f) * per + k];
        ArrayRef<float> gq;
        if (quantizedGram && quantizedGram->size() == patchGram->size())
          gq = ArrayRef<float>(*quantizedGram).slice(g * per * per, per * per);
        qc::QuantizedWeight r = roundKN(
            kn, per, outPer,
            ArrayRef<float>(*patchGram).slice(g * per * per, per * per), gq);
        for (int64_t f = 0; f < outPer; ++f) {
          qw.scales[g * outPer + f] = r.scales[f];
          for (int64_t k = 0; k < per; ++k) {
            qw.q[(g * outPer + f) * per + k] = r.q[k * outPer + f];
            qw.dequantized[(g * outPer + f) * per + k] =
                r.dequantized[k * outPer + f];
          }
        }
      }
    } else if (useGptq) {
      if (!haveGram)
        return op->emitError()
               << stringify(weightRounding.getValue())
               << " rounding needs the second moments of '" << obs.getName()
               << "' (" << kDim << "x" << kDim << " gram; calibrate with them)";
      if (reconstruct && (!perChannel || blocked))
        return op->emitError()
               << stringify(weightRounding.getValue())
               << " rounding needs a scale per output channel";
      qw = reconstruct ? roundKN(*w, kDim, channels, *gram,
                                 quantizedGram ? ArrayRef<float>(*quantizedGram)
                                               : ArrayRef<float>())
                       : qc::gptqQuantizeWeight(*w, kDim, channels, scaleCount,
                                                channelOf, qmax, *gram,
                                                gptqDamp);
    } else {
      qw = qc::quantizeWeight(*w, scaleCount, channelOf, qmax);
    }

    MLIRContext *ctx = op->getContext();
    Type i8 = IntegerType::get(ctx, 8);
    Type f32 = b.getF32Type();
    quant::QuantizedType qt;
    if (blocked) {
      SmallVector<int64_t> shape(wTy.getRank(), 1);
      SmallVector<int32_t> dims;
      SmallVector<int64_t> sizes;
      if (conv) { // every dim spelled out: kernel dims are one block each
        shape[0] = channels, shape[1] = nBlocks;
        for (int64_t d = 0; d < wTy.getRank(); ++d) {
          dims.push_back(int32_t(d));
          sizes.push_back(d == 0 ? 1 : d == 1 ? *block : wTy.getDimSize(d));
        }
      } else {
        shape[0] = nBlocks, shape[1] = channels;
        dims = {1, 0}, sizes = {1, *block};
      }
      SmallVector<float> sc(qw.scales.begin(), qw.scales.end());
      auto scales = DenseElementsAttr::get(RankedTensorType::get(shape, f32),
                                           ArrayRef(sc));
      auto zps =
          DenseElementsAttr::get(RankedTensorType::get(shape, i8),
                                 ArrayRef(SmallVector<int8_t>(sc.size(), 0)));
      qt = quant::UniformQuantizedSubChannelType::get(
          quant::QuantizationFlags::Signed, i8, f32, scales, zps, dims, sizes,
          -qmax, qmax);
    } else if (perChannel)
      qt = quant::UniformQuantizedPerAxisType::get(
          quant::QuantizationFlags::Signed, i8, f32, qw.scales,
          SmallVector<int64_t>(channels, 0), int32_t(axis), -qmax, qmax);
    else
      qt =
          quant::UniformQuantizedType::get(quant::QuantizationFlags::Signed, i8,
                                           f32, qw.scales[0], 0, -qmax, qmax);
    Value ints = qc::createBlobConstant(
        b, loc, RankedTensorType::get(wTy.getShape(), i8), qw.q, name);
    Value q = qc::StorageCastOp::create(
        b, loc, RankedTensorType::get(wTy.getShape(), qt), ints);
    Value dq = qc::DequantizeOp::create(b, loc, wTy, q);
    op->setOperand(1, dq);
    return correctBias(op, obs, *w, qw.dequantized, wTy, channels, conv, name);
  }

  /// Writes the weight of `op` (a Gemm / MatMul's [K, N], a Conv's
  /// [Cout, ...]) in `scheme` as a qc.block_dequantize of packed codes;
  /// returns the values it decodes to.
  std::vector<float>
  quantizeMinifloat(Operation *op, ArrayRef<float> w, RankedTensorType wTy,
                    bool conv, const qc::MinifloatScheme &scheme,
                    StringRef name,
                    const std::optional<std::vector<float>> &gram) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    int64_t axis = conv ? 0 : 1, channels = wTy.getDimSize(axis);
    int64_t per = wTy.getNumElements() / channels;
    qc::MinifloatWeight mw = qc::quantizeMinifloatWeight(
        w, channels, per,
        [&](int64_t c, int64_t k) {
          return conv ? c * per + k : k * channels + c;
        },
        scheme, blockScale == qc::BlockScaleMethod::MSE);
    if (gram && !conv) {
      // GPTQ: the scales stay; each weight is rounded to the format after
      // the error of the rows before it was fed back.
      int64_t block = scheme.block > 0 ? std::min(scheme.block, per) : per;
      float ts = float(mw.tensorScale);
      qc::gptqRound(
          w, per, channels, *gram, gptqDamp, [&](int64_t i, double v) {
            int64_t c = i % channels, b = (i / channels) / block;
            mw.dequantized[i] = qc::roundToMinifloat(
                scheme.element, float(v), mw.scales[c * mw.blocks + b], ts,
                mw.codes[i]);
            return double(mw.dequantized[i]);
          });
    }
    unsigned bits = qc::minifloat::layout(scheme.element).bits;
    std::vector<uint8_t> packed =
        qc::minifloat::packCodes(mw.codes.data(), mw.codes.size(), bits);
    Value codes = qc::createBlobConstant(
        b, loc, RankedTensorType::get({int64_t(packed.size())}, b.getI8Type()),
        std::vector<int32_t>(packed.begin(), packed.end()),
        (name + ".codes").str());
    auto scaleShape = SmallVector<int64_t>{channels, mw.blocks};
    Value scales;
    std::optional<qc::ElementFormat> scaleFormat;
    if (scheme.scale == qc::MinifloatScheme::Scale::F32) {
      scales = qc::createBlobConstant(
          b, loc, RankedTensorType::get(scaleShape, b.getF32Type()), mw.scales,
          (name + ".scales").str());
    } else {
      scaleFormat = scheme.scale == qc::MinifloatScheme::Scale::E8M0
                        ? qc::ElementFormat::E8M0
                        : qc::ElementFormat::FP8E4M3;
      scales = qc::createBlobConstant(
          b, loc, RankedTensorType::get(scaleShape, b.getI8Type()),
          std::vector<int32_t>(mw.scaleCodes.begin(), mw.scaleCodes.end()),
          (name + ".scales").str());
    }
    int64_t block = scheme.block > 0 ? std::min(scheme.block, per) : per;
    auto dq = qc::BlockDequantizeOp::create(
        b, loc, wTy, codes, scales, *qc::elementFormatOf(scheme.element),
        uint64_t(axis), uint64_t(block),
        scaleFormat ? qc::ElementFormatAttr::get(op->getContext(), *scaleFormat)
                    : qc::ElementFormatAttr(),
        APFloat(mw.tensorScale));
    op->setOperand(1, dq);
    return std::move(mw.dequantized);
  }

  /// Bias correction: the expected output shift of the quantized weights
  /// `dequantized` against `w`, subtracted from the bias.
  LogicalResult correctBias(Operation *op, qc::ObserveOp obs, ArrayRef<float> w,
                            ArrayRef<float> dequantized, RankedTensorType wTy,
                            int64_t channels, bool conv, StringRef name) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Type f32 = b.getF32Type();
    auto gemm = dyn_cast<qc::GemmOp>(op);
    int64_t per = wTy.getNumElements() / channels, cols = channels;
    std::optional<ArrayRef<double>> mean = obs.getChannelMean();
    if (!biasCorrection || !mean || isa<qc::MatMulOp>(op))
      return success();
    // The expected output shift of the quantized weights, per channel.
    std::vector<double> shift(channels, 0.0);
    if (conv) {
      int64_t group = cast<qc::ConvOp>(op).getGroup();
      int64_t cPer = wTy.getDimSize(1), kSize = per / cPer;
      for (int64_t i = 0, e = w.size(); i < e; ++i) {
        int64_t f = i / per, c = (i % per) / kSize;
        int64_t inC = (f / (channels / group)) * cPer + c;
        if (inC < int64_t(mean->size()))
          shift[f] += (double(dequantized[i]) - w[i]) * (*mean)[inC];
      }
    } else {
      for (int64_t i = 0, e = w.size(); i < e; ++i) {
        int64_t k = i / cols, n = i % cols;
        if (k < int64_t(mean->size()))
          shift[n] += (double(dequantized[i]) - w[i]) * (*mean)[k];
      }
    }
    std::vector<float> bias(channels, 0.f);
    double factor = 1.0;
    Value oldBias = op->getNumOperands() > 2 ? op->getOperand(2) : Value();
    if (gemm) {
      // y = alpha A B + beta C
      factor = gemm.getAlpha().convertToDouble();
      if (!oldBias)
        gemm.setBeta(APFloat(1.0f));
      double beta = gemm.getBeta().convertToDouble();
      if (beta == 0)
        return success();
      factor /= beta;
    }
    if (oldBias) {
      std::optional<std::vector<float>> bv = qc::readFloatConstant(oldBias);
      if (!bv || (int64_t(bv->size()) != channels && bv->size() != 1))
        return success();
      for (int64_t c = 0; c < channels; ++c)
        bias[c] = (*bv)[bv->size() == 1 ? 0 : c];
    }
    for (int64_t c = 0; c < channels; ++c)
      bias[c] -= float(factor * shift[c]);
    auto biasTy = RankedTensorType::get({channels}, f32);
    if (oldBias && cast<RankedTensorType>(oldBias.getType()).getRank() == 2)
      biasTy = cast<RankedTensorType>(oldBias.getType());
    Value nb = qc::createBlobConstant(b, loc, biasTy, bias,
                                      name.str() + ".bias_corrected");
    if (oldBias)
      op->setOperand(2, nb);
    else
      op->insertOperands(2, nb);
    return success();
  }

  void runOnOperation() override {
    if (!(gptqDamp > 0 && gptqDamp <= 1)) {
      getOperation()->emitError()
          << "gptq-damp must lie in (0, 1], got " << gptqDamp;
      return signalPassFailure();
    }
    if (weightBits < 2 || weightBits > 8 ||
        !qc::isActivationWidth(activationBits)) {
      getOperation()->emitError()
          << "weight bits must lie in [2, 8] and activation bits in [2, 8] or "
             "be 16, got "
          << weightBits << " and " << activationBits;
      return signalPassFailure();
    }
    SmallVector<Operation *> layers;
    getOperation()->walk([&](Operation *op) {
      if (isa<qc::ConvOp, qc::GemmOp, qc::MatMulOp>(op))
        layers.push_back(op);
    });
    for (Operation *op : layers) {
      if (failed(quantizeWeights(op)))
        return signalPassFailure();
      // Statistics of layers that kept float weights (an activation
      // matmul) or rounded without them.
      op->removeAttr(qc::kPatchGramAttrName);
      op->removeAttr(qc::kQuantizedGramAttrName);
    }

    const qc::ActivationGranularity &granularity = activationGranularity;
    std::optional<int64_t> group;
    if (granularity.kind == qc::ActivationGranularity::Group)
      group = granularity.groupSize;
    bool isSigned = activationType != qc::ActivationType::U8;
    std::optional<qc::minifloat::Format> fp8;
    qc::ElementFormat fp8Format = qc::ElementFormat::FP8E4M3;
    if (activationType == qc::ActivationType::FP8E4M3)
      fp8 = qc::minifloat::Format::E4M3;
    if (activationType == qc::ActivationType::FP8E5M2) {
      fp8 = qc::minifloat::Format::E5M2;
      fp8Format = qc::ElementFormat::FP8E5M2;
    }
    bool failedAny = false;
    getOperation()->walk([&](qc::ObserveOp obs) {
      auto rowTy = cast<RankedTensorType>(obs.getType());
      if (granularity.isDynamic() && obs.getChannelAxis() &&
          rowTy.hasStaticShape() && rowTy.getElementType().isF32() &&
          int64_t(*obs.getChannelAxis()) == rowTy.getRank() - 1) {
        unsigned bits = activationBits;
        if (auto scheme = obs->getAttrOfType<qc::SchemeAttr>(
                qc::QCDialect::kActivationSchemeAttrName))
          bits = std::clamp(scheme.getBits(), 2u, 8u);
        // Groups that do not divide the row: a scale per row.
        int64_t g = group && rowTy.getShape().back() % *group == 0 ? *group : 0;
        obs.replaceAllUsesWith(
            perTokenQuantize(obs, bits, g, dynamicZeroPoints));
        obs.erase();
        return;
      }
      if (!obs.getMin()) {
        obs.emitOpError()
            << "'" << obs.getName()
            << "' has no calibrated range (run calibration first)";
        failedAny = true;
        return;
      }
      auto ty = cast<RankedTensorType>(obs.getType());
      unsigned bits = activationBits;
      if (Attribute a =
              obs->getAttr(qc::QCDialect::kActivationSchemeAttrName)) {
        auto scheme = cast<qc::SchemeAttr>(a);
        if (scheme.isMinifloat() || !qc::isActivationWidth(scheme.getBits())) {
          obs.emitOpError() << "activation scheme " << a
                            << " is not supported (integers of 2-8 or 16 bits)";
          failedAny = true;
          return;
        }
        bits = scheme.getBits();
      }
      if (fp8) {
        // FP8 codes: the calibrated range's larger magnitude maps to the
        // format's largest value.
        double amax = std::max(std::fabs(obs.getMinAttr().getValueAsDouble()),
                               std::fabs(obs.getMaxAttr().getValueAsDouble()));
        double scale = amax > 0 && std::isfinite(amax)
                           ? amax / qc::minifloat::maxFinite(*fp8)
                           : 1.0;
        OpBuilder b(obs);
        auto codesTy = RankedTensorType::get(ty.getShape(), b.getI8Type());
        Value q = qc::MinifloatQuantizeOp::create(b, obs.getLoc(), codesTy,
                                                  obs.getInput(), fp8Format,
                                                  llvm::APFloat(scale));
        auto dq = qc::MinifloatDequantizeOp::create(
            b, obs.getLoc(), ty, q, fp8Format, llvm::APFloat(scale));
        dq->setAttr(qc::QCDialect::kObservedAttrName, obs.getNameAttr());
        obs.replaceAllUsesWith(dq.getOutput());
        obs.erase();
        return;
      }
      quant::UniformQuantizedType qt = qc::activationType(
          obs.getContext(), obs.getMinAttr().getValueAsDouble(),
          obs.getMaxAttr().getValueAsDouble(), isSigned, ty.getElementType(),
          bits);
      OpBuilder b(obs);
      Value q = qc::QuantizeOp::create(b, obs.getLoc(),
                                       RankedTensorType::get(ty.getShape(), qt),
                                       obs.getInput());
      auto dq = qc::DequantizeOp::create(b, obs.getLoc(), ty, q);
      // The quality report finds each quantized activation by this name.
      dq->setAttr(qc::QCDialect::kObservedAttrName, obs.getNameAttr());
      obs.replaceAllUsesWith(dq.getOutput());
      obs.erase();
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
