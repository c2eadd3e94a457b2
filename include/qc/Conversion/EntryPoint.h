//===- EntryPoint.h - the native entry point of a compiled model -*- C++
//-*-===//
//
// A compiled model exposes one function, `qc_run(void **buffers)`: the
// inputs' data pointers, then the outputs', each a dense row-major buffer of
// the static shape the model was compiled for. The signature (names, element
// types, shapes) comes from the imported graph function.
//
//===----------------------------------------------------------------------===//
#ifndef QC_CONVERSION_ENTRYPOINT_H
#define QC_CONVERSION_ENTRYPOINT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include <string>
#include <vector>

namespace qc {

/// A memref of static identity-layout `type` over the dense buffer at the
/// !llvm.ptr `ptr`: an LLVM memref descriptor cast to the memref type, which
/// finalize-memref-to-llvm folds away.
mlir::Value wrapBuffer(mlir::OpBuilder &b, mlir::Location loc, mlir::Value ptr,
                       mlir::MemRefType type);

/// ONNX TensorProto data type codes, the dtype numbering of every buffer the
/// runtime and the generated C API exchange.
enum class DType : int32_t {
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  UInt32 = 12,
  UInt64 = 13,
  BFloat16 = 16,
};

/// The dtype of an element type; false for types a buffer cannot hold.
bool dtypeOf(mlir::Type elementType, DType &dtype);
/// Bytes per element (bool takes one).
int64_t dtypeSize(DType dtype);
/// "float32", "uint8", ... (numpy's names).
const char *dtypeName(DType dtype);

struct TensorSpec {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  int64_t numElements() const;
};

struct ModelSignature {
  std::vector<TensorSpec> inputs, outputs;
};

/// Reads the signature of an imported graph function: names from
/// qc.input_names / qc.output_names, static shapes required. Emits an error
/// at the function naming the offending input or output otherwise.
llvm::FailureOr<ModelSignature> getModelSignature(mlir::func::FuncOp graph);

/// The name of the entry point qc-create-entry-point builds.
inline constexpr const char *kEntryPointName = "qc_run";

} // namespace qc

#endif // QC_CONVERSION_ENTRYPOINT_H
