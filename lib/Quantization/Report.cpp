//===- Report.cpp - the quality report of a quantization ------------------===//
#include "qc/Quantization/Report.h"
#include "qc/Quantization/Quantize.h"
#include "qc/Quantization/Attribution.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include <cmath>

using namespace qc;

static std::string fmt(double v) {
  if (std::isinf(v))
    return "inf";
  return llvm::formatv("{0:f2}", v).str();
}

static double finiteDb(double db) { return std::isinf(db) ? 999.0 : db; }

llvm::json::Value QualityReport::toJSON() const {
  const QuantizeOptions &o = *options;
  llvm::json::Array jl, jo;
  auto ratioJSON = [](double r) {
    return r > 0 ? llvm::json::Value(r) : llvm::json::Value(nullptr);
  };
  for (const Layer &l : layers) {
    llvm::json::Object jlayer{{"tensor", l.tensor},
                              {"bits", int64_t(l.bits)},
                              {"type", !l.format.empty() ? l.format
                                       : l.isSigned      ? "i8"
                                                         : "u8"},
                              {"scale", l.scale},
                              {"zero_point", l.zeroPoint},
                              {"sqnr_db", finiteDb(l.agreement.sqnrDb)},
                              {"channel_max_over_mean", ratioJSON(l.ratio)}};
    if (rewritten)
      jlayer["channel_max_over_mean_before"] = ratioJSON(l.ratioBefore);
    if (l.smoothAlpha)
      jlayer["smooth_alpha"] = *l.smoothAlpha;
    jl.push_back(std::move(jlayer));
  }
  for (const Output &out : outputs)
    jo.push_back(llvm::json::Object{
        {"output", out.name},
        {"sqnr_db", finiteDb(out.agreement.sqnrDb)},
        {"cosine", out.agreement.cosine},
        {"top1_agreement", std::isnan(out.agreement.top1)
                               ? llvm::json::Value(nullptr)
                               : llvm::json::Value(out.agreement.top1)}});
  return llvm::json::Object{
      {"model", o.modelName},
      {"calibration_method", stringify(o.calibration.method)},
      {"activation_type", stringify(o.activationType)},
      {"weight_granularity", toString(o.weightGranularity)},
      {"weight_rounding", stringify(o.weightRounding)},
      {"bit_widths", bitWidths},
      {"attribution", attribution ? attributionToJSON(*attribution)
                                  : llvm::json::Value(nullptr)},
      {"bias_correction", o.biasCorrection},
      {"scope", stringify(o.scope)},
      {"activation_granularity", toString(o.activationGranularity)},
      {"weight_bits", int64_t(o.weightBits)},
      {"weight_format", stringify(o.weightFormat)},
      {"block_scale", stringify(o.blockScale)},
      {"activation_bits", int64_t(o.activationBits)},
      {"smooth", o.smooth
                     ? (o.smoothAlphaAuto ? llvm::json::Value("auto")
                                          : llvm::json::Value(o.smoothAlpha))
                     : llvm::json::Value(nullptr)},
      {"rotate", o.rotate},
      {"rotate_residual", o.rotate && o.rotateResidual},
      {"rewritten_float_max_rel_diff", llvm::json::Array(floatMaxRelDiff)},
      {"calibration_samples", int64_t(calibrationSamples)},
      {"eval_samples", int64_t(evalSamples)},
      {"eval_held_out", heldOut},
      {"layers", std::move(jl)},
      {"outputs", std::move(jo)}};
}

/// The configuration in one sentence.
static void describe(llvm::raw_ostream &m, const QuantizeOptions &o) {
  m << "W"
    << (o.weightFormat == WeightFormat::Int
            ? std::to_string(o.weightBits)
            : (stringify(o.weightFormat) + " (" + stringify(o.blockScale) +
               " scales) ")
                  .str())
    << "A" << o.activationBits << " ("
    << (o.calibration.signedActivations ? "i8" : "u8") << " activations, "
    << o.weightGranularity << " weight scales"
    << (roundsWithSecondMoments(o.weightRounding)
            ? (", " + stringify(o.weightRounding) + " rounding").str()
            : std::string())
    << "), calibration " << stringify(o.calibration.method);
}

static void describeActivations(llvm::raw_ostream &m,
                                const QuantizeOptions &o) {
  switch (o.scope) {
  case QuantizeScope::Linear:
    m << "; only the inputs of linear layers quantized";
    break;
  case QuantizeScope::MatMul:
    m << "; only the inputs of MatMul/Gemm layers quantized";
    break;
  case QuantizeScope::All:
    break;
  }
  const ActivationGranularity &g = o.activationGranularity;
  if (g.kind == ActivationGranularity::Token)
    m << ", per token (dynamic scales";
  else if (g.kind == ActivationGranularity::Group)
    m << ", per group of " << g.groupSize
      << " channels of a token (dynamic scales";
  if (g.isDynamic())
    m << (o.dynamicZeroPoints ? " and zero points)" : ")");
  if (o.rotate)
    m << (o.rotateResidual ? "; Hadamard rotation (residual stream offline)"
                           : "; Hadamard rotation");
  if (o.smooth)
    m << (o.smoothAlphaAuto
              ? std::string("; SmoothQuant, alpha searched per layer")
              : "; SmoothQuant alpha " + fmt(o.smoothAlpha));
}

void QualityReport::writeMarkdown(llvm::raw_ostream &m) const {
  const QuantizeOptions &o = *options;
  bool alphas = llvm::any_of(
      layers, [](const Layer &l) { return l.smoothAlpha.has_value(); });
  m << "# Quantization report: " << o.modelName << "\n\n";
  describe(m, o);
  m << " on " << calibrationSamples << " samples, bias correction "
    << (o.biasCorrection ? "on" : "off") << "; evaluated on " << evalSamples
    << (heldOut ? " held-out" : " calibration") << " samples";
  describeActivations(m, o);
  m << ".\n\n"
    << "| output | SQNR (dB) | cosine | top-1 agreement |\n| --- | ---: | ---: "
       "| ---: |\n";
  for (const Output &out : outputs)
    m << "| " << out.name << " | " << fmt(out.agreement.sqnrDb) << " | "
      << llvm::formatv("{0:f5}", out.agreement.cosine) << " | "
      << (std::isnan(out.agreement.top1) ? std::string("-")
                                         : fmt(100 * out.agreement.top1) + "%")
      << " |\n";
  auto ratioText = [](double r) { return r > 0 ? fmt(r) : std::string("-"); };
  m << "\nchannel max/mean: the largest per-channel max |x| over their mean "
       "(inputs of "
       "Conv, Gemm and MatMul)"
    << (rewritten ? "; before: the model as imported" : "") << ".\n\n"
    << "| tensor | bits | type | scale | zero point | SQNR vs float (dB) |"
    << (rewritten ? " channel max/mean before | after |"
                  : " channel max/mean |")
    << (alphas ? " alpha |" : "") << "\n"
    << "| --- | ---: | --- | ---: | ---: | ---: |"
    << (rewritten ? " ---: | ---: |" : " ---: |") << (alphas ? " ---: |" : "")
    << "\n";
  for (const Layer &l : layers) {
    m << "| " << l.tensor << " | " << o.activationBits << " | "
      << (!l.format.empty() ? l.format
          : l.isSigned      ? "i8"
                            : "u8")
      << " | " << llvm::formatv("{0:e4}", l.scale) << " | " << l.zeroPoint
      << " | " << fmt(l.agreement.sqnrDb) << " | ";
    if (rewritten)
      m << ratioText(l.ratioBefore) << " | ";
    m << ratioText(l.ratio) << " |";
    if (alphas)
      m << " " << (l.smoothAlpha ? fmt(*l.smoothAlpha) : std::string("-"))
        << " |";
    m << "\n";
  }
  if (attribution) {
    m << "\n";
    writeAttributionMarkdown(*attribution, m, 10);
  }
}

void QualityReport::printSummary(llvm::raw_ostream &os) const {
  for (const Output &out : outputs) {
    os << "quantized vs float, output '" << out.name << "' on " << evalSamples
       << (heldOut ? " held-out" : " calibration") << " samples: SQNR "
       << fmt(out.agreement.sqnrDb) << " dB, cosine "
       << llvm::formatv("{0:f5}", out.agreement.cosine);
    if (!std::isnan(out.agreement.top1))
      os << ", top-1 agreement " << fmt(100 * out.agreement.top1) << "%";
    os << "\n";
  }
}

llvm::Error QualityReport::write(llvm::StringRef jsonPath) const {
  auto fail = [](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
  };
  std::error_code ec;
  llvm::raw_fd_ostream f(jsonPath, ec);
  if (ec)
    return fail("cannot write '" + jsonPath + "': " + ec.message());
  f << llvm::formatv("{0:2}", toJSON()) << "\n";
  llvm::SmallString<256> md(jsonPath);
  llvm::sys::path::replace_extension(md, ".md");
  llvm::raw_fd_ostream m(md, ec);
  if (ec)
    return fail("cannot write '" + md + "': " + ec.message());
  writeMarkdown(m);
  return llvm::Error::success();
}
