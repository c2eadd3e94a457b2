//===- Common.h - helpers shared by the qc-to-linalg patterns --*- C++ -*-===//
#ifndef QC_LIB_CONVERSION_QCTOLINALG_COMMON_H
#define QC_LIB_CONVERSION_QCTOLINALG_COMMON_H

#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include <optional>

namespace qc::lowering {

inline mlir::RankedTensorType tensorType(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}
/// An ONNX axis, negative counting from the end, as 0 .. rank-1.
inline int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}
/// An integer scalar read from a tensor as an index, negative values
/// counting from `dim`.
mlir::Value wrapIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value i,
                      int64_t dim);
/// x + y, x * y, max, min of two scalars: float ops, or signed integer ones.
mlir::Value addOf(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                  mlir::Value y);
mlir::Value mulOf(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                  mlir::Value y);
mlir::Value maxOf(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                  mlir::Value y);
mlir::Value minOf(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                  mlir::Value y);
/// A float constant of type `t`.
mlir::Value fconst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type t,
                   double v);
/// An index constant.
mlir::Value cindex(mlir::OpBuilder &b, mlir::Location loc, int64_t v);
/// A float attribute's value, or `dflt`.
float f32Attr(mlir::Operation *op, llvm::StringRef name, float dflt);
bool isFloat(mlir::Value v);

/// The indexing map reading `operand` in an elementwise op over `result`
/// (numpy broadcasting).
mlir::AffineMap broadcastMap(mlir::RankedTensorType operand,
                             mlir::RankedTensorType result);
/// A zero-filled tensor.
mlir::Value zeros(mlir::OpBuilder &b, mlir::Location loc,
                  mlir::RankedTensorType type);
/// A tensor of `type` filled with `value`.
mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc,
                   mlir::RankedTensorType type, mlir::Value value);
/// One parallel generic over `resultTy`, inputs broadcast; a dynamic result
/// dim is sized from an input's dynamic dim.
mlir::Value broadcastGeneric(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType resultTy,
    mlir::ValueRange ins,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange)>
        body);
/// out = scale * acc + addendScale * addend.
mlir::Value scaleAndAdd(mlir::OpBuilder &b, mlir::Location loc, mlir::Value acc,
                        double scale, mlir::Value addend, double addendScale);

/// One parallel generic over `resultTy` with no inputs: `body` gets the
/// result's index per dim (linalg.index) and reads what it needs with
/// tensor.extract. The universal form of gathers, slices and pads.
/// `dynamicSizes` gives the result's dynamic dims, in order.
mlir::Value
indexGeneric(mlir::OpBuilder &b, mlir::Location loc,
             mlir::RankedTensorType resultTy,
             llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                            llvm::ArrayRef<mlir::Value>)>
                 body,
             mlir::ValueRange dynamicSizes = {});

/// Converts a scalar between element types with ONNX Cast semantics
/// (signless integers are signed; i1 is bool).
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          mlir::Type to, bool srcUnsigned = false,
                          bool dstUnsigned = false);

/// Whether operand `i` (i < #operands) or result i - #operands of `op` held
/// unsigned integers before makeSignless (the qc.unsigned flags).
bool wasUnsigned(mlir::Operation *op, unsigned i);

/// Makes every unsigned (and explicitly signed) integer type under `root`
/// signless, in place (tensor, memref and scalar types, function types,
/// constants), recording on each qc op which operands and results were
/// unsigned (qc.unsigned). The lowering patterns read those flags.
void makeSignless(mlir::Operation *root);

/// The integer values of a constant tensor operand.
std::optional<llvm::SmallVector<int64_t>> constantInts(mlir::Value v);

/// True when every operand and result is a statically shaped ranked tensor
/// of float, index or signless integer elements.
/// Ops with unsigned operands or results qualify only with `unsignedOk`
/// (their pattern handles the flags or does not depend on signedness).
bool lowerableTypes(mlir::Operation *op, bool unsignedOk = false);

/// A statically shaped tensor of floats.
bool staticFloat(mlir::Value v);
/// Static float operands, or static i32 ones throughout (the int32
/// accumulation of the ONNX integer ops, see Quantization.cpp).
bool staticFloatOrI32(mlir::ValueRange values); // or all i64

/// A tensor.reshape of `v` to `type` (same element count, row-major).
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                      mlir::RankedTensorType type);

/// The patterns of each op family, one file each.
void populateElementwisePatterns(mlir::RewritePatternSet &patterns);
void populateLinearPatterns(mlir::RewritePatternSet &patterns);
void populateNormalizationPatterns(mlir::RewritePatternSet &patterns);
void populateIndexingPatterns(mlir::RewritePatternSet &patterns);
void populateHadamardPatterns(mlir::RewritePatternSet &patterns);
void populateDynamicQuantizationPatterns(mlir::RewritePatternSet &patterns);
void populateReductionPatterns(mlir::RewritePatternSet &patterns);
void populateWindowPatterns(mlir::RewritePatternSet &patterns);
void populateControlPatterns(mlir::RewritePatternSet &patterns);
void populateQuantizationPatterns(mlir::RewritePatternSet &patterns);
void populateScatterPatterns(mlir::RewritePatternSet &patterns);
void populateIntegerOpPatterns(mlir::RewritePatternSet &patterns);
void populateMinifloatPatterns(mlir::RewritePatternSet &patterns);

/// The `bits`-bit code at `index` (an index value) of packed bytes (1-D i8,
/// least significant bit first), as an i32.
mlir::Value packedCode(mlir::OpBuilder &b, mlir::Location l, mlir::Value bytes,
                       mlir::Value index, unsigned bits);
/// A constant f32 tensor of every code's value in `f`.
mlir::Value minifloatTable(mlir::OpBuilder &b, mlir::Location l,
                           qc::minifloat::Format f);
/// The value of `code` (an integer whose low `bits` bits are the code) in
/// `table` (minifloatTable).
mlir::Value minifloatValue(mlir::OpBuilder &b, mlir::Location l,
                           mlir::Value table, mlir::Value code, unsigned bits);

/// Replaces qc.quantize / qc.dequantize by generics on the storage integers
/// and removes qc.storage_cast (after makeSignless); an error on a quantized
/// type it does not handle (per block).
mlir::LogicalResult lowerQuantizedTypes(mlir::Operation *root);

} // namespace qc::lowering

#endif
