//===- HostTensor.h - dense tensors in host memory and their files -*- C++
//-*-===//
#ifndef QC_RUNTIME_HOSTTENSOR_H
#define QC_RUNTIME_HOSTTENSOR_H

#include "qc/Conversion/EntryPoint.h"

#include "llvm/Support/Error.h"
#include <string>
#include <vector>

namespace qc {

/// A dense row-major tensor: what quant-run reads from files, hands to a
/// compiled model and compares.
struct HostTensor {
  std::string name;
  DType dtype = DType::Float;
  std::vector<int64_t> shape;
  std::vector<char> data; // 64-byte aligned copies are made by the runner

  int64_t numElements() const;
  /// Element `i` as a double (exact for every integer up to 2^53).
  double elementAsDouble(int64_t i) const;
};

/// "[2, 3, 4]"
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// Reads a .npy array (any numpy dtype the runtime knows, C order).
llvm::Expected<HostTensor> readNpy(llvm::StringRef path);
/// Reads every array of a .npz archive (stored or deflated), named by key.
llvm::Expected<std::vector<HostTensor>> readNpz(llvm::StringRef path);
/// The same from the file's bytes (`what` names it in errors; the fuzz
/// targets call these).
llvm::Expected<HostTensor> parseNpy(llvm::StringRef bytes,
                                    llvm::StringRef what);
llvm::Expected<std::vector<HostTensor>> parseNpz(llvm::StringRef bytes,
                                                 llvm::StringRef what);
/// Reads an ONNX TensorProto .pb file; the name is the proto's.
llvm::Expected<HostTensor> readTensorProto(llvm::StringRef path);
/// Reads a tensor file by extension: .npy, .pb (a .npz must hold one array).
llvm::Expected<HostTensor> readTensorFile(llvm::StringRef path);
/// Writes `t` as a version 1.0 .npy file.
llvm::Error writeNpy(llvm::StringRef path, const HostTensor &t);

/// numpy.allclose semantics per element, NaN matching NaN; integers and bools
/// exact. Returns a one-line reason on mismatch.
llvm::Error compareTensors(const HostTensor &actual, const HostTensor &expected,
                           double rtol, double atol);

} // namespace qc

#endif // QC_RUNTIME_HOSTTENSOR_H
