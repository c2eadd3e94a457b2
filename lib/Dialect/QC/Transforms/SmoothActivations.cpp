//===- SmoothActivations.cpp - SmoothQuant --------------------------------===//
#include "qc/Dialect/QC/Transforms/LinearGroups.h"
#include "qc/Dialect/QC/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace qc {
#define GEN_PASS_DEF_SMOOTHACTIVATIONS
#include "qc/Dialect/QC/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

/// X W = (X / s)(s W): 1/s into the producer, s into the readers' rows.
void smooth(ActivationGroup &g, ArrayRef<double> s) {
  int64_t k = g.channels;
  if (g.kind == ProducerKind::Linear) {
    std::vector<double> w = g.producer.weight(), b = *g.producer.bias();
    for (int64_t i = 0; i < g.producer.k; ++i)
      for (int64_t j = 0; j < k; ++j)
        w[i * k + j] /= s[j];
    for (int64_t j = 0; j < k; ++j)
      b[j] /= s[j];
    g.producer.setWeight(w);
    g.producer.setBias(b);
  } else {
    std::vector<double> gamma = g.gamma(), beta = g.beta();
    for (int64_t j = 0; j < k; ++j) {
      gamma[j] /= s[j];
      beta[j] /= s[j];
    }
    g.setGammaBeta(gamma, beta);
  }
  for (Linear &l : g.consumers) {
    std::vector<double> w = l.weight();
    for (int64_t j = 0; j < k; ++j)
      for (int64_t n = 0; n < l.n; ++n)
        w[j * l.n + n] *= s[j];
    l.setWeight(w);
  }
}

struct SmoothActivationsPass
    : qc::impl::SmoothActivationsBase<SmoothActivationsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!(alpha >= 0 && alpha <= 1)) {
      getOperation()->emitError()
          << "smooth-activations: alpha must lie in [0, 1], got " << alpha;
      return signalPassFailure();
    }
    for (ActivationGroup &g : findActivationGroups(getOperation())) {
      ObserveOp obs = g.observer;
      if (g.kind == ProducerKind::Other || !obs || !obs.getChannelAbsMax() ||
          int64_t(*obs.getChannelAxis()) !=
              cast<RankedTensorType>(obs.getType()).getRank() - 1)
        continue;
      double a = alpha;
      if (auto attr = obs->getAttrOfType<FloatAttr>(kSmoothAlphaAttr)) {
        a = attr.getValueAsDouble();
        if (!(a >= 0 && a <= 1)) {
          obs.emitOpError()
              << kSmoothAlphaAttr << " must lie in [0, 1], got " << a;
          return signalPassFailure();
        }
      }
      std::vector<double> act(obs.getChannelAbsMax()->begin(),
                              obs.getChannelAbsMax()->end());
      std::vector<double> s = smoothingFactors(act, weightAbsMax(g), a);
      smooth(g, s);
      // The observed tensor is X / s now.
      Builder b(obs);
      for (int64_t j = 0; j < g.channels; ++j)
        act[j] /= s[j];
      obs.setChannelAbsMaxAttr(b.getDenseF64ArrayAttr(act));
      if (std::optional<ArrayRef<double>> mean = obs.getChannelMean()) {
        std::vector<double> m(mean->begin(), mean->end());
        for (int64_t j = 0; j < g.channels; ++j)
          m[j] /= s[j];
        obs.setChannelMeanAttr(b.getDenseF64ArrayAttr(m));
      }
      obs.removeMinAttr();
      obs.removeMaxAttr();
      obs->setAttr(kSmoothAlphaAttr, b.getF64FloatAttr(a));
    }
  }
};

} // namespace
