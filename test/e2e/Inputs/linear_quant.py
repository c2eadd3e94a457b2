#!/usr/bin/python3
"""GPTQ weight rounding and per-token activations end to end: a two-layer
MLP (MatMul+Add, Relu, MatMul) on inputs with strongly correlated channels
is quantized by quant-compile with 4- and 3-bit weights, rounded to nearest
and by GPTQ, and with per-token (dynamic, per-row) int8 activations.
Checks, against numpy:
  * the GPTQ integers equal those of an independent numpy GPTQ (Frantar et
    al., Algorithm 1 with act order and 1% dampening) computed from the
    float model's layer inputs on the same calibration data;
  * on held-out inputs, GPTQ's output error against the float64 reference is
    well below round-to-nearest's;
  * the per-token build (int8 products of each row at its own scale) equals
    numpy's per-row quantization of the same model.

  linear_quant.py WORKDIR BINDIR
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(11)
K, H, N, ROWS = 64, 48, 16, 16

W = {
    "w1": (rng.standard_normal((K, H)) / np.sqrt(K)).astype(np.float32),
    "b1": (0.1 * rng.standard_normal(H)).astype(np.float32),
    "w2": (rng.standard_normal((H, N)) / np.sqrt(H)).astype(np.float32),
}
nodes = [
    helper.make_node("MatMul", ["x", "w1"], ["m1"], name="fc1"),
    helper.make_node("Add", ["m1", "b1"], ["a1"], name="bias1"),
    helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
    helper.make_node("MatMul", ["r1", "w2"], ["y"], name="fc2"),
]
graph = helper.make_graph(
    nodes, "gptq_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, N])],
    [numpy_helper.from_array(v, k) for k, v in W.items()])
model = os.path.join(work, "mlp.onnx")
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)

# Correlated input channels of unequal energy: what makes GPTQ's error
# feedback worth more than rounding each weight on its own.
mix = rng.standard_normal((K, K)) * np.linspace(2.0, 0.1, K)[:, None]


def sample():
    return (rng.standard_normal((ROWS, K)) @ mix / np.sqrt(K)).astype(np.float32)


calib = [sample() for _ in range(32)]
np.savez(os.path.join(work, "calib.npz"), x=np.stack(calib))
evals = [sample() for _ in range(16)]
for i, x in enumerate(evals):
    np.save(os.path.join(work, f"eval_{i}.npy"), x)


def hidden(x):
    return np.maximum(x.astype(np.float64) @ W["w1"] + W["b1"], 0)


def reference(x):
    return hidden(x) @ W["w2"]


def gptq(w, xs, qmax, damp=0.01):
    """Frantar et al. Algorithm 1, act order: w is K x N (reduction first)."""
    w = w.astype(np.float64).copy()
    h = xs.T @ xs / len(xs)
    scale = np.abs(w).max(axis=0) / qmax
    scale[scale == 0] = 1
    dead = np.diag(h) == 0
    h[dead, dead] = 1
    w[dead, :] = 0
    order = np.argsort(-np.diag(h), kind="stable")
    w, h = w[order], h[order][:, order]
    h += damp * np.mean(np.diag(h)) * np.eye(len(h))
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # upper, H^-1 = U^T U
    q = np.zeros_like(w)
    for i in range(len(w)):
        q[i] = np.clip(np.round(w[i] / scale), -qmax, qmax)
        err = (w[i] - q[i] * scale) / u[i, i]
        w[i + 1:] -= np.outer(u[i, i + 1:], err)
    out = np.zeros_like(q)
    out[order] = q
    return out.astype(np.int64)


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def blobs(path):
    """The int8 resource blobs of an MLIR file, by name (4 bytes of alignment first)."""
    text = open(path).read()
    out = {}
    for name, hexdata in re.findall(r'([\w."]+): "0x([0-9A-Fa-f]+)"', text):
        out[name.strip('"')] = np.frombuffer(bytes.fromhex(hexdata)[4:], np.int8)
    return out


def evaluate(lib):
    sig = noise = 0.0
    for i, x in enumerate(evals):
        d = os.path.join(work, "out", os.path.basename(lib), str(i))
        run(os.path.join(bindir, "quant-run"), lib, "-i", f"x={work}/eval_{i}.npy", "-o", d)
        got = np.load(os.path.join(d, "y.npy")).astype(np.float64)
        ref = reference(x)
        sig += float((ref ** 2).sum())
        noise += float(((ref - got) ** 2).sum())
    return 10 * np.log10(sig / noise)


good = True
xs1 = np.concatenate(calib).astype(np.float64)
xs2 = np.concatenate([hidden(x) for x in calib])
for bits in (4, 3):
    qmax = 2 ** (bits - 1) - 1
    sqnr = {}
    for rounding in ("nearest", "gptq"):
        lib = os.path.join(work, f"lib_w{bits}_{rounding}.so")
        qdq = os.path.join(work, f"w{bits}_{rounding}.mlir")
        run(os.path.join(bindir, "quant-compile"), model, "--calibration-data",
            os.path.join(work, "calib.npz"), "--weight-bits", str(bits), "--quantize-scope",
            "linear", "--weight-rounding", rounding, "--emit-qdq", qdq, "-o", lib)
        sqnr[rounding] = evaluate(lib)
        if rounding != "gptq":
            continue
        got = blobs(qdq)
        for layer, w, xs in (("fc1", W["w1"], xs1), ("fc2", W["w2"], xs2)):
            name = f"{layer}.weight_int{bits}"
            if name not in got:
                sys.exit(f"no blob {name} in {qdq} (have {sorted(got)})")
            want = gptq(w, xs, qmax)
            mine = got[name].astype(np.int64).reshape(want.shape)
            same = float((mine == want).mean())
            ok = same >= 0.98 and np.abs(mine - want).max() <= 1
            print(f"W{bits} {layer}: GPTQ integers equal to numpy's for {100 * same:.1f}% of "
                  f"the weights: {'ok' if ok else 'FAILED'}")
            good &= ok
    ok = sqnr["gptq"] >= sqnr["nearest"] + 2.0
    print(f"W{bits}A8 output SQNR vs float: nearest {sqnr['nearest']:.1f} dB, GPTQ "
          f"{sqnr['gptq']:.1f} dB: {'ok' if ok else 'FAILED'} (want GPTQ >= nearest + 2 dB)")
    good &= ok

# Per-token activations: each row of a linear input at scale max |row| / 127,
# int8 products with the per-channel int8 weights, scaled back in float.
def per_token(x):
    s = np.maximum(np.abs(x).max(axis=-1, keepdims=True), np.float32(1e-12)) / np.float32(127)
    return np.clip(np.round(x / s), -127, 127).astype(np.float64), s.astype(np.float64)


def rtn(w, bits=8):
    qmax = 2 ** (bits - 1) - 1
    s = np.abs(w.astype(np.float64)).max(axis=0) / qmax
    return np.clip(np.round(w / s), -qmax, qmax), s


def tie_slack(t, scale, q2, s2):
    """What the second layer's output may differ by because some of its
    inputs t (in quantization steps, [rows, groups, G]) lie within 1e-4 of a
    rounding tie: float32 evaluation order decides which way those round, so
    each may move its output by one step, scale * |w|."""
    amb = np.abs(np.abs(t - np.floor(t)) - 0.5) < 1e-4
    step = (amb * scale).reshape(t.shape[0], -1)
    return step @ (np.abs(q2) * s2), int(amb.sum())


def rodata(lib):
    """Bytes of the library's read-only data (where the weight blobs live)."""
    out = run("readelf", "-S", "-W", lib)
    return sum(int(m.group(1), 16) for m in re.finditer(r"\.l?rodata\S*\s+PROGBITS\s+\S+\s+\S+\s+(\S+)", out))


# With 8-, 4- and 2-bit weights: the 4- and 2-bit ones are stored two and
# four per byte and expanded by the kernel (--lowbit-kernels unpack); all
# three agree with numpy, and the library's read-only data shrinks by the
# packed panels' bytes. The 4- and 2-bit (ternary) weights also run on
# their bit planes (--lowbit-kernels lut, the table-lookup kernel, and auto,
# whichever is faster here) and agree with numpy as well, as do 3-bit
# weights (stored in 4-bit fields) unpacked and on their bit planes.
sizes = {}
for bits, kernels in ((8, "unpack"), (4, "unpack"), (2, "unpack"), (4, "lut"), (2, "lut"),
                      (2, "auto"), (3, "unpack"), (3, "lut")):
    lib = os.path.join(work, f"lib_token_w{bits}_{kernels}.so")
    run(os.path.join(bindir, "quant-compile"), model, "--calibration-data",
        os.path.join(work, "calib.npz"), "--quantize-scope", "linear", "--activation-granularity",
        "token", "--weight-bits", str(bits), "--weight-rounding", "nearest",
        "--lowbit-kernels", kernels, "-o", lib)
    if kernels == "unpack":
        sizes[bits] = rodata(lib)
    (q1, s1), (q2, s2) = rtn(W["w1"], bits), rtn(W["w2"], bits)
    worst, ties = 0.0, 0
    for i, x in enumerate(evals):
        d = os.path.join(work, "out", f"token{bits}{kernels}", str(i))
        run(os.path.join(bindir, "quant-run"), lib, "-i", f"x={work}/eval_{i}.npy", "-o", d)
        got = np.load(os.path.join(d, "y.npy")).astype(np.float64)
        qx, sx = per_token(x)
        h = np.maximum((qx @ q1) * s1 * sx + W["b1"], 0).astype(np.float32)
        qh, sh = per_token(h)
        want = (qh @ q2) * s2 * sh
        slack, n = tie_slack((h / sh)[:, None, :], sh[:, :, None], q2, s2)
        ties += n
        worst = max(worst, float(np.maximum(np.abs(got - want) - slack, 0).max() /
                                 np.abs(want).max()))
    ok = worst <= 1e-5
    print(f"per-token int8 activations, W{bits}, {kernels} kernels: max |ours - numpy| / "
          f"max |output| = {worst:.1e} beyond {ties} rounding ties: {'ok' if ok else 'FAILED'} "
          f"(want <= 1e-5)")
    good &= ok

# Per-group activations (--activation-granularity group:16): a scale per 16
# consecutive channels of a row, an int8 product per group, scaled and summed
# in float. Equal to numpy's, and closer to float than a scale per row (the
# input's channels have unequal energy; with 8-bit weights, whose error
# does not hide the activations').
def per_group(x, g):
    return per_token(x.reshape(*x.shape[:-1], -1, g))


def group_product(x, q, s, g):
    qx, sx = per_group(x, g)
    return sum((qx[..., b, :] @ q[b * g:(b + 1) * g]) * s * sx[..., b, :]
               for b in range(qx.shape[-2]))


for bits in (8, 4):
    lib = os.path.join(work, f"lib_group_w{bits}.so")
    run(os.path.join(bindir, "quant-compile"), model, "--calibration-data",
        os.path.join(work, "calib.npz"), "--quantize-scope", "linear", "--activation-granularity",
        "group:16", "--weight-bits", str(bits), "--weight-rounding", "nearest", "-o", lib)
    (q1, s1), (q2, s2) = rtn(W["w1"], bits), rtn(W["w2"], bits)
    worst, err, ties = 0.0, {"group": 0.0, "token": 0.0}, 0
    sig = 0.0
    for i, x in enumerate(evals):
        d = os.path.join(work, "out", f"group{bits}", str(i))
        run(os.path.join(bindir, "quant-run"), lib, "-i", f"x={work}/eval_{i}.npy", "-o", d)
        got = np.load(os.path.join(d, "y.npy")).astype(np.float64)
        h = np.maximum(group_product(x, q1, s1, 16) + W["b1"], 0).astype(np.float32)
        want = group_product(h, q2, s2, 16)
        sh = per_group(h, 16)[1]
        slack, n = tie_slack(h.reshape(sh.shape[0], -1, 16) / sh, sh, q2, s2)
        ties += n
        worst = max(worst, float(np.maximum(np.abs(got - want) - slack, 0).max() /
                                 np.abs(want).max()))
        tok = np.load(os.path.join(work, "out", f"token{bits}unpack", str(i), "y.npy")).astype(np.float64)
        ref = reference(x)
        sig += float((ref ** 2).sum())
        err["group"] += float(((got - ref) ** 2).sum())
        err["token"] += float(((tok - ref) ** 2).sum())
    ok = worst <= 1e-5
    print(f"per-group int8 activations (group:16), W{bits}: max |ours - numpy| / max |output| = "
          f"{worst:.1e} beyond {ties} rounding ties: {'ok' if ok else 'FAILED'} (want <= 1e-5)")
    good &= ok
    if bits != 8:  # 4-bit weights: their error dominates both
        continue
    db = {k: 10 * np.log10(sig / v) for k, v in err.items()}
    ok = db["group"] > db["token"]
    print(f"per-group vs per-token, W{bits}: output SQNR vs float {db['group']:.1f} dB / "
          f"{db['token']:.1f} dB: {'ok' if ok else 'FAILED'} (want group > token)")
    good &= ok
# Asymmetric dynamic activations (--activation-type u8 with token or
# group:16): each row or group over [min(x, 0), max(x, 0)] in 255 steps with
# a zero point, the int8 products corrected by the zero points times the
# weights' column sums. Equal to numpy's, and closer to float than the
# symmetric scales with W8 (fc2 reads a ReLU output: half of a symmetric
# range is never used).
def asym(x):
    lo = np.minimum(x.min(axis=-1, keepdims=True), np.float32(0))
    hi = np.maximum(x.max(axis=-1, keepdims=True), np.float32(0))
    s = np.maximum(hi - lo, np.float32(1e-12)) / np.float32(255)
    z = np.float32(-128) - np.round(lo / s)
    q = np.clip(np.round(x / s) + z, -128, 127)
    return (q - z).astype(np.float64), s.astype(np.float64)


def asym_product(x, q, s, g):
    qx, sx = asym(x.reshape(*x.shape[:-1], -1, g))
    return sum((qx[..., b, :] @ q[b * g:(b + 1) * g]) * s * sx[..., b, :]
               for b in range(qx.shape[-2]))


(q1, s1), (q2, s2) = rtn(W["w1"]), rtn(W["w2"])
# The group case also through the generic kernels and the linalg loops
# (qc.matmul_group_scaled's three lowerings).
for gran, sym, kernels in (("token", "token8unpack", "auto"), ("group:16", "group8", "auto"),
                           ("group:16", "group8", "generic"), ("group:16", "group8", "none")):
    lib = os.path.join(work, f"lib_asym_{gran.replace(':', '')}_{kernels}.so")
    run(os.path.join(bindir, "quant-compile"), model, "--calibration-data",
        os.path.join(work, "calib.npz"), "--quantize-scope", "linear", "--activation-granularity",
        gran, "--activation-type", "u8", "--weight-rounding", "nearest", "--int8-kernels",
        kernels, "-o", lib)
    worst, err, sig, ties = 0.0, {"asym": 0.0, "sym": 0.0}, 0.0, 0
    for i, x in enumerate(evals):
        d = os.path.join(work, "out", f"asym_{gran}_{kernels}", str(i))
        run(os.path.join(bindir, "quant-run"), lib, "-i", f"x={work}/eval_{i}.npy", "-o", d)
        got = np.load(os.path.join(d, "y.npy")).astype(np.float64)
        g = 16 if gran != "token" else x.shape[-1]
        h = np.maximum(asym_product(x, q1, s1, g) + W["b1"], 0).astype(np.float32)
        g2 = 16 if gran != "token" else h.shape[-1]
        want = asym_product(h, q2, s2, g2)
        hg = h.reshape(h.shape[0], -1, g2)
        sh = asym(hg)[1]
        slack, n = tie_slack(hg / sh, sh, q2, s2)
        ties += n
        worst = max(worst, float(np.maximum(np.abs(got - want) - slack, 0).max() /
                                 np.abs(want).max()))
        ref = reference(x)
        symmetric = np.load(os.path.join(work, "out", sym, str(i), "y.npy")).astype(np.float64)
        sig += float((ref ** 2).sum())
        err["asym"] += float(((got - ref) ** 2).sum())
        err["sym"] += float(((symmetric - ref) ** 2).sum())
    ok = worst <= 1e-5
    print(f"asymmetric {gran} activations, W8, {kernels} kernels: max |ours - numpy| / max "
          f"|output| = {worst:.1e} beyond {ties} rounding ties: {'ok' if ok else 'FAILED'} "
          f"(want <= 1e-5)")
    good &= ok
    db = {k: 10 * np.log10(sig / v) for k, v in err.items()}
    ok = db["asym"] > db["sym"]
    print(f"asymmetric vs symmetric {gran}, W8, {kernels} kernels: output SQNR vs float "
          f"{db['asym']:.1f} dB / "
          f"{db['sym']:.1f} dB: {'ok' if ok else 'FAILED'} (want asymmetric > symmetric)")
    good &= ok
# The kernels' panels: K rounded up to 4, 64-column blocks (fc1 64 x 48,
# fc2 48 x 16): 4096 + 3072 bytes at 8 bits.
panels = 4 * (64 // 4) * 64 + 4 * (48 // 4) * 64
for hi, lo in ((8, 4), (4, 2)):
    want = panels * (hi - lo) // 8
    ok = abs(sizes[hi] - sizes[lo] - want) <= 192  # the blobs are 64-byte aligned
    print(f"read-only data W{hi} -> W{lo}: {sizes[hi] - sizes[lo]} bytes less (packed weights: "
          f"{want}): {'ok' if ok else 'FAILED'}")
    good &= ok

# Bit widths by integer programming. The sensitivity table against numpy:
# the relative output error of the float model with one layer's weights
# rounded to nearest per channel (or one input fake-quantized to u8 over its
# calibrated range), on the first 8 calibration samples.
table = os.path.join(work, "sensitivity.json")
params = K * H + H * N


def bits_auto(budget_bits, *extra):
    lib = os.path.join(work, f"lib_auto_{budget_bits}{'_'.join(extra)}.so")
    return lib, subprocess.run(
        [os.path.join(bindir, "quant-compile"), model, "--calibration-data",
         os.path.join(work, "calib.npz"), "--quantize-scope", "linear", "--weight-rounding",
         "nearest", "--bits", "auto", "--pin-first-last=false", "--sensitivity-metric", "mse",
         "--sensitivity-cache", table, "--size-budget", str(budget_bits), *extra, "-o", lib],
        capture_output=True, text=True)


lib, r = bits_auto(10 ** 9)
if r.returncode:
    sys.exit(r.stdout + r.stderr)
t = json.load(open(table))
xs = calib[:8]
ref = [reference(x) for x in xs]


def rel_error(outs):
    return sum(float(((a - b) ** 2).sum()) for a, b in zip(ref, outs)) / \
        sum(float((a ** 2).sum()) for a in ref)


def rtn_w(w, bits):
    qmax = 2 ** (bits - 1) - 1
    s = np.abs(w.astype(np.float64)).max(axis=0) / qmax
    return (np.clip(np.round(w / s), -qmax, qmax) * s).astype(np.float32)


# numpy's outputs with one layer's weights at each width, then with the
# input fake-quantized: (table key, layer index, bits index) -> outputs.
quantized_outputs = {}
for li, (layer, wname) in enumerate((("fc1", "w1"), ("fc2", "w2"))):
    assert t["layers"][li]["name"] == layer, t["layers"][li]["name"]
    for bi, bits in enumerate(t["weight_bits"]):
        wq = dict(W)
        wq[wname] = rtn_w(W[wname], bits)
        quantized_outputs[("layers", li, bi)] = [
            np.maximum(x.astype(np.float64) @ wq["w1"] + W["b1"], 0) @ wq["w2"] for x in xs]
allx = np.concatenate(calib)
lo, hi = min(0.0, float(allx.min())), max(0.0, float(allx.max()))
scale = (hi - lo) / 255
zp = min(255, max(0, round(-lo / scale)))
fq = lambda v: (np.clip(np.round(v / scale) + zp, 0, 255) - zp) * scale  # noqa: E731
quantized_outputs[("activations", 0, 0)] = [reference(fq(x.astype(np.float64))) for x in xs]
worst = 0.0
for (key, i, j), outs in quantized_outputs.items():
    want, got = rel_error(outs), t[key][i]["cost"][j]
    worst = max(worst, abs(got - want) / want)
ok = worst <= 1e-4
print(f"sensitivity table vs numpy: worst relative difference {worst:.1e}: "
      f"{'ok' if ok else 'FAILED'} (want <= 1e-4)")
good &= ok

# At 4 bits per weight on average: the program's choice is within the
# budget, CBC proves it optimal, and it is no worse than uniform 4 bits.
budget = t["fixed_bytes"] + params * 4 / 8
lib, r = bits_auto(int(budget))
m = re.search(r"bit widths \(ilp\): optimal .*?; size (\d+) bytes", r.stdout)
ok = r.returncode == 0 and m and int(m.group(1)) <= budget
sq_auto = evaluate(lib) if ok else 0
print(f"--bits auto at {int(budget)} bytes: {'ok' if ok else 'FAILED: ' + r.stdout + r.stderr}")
good &= bool(ok)
uniform = os.path.join(work, "lib_w4_nearest.so")
sq_uniform = evaluate(uniform)
ok = sq_auto >= sq_uniform - 0.1
print(f"ILP mix vs uniform W4 (same size): {'ok' if ok else 'FAILED'} (SQNR {sq_auto:.1f} dB "
      f"vs {sq_uniform:.1f} dB)")
good &= ok
_, r = bits_auto(100)
ok = r.returncode != 0 and "infeasible" in r.stderr and "smallest model" in r.stderr
print(f"--size-budget 100: {'refused, naming the smallest size' if ok else 'FAILED: ' + r.stderr}")
good &= ok

# A latency budget: every layer's product timed in each weight format with
# the kernels; the choice meets the budget; one below the fastest choice is
# refused, naming the fastest.
_, r = bits_auto(10 ** 9, "--latency-budget", "1s")
m = re.search(r"bit widths \(ilp\): optimal .*? ([0-9.]+) us \(kernels\)", r.stdout)
ok = r.returncode == 0 and m and float(m.group(1)) <= 1e6 and "latency: 2 layers x 4" in r.stdout
print(f"--latency-budget 1s: {'ok' if ok else 'FAILED: ' + r.stdout + r.stderr}")
good &= bool(ok)
_, r = bits_auto(10 ** 9, "--latency-budget", "0.001us")
ok = r.returncode != 0 and "latency budget" in r.stderr and "fastest choice" in r.stderr
print(f"--latency-budget 0.001us: {'refused, naming the fastest' if ok else 'FAILED: ' + r.stderr}")
good &= ok

# The task loss: given labels, each entry is the increase of the mean
# cross-entropy of the labelled rows over float's (numpy, float64, with the
# same quantized outputs as above). A model ending in Softmax gives the same
# table (measured at the Softmax's input); one whose output rows are
# probabilities otherwise (a Softmax over the first axis, transposed) gives
# numpy's table of those rows.
labels = np.argmax(np.stack([reference(x) for x in calib]), -1)  # [32, ROWS]
labels[:, 1::7] = (labels[:, 1::7] + 3) % N  # some rows labelled against the model
labels[:, ::5] = -1                          # rows not scored
np.savez(os.path.join(work, "labels.npz"), y=labels)
np.savez(os.path.join(work, "labels_p.npz"), p=labels)


def with_head(name, head):
    g = helper.make_graph(
        nodes + head, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [ROWS, N])],
        [numpy_helper.from_array(v, k) for k, v in W.items()])
    path = os.path.join(work, f"{name}.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


sm_model = with_head("mlp_softmax", [helper.make_node("Softmax", ["y"], ["p"], axis=-1)])
smt_model = with_head("mlp_softmax_t", [helper.make_node("Softmax", ["y"], ["s"], axis=0),
                                        helper.make_node("Transpose", ["s"], ["p"])])


def task_args(m, labels_file, cache):
    return [os.path.join(bindir, "quant-compile"), m, "--calibration-data",
            os.path.join(work, "calib.npz"), "--quantize-scope", "linear", "--weight-rounding",
            "nearest", "--bits", "auto", "--pin-first-last=false", "--size-budget", "1e9",
            "--sensitivity-metric", "task", "--task-labels", labels_file,
            "--sensitivity-cache", os.path.join(work, cache), "-o", os.path.join(work, "t.so")]


def cross_entropy(outs, rows=lambda y: y):
    total = count = 0.0
    for y, lab in zip(outs, labels[:8]):
        y = rows(y)
        y = y - y.max(-1, keepdims=True)
        lp = y - np.log(np.exp(y).sum(-1, keepdims=True))
        sel = lab >= 0
        total -= lp[sel, lab[sel]].sum()
        count += sel.sum()
    return total / count


# model, its labels, the rows numpy scores
heads = [(model, "labels.npz", lambda y: y), (sm_model, "labels_p.npz", lambda y: y),
         (smt_model, "labels_p.npz", lambda y: y.T)]
worst = []
for i, (m, lab, rows) in enumerate(heads):
    run(*task_args(m, os.path.join(work, lab), f"task{i}.json"))
    table = json.load(open(os.path.join(work, f"task{i}.json")))
    base = cross_entropy(ref, rows)
    w = 0.0 if table["metric"] == "task" else float("inf")
    for (key, li, bi), outs in quantized_outputs.items():
        want = cross_entropy(outs, rows) - base
        w = max(w, abs(table[key][li]["cost"][bi] - want) / (1e-2 + abs(want)))
    worst.append(w)
ok = max(worst) <= 1e-4
print(f"task-loss sensitivity vs numpy: worst difference / (0.01 + |numpy|) {worst[0]:.1e} "
      f"(logits), {worst[1]:.1e} (Softmax output), {worst[2]:.1e} (probability rows): "
      f"{'ok' if ok else 'FAILED'} (want <= 1e-4)")
good &= ok
np.savez(os.path.join(work, "labels_bad_shape.npz"), y=labels[:, :5])
np.savez(os.path.join(work, "labels_bad_class.npz"), y=np.full_like(labels, N))
refusals = [
    (task_args(model, os.path.join(work, "labels_bad_shape.npz"), "x.json"),
     "labels_bad_shape.npz: labels 'y' have shape [32, 5]; output 'y' of shape [16, 16] takes "
     "[samples, 16]"),
    (task_args(model, os.path.join(work, "labels_bad_class.npz"), "x.json"),
     "labels_bad_class.npz: sample 0, row 0: class 16 is not below output 'y''s 16 classes"),
    ([a for a in task_args(model, "", "x.json") if a not in ("--task-labels", "")],
     "--sensitivity-metric task needs --task-labels"),
    ([a for a in task_args(model, os.path.join(work, "labels.npz"), "x.json")
      if a not in ("--sensitivity-metric", "task")],
     "--task-labels needs --sensitivity-metric task or --rotation-search-metric task"),
]
for args, want in refusals:
    r = subprocess.run(args, capture_output=True, text=True)
    ok = r.returncode != 0 and want in r.stderr
    print(f"task labels refused: {'ok' if ok else 'FAILED: want ' + repr(want) + ', got ' + r.stderr}")
    good &= ok

# A searched rotation: --rotation-search 3 scores seeds 0, 1, 2 on the first
# calibration samples (16, or --rotation-search-samples) against float by
# --rotation-search-metric (mse: SQNR of the outputs; kl: KL divergence of
# the rows' softmax; task: cross-entropy of --task-labels) and keeps the
# best. Each seed built on its own and scored by numpy against the float64
# reference on the same samples: the search's printed scores must be numpy's,
# it must keep the seed numpy ranks first, and its library must compute what
# that seed's does.
for i, x in enumerate(calib[:16]):
    np.save(os.path.join(work, f"calib_{i}.npy"), x)


def outputs_on_calib(lib):
    outs = []
    for i in range(16):
        d = os.path.join(work, "out", os.path.basename(lib), f"c{i}")
        run(os.path.join(bindir, "quant-run"), lib, "-i", f"x={work}/calib_{i}.npy", "-o", d)
        outs.append(np.load(os.path.join(d, "y.npy")).astype(np.float64))
    return outs


def log_softmax(y):
    y = y - y.max(-1, keepdims=True)
    return y - np.log(np.exp(y).sum(-1, keepdims=True))


def search_cost(metric, outs, n):
    """numpy's score of a candidate (lower is better) and what the search
    prints for it."""
    refs = [reference(x) for x in calib[:n]]
    if metric == "mse":
        rel = sum(((r - g) ** 2).sum() for r, g in zip(refs, outs)) / sum((r ** 2).sum() for r in refs)
        return rel, -10 * np.log10(rel)
    if metric == "kl":
        kl = [(np.exp(log_softmax(r)) * (log_softmax(r) - log_softmax(g))).sum(-1)
              for r, g in zip(refs, outs)]
        v = float(np.concatenate(kl).mean())
        return v, v
    v = cross_entropy(outs[:n])  # labels[:n], the labelled rows
    return v, v


rot = [os.path.join(bindir, "quant-compile"), model, "--calibration-data",
       os.path.join(work, "calib.npz"), "--quantize-scope", "linear", "--weight-bits", "4",
       "--weight-rounding", "nearest", "--rotate-hadamard"]
per_seed = {}
for seed in range(3):
    seed_lib = os.path.join(work, f"lib_rot_{seed}.so")
    run(*rot, "--rotation-seed", str(seed), "-o", seed_lib)
    per_seed[seed] = outputs_on_calib(seed_lib)
printed_re = {"mse": r"SQNR (-?[0-9.]+) dB", "kl": r"KL divergence from float ([0-9.e+-]+) per row",
              "task": r"cross-entropy ([0-9.]+) \(float"}
searches = [("mse", 16, []), ("kl", 16, ["--rotation-search-metric", "kl"]),
            ("task", 8, ["--rotation-search-metric", "task", "--task-labels",
                         os.path.join(work, "labels.npz"), "--rotation-search-samples", "8"])]
for metric, n, extra in searches:
    lib = os.path.join(work, f"lib_rot_search_{metric}.so")
    out = run(*rot, "--rotation-search", "3", *extra, "-o", lib)
    printed = {int(a): float(b) for a, b in
               re.findall(r"rotation seed (\d+): .*?" + printed_re[metric], out)}
    kept = re.search(r"rotation search: seed (\d+) of 3 kept", out)
    costs = {k: search_cost(metric, v[:n], n) for k, v in per_seed.items()}
    order = sorted(costs, key=lambda k: costs[k][0])
    # A near tie (within 1e-3) may go either way.
    firsts = [k for k in order if costs[k][0] <= costs[order[0]][0] * (1 + 1e-3)]
    agree = len(printed) == 3 and all(abs(printed[k] - costs[k][1]) <= 1e-3 * abs(costs[k][1]) + 1e-5
                                      for k in printed)
    same = kept and all(np.array_equal(a, b)
                        for a, b in zip(outputs_on_calib(lib), per_seed[int(kept.group(1))]))
    ok = agree and kept and int(kept.group(1)) in firsts and same
    nan = float("nan")
    print(f"--rotation-search 3 ({metric}, {n} samples): kept seed "
          f"{kept.group(1) if kept else '?'}, numpy ranks seed {order[0]} first "
          f"({', '.join(f'{costs[k][1]:.4g}' for k in range(3))}; printed "
          f"{', '.join(f'{printed.get(k, nan):.4g}' for k in range(3))}): "
          f"{'ok' if ok else 'FAILED: ' + out}")
    good &= bool(ok)
lib = os.path.join(work, "lib_rot_search.so")
refusals = [
    (["--rotation-search", "3", "--rotation-search-metric", "task"],
     "--rotation-search-metric task needs --task-labels"),
    (["--rotation-search", "3", "--rotation-search-metric", "cosine"],
     "unknown --rotation-search-metric 'cosine' (mse, kl or task)"),
    (["--rotation-search-metric", "kl"], "--rotation-search-metric needs --rotation-search N with N > 1"),
    (["--rotation-search", "3", "--rotation-search-metric", "task", "--task-labels",
      os.path.join(work, "labels_bad_shape.npz")], "labels 'y' have shape [32, 5]"),
]
for args, want in refusals:
    r = subprocess.run(rot + args + ["-o", lib], capture_output=True, text=True)
    ok = r.returncode != 0 and want in r.stderr
    print(f"rotation search refused: {'ok' if ok else 'FAILED: want ' + repr(want) + ', got ' + r.stderr}")
    good &= ok
r = subprocess.run(rot + ["--rotation-search", "0", "-o", lib], capture_output=True, text=True)
r2 = subprocess.run(rot[:-1] + ["--rotation-search", "2", "-o", lib], capture_output=True, text=True)
ok = r.returncode != 0 and "at least 1" in r.stderr and r2.returncode != 0 and \
    "needs --rotate-hadamard" in r2.stderr
print(f"--rotation-search 0 / without rotation: {'refused' if ok else 'FAILED: ' + r.stderr + r2.stderr}")
good &= ok

# Without second moments GPTQ cannot run: saved statistics are refused.
r = subprocess.run([os.path.join(bindir, "quant-compile"), model, "--load-calibration",
                    os.path.join(work, "none.json"), "--weight-rounding", "gptq", "-o",
                    os.path.join(work, "x.so")], capture_output=True, text=True)
print("--load-calibration with gptq:", r.returncode != 0 and "second moments" in r.stderr
      and "refused" or "FAILED: " + r.stderr)
good &= r.returncode != 0 and "second moments" in r.stderr
sys.exit(0 if good else 1)
