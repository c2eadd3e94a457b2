//===- IntegerLowering.h - lower-quantized-to-integer internals -*- C++ -*-===//
//
// Shared by the pattern files of lower-quantized-to-integer: reading the QDQ
// form (quantized types, dequantized constants, fused activations) and
// building integer ops (storage casts, dyadic requantization).
//
//===----------------------------------------------------------------------===//
#ifndef QC_LIB_DIALECT_QC_TRANSFORMS_INTEGERLOWERING_H
#define QC_LIB_DIALECT_QC_TRANSFORMS_INTEGERLOWERING_H

#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/PatternMatch.h"
#include <algorithm>
#include <optional>
#include <vector>

namespace qc::integer {

inline mlir::RankedTensorType tensorTy(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}

/// The per-tensor quantized type of a tensor value, or null.
mlir::quant::UniformQuantizedType perTensor(mlir::Value v);

/// The quantized value a float value is the dequantization of, or null.
mlir::Value dequantized(mlir::Value v);

/// A linear layer's input quantized at run time: the operands of the
/// qc.dynamic_dequantize producing it (int8 values [..., K], scales and
/// zero points [..., S], zero points possibly null) and K / S.
struct DynamicInput {
  mlir::Value ints, scales, zeros;
  int64_t groupSize, groups;
};
std::optional<DynamicInput> dynamicInput(mlir::Value v);

/// The one value of a float constant of one value (a scalar, a splat, or a
/// blob exporters write out in full); none for anything else.
std::optional<float> splatValue(mlir::Value c);

/// The stored value of a constant of one value (a scalar, a splat, or a
/// blob exporters write out in full) quantized to `qt` by qc.quantize's
/// definition (f32 divide, round half to even, zero point, saturation);
/// none for anything else.
std::optional<int64_t> constantLevel(mlir::Value c,
                                     mlir::quant::UniformQuantizedType qt);

/// A clone of `op` (a layout or max-pooling op) on integers: operand 0
/// replaced by `ints`, result 0 typed as the storage of `qt`.
mlir::Operation *cloneOnIntegers(mlir::PatternRewriter &rw,
                                 mlir::Operation *op, mlir::Value ints,
                                 mlir::quant::QuantizedType qt);

/// The storage integers of a quantized tensor (ui8 / i8 ...).
mlir::Value storageOf(mlir::OpBuilder &b, mlir::Location loc, mlir::Value q);
mlir::RankedTensorType storageTensorType(mlir::RankedTensorType shape,
                                         mlir::quant::QuantizedType qt);

/// Dyadic (multiplier, shift) lists of `scales`; failure when one has no
/// int32 form.
mlir::LogicalResult dyadics(llvm::ArrayRef<double> scales,
                            llvm::SmallVectorImpl<int32_t> &mult,
                            llvm::SmallVectorImpl<int32_t> &shift,
                            unsigned multiplierBits = 31);

/// The quantized range of `qt` narrowed by a fused activation's float
/// bounds.
std::pair<int64_t, int64_t> clampRange(mlir::quant::UniformQuantizedType qt,
                                       double lo, double hi);

/// Peels a Relu or constant Clip off `v`: returns the value before it and
/// the activation's bounds (infinite without one).
mlir::Value peelActivation(mlir::Value v, double &lo, double &hi);

/// requantize(x) to the parameters of `out`, with a clamp, from a tensor of
/// integers at scale `inScale` with zero point `inZp`.
/// `multiplierBits` below 31 for an int64 accumulator (computeDyadic).
mlir::FailureOr<mlir::Value>
requantizeTo(mlir::PatternRewriter &rw, mlir::Location loc, mlir::Value ints,
             llvm::ArrayRef<double> scales, int64_t inZp,
             std::optional<int64_t> axis, mlir::RankedTensorType resultTy,
             int64_t outZp, int64_t lo, int64_t hi,
             unsigned multiplierBits = 31);

/// Replaces `q` by the integers `y` (failure: no dyadic form), typed as
/// its quantized result.
mlir::LogicalResult replaceWithIntegers(mlir::PatternRewriter &rw, QuantizeOp q,
                                        mlir::FailureOr<mlir::Value> y);

/// The f32 values of dequantize(storage_cast(integer constant)): per
/// tensor, per axis or per block; none when the operand is no constant.
std::optional<std::vector<float>> dequantizedConstant(DequantizeOp dq);

/// A Gemm's alpha, beta and C (left as they are for another op); fails for
/// transposed operands.
mlir::LogicalResult gemmTerms(mlir::PatternRewriter &rw, mlir::Operation *op,
                              double &alpha, double &beta, mlir::Value &c);

/// A bias as float values: a float constant (fold-calibration), or the
/// dequantized int32 constant of a QDQ model.
std::optional<std::vector<float>> readBias(mlir::Value v);

/// x[..., start:start+size, ...] along `axis` (qc.slice).
mlir::Value sliceAlong(mlir::PatternRewriter &rw, mlir::Location loc,
                       mlir::Value x, int64_t axis, int64_t start,
                       int64_t size);

/// The integer product of a linear layer and what is left to apply to it
/// (IntegerProducts.cpp).
struct IntegerProduct {
  mlir::Value acc; // i32; i64 for a 16-bit input
  int accBits = 32; // a bound on |acc|'s bits (with the sign)
  /// Multiplier bits that keep acc * multiplier inside int64.
  unsigned multiplierBits() const {
    return unsigned(std::clamp(62 - accBits, 1, 31));
  }
  llvm::SmallVector<double> scales; // alpha * s_x * s_w[c]
  int64_t outAxis = 0;
  mlir::RankedTensorType resTy;
  mlir::Value rowScales, floatBias, rowZeros;
  std::vector<float> zeroTerms;
  double beta = 1;
};
mlir::LogicalResult integerProduct(mlir::PatternRewriter &rw,
                                   mlir::Operation *op, IntegerProduct &out,
                                   bool allowRows = false);

/// A quantized weight's scales and zero points: one each (per tensor) or
/// one per output channel along `channelAxis`; none for other types.
struct WeightScales {
  llvm::SmallVector<double> scales;
  llvm::SmallVector<int32_t> zps;
};
std::optional<WeightScales> weightScales(mlir::Type elt, int64_t channelAxis);

/// What a zero point of 1 in each input row adds to each block of `blockK`
/// rows of a constant 2-D quantized weight's product (IntegerProducts.cpp).
std::optional<std::vector<std::vector<float>>>
zeroPointTerms(mlir::Value qw, llvm::ArrayRef<double> scales,
               llvm::ArrayRef<int32_t> zps, int64_t blockK);

/// `r - zeros * terms` (zeroPointTerms).
mlir::Value subtractZeroPoints(mlir::PatternRewriter &rw, mlir::Location loc,
                               mlir::Value r, mlir::Value zeros,
                               llvm::ArrayRef<float> terms);

/// Conv / Gemm / MatMul with a quantized result: integer product and
/// requantization (IntegerProducts.cpp).
void populateLinearToIntegerPatterns(mlir::RewritePatternSet &patterns);
/// Conv / Gemm / MatMul with a float result, including inputs quantized at
/// run time per row or per group (DynamicLinear.cpp).
void populateFloatResultLinearPatterns(mlir::RewritePatternSet &patterns,
                                       mlir::PatternBenefit benefit);
/// Add, GlobalAveragePool, Concat and layout ops on integers
/// (IntegerChains.cpp).
void populateIntegerChainPatterns(mlir::RewritePatternSet &patterns);
/// quantize(dequantize(x)) to other parameters: qc.requantize
/// (IntegerChains.cpp).
void populateRequantizePatterns(mlir::RewritePatternSet &patterns,
                                mlir::PatternBenefit benefit);
/// Block-quantized constant weights no integer op took, folded to floats.
void populateBlockedWeightPatterns(mlir::RewritePatternSet &patterns);

} // namespace qc::integer

#endif
