//===- Dyadic.h - dyadic (multiplier, shift) requantization -----*- C++ -*-===//
//
// Integer-only requantization replaces a real scale by a dyadic number
// m / 2^s (HAWQ-V3, Jacob et al.): the accumulator is multiplied by an int32
// multiplier in 64-bit arithmetic and shifted right with rounding.
//
// Rounding: rshiftRound(v, s) = floor((v + 2^(s-1)) / 2^s), i.e. round half
// toward +infinity (TOSA's "single round"), one add and one arithmetic shift.
//
// Guarantee (tested in unittests/Support/DyadicTest.cpp): for every real
// scale in (0, 2^31) and every int32 accumulator x, with the result saturated
// to any integer range no wider than int32,
//   |requantize(x) - saturate(round(x * scale))| <= 1.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_DYADIC_H
#define QC_SUPPORT_DYADIC_H

#include <cstdint>
#include <optional>

namespace qc {

/// Scale = multiplier / 2^shift.
struct Dyadic {
  int32_t multiplier = 0;
  int32_t shift = 0;
  double value() const;
};

/// Largest shift a Dyadic may carry: x * m with |x| <= 2^31, m < 2^31 stays
/// below 2^62 so adding the rounding half cannot overflow int64.
constexpr int32_t kMaxDyadicShift = 62;

/// Returns the dyadic approximation of `scale`, with the multiplier
/// normalized into [2^30, 2^31) where the shift range allows it (31 bits of
/// precision). Returns std::nullopt for scales that are not finite, not
/// positive, or >= 2^31 (no int32 accumulator result would fit).
///
/// With `multiplierBits` < 31 the multiplier lies in [2^(b-1), 2^b): the
/// requantization of a 64-bit accumulator below 2^(62-b) (the product of a
/// 16-bit activation) stays inside int64; none when the scale needs more
/// bits than that (scale >= 2^b).
std::optional<Dyadic> computeDyadic(double scale, unsigned multiplierBits = 31);

/// floor((v + 2^(s-1)) / 2^s) for 0 <= s <= 63; v for s == 0.
inline int64_t rshiftRound(int64_t v, int32_t s) {
  if (s == 0)
    return v;
  return (v + (int64_t(1) << (s - 1))) >> s;
}

/// Range of an integer of `bits` bits (1..64), signed or unsigned.
struct IntRange {
  int64_t min, max;
};
IntRange integerRange(unsigned bits, bool isSigned);

inline int64_t saturate(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/// The integer requantization of one value; the semantics of qc.requantize.
inline int64_t requantize(int64_t x, Dyadic d, int64_t inputZp,
                          int64_t outputZp, int64_t clampMin,
                          int64_t clampMax) {
  int64_t v = rshiftRound((x - inputZp) * int64_t(d.multiplier), d.shift);
  return saturate(outputZp + v, clampMin, clampMax);
}

} // namespace qc

#endif // QC_SUPPORT_DYADIC_H
