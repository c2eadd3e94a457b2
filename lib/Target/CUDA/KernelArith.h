//===- KernelArith.h - index arithmetic for the kernel builders -*- C++ -*-===//
//
// The few index operations the hand-built kernels (Int8GemmToMMA.cpp,
// TileFloatMatmul.cpp) spell out again and again, on a builder and a
// location.
//
//===----------------------------------------------------------------------===//
#ifndef QC_LIB_TARGET_CUDA_KERNELARITH_H
#define QC_LIB_TARGET_CUDA_KERNELARITH_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace qc::cuda {

class KernelArith {
public:
  KernelArith(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

protected:
  using Value = mlir::Value;
  static int64_t ceilDiv(int64_t x, int64_t y) { return (x + y - 1) / y; }
  Value cst(int64_t v) {
    return mlir::arith::ConstantIndexOp::create(b, loc, v);
  }
  Value add(Value x, Value y) {
    return mlir::arith::AddIOp::create(b, loc, x, y);
  }
  Value add(Value x, int64_t y) { return y ? add(x, cst(y)) : x; }
  Value mul(Value x, int64_t y) {
    return mlir::arith::MulIOp::create(b, loc, x, cst(y));
  }
  Value divu(Value x, int64_t y) {
    return mlir::arith::DivUIOp::create(b, loc, x, cst(y));
  }
  Value remu(Value x, int64_t y) {
    return mlir::arith::RemUIOp::create(b, loc, x, cst(y));
  }
  /// x < y, unsigned.
  Value ult(Value x, int64_t y) {
    return mlir::arith::CmpIOp::create(
        b, loc, mlir::arith::CmpIPredicate::ult, x, cst(y));
  }
  Value select(Value c, Value x, Value y) {
    return mlir::arith::SelectOp::create(b, loc, c, x, y);
  }

  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace qc::cuda

#endif // QC_LIB_TARGET_CUDA_KERNELARITH_H
