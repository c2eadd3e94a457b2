//===- RotationSearch.cpp - choosing among random rotations ---------------===//
#include "Stages.h"
#include "qc/Quantization/OutputMetric.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"
#include <cmath>
#include <limits>

using namespace mlir;
using namespace qc;
using namespace qc::detail;
using llvm::Error;
using llvm::Expected;

llvm::Expected<uint64_t>
qc::detail::searchRotation(ModuleOp module, const ObservedModel &reference,
                           ArrayRef<Sample> calib, ArrayRef<TensorSpec> outputs,
                           const QuantizeOptions &o, bool gptq,
                           llvm::raw_ostream &os) {
  ArrayRef<Sample> scored =
      calib.take_front(std::max<size_t>(1, o.rotationSearchSamples));
  OutputMetric metric = o.rotationSearchMetric;
  bool task = metric == OutputMetric::Task;
  SensitivityOptions labelled; // the labels, read as the sensitivity reads them
  if (task) {
    if (o.taskLabels.empty())
      return error("the task metric of the rotation search needs the samples' "
                   "task labels");
    if (Error e = readTaskLabels(o.taskLabels, outputs, labelled))
      return std::move(e);
    if (labelled.labels.size() < scored.size())
      return error(o.taskLabels + ": labels for " +
                   llvm::Twine(labelled.labels.size()) +
                   " samples; the rotation search scores " +
                   llvm::Twine(scored.size()) + " calibration samples");
  }
  std::vector<std::vector<HostTensor>> refs;
  for (const Sample &s : scored) {
    auto ref = reference.run(s);
    if (!ref)
      return ref.takeError();
    refs.push_back(std::move(*ref));
  }
  std::vector<bool> probabilities(reference.numOutputs, true);
  for (auto &ref : refs)
    for (size_t k = 0; k < reference.numOutputs; ++k)
      probabilities[k] = probabilities[k] && holdsProbabilities(ref[k]);
  auto compare = [&](OutputComparison &c, size_t r,
                     const std::vector<HostTensor> &out) {
    for (size_t k = 0; k < reference.numOutputs; ++k)
      if (!task || k == labelled.labelOutput)
        c.add(refs[r][k], out[k], probabilities[k],
              task ? ArrayRef<int64_t>(labelled.labels[r])
                   : ArrayRef<int64_t>());
  };
  double floatLoss = 0;
  if (task) {
    OutputComparison c{metric};
    for (size_t r = 0; r < refs.size(); ++r)
      compare(c, r, refs[r]);
    if (c.den == 0)
      return error(
          o.taskLabels +
          ": no labelled row in the samples the rotation search scores");
    floatLoss = c.value();
  }
  auto describe = [&](double v) -> std::string {
    if (metric == OutputMetric::MSE)
      return llvm::formatv("quantized outputs vs float, SQNR {0:f2} dB",
                           v > 0 ? -10 * std::log10(v) : INFINITY);
    if (metric == OutputMetric::KL)
      return llvm::formatv("KL divergence from float {0:e3} per row", v);
    return llvm::formatv("cross-entropy {0:f5} (float {1:f5})", v, floatLoss);
  };
  uint64_t best = o.rotationSeed;
  double bestCost = std::numeric_limits<double>::infinity();
  for (unsigned i = 0; i < o.rotationCandidates; ++i) {
    uint64_t seed = o.rotationSeed + i;
    OwningOpRef<ModuleOp> copy = module.clone();
    if (Error e = runPasses(
            *copy,
            [&](OpPassManager &pm) {
              pm.nest<func::FuncOp>().addPass(
                  createRotateHadamard(rotateOptions(o, seed)));
            },
            "rotating"))
      return std::move(e);
    auto observed = compileObserved(*copy, o.target);
    if (!observed)
      return observed.takeError();
    CalibrationOptions co = o.calibration;
    co.secondMoments = gptq;
    co.progress = false;
    auto st = collectStatistics(*observed, calib, co);
    if (!st)
      return st.takeError();
    if (Error e = applyCalibration(*copy, *st, o.calibration))
      return std::move(e);
    if (Error e = runPasses(
            *copy,
            [&](OpPassManager &pm) {
              pm.nest<func::FuncOp>().addPass(
                  createFoldCalibration(foldOptions(o)));
            },
            "folding the calibration"))
      return std::move(e);
    auto quant = compileQuantized(*copy, o.target);
    if (!quant)
      return quant.takeError();
    OutputComparison c{metric};
    for (auto [r, s] : llvm::enumerate(scored)) {
      auto got = quant->run(s);
      if (!got)
        return got.takeError();
      compare(c, r, *got);
    }
    double cost = c.value();
    os << "rotation seed " << seed << ": " << describe(cost) << " on "
       << scored.size() << " calibration samples\n";
    if (cost < bestCost) {
      bestCost = cost;
      best = seed;
    }
  }
  os << "rotation search: seed " << best << " of " << o.rotationCandidates
     << " kept\n";
  return best;
}
