#!/usr/bin/python3
"""equalize-layers end to end: a CNN with a constant affine after a
convolution (Conv -> Mul -> Add, PP-LCNet's blocks) and Conv -> Relu ->
depthwise Conv -> Conv pairs whose first layer's channels differ 100x in
scale.

  - quant-opt --equalize-layers folds the affine and rescales the pairs; the
    float libraries compiled from the rewritten and the original module
    both match a float64 numpy reference (the function is unchanged);
  - the quantized build with --equalize-layers is closer to the numpy
    reference than the default build (higher SQNR on held-out inputs).

  equalize.py WORKDIR BINDIR
"""
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import conv, outputs, run, save_model, sqnr  # noqa: E402

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(11)
W = {"w1": (rng.standard_normal((8, 3, 3, 3)) / 4).astype(np.float32),
     "b1": (0.1 * rng.standard_normal(8)).astype(np.float32),
     "w2": (rng.standard_normal((8, 1, 3, 3)) / 3).astype(np.float32),
     "b2": (0.1 * rng.standard_normal(8)).astype(np.float32),
     "sc": rng.uniform(0.5, 2.0, (1, 8, 1, 1)).astype(np.float32),
     "of": np.array([0.3], np.float32),
     "w3": (rng.standard_normal((4, 8, 1, 1)) / 3).astype(np.float32),
     "b3": (0.1 * rng.standard_normal(4)).astype(np.float32)}
# Channels of conv1 100x apart; the depthwise conv undoes it, so every
# channel matters to the output but the narrow ones get few levels of the
# shared per-tensor range.
spread = np.logspace(0, 2, 8).astype(np.float32)
W["w1"] *= spread[:, None, None, None]
W["b1"] *= spread
W["w2"] /= spread[:, None, None, None]
nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
         helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="dw", pads=[1, 1, 1, 1],
                          group=8),
         helper.make_node("Mul", ["c2", "sc"], ["m"], name="scale"),
         helper.make_node("Add", ["m", "of"], ["a"], name="offset"),
         helper.make_node("Conv", ["a", "w3", "b3"], ["y"], name="pw")]
model = save_model(os.path.join(work, "eq.onnx"), nodes, W, [1, 3, 12, 12], [1, 4, 12, 12])


def reference(x):
    r1 = np.maximum(conv(x.astype(np.float64), W["w1"], W["b1"], 1), 0)
    a = conv(r1, W["w2"], W["b2"], 1, 8) * W["sc"] + W["of"]
    return conv(a, W["w3"], W["b3"], 0)


def image():
    low = rng.standard_normal((1, 3, 4, 4))
    return (np.kron(low, np.ones((1, 1, 3, 3))) +
            0.3 * rng.standard_normal((1, 3, 12, 12))).astype(np.float32)


calib, evals = np.stack([image() for _ in range(32)]), np.stack([image() for _ in range(16)])
np.savez(os.path.join(work, "calib.npz"), x=calib)
np.savez(os.path.join(work, "eval.npz"), x=evals)
ref = np.stack([reference(x) for x in evals])


mlir = os.path.join(work, "eq.mlir")
run(os.path.join(bindir, "quant-translate"), "--import-onnx", model, "-o", mlir)
rewritten = run(os.path.join(bindir, "quant-opt"), mlir, "--equalize-layers")
open(os.path.join(work, "eq-rewritten.mlir"), "w").write(rewritten)
print(f"rewritten: {rewritten.count('qc.mul ')} Mul, {rewritten.count('qc.add ')} Add, "
      f"{rewritten.count('qc.conv ')} Conv")
for name, path in (("original", mlir), ("equalized", os.path.join(work, "eq-rewritten.mlir"))):
    lib = os.path.join(work, f"lib{name}.so")
    run(os.path.join(bindir, "quant-compile"), path, "-o", lib)
    y = outputs(bindir, lib, os.path.join(work, "eval.npz"), work).reshape(ref.shape)
    err = np.abs(y - ref).max() / np.abs(ref).max()
    print(f"float {name}: max error {err:.1e} of the output range: "
          f"{'ok' if err < 1e-5 else 'FAILED'}")

q = {}
for name, extra in (("default", []), ("equalized", ["--equalize-layers"])):
    lib = os.path.join(work, f"libq{name}.so")
    run(os.path.join(bindir, "quant-compile"), model, "--calibration-data",
        os.path.join(work, "calib.npz"), "-o", lib, *extra)
    q[name] = sqnr(ref, outputs(bindir, lib, os.path.join(work, "eval.npz"), work))
ok = q["equalized"] >= q["default"] + 3 and q["equalized"] < 80
print(f"int8 SQNR: default {q['default']:.1f} dB, --equalize-layers {q['equalized']:.1f} dB: "
      f"{'ok' if ok else 'FAILED'} (want +3 dB)")

# Bias absorption: Conv -> BatchNormalization (shift 3, scale 0.5) -> Relu
# -> 1x1 Conv. The BN's outputs sit around 3 +- 0.5, so 1.5 per channel
# moves into the 1x1 conv's bias: the float function is unchanged where the
# pre-activations stay above 1.5 (all of these inputs), and the Relu's
# output, which int8 quantizes, spans 1.5 less.
B = {"v1": (rng.standard_normal((8, 3, 3, 3)) / 8).astype(np.float32),
     "g": np.full(8, 0.5, np.float32), "beta": np.full(8, 3.0, np.float32),
     "mu": np.zeros(8, np.float32), "var": np.ones(8, np.float32),
     "v2": (rng.standard_normal((4, 8, 1, 1)) / 3).astype(np.float32),
     "c2": (0.1 * rng.standard_normal(4)).astype(np.float32)}
bn_nodes = [helper.make_node("Conv", ["x", "v1"], ["t"], name="bconv1", pads=[1, 1, 1, 1]),
            helper.make_node("BatchNormalization", ["t", "g", "beta", "mu", "var"], ["n"],
                             name="bn", epsilon=0.0),
            helper.make_node("Relu", ["n"], ["r"], name="brelu"),
            helper.make_node("Conv", ["r", "v2", "c2"], ["y"], name="bconv2")]
bn_model = save_model(os.path.join(work, "bn.onnx"), bn_nodes, B, [1, 3, 12, 12], [1, 4, 12, 12])


def bn_reference(x):
    t = conv(x.astype(np.float64), B["v1"], None, 1)
    r = np.maximum(B["g"][None, :, None, None] * t + B["beta"][None, :, None, None], 0)
    return conv(r, B["v2"], B["c2"], 0)


bn_ref = np.stack([bn_reference(x) for x in evals])
assert bn_ref.size and (np.stack([conv(x.astype(np.float64), B["v1"], None, 1) for x in evals])
                        * 0.5 + 3 > 1.5).all()
bn_mlir = os.path.join(work, "bn.mlir")
run(os.path.join(bindir, "quant-translate"), "--import-onnx", bn_model, "-o", bn_mlir)
folded = run(os.path.join(bindir, "quant-opt"), bn_mlir, "--fold-batch-norm", "--equalize-layers")
open(os.path.join(work, "bn-rewritten.mlir"), "w").write(folded)
print(f"bias absorbed: {'ok' if 'bias_absorbed' in folded else 'FAILED'}")
lib = os.path.join(work, "libbn.so")
run(os.path.join(bindir, "quant-compile"), os.path.join(work, "bn-rewritten.mlir"), "-o", lib)
y = outputs(bindir, lib, os.path.join(work, "eval.npz"), work).reshape(bn_ref.shape)
err = np.abs(y - bn_ref).max() / np.abs(bn_ref).max()
print(f"float absorbed: max error {err:.1e} of the output range: {'ok' if err < 1e-5 else 'FAILED'}")
# int8 builds of the equalized module without and with the absorption.
plain = run(os.path.join(bindir, "quant-opt"), bn_mlir, "--fold-batch-norm",
            "--equalize-layers=absorb-bias=false")
open(os.path.join(work, "bn-plain.mlir"), "w").write(plain)
bq = {}
for name, path in (("equalized", "bn-plain.mlir"), ("absorbed", "bn-rewritten.mlir")):
    lib = os.path.join(work, f"libbq{name}.so")
    run(os.path.join(bindir, "quant-compile"), os.path.join(work, path), "--calibration-data",
        os.path.join(work, "calib.npz"), "-o", lib)
    bq[name] = sqnr(bn_ref, outputs(bindir, lib, os.path.join(work, "eval.npz"), work))
ok = bq["absorbed"] >= bq["equalized"] + 0.5 and bq["absorbed"] < 80
print(f"int8 SQNR: equalized {bq['equalized']:.1f} dB, with bias absorption "
      f"{bq['absorbed']:.1f} dB: {'ok' if ok else 'FAILED'} (want +0.5 dB)")
