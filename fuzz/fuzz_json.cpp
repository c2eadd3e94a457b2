//===- fuzz_json.cpp - libFuzzer target: the JSON readers -----------------===//
//
// The input as JSON (llvm::json), read as calibration statistics
// (--load-calibration) and as a sensitivity table (--sensitivity-table).
// Statistics that load have their ranges chosen by every calibration method
// (what quant-compile --load-calibration does next with them).
//
//===----------------------------------------------------------------------===//
#include "qc/Quantization/BitWidths.h"
#include "qc/Quantization/Calibration.h"

#include "llvm/Support/JSON.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(
      llvm::StringRef(reinterpret_cast<const char *>(data), size));
  if (!json) {
    llvm::consumeError(json.takeError());
    return 0;
  }
  if (auto stats = qc::statsFromJSON(*json); !stats) {
    llvm::consumeError(stats.takeError());
  } else {
    for (auto method :
         {qc::CalibrationMethod::MinMax, qc::CalibrationMethod::Percentile,
          qc::CalibrationMethod::MSE, qc::CalibrationMethod::Entropy})
      for (bool isSigned : {false, true}) {
        qc::CalibrationOptions options;
        options.method = method;
        options.signedActivations = isSigned;
        for (const auto &entry : *stats)
          (void)qc::chooseRange(entry.second, options);
      }
  }
  if (auto table = qc::tableFromJSON(*json); !table)
    llvm::consumeError(table.takeError());
  return 0;
}
