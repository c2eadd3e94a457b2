//===- MinifloatWeights.cpp - weights in minifloat and MX formats ---------===//
//
// The compile-time rounding behind fold-calibration's minifloat weight
// formats: per channel and block, a scale (E8M0 as the OCP MX v1.0 spec
// chooses it, E4M3 as NVFP4 does, or f32) and one code per weight, rounded
// to nearest even with saturation (qc::minifloat::encode).
//
//===----------------------------------------------------------------------===//
#include "qc/Dialect/QC/Transforms/Quantization.h"

#include <algorithm>
#include <cmath>

using namespace qc;
using minifloat::Format;

namespace {

/// Codes of v / s for one block, and their squared error; s > 0.
double encodeBlock(Format f, llvm::ArrayRef<float> v, float s, float ts,
                   uint32_t *codes, float *deq) {
  double err = 0;
  for (size_t j = 0; j < v.size(); ++j) {
    deq[j] = roundToMinifloat(f, v[j], s, ts, codes[j]);
    err += (double(deq[j]) - v[j]) * (double(deq[j]) - v[j]);
  }
  return err;
}

} // namespace

float qc::roundToMinifloat(Format f, float v, float s, float ts,
                           uint32_t &code) {
  // v / (s * ts) in f32, as a reader of the format would divide; the value
  // as qc.block_dequantize computes it, (decoded * s) * ts.
  float x = v / s;
  if (ts != 1.f)
    x /= ts;
  code = minifloat::encode(f, x).value_or(0); // finite: saturates
  float d = float(minifloat::decode(f, code)) * s;
  if (ts != 1.f)
    d *= ts;
  return d;
}

MinifloatWeight
qc::quantizeMinifloatWeight(llvm::ArrayRef<float> w, int64_t channels,
                            int64_t per,
                            llvm::function_ref<int64_t(int64_t, int64_t)> at,
                            const MinifloatScheme &scheme, bool searchMSE) {
  Format f = scheme.element;
  double fmax = minifloat::maxFinite(f);
  int64_t block = scheme.block > 0 ? std::min(scheme.block, per) : per;
  MinifloatWeight r;
  r.blocks = (per + block - 1) / block;
  r.codes.assign(w.size(), 0);
  r.dequantized.assign(w.size(), 0.f);
  r.scales.assign(channels * r.blocks, 1.f);
  r.scaleCodes.assign(channels * r.blocks, 0);
  if (scheme.scale == MinifloatScheme::Scale::E4M3) {
    double amax = 0;
    for (float x : w)
      amax = std::max(amax, double(std::fabs(x)));
    double ts = amax / (minifloat::maxFinite(Format::E4M3) * fmax);
    r.tensorScale = ts > 0 && std::isfinite(ts) ? float(ts) : 1.0;
  }
  float ts = float(r.tensorScale);
  std::vector<float> v(block), deq(block), bestDeq(block);
  std::vector<uint32_t> codes(block), bestCodes(block);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t b = 0; b < r.blocks; ++b) {
      int64_t k0 = b * block, n = std::min(block, per - k0);
      double amax = 0;
      for (int64_t j = 0; j < n; ++j) {
        v[j] = w[at(c, k0 + j)];
        amax = std::max(amax, double(std::fabs(v[j])));
      }
      llvm::ArrayRef<float> vals(v.data(), n);
      // Candidate scales (value, code) in order of preference on ties.
      llvm::SmallVector<std::pair<float, uint32_t>> cands;
      switch (scheme.scale) {
      case MinifloatScheme::Scale::E8M0: {
        int e = amax > 0 ? int(std::floor(std::log2(amax))) -
                               minifloat::maxExponent(f)
                         : -127;
        static const int steps[] = {0, 1, -1};
        for (int d : llvm::ArrayRef(steps).take_front(searchMSE ? 3 : 1)) {
          uint32_t code = minifloat::e8m0Code(std::clamp(e + d, -127, 127));
          cands.push_back({float(minifloat::decode(Format::E8M0, code)), code});
        }
        break;
      }
      case MinifloatScheme::Scale::E4M3: {
        double target = amax / fmax / ts;
        uint32_t code =
            amax > 0 ? *minifloat::encode(Format::E4M3, float(target)) : 0x38;
        code = std::max<uint32_t>(code, 1); // a zero scale decodes nothing
        static const int steps[] = {0, 1, -1, 2, -2};
        for (int d : llvm::ArrayRef(steps).take_front(searchMSE ? 5 : 1)) {
          int cc = int(code) + d;
          if (cc >= 1 && cc <= 0x7e)
            cands.push_back(
                {float(minifloat::decode(Format::E4M3, cc)), uint32_t(cc)});
        }
        break;
      }
      case MinifloatScheme::Scale::F32: {
        double base = amax > 0 ? amax / fmax : 1.0;
        int steps = searchMSE ? 20 : 1;
        for (int i = 0; i < steps; ++i)
          cands.push_back({float(base * (1.0 - 0.025 * i)), 0});
        break;
      }
      }
      double best = INFINITY;
      for (auto [s, code] : cands) {
        if (!(s > 0))
          continue;
        double err = encodeBlock(f, vals, s, ts, codes.data(), deq.data());
        if (err < best) {
          best = err;
          r.scales[c * r.blocks + b] = s;
          r.scaleCodes[c * r.blocks + b] = code;
          std::copy_n(codes.begin(), n, bestCodes.begin());
          std::copy_n(deq.begin(), n, bestDeq.begin());
        }
      }
      for (int64_t j = 0; j < n; ++j) {
        int64_t i = at(c, k0 + j);
        r.codes[i] = bestCodes[j];
        r.dequantized[i] = bestDeq[j];
      }
    }
  }
  return r;
}

/// The minifloat scheme of a --weight-format (none for int): the MX
/// formats' blocks of 32 with E8M0 scales, NVFP4's blocks of 16 with E4M3
/// scales, or f32 scales per channel or per `granularity` block.
std::optional<qc::MinifloatScheme>
qc::minifloatScheme(qc::WeightFormat format,
                    const qc::WeightGranularity &granularity) {
  using F = qc::minifloat::Format;
  using S = qc::MinifloatScheme::Scale;
  int64_t block = granularity.kind == qc::WeightGranularity::Block
                      ? granularity.blockSize
                      : 0;
  switch (format) {
  case qc::WeightFormat::Int:
    return std::nullopt;
  case qc::WeightFormat::FP8E4M3:
    return qc::MinifloatScheme{F::E4M3, S::F32, block};
  case qc::WeightFormat::FP8E5M2:
    return qc::MinifloatScheme{F::E5M2, S::F32, block};
  case qc::WeightFormat::FP6E3M2:
    return qc::MinifloatScheme{F::E3M2, S::F32, block};
  case qc::WeightFormat::FP6E2M3:
    return qc::MinifloatScheme{F::E2M3, S::F32, block};
  case qc::WeightFormat::FP4E2M1:
    return qc::MinifloatScheme{F::E2M1, S::F32, block};
  case qc::WeightFormat::MXFP8E4M3:
    return qc::MinifloatScheme{F::E4M3, S::E8M0, 32};
  case qc::WeightFormat::MXFP8E5M2:
    return qc::MinifloatScheme{F::E5M2, S::E8M0, 32};
  case qc::WeightFormat::MXFP6E3M2:
    return qc::MinifloatScheme{F::E3M2, S::E8M0, 32};
  case qc::WeightFormat::MXFP6E2M3:
    return qc::MinifloatScheme{F::E2M3, S::E8M0, 32};
  case qc::WeightFormat::MXFP4:
    return qc::MinifloatScheme{F::E2M1, S::E8M0, 32};
  case qc::WeightFormat::NVFP4:
    return qc::MinifloatScheme{F::E2M1, S::E4M3, 16};
  }
  return std::nullopt;
}

double qc::storedBitsPerWeight(unsigned bits, WeightFormat format) {
  std::optional<MinifloatScheme> m = minifloatScheme(format);
  if (!m)
    return bits;
  double b = minifloat::layout(m->element).bits;
  if (m->scale != MinifloatScheme::Scale::F32)
    b += 8.0 / double(m->block);
  return b;
}

unsigned qc::formatBits(unsigned bits, WeightFormat format) {
  std::optional<MinifloatScheme> m = minifloatScheme(format);
  return m ? minifloat::layout(m->element).bits : bits;
}
