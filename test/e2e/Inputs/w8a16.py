#!/usr/bin/python3
"""16-bit activations (W8A16): a small CNN (dense 3x3 conv, Relu, depthwise
3x3 conv, HardSwish, 1x1 conv, global average pool, Gemm) compiled with
--activation-bits 16 and 8, run by quant-run on held-out inputs against a
float64 numpy reference with the weights rounded to int8 as the compiler
does (per output channel, symmetric; no bias correction), so that what is
left is the activations' error. The int16 x int8 products accumulate in
int64 (split into two int8 products on the kernel path); 16-bit activations
must be far closer than 8-bit ones, and the kernel path must give the same
outputs as the generic loops.

  w8a16.py WORKDIR BINDIR
"""
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import conv, outputs, run, save_model, sqnr  # noqa: E402

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(5)
W = {"w1": (rng.standard_normal((16, 4, 3, 3)) / 4).astype(np.float32),
     "b1": (0.1 * rng.standard_normal(16)).astype(np.float32),
     "w2": (rng.standard_normal((16, 1, 3, 3)) / 2).astype(np.float32),
     "b2": (0.1 * rng.standard_normal(16)).astype(np.float32),
     "w3": (rng.standard_normal((24, 16, 1, 1)) / 4).astype(np.float32),
     "b3": (0.1 * rng.standard_normal(24)).astype(np.float32),
     "w4": (rng.standard_normal((24, 10)) / 4).astype(np.float32),
     "b4": (0.1 * rng.standard_normal(10)).astype(np.float32)}
nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="dense", pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
         helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="depthwise",
                          pads=[1, 1, 1, 1], group=16),
         helper.make_node("HardSwish", ["c2"], ["h2"], name="hswish"),
         helper.make_node("Conv", ["h2", "w3", "b3"], ["c3"], name="pointwise"),
         helper.make_node("GlobalAveragePool", ["c3"], ["p"], name="pool"),
         helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
         helper.make_node("Gemm", ["f", "w4", "b4"], ["y"], name="fc")]
model = save_model(os.path.join(work, "cnn.onnx"), nodes, W, [1, 4, 12, 12], [1, 10], opset=14)


def w8(w, axis):
    """Symmetric int8 per channel along `axis`, dequantized."""
    other = tuple(a for a in range(w.ndim) if a != axis)
    s = np.abs(w).max(axis=other, keepdims=True) / 127
    return np.round(w / s) * s


Q = {k: (w8(v, 0) if k in ("w1", "w2", "w3") else w8(v, 1) if k == "w4" else v).astype(np.float64)
     for k, v in W.items()}


def reference(x, W=Q):
    r1 = np.maximum(conv(x.astype(np.float64), W["w1"], W["b1"], 1), 0)
    c2 = conv(r1, W["w2"], W["b2"], 1, 16)
    h2 = c2 * np.clip(c2 / 6 + 0.5, 0, 1)
    c3 = conv(h2, W["w3"], W["b3"], 0)
    return c3.mean(axis=(2, 3)) @ W["w4"] + W["b4"]


calib = rng.standard_normal((32, 1, 4, 12, 12)).astype(np.float32)
evals = rng.standard_normal((16, 1, 4, 12, 12)).astype(np.float32)
# Calibrated on the evaluation inputs too: no range clipping, which at 16
# bits would outweigh the rounding.
np.savez(os.path.join(work, "calib.npz"), x=np.concatenate([calib, evals]))
np.savez(os.path.join(work, "eval.npz"), x=evals)
ref = np.stack([reference(x) for x in evals])


def build(name, *extra):
    lib = os.path.join(work, f"lib{name}.so")
    run(os.path.join(bindir, "quant-compile"), model, "--calibration-data",
        os.path.join(work, "calib.npz"), "--no-bias-correction", "-o", lib, *extra)
    return outputs(bindir, lib, os.path.join(work, "eval.npz"), work)


a8 = sqnr(ref, build("a8"))
y16 = build("a16", "--activation-bits", "16")
a16 = sqnr(ref, y16)
ok = a16 > a8 + 20
print(f"A8 {a8:.1f} dB, A16 {a16:.1f} dB: {'ok' if ok else 'FAILED'}")
# The kernels (each int16 x int8 product split into two int8 products) and
# the linalg loops (one product accumulated in int64) agree exactly.
for kernels in ("generic", "none"):
    same = np.array_equal(build("a16-" + kernels, "--activation-bits", "16",
                                "--int8-kernels", kernels), y16)
    print(f"A16 --int8-kernels {kernels} same as auto: {'ok' if same else 'FAILED'}")
# The bit-width program with 8- and 16-bit candidates for every tensor: with
# room in the latency budget every tensor takes 16 bits (lower cost), as
# close to the numpy reference as the --activation-bits 16 build.
auto = sqnr(ref, build("auto16", "--bits", "auto", "--weight-formats", "8",
                       "--activation-formats", "8,16", "--latency-budget", "1s",
                       "--sensitivity-samples", "4"))
ok = auto > a8 + 20
print(f"--activation-formats 8,16 --latency-budget 1s: {auto:.1f} dB: {'ok' if ok else 'FAILED'}")
