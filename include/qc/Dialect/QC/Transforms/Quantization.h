//===- Quantization.h - quantization parameters from ranges -----*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_QUANTIZATION_H
#define QC_DIALECT_QC_TRANSFORMS_QUANTIZATION_H

#include "qc/Dialect/QC/Transforms/QuantizationOptions.h"
#include "qc/Support/Minifloat.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include <optional>
#include <vector>

namespace qc {

/// The second moments of a Conv's input patches (group x K x K, f32), set by
/// calibration for GPTQ (qc::attachPatchGrams) and read by fold-calibration.
inline constexpr llvm::StringLiteral kPatchGramAttrName = "qc.patch_gram";

/// The activation type of the range [lo, hi] (widened to include 0) with
/// `bits` levels' worth of storage in an 8-bit container (16 bits: a
/// 16-bit one): asymmetric unsigned (scale (hi - lo) / (2^bits - 1), zero
/// point in [0, 2^bits - 1]) or symmetric signed (scale max(|lo|, |hi|) /
/// (2^(bits-1) - 1), zero point 0, storage [-2^(bits-1), 2^(bits-1) - 1]).
mlir::quant::UniformQuantizedType
activationType(mlir::MLIRContext *ctx, double lo, double hi, bool isSigned,
               mlir::Type expressed, unsigned bits = 8);

/// Activation widths the integer path takes: 2-8 bits, and 16 (W8A16:
/// int16 x int8 products accumulated in int64).
inline bool isActivationWidth(unsigned bits) {
  return (bits >= 2 && bits <= 8) || bits == 16;
}

/// Whether any of `bits` is a 16-bit activation format.
inline bool hasWideActivations(llvm::ArrayRef<unsigned> bits) {
  return llvm::any_of(bits, [](unsigned b) { return b > 8; });
}

/// A minifloat weight format: the element format, how its scales are
/// stored, and the block they cover along the reduction (0: a whole
/// channel).
struct MinifloatScheme {
  minifloat::Format element;
  enum class Scale { F32, E8M0, E4M3 } scale = Scale::F32;
  int64_t block = 0;
};

/// A weight in a minifloat scheme, per channel c and block b of `block`
/// consecutive elements of the channel (the last block may be shorter).
struct MinifloatWeight {
  std::vector<uint32_t> codes;      // one per weight, row-major
  int64_t blocks = 1;               // per channel
  std::vector<float> scales;        // [C][blocks] (F32: the scales)
  std::vector<uint32_t> scaleCodes; // [C][blocks] (E8M0, E4M3)
  double tensorScale = 1;           // E4M3 scales: NVFP4's per-tensor scale
  std::vector<float> dequantized;   // what qc.block_dequantize computes
};

/// The minifloat scheme of a weight format (none for int): the MX formats'
/// blocks of 32 with E8M0 scales, NVFP4's blocks of 16 with E4M3 scales, or
/// f32 scales per channel or per `granularity` block.
std::optional<MinifloatScheme>
minifloatScheme(WeightFormat format, const WeightGranularity &granularity = {});

/// Bits a weight of `format` (`bits` wide for int) takes in storage, its
/// block scales included (MX: 8 per 32, NVFP4: 8 per 16); per-channel
/// scales are counted with the model's fixed bytes.
double storedBitsPerWeight(unsigned bits, WeightFormat format);

/// A weight format's storage bits (int: `bits`).
unsigned formatBits(unsigned bits, WeightFormat format);

/// `v` rounded into format `f` under the block scale `s` and the tensor
/// scale `ts` (nearest even, saturating): its code in `code`, and the value
/// qc.block_dequantize decodes it to, (value(code) * s) * ts in f32.
float roundToMinifloat(minifloat::Format f, float v, float s, float ts,
                       uint32_t &code);

/// Quantizes the finite weights `w` (row-major) of `channels` channels of
/// `per` elements, element k of channel c at w[at(c, k)]. Max: the MX
/// spec's E8M0 scale 2^(floor(log2 amax) - emax), an E4M3 or f32 scale of
/// amax / max finite (NVFP4: the tensor scale amax / (448 * 6)); MSE: the
/// candidate of least squared error among those and their neighbours.
MinifloatWeight
quantizeMinifloatWeight(llvm::ArrayRef<float> w, int64_t channels, int64_t per,
                        llvm::function_ref<int64_t(int64_t, int64_t)> at,
                        const MinifloatScheme &scheme, bool searchMSE);

/// A weight quantized symmetrically with a scale per channel: entry i of
/// the flat row-major weight belongs to channel channelOf(i).
struct QuantizedWeight {
  std::vector<int32_t> q;
  std::vector<double> scales;     // per channel
  std::vector<float> dequantized; // q * scale
};

/// Round to nearest: scale = max |w| of the channel / qmax, q in
/// [-qmax, qmax].
QuantizedWeight quantizeWeight(llvm::ArrayRef<float> w, int64_t channels,
                               llvm::function_ref<int64_t(int64_t)> channelOf,
                               int64_t qmax);

/// GPTQ (Frantar et al.): the same scales as quantizeWeight, but the K x N
/// weight (row-major, reduction axis first) is rounded one input row at a
/// time, in order of decreasing input energy, and each row's rounding
/// error is compensated in the rows not yet rounded through the inverse of
/// the layer input's second-moment matrix `gram` (K x K, E[x x^T]),
/// dampened by `damp` times its mean diagonal. This minimizes
/// ||X W - X Q||^2 over the calibration inputs greedily instead of
/// ||W - Q||^2. Inputs never active (zero diagonal) get zero weights.
QuantizedWeight
gptqQuantizeWeight(llvm::ArrayRef<float> w, int64_t k, int64_t n,
                   int64_t channels,
                   llvm::function_ref<int64_t(int64_t)> channelOf, int64_t qmax,
                   llvm::ArrayRef<float> gram, double damp = 0.01);

/// GPTQ's error feedback for any rounding: the K x N weight `w` (row-major,
/// reduction first) rounded row by row (act order) with `round(i, v)`
/// giving element i's stored value for the updated value v, each row's
/// error spread over the rows not yet rounded through the inverse of
/// `gram`. False (nothing rounded) without usable second moments.
bool gptqRound(llvm::ArrayRef<float> w, int64_t k, int64_t n,
               llvm::ArrayRef<float> gram, double damp,
               llvm::function_ref<double(int64_t, double)> round);

/// Layer-wise reconstruction of a K x N weight (row-major, reduction axis
/// first, one scale per column) from the layer input's second moments
/// `gram` (K x K): minimizes the expected output error
///   sum_n (q_n - w_n)^T G (q_n - w_n) + noise * |q_n|^2
/// where `noise` is the variance of the input's own rounding (s_x^2 / 12;
/// the quantized model's layer sees a quantized input) by Adam over
/// `iterations` steps.
/// AdaRound (Nagel et al. 2020): scales of quantizeWeight, each weight
/// floor(w / s) + h(V) with h a rectified sigmoid pushed to 0 or 1 by an
/// annealed regularizer, then rounded. AdaQuant (Hubara et al. 2021): the
/// weights and each column's scale themselves, through round() by the
/// straight-through estimator.
///
/// With `gramQuantized` (K x K, E[x~ x~^T] of the layer's input in the
/// quantized model; the sequential form), the weights' error is measured
/// on the inputs the quantized layer sees, G~ in place of G, and `noise`
/// is not added (G~ holds it).
enum class ReconstructionMethod { AdaRound, AdaQuant };
QuantizedWeight reconstructWeight(ReconstructionMethod method,
                                  llvm::ArrayRef<float> w, int64_t k,
                                  int64_t n, int64_t qmax,
                                  llvm::ArrayRef<float> gram, double noise,
                                  int iterations = 300,
                                  llvm::ArrayRef<float> gramQuantized = {});

/// The attributes that carry the quantized model's layer-input second
/// moments to fold-calibration (sequential reconstruction): on a Conv the
/// patches' (group x K x K, as qc.patch_gram), on a Gemm / MatMul its
/// input's (K x K).
inline constexpr llvm::StringLiteral kQuantizedGramAttrName =
    "qc.quantized_input_gram";

} // namespace qc

#endif
