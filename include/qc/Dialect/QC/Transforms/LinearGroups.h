//===- LinearGroups.h - activations read only by linear layers --*- C++ -*-===//
//
// SmoothQuant and Hadamard rotation rewrite an activation together with every
// linear layer that reads it and with the op that produces it, so that the
// float function is unchanged. This header finds those groups and gives the
// weight arithmetic both rewrites (and the driver's alpha search) share.
//
//===----------------------------------------------------------------------===//
#ifndef QC_DIALECT_QC_TRANSFORMS_LINEARGROUPS_H
#define QC_DIALECT_QC_TRANSFORMS_LINEARGROUPS_H

#include "qc/Dialect/QC/IR/QCOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <vector>

namespace qc {

/// The per-layer SmoothQuant alpha on a qc.observe (set by the driver's
/// search, read by smooth-activations).
inline constexpr llvm::StringLiteral kSmoothAlphaAttr =
    QCDialect::kSmoothAlphaAttrName;

/// A linear layer y = x W + b reading an activation x of K channels:
/// MatMul(x, W) with a constant 2-D W (K x N), its bias the constant of an
/// Add that is the MatMul's only user; or Gemm(x, B) with transA = 0 and a
/// constant B (K x N, or N x K with transB), its bias C.
struct Linear {
  mlir::Operation *op = nullptr;
  AddOp biasAdd; // MatMul only
  int64_t k = 0, n = 0;

  /// The output of the layer including its bias.
  mlir::Value output();
  /// W as a K x N row-major matrix.
  std::vector<double> weight();
  /// Replaces W (K x N row-major), in the op's own layout.
  void setWeight(llvm::ArrayRef<double> w);
  /// The bias as N values (zeros without one; none when it is not one value
  /// per output channel or a scalar).
  std::optional<std::vector<double>> bias();
  /// Replaces the bias (N values), adding an Add or a Gemm C without one.
  void setBias(llvm::ArrayRef<double> b);
};

/// `op` as a Linear layer reading its operand 0, if it is one.
std::optional<Linear> asLinear(mlir::Operation *op);

/// How the producer of an activation can absorb a per-channel factor or a
/// rotation of its output.
enum class ProducerKind {
  LayerNorm,  // LayerNormalization over the last axis, constant Scale (and B)
  ScaleShift, // Mul(z, gamma) or Add(Mul(z, gamma), beta), constant gamma/beta
              // of one value per channel (the tail of a decomposed LayerNorm)
  Linear,     // a Linear (above) whose output is only this activation
  Other,
};

/// An activation, the linear layers that are all of its readers, and its
/// producer.
struct ActivationGroup {
  mlir::Value value;  // the producer's result
  ObserveOp observer; // between the value and its readers, if any
  llvm::SmallVector<Linear> consumers;
  int64_t channels = 0;
  ProducerKind kind = ProducerKind::Other;
  mlir::Operation *norm = nullptr; // LayerNorm
  MulOp mul;                       // ScaleShift
  AddOp shift;                     // ScaleShift with beta
  Linear producer;                 // Linear

  /// gamma and beta of a LayerNorm / ScaleShift producer (beta zeros
  /// without one).
  std::vector<double> gamma(), beta();
  void setGammaBeta(llvm::ArrayRef<double> gamma, llvm::ArrayRef<double> beta);
  /// Every reader of the activation: the observer's users, or the value's.
  mlir::Value consumed() { return observer ? observer.getOutput() : value; }
};

/// The groups of the ops directly in the body of `fn` (or, for another op,
/// of every function nested in it): each float activation with
/// a static last dim whose readers (through one qc.observe) are all Linear
/// layers reading it as their input, in program order.
llvm::SmallVector<ActivationGroup> findActivationGroups(mlir::Operation *fn);

/// SmoothQuant's factors s_j = max|X_j|^alpha / max|W_j|^(1 - alpha),
/// clamped to [1e-4, 1e4]; 1 where a channel or its weights are all zero.
std::vector<double> smoothingFactors(llvm::ArrayRef<double> actAbsMax,
                                     llvm::ArrayRef<double> weightAbsMax,
                                     double alpha);

/// max_n |W[j, n]| over every consumer of the group, per input channel j.
std::vector<double> weightAbsMax(ActivationGroup &g);

/// The orthogonal T = F (x) H / sqrt(p) of qc.hadamard for n = m p, with
/// random signs D: the rewrite computes x D T. For n = 2^k: m = 1, no F.
/// For n = c 2^k (c odd) with 4c - 1 prime and k >= 2: m = 4c, F Paley's
/// Hadamard matrix of order 4c over sqrt(4c), so T is a Hadamard matrix.
/// Otherwise m = c, p = 2^k and F a random m x m orthogonal matrix.
struct Rotation {
  int64_t n = 0, m = 1, p = 1;
  std::vector<double> factor; // m x m row-major (empty for m = 1)
  std::vector<double> signs;  // n entries of +-1
  /// x := x T for a row x of n values (no signs).
  void apply(double *x) const;
};
Rotation makeRotation(int64_t n, uint64_t seed);

/// A per-channel constant (one value per channel of the last axis, shape
/// [K] or [1, ..., 1, K]) of `v`: its values.
std::optional<std::vector<double>> channelConstant(mlir::Value v, int64_t k);

/// A constant like `like` (same type) holding `values` as a blob.
mlir::Value constantLike(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Type like, llvm::ArrayRef<double> values,
                         llvm::StringRef name);

} // namespace qc

#endif
