//===- Minifloat.h - FP8, FP6, FP4 and E8M0 element encodings ----*- C++ -*-===//
//
// The element formats of the OCP 8-bit floating point specification (OFP8:
// E4M3, E5M2) and of the OCP Microscaling (MX) v1.0 specification (FP6
// E2M3 and E3M2, FP4 E2M1, the E8M0 block scale), as LLVM's APFloat
// semantics define them (Float8E4M3FN, Float8E5M2, Float6E2M3FN,
// Float6E3M2FN, Float4E2M1FN, Float8E8M0FNU): decoding every code point
// and encoding a float by round-to-nearest-even with saturation to the
// largest finite value, as the MX specification converts. NaN and
// infinity are not encoded: the caller refuses them with their location.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_MINIFLOAT_H
#define QC_SUPPORT_MINIFLOAT_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace llvm {
struct fltSemantics;
} // namespace llvm

namespace qc::minifloat {

enum class Format { E4M3, E5M2, E2M3, E3M2, E2M1, E8M0 };

/// The bit layout of a format: bits in all, exponent and mantissa bits,
/// whether it has a sign bit.
struct Layout {
  unsigned bits, exponentBits, mantissaBits;
  bool isSigned;
};

Layout layout(Format f);
const llvm::fltSemantics &semantics(Format f);
const char *name(Format f); // "e4m3", "e5m2", ...

/// The largest finite value (448, 57344, 7.5, 28, 6, 2^127).
double maxFinite(Format f);

/// The value of code point `code` (its low layout(f).bits bits): NaN for
/// NaN encodings, +-infinity for E5M2's.
double decode(Format f, uint32_t code);

/// The code of finite `x` rounded to nearest, ties to even, magnitudes
/// above maxFinite(f) saturated to it; none for NaN and +-infinity. E8M0
/// (unsigned, powers of two only) is not encoded here: see e8m0Code.
std::optional<uint32_t> encode(Format f, float x);

/// The E8M0 code of the scale 2^exponent, the exponent clamped to the
/// format's range [-127, 127].
uint32_t e8m0Code(int exponent);

/// The exponent of the largest normal value (8, 15, 2, 4, 2): emax_elem
/// of the MX specification.
int maxExponent(Format f);

/// One MX block (OCP MX v1.0, section 6.3): the shared scale X =
/// 2^(floor(log2(max |v|)) - emax_elem) as an E8M0 code in `scale`, and
/// each v / X encoded in `elem` into codes[i] (rounded to nearest even,
/// saturated). A block of zeros gets the smallest scale, 2^-127. False,
/// with the index of the first one in `bad`, when a value is NaN or
/// infinite (nothing is written then).
bool quantizeMxBlock(Format elem, const float *v, size_t n, uint32_t &scale,
                     uint32_t *codes, size_t *bad = nullptr);

/// Codes of `bits` bits (4, 6 or 8) packed least significant bit first:
/// FP4 two to a byte (the first in the low nibble), FP6 four to three
/// bytes, FP8 one to a byte; the last byte padded with zeros.
std::vector<uint8_t> packCodes(const uint32_t *codes, size_t n, unsigned bits);

/// The n codes of `bits` bits packed by packCodes.
std::vector<uint32_t> unpackCodes(const uint8_t *bytes, size_t n,
                                  unsigned bits);

} // namespace qc::minifloat

#endif // QC_SUPPORT_MINIFLOAT_H
