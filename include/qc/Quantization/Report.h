//===- Report.h - the quality report of a quantization ----------*- C++ -*-===//
//
// What quant-compile --report writes (JSON, and a markdown page beside it)
// and --json prints: the options the model was quantized with, every
// quantized activation's parameters and its agreement with float, and each
// output's agreement with float on the evaluation samples.
//
//===----------------------------------------------------------------------===//
#ifndef QC_QUANTIZATION_REPORT_H
#define QC_QUANTIZATION_REPORT_H

#include "qc/Quantization/Calibration.h"

#include "llvm/Support/JSON.h"
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace qc {

struct QuantizeOptions;
struct Attribution;

struct QualityReport {
  struct Layer {
    std::string tensor;
    unsigned bits = 8; // of the storage range
    bool isSigned = false;
    /// FP8 activations: the format's name (fp8_e4m3, ...); empty for
    /// integers.
    std::string format;
    double scale = 0;
    int64_t zeroPoint = 0;
    Agreement agreement;
    /// Channel max |x| over their mean, after the rewrites and as imported
    /// (0: no channel statistics).
    double ratio = 0, ratioBefore = 0;
    std::optional<double> smoothAlpha;
  };
  struct Output {
    std::string name;
    Agreement agreement;
  };

  const QuantizeOptions *options = nullptr;
  bool rewritten = false; // smoothed or rotated
  std::vector<double>
      floatMaxRelDiff; // rewritten float model vs original, per output
  llvm::json::Value bitWidths = nullptr; // the --bits auto choice
  /// The error attribution (--attribution), when measured.
  std::shared_ptr<const Attribution> attribution;
  size_t calibrationSamples = 0, evalSamples = 0;
  bool heldOut = false; // evaluated on samples calibration did not see
  std::vector<Layer> layers;
  std::vector<Output> outputs;

  llvm::json::Value toJSON() const;
  void writeMarkdown(llvm::raw_ostream &os) const;
  /// One line per output: SQNR, cosine, top-1 agreement.
  void printSummary(llvm::raw_ostream &os) const;
  /// Writes `jsonPath` and the markdown page beside it (.md).
  llvm::Error write(llvm::StringRef jsonPath) const;
};

} // namespace qc

#endif
