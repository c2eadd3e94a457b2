#!/usr/bin/python3
"""Compiles the conv_net test model ahead of time (quant-compile -> .so and
C header), builds examples/c-api/run_model.c against it, runs it, and runs
quant-run on the .so and on the .onnx (JIT); every result is compared with
the numpy reference of conv_net_ref.py.

    c_api.py MODEL WORKDIR BINDIR C_PROGRAM
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from conv_net_ref import reference

model, work, bindir, cprog = sys.argv[1:5]
tool = lambda name: os.path.join(bindir, name)  # noqa: E731
w = {t.name: numpy_helper.to_array(t) for t in onnx.load(model).graph.initializer}
x = np.random.default_rng(7).standard_normal((4, 3, 8, 8)).astype(np.float32)
want = reference(w, x.astype(np.float64))


def check(what, got, want=want):
    err = np.abs(got - want)
    if not (err <= 1e-4 + 1e-3 * np.abs(want)).all():
        sys.exit(f"{what}: MISMATCH, max abs error {err.max():.3g}")
    print(f"{what}: matches the numpy reference (max abs error {err.max():.2g})")


lib = os.path.join(work, "libconvnet.so")
subprocess.run([tool("quant-compile"), model, "--input-shape", "x:4x3x8x8", "-o", lib],
               check=True)
header = open(os.path.join(work, "libconvnet.h")).read()
assert "int32_t convnet_run(const qc_tensor *inputs, qc_tensor *outputs);" in header
exe = os.path.join(work, "run_model")
subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", "-I", work,
                '-DQC_MODEL_HEADER="libconvnet.h"', "-DQC_MODEL_PREFIX=convnet",
                cprog, "-L", work, "-lconvnet", "-Wl,-rpath," + work, "-o", exe], check=True)
x.tofile(os.path.join(work, "x.bin"))
out = subprocess.run([exe, os.path.join(work, "x.bin"), os.path.join(work, "y.bin")],
                     check=True, capture_output=True, text=True).stdout
print(out.strip())
check("C program on libconvnet.so", np.fromfile(os.path.join(work, "y.bin"), np.float32).reshape(4, 10))

# Weights are binary data in the library, not text.
assert "fcw" not in subprocess.run(["strings", lib], capture_output=True, text=True).stdout

np.save(os.path.join(work, "x.npy"), x)
for what, target in (("quant-run on the .so", lib), ("quant-run JIT", model)):
    outdir = os.path.join(work, "out-" + os.path.basename(target))
    subprocess.run([tool("quant-run"), target, "-i", "x=" + os.path.join(work, "x.npy"),
                    "-o", outdir], check=True)
    check(what, np.load(os.path.join(outdir, "y.npy")))

# Compiled for threads (OpenMP): the library and the JIT on 2 threads, on
# a batch of 64 (ops too small to be worth a fork and join run on the
# calling thread; at 4 images every op is).
x64 = np.random.default_rng(8).standard_normal((64, 3, 8, 8)).astype(np.float32)
np.save(os.path.join(work, "x64.npy"), x64)
want64 = reference(w, x64.astype(np.float64))
lib2 = os.path.join(work, "libconvnet2.so")
subprocess.run([tool("quant-compile"), model, "--input-shape", "x:64x3x8x8", "--threads", "2",
                "-o", lib2], check=True)
assert "libomp" in subprocess.run(["ldd", lib2], capture_output=True, text=True).stdout
for what, target in (("quant-run --threads 2 on the .so", lib2),
                     ("quant-run --threads 2 JIT", model)):
    outdir = os.path.join(work, "out2-" + os.path.basename(target))
    subprocess.run([tool("quant-run"), target, "-i", "x=" + os.path.join(work, "x64.npy"),
                    "--threads", "2", "-o", outdir], check=True)
    check(what, np.load(os.path.join(outdir, "y.npy")), want64)
