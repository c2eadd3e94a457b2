# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "QC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qc_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%qc_src_root", config.qc_src_root))
# JIT-run a lowered module's @main with upstream mlir-runner and its runtime
# (printMemref*).
runner_libs = ",".join(os.path.join(config.llvm_lib_dir, lib) for lib in
                       ["libmlir_c_runner_utils.so", "libmlir_runner_utils.so"])
config.substitutions.append(
    ("%mlir_runner_bin", os.path.join(config.llvm_tools_dir, "mlir-runner")))
config.substitutions.append(("%mlir_runner_libs", runner_libs))
config.substitutions.append(
    ("%mlir_runner", os.path.join(config.llvm_tools_dir, "mlir-runner") +
     " -e main -entry-point-result=void -shared-libs=" + runner_libs))
# The registered pipeline from qc graph ops to the LLVM dialect.
config.substitutions.append(("%lower_to_llvm", "-qc-lower-to-llvm"))
config.substitutions.append(("%qc_bin", config.qc_tools_dir))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.qc_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["quant-opt", "quant-translate", "quant-run", "quant-compile", "qc-runner"],
    tool_dirs)
# Machines with the NVIDIA driver run the cuda target's models; the tests of
# its errors without one are unsupported there (scripts/gpu-test.sh runs
# the models).
import ctypes
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
# gpu-module-to-binary format=bin runs the CUDA toolkit's ptxas (found
# like MLIR's NVVM target does: CUDA_ROOT, /usr/local/cuda, PATH).
import shutil
if (shutil.which("ptxas") or
        os.path.exists(os.path.join(os.environ.get("CUDA_ROOT", "/usr/local/cuda"),
                                    "bin", "ptxas"))):
    config.available_features.add("ptxas")
# The AVX-512 low-bit kernels run where the host has their instructions
# (tests of their choices in whole models need them).
try:
    with open("/proc/cpuinfo") as f:
        flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
except OSError:
    flags = []
if {"avx512f", "avx512bw", "avx512_vpopcntdq"} <= set(flags):
    config.available_features.add("avx512-vpopcnt")
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
# The Python the tests run (%python) imports the qcbench package
# (python/qcbench) from PYTHONPATH, as every caller of the scripts sets it.
llvm_config.with_environment("PYTHONPATH", os.path.join(config.qc_src_root, "python"),
                             append_path=True)
