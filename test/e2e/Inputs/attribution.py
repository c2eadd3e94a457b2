#!/usr/bin/python3
"""--attribution end to end: a two-layer MLP whose hidden layer has one
channel 60x wider than the others (so its per-tensor 8-bit quantization
leaves the other channels few levels) is compiled with --attribution.
Checked against the compiled integer-only library, run by quant-run, and a
float64 numpy reference on the same calibration samples:

  - the attribution's everything-quantized error is the integer build's
    relative squared error against numpy (within a factor of 2: the
    attribution fake-quantizes, the library runs integers with bias
    correction);
  - a hidden activation is the worst tensor alone, leaving it float removes
    most of the error, and the weights and input matter far less;
  - every row's alone and all-but-one errors, and the first cumulative step,
    equal an independent numpy fake quantization of the MLP (to 1e-4).

  attribution.py WORKDIR BINDIR
"""
import json
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import outputs, run, save_model  # noqa: E402

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(3)
W = {"w1": (rng.standard_normal((16, 32)) / 4).astype(np.float32),
     "b1": (0.1 * rng.standard_normal(32)).astype(np.float32),
     "w2": (rng.standard_normal((32, 10)) / 6).astype(np.float32),
     "b2": (0.1 * rng.standard_normal(10)).astype(np.float32)}
W["w1"][:, 0] *= 60
W["w2"][0, :] /= 60
nodes = [helper.make_node("MatMul", ["x", "w1"], ["m1"], name="fc1"),
         helper.make_node("Add", ["m1", "b1"], ["a1"], name="bias1"),
         helper.make_node("Relu", ["a1"], ["h"], name="relu1"),
         helper.make_node("MatMul", ["h", "w2"], ["m2"], name="fc2"),
         helper.make_node("Add", ["m2", "b2"], ["y"], name="bias2")]
model = save_model(os.path.join(work, "mlp.onnx"), nodes, W, [8, 16], [8, 10])

xs = rng.standard_normal((16, 8, 16)).astype(np.float32)
np.savez(os.path.join(work, "calib.npz"), x=xs)


def reference(x):
    h = np.maximum(x.astype(np.float64) @ W["w1"] + W["b1"], 0)
    return h @ W["w2"] + W["b2"]


lib, attr = os.path.join(work, "libmlp.so"), os.path.join(work, "attr.json")
report = os.path.join(work, "report.json")
run(os.path.join(bindir, "quant-compile"), model, "--calibration-data",
    os.path.join(work, "calib.npz"), "--attribution", attr, "--attribution-samples", "4",
    "--samples", "12", "--report", report, "-o", lib)
a = json.load(open(attr))
assert json.load(open(report))["attribution"] == a, "the report's attribution differs"
assert os.path.exists(os.path.join(work, "attr.md")), "no markdown beside the JSON"

# The integer build on the attribution's samples (the first 4).
np.savez(os.path.join(work, "first4.npz"), x=xs[:4])
got = outputs(bindir, lib, os.path.join(work, "first4.npz"), work).reshape(4, 8, 10)
ref = np.stack([reference(x) for x in xs[:4]])
measured = float(((got - ref) ** 2).sum() / (ref ** 2).sum())
ratio = a["all_rel_mse"] / measured
print(f"everything quantized: attribution {a['all_rel_mse']:.3e}, integer build vs numpy "
      f"{measured:.3e}: {'ok' if 0.5 <= ratio <= 2 else 'FAILED'}")

rows = a["rows"]
worst = max(rows, key=lambda r: r["alone_rel_mse"])
print(f"worst alone: {worst['name']} ({worst['kind']}), alone {worst['alone_rel_mse']:.3e}, "
      f"all but it {worst['all_but_rel_mse']:.3e}")
# The wide channel runs through fc1's product and relu1's output; the weights
# and the input quantize well (fc2's weights alone: about 1/7 of the hidden
# activation's error).
hidden = {("fc1", "activation"), ("relu1", "activation")}
rest = [r for r in rows if (r["name"], r["kind"]) not in hidden]
ok = ((worst["name"], worst["kind"]) in hidden and
      worst["alone_rel_mse"] >= 0.5 * a["all_rel_mse"] and
      worst["all_but_rel_mse"] <= 0.3 * a["all_rel_mse"] and
      all(r["alone_rel_mse"] < 0.2 * worst["alone_rel_mse"] for r in rest))
print(f"the wide hidden activation carries the error: {'ok' if ok else 'FAILED'}")

# An independent fake quantization in numpy: per-tensor u8 ranges (min/max
# over the 12 calibration samples, widened to 0), per-channel symmetric int8
# weights; every row's alone and all-but-one errors, and the first
# cumulative step (the worst alone left float), on the first 4 samples.
ranges = {}


def forward(x, act=lambda name, v: v, weight=lambda name, w: w):
    x = act("x", x.astype(np.float64))
    # MatMul + bias Add run as one Gemm (fold-batch-norm's
    # matmul-bias-to-gemm): its output, bias included, is what quantizes.
    m1 = act("fc1", x @ weight("fc1", W["w1"]) + W["b1"])
    h = act("relu1", np.maximum(m1, 0))
    return act("fc2", h @ weight("fc2", W["w2"]) + W["b2"])


def record(name, v):
    lo, hi = ranges.get(name, (np.inf, -np.inf))
    ranges[name] = (min(lo, v.min()), max(hi, v.max()))
    return v


def fake(name, v):
    lo, hi = min(ranges[name][0], 0), max(ranges[name][1], 0)
    scale = (hi - lo) / 255
    zp = np.clip(np.round(-lo / scale), 0, 255)
    return (np.clip(np.round(v / scale) + zp, 0, 255) - zp) * scale


def fake_weight(w):
    scale = np.abs(w).max(0) / 127
    return np.round(w / scale) * scale


for x in xs[:12]:
    forward(x, record)
tensors = {(r["name"], r["kind"]) for r in rows}


def rel_mse(quantized):
    got = np.stack([forward(x, lambda n, v: fake(n, v) if (n, "activation") in quantized else v,
                            lambda n, w: fake_weight(w) if (n, "weights") in quantized else w)
                    for x in xs[:4]])
    return float(((got - ref) ** 2).sum() / (ref ** 2).sum())


def close(ours, numpy):
    return abs(ours - numpy) <= 1e-4 * numpy + 1e-9


worst_key = (worst["name"], worst["kind"])
ok = close(a["all_rel_mse"], rel_mse(tensors))
for r in rows:
    key = (r["name"], r["kind"])
    ok = ok and close(r["alone_rel_mse"], rel_mse({key})) and \
        close(r["all_but_rel_mse"], rel_mse(tensors - {key}))
first = a["cumulative"][0]
ok = ok and (first["float"], first["kind"]) == worst_key and \
    close(first["rel_mse"], rel_mse(tensors - {worst_key}))
print(f"every row and the first cumulative step match a numpy fake quantization: "
      f"{'ok' if ok else 'FAILED'}")
