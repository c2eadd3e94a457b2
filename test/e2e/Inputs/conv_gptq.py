#!/usr/bin/python3
"""GPTQ for convolutions: a dense 3x3 conv, a depthwise 3x3 conv and a 1x1
conv at 4-bit weights (8-bit activations), rounded to nearest and by GPTQ
over each conv's input patches (--weight-rounding gptq); both run by
quant-run on held-out inputs against a float64 numpy reference. GPTQ must be
closer, per conv kind as well (one at a time at 4 bits, the rest at 8), and
so must AdaRound and AdaQuant over the same second moments.

  conv_gptq.py WORKDIR BINDIR
"""
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import conv, outputs, run, save_model, sqnr  # noqa: E402

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(17)
W = {"w1": (rng.standard_normal((16, 4, 3, 3)) / 4).astype(np.float32),
     "b1": (0.1 * rng.standard_normal(16)).astype(np.float32),
     "w2": (rng.standard_normal((16, 1, 3, 3)) / 2).astype(np.float32),
     "b2": (0.1 * rng.standard_normal(16)).astype(np.float32),
     "w3": (rng.standard_normal((8, 16, 1, 1)) / 4).astype(np.float32),
     "b3": (0.1 * rng.standard_normal(8)).astype(np.float32)}
nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="dense", pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
         helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="depthwise",
                          pads=[1, 1, 1, 1], group=16),
         helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
         helper.make_node("Conv", ["r2", "w3", "b3"], ["y"], name="pointwise")]
model = save_model(os.path.join(work, "convs.onnx"), nodes, W, [1, 4, 12, 12], [1, 8, 12, 12])


def reference(x):
    r1 = np.maximum(conv(x.astype(np.float64), W["w1"], W["b1"], 1), 0)
    r2 = np.maximum(conv(r1, W["w2"], W["b2"], 1, 16), 0)
    return conv(r2, W["w3"], W["b3"], 0)


def image():
    # Correlated channels and neighbours: the input statistics GPTQ exploits.
    low = rng.standard_normal((1, 1, 4, 4))
    base = np.kron(low, np.ones((1, 1, 3, 3)))
    return (base * rng.uniform(0.5, 1.5, (1, 4, 1, 1)) +
            0.2 * rng.standard_normal((1, 4, 12, 12))).astype(np.float32)


calib, evals = np.stack([image() for _ in range(32)]), np.stack([image() for _ in range(16)])
np.savez(os.path.join(work, "calib.npz"), x=calib)
np.savez(os.path.join(work, "eval.npz"), x=evals)
ref = np.stack([reference(x) for x in evals])


def build(name, *extra):
    lib = os.path.join(work, f"lib{name}.so")
    run(os.path.join(bindir, "quant-compile"), model, "--calibration-data",
        os.path.join(work, "calib.npz"), "-o", lib, *extra)
    return sqnr(ref, outputs(bindir, lib, os.path.join(work, "eval.npz"), work))


failed = False
for layer in ("all", "dense", "depthwise", "pointwise"):
    bits = ["--weight-bits", "4"] if layer == "all" else []
    if layer != "all":  # that conv at 4 bits, the others at 8
        bits = ["--bits", "auto", "--weight-formats", "4,8", "--pin-first-last=false",
                "--size-budget", "1e9", "--pin", f"{layer}=4"] + \
               [a for other in ("dense", "depthwise", "pointwise") if other != layer
                for a in ("--pin", f"{other}=8")]
    near = build(f"near-{layer}", *bits, "--weight-rounding", "nearest")
    gptq = build(f"gptq-{layer}", *bits, "--weight-rounding", "gptq")
    ok = gptq > near + 0.5 and gptq < 80
    failed |= not ok
    print(f"W4 {layer}: nearest {near:.1f} dB, gptq {gptq:.1f} dB: {'ok' if ok else 'FAILED'}")
    if layer == "all":
        # Layer-wise reconstruction over the same patch second moments.
        for method in ("adaround", "adaquant"):
            r = build(f"{method}-{layer}", *bits, "--weight-rounding", method)
            ok = r > near + 0.5 and r < 80
            failed |= not ok
            print(f"W4 {layer}: nearest {near:.1f} dB, {method} {r:.1f} dB: {'ok' if ok else 'FAILED'}")
