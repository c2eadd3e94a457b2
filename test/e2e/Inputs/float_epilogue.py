"""The float convolution kernel's fused epilogue, end to end: a network
whose convolutions are followed by LeakyRelu -> Max (a constant), a
residual Add -> Relu, Clip (constant bounds) after a depthwise conv, and a
conv whose result has two users (not fused). Checked:
  - the default float build (the AVX-512 kernels where the CPU has them,
    the elementwise ops fused into their epilogues) and the linalg build
    (--f32-kernels none) against a float64 numpy reference;
  - the kernel calls qc-lower-to-microkernels makes: 4, with 2, 2, 2 and
    0 epilogue steps, the Relu and Add after the two-user conv left.

    float_epilogue.py WORKDIR BINDIR
"""
import os
import re
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(__file__))
from e2e_util import conv, run, save_model  # noqa: E402

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(5)


def w(*shape):
    return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)


weights = {"w0": w(16, 8, 3, 3), "b0": w(16, 1)[:, 0],
           "neg": np.full((1, 1, 1, 1), -0.1, np.float32),
           "w1": w(16, 16, 1, 1), "b1": w(16, 1)[:, 0],
           "w2": w(16, 1, 3, 3), "b2": w(16, 1)[:, 0],
           "lo": np.array(0.0, np.float32), "hi": np.array(0.5, np.float32),
           "w3": w(8, 16, 3, 3), "b3": w(8, 1)[:, 0]}
nodes = [
    helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], pads=[1, 1, 1, 1]),
    helper.make_node("LeakyRelu", ["c0"], ["l0"], alpha=0.2),
    helper.make_node("Max", ["l0", "neg"], ["m0"]),
    helper.make_node("Conv", ["m0", "w1", "b1"], ["c1"]),
    helper.make_node("Add", ["m0", "c1"], ["a1"]),
    helper.make_node("Relu", ["a1"], ["r1"]),
    helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=16),
    helper.make_node("Clip", ["c2", "lo", "hi"], ["k2"]),
    helper.make_node("Conv", ["k2", "w3", "b3"], ["c3"], pads=[1, 1, 1, 1], strides=[2, 2]),
    helper.make_node("Relu", ["c3"], ["r3"]),
    helper.make_node("Add", ["r3", "c3"], ["y"]),
]
shape = [2, 8, 10, 6]
model = save_model(os.path.join(work, "float_epilogue.onnx"), nodes, weights, shape,
                   [2, 8, 5, 3])


def reference(x):
    d = {k: v.astype(np.float64) for k, v in weights.items()}
    c0 = conv(x, d["w0"], d["b0"], 1)
    m0 = np.maximum(np.where(c0 < 0, c0 * 0.2, c0), -0.1)
    r1 = np.maximum(m0 + conv(m0, d["w1"], d["b1"], 0), 0)
    k2 = np.clip(conv(r1, d["w2"], d["b2"], 1, group=16), 0.0, 0.5)
    c3 = conv(k2, d["w3"], d["b3"], 1, stride=(2, 2))
    return np.maximum(c3, 0) + c3


x = rng.standard_normal(shape).astype(np.float32)
np.save(os.path.join(work, "x.npy"), x)
ref = reference(x.astype(np.float64))
quant_compile = os.path.join(bindir, "quant-compile")
for flags in ([], ["--f32-kernels", "none"]):
    lib = os.path.join(work, f"lib{len(flags)}.so")
    run(quant_compile, model, *flags, "-o", lib)
    out = os.path.join(work, f"out{len(flags)}")
    run(os.path.join(bindir, "quant-run"), lib, "-i", "x=" + os.path.join(work, "x.npy"),
        "-o", out)
    y = np.load(os.path.join(out, "y.npy")).astype(np.float64)
    err = np.abs(y - ref).max() / np.abs(ref).max()
    name = " ".join(flags) or "default"
    print(f"float build ({name}) vs float64 reference: "
          f"{'ok' if err < 1e-5 else 'FAILED'} (max error {err:.1e} of the largest output)")

# The kernel calls qc-lower-to-microkernels makes of the imported model:
# the number of epilogue steps is the argument before `out`.
mlir = os.path.join(work, "float_epilogue.mlir")
run(os.path.join(bindir, "quant-translate"), "--import-onnx", model, "-o", mlir)
ir = run(os.path.join(bindir, "quant-opt"), mlir,
         "--qc-lower-to-microkernels=f32-kernels=avx512")
calls = re.findall(r"call @qc_k_conv2d_f32_avx512\((.*?)\)", ir)
steps = sorted(int(re.fullmatch(r"%c(\d+)_i64", c.split(", ")[-4]).group(1)) for c in calls)
print(f"conv calls: {len(calls)}, epilogue steps: {steps}, "
      f"ops left: {sorted(set(re.findall(r'qc[.][a-z]+', ir)))}")
