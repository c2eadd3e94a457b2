//===- BitWidths.h - per-layer bit widths by integer programming -*- C++
//-*-===//
//
// Mixed precision as Hubara et al. (2021) and HAWQ-V3 choose it: the cost of
// quantizing each layer alone in each candidate format is measured on
// calibration data (sensitivity), then one format per layer is chosen by an
// integer program (CBC) that minimizes the summed cost under a model size
// and/or bit-operation budget.
//
//===----------------------------------------------------------------------===//
#ifndef QC_QUANTIZATION_BITWIDTHS_H
#define QC_QUANTIZATION_BITWIDTHS_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"
#include "qc/Quantization/Calibration.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include <optional>
#include <string>
#include <vector>

namespace qc {

/// A weight layer (Conv, Gemm or MatMul with a constant weight and an
/// observed input).
struct LayerInfo {
  std::string name;      // the op's location name
  size_t activation = 0; // index into SensitivityTable::activations
  int64_t params = 0;    // weight elements
  int64_t channels = 0;  // output channels (one f32 scale each)
  int64_t macs = 0;      // multiply-accumulates per model run
  bool conv = false;     // a convolution (no low-bit kernel takes it)
  int64_t inputs = 0, outputs = 0; // elements of its input and result
};

/// The measured cost of quantizing each layer's weights, and each layer
/// input, alone in each candidate format (the rest of the model float).
struct SensitivityTable {
  SensitivityMetric metric = SensitivityMetric::MSE;
  /// The weight candidates: bits (a format's storage bits) and, parallel
  /// (empty: all int), the formats (int, mxfp4, fp8_e4m3, ...).
  std::vector<unsigned> weightBits, activationBits;
  std::vector<WeightFormat> weightFormats;
  std::vector<LayerInfo> layers;
  std::vector<std::string> activations;        // observer names
  std::vector<std::vector<double>> weightCost; // [layer][weightBits index]
  std::vector<std::vector<double>>
      activationCost; // [activation][activationBits index]
  /// Bytes of the model that no choice changes (float parameters, scales).
  int64_t fixedBytes = 0;
  /// Seconds per model run of each layer's product in each weight format,
  /// measured on this machine with the kernels the compiled model calls
  /// (measureLatency); empty when not measured.
  std::vector<std::vector<double>> latency; // [layer][weightBits index]
  /// With a 16-bit activation format: seconds per run of each layer's
  /// product with a 16-bit input and 8-bit weights (two int8 products and
  /// the byte split and combination); empty when not measured.
  std::vector<double> latencyWide; // [layer]
};

/// Candidate j's weight format.
inline WeightFormat weightFormatOf(const SensitivityTable &t, size_t j) {
  return j < t.weightFormats.size() ? t.weightFormats[j] : WeightFormat::Int;
}
/// "4" for int4, the format's name otherwise ("mxfp4").
std::string weightLabel(unsigned bits, WeightFormat format);

/// Whether a product of `wBits`-bit weights can read `aBits`-bit
/// activations: 16-bit activations (W8A16) multiply 8-bit weights only.
inline bool compatibleFormats(unsigned wBits, unsigned aBits) {
  return aBits <= 8 || wBits == 8;
}

/// The latency of layer `l`'s product at weight format `j` with `aBits`-bit
/// inputs: a 16-bit input runs as two int8 products (qc-lower-to-
/// microkernels splits it into its bytes) plus the split and the
/// combination (latencyWide; twice the int8 time where not measured).
inline double productLatency(const SensitivityTable &t, size_t l, size_t j,
                             unsigned aBits) {
  if (aBits <= 8)
    return t.latency[l][j];
  return l < t.latencyWide.size() ? t.latencyWide[l] : 2 * t.latency[l][j];
}

llvm::json::Value tableToJSON(const SensitivityTable &t);
llvm::Expected<SensitivityTable> tableFromJSON(const llvm::json::Value &v);
/// The table in a JSON file; errors name the file.
llvm::Expected<SensitivityTable> readSensitivityTable(llvm::StringRef path);

struct SensitivityOptions {
  std::vector<unsigned> weightBits{2, 3, 4, 8};
  /// Parallel to weightBits (empty: all int): a candidate's format.
  std::vector<WeightFormat> weightFormats;
  std::vector<unsigned> activationBits{8};
  /// mse: the outputs' squared error relative to their energy; kl: the KL
  /// divergence of softmax(outputs) over the last axis from float's; task:
  /// the increase of the mean cross-entropy of `labels` (the task loss);
  /// layer: no model runs, each layer's own output error relative to its
  /// energy from its input's second moments (GPTQ's proxy; needs gram
  /// statistics). An output computed by a Softmax over its last axis is
  /// measured at the Softmax's input (the logits); kl and task take another
  /// output whose rows are probability distributions as they are.
  SensitivityMetric metric = SensitivityMetric::MSE;
  /// For task: per calibration sample, the class of each row (every axis but
  /// the last) of output `labelOutput`; negative classes are not scored.
  std::vector<std::vector<int64_t>> labels;
  size_t labelOutput = 0;
  bool gptq = false; // GPTQ weight rounding (gram needed), else nearest
  bool signedActivations = false;
  size_t samples = 8; // calibration samples run per measurement
  bool progress = false;
};

/// Measures the table on a calibrated float model (observers with ranges,
/// and gram statistics for gptq / layer): one JIT-compiled copy whose
/// weights and per-activation fake quantization are run-time inputs, run
/// once per (layer or activation, format).
llvm::Expected<SensitivityTable>
measureSensitivity(mlir::ModuleOp module, llvm::ArrayRef<Sample> samples,
                   const SensitivityOptions &options,
                   const cpu::TargetOptions &target);

/// Reads the task labels of the calibration samples into o.labels /
/// o.labelOutput: a .npz with one integer array named after one of the
/// model's `outputs` (any name when there is one output), the samples stacked
/// along its first axis and the output's shape but its last axis after it
/// (a single sample may leave out the first axis); classes in [0, last axis
/// size), negative for rows not scored.
llvm::Error readTaskLabels(llvm::StringRef path,
                           llvm::ArrayRef<TensorSpec> outputs,
                           SensitivityOptions &o);

/// Fills t.latency: each layer's product as the compiled model computes it,
/// an [M x K] x [K x N] GEMM with M = MACs / params, K = params / channels,
/// N = channels (a convolution as its im2col GEMM): the int8 kernel (AVX-512
/// VNNI where the host has it) with weights stored at 8, 4 (for 3 and 4
/// bits) or 2 bits per weight, or for matmuls of 1-4 bit weights the
/// table-lookup kernel where it is faster (lowbit-kernels=auto's choice);
/// median of `repeats` single-threaded runs (0: as many as fit in about
/// 4 ms, 5 to 200; qc::kernels::medianSeconds).
void measureLatency(SensitivityTable &t, unsigned repeats = 0);

/// The bit-width integer program.
struct BitBudget {
  std::optional<double> bytes; // model size
  std::optional<double> bops;  // sum over layers of MACs * w bits * a bits
  std::optional<double>
      latency; // seconds per run, summed over the layers (needs t.latency)
  /// Layers held at a weight width (e.g. first and last at 8), by index.
  std::vector<std::pair<size_t, unsigned>> weightPins;
};

struct BitAssignment {
  std::vector<unsigned> weightBits;     // per layer
  std::vector<WeightFormat> weightFormats; // per layer
  std::vector<unsigned> activationBits; // per activation
  double cost = 0, bytes = 0, bops = 0, latency = 0;
  std::string status; // the solver's
};

/// Size in bytes and BOPs of an assignment.
double assignmentBytes(const SensitivityTable &t,
                       llvm::ArrayRef<unsigned> wBits,
                       llvm::ArrayRef<WeightFormat> formats = {});
double assignmentBops(const SensitivityTable &t, llvm::ArrayRef<unsigned> wBits,
                      llvm::ArrayRef<unsigned> aBits);

/// The optimum by CBC: binary x[l][w] (one weight format per layer) and
/// z[g][a] (one format per layer input), products p[l][w][a] >= x + z - 1
/// for the BOPs; minimizes the summed costs. An infeasible budget is an
/// error naming the smallest feasible budget.
llvm::Expected<BitAssignment> solveBitWidths(const SensitivityTable &t,
                                             const BitBudget &b);

/// Every assignment enumerated (small tables only: the unit tests' check).
std::optional<BitAssignment> exhaustiveBitWidths(const SensitivityTable &t,
                                                 const BitBudget &b);

/// The baseline: all layers at the widest format, then repeatedly the one
/// step down (a layer's weights or an activation) with the least cost
/// increase per byte or BOP saved, until the budget holds.
std::optional<BitAssignment> greedyBitWidths(const SensitivityTable &t,
                                             const BitBudget &b);

/// The assignment by `method` (the integer program or the greedy baseline);
/// an error says why no choice holds the budget.
llvm::Expected<BitAssignment> assignBitWidths(const SensitivityTable &t,
                                              const BitBudget &b,
                                              BitAssignmentMethod method);

/// Writes the choice onto the calibrated module: #qc.scheme on each layer
/// (qc.weight_scheme) and observer (qc.activation_scheme), which
/// fold-calibration honours.
llvm::Error applyBitWidths(mlir::ModuleOp module, const SensitivityTable &t,
                           const BitAssignment &a);

/// A budget such as "1.2MB", "800KB", "123456" (bytes) or "2.5G" (BOPs).
std::optional<double> parseQuantity(llvm::StringRef text);

} // namespace qc

#endif
