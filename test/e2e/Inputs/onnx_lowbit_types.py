#!/usr/bin/python3
"""ONNX import of the types after Debian's libonnx 1.12, in models built
here field by field (TensorProto.data_type set to the enum values 17, 19,
21, 22, 23, which onnx 1.12 does not name; raw_data packed as the ONNX
spec says: 4-bit values two to a byte, low nibble first):
  * DequantizeLinear (opset 19/21/23) of FLOAT8E4M3FN per channel,
    FLOAT8E5M2 per tensor, FLOAT4E2M1 in blocks of 32 (block_size, opset
    21; power-of-two scales: an MX weight), INT4 in blocks of 16 with zero
    points and UINT4 per channel, each feeding a MatMul;
  * float builds against numpy decoding the codes from the formats' field
    definitions (sign, biased exponent, mantissa; subnormals);
  * the FP4 model quantized (u8 activations): its MX weight runs as exact
    integers (qc.matmul_mx) and agrees with numpy's fake-quantized model;
  * a NaN FLOAT8E4M3FN code and a wrong raw_data length are refused.

  onnx_lowbit_types.py WORKDIR BINDIR
"""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(__file__))
from e2e_util import run  # noqa: E402

work, bindir = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(5)
K, N, ROWS = 64, 24, 4


def fp_value(code, eb, mb, bias, ofp8=False):
    """A minifloat code's value from its fields."""
    s, e, m = code >> (eb + mb), (code >> mb) & ((1 << eb) - 1), code & ((1 << mb) - 1)
    if e == 0:
        v = 2.0 ** (1 - bias) * m / 2 ** mb
    else:
        v = 2.0 ** (e - bias) * (1 + m / 2 ** mb)
    return -v if s else v


E4M3 = [fp_value(c, 4, 3, 7) for c in range(256)]
E5M2 = [fp_value(c, 5, 2, 15) for c in range(256)]
E2M1 = [fp_value(c, 2, 1, 1) for c in range(16)]


def raw_tensor(name, dtype, dims, raw):
    t = TensorProto()
    t.name = name
    t.dims.extend(dims)
    t.data_type = dtype  # an int32 field: any enum value goes through
    t.raw_data = bytes(raw)
    return t


def nibbles(values):
    v = [int(x) & 0xF for x in values] + [0]
    return bytes(v[i] | (v[i + 1] << 4) for i in range(0, len(v) - 1, 2))


def save(name, w_tensor, dq_inputs, extra, opset, dq_attrs=None):
    nodes = [helper.make_node("DequantizeLinear", dq_inputs, ["w"], name="dq", **(dq_attrs or {})),
             helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, N])],
                          [w_tensor] + extra)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    path = os.path.join(work, name + ".onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())  # not onnx.save: no checking by 1.12
    return path


x = rng.standard_normal((ROWS, K)).astype(np.float32)
np.save(os.path.join(work, "x.npy"), x)
models = {}

# FLOAT8E4M3FN per output channel (axis 1); codes avoid the NaNs 0x7F/0xFF.
c8 = rng.integers(0, 256, (K, N))
c8[(c8 & 0x7F) == 0x7F] = 0x38
s8 = (0.01 + 0.02 * rng.random(N)).astype(np.float32)
models["fp8_e4m3 per channel"] = (
    save("e4m3", raw_tensor("wq", 17, [K, N], c8.astype(np.uint8).ravel()), ["wq", "s"],
         [helper.make_tensor("s", TensorProto.FLOAT, [N], s8)], 19, {"axis": 1}),
    np.array(E4M3)[c8] * s8)

# FLOAT8E5M2 per tensor; finite codes only.
c5 = rng.integers(0, 256, (K, N))
c5[((c5 >> 2) & 0x1F) == 0x1F] = 0x3C
models["fp8_e5m2 per tensor"] = (
    save("e5m2", raw_tensor("wq", 19, [K, N], c5.astype(np.uint8).ravel()), ["wq", "s"],
         [helper.make_tensor("s", TensorProto.FLOAT, [], [2.0 ** -12])], 19),
    np.array(E5M2)[c5] * 2.0 ** -12)

# FLOAT4E2M1 in blocks of 32 along K (axis 0), power-of-two scales: MX.
c4 = rng.integers(0, 16, (K, N))
e4 = rng.integers(-9, -3, (K // 32, N))
models["fp4_e2m1 blocks of 32"] = (
    save("e2m1", raw_tensor("wq", 23, [K, N], nibbles(c4.ravel())), ["wq", "s"],
         [helper.make_tensor("s", TensorProto.FLOAT, [K // 32, N], (2.0 ** e4).ravel())], 23,
         {"axis": 0, "block_size": 32}),
    np.array(E2M1)[c4] * np.repeat(2.0 ** e4, 32, axis=0))

# INT4 in blocks of 16 along K with zero points; UINT4 per channel.
i4 = rng.integers(-8, 8, (K, N))
si4 = (0.01 + 0.01 * rng.random((K // 16, N))).astype(np.float32)
zi4 = rng.integers(-2, 3, (K // 16, N))
models["int4 blocks of 16"] = (
    save("int4", raw_tensor("wq", 22, [K, N], nibbles(i4.ravel())), ["wq", "s", "z"],
         [helper.make_tensor("s", TensorProto.FLOAT, [K // 16, N], si4.ravel()),
          raw_tensor("z", 22, [K // 16, N], nibbles(zi4.ravel()))], 21,
         {"axis": 0, "block_size": 16}),
    (i4 - np.repeat(zi4, 16, axis=0)) * np.repeat(si4.astype(np.float64), 16, axis=0))
u4 = rng.integers(0, 16, (K, N))
su4 = (0.01 + 0.01 * rng.random(N)).astype(np.float32)
models["uint4 per channel"] = (
    save("uint4", raw_tensor("wq", 21, [K, N], nibbles(u4.ravel())), ["wq", "s", "z"],
         [helper.make_tensor("s", TensorProto.FLOAT, [N], su4),
          raw_tensor("z", 21, [N], nibbles([8] * N))], 21, {"axis": 1}),
    (u4 - 8) * su4.astype(np.float64))


def output(lib, name):
    d = os.path.join(work, "out-" + name)
    run(os.path.join(bindir, "quant-run"), lib, "-i", f"x={work}/x.npy", "-o", d)
    return np.load(os.path.join(d, "y.npy")).astype(np.float64)


for label, (path, w) in models.items():
    lib = path.replace(".onnx", ".so")
    run(os.path.join(bindir, "quant-compile"), path, "-o", lib)
    ref = x.astype(np.float64) @ w
    err = np.abs(output(lib, os.path.basename(lib)) - ref).max() / np.abs(ref).max()
    print(f"{label}: float build vs numpy: max rel err {err:.1e}: {'ok' if err < 1e-5 else 'FAIL'}")

# The FP4 MX weight quantized: u8 activations, the weight's integers.
path, w = models["fp4_e2m1 blocks of 32"]
np.savez(os.path.join(work, "calib.npz"), x=rng.standard_normal((8, ROWS, K)).astype(np.float32))
lib = os.path.join(work, "e2m1-q.so")
rep = os.path.join(work, "e2m1-q.json")
run(os.path.join(bindir, "quant-compile"), path, "--calibration-data", os.path.join(work, "calib.npz"),
    "--report", rep, "-o", lib)
ll = run(os.path.join(bindir, "quant-compile"), path, "--calibration-data",
         os.path.join(work, "calib.npz"), "--emit-llvm", "-o", os.path.join(work, "e2m1-q.ll"))
sc = {l["tensor"]: (l["scale"], l["zero_point"]) for l in json.load(open(rep))["layers"]}


def fq(v, s, z):
    return (np.clip(np.round(v / s) + z, 0, 255) - z) * s


ref = fq(fq(x.astype(np.float64), *sc["x"]) @ w, *sc["y"] if "y" in sc else sc["mm"])
y = output(lib, "e2m1-q")
step = (sc["y"] if "y" in sc else sc["mm"])[0]
diff = np.abs(y - ref).max() / step
mx = "qc_k_matmul_mx_i8" in open(os.path.join(work, "e2m1-q.ll")).read()
print(f"fp4_e2m1 blocks of 32, quantized: MX integer kernel {'called' if mx else 'NOT called'}, "
      f"max diff {diff:.2f} steps: {'ok' if mx and diff <= 1.001 else 'FAIL'}")

# Bad input: a NaN code, a short raw_data.
c8[3, 5] = 0x7F
bad = save("e4m3-nan", raw_tensor("wq", 17, [K, N], c8.astype(np.uint8).ravel()), ["wq", "s"],
           [helper.make_tensor("s", TensorProto.FLOAT, [N], s8)], 19, {"axis": 1})
short = save("e2m1-short", raw_tensor("wq", 23, [K, N], nibbles(c4.ravel())[:-3]), ["wq", "s"],
             [helper.make_tensor("s", TensorProto.FLOAT, [K // 32, N], (2.0 ** e4).ravel())], 23,
             {"axis": 0, "block_size": 32})
for p in (bad, short):
    r = subprocess.run([os.path.join(bindir, "quant-compile"), p, "-o", p + ".so"],
                       capture_output=True, text=True)
    msg = r.stderr.strip().splitlines()[0] if r.stderr.strip() else ""
    print(f"{os.path.basename(p)}: exit {r.returncode}: {msg}")
