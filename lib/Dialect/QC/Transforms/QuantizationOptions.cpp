//===- QuantizationOptions.cpp - spellings of the quantization options ----===//
#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"

#include "llvm/Support/FormatVariadic.h"

using namespace qc;
using llvm::StringRef;

template <>
llvm::ArrayRef<EnumSpelling<CalibrationMethod>> qc::spellings() {
  static const EnumSpelling<CalibrationMethod> table[] = {
      {CalibrationMethod::MinMax, "minmax", "the observed minimum and maximum"},
      {CalibrationMethod::Percentile, "percentile",
       "a percentile of |x| (--percentile)"},
      {CalibrationMethod::MSE, "mse",
       "the range of least expected squared error"},
      {CalibrationMethod::Entropy, "entropy",
       "the range of least KL divergence (TensorRT's)"}};
  return table;
}

template <>
llvm::ArrayRef<EnumSpelling<WeightRounding>> qc::spellings() {
  static const EnumSpelling<WeightRounding> table[] = {
      {WeightRounding::Auto, "auto",
       "GPTQ for layers of 4 bits or fewer whose input has second moments, "
       "else nearest"},
      {WeightRounding::Nearest, "nearest", "round to nearest"},
      {WeightRounding::GPTQ, "gptq",
       "GPTQ: each input row's rounding error compensated in the rows after it "
       "through the "
       "input's second moments (Gemm and MatMul; Conv of any group count "
       "through its input patches', per group, K = C/group x kh x kw up "
       "to 1152)"},
      {WeightRounding::AdaRound, "adaround",
       "AdaRound: each weight rounded up or down by a learned soft rounding "
       "(rectified sigmoid, annealed to 0/1) that minimizes the layer's "
       "expected output error over the same second moments, with the "
       "input's own rounding noise"},
      {WeightRounding::AdaQuant, "adaquant",
       "AdaQuant: the weights and per-channel scales optimized through the "
       "rounding (straight-through) for the same expected output error"}};
  return table;
}

template <>
llvm::ArrayRef<EnumSpelling<WeightFormat>> qc::spellings() {
  static const EnumSpelling<WeightFormat> table[] = {
      {WeightFormat::Int, "int", "integers of --weight-bits bits"},
      {WeightFormat::FP8E4M3, "fp8_e4m3",
       "OFP8 E4M3, an f32 scale per channel (or --weight-granularity block)"},
      {WeightFormat::FP8E5M2, "fp8_e5m2", "OFP8 E5M2, f32 scales"},
      {WeightFormat::FP6E3M2, "fp6_e3m2", "FP6 E3M2, f32 scales"},
      {WeightFormat::FP6E2M3, "fp6_e2m3", "FP6 E2M3, f32 scales"},
      {WeightFormat::FP4E2M1, "fp4_e2m1", "FP4 E2M1, f32 scales"},
      {WeightFormat::MXFP8E4M3, "mxfp8_e4m3",
       "OCP MX: E4M3 blocks of 32 sharing an E8M0 scale"},
      {WeightFormat::MXFP8E5M2, "mxfp8_e5m2", "OCP MX: E5M2 blocks of 32"},
      {WeightFormat::MXFP6E3M2, "mxfp6_e3m2", "OCP MX: E3M2 blocks of 32"},
      {WeightFormat::MXFP6E2M3, "mxfp6_e2m3", "OCP MX: E2M3 blocks of 32"},
      {WeightFormat::MXFP4, "mxfp4", "OCP MX: E2M1 blocks of 32"},
      {WeightFormat::NVFP4, "nvfp4",
       "E2M1 blocks of 16 with an E4M3 scale, and an f32 scale per tensor"}};
  return table;
}

template <>
llvm::ArrayRef<EnumSpelling<BlockScaleMethod>> qc::spellings() {
  static const EnumSpelling<BlockScaleMethod> table[] = {
      {BlockScaleMethod::Max, "max",
       "from the block's largest |w| (E8M0: the MX spec's "
       "2^(floor(log2 max) - emax))"},
      {BlockScaleMethod::MSE, "mse",
       "the scale of least squared error among candidates around max's"}};
  return table;
}

template <>
llvm::ArrayRef<EnumSpelling<QuantizeScope>> qc::spellings() {
  static const EnumSpelling<QuantizeScope> table[] = {
      {QuantizeScope::All, "all",
       "every quantizable op's inputs and result (integer-only chains)"},
      {QuantizeScope::Linear, "linear",
       "only the activation inputs of Conv, Gemm and MatMul with constant "
       "weights (integer "
       "products, float results; attention's products, residuals and "
       "normalizations stay "
       "float)"},
      {QuantizeScope::MatMul, "matmul",
       "as linear, convolutions left float too"}};
  return table;
}

template <>
llvm::ArrayRef<EnumSpelling<ActivationType>> qc::spellings() {
  static const EnumSpelling<ActivationType> table[] = {
      {ActivationType::U8, "u8", "asymmetric uint8 (a zero point)"},
      {ActivationType::I8, "i8", "symmetric int8"},
      {ActivationType::FP8E4M3, "fp8_e4m3",
       "FP8 E4M3 codes at a per-tensor scale (range / 448); with "
       "--weight-format fp8_e4m3|fp8_e5m2, Gemm and MatMul multiply FP8 by "
       "FP8 (qc.matmul_fp8)"},
      {ActivationType::FP8E5M2, "fp8_e5m2",
       "FP8 E5M2 codes at a per-tensor scale (range / 57344)"}};
  return table;
}

template <>
llvm::ArrayRef<EnumSpelling<SensitivityMetric>> qc::spellings() {
  static const EnumSpelling<SensitivityMetric> table[] = {
      {SensitivityMetric::MSE, "mse", "the outputs' relative squared error"},
      {SensitivityMetric::KL, "kl",
       "KL divergence of the softmax of the outputs' rows"},
      {SensitivityMetric::Task, "task",
       "increase of the cross-entropy of the task labels"},
      {SensitivityMetric::Layer, "layer",
       "each layer's own output error from its input's second moments (no "
       "model runs)"}};
  return table;
}

template <>
llvm::ArrayRef<EnumSpelling<OutputMetric>> qc::spellings() {
  static const EnumSpelling<OutputMetric> table[] = {
      {OutputMetric::MSE, "mse", "the outputs' relative squared error"},
      {OutputMetric::KL, "kl",
       "KL divergence of the softmax of the outputs' rows from float's"},
      {OutputMetric::Task, "task", "cross-entropy of the task labels"}};
  return table;
}

template <>
llvm::ArrayRef<EnumSpelling<BitAssignmentMethod>> qc::spellings() {
  static const EnumSpelling<BitAssignmentMethod> table[] = {
      {BitAssignmentMethod::ILP, "ilp", "the integer program, solved by CBC"},
      {BitAssignmentMethod::Greedy, "greedy",
       "the baseline: the narrowest cost per byte saved first"}};
  return table;
}

/// N of "prefix:N" with N >= 1.
static std::optional<int64_t> sizeAfter(StringRef text, StringRef prefix) {
  int64_t n;
  if (!text.consume_front(prefix) || text.getAsInteger(10, n) || n < 1)
    return std::nullopt;
  return n;
}

std::optional<WeightGranularity> WeightGranularity::parse(StringRef text) {
  if (text == "channel")
    return WeightGranularity{Channel, 0};
  if (text == "tensor")
    return WeightGranularity{Tensor, 0};
  if (std::optional<int64_t> n = sizeAfter(text, "block:"))
    return WeightGranularity{Block, *n};
  return std::nullopt;
}

std::optional<ActivationGranularity>
ActivationGranularity::parse(StringRef text) {
  if (text == "tensor")
    return ActivationGranularity{Tensor, 0};
  if (text == "token")
    return ActivationGranularity{Token, 0};
  if (std::optional<int64_t> n = sizeAfter(text, "group:"))
    return ActivationGranularity{Group, *n};
  return std::nullopt;
}

llvm::raw_ostream &qc::operator<<(llvm::raw_ostream &os,
                                  const WeightGranularity &g) {
  switch (g.kind) {
  case WeightGranularity::Channel:
    return os << "channel";
  case WeightGranularity::Tensor:
    return os << "tensor";
  case WeightGranularity::Block:
    return os << "block:" << g.blockSize;
  }
  return os;
}

llvm::raw_ostream &qc::operator<<(llvm::raw_ostream &os,
                                  const ActivationGranularity &g) {
  switch (g.kind) {
  case ActivationGranularity::Tensor:
    return os << "tensor";
  case ActivationGranularity::Token:
    return os << "token";
  case ActivationGranularity::Group:
    return os << "group:" << g.groupSize;
  }
  return os;
}

std::string qc::toString(const WeightGranularity &g) {
  return llvm::formatv("{0}", g).str();
}
std::string qc::toString(const ActivationGranularity &g) {
  return llvm::formatv("{0}", g).str();
}

namespace llvm::cl {

bool parser<qc::WeightGranularity>::parse(Option &o, StringRef, StringRef arg,
                                          qc::WeightGranularity &value) {
  if (std::optional<qc::WeightGranularity> g =
          qc::WeightGranularity::parse(arg)) {
    value = *g;
    return false;
  }
  return o.error("'" + arg +
                 "' is not a weight granularity (channel, tensor or block:N "
                 "with N >= 1, e.g. block:64)");
}

void parser<qc::WeightGranularity>::printOptionDiff(
    const Option &o, const qc::WeightGranularity &v,
    const OptionValue<qc::WeightGranularity> &, size_t globalWidth) const {
  printOptionName(o, globalWidth);
  outs() << "= " << v << "\n";
}

void parser<qc::WeightGranularity>::anchor() {}

bool parser<qc::ActivationGranularity>::parse(
    Option &o, StringRef, StringRef arg, qc::ActivationGranularity &value) {
  if (std::optional<qc::ActivationGranularity> g =
          qc::ActivationGranularity::parse(arg)) {
    value = *g;
    return false;
  }
  return o.error("'" + arg +
                 "' is not an activation granularity (tensor, token or "
                 "group:G with G >= 1)");
}

void parser<qc::ActivationGranularity>::printOptionDiff(
    const Option &o, const qc::ActivationGranularity &v,
    const OptionValue<qc::ActivationGranularity> &, size_t globalWidth) const {
  printOptionName(o, globalWidth);
  outs() << "= " << v << "\n";
}

void parser<qc::ActivationGranularity>::anchor() {}

} // namespace llvm::cl
