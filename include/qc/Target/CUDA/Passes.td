//===- Passes.td - the cuda target's passes ----------------*- tablegen -*-===//
#ifndef QC_TARGET_CUDA_PASSES_TD
#define QC_TARGET_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def MapToGPU : Pass<"qc-map-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Moves the bufferized host functions' work onto the GPU";
  let description = [{
    After bufferization and `convert-linalg-to-parallel-loops`, every host
    function (outside `gpu.module`s) becomes host code that only allocates,
    launches and frees:

    - each top-level `scf.parallel` becomes a `gpu.launch` of
      `block-size`-thread blocks, one thread per iteration (the iteration
      space flattened, then delinearized in the kernel, the last dimension
      fastest so neighbouring threads touch neighbouring elements);
    - every other op that reads or writes memory (a sequential `scf.for`
      nest of a full reduction, a scalar `memref.load`/`store`, a strided
      copy) is run by a single-thread `gpu.launch`, consecutive ones in one;
    - `memref.alloc`/`dealloc` become `gpu.alloc`/`gpu.dealloc`, a
      contiguous `memref.copy` a `gpu.memcpy`;
    - `memref.get_global` (the weights) becomes the global's device copy,
      uploaded on first use by the runtime's `qcCudaConstant` and kept for
      the process.

    What cannot move (an `scf.parallel` with reductions, a host value computed
    from device memory, a `memref.alloca`) is an error at its location.
    `gpu-kernel-outlining` then makes kernels of the launches.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "256",
           "Threads per block of the mapped parallel loops">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::LLVM::LLVMDialect",
                           "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"];
}

#endif // QC_TARGET_CUDA_PASSES_TD
