/*===- CudaRuntime.c - what a model compiled for --target cuda calls -------===*
 *
 * Compiled to LLVM bitcode at build time and linked into every model built
 * for the cuda target (like the CPU microkernels), so a model library needs
 * nothing at run time but the C library and the NVIDIA driver, which it
 * loads with dlopen on first use: a machine without a GPU builds and loads
 * models, and running one there is an error, not a crash.
 *
 * Two interfaces:
 *  - mgpu*: the functions MLIR's gpu-to-llvm lowering and the gpu.binary
 *    translation call (module load, kernel launch, streams, device memory),
 *    with their upstream signatures. They never fail loudly: the first error
 *    is recorded (naming the driver call and, for launches, the kernel) and
 *    everything after it is skipped until the run ends.
 *  - qcCuda*: what the model's C API (P_run, P_run_device, P_time,
 *    P_last_error) and the weights' upload (qcCudaConstant) call.
 *
 * No libc++ and no exceptions: plain C over the driver API, whose few types
 * are declared here (the ABI of libcuda.so.1, stable across CUDA versions).
 *===----------------------------------------------------------------------===*/
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef unsigned long long CUdeviceptr;

enum {
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
  CU_JIT_OPTIMIZATION_LEVEL = 7,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

/* The driver entry points used, resolved once (versioned names where the
 * driver exports several). */
#define QC_CUDA_FUNCTIONS(X)                                                   \
  X(cuInit, "cuInit", CUresult, (unsigned))                                    \
  X(cuDeviceGet, "cuDeviceGet", CUresult, (CUdevice *, int))                   \
  X(cuDeviceGetCount, "cuDeviceGetCount", CUresult, (int *))                   \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", CUresult,           \
    (CUcontext *, CUdevice))                                                   \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", CUresult, (CUcontext))                 \
  X(cuGetErrorName, "cuGetErrorName", CUresult, (CUresult, const char **))     \
  X(cuGetErrorString, "cuGetErrorString", CUresult, (CUresult, const char **)) \
  X(cuModuleLoadData, "cuModuleLoadData", CUresult, (CUmodule *, const void *)) \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx", CUresult,                        \
    (CUmodule *, const void *, unsigned, int *, void **))                      \
  X(cuModuleUnload, "cuModuleUnload", CUresult, (CUmodule))                    \
  X(cuModuleGetFunction, "cuModuleGetFunction", CUresult,                      \
    (CUfunction *, CUmodule, const char *))                                    \
  X(cuFuncSetAttribute, "cuFuncSetAttribute", CUresult,                        \
    (CUfunction, int, int))                                                    \
  X(cuLaunchKernel, "cuLaunchKernel", CUresult,                                \
    (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,  \
     unsigned, CUstream, void **, void **))                                    \
  X(cuStreamCreate, "cuStreamCreate", CUresult, (CUstream *, unsigned))        \
  X(cuStreamDestroy, "cuStreamDestroy_v2", CUresult, (CUstream))               \
  X(cuStreamSynchronize, "cuStreamSynchronize", CUresult, (CUstream))          \
  X(cuStreamWaitEvent, "cuStreamWaitEvent", CUresult,                          \
    (CUstream, CUevent, unsigned))                                             \
  X(cuEventCreate, "cuEventCreate", CUresult, (CUevent *, unsigned))           \
  X(cuEventDestroy, "cuEventDestroy_v2", CUresult, (CUevent))                  \
  X(cuEventRecord, "cuEventRecord", CUresult, (CUevent, CUstream))             \
  X(cuEventSynchronize, "cuEventSynchronize", CUresult, (CUevent))             \
  X(cuEventElapsedTime, "cuEventElapsedTime", CUresult,                        \
    (float *, CUevent, CUevent))                                               \
  X(cuMemAlloc, "cuMemAlloc_v2", CUresult, (CUdeviceptr *, size_t))            \
  X(cuMemFree, "cuMemFree_v2", CUresult, (CUdeviceptr))                        \
  X(cuMemAllocAsync, "cuMemAllocAsync", CUresult,                              \
    (CUdeviceptr *, size_t, CUstream))                                         \
  X(cuMemFreeAsync, "cuMemFreeAsync", CUresult, (CUdeviceptr, CUstream))       \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", CUresult,                                 \
    (CUdeviceptr, const void *, size_t))                                       \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", CUresult,                                 \
    (void *, CUdeviceptr, size_t))                                             \
  X(cuMemcpyAsync, "cuMemcpyAsync", CUresult,                                  \
    (CUdeviceptr, CUdeviceptr, size_t, CUstream))                              \
  X(cuMemsetD32Async, "cuMemsetD32Async", CUresult,                            \
    (CUdeviceptr, unsigned, size_t, CUstream))                                 \
  X(cuMemsetD16Async, "cuMemsetD16Async", CUresult,                            \
    (CUdeviceptr, unsigned short, size_t, CUstream))

#define QC_DECLARE(field, symbol, ret, args) ret(*field) args;
static struct {
  QC_CUDA_FUNCTIONS(QC_DECLARE)
} cu;
#undef QC_DECLARE

static pthread_once_t initOnce = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int initialized;           /* the driver and a context are ready */
static char initError[512];       /* why they are not */
static __thread char lastError[1024]; /* this thread's first error of a run */
static __thread int failed;

static void setError(const char *fmt, ...) {
  if (failed)
    return;
  failed = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(lastError, sizeof lastError, fmt, ap);
  va_end(ap);
}

static const char *errorName(CUresult r) {
  const char *name = 0;
  if (cu.cuGetErrorName && cu.cuGetErrorName(r, &name) == 0 && name)
    return name;
  return "CUDA_ERROR_UNKNOWN";
}

static void initialize(void) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(initError, sizeof initError,
             "no NVIDIA driver: cannot load libcuda.so.1 (%s)", dlerror());
    return;
  }
#define QC_RESOLVE(field, symbol, ret, args)                                   \
  *(void **)&cu.field = dlsym(lib, symbol);                                    \
  if (!cu.field) {                                                             \
    snprintf(initError, sizeof initError,                                      \
             "the NVIDIA driver's libcuda.so.1 lacks %s (driver too old)",     \
             symbol);                                                          \
    return;                                                                    \
  }
  QC_CUDA_FUNCTIONS(QC_RESOLVE)
#undef QC_RESOLVE
  CUresult r = cu.cuInit(0);
  int count = 0;
  if (r == 0)
    r = cu.cuDeviceGetCount(&count);
  if (r != 0 || count == 0) {
    snprintf(initError, sizeof initError, "no CUDA device: cuInit: %s",
             r ? errorName(r) : "no devices");
    return;
  }
  CUdevice dev;
  CUcontext ctx;
  if ((r = cu.cuDeviceGet(&dev, 0)) != 0 ||
      (r = cu.cuDevicePrimaryCtxRetain(&ctx, dev)) != 0 ||
      (r = cu.cuCtxSetCurrent(ctx)) != 0) {
    snprintf(initError, sizeof initError,
             "cannot create a CUDA context on device 0: %s", errorName(r));
    return;
  }
  initialized = 1;
}

/* Whether the driver is ready on this thread (the primary context made
 * current); records the reason when it is not. */
static int ready(void) {
  pthread_once(&initOnce, initialize);
  if (!initialized) {
    setError("%s", initError);
    return 0;
  }
  static __thread int current;
  if (!current) {
    CUdevice dev;
    CUcontext ctx;
    if (cu.cuDeviceGet(&dev, 0) || cu.cuDevicePrimaryCtxRetain(&ctx, dev) ||
        cu.cuCtxSetCurrent(ctx)) {
      setError("cannot make the CUDA context current");
      return 0;
    }
    current = 1;
  }
  return !failed;
}

#define QC_CHECK(call, what, ...)                                              \
  do {                                                                         \
    CUresult r_ = (call);                                                      \
    if (r_ != 0)                                                               \
      setError("%s failed: %s" what, #call, errorName(r_), ##__VA_ARGS__);     \
  } while (0)

/*===--- Modules and kernels (the gpu.binary translation's calls) ---------===*/

/* Kernel names by function handle, for errors and profiles, with the
 * dynamic shared memory limit set on each: every launch looks its kernel up
 * (an open-addressing table of handles, under `lock`). */
enum { kMaxKernels = 4096, kSlots = 2 * kMaxKernels };
static struct {
  CUfunction fn;
  int smem; /* CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES set */
  char name[96];
} kernels[kMaxKernels];
static int slots[kSlots]; /* kernel index + 1; 0: empty */
static int numKernels;
/* Modules loaded before a run (from global constructors): a load failure is
 * reported by the first run. */
static char moduleError[1024];

/* QC_CUDA_PROFILE=1: each launch timed by events on its stream, summed per
 * kernel over the process, printed to stderr at exit (the heaviest first):
 * a profile where no profiler can attach. */
static int profiling = -1;
static struct {
  double ms;
  long calls;
  unsigned grid[3], block[3];
} kernelTime[kMaxKernels];
static struct Pending {
  int kernel;
  CUevent start, stop;
} *pending;
static size_t numPending, capPending;

static unsigned slotOf(CUfunction fn) {
  uint64_t x = (uint64_t)(uintptr_t)fn * 0x9E3779B97F4A7C15ull;
  return (unsigned)(x >> 32) & (kSlots - 1);
}

/* The kernel's index, or -1; the caller holds `lock`. */
static int kernelIndex(CUfunction fn) {
  for (unsigned h = slotOf(fn);; h = (h + 1) & (kSlots - 1)) {
    int s = slots[h];
    if (!s)
      return -1;
    if (kernels[s - 1].fn == fn)
      return s - 1;
  }
}

/* Registers a kernel (when there is room); the caller holds `lock`. */
static void addKernel(CUfunction fn, const char *name) {
  if (kernelIndex(fn) >= 0 || numKernels == kMaxKernels)
    return;
  unsigned h = slotOf(fn);
  while (slots[h])
    h = (h + 1) & (kSlots - 1);
  kernels[numKernels].fn = fn;
  snprintf(kernels[numKernels].name, sizeof kernels[0].name, "%s", name);
  slots[h] = ++numKernels;
}

static const char *kernelName(CUfunction fn) {
  pthread_mutex_lock(&lock);
  int i = kernelIndex(fn);
  pthread_mutex_unlock(&lock);
  return i >= 0 ? kernels[i].name : "?";
}
static CUmodule loadModule(const void *data, int isPTX) {
  if (!ready()) {
    failed = 0; /* reported when the model runs */
    return 0;
  }
  CUmodule module = 0;
  char log[4096] = {0};
  unsigned opts[2] = {CU_JIT_ERROR_LOG_BUFFER,
                      CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *vals[2] = {log, (void *)(uintptr_t)sizeof log};
  CUresult r = cu.cuModuleLoadDataEx(&module, data, 2, (int *)opts, vals);
  if (r != 0) {
    snprintf(moduleError, sizeof moduleError,
             "cuModuleLoadDataEx (the model's %s) failed: %s%s%s",
             isPTX ? "PTX" : "cubin", errorName(r), log[0] ? ": " : "", log);
    return 0;
  }
  return module;
}

void *mgpuModuleLoad(void *data, size_t size) {
  (void)size;
  return loadModule(data, 0);
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  (void)optLevel;
  return loadModule(data, 1);
}

void mgpuModuleUnload(void *module) {
  if (module && initialized)
    cu.cuModuleUnload((CUmodule)module);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  if (!module) {
    setError("%s", moduleError[0] ? moduleError
                                   : (initError[0] ? initError
                                                   : "the model's GPU code "
                                                     "was not loaded"));
    return 0;
  }
  if (!ready())
    return 0;
  CUfunction fn = 0;
  QC_CHECK(cu.cuModuleGetFunction(&fn, (CUmodule)module, name),
           " (kernel %s)", name);
  if (fn) {
    pthread_mutex_lock(&lock);
    addKernel(fn, name);
    pthread_mutex_unlock(&lock);
  }
  return fn;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  (void)paramsCount;
  if (!function || !ready())
    return;
  CUfunction fn = (CUfunction)function;
  pthread_mutex_lock(&lock);
  int index = kernelIndex(fn);
  int raise = smem > 48 * 1024 && (index < 0 || kernels[index].smem < smem);
  pthread_mutex_unlock(&lock);
  if (raise) {
    QC_CHECK(cu.cuFuncSetAttribute(
                 fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem),
             " (kernel %s)", kernelName(fn));
    if (!failed && index >= 0) {
      pthread_mutex_lock(&lock);
      kernels[index].smem = smem;
      pthread_mutex_unlock(&lock);
    }
  }
  if (failed)
    return;
  if (profiling < 0) {
    const char *env = getenv("QC_CUDA_PROFILE");
    profiling = env && *env && strcmp(env, "0") != 0;
  }
  CUevent start = 0, stop = 0;
  if (!profiling)
    index = -1;
  if (index >= 0 && cu.cuEventCreate(&start, 0) == 0 &&
      cu.cuEventCreate(&stop, 0) == 0)
    cu.cuEventRecord(start, (CUstream)stream);
  QC_CHECK(cu.cuLaunchKernel(fn, (unsigned)gridX, (unsigned)gridY,
                             (unsigned)gridZ, (unsigned)blockX,
                             (unsigned)blockY, (unsigned)blockZ,
                             (unsigned)smem, (CUstream)stream, params, extra),
           " (kernel %s, grid %ldx%ldx%ld, block %ldx%ldx%ld)", kernelName(fn),
           (long)gridX, (long)gridY, (long)gridZ, (long)blockX, (long)blockY,
           (long)blockZ);
  if (stop) {
    cu.cuEventRecord(stop, (CUstream)stream);
    pthread_mutex_lock(&lock);
    if (numPending == capPending) {
      capPending = capPending ? 2 * capPending : 1024;
      pending = (struct Pending *)realloc(pending,
                                          capPending * sizeof *pending);
    }
    pending[numPending].kernel = index;
    pending[numPending].start = start;
    pending[numPending].stop = stop;
    ++numPending;
    unsigned dims[6] = {(unsigned)gridX,  (unsigned)gridY,  (unsigned)gridZ,
                        (unsigned)blockX, (unsigned)blockY, (unsigned)blockZ};
    memcpy(kernelTime[index].grid, dims, sizeof kernelTime[index].grid);
    memcpy(kernelTime[index].block, dims + 3, sizeof kernelTime[index].block);
    pthread_mutex_unlock(&lock);
  }
}

/* Adds the finished launches' times to their kernels' sums. */
static void collectProfile(void) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < numPending; ++i) {
    float ms = 0;
    if (cu.cuEventSynchronize(pending[i].stop) == 0 &&
        cu.cuEventElapsedTime(&ms, pending[i].start, pending[i].stop) == 0) {
      kernelTime[pending[i].kernel].ms += ms;
      kernelTime[pending[i].kernel].calls += 1;
    }
    cu.cuEventDestroy(pending[i].start);
    cu.cuEventDestroy(pending[i].stop);
  }
  numPending = 0;
  pthread_mutex_unlock(&lock);
}

__attribute__((destructor)) static void printProfile(void) {
  if (profiling <= 0 || !initialized)
    return;
  collectProfile();
  double total = 0;
  int order[kMaxKernels];
  int n = 0;
  for (int i = 0; i < numKernels; ++i)
    if (kernelTime[i].calls) {
      total += kernelTime[i].ms;
      order[n++] = i;
    }
  for (int i = 1; i < n; ++i) /* insertion sort, heaviest first */
    for (int j = i; j > 0 && kernelTime[order[j]].ms > kernelTime[order[j - 1]].ms;
         --j) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  fprintf(stderr, "qc cuda profile: %d kernels, %.3f ms in all launches\n", n,
          total);
  fprintf(stderr, "%9s %6s %7s  %-17s %-12s %s\n", "ms", "%", "calls", "grid",
          "block", "kernel");
  for (int k = 0; k < n; ++k) {
    int i = order[k];
    char grid[40], block[40];
    snprintf(grid, sizeof grid, "%ux%ux%u", kernelTime[i].grid[0],
             kernelTime[i].grid[1], kernelTime[i].grid[2]);
    snprintf(block, sizeof block, "%ux%ux%u", kernelTime[i].block[0],
             kernelTime[i].block[1], kernelTime[i].block[2]);
    fprintf(stderr, "%9.3f %6.2f %7ld  %-17s %-12s %s\n", kernelTime[i].ms,
            100 * kernelTime[i].ms / (total > 0 ? total : 1),
            kernelTime[i].calls, grid, block, kernels[i].name);
  }
}

/*===--- Streams, events, memory (gpu-to-llvm's calls) --------------------===*/

/* One stream per thread, made on first use and kept: a model's run creates
 * its stream and synchronizes it before it returns, so runs on a thread
 * never overlap, and creating a stream per run costs more than some small
 * models' kernels. */
static __thread CUstream threadStream;

void *mgpuStreamCreate(void) {
  if (threadStream || !ready())
    return threadStream;
  QC_CHECK(cu.cuStreamCreate(&threadStream, 0), "");
  return threadStream;
}

void mgpuStreamDestroy(void *stream) {
  if (stream && stream != threadStream && initialized)
    cu.cuStreamDestroy((CUstream)stream);
}

void mgpuStreamSynchronize(void *stream) {
  if (!initialized)
    return;
  /* Always waits, even after an error, so nothing runs past the call. */
  CUresult r = cu.cuStreamSynchronize((CUstream)stream);
  if (r != 0)
    setError("a kernel of the model failed: %s (found by "
             "cuStreamSynchronize)",
             errorName(r));
  if (profiling > 0)
    collectProfile();
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  if (ready())
    QC_CHECK(cu.cuStreamWaitEvent((CUstream)stream, (CUevent)event, 0), "");
}

void *mgpuEventCreate(void) {
  CUevent e = 0;
  if (ready())
    QC_CHECK(cu.cuEventCreate(&e, 2 /* CU_EVENT_DISABLE_TIMING */), "");
  return e;
}

void mgpuEventDestroy(void *event) {
  if (event && initialized)
    cu.cuEventDestroy((CUevent)event);
}

void mgpuEventSynchronize(void *event) {
  if (event && initialized)
    QC_CHECK(cu.cuEventSynchronize((CUevent)event), "");
}

void mgpuEventRecord(void *event, void *stream) {
  if (ready())
    QC_CHECK(cu.cuEventRecord((CUevent)event, (CUstream)stream), "");
}

void *mgpuMemAlloc(uint64_t bytes, void *stream, int8_t isHostShared) {
  (void)isHostShared;
  CUdeviceptr p = 0;
  if (!ready() || bytes == 0)
    return 0;
  QC_CHECK(cu.cuMemAllocAsync(&p, (size_t)bytes, (CUstream)stream),
           " (%llu bytes)", (unsigned long long)bytes);
  return (void *)(uintptr_t)p;
}

void mgpuMemFree(void *ptr, void *stream) {
  if (ptr && initialized)
    cu.cuMemFreeAsync((CUdeviceptr)(uintptr_t)ptr, (CUstream)stream);
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  if (ready() && bytes)
    QC_CHECK(cu.cuMemcpyAsync((CUdeviceptr)(uintptr_t)dst,
                              (CUdeviceptr)(uintptr_t)src, bytes,
                              (CUstream)stream),
             " (%zu bytes)", bytes);
}

void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream) {
  if (ready() && count)
    QC_CHECK(cu.cuMemsetD32Async((CUdeviceptr)(uintptr_t)dst, value, count,
                                 (CUstream)stream),
             "");
}

void mgpuMemset16(void *dst, int short value, size_t count, void *stream) {
  if (ready() && count)
    QC_CHECK(cu.cuMemsetD16Async((CUdeviceptr)(uintptr_t)dst,
                                 (unsigned short)value, count,
                                 (CUstream)stream),
             "");
}

void mgpuSetDefaultDevice(int32_t device) { (void)device; }

/*===--- Weights: uploaded once per process, by host address --------------===*/

static struct Constant {
  const void *host;
  int64_t bytes;
  void *device;
} *constants;
static size_t numConstants, capConstants;

/* The device copy of the constant `bytes` at `host` (a global of the model
 * library), uploaded on first use. */
void *qcCudaConstant(const void *host, int64_t bytes) {
  if (!ready())
    return 0;
  pthread_mutex_lock(&lock);
  void *found = 0;
  for (size_t i = 0; i < numConstants && !found; ++i)
    if (constants[i].host == host && constants[i].bytes == bytes)
      found = constants[i].device;
  if (!found) {
    CUdeviceptr p = 0;
    QC_CHECK(cu.cuMemAlloc(&p, bytes ? (size_t)bytes : 1),
             " (a weight of %lld bytes)", (long long)bytes);
    if (p && bytes)
      QC_CHECK(cu.cuMemcpyHtoD(p, host, (size_t)bytes),
               " (a weight of %lld bytes)", (long long)bytes);
    if (p && !failed) {
      if (numConstants == capConstants) {
        capConstants = capConstants ? 2 * capConstants : 256;
        constants = (struct Constant *)realloc(
            constants, capConstants * sizeof *constants);
      }
      constants[numConstants].host = host;
      constants[numConstants].bytes = bytes;
      constants[numConstants].device = (void *)(uintptr_t)p;
      ++numConstants;
      found = (void *)(uintptr_t)p;
    }
  }
  pthread_mutex_unlock(&lock);
  return found;
}

__attribute__((destructor)) static void releaseConstants(void) {
  if (initialized)
    for (size_t i = 0; i < numConstants; ++i)
      cu.cuMemFree((CUdeviceptr)(uintptr_t)constants[i].device);
  free(constants);
  constants = 0;
  numConstants = capConstants = 0;
}

/*===--- The model's C API -----------------------------------------------===*/

typedef void (*QCEntry)(void **);

static void beginRun(void) {
  failed = 0;
  lastError[0] = 0;
}

const char *qcCudaLastError(void) { return lastError; }

/* P_run_device: the tensors are device pointers already. */
int32_t qcCudaRunDevice(QCEntry entry, void **argv) {
  beginRun();
  if (!ready())
    return -1;
  entry(argv);
  return failed ? -1 : 0;
}

/* Device buffers for the nIn + nOut tensors of `bytes`, inputs copied from
 * the host pointers of `hostArgv`. */
static int upload(void **hostArgv, const int64_t *bytes, int32_t nIn,
                  int32_t nOut, void **devArgv) {
  for (int32_t i = 0; i < nIn + nOut; ++i) {
    CUdeviceptr p = 0;
    devArgv[i] = 0;
    QC_CHECK(cu.cuMemAlloc(&p, bytes[i] ? (size_t)bytes[i] : 1),
             " (%s %d of %lld bytes)", i < nIn ? "input" : "output",
             i < nIn ? i : i - nIn, (long long)bytes[i]);
    if (failed)
      return 0;
    devArgv[i] = (void *)(uintptr_t)p;
    if (i < nIn && bytes[i])
      QC_CHECK(cu.cuMemcpyHtoD(p, hostArgv[i], (size_t)bytes[i]),
               " (input %d)", i);
  }
  return !failed;
}

static void download(void **hostArgv, const int64_t *bytes, int32_t nIn,
                     int32_t nOut, void **devArgv) {
  for (int32_t i = nIn; i < nIn + nOut && !failed; ++i)
    if (bytes[i])
      QC_CHECK(cu.cuMemcpyDtoH(hostArgv[i],
                               (CUdeviceptr)(uintptr_t)devArgv[i],
                               (size_t)bytes[i]),
               " (output %d)", i - nIn);
}

static void release(void **devArgv, int32_t n) {
  for (int32_t i = 0; i < n; ++i)
    if (devArgv[i])
      cu.cuMemFree((CUdeviceptr)(uintptr_t)devArgv[i]);
}

/* P_run: host tensors in and out. */
int32_t qcCudaRunHost(QCEntry entry, void **hostArgv, const int64_t *bytes,
                      int32_t nIn, int32_t nOut) {
  beginRun();
  if (!ready())
    return -1;
  void *small[64];
  void **devArgv = nIn + nOut <= 64
                       ? small
                       : (void **)calloc((size_t)(nIn + nOut), sizeof(void *));
  if (upload(hostArgv, bytes, nIn, nOut, devArgv)) {
    entry(devArgv);
    download(hostArgv, bytes, nIn, nOut, devArgv);
  }
  release(devArgv, nIn + nOut);
  if (devArgv != small)
    free(devArgv);
  return failed ? -1 : 0;
}

static int compareFloat(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

/* P_time: inputs uploaded once, `warmup` untimed runs, then `repeat` runs
 * each timed by CUDA events around the model's work (device-side time);
 * msOut[0..2] = median, min, mean in milliseconds. Outputs are those of the
 * last run. */
int32_t qcCudaTime(QCEntry entry, void **hostArgv, const int64_t *bytes,
                   int32_t nIn, int32_t nOut, int32_t warmup, int32_t repeat,
                   float *msOut) {
  beginRun();
  if (!ready())
    return -1;
  if (repeat < 1)
    repeat = 1;
  void *small[64];
  void **devArgv = nIn + nOut <= 64
                       ? small
                       : (void **)calloc((size_t)(nIn + nOut), sizeof(void *));
  float *times = (float *)calloc((size_t)repeat, sizeof(float));
  CUevent start = 0, stop = 0;
  QC_CHECK(cu.cuEventCreate(&start, 0), "");
  QC_CHECK(cu.cuEventCreate(&stop, 0), "");
  if (!failed && upload(hostArgv, bytes, nIn, nOut, devArgv)) {
    for (int32_t i = 0; i < warmup && !failed; ++i)
      entry(devArgv);
    for (int32_t i = 0; i < repeat && !failed; ++i) {
      /* The model runs on its own stream and synchronizes before it
       * returns: events on the legacy stream bracket it exactly. */
      QC_CHECK(cu.cuEventRecord(start, 0), "");
      entry(devArgv);
      QC_CHECK(cu.cuEventRecord(stop, 0), "");
      QC_CHECK(cu.cuEventSynchronize(stop), "");
      if (!failed)
        QC_CHECK(cu.cuEventElapsedTime(&times[i], start, stop), "");
    }
    download(hostArgv, bytes, nIn, nOut, devArgv);
  }
  if (!failed) {
    double sum = 0;
    for (int32_t i = 0; i < repeat; ++i)
      sum += times[i];
    qsort(times, (size_t)repeat, sizeof(float), compareFloat);
    msOut[0] = times[repeat / 2];
    msOut[1] = times[0];
    msOut[2] = (float)(sum / repeat);
  }
  if (start)
    cu.cuEventDestroy(start);
  if (stop)
    cu.cuEventDestroy(stop);
  free(times);
  release(devArgv, nIn + nOut);
  if (devArgv != small)
    free(devArgv);
  return failed ? -1 : 0;
}
