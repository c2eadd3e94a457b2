//===- KernelTestUtil.h - shared helpers of the kernels' exactness tests --===//
#ifndef QC_UNITTESTS_KERNELS_KERNELTESTUTIL_H
#define QC_UNITTESTS_KERNELS_KERNELTESTUTIL_H

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace qc_test {

/// qc.requantize on one value.
inline int64_t requantize(int64_t v, int64_t m, int64_t s, int64_t izp, int64_t ozp,
                   int64_t lo, int64_t hi) {
  v = (v - izp) * m;
  v = (s > 0 ? (v + (int64_t(1) << (s - 1))) >> s : v) + ozp;
  return std::min(std::max(v, lo), hi);
}

struct Epi {
  bool outI8;
  std::vector<int32_t> mult, shift;
  int64_t izp, ozp, lo, hi;
};

inline Epi randomEpilogue(std::mt19937 &rng, int64_t channels, bool outI8,
                   bool outUnsigned) {
  Epi e{outI8, {}, {}, 0, 0, 0, 0};
  std::uniform_int_distribution<int32_t> mult(1 << 30, 0x7fffffff),
      shift(38, 44);
  for (int64_t c = 0; c < channels; ++c) {
    e.mult.push_back(mult(rng));
    e.shift.push_back(shift(rng)); // ~2^-13 .. 2^-7: some outputs saturate
  }
  e.izp = 3;
  e.ozp = outUnsigned ? 120 : -5;
  e.lo = outUnsigned ? 0 : -128;
  e.hi = outUnsigned ? 255 : 127;
  if (!outUnsigned && channels % 2) // a fused Relu's clamp
    e.lo = e.ozp;
  return e;
}

inline std::vector<uint8_t> randomBytes(std::mt19937 &rng, size_t n) {
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<uint8_t> v(n);
  for (auto &x : v)
    x = uint8_t(d(rng));
  return v;
}

inline int64_t asInt(uint8_t b, bool isUnsigned) {
  return isUnsigned ? int64_t(b) : int64_t(int8_t(b));
}

} // namespace qc_test

#endif // QC_UNITTESTS_KERNELS_KERNELTESTUTIL_H
