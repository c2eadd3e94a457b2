//===- LowBitFormat.cpp - the narrowest low-bit format of weights ---------===//
#include "qc/Support/LowBitFormat.h"

using qc::kernels::LowBitFormat;

template <typename T>
LowBitFormat qc::kernels::lowBitFormat(const T *values, size_t n) {
  LowBitFormat f;
  if (n == 0)
    return f;
  int64_t lo = values[0], hi = values[0];
  for (size_t i = 0; i < n; ++i) {
    lo = values[i] < lo ? int64_t(values[i]) : lo;
    hi = values[i] > hi ? int64_t(values[i]) : hi;
  }
  int64_t step = 0; // gcd of the distances to the smallest value
  for (size_t i = 0; i < n && step != 1; ++i) {
    int64_t d = int64_t(values[i]) - lo;
    while (d) {
      int64_t r = step % d;
      step = d;
      d = r;
    }
  }
  step = step ? step : 1;
  int64_t levels = (hi - lo) / step + 1;
  unsigned bits = 1;
  while (bits <= 4 && (int64_t(1) << bits) < levels)
    ++bits;
  if (bits > 4)
    return f;
  f.bits = bits;
  f.base = int32_t(lo);
  f.step = int32_t(step);
  return f;
}

template LowBitFormat qc::kernels::lowBitFormat(const int8_t *, size_t);
template LowBitFormat qc::kernels::lowBitFormat(const int64_t *, size_t);
