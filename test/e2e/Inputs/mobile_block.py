"""A MobileNetV3-style block quantized end to end: stem conv -> HardSwish,
depthwise 3x3 stride (2, 1) and 5x5 stride 2 -> Relu, pointwise -> GELU
(erf), pointwise -> Sigmoid * 4 -> pointwise -> ConvTranspose 2x2 stride 2
-> BatchNormalization (decompose-conv-transpose: a 1x1 conv and a depth to
space, the BN folded first). The unary functions between quantizations
become qc.table (integer-only: check-integer-only passes); the tables run
in the kernels' epilogues. Checked:
  - the float build and the quantized one against a float64 numpy
    reference (SQNR);
  - the kernels (vnni/generic, 1 and 2 threads) give outputs identical to
    the unfused integer reference (--int8-kernels none).

    mobile_block.py WORKDIR BINDIR
"""
import math
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(__file__))
from e2e_util import (conv, kernels_match, outputs, run, save_model,  # noqa: E402
                      split_samples, sqnr)

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(7)
C, H, W = 16, 12, 70  # rows of 70 columns: a depthwise row spans 5 vectors


def w(*shape, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


weights = {"w0": w(C, 3, 3, 3), "b0": w(C, scale=0.1),
           "w1": w(C, 1, 3, 3), "b1": w(C, scale=0.1),
           "w2": w(C, 1, 5, 5, scale=0.2), "b2": w(C, scale=0.1),
           "w3": w(24, C, 1, 1), "b3": w(24, scale=0.1),
           "w4": w(8, 24, 1, 1), "b4": w(8, scale=0.1),
           "w5": w(4, 8, 1, 1), "b5": w(4, scale=0.1),
           "wt": w(4, 3, 2, 2), "bt": w(3, scale=0.1),
           "bn_s": (1 + w(3, scale=0.2)), "bn_b": w(3, scale=0.1),
           "bn_m": w(3, scale=0.1), "bn_v": (1 + np.abs(w(3))),
           "four": np.array(4.0, np.float32)}
nodes = [
    helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], pads=[1, 1, 1, 1]),
    helper.make_node("HardSwish", ["c0"], ["h0"]),
    helper.make_node("Conv", ["h0", "w1", "b1"], ["c1"], group=C, pads=[1, 1, 1, 1],
                     strides=[2, 1]),
    helper.make_node("Conv", ["c1", "w2", "b2"], ["c2"], group=C, pads=[2, 2, 2, 2],
                     strides=[2, 2]),
    helper.make_node("Relu", ["c2"], ["r2"]),
    helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"]),
    helper.make_node("Div", ["c3", "four"], ["d3"]),
    helper.make_node("Erf", ["d3"], ["e3"]),
    helper.make_node("Conv", ["e3", "w4", "b4"], ["c4"]),
    helper.make_node("Sigmoid", ["c4"], ["s4"]),
    helper.make_node("Mul", ["s4", "four"], ["m4"]),
    helper.make_node("Conv", ["m4", "w5", "b5"], ["c5"]),
    helper.make_node("ConvTranspose", ["c5", "wt", "bt"], ["t5"], kernel_shape=[2, 2],
                     strides=[2, 2]),
    helper.make_node("BatchNormalization", ["t5", "bn_s", "bn_b", "bn_m", "bn_v"], ["y"]),
]
OH, OW = (H // 2 + 1) // 2, (W + 1) // 2
model = save_model(os.path.join(work, "mobile_block.onnx"), nodes, weights,
                   [1, 3, H, W], [1, 3, 2 * OH, 2 * OW], opset=14)


erf = np.vectorize(math.erf)


def reference(x):
    wd = {k: v.astype(np.float64) for k, v in weights.items()}
    c0 = conv(x, wd["w0"], wd["b0"], 1)
    h0 = c0 * np.clip(c0 / 6 + 0.5, 0, 1)
    c1 = conv(h0, wd["w1"], wd["b1"], 1, C, (2, 1))
    c2 = np.maximum(conv(c1, wd["w2"], wd["b2"], 2, C, (2, 2)), 0)
    e3 = erf(conv(c2, wd["w3"], wd["b3"], 0) / 4)
    c4 = conv(e3, wd["w4"], wd["b4"], 0)
    c5 = conv(4 / (1 + np.exp(-c4)), wd["w5"], wd["b5"], 0)
    # ConvTranspose 2x2 stride 2: output (2h + i, 2w + j) = sum_c x * W[c, f, i, j]
    n, _, h, wdt = c5.shape
    t5 = np.zeros((n, 3, 2 * h, 2 * wdt))
    for i in range(2):
        for j in range(2):
            t5[:, :, i::2, j::2] = np.einsum("nchw,cf->nfhw", c5, wd["wt"][:, :, i, j])
    t5 += wd["bt"][None, :, None, None]
    g = wd["bn_s"] / np.sqrt(wd["bn_v"] + 1e-5)
    return (t5 - wd["bn_m"][None, :, None, None]) * g[None, :, None, None] + \
        wd["bn_b"][None, :, None, None]


xs = rng.standard_normal((24, 1, 3, H, W)).astype(np.float32)
calib, held = split_samples(work, xs)
ref = np.stack([reference(x.astype(np.float64))[0] for x in xs[16:]])

flib = os.path.join(work, "libf.so")
run(os.path.join(bindir, "quant-compile"), model, "-o", flib)
print(f"float build vs float64 reference: SQNR {sqnr(ref, outputs(bindir, flib, held, work)):.1f} dB")

stats = os.path.join(work, "stats.json")
qdq = os.path.join(work, "qdq.mlir")
lib = os.path.join(work, "libq.so")
run(os.path.join(bindir, "quant-compile"), model, "--calibration-data", calib,
    "--save-calibration", stats, "--emit-qdq", qdq, "-o", lib)
ints = run(os.path.join(bindir, "quant-opt"), qdq, "--lower-quantized-to-integer",
           "--canonicalize", "--check-integer-only")
left = ("hardswish", "erf", "sigmoid", "div", "mul", "convtranspose", "batchnormalization")
print(f"tables: {ints.count('qc.table')}, float ops left: "
      f"{sum(ints.count(f'qc.{op} ') for op in left)}")
y = outputs(bindir, lib, held, work)
print(f"quantized vs float64 reference: SQNR {sqnr(ref, y):.1f} dB")

good = kernels_match(bindir, model, stats, held, work, y,
                     [("none", []), ("generic", []), ("auto", ["--threads", "2"])])
sys.exit(0 if good else 1)
