//===- Model.h - a compiled model, loaded and run ---------------*- C++ -*-===//
//
// What compiled code links against and how it is run: the C structs of the
// generated API and qc::Model, a model JIT-compiled by the CPU target
// (qc/Target/CPU/Target.h) or loaded from a shared library it wrote.
//
//===----------------------------------------------------------------------===//
#ifndef QC_RUNTIME_MODEL_H
#define QC_RUNTIME_MODEL_H

#include "qc/Conversion/EntryPoint.h"
#include "qc/Target/CPU/TargetOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include <array>
#include <memory>
#include <string>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace qc {

/// The C structs of the generated API (layout shared with the header).
struct QCTensor {
  void *data;
  const int64_t *shape;
  int32_t rank;
  int32_t dtype;
};
struct QCTensorInfo {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
};

/// A runnable compiled model: JIT-compiled or loaded from a shared library.
class Model {
public:
  /// JIT-compiles `lowered` (qc::cpu::lowerToLLVM's output, with signature
  /// `sig`) for options.cpu at options.optLevel; with options.threads > 1
  /// the OpenMP runtime is loaded into the process.
  static llvm::Expected<std::unique_ptr<Model>>
  jit(mlir::ModuleOp lowered, const ModelSignature &sig,
      const cpu::TargetOptions &options);
  /// dlopen()s a shared library written by the CPU target with `prefix`.
  static llvm::Expected<std::unique_ptr<Model>>
  load(llvm::StringRef sharedLibrary, llvm::StringRef prefix);
  ~Model();

  const ModelSignature &signature() const { return sig; }
  /// Calls P_run; returns its status (0 on success; -1: a GPU model's CUDA
  /// error, see lastError()).
  int32_t run(const QCTensor *inputs, QCTensor *outputs) const;
  /// Whether the library was built for the cuda target (it has P_time).
  bool isCUDA() const { return timeFn != nullptr; }
  /// A GPU model's last CUDA error ("" when none, or for a CPU model).
  std::string lastError() const;
  /// A GPU model's P_time: inputs uploaded once, `warmup` untimed runs,
  /// `repeat` runs timed by CUDA events; {median, min, mean} ms.
  llvm::Expected<std::array<float, 3>> time(const QCTensor *inputs,
                                            QCTensor *outputs, int32_t warmup,
                                            int32_t repeat) const;
  /// Sets the OpenMP thread count of a model compiled for threads (JIT with
  /// TargetOptions::threads > 1, or quant-compile --threads); an error for
  /// a single-threaded one.
  llvm::Error setThreads(unsigned threads) const;

private:
  Model() = default;
  ModelSignature sig;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void *library = nullptr;
  bool openMP = false;
  int32_t (*runFn)(const QCTensor *, QCTensor *) = nullptr;
  int32_t (*timeFn)(const QCTensor *, QCTensor *, int32_t, int32_t,
                    float *) = nullptr;
  const char *(*lastErrorFn)() = nullptr;
};

} // namespace qc

#endif // QC_RUNTIME_MODEL_H
