#!/usr/bin/python3
"""A binary network end to end: activations binarized as exported models do
(GreaterOrEqual + Where between -1 and 1), binary and ternary weights (a scale
per output channel), convolutions with stride 1 and 2 and a final MatMul.
quant-compile calibrates it and proves the binarized activations two-level
(#qc.lowbit with act_lo / act_hi), so with --lowbit-kernels popcount (and
auto) the binary layers call the AND + popcount kernels. Checks:
  * the popcount build has the AND + popcount kernels (qc_k_conv2d_bin /
    qc_k_matmul_bin, inlined: their 8 x 64-bit popcounts) in its LLVM IR, the
    unpack build does not;
  * its outputs equal, bit for bit, those of the same model compiled with
    --int8-kernels none (the linalg lowering of qc.conv_int, an independent
    implementation) on held-out inputs; so do auto's and unpack's.
(Agreement with the float model is the trained networks' business:
bench/lowbit; here the first layer's int8 rounding flips signs that random
weights leave near zero.)

  binary_net.py WORKDIR BINDIR
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(3)
C0, C1, C2, C3, HW, CLASSES = 8, 64, 64, 96, 12, 10


def binary(shape, levels=(-1.0, 1.0)):
    return rng.choice(np.array(levels, np.float32), size=shape)


alpha = lambda n: (0.5 + rng.random(n)).astype(np.float32)
W = {
    "w0": (rng.standard_normal((C1, C0, 3, 3)) / 8).astype(np.float32),
    "w1": binary((C2, C1, 3, 3)) * alpha(C2)[:, None, None, None] / 24,
    "w2": binary((C3, C2, 3, 3), (-1.0, 0.0, 1.0)) * alpha(C3)[:, None, None, None] / 24,
    "w3": binary((C3 * 6 * 6, CLASSES)) * alpha(CLASSES)[None, :] / 60,
}
consts = {"zero": np.array(0, np.float32), "one": np.array(1, np.float32),
          "mone": np.array(-1, np.float32)}


def binarize(src, dst):
    return [helper.make_node("GreaterOrEqual", [src, "zero"], [dst + "_c"]),
            helper.make_node("Where", [dst + "_c", "one", "mone"], [dst])]


nodes = ([helper.make_node("Conv", ["x", "w0"], ["c0"], pads=[1, 1, 1, 1], name="conv0")]
         + binarize("c0", "b0")
         + [helper.make_node("Conv", ["b0", "w1"], ["c1"], pads=[1, 1, 1, 1], name="bconv1")]
         + binarize("c1", "b1")
         + [helper.make_node("Conv", ["b1", "w2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2],
                             name="tconv2")]
         + binarize("c2", "b2")
         + [helper.make_node("Flatten", ["b2"], ["f"]),
            helper.make_node("MatMul", ["f", "w3"], ["y"], name="bfc")])
graph = helper.make_graph(
    nodes, "binary_net", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C0, HW, HW])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, CLASSES])],
    [numpy_helper.from_array(v.astype(np.float32), k) for k, v in {**W, **consts}.items()])
model = os.path.join(work, "binary_net.onnx")
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)]), model)
np.savez(os.path.join(work, "calib.npz"),
         x=rng.standard_normal((16, 1, C0, HW, HW)).astype(np.float32))


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout + r.stderr


builds = {"popcount": ["--lowbit-kernels", "popcount"], "auto": ["--lowbit-kernels", "auto"],
          "unpack": ["--lowbit-kernels", "unpack"], "linalg": ["--int8-kernels", "none"]}
good = True
for name, flags in builds.items():
    common = [os.path.join(bindir, "quant-compile"), model, "--calibration-data",
              os.path.join(work, "calib.npz")] + flags
    run(*common, "-o", os.path.join(work, f"{name}.so"))
    if name in ("popcount", "unpack"):
        ir = run(*common, "--emit-llvm", "-o", os.path.join(work, f"{name}.ll"))
        text = open(os.path.join(work, f"{name}.ll")).read()
        # The kernels are inlined into the model; their 8 x 64-bit popcounts
        # are what only the AND + popcount kernels use.
        calls = text.count("@llvm.ctpop.v8i64(")
        ok = (calls > 0) == (name == "popcount")
        print(f"{name}: 8 x 64-bit popcounts (the popcount kernels) in the IR: {calls}: "
              f"{'ok' if ok else 'FAILED'}")
        good &= ok

outs = {name: [] for name in builds}
evals = [rng.standard_normal((1, C0, HW, HW)).astype(np.float32) for _ in range(8)]
for i, x in enumerate(evals):
    np.save(os.path.join(work, f"x{i}.npy"), x)
    for name in builds:
        d = os.path.join(work, "out", name, str(i))
        run(os.path.join(bindir, "quant-run"), os.path.join(work, f"{name}.so"), "-i",
            f"x={work}/x{i}.npy", "-o", d)
        outs[name].append(np.load(os.path.join(d, "y.npy")))
for name in ("popcount", "auto", "unpack"):
    ok = all(np.array_equal(a, b) for a, b in zip(outs[name], outs["linalg"]))
    print(f"{name} build vs --int8-kernels none: bit-identical on {len(evals)} inputs: "
          f"{'ok' if ok else 'FAILED'}")
    good &= ok
sys.exit(0 if good else 1)
