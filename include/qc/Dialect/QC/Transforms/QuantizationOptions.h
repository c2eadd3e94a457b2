//===- QuantizationOptions.h - the typed options of quantization -*- C++
//-*-===//
//
// The choices quantization passes and the driver take, as types: each enum
// is spelled once (qc/Support/EnumOptions.h), and the granularities that
// carry a size ("block:64", "group:32") parse once into a struct. Pass
// options (Passes.td), the driver (qc::QuantizeOptions) and the tools'
// command lines share them.
//
//===----------------------------------------------------------------------===//
#ifndef QC_DIALECT_QC_TRANSFORMS_QUANTIZATIONOPTIONS_H
#define QC_DIALECT_QC_TRANSFORMS_QUANTIZATIONOPTIONS_H

#include "qc/Support/EnumOptions.h"

#include "llvm/Support/CommandLine.h"
#include <cstdint>
#include <optional>

namespace qc {

/// How calibration turns a tensor's statistics into its range.
enum class CalibrationMethod { MinMax, Percentile, MSE, Entropy };

/// How weights are rounded to their grid.
enum class WeightRounding {
  Auto,    ///< GPTQ for layers of 4 bits or fewer with second moments, else
           ///< nearest
  Nearest, ///< round to nearest
  GPTQ,    ///< error feedback through the input's second moments (Gemm,
           ///< MatMul; Conv through its input patches')
  AdaRound, ///< learned up/down rounding minimizing the layer's output error
  AdaQuant, ///< learned weights and scales (straight-through) for the same
};

/// Whether a rounding reads the layers' input second moments (all but
/// nearest; auto only at low bits, decided per layer).
inline bool roundsWithSecondMoments(WeightRounding r) {
  return r == WeightRounding::GPTQ || r == WeightRounding::AdaRound ||
         r == WeightRounding::AdaQuant;
}

/// Which activations are quantized (insert-observers).
enum class QuantizeScope {
  All,    ///< every quantizable op's inputs and result: integer-only chains
  Linear, ///< only the activation inputs of Conv, Gemm and MatMul with weights
  MatMul, ///< as Linear, convolutions left float too
};

/// The storage of static activations.
enum class ActivationType {
  U8, ///< asymmetric, a zero point in [0, 255]
  I8, ///< symmetric
  /// FP8 codes at a per-tensor scale (qc.minifloat_quantize): Gemm and
  /// MatMul with FP8 weights become qc.matmul_fp8.
  FP8E4M3,
  FP8E5M2,
};

/// What a per-layer sensitivity measures (--bits auto).
enum class SensitivityMetric { MSE, KL, Task, Layer };

/// How quantized outputs are scored against float's (sensitivity, rotation
/// search): the relative squared error, the KL divergence of the rows'
/// softmax, or the cross-entropy of task labels.
enum class OutputMetric { MSE, KL, Task };

/// How bit widths are chosen under a budget.
enum class BitAssignmentMethod {
  ILP,    ///< the integer program, solved by CBC
  Greedy, ///< the baseline: the cheapest step down per byte first
};

/// The element format of quantized weights: integers (--weight-bits), a
/// minifloat with an f32 scale per channel (or per --weight-granularity
/// block), an OCP MX format (blocks of 32 sharing an E8M0 scale), or NVFP4
/// (FP4 blocks of 16 with an E4M3 scale, and an f32 scale per tensor).
enum class WeightFormat {
  Int,
  FP8E4M3,
  FP8E5M2,
  FP6E3M2,
  FP6E2M3,
  FP4E2M1,
  MXFP8E4M3,
  MXFP8E5M2,
  MXFP6E3M2,
  MXFP6E2M3,
  MXFP4,
  NVFP4,
};

/// How the scale of a minifloat block (or channel) is chosen.
enum class BlockScaleMethod {
  Max, ///< from the block's largest |w| (the MX spec's rule for E8M0)
  MSE, ///< the candidate of least squared error around it
};

/// Weight scales: per tensor, per output channel, or per output channel and
/// block of `blockSize` along the reduction axis.
struct WeightGranularity {
  enum Kind { Channel, Tensor, Block } kind = Channel;
  int64_t blockSize = 0;
  bool operator==(const WeightGranularity &o) const {
    return kind == o.kind && blockSize == o.blockSize;
  }
  /// "channel", "tensor" or "block:N" (N >= 1).
  static std::optional<WeightGranularity> parse(llvm::StringRef text);
};

/// Activation scales: one calibrated scale per tensor, or dynamic ones per
/// row (token) or per `groupSize` consecutive channels of a row.
struct ActivationGranularity {
  enum Kind { Tensor, Token, Group } kind = Tensor;
  int64_t groupSize = 0;
  bool operator==(const ActivationGranularity &o) const {
    return kind == o.kind && groupSize == o.groupSize;
  }
  bool isDynamic() const { return kind != Tensor; }
  /// "tensor", "token" or "group:G" (G >= 1).
  static std::optional<ActivationGranularity> parse(llvm::StringRef text);
};

llvm::raw_ostream &operator<<(llvm::raw_ostream &os,
                              const WeightGranularity &g);
llvm::raw_ostream &operator<<(llvm::raw_ostream &os,
                              const ActivationGranularity &g);
std::string toString(const WeightGranularity &g);
std::string toString(const ActivationGranularity &g);

template <>
llvm::ArrayRef<EnumSpelling<CalibrationMethod>> spellings();
template <>
llvm::ArrayRef<EnumSpelling<WeightRounding>> spellings();
template <>
llvm::ArrayRef<EnumSpelling<QuantizeScope>> spellings();
template <>
llvm::ArrayRef<EnumSpelling<ActivationType>> spellings();
template <>
llvm::ArrayRef<EnumSpelling<SensitivityMetric>> spellings();
template <>
llvm::ArrayRef<EnumSpelling<OutputMetric>> spellings();
template <>
llvm::ArrayRef<EnumSpelling<BitAssignmentMethod>> spellings();
template <>
llvm::ArrayRef<EnumSpelling<WeightFormat>> spellings();
template <>
llvm::ArrayRef<EnumSpelling<BlockScaleMethod>> spellings();

} // namespace qc

namespace llvm::cl {
/// The granularities as command-line and pass option values: "block:64",
/// "group:32" are checked where they are parsed.
template <>
class parser<qc::WeightGranularity>
    : public basic_parser<qc::WeightGranularity> {
public:
  parser(Option &o) : basic_parser(o) {}
  bool parse(Option &o, StringRef argName, StringRef arg,
             qc::WeightGranularity &value);
  StringRef getValueName() const override { return "channel|tensor|block:N"; }
  static void print(raw_ostream &os, const qc::WeightGranularity &value) {
    os << value;
  }
  void printOptionDiff(const Option &o, const qc::WeightGranularity &v,
                       const OptionValue<qc::WeightGranularity> &,
                       size_t globalWidth) const;
  void anchor() override;
};
template <>
class parser<qc::ActivationGranularity>
    : public basic_parser<qc::ActivationGranularity> {
public:
  parser(Option &o) : basic_parser(o) {}
  bool parse(Option &o, StringRef argName, StringRef arg,
             qc::ActivationGranularity &value);
  StringRef getValueName() const override { return "tensor|token|group:G"; }
  static void print(raw_ostream &os, const qc::ActivationGranularity &value) {
    os << value;
  }
  void printOptionDiff(const Option &o, const qc::ActivationGranularity &v,
                       const OptionValue<qc::ActivationGranularity> &,
                       size_t globalWidth) const;
  void anchor() override;
};
} // namespace llvm::cl

#endif // QC_DIALECT_QC_TRANSFORMS_QUANTIZATIONOPTIONS_H
