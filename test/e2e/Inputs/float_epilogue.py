"""The float convolution kernel's fused epilogue, end to end: a network
whose convolutions are followed by LeakyRelu -> Max (a constant), a
residual Add -> Relu, Clip (constant bounds) after a depthwise conv, Relu
-> MaxPool 2x2 (the pool fused too), and a conv whose result has two users
(not fused). Checked:
  - the default float build (the AVX-512 kernels where the CPU has them,
    the elementwise ops fused into their epilogues) and the linalg build
    (--f32-kernels none) against a float64 numpy reference;
  - the kernel calls qc-lower-to-microkernels makes: 5, with 2, 2, 2, 1
    and 0 epilogue steps, one 2x2 pool; the Relu and Adds after the
    two-user conv and the pool left.

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
           "w3": w(8, 16, 3, 3), "b3": w(8, 1)[:, 0],
           "w4": w(8, 16, 3, 1), "b4": w(8, 1)[:, 0]}
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
    helper.make_node("Add", ["r3", "c3"], ["s3"]),
    helper.make_node("Conv", ["k2", "w4", "b4"], ["c4"], pads=[1, 0, 1, 0]),
    helper.make_node("Relu", ["c4"], ["r4"]),
    helper.make_node("MaxPool", ["r4"], ["p4"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Add", ["s3", "p4"], ["y"]),
]
shape = [2, 8, 10, 8]
model = save_model(os.path.join(work, "float_epilogue.onnx"), nodes, weights, shape,
                   [2, 8, 5, 4])


def reference(x):
    d = {k: v.astype(np.float64) for k, v in weights.items()}
    c0 = conv(x, d["w0"], d["b0"], 1)
    m0 = np.maximum(np.where(c0 < 0, c0 * 0.2, c0), -0.1)
    r1 = np.maximum(m0 + conv(m0, d["w1"], d["b1"], 0), 0)
    k2 = np.clip(conv(r1, d["w2"], d["b2"], 1, group=16), 0.0, 0.5)
    c3 = conv(k2, d["w3"], d["b3"], 1, stride=(2, 2))
    r4 = np.maximum(conv(np.pad(k2, ((0, 0), (0, 0), (1, 1), (0, 0))), d["w4"], d["b4"], 0), 0)
    n, f, h, wd = r4.shape
    p4 = r4.reshape(n, f, h // 2, 2, wd // 2, 2).max(axis=(3, 5))
    return np.maximum(c3, 0) + c3 + p4


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
# the epilogue steps and the pool's height and width are the three
# arguments before `out`.
mlir = os.path.join(work, "float_epilogue.mlir")
run(os.path.join(bindir, "quant-translate"), "--import-onnx", model, "-o", mlir)
ir = run(os.path.join(bindir, "quant-opt"), mlir,
         "--qc-lower-to-microkernels=f32-kernels=avx512")
calls = re.findall(r"call @qc_k_conv2d_f32_avx512\((.*?)\)", ir)
args = [[int(re.fullmatch(r"%c(\d+)_i64", a).group(1)) for a in c.split(", ")[-6:-3]]
        for c in calls]
print(f"conv calls: {len(calls)}, epilogue steps: {sorted(a[0] for a in args)}, "
      f"pools: {[(a[1], a[2]) for a in args if a[1]]}, "
      f"ops left: {sorted(set(re.findall(r'qc[.][a-z]+', ir)))}")
