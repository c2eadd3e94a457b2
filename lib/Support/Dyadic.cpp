//===- Dyadic.cpp - dyadic (multiplier, shift) requantization -------------===//
#include "qc/Support/Dyadic.h"

#include <cassert>
#include <cmath>

namespace qc {

double Dyadic::value() const { return std::ldexp(double(multiplier), -shift); }

std::optional<Dyadic> computeDyadic(double scale, unsigned multiplierBits) {
  if (!std::isfinite(scale) || scale <= 0.0 || scale >= 2147483648.0 ||
      multiplierBits < 1 || multiplierBits > 31)
    return std::nullopt;
  // scale = f * 2^e with f in [0.5, 1); m = round(f * 2^b) in [2^(b-1), 2^b].
  int b = int(multiplierBits);
  int e = 0;
  double f = std::frexp(scale, &e);
  int64_t m = std::llround(std::ldexp(f, b));
  if (m == (int64_t(1) << b)) { // f rounded up to 1.0
    m >>= 1;
    ++e;
  }
  int64_t s = b - int64_t(e);
  if (s < 0) {
    if (b < 31) // a larger scale than b bits hold: more multiplier bits
      return std::nullopt;
    // Just below 2^31, f rounded up to 1.0: the nearest representable
    // dyadic is 2^31 - 1, off by less than one part in 2^31.
    m = INT32_MAX;
    s = 0;
  }
  if (s > kMaxDyadicShift) {
    // Tiny scales: |x * scale| < 2^31 * 2^-32 = 0.5, every result rounds to
    // zero; keep the largest shift and whatever precision remains.
    m = std::llround(std::ldexp(scale, kMaxDyadicShift));
    s = kMaxDyadicShift;
  }
  assert(m >= 0 && m < (int64_t(1) << 31));
  return Dyadic{int32_t(m), int32_t(s)};
}

IntRange integerRange(unsigned bits, bool isSigned) {
  assert(bits >= 1 && bits <= 64);
  if (isSigned) {
    if (bits == 64)
      return {INT64_MIN, INT64_MAX};
    return {-(int64_t(1) << (bits - 1)), (int64_t(1) << (bits - 1)) - 1};
  }
  if (bits >= 63)
    return {0, INT64_MAX};
  return {0, (int64_t(1) << bits) - 1};
}

} // namespace qc
