#!/usr/bin/python3
"""Minifloat and MX weights end to end (quant-compile --weight-format):
models built here are compiled in every format and run by quant-run; the
outputs are compared with a numpy simulation written from the
specifications (OCP OFP8 and MX v1.0, NVFP4), not from the compiler:
  * each format's code points from its field definitions (sign, biased
    exponent, mantissa, subnormals; OFP8 E4M3 without infinities, E5M2
    with), rounding to nearest with ties to the even code, saturating;
  * MX blocks of 32 along the reduction with the E8M0 scale
    2^(floor(log2 max|w|) - emax_elem); NVFP4 blocks of 16 with an E4M3
    scale of max|w| / 6 / t, t = max|W| / (448 * 6); plain formats with an
    f32 scale max|w| / max finite per output channel;
  * activations quantized to u8 with the scales quant-compile reports.
A MatMul of K = 64 runs on the MX kernels (FP4: qc_k_matmul_mx_i8, FP6
E2M3: qc_k_matmul_mx6_i8; auto (vnni where the host has it) and generic) or
the loops (--int8-kernels none), all exact, so with identical bits; one of
K = 48 (a last block of 16) on the loops; a Conv on the float decode. The int8 and FP4 products are
exact, so the quantized outputs agree with numpy up to requantization ties
(at most one output step, on few elements). A NaN weight is refused with
its index.

  minifloat_weights.py WORKDIR BINDIR
"""
import json
import os
import subprocess
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(__file__))
from e2e_util import conv, run, save_model  # noqa: E402

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(7)

# ---- the formats, from their field definitions ---------------------------
SPEC = {  # exponent bits, mantissa bits, bias, kind of top codes
    "e4m3": (4, 3, 7, "ofp8"), "e5m2": (5, 2, 15, "ieee"),
    "e2m3": (2, 3, 1, "mx"), "e3m2": (3, 2, 3, "mx"), "e2m1": (2, 1, 1, "mx"),
}


def code_values(fmt):
    """Value of every code (NaN for NaN/inf codes)."""
    eb, mb, bias, kind = SPEC[fmt]
    vals = []
    for c in range(1 << (1 + eb + mb)):
        s, e, m = c >> (eb + mb), (c >> mb) & ((1 << eb) - 1), c & ((1 << mb) - 1)
        if kind == "ieee" and e == (1 << eb) - 1:
            v = np.nan
        elif kind == "ofp8" and e == (1 << eb) - 1 and m == (1 << mb) - 1:
            v = np.nan
        elif e == 0:
            v = 2.0 ** (1 - bias) * m / 2 ** mb
        else:
            v = 2.0 ** (e - bias) * (1 + m / 2 ** mb)
        vals.append(-v if s else v)
    return np.array(vals)


def round_to(fmt, x):
    """Nearest representable value, ties to the even code, saturating."""
    vals = code_values(fmt)
    pos = [(v, c) for c, v in enumerate(vals) if np.isfinite(v) and v >= 0 and c < len(vals) // 2]
    mags = np.array([v for v, _ in pos])
    codes = np.array([c for _, c in pos])
    a = np.minimum(np.abs(x), mags.max())
    d = np.abs(a[..., None] - mags)
    best = d.min(-1, keepdims=True)
    tie = np.isclose(d, best, rtol=0, atol=0)
    # Among the nearest, the even code.
    pick = np.where(tie & (codes % 2 == 0), 0, 1) + np.where(tie, 0, 2)
    r = mags[pick.argmin(-1)]
    return np.sign(x) * r


def emax(fmt):
    finite = code_values(fmt)
    return int(np.floor(np.log2(np.nanmax(finite))))


def quantize_weight(w, fmt, axis):
    """w's values after the format; reduction along the other axis (w [K, N]
    with axis 1, or [F, ...] with axis 0)."""
    w = w.astype(np.float32)
    mat = w.reshape(w.shape[0], -1) if axis == 0 else w.T  # [channels, K]
    out = np.zeros_like(mat)
    kind, elem = fmt.split("_", 1) if "_" in fmt else (fmt, None)
    if fmt == "mxfp4":
        kind, elem = "mx", "e2m1"
    if fmt == "nvfp4":
        kind, elem = "nv", "e2m1"
    if kind.startswith("mxfp"):
        kind = "mx"
    if kind.startswith("fp"):
        kind = "f32"
    if kind == "mx":
        block = 32
    elif kind == "nv":
        block = 16
        t = np.float32(np.abs(w).max() / (448 * 6))
    else:
        block = mat.shape[1]
    fmax = np.nanmax(code_values(elem))
    for c in range(mat.shape[0]):
        for b0 in range(0, mat.shape[1], block):
            v = mat[c, b0:b0 + block]
            amax = np.abs(v).max()
            if kind == "mx":
                s = np.float32(2.0 ** (np.floor(np.log2(amax)) - emax(elem)) if amax > 0 else 2.0 ** -127)
                out[c, b0:b0 + block] = round_to(elem, v / s) * s
            elif kind == "nv":
                s = np.float32(round_to("e4m3", np.array([amax / fmax / t]))[0])
                s = s if s > 0 else np.float32(2.0 ** -9)
                out[c, b0:b0 + block] = (np.float32(round_to(elem, v / s / t)) * s).astype(np.float32) * t
            else:
                s = np.float32(amax / fmax if amax > 0 else 1)
                out[c, b0:b0 + block] = round_to(elem, v / s) * s
    return (out.reshape(w.shape) if axis == 0 else out.T).astype(np.float64)


def fake_quant(x, scale, zp):
    return (np.clip(np.round(x / scale) + zp, 0, 255) - zp) * scale


def layer_scales(report):
    return {l["tensor"]: (l["scale"], l["zero_point"]) for l in json.load(open(report))["layers"]}


# ---- the models ----------------------------------------------------------
K1, N1, N2, ROWS = 64, 40, 16, 6
W = {
    "w1": (rng.standard_t(3, (K1, N1)) / np.sqrt(K1)).astype(np.float32),
    "b1": (0.1 * rng.standard_normal(N1)).astype(np.float32),
    "w2": (rng.standard_t(4, (N1 + 8, N2)) / np.sqrt(N1)).astype(np.float32),
}
# Column 3's second block far below its first (2^-30): the integer product
# drops it (docs/minifloat.md); its contribution is below the comparison's
# tolerance anyway.
W["w1"][32:, 3] *= 2.0 ** -30
W["w2"] = W["w2"][:N1 + 8]
nodes = [
    helper.make_node("MatMul", ["x", "w1"], ["m1"], name="fc1"),
    helper.make_node("Add", ["m1", "b1"], ["a1"], name="bias1"),
    helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
    helper.make_node("Concat", ["r1", "r1"], ["cat"], axis=1, name="cat"),
    helper.make_node("Slice", ["cat", "s0", "s1", "s2"], ["r1x"], name="slice"),
    helper.make_node("MatMul", ["r1x", "w2"], ["y"], name="fc2"),
]
W["s0"] = np.array([0], np.int64)
W["s1"] = np.array([N1 + 8], np.int64)
W["s2"] = np.array([1], np.int64)
mlp = save_model(os.path.join(work, "mlp.onnx"), nodes, W, [ROWS, K1], [ROWS, N2])
calib = rng.standard_normal((16, ROWS, K1)).astype(np.float32)
np.savez(os.path.join(work, "calib.npz"), x=calib)
xs = rng.standard_normal((8, ROWS, K1)).astype(np.float32)
np.savez(os.path.join(work, "eval.npz"), x=xs)


def mlp_sim(x, w1, w2, sc):
    x = fake_quant(x.astype(np.float64), *sc["x"])
    r1 = fake_quant(np.maximum(x @ w1 + W["b1"], 0), *sc["relu1"])
    r1x = np.concatenate([r1, r1], axis=1)[:, :N1 + 8]
    return fake_quant(r1x @ w2, *sc["fc2"])


# A conv (K = 36: a block of 32 and one of 4) and a depthwise conv after it
# (K = 9: one short block per channel).
CW = {"cw": (rng.standard_t(3, (8, 4, 3, 3)) * 0.3).astype(np.float32),
      "cb": (0.1 * rng.standard_normal(8)).astype(np.float32),
      "dw": (rng.standard_t(3, (8, 1, 3, 3)) * 0.3).astype(np.float32)}
convm = save_model(os.path.join(work, "conv.onnx"),
                   [helper.make_node("Conv", ["x", "cw", "cb"], ["c1"], pads=[1, 1, 1, 1], name="conv"),
                    helper.make_node("Conv", ["c1", "dw"], ["y"], pads=[1, 1, 1, 1], group=8,
                                     name="depthwise")],
                   CW, [1, 4, 6, 6], [1, 8, 6, 6])
ccal = rng.standard_normal((8, 1, 4, 6, 6)).astype(np.float32)
np.savez(os.path.join(work, "ccal.npz"), x=ccal)
cx = rng.standard_normal((4, 1, 4, 6, 6)).astype(np.float32)
np.savez(os.path.join(work, "ceval.npz"), x=cx)


def outputs(lib, samples):
    out = os.path.join(work, "out-" + os.path.basename(lib))
    run(os.path.join(bindir, "quant-run"), lib, "--samples", samples, "-o", out)
    return np.load(os.path.join(out, "y.npy")).astype(np.float64)


def compare(name, y, ref, step):
    diff = np.abs(y.reshape(ref.shape) - ref)
    off = (diff > step * 1e-3).mean()
    ok = diff.max() <= step * 1.001 and off <= 0.05
    print(f"{name}: max diff {diff.max() / step:.2f} steps, {100 * off:.1f}% off: {'ok' if ok else 'FAIL'}")


FORMATS = ["mxfp4", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp8_e4m3", "mxfp8_e5m2", "nvfp4",
           "fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp4_e2m1"]
MX_KERNELS = {"mxfp4": "qc_k_matmul_mx_i8_", "mxfp6_e2m3": "qc_k_matmul_mx6_i8_"}
for fmt in FORMATS:
    kernels = ["auto", "generic", "none"] if fmt in MX_KERNELS else ["auto"]
    mx_out = {}
    for kern in kernels:
        lib = os.path.join(work, f"mlp-{fmt}-{kern}.so")
        report = os.path.join(work, f"mlp-{fmt}-{kern}.json")
        flags = [mlp, "--calibration-data", os.path.join(work, "calib.npz"), "--weight-format",
                 fmt, "--no-bias-correction", "--weight-rounding", "nearest", "--int8-kernels",
                 kern]
        run(os.path.join(bindir, "quant-compile"), *flags, "--report", report, "-o", lib)
        sc = layer_scales(report)
        ref = np.stack([mlp_sim(x, quantize_weight(W["w1"], fmt, 1),
                                quantize_weight(W["w2"], fmt, 1), sc) for x in xs])
        y = outputs(lib, os.path.join(work, "eval.npz"))
        mx_out[kern] = y
        if fmt in MX_KERNELS and kern != "none":
            # fc1 (K = 64) calls the MX kernel: auto's variant is vnni on a
            # host with AVX-512 VNNI.
            ll = lib + ".ll"
            run(os.path.join(bindir, "quant-compile"), *flags, "--emit-llvm", "-o", ll)
            text = open(ll).read()
            calls = sorted({v for v in ("vnni", "generic") if MX_KERNELS[fmt] + v in text})
            print(f"{fmt} MLP ({kern} kernels): MX kernel variants called: "
                  f"{','.join(calls) or 'none'}")
        compare(f"{fmt} MLP ({kern} kernels) vs numpy", y, ref, sc["fc2"][0])
    if fmt in MX_KERNELS:
        # Every MX product is an exact integer: the kernels and the loops
        # give the same bits.
        same = all(np.array_equal(mx_out["auto"], mx_out[k]) for k in ("generic", "none"))
        print(f"{fmt} MLP: auto, generic kernels and loops identical: {'ok' if same else 'FAIL'}")
    lib = os.path.join(work, f"conv-{fmt}.so")
    report = os.path.join(work, f"conv-{fmt}.json")
    run(os.path.join(bindir, "quant-compile"), convm, "--calibration-data",
        os.path.join(work, "ccal.npz"), "--weight-format", fmt, "--no-bias-correction",
        "--report", report, "-o", lib)
    sc = layer_scales(report)
    wq, dq = quantize_weight(CW["cw"], fmt, 0), quantize_weight(CW["dw"], fmt, 0)
    ref = np.stack([fake_quant(conv(fake_quant(conv(fake_quant(x.astype(np.float64), *sc["x"]),
                                                    wq, CW["cb"], 1), *sc["conv"]),
                                    dq, None, 1, group=8), *sc["depthwise"]) for x in cx])
    compare(f"{fmt} Conv and depthwise Conv vs numpy", outputs(lib, os.path.join(work, "ceval.npz")),
            ref, sc["depthwise"][0])

# FP8 activations (--activation-type fp8_*, a scale per tensor: the
# calibrated range over the format's largest value) with FP8 weights: each
# MatMul multiplies FP8 codes by FP8 codes (qc.matmul_fp8, f32 sums). numpy:
# x / s in f32 rounded to the format (nearest even, saturating), the
# products summed in float64. The sums' order differs, so a rounding of
# fc2's input may flip: the check allows a few elements off. E4M3 x E4M3 on
# the FP8 kernel (auto, generic) and on the loops (none).


def fp8_act(x, fmt, scale):
    return round_to(fmt, np.float32(x) / np.float32(scale)) * np.float64(np.float32(scale))


fp8_outputs = {}
for act, wfmt, kern in (("fp8_e4m3", "fp8_e4m3", "auto"), ("fp8_e4m3", "fp8_e4m3", "generic"),
                        ("fp8_e4m3", "fp8_e4m3", "none"), ("fp8_e5m2", "fp8_e5m2", "auto"),
                        ("fp8_e4m3", "fp8_e5m2", "auto")):
    lib = os.path.join(work, f"mlp-a{act}-w{wfmt}-{kern}.so")
    report = os.path.join(work, f"mlp-a{act}-w{wfmt}-{kern}.json")
    run(os.path.join(bindir, "quant-compile"), mlp, "--calibration-data",
        os.path.join(work, "calib.npz"), "--weight-format", wfmt, "--activation-type", act,
        "--quantize-scope", "linear", "--no-bias-correction", "--weight-rounding", "nearest",
        "--int8-kernels", kern, "--report", report, "--emit-qdq", lib + ".qdq.mlir", "-o", lib)
    rep = json.load(open(report))
    acts = {l["tensor"]: l for l in rep["layers"]}
    amax = {"x": np.abs(calib).max()}
    e = act.split("_")[1]
    fmax = np.nanmax(code_values(e))
    w1q, w2q = quantize_weight(W["w1"], wfmt, 1), quantize_weight(W["w2"], wfmt, 1)
    s_in = [acts[t]["scale"] for t in sorted(acts, key=lambda t: t != "x")]
    ok_scale = (acts["x"]["type"] == act and abs(acts["x"]["scale"] - amax["x"] / fmax) <=
                1e-6 * amax["x"] / fmax and len(acts) == 2)
    refs = []
    for x in xs:
        h = np.maximum(fp8_act(x, e, s_in[0]) @ w1q + W["b1"], 0)
        h = np.concatenate([h, h], axis=1)[:, :N1 + 8]
        refs.append(fp8_act(h, e, s_in[1]) @ w2q)
    ref = np.stack(refs)
    y = outputs(lib, os.path.join(work, "eval.npz")).reshape(ref.shape)
    fp8_outputs[(act, wfmt, kern)] = y
    err = np.abs(y - ref) / np.abs(ref).max()
    off = (err > 1e-5).mean()
    fp8_ops = open(lib + ".qdq.mlir").read().count("qc.minifloat_dequantize")
    print(f"activations {act} x weights {wfmt} ({kern} kernels): scale of x = range / {fmax:g}: "
          f"{'ok' if ok_scale else 'FAIL'}; {fp8_ops} FP8 activations; vs numpy max rel "
          f"{err.max():.1e}, {100 * off:.1f}% above 1e-5: "
          f"{'ok' if err.max() < 0.02 and off <= 0.05 and fp8_ops >= 2 else 'FAIL'}")

# The FP8 kernel (qc_k_matmul_fp8: vdpbf16ps where the CPU has AVX512-BF16,
# else its C rendition) adds each pair of products in vdpbf16ps's order:
# both variants give the same bits.
same = np.array_equal(fp8_outputs[("fp8_e4m3", "fp8_e4m3", "auto")],
                      fp8_outputs[("fp8_e4m3", "fp8_e4m3", "generic")])
print(f"FP8 kernel, auto and generic variants: identical bits: {'ok' if same else 'FAIL'}")

# GPTQ with the MX rounding (the default, auto, at 4 bits where the input's
# second moments are recorded): closer to the float model than rounding to
# nearest, on inputs with correlated channels.
mix = rng.standard_normal((K1, K1)) * np.linspace(2.0, 0.1, K1)[:, None]
ccorr = np.stack([rng.standard_normal((ROWS, K1)) @ mix / np.sqrt(K1) for _ in range(16)])
np.savez(os.path.join(work, "calib-corr.npz"), x=ccorr.astype(np.float32))
xcorr = np.stack([rng.standard_normal((ROWS, K1)) @ mix / np.sqrt(K1) for _ in range(8)])
np.savez(os.path.join(work, "eval-corr.npz"), x=xcorr.astype(np.float32))
fref = np.stack([np.concatenate([np.maximum(x @ W["w1"] + W["b1"], 0)] * 2, axis=1)[:, :N1 + 8]
                 @ W["w2"] for x in xcorr.astype(np.float64)])
err = {}
for rounding in ("nearest", "auto"):
    lib = os.path.join(work, f"mlp-mx-{rounding}.so")
    run(os.path.join(bindir, "quant-compile"), mlp, "--calibration-data",
        os.path.join(work, "calib-corr.npz"), "--weight-format", "mxfp4", "--weight-rounding",
        rounding, "-o", lib)
    y = outputs(lib, os.path.join(work, "eval-corr.npz"))
    err[rounding] = ((y.reshape(fref.shape) - fref) ** 2).sum()
print(f"mxfp4 GPTQ (auto) error / nearest's: {err['auto'] / err['nearest']:.2f}: "
      f"{'ok' if err['auto'] < 0.9 * err['nearest'] else 'FAIL'}")

# The bit-width program over formats: int4, int8, MXFP4 and FP8 candidates
# under a size budget between all-4-bit and all-8-bit; the chosen formats
# (the report's bit_widths) run as numpy simulates them.
lib = os.path.join(work, "mlp-ilp.so")
report = os.path.join(work, "mlp-ilp.json")
run(os.path.join(bindir, "quant-compile"), mlp, "--calibration-data",
    os.path.join(work, "calib.npz"), "--bits", "auto", "--weight-formats", "4,8,mxfp4,fp8_e4m3",
    "--pin-first-last=false", "--size-budget", "2.9KB", "--weight-rounding", "nearest",
    "--no-bias-correction", "--report", report, "-o", lib)
rep = json.load(open(report))
chosen = {l["layer"]: (l["weight_format"], l["weight_bits"]) for l in rep["bit_widths"]["layers"]}


def int_weight(w, bits):
    qmax = 2 ** (bits - 1) - 1
    s = np.abs(w).max(axis=0) / qmax
    return np.clip(np.round(w / s), -qmax, qmax) * s


def layer_weight(w, layer):
    fmt, bits = chosen[layer]
    return int_weight(w.astype(np.float64), bits) if fmt == "int" else quantize_weight(w, fmt, 1)


params = {"fc1": K1 * N1, "fc2": (N1 + 8) * N2}
stored = {"int": lambda b: b, "mxfp4": lambda b: 4.25, "fp8_e4m3": lambda b: 8}
bits_used = sum(params[l] * stored[f](b) for l, (f, b) in chosen.items()) / 8
sc = layer_scales(report)
ref = np.stack([mlp_sim(x, layer_weight(W["w1"], "fc1"), layer_weight(W["w2"], "fc2"), sc)
                for x in xs])
formats = ", ".join(f"{l} {f if f != 'int' else f'int{b}'}" for l, (f, b) in sorted(chosen.items()))
# The program's size is the weights' bytes as numpy counts them (MX scales
# included) plus what no choice changes.
fixed = rep["bit_widths"]["bytes"] - bits_used
print(f"bit widths over formats: {formats}; size {rep['bit_widths']['bytes']:.0f} bytes "
      f"within the budget, {fixed:.0f} fixed: "
      f"{'ok' if rep['bit_widths']['bytes'] <= 2900 and 0 <= fixed < 1000 else 'FAIL'}")
compare("bit widths over formats vs numpy", outputs(lib, os.path.join(work, "eval.npz")), ref,
        sc["fc2"][0])

# Export (quant-translate --export-onnx-qdq): FLOAT8 / FLOAT4 initializers
# behind DequantizeLinear (opset 19, 21 with block_size, 23 for FP4), read
# back by the importer and compiled: the same outputs as the library the
# QDQ module came from.
import onnx  # noqa: E402
for fmt in ("mxfp4", "nvfp4", "fp8_e4m3", "mxfp8_e5m2"):
    qdq = os.path.join(work, f"mlp-{fmt}-qdq.mlir")
    lib = os.path.join(work, f"mlp-{fmt}-x.so")
    run(os.path.join(bindir, "quant-compile"), mlp, "--calibration-data",
        os.path.join(work, "calib.npz"), "--weight-format", fmt, "--weight-rounding", "nearest",
        "--emit-qdq", qdq, "-o", lib)
    exported = os.path.join(work, f"mlp-{fmt}.onnx")
    run(os.path.join(bindir, "quant-translate"), "--export-onnx-qdq", qdq, "-o", exported)
    m = onnx.load(exported)
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    dq = [n for n in m.graph.node if n.op_type == "DequantizeLinear"
          and any(i.name == n.input[0] and i.data_type in (17, 19, 23) for i in m.graph.initializer)]
    blocks = sorted({a.i for n in dq for a in n.attribute if a.name == "block_size"})
    back = os.path.join(work, f"mlp-{fmt}-back.so")
    run(os.path.join(bindir, "quant-compile"), exported, "-o", back)
    a, b = outputs(lib, os.path.join(work, "eval.npz")), outputs(back, os.path.join(work, "eval.npz"))
    step = layer_scales(os.path.join(work, f"mlp-{fmt}-auto.json"))["fc2"][0]
    d = np.abs(a - b).max() / step
    print(f"{fmt} exported: opset {opset}, {len(dq)} minifloat DequantizeLinear, block_size "
          f"{blocks or '-'}; imported back vs the library: max diff {d:.2f} steps: "
          f"{'ok' if len(dq) == 2 and d <= 1.001 else 'FAIL'}")

# FP8 activations exported: QuantizeLinear to FLOAT8E4M3FN (a FLOAT8 zero
# point of +0 names the type; saturating, nearest even: what
# qc.minifloat_quantize computes) and DequantizeLinear back, opset 19; read
# back by the importer (qc.minifloat_quantize / _dequantize again) and
# compiled: the same outputs as the library.
qdq = os.path.join(work, "mlp-afp8_e4m3-wfp8_e4m3-auto.so.qdq.mlir")
exported = os.path.join(work, "mlp-fp8-activations.onnx")
run(os.path.join(bindir, "quant-translate"), "--export-onnx-qdq", qdq, "-o", exported)
m = onnx.load(exported)
opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
inits = {i.name: i.data_type for i in m.graph.initializer}
ql = [n for n in m.graph.node if n.op_type == "QuantizeLinear" and len(n.input) > 2
      and inits.get(n.input[2]) == 17]
qouts = {n.output[0] for n in ql}
dl = [n for n in m.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in qouts]
back = os.path.join(work, "mlp-fp8-activations-back.so")
run(os.path.join(bindir, "quant-compile"), exported, "-o", back)
a = fp8_outputs[("fp8_e4m3", "fp8_e4m3", "auto")]
b = outputs(back, os.path.join(work, "eval.npz")).reshape(a.shape)
d = np.abs(a - b).max() / np.abs(a).max()
print(f"FP8 activations exported: opset {opset}, {len(ql)} QuantizeLinear to FLOAT8E4M3FN, "
      f"{len(dl)} DequantizeLinear of them; imported back vs the library: max rel diff {d:.1e}: "
      f"{'ok' if opset == 19 and len(ql) == 2 and len(dl) == 2 and d <= 1e-6 else 'FAIL'}")

# The sizes: packed codes and scales, against int8.
sizes = {f: os.path.getsize(os.path.join(work, f"mlp-{f}-auto.so")) for f in ["mxfp4", "mxfp8_e4m3"]}
print(f"library size mxfp4 < mxfp8_e4m3: {'ok' if sizes['mxfp4'] < sizes['mxfp8_e4m3'] else 'FAIL'}")

# A NaN weight is refused, with its index.
bad = dict(W)
bad["w1"] = W["w1"].copy()
bad["w1"][5, 7] = np.nan
badm = save_model(os.path.join(work, "bad.onnx"), nodes, bad, [ROWS, K1], [ROWS, N2])
r = subprocess.run([os.path.join(bindir, "quant-compile"), badm, "--calibration-data",
                    os.path.join(work, "calib.npz"), "--weight-format", "mxfp4", "-o",
                    os.path.join(work, "bad.so")], capture_output=True, text=True)
print(f"NaN weight: exit {r.returncode}: {r.stderr.strip().splitlines()[0] if r.stderr else ''}")
