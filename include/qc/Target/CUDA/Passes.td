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

def FormInt8Gemm : Pass<"qc-cuda-form-int8-gemm"> {
  let summary = "Rewrites integer matmuls and convolutions as i8 x i8^T GEMMs "
                "for the tensor cores";
  let description = [{
    Runs before `convert-qc-to-linalg`. Each `qc.matmul_int` whose weights
    are a constant 2-d tensor (the activations 2-d or batched, i8 or u8)
    and each `qc.conv_int` (2-d, group 1, constant weights) becomes

    - a `linalg.matmul` of `A[M, K'] i8` by `W[N, K'] i8` with the
      transposed indexing map (`W` K-contiguous, the layout of `mma.sync`'s
      col operand) into an i32 zero fill, `K'` being `K` rounded up to 16
      with zero columns;
    - one `linalg.generic` adding `corr[n] = bias[n] - a_zp * sum_k W[n, k]`,
      computed at compile time (a runtime bias is added there too).

    The weights minus their zero points are transposed (and padded) at
    compile time; u8 activations become i8 by `a - 128` (`xor 0x80`) with
    their zero point shifted alike. A convolution gathers its im2col matrix
    `[N*OH*OW, K']` with a `linalg.generic` (padding reads the input zero
    point) and multiplies `W[F, K']` by it, so that for one image the
    GEMM's `[F, OH*OW]` result is already NCHW. All arithmetic wraps in
    i32 like `convert-qc-to-linalg`'s lowering: the integers are identical.
    Ops whose shifted weights do not fit in i8, or that are not of these
    forms, are left for `convert-qc-to-linalg`.

    W4 (option `w4`, on by default): when the shifted weights of a
    `qc.matmul_int` all lie in [-8, 7] (the 4-bit recipes' weights, stored
    in i8), `K'` is rounded up to 32 and the constant is `W` packed two
    values a byte, `[N, K'/2] i8` (`qc_gemm_weights_w4`): in each 32-wide
    group `g` of K, byte `16g + j` holds `k = 32g + j` in its low nibble
    and `k = 32g + 16 + j` in its high one, two's complement. The
    matmul's `W` operand is then the result of a `linalg.generic` marked
    with the unit attribute `qc.w4_unpack` that unpacks it (sign-extending
    the nibbles): correct wherever it runs, and the mark by which
    `qc-cuda-int8-gemm-to-mma` reads the packed constant instead.
  }];
  let options = [
    Option<"w4", "w4", "bool", "true",
           "Pack matmul weights that fit in 4 bits two a byte (W4A8)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def Int8GemmToMMA : Pass<"qc-cuda-int8-gemm-to-mma", "::mlir::ModuleOp"> {
  let summary = "Runs bufferized i8 GEMMs on the int8 tensor cores";
  let description = [{
    Runs after bufferization, before `convert-linalg-to-parallel-loops`.
    A `linalg.matmul` of `A[M, K] i8` by `B[N, K] i8` (transposed map, as
    `qc-cuda-form-int8-gemm` makes them; static shapes, identity layouts,
    K a multiple of 16) into `C[M, N] i32` becomes a `gpu.launch`; for
    M > 64, of ceil(N/128) x ceil(M/128) blocks of 256 threads:

    - each block computes a 128x128 tile of C, each of its 8 warps (2 x 4)
      64x32 of it as 4x4 `nvvm.mma.sync` m16n8k32 s8.s8.s32 accumulators
      (wrapping, not saturating: the integers of the linalg lowering);
    - K advances by 64 through a 3-stage ring of shared-memory tiles
      (48 KiB) filled by `nvgpu.device_async_copy` (cp.async, 16 bytes)
      two steps ahead of the `nvgpu.ldmatrix` reads; rows past M or N and
      columns past K are zero-filled, so the shapes need not be multiples
      of the tile; 16-byte chunks are xor-swizzled against bank conflicts;
    - small M takes another tiling (chosen at compile time by M, struct
      TileConfig in Int8GemmToMMA.cpp): M <= 16 / 32 / 64 get 16x32 /
      32x32 / 64x32 tiles of 2 / 4 / 4 warps, K steps of 256 / 128 / 128
      and 4- to 6-stage rings (ceil(N/32) blocks: 128 for N = 4096);
    - W4: when B is written only by a `qc.w4_unpack` generic from a packed
      `[N, K/2]` constant (see `qc-cuda-form-int8-gemm`), the kernel copies
      the packed tiles (half the bytes) and expands the nibbles to s8 in
      registers after ldmatrix; the generic and B's buffer are removed;
    - the epilogue stores each accumulator in range. When C (zero-filled)
      has exactly one other reader, an elementwise `linalg.generic` later
      in the block, that generic's body (zero-point correction, bias,
      requantization) runs in the epilogue instead and C is never stored.

    With option `wgmma` (the pipelines set it for `chip=sm_90a`), GEMMs
    with M > 64 and 8-bit B run on the Hopper warpgroup instructions
    instead: `nvvm.wgmma.mma_async` m64nNk32 s8.s8.s32 (N = 64, 128 or
    256) with both operands read by the tensor cores from shared memory
    through matrix descriptors (128-byte swizzle, K-major), one or two
    warpgroups (128 or 256 threads) per block owning a 64- or 128-row
    tile, K in 128-byte steps through a 4-stage ring of dynamic shared
    memory (up to 193 KiB) filled by cp.async; the tile is the largest of
    128x256, 128x128, 128x64, 64x128, 64x64 that gives at least 264
    blocks (two waves on an H200's 132 SMs). Same zero fill, wrapping sums and fused
    epilogue as above.
  }];
  let options = [
    Option<"wgmma", "wgmma", "bool", "false",
           "Run M > 64 GEMMs on wgmma (sm_90a only)">,
    Option<"fp8PromoteSteps", "fp8-promote-steps", "int64_t", "0",
           "FP8 wgmma GEMMs: add the tensor cores' accumulators into f32 "
           "sums every N K steps of 128 (0: accumulate in the tensor cores "
           "throughout; their FP8 sums keep fewer bits than f32)">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def TileFloatMatmul : Pass<"qc-cuda-tile-float-matmul", "::mlir::ModuleOp"> {
  let summary = "Runs bufferized matmuls as shared-memory tiled kernels";
  let description = [{
    Runs after `qc-cuda-int8-gemm-to-mma`, before
    `convert-linalg-to-parallel-loops` (which would make a thread per
    output reading its operands from global memory). `linalg.matmul` and
    `linalg.batch_matmul` are generalized; then a contraction generic
    `C[b, m, n] = body over k of (A[b, m, k], B[b, k, n] or B[k, n], C)`
    with f32 or i32 accumulators, static shapes and identity layouts (the
    float products of a model: attention's activation x activation
    products in the int8 builds, a dequantization of i8 operands fused into
    the body included, and every matmul of a float build) becomes a
    `gpu.launch` of ceil(N/64) x ceil(M/64) x B blocks of 256 threads: each
    block stages 64x16 of A and 16x64 of B per step in shared memory (A
    transposed, padded against bank conflicts), each thread accumulates a
    4x4 register tile (rows ty + 16i, columns tx + 16j). Every output is
    C's value with the body applied for k in increasing order: the sums the
    loop path computes, in its order. Rows and columns past the edges are
    zero-filled and not stored; products past a K that is not a multiple
    of 16 are skipped. Products smaller than 64x64 or with K < 16 are left
    to the loop path.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // QC_TARGET_CUDA_PASSES_TD
