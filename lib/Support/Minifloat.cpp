//===- Minifloat.cpp - FP8, FP6, FP4 and E8M0 element encodings -----------===//
//
// Conversions by LLVM's APFloat, which implements each format's semantics
// (special values included); this file adds the saturation the MX
// specification asks for and the refusal of non-finite inputs.
//
//===----------------------------------------------------------------------===//
#include "qc/Support/Minifloat.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>

using llvm::APFloat;
using llvm::APInt;

namespace qc::minifloat {

namespace {
/// Per format, in the enum's order: its layout, APFloat semantics and name.
struct Info {
  Layout layout;
  const llvm::fltSemantics &(*semantics)();
  const char *name;
};
const Info kInfo[] = {
    {{8, 4, 3, true}, APFloat::Float8E4M3FN, "e4m3"},
    {{8, 5, 2, true}, APFloat::Float8E5M2, "e5m2"},
    {{6, 2, 3, true}, APFloat::Float6E2M3FN, "e2m3"},
    {{6, 3, 2, true}, APFloat::Float6E3M2FN, "e3m2"},
    {{4, 2, 1, true}, APFloat::Float4E2M1FN, "e2m1"},
    {{8, 8, 0, false}, APFloat::Float8E8M0FNU, "e8m0"},
};
static_assert(sizeof(kInfo) / sizeof(kInfo[0]) == size_t(Format::E8M0) + 1,
              "a row per format");
} // namespace

Layout layout(Format f) { return kInfo[size_t(f)].layout; }

const llvm::fltSemantics &semantics(Format f) {
  return kInfo[size_t(f)].semantics();
}

const char *name(Format f) { return kInfo[size_t(f)].name; }

static double toDouble(APFloat v) {
  // LLVM 22 converts E8M0's NaN (0xFF) to double as infinity.
  if (v.isNaN())
    return std::nan("");
  bool losesInfo;
  v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
  return v.convertToDouble();
}

double maxFinite(Format f) {
  return toDouble(APFloat::getLargest(semantics(f)));
}

double decode(Format f, uint32_t code) {
  unsigned bits = layout(f).bits;
  return toDouble(
      APFloat(semantics(f), APInt(bits, code & ((1u << bits) - 1))));
}

std::optional<uint32_t> encode(Format f, float x) {
  if (f == Format::E8M0 || !std::isfinite(x))
    return std::nullopt;
  // Saturation: the largest finite value for any larger magnitude (the
  // formats without infinities would otherwise give NaN, E5M2 infinity).
  double max = maxFinite(f);
  double v = std::fabs(double(x)) > max ? std::copysign(max, double(x)) : x;
  APFloat a(v);
  bool losesInfo;
  a.convert(semantics(f), APFloat::rmNearestTiesToEven, &losesInfo);
  return uint32_t(a.bitcastToAPInt().getZExtValue());
}

uint32_t e8m0Code(int exponent) {
  int e = exponent < -127 ? -127 : exponent > 127 ? 127 : exponent;
  return uint32_t(e + 127);
}

int maxExponent(Format f) { return std::ilogb(maxFinite(f)); }

bool quantizeMxBlock(Format elem, const float *v, size_t n, uint32_t &scale,
                     uint32_t *codes, size_t *bad) {
  float amax = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      if (bad)
        *bad = i;
      return false;
    }
    amax = std::fmax(amax, std::fabs(v[i]));
  }
  int shared = amax > 0 ? std::ilogb(amax) - maxExponent(elem) : -127;
  scale = e8m0Code(shared);
  // The scale as the E8M0 code holds it (clamped), exactly a power of two.
  int exponent = int(scale) - 127;
  for (size_t i = 0; i < n; ++i)
    codes[i] = *encode(elem, float(std::ldexp(double(v[i]), -exponent)));
  return true;
}

std::vector<uint8_t> packCodes(const uint32_t *codes, size_t n, unsigned bits) {
  std::vector<uint8_t> out((n * bits + 7) / 8, 0);
  for (size_t i = 0; i < n; ++i)
    for (unsigned b = 0; b < bits; ++b)
      if ((codes[i] >> b) & 1) {
        size_t at = i * bits + b;
        out[at / 8] |= uint8_t(1u << (at % 8));
      }
  return out;
}

std::vector<uint32_t> unpackCodes(const uint8_t *bytes, size_t n,
                                  unsigned bits) {
  std::vector<uint32_t> out(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (unsigned b = 0; b < bits; ++b) {
      size_t at = i * bits + b;
      out[i] |= uint32_t((bytes[at / 8] >> (at % 8)) & 1) << b;
    }
  return out;
}

} // namespace qc::minifloat
