#!/usr/bin/python3
"""Post-training int8 quantization end to end: a small residual CNN (Conv+BN,
Relu, residual Add, MaxPool, 1x1 Conv, GlobalAveragePool, Gemm) is calibrated
and compiled to an integer-only library by quant-compile; quant-run runs it on
held-out inputs and the outputs are compared with a float64 numpy reference.

  ptq_resnet.py WORKDIR BINDIR
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(7)


def he(shape):
    fan_in = int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


W = {
    "w1": he((8, 3, 3, 3)), "b1": (0.1 * rng.standard_normal(8)).astype(np.float32),
    "w2": he((8, 8, 3, 3)), "b2": (0.1 * rng.standard_normal(8)).astype(np.float32),
    "w3": he((16, 8, 1, 1)), "b3": (0.1 * rng.standard_normal(16)).astype(np.float32),
    "fcw": he((10, 16)), "fcb": (0.1 * rng.standard_normal(10)).astype(np.float32),
}
for k in ("1", "2"):
    W["s" + k] = rng.uniform(0.5, 1.5, 8).astype(np.float32)
    W["bb" + k] = (0.2 * rng.standard_normal(8)).astype(np.float32)
    W["m" + k] = (0.2 * rng.standard_normal(8)).astype(np.float32)
    W["v" + k] = rng.uniform(0.5, 2.0, 8).astype(np.float32)

nodes = [
    helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["c1", "s1", "bb1", "m1", "v1"], ["n1"], name="bn1"),
    helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
    helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["c2", "s2", "bb2", "m2", "v2"], ["n2"], name="bn2"),
    helper.make_node("Add", ["n2", "r1"], ["a"], name="residual"),
    helper.make_node("Relu", ["a"], ["r2"], name="relu2"),
    helper.make_node("MaxPool", ["r2"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Conv", ["p", "w3", "b3"], ["c3"], name="conv3"),
    helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
    helper.make_node("GlobalAveragePool", ["r3"], ["g"], name="gap"),
    helper.make_node("Flatten", ["g"], ["f"], name="flat"),
    helper.make_node("Gemm", ["f", "fcw", "fcb"], ["y"], name="fc", transB=1),
]
graph = helper.make_graph(
    nodes, "ptq_resnet",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
    [numpy_helper.from_array(v, k) for k, v in W.items()])
model_path = os.path.join(work, "ptq_resnet.onnx")
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model_path)


def conv(x, w, b, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nchw,fc->nfhw", x[:, :, i:i + oh, j:j + ow], w[:, :, i, j])
    return out + b[None, :, None, None]


def bn(x, k):
    g = W["s" + k] / np.sqrt(W["v" + k].astype(np.float64) + 1e-5)
    return (x - W["m" + k][None, :, None, None]) * g[None, :, None, None] + W["bb" + k][None, :, None, None]


def reference(x):
    x = x.astype(np.float64)
    r1 = np.maximum(bn(conv(x, W["w1"], W["b1"], 1), "1"), 0)
    r2 = np.maximum(bn(conv(r1, W["w2"], W["b2"], 1), "2") + r1, 0)
    n, c, h, w = r2.shape
    p = r2.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
    r3 = np.maximum(conv(p, W["w3"], W["b3"], 0), 0)
    g = r3.mean(axis=(2, 3))
    return g @ W["fcw"].T.astype(np.float64) + W["fcb"]


def image():
    # Smooth images: low-frequency noise upsampled, plus a little pixel noise.
    low = rng.standard_normal((1, 3, 4, 4))
    return (np.kron(low, np.ones((1, 1, 4, 4))) + 0.3 * rng.standard_normal((1, 3, 16, 16))).astype(np.float32)


calib = os.path.join(work, "calib")
os.makedirs(calib, exist_ok=True)
for i in range(32):
    np.savez(os.path.join(calib, f"sample_{i}.npz"), x=image())
evals = [image() for _ in range(24)]
for i, x in enumerate(evals):
    np.save(os.path.join(work, f"eval_{i}.npy"), x)
refs = [reference(x) for x in evals]


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def compile_int8(name, *extra):
    lib = os.path.join(work, f"lib{name}.so")
    out = run(os.path.join(bindir, "quant-compile"), model_path, "--calibration-data", calib,
              "--samples", "32", "-o", lib, *extra)
    return lib, out


def evaluate(lib):
    outs = []
    for i in range(len(evals)):
        d = os.path.join(work, "out", os.path.basename(lib), str(i))
        run(os.path.join(bindir, "quant-run"), lib, "-i", f"x={work}/eval_{i}.npy", "-o", d)
        outs.append(np.load(os.path.join(d, "y.npy")).astype(np.float64))
    sig = sum(float((r ** 2).sum()) for r in refs)
    noise = sum(float(((r - o) ** 2).sum()) for r, o in zip(refs, outs))
    top1 = np.mean([r.argmax() == o.argmax() for r, o in zip(refs, outs)])
    return 10 * np.log10(sig / noise), top1, outs


def check(name, sqnr, top1, min_sqnr, min_top1):
    # An int8 build is close to float but not equal to it: a float build in
    # disguise would give > 80 dB.
    ok = min_sqnr <= sqnr < 80 and top1 >= min_top1
    print(f"{name}: SQNR {sqnr:.1f} dB, top-1 agreement {100 * top1:.0f}% vs the float reference: "
          f"{'ok' if ok else 'FAILED'} (want >= {min_sqnr} dB, >= {100 * min_top1:.0f}%)")
    return ok


good = True
float_lib = os.path.join(work, "libfloat.so")
run(os.path.join(bindir, "quant-compile"), model_path, "-o", float_lib)
fs, ft, _ = evaluate(float_lib)
print(f"float build: SQNR {'%.0f' % fs if fs < 200 else 'inf'} dB vs the reference")
good &= fs > 100

report = os.path.join(work, "report.json")
stats = os.path.join(work, "stats.json")
lib, out = compile_int8("ptq", "--report", report, "--save-calibration", stats, "--eval-samples", "8")
sys.stdout.write(out)
s, t, base_outs = evaluate(lib)
good &= check("int8 minmax", s, t, 28, 0.9)

import json
rep = json.load(open(report))
layer_names = [l["tensor"] for l in rep["layers"]]
print("report layers:", ", ".join(layer_names))
good &= all(l["sqnr_db"] > 25 for l in rep["layers"])

for method in ("percentile", "mse", "entropy"):
    lib_m, _ = compile_int8(method, "--calibration-method", method)
    s, t, _ = evaluate(lib_m)
    good &= check(f"int8 {method}", s, t, 25, 0.8)

lib_i8, _ = compile_int8("i8", "--activation-type", "i8", "--weight-granularity", "tensor",
                         "--no-bias-correction")
s, t, _ = evaluate(lib_i8)
good &= check("int8 i8 activations, per-tensor weights, no bias correction", s, t, 20, 0.8)

# Per-block weight scales (blocks of 4 along the reduction axis: conv2 and
# conv3 have 8 input channels, fc 16; conv1's 3 stay per channel).
qdq = os.path.join(work, "block4.mlir")
lib_b, _ = compile_int8("block4", "--weight-granularity", "block:4", "--emit-qdq", qdq)
s, t, _ = evaluate(lib_b)
blocked = open(qdq).read().count("!quant.uniform<i8<-127:127>:f32:{")
print(f"block:4 weights: {blocked} block-quantized weight types in the QDQ form")
good &= check("int8 block:4 weights", s, t, 28, 0.9) and blocked >= 3

# Saved statistics give the same quantization without re-running calibration.
lib_l = os.path.join(work, "libloaded.so")
run(os.path.join(bindir, "quant-compile"), model_path, "--load-calibration", stats, "-o", lib_l)
_, _, loaded_outs = evaluate(lib_l)
same = all(np.array_equal(a, b) for a, b in zip(base_outs, loaded_outs))
print(f"--load-calibration reproduces the calibrated build: {'ok' if same else 'FAILED'}")
good &= same

# The int8 kernels (AVX-512 VNNI where this CPU has it, else generic), the
# generic kernels and the linalg lowering compute the same definition
# independently: their integers, hence outputs, must be equal, also with
# the kernels split over two threads.
variants = [("generic", []), ("none", []), ("auto", ["--threads", "2"])]
for variant, extra in variants:
    lib_k = os.path.join(work, f"libk_{variant}.so")
    run(os.path.join(bindir, "quant-compile"), model_path, "--load-calibration", stats,
        "--int8-kernels", variant, *extra, "-o", lib_k)
    _, _, k_outs = evaluate(lib_k)
    same = all(np.array_equal(a, b) for a, b in zip(loaded_outs, k_outs))
    print(f"--int8-kernels {variant} {' '.join(extra)}: outputs equal to the default build: "
          f"{'ok' if same else 'FAILED'}")
    good &= same
sys.exit(0 if good else 1)
