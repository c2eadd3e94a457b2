"""A ResNet-style network quantized end to end, run channels-last: a stem
conv (3 -> 64, stride 2) -> Relu, two bottleneck blocks (1x1, 3x3, 1x1 and
a residual Add -> Relu; the second with a strided 3x3 and a 1x1 strided
projection), GlobalAveragePool. channels-last-convs makes the blocks one
NHWC region (the stem's 64 channels too) with one transpose in and one out.
Checked:
  - the float build and the quantized one against a float64 numpy
    reference (SQNR);
  - the integer IR after channels-last-convs: every convolution NHWC,
    two transposes;
  - the kernels channels-last (vnni/generic, 1 and 2 threads, with the
    residual adds fused into their epilogues or not) and NCHW
    (--channels-last=false) give outputs identical to the unfused integer
    reference (--int8-kernels none).

    residual_net.py WORKDIR BINDIR
"""
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(__file__))
from e2e_util import (conv, kernels_match, outputs, run, save_model,  # noqa: E402
                      split_samples, sqnr)

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(11)
H = W = 18


def w(*shape):
    fan_in = np.prod(shape[1:])
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def b(n):
    return (rng.standard_normal(n) * 0.1).astype(np.float32)


weights = {"w0": w(64, 3, 3, 3), "b0": b(64),
           "w1": w(64, 64, 1, 1), "b1": b(64), "w2": w(64, 64, 3, 3), "b2": b(64),
           "w3": w(64, 64, 1, 1), "b3": b(64),
           "w4": w(64, 64, 1, 1), "b4": b(64), "w5": w(64, 64, 3, 3), "b5": b(64),
           "w6": w(128, 64, 1, 1), "b6": b(128), "wp": w(128, 64, 1, 1), "bp": b(128)}
nodes = [
    helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], pads=[1, 1, 1, 1], strides=[2, 2]),
    helper.make_node("Relu", ["c0"], ["r0"]),
    helper.make_node("Conv", ["r0", "w1", "b1"], ["c1"]),
    helper.make_node("Relu", ["c1"], ["r1"]),
    helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c2"], ["r2"]),
    helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"]),
    helper.make_node("Add", ["c3", "r0"], ["a3"]),
    helper.make_node("Relu", ["a3"], ["r3"]),
    helper.make_node("Conv", ["r3", "w4", "b4"], ["c4"]),
    helper.make_node("Relu", ["c4"], ["r4"]),
    helper.make_node("Conv", ["r4", "w5", "b5"], ["c5"], pads=[1, 1, 1, 1], strides=[2, 2]),
    helper.make_node("Relu", ["c5"], ["r5"]),
    helper.make_node("Conv", ["r5", "w6", "b6"], ["c6"]),
    helper.make_node("Conv", ["r3", "wp", "bp"], ["cp"], strides=[2, 2]),
    helper.make_node("Add", ["c6", "cp"], ["a6"]),
    helper.make_node("Relu", ["a6"], ["r6"]),
    helper.make_node("GlobalAveragePool", ["r6"], ["y"]),
]
model = save_model(os.path.join(work, "residual_net.onnx"), nodes, weights,
                   [1, 3, H, W], [1, 128, 1, 1])


def reference(x):
    wd = {k: v.astype(np.float64) for k, v in weights.items()}

    def relu(v):
        return np.maximum(v, 0)

    r0 = relu(conv(x, wd["w0"], wd["b0"], 1, stride=(2, 2)))
    r1 = relu(conv(r0, wd["w1"], wd["b1"], 0))
    r2 = relu(conv(r1, wd["w2"], wd["b2"], 1))
    r3 = relu(conv(r2, wd["w3"], wd["b3"], 0) + r0)
    r4 = relu(conv(r3, wd["w4"], wd["b4"], 0))
    r5 = relu(conv(r4, wd["w5"], wd["b5"], 1, stride=(2, 2)))
    cp = conv(r3, wd["wp"], wd["bp"], 0, stride=(2, 2))
    r6 = relu(conv(r5, wd["w6"], wd["b6"], 0) + cp)
    return r6.mean(axis=(2, 3), keepdims=True)


xs = rng.standard_normal((20, 1, 3, H, W)).astype(np.float32)
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
y = outputs(bindir, lib, held, work)
print(f"quantized vs float64 reference: SQNR {sqnr(ref, y):.1f} dB")
ints = run(os.path.join(bindir, "quant-opt"), qdq,
           "--pass-pipeline=builtin.module(lower-quantized-to-integer,canonicalize,"
           "func.func(channels-last-convs))")
print(f"convolutions: {ints.count('qc.conv_int')}, channels-last: "
      f"{ints.count('channels_last :')}, transposes: {ints.count('qc.transpose')}")

good = kernels_match(bindir, model, stats, held, work, y,
                     [("none", []), ("vnni", ["--channels-last=false"]), ("generic", []),
                      ("auto", ["--threads", "2"]), ("vnni", ["--fuse-residual-adds"]),
                      ("generic", ["--fuse-residual-adds"])])
sys.exit(0 if good else 1)
