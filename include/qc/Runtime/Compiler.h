//===- Compiler.h - compile imported models to native code -------*- C++ -*-===//
//
// The driver behind quant-compile and quant-run: lowers an imported module to
// the LLVM dialect (qc-compile-model), adds the model's C API in LLVM IR,
// optimizes for the host CPU, and either JIT-compiles it (ExecutionEngine) or
// writes an object / shared library and its C header.
//
// The C API of a model compiled with prefix P (see generateHeader):
//   int32_t P_run(const qc_tensor *inputs, qc_tensor *outputs);
//   int32_t P_num_inputs(void), P_num_outputs(void);
//   const qc_tensor_info *P_input_info(int32_t), *P_output_info(int32_t);
//
//===----------------------------------------------------------------------===//
#ifndef QC_RUNTIME_COMPILER_H
#define QC_RUNTIME_COMPILER_H

#include "qc/Conversion/EntryPoint.h"
#include "qc/Target/ONNX/Import.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"
#include <cstdlib>
#include <memory>

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

struct CompileOptions {
  /// Target CPU: "native" (the host, with its features) or an LLVM CPU name
  /// such as "x86-64-v4" or "sapphirerapids".
  std::string cpu = "native";
  unsigned optLevel = 3;
  /// Prefix of the C API's symbols.
  std::string prefix = "model";
  /// Threads the model runs on (OpenMP worksharing when above 1).
  unsigned threads = 1;
};

/// Reads a model: an ONNX file (imported with `options`) or an .mlir module
/// of qc graph ops. Diagnostics go to the context; null on failure.
mlir::OwningOpRef<mlir::ModuleOp> loadModel(llvm::StringRef path,
                                            const ONNXImportOptions &options,
                                            mlir::MLIRContext *context);

/// Registers everything a model module may contain with `context`.
void registerModelDialects(mlir::MLIRContext &context);

/// Lowers the qc graph in @`graphFunction` of `module` to the LLVM dialect
/// around the qc_run entry point and returns the model's signature. Ops the
/// lowering does not cover are reported (with their location) as errors.
/// `int8Kernels` ("vnni", "generic" or "none", see int8KernelVariant)
/// picks the kernels qc.conv_int / qc.matmul_int call, `f32Kernels`
/// ("avx512" or "none", see f32KernelVariant) those of float conv / matmul.
llvm::FailureOr<ModelSignature> lowerModel(mlir::ModuleOp module,
                                           llvm::StringRef graphFunction,
                                           unsigned threads = 1,
                                           llvm::StringRef int8Kernels = "none",
                                           llvm::StringRef f32Kernels = "none");

/// The int8 kernels for `cpu` ("native" or an LLVM CPU name): `choice` is
/// auto (vnni where the CPU has AVX-512 VNNI, else generic), vnni (an error
/// on a CPU without it), generic or none (linalg loops).
llvm::Expected<std::string> int8KernelVariant(llvm::StringRef choice, llvm::StringRef cpu);

/// The float kernels for `cpu`: `choice` auto (avx512 where the CPU has
/// AVX-512F, else none: the linalg lowering), avx512 (an error without it)
/// or none.
llvm::Expected<std::string> f32KernelVariant(llvm::StringRef choice, llvm::StringRef cpu);

/// The OpenMP runtime (libomp) multi-threaded models call: its path, or an
/// error saying what to install.
llvm::Expected<std::string> openMPRuntime();

/// A target machine for `cpu` on the host's triple.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(llvm::StringRef cpu, bool jit);

/// Translates a lowered module to LLVM IR and adds the C API.
std::unique_ptr<llvm::Module>
translateModel(mlir::ModuleOp lowered, const ModelSignature &sig,
               llvm::StringRef prefix, llvm::LLVMContext &llvmContext);

/// Runs LLVM's optimization pipeline at `optLevel` for `tm`.
llvm::Error optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                           unsigned optLevel);

/// Writes `module` as an object file.
llvm::Error emitObject(llvm::Module &module, llvm::TargetMachine &tm,
                       llvm::StringRef path);

/// Links an object into a shared library with the system C compiler driver
/// ($CC, else cc).
llvm::Error linkSharedLibrary(llvm::StringRef object, llvm::StringRef output,
                              bool openMP = false);

/// The C header declaring the API of a model compiled with `prefix`.
std::string generateHeader(const ModelSignature &sig, llvm::StringRef prefix);

/// A C identifier made from a file name: "libmodel.so" -> "model".
std::string prefixFromPath(llvm::StringRef path);

/// A runnable compiled model: JIT-compiled or loaded from a shared library.
class Model {
public:
  static llvm::Expected<std::unique_ptr<Model>>
  jit(mlir::ModuleOp lowered, const ModelSignature &sig,
      const CompileOptions &options);
  static llvm::Expected<std::unique_ptr<Model>>
  load(llvm::StringRef sharedLibrary, llvm::StringRef prefix);
  ~Model();

  const ModelSignature &signature() const { return sig; }
  /// Calls P_run; returns its status (0 on success).
  int32_t run(const QCTensor *inputs, QCTensor *outputs) const;
  /// Sets the OpenMP thread count of a model compiled for threads (JIT with
  /// CompileOptions::threads > 1, or quant-compile --threads); an error for
  /// a single-threaded one.
  llvm::Error setThreads(unsigned threads) const;

private:
  Model() = default;
  ModelSignature sig;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void *library = nullptr;
  bool openMP = false;
  int32_t (*runFn)(const QCTensor *, QCTensor *) = nullptr;
};

} // namespace qc

#endif // QC_RUNTIME_COMPILER_H
