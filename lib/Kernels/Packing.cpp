//===- Packing.cpp - compile-time packing of int8 weights for the kernels -===//
#include "KernelCommon.h"
#include "qc/Kernels/Int8Kernels.h"

using namespace qc::kernels;

using qc_kernels::cdiv;

namespace {
constexpr int64_t kLanes = 16;
} // namespace

std::vector<int32_t> qc::kernels::signedZeroPoints(const int32_t *zp,
                                                   size_t nZp, int64_t channels,
                                                   bool wUnsigned) {
  std::vector<int32_t> out(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c)
    out[size_t(c)] = zp[nZp == 1 ? 0 : size_t(c)] - (wUnsigned ? 128 : 0);
  return out;
}

static void finish(PackedWeights &p, int64_t K, int32_t zpAct, int32_t offZp,
                   const std::vector<int64_t> &sums, const int32_t *bias) {
  size_t n = p.zw.size();
  p.corr.resize(n);
  for (size_t c = 0; c < n; ++c) {
    int64_t v = (bias ? bias[c] : 0) - int64_t(offZp) * sums[c] +
                K * int64_t(zpAct) * p.zw[c];
    p.corr[c] = int32_t(v);
    p.hasZw |= p.zw[c] != 0;
  }
}

PackedWeights qc::kernels::packMatmulB(const uint8_t *b, int64_t K, int64_t N,
                                       bool bUnsigned, const int32_t *bZp,
                                       size_t nZp, const int32_t *bias,
                                       bool aUnsigned, int32_t aZp) {
  PackedWeights p;
  int64_t K4 = cdiv(K, 4), panels = cdiv(N, 64) * 4;
  p.data.assign(size_t(panels * K4 * 64), 0);
  uint8_t xr = bUnsigned ? 0x80 : 0;
  std::vector<int64_t> sums(size_t(N), 0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      int8_t v = int8_t(b[k * N + n] ^ xr);
      p.data[size_t((n / kLanes) * K4 * 64 + (k / 4) * 64 + (n % kLanes) * 4 +
                    k % 4)] = v;
      sums[size_t(n)] += v;
    }
  p.zw = signedZeroPoints(bZp, nZp, N, bUnsigned);
  finish(p, K, aZp, (aUnsigned ? 0 : 128) + aZp, sums, bias);
  return p;
}

PackedWeights qc::kernels::matmulActivationB(int64_t K, int64_t N,
                                             bool bUnsigned, const int32_t *bZp,
                                             size_t nZp, const int32_t *bias,
                                             int32_t aZp) {
  PackedWeights p;
  p.zw = signedZeroPoints(bZp, nZp, N, bUnsigned);
  finish(p, K, aZp, 0, std::vector<int64_t>(size_t(N), 0), bias);
  return p;
}

PackedWeights qc::kernels::packConvWeights(const uint8_t *w, int64_t F,
                                           int64_t K, bool wUnsigned,
                                           const int32_t *wZp, size_t nZp,
                                           const int32_t *bias, bool xUnsigned,
                                           int32_t xZp) {
  PackedWeights p;
  int64_t Kp = cdiv(K, 4) * 4;
  p.data.assign(size_t(F * Kp), 0);
  uint8_t xr = wUnsigned ? 0x80 : 0;
  std::vector<int64_t> sums(size_t(F), 0);
  for (int64_t f = 0; f < F; ++f)
    for (int64_t k = 0; k < K; ++k) {
      int8_t v = int8_t(w[f * K + k] ^ xr);
      p.data[size_t(f * Kp + k)] = v;
      sums[size_t(f)] += v;
    }
  p.zw = signedZeroPoints(wZp, nZp, F, wUnsigned);
  finish(p, K, xZp, (xUnsigned ? 0 : 128) + xZp, sums, bias);
  return p;
}

PackedWeights qc::kernels::packConvWeightsNhwc(
    const uint8_t *w, int64_t F, int64_t C, int64_t KHW, bool wUnsigned,
    const int32_t *wZp, size_t nZp, const int32_t *bias, bool xUnsigned,
    int32_t xZp) {
  // B[(t, c)][f] = w[f][c][t] for tap t = kh * KW + kw.
  int64_t K = C * KHW;
  std::vector<uint8_t> b(size_t(K * F));
  for (int64_t f = 0; f < F; ++f)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t t = 0; t < KHW; ++t)
        b[size_t((t * C + c) * F + f)] = w[(f * C + c) * KHW + t];
  return packMatmulB(b.data(), K, F, wUnsigned, wZp, nZp, bias, xUnsigned, xZp);
}

unsigned qc::kernels::packedBits(const std::vector<int8_t> &data) {
  int lo = 0, hi = 0;
  for (int8_t v : data) {
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  return lo >= -2 && hi <= 1 ? 2 : lo >= -8 && hi <= 7 ? 4 : 8;
}

std::vector<int8_t> qc::kernels::packSubByte(const std::vector<int8_t> &data,
                                             unsigned bits) {
  unsigned per = 8 / bits, mask = (1u << bits) - 1;
  std::vector<int8_t> out(data.size() / per, 0);
  for (size_t i = 0; i < data.size(); ++i)
    out[i / per] = int8_t(uint8_t(out[i / per]) |
                          ((uint8_t(data[i]) & mask) << (bits * (i % per))));
  return out;
}

PackedWeights qc::kernels::packLutWeights(const uint8_t *b, int64_t K,
                                          int64_t N, bool bUnsigned,
                                          LowBitFormat f, const int32_t *bZp,
                                          size_t nZp, const int32_t *bias,
                                          bool aUnsigned, int32_t aZp) {
  // Layout: LowBitKernels.cpp's header.
  PackedWeights p;
  int64_t Q = cdiv(K, 16), blocks = cdiv(N, 64), bits = f.bits;
  std::vector<uint8_t> data(size_t(blocks * Q * 128 * bits), 0);
  uint8_t xr = bUnsigned ? 0x80 : 0;
  std::vector<int64_t> sums(size_t(N), 0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      int8_t v = int8_t(b[k * N + n] ^ xr);
      sums[size_t(n)] += v;
      unsigned u = unsigned((v - f.base) / f.step);
      int64_t q = k / 16, g = (k % 16) / 4, i = k % 4;
      int64_t panel = (n % 64) / 16, j = (n % 16) * 4 + g;
      for (int64_t plane = 0; plane < bits; ++plane) {
        if (!(u >> plane & 1))
          continue;
        int64_t t = panel * bits + plane;
        size_t at = size_t(qc_kernels::lutQuadOffset(n / 64, q, Q, blocks, bits) +
                           (t / 2) * 64 + j);
        data[at] |= uint8_t(1u << (i + 4 * (t % 2)));
      }
    }
  p.data.assign(data.begin(), data.end());
  p.zw = signedZeroPoints(bZp, nZp, N, bUnsigned);
  int32_t off = aUnsigned ? 128 : 0;
  finish(p, K, aZp - off, aZp - off, sums, bias);
  return p;
}

BinaryWeights qc::kernels::packBinaryWeights(
    const uint8_t *w, int64_t F, int64_t C, int64_t taps, bool kMajor,
    bool wUnsigned, LowBitFormat f, const int32_t *wZp, size_t nZp,
    const int32_t *bias, int32_t lo, int32_t d, int32_t xZp) {
  // Layout: LowBitKernels.cpp's header ([filter][tap][word][plane]).
  BinaryWeights b;
  int64_t Cw = cdiv(C, 64), bits = f.bits;
  b.planes.assign(size_t(F * taps * Cw * bits), 0);
  b.corr.resize(size_t(F));
  b.tapCorr.resize(size_t(F * taps));
  b.xCoef.resize(size_t(F));
  b.pStep = int64_t(d) * f.step;
  uint8_t xr = wUnsigned ? 0x80 : 0;
  std::vector<int32_t> zw = signedZeroPoints(wZp, nZp, F, wUnsigned);
  int64_t xl = int64_t(lo) - xZp;
  for (int64_t o = 0; o < F; ++o) {
    int64_t wz = int64_t(f.base) - zw[size_t(o)], total = bias ? bias[o] : 0;
    for (int64_t t = 0; t < taps; ++t) {
      int64_t codes = 0;
      for (int64_t c = 0; c < C; ++c) {
        uint8_t raw = kMajor ? w[c * F + o] : w[(o * C + c) * taps + t];
        int64_t u = (int64_t(int8_t(raw ^ xr)) - f.base) / f.step;
        codes += u;
        for (int64_t p = 0; p < bits; ++p)
          if (u >> p & 1)
            b.planes[size_t(((o * taps + t) * Cw + c / 64) * bits + p)] |=
                uint64_t(1) << (c % 64);
      }
      int64_t tc = C * xl * wz + xl * f.step * codes;
      b.tapCorr[size_t(o * taps + t)] = int32_t(tc);
      total += tc;
    }
    b.corr[size_t(o)] = int32_t(total);
    b.xCoef[size_t(o)] = int32_t(int64_t(d) * wz);
  }
  return b;
}

std::vector<float> qc::kernels::packMatmulBF32(const float *b, int64_t K,
                                               int64_t N) {
  int64_t blocks = cdiv(N, 64);
  std::vector<float> out(static_cast<size_t>(blocks * K * 64), 0.0f);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      out[size_t(((n / 64) * K + k) * 64 + n % 64)] = b[k * N + n];
  return out;
}

std::vector<uint16_t> qc::kernels::packFp8Bf16(const uint16_t *values,
                                               int64_t N, int64_t K) {
  // Layout: Int8Kernels.h.
  int64_t panels = cdiv(N, 16), pairs = cdiv(K, 2);
  std::vector<uint16_t> p(size_t(panels * pairs * 32), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      p[size_t(((n / 16) * pairs + k / 2) * 32 + 2 * (n % 16) + k % 2)] =
          values[n * K + k];
  return p;
}

qc::kernels::MxPacked qc::kernels::packMxWeights(const uint8_t *codes,
                                                 const int8_t *shifts,
                                                 int64_t K, int64_t N,
                                                 unsigned bits) {
  // Layout: Int8Kernels.h.
  int64_t panels = cdiv(N, 16), blocks = K / 32;
  int64_t bytes = bits == 6 ? 384 : 256;
  MxPacked p;
  p.weights.assign(size_t(panels * blocks * bytes), 0);
  p.shifts.assign(size_t(panels * blocks * 16), 0xFF);
  for (int64_t n = 0; n < N; ++n) {
    int64_t panel = n / 16, c = n % 16;
    for (int64_t b = 0; b < blocks; ++b) {
      int8_t sh = shifts[n * blocks + b];
      p.shifts[size_t((panel * blocks + b) * 16 + c)] =
          sh < 0 ? 0xFF : uint8_t(sh);
      uint8_t *pb = p.weights.data() + (panel * blocks + b) * bytes;
      for (int64_t j = 0; j < 32; ++j) {
        int64_t k = b * 32 + j, q = j / 8, hi = (j % 8) / 4, i = j % 4;
        uint8_t code = codes[k * N + n];
        pb[q * 64 + 4 * c + i] |= uint8_t((code & 0xF) << (4 * hi));
        if (bits == 6) {
          int64_t v = 2 * q + hi;
          pb[256 + (v / 4) * 64 + 4 * c + i] |=
              uint8_t(((code >> 4) & 3) << (2 * (v % 4)));
        }
      }
    }
  }
  return p;
}
