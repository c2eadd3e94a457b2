#!/usr/bin/python3
"""Writes int8 GEMM models for the cuda target's tensor-core kernel, their
inputs and the outputs they must match bit-exact.

    bench/gpu/make-gemm.py OUTDIR [--set quick|bench|all] [--shapes MxNxK,...]
                           [--variants plain,zp,requant,w4] [--seed S]
                           [--compile BINDIR] [--target cuda[:sm_NN]]

For each shape and variant, OUTDIR/gemm_<M>x<N>x<K>_<variant>/ holds:
  model.mlir    func.func @main_graph(%a: tensor<MxKxi8>) -> tensor<MxNx...>:
                a constant B (K x N i8, deterministic pseudo-random, a
                dense_resource blob) and a qc.matmul_int;
  in0.npy       the activations (M x K int8);
  expect0.npy   what the output must be, from numpy (exact integer math);
  lib.so        with --compile: `BINDIR/quant-compile model.mlir --target
                cuda -o lib.so` (else compile it so yourself).
Variants:
  plain    zp (0, [0]), no bias, i32 output: acc = a @ b;
  zp       activation zero point 7 and a bias, i32 output:
           acc = (a - 7) @ b + bias;
  requant  the zp variant followed by qc.requantize per output channel to
           i8 (multiplier/shift per channel, output zero point -3, clamp
           [-128, 127]): the kernel's fused epilogue;
  w4       as plain, but B drawn in [-8, 7]: the compiler packs it two
           values a byte (W4A8 kernel); compare with plain of the same
           shape. Not in the default --variants.
  fp8      FP8 E4M3 x E4M3 (qc.matmul_fp8, f32 out): A [M, K] and B
           [N, K] codes of N(0, 1) values rounded to E4M3 (no NaN codes);
           expect0 their values' products summed in float64; checked
           with --scaled-tol 5e-3 (the sums' order and the tensor cores'
           FP8 accumulation differ from float64); b_codes.npy for the peer.
  fp8s     fp8 times a scale per output channel (the epilogue).
           fp8 / fp8s are not in the default --variants.
  mx       MXFP4 weights (qc.matmul_mx, i64 out; K % 32 == 0): uniform
           random E2M1 codes, shifts per (column, block of 32) in 0..6 and
           1 in 16 blocks dropped (-1), activation zero point 7 and an i64
           bias: acc = bias + sum_b (sum_{k in b} (a - 7) 2 e2m1(w)) << s,
           exact in int64 (the kernel decodes the codes in registers; its
           sums fit f64 exactly, the kernel's f64 accumulators). Not in the
           default --variants.
  mx64     mx with shifts in 0..34: sums up to 2^57, beyond f64's exact
           integers (the kernel's i64 accumulators).
  mx6      mx with MXFP6 (E2M3) weights: uniform random 6-bit codes packed
           four per three bytes, 8 e2m3(w) (f64 accumulators).
  mx6_64   mx6 with shifts in 0..34 (i64 accumulators).
The products are summed in float64 (exact: |a*b| <= 2^14 and K <= 2^16
keep every partial sum below 2^53), then checked and converted to int64;
no sum reaches 2^31, so the i32 arithmetic of the compiled code cannot
wrap. Requantization follows qc.requantize's definition in int64:
clamp(ozp + ((acc - izp) * mult + 2^(shift-1)) >> shift, lo, hi).

With --timing: B is a random 256 x 256 tile repeated (the same work; the
library compresses well for the copy), no in0/expect0 but inputs.json (the
GPU machine makes random inputs), check "timing", lib.so.xz.

Check on the GPU machine (bit-exact, exit 0 when equal):
    qc-runner OUTDIR/gemm_.../lib.so --input OUTDIR/gemm_.../in0.npy \\
              --expect OUTDIR/gemm_.../expect0.npy [--repeat 100 --warmup 10]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

QUICK = [(37, 70, 50), (1, 33, 64), (16, 8, 16), (129, 130, 200),
         (256, 256, 256), (200, 72, 1000), (300, 136, 256), (128, 128, 64),
         (5, 4096, 4096)]
BENCH = [(m, 4096, 4096) for m in (1, 16, 128, 4096, 8192)] + [(8192, 8192, 8192)]
VARIANTS = ("plain", "zp", "requant", "w4", "fp8", "fp8s", "mx", "mx64", "mx6",
            "mx6_64")
DEFAULT_VARIANTS = ("plain", "zp", "requant")
A_ZP = 7
OUT_ZP = -3


def hex_blob(arr, align):
    """The textual form of a dense_resource blob: alignment (u32 LE), data."""
    return "0x" + np.uint32(align).tobytes().hex().upper() + \
        np.ascontiguousarray(arr).tobytes().hex().upper()


def dyadic(rng, n, k):
    """Per-channel (multiplier, shift): a 31-bit normalized multiplier over
    2^shift near 40 / (sqrt(K) * 73^2) (the accumulators' spread for uniform
    int8 operands), so the i8 outputs use their range."""
    scale = 40.0 / (np.sqrt(k) * 73.0 * 73.0) * rng.uniform(0.5, 1.5, n)
    exp = np.floor(np.log2(scale)).astype(np.int64)  # scale = f * 2^exp, f in [1, 2)
    shift = 30 - exp
    mult = np.round(scale * np.exp2(shift.astype(np.float64))).astype(np.int64)
    over = mult >= 2**31  # rounding up to 2^31: halve
    mult[over] //= 2
    shift[over] -= 1
    assert (mult < 2**31).all() and (mult >= 2**29).all() and (shift > 0).all()
    return mult, shift


def write_model(d, a_ty, b_ty, out_ty, ops, result, resources):
    """model.mlir: @main_graph(%a: a_ty) with the constant %b (the gemm_b
    blob), `ops`, returning `result`; the dense_resource blobs."""
    with open(os.path.join(d, "model.mlir"), "w") as f:
        f.write(f"func.func @main_graph(%a: {a_ty}) -> {out_ty} {{\n")
        f.write(f"  %b = arith.constant dense_resource<gemm_b> : {b_ty}\n")
        for op in ops:
            f.write(f"  {op}\n")
        f.write(f"  return {result} : {out_ty}\n}}\n\n")
        f.write("{-#\n  dialect_resources: {\n    builtin: {\n")
        f.write(",\n".join(resources) + "\n    }\n  }\n#-}\n")


def write_timing(d, m, k, low, high):
    """Timing only (scripts/gpu-test.sh makes random inputs there)."""
    with open(os.path.join(d, "inputs.json"), "w") as f:
        json.dump([{"shape": [m, k], "dtype": "int8", "low": low, "high": high}], f)
    with open(os.path.join(d, "check"), "w") as f:
        f.write("timing\n")


def compile_case(d, compile_bin, target, timing):
    if not compile_bin:
        return
    lib = os.path.join(d, "lib.so")
    subprocess.run([os.path.join(compile_bin, "quant-compile"),
                    os.path.join(d, "model.mlir"), "--target", target,
                    "-o", lib], check=True)
    if timing:
        subprocess.run(["xz", "-f", "-T2", lib], check=True)


def write_exact(d, a, expect):
    """The input, the expected output, and a check file asking for equal bits."""
    np.save(os.path.join(d, "in0.npy"), a)
    np.save(os.path.join(d, "expect0.npy"), expect)
    with open(os.path.join(d, "check"), "w") as f:
        f.write("\n")  # bit-exact


def e4m3_values():
    """The value of every E4M3 code (OCP OFP8: bias 7, subnormals, S.1111.111
    NaN, no infinities)."""
    v = np.zeros(256)
    for c in range(256):
        s, e, m = c >> 7, (c >> 3) & 15, c & 7
        x = 2.0 ** -6 * m / 8 if e == 0 else 2.0 ** (e - 7) * (1 + m / 8)
        v[c] = np.nan if (e == 15 and m == 7) else (-x if s else x)
    return v


def e4m3_codes(x):
    """Codes of the E4M3 values nearest x (saturating; ties to either)."""
    vals = e4m3_values()
    pos = np.arange(127)  # the finite non-negative codes, increasing values
    i = np.clip(np.searchsorted(vals[pos], np.abs(x)), 1, 126)
    lo, hi = vals[pos][i - 1], vals[pos][i]
    c = np.where(np.abs(x) - lo <= hi - np.abs(x), pos[i - 1], pos[i])
    return (c | np.where(x < 0, 128, 0)).astype(np.uint8).view(np.int8)


def write_fp8_case(outdir, m, n, k, variant, seed, compile_bin, timing, target):
    name = f"gemm_{m}x{n}x{k}_{variant}"
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng([seed, m, n, k, 8])
    a = e4m3_codes(rng.standard_normal((m, k)) * 4)
    if timing:
        tile = e4m3_codes(rng.standard_normal((256, 256)) * 4)
        b = np.tile(tile, (-(-n // 256), -(-k // 256)))[:n, :k].copy()
    else:
        b = e4m3_codes(rng.standard_normal((n, k)) * 4)
    scale = rng.uniform(0.5, 2.0, n).astype(np.float32)
    out_ty = f"tensor<{m}x{n}xf32>"
    ops = [f"%c = qc.matmul_fp8 %a, %b {{a_format = #qc<format fp8_e4m3>, "
           f"b_format = #qc<format fp8_e4m3>}} : (tensor<{m}x{k}xi8>, "
           f"tensor<{n}x{k}xi8>) -> {out_ty}"]
    resources = [f"      gemm_b: \"{hex_blob(b, 1)}\""]
    result = "%c"
    if variant == "fp8s":
        ops.append(f"%s = arith.constant dense_resource<gemm_scale> : tensor<{n}xf32>")
        ops.append(f"%r = qc.mul %c, %s : ({out_ty}, tensor<{n}xf32>) -> {out_ty}")
        resources.append(f"      gemm_scale: \"{hex_blob(scale.astype('<f4'), 4)}\"")
        result = "%r"
    write_model(d, f"tensor<{m}x{k}xi8>", f"tensor<{n}x{k}xi8>", out_ty, ops, result,
                resources)
    if timing:
        # Codes -126..126: no NaN but 0xFF (-1), which only times alike.
        write_timing(d, m, k, -126, 127)
    else:
        vals = e4m3_values()
        expect = vals[a.view(np.uint8)] @ vals[b.view(np.uint8)].T
        if variant == "fp8s":
            expect = expect * scale.astype(np.float64)[None, :]
        np.save(os.path.join(d, "in0.npy"), a)
        np.save(os.path.join(d, "b_codes.npy"), b)
        np.save(os.path.join(d, "expect0.npy"), expect.astype(np.float32))
        with open(os.path.join(d, "check"), "w") as f:
            f.write("--scaled-tol 5e-3\n")
    compile_case(d, compile_bin, target, timing)
    print(name, flush=True)


E2M1X2 = np.array([0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12], np.int64)


def e2m3x8():
    """8 x the E2M3 value of each of the 64 codes (OCP MX v1.0: bias 1,
    subnormals at exponent 0, no infinities or NaN)."""
    out = []
    for c in range(64):
        e, m = (c >> 3) & 3, c & 7
        v = m if e == 0 else (8 + m) << (e - 1)
        out.append(-v if c & 32 else v)
    return np.array(out, np.int64)


def pack_bits(codes, bits):
    """Codes (uint8) packed lsb first, `bits` each: qc.matmul_mx's codes."""
    flat = codes.ravel().astype(np.uint8)
    if bits == 4:
        return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).view(np.int8)
    unpacked = np.unpackbits(flat[:, None], axis=1, bitorder="little")[:, :bits]
    return np.packbits(unpacked.ravel(), bitorder="little").view(np.int8)


def write_mx_case(outdir, m, n, k, seed, compile_bin, timing, target, variant="mx"):
    name = f"gemm_{m}x{n}x{k}_{variant}"
    top = 35 if variant.endswith("64") else 7
    fp6 = variant.startswith("mx6")
    ncodes, bits = (64, 6) if fp6 else (16, 4)
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng([seed, m, n, k, 4])
    assert k % 32 == 0, "mx needs K % 32 == 0"
    blocks = k // 32
    if timing:
        tile = rng.integers(0, ncodes, size=(256, 256), dtype=np.uint8)
        codes = np.tile(tile, (-(-k // 256), -(-n // 256)))[:k, :n].copy()
        shifts = np.tile(rng.integers(0, top, size=(256, 8)), (-(-n // 256), -(-blocks // 8)))
        shifts = shifts[:n, :blocks].astype(np.int8)
    else:
        codes = rng.integers(0, ncodes, size=(k, n), dtype=np.uint8)
        shifts = rng.integers(0, top, size=(n, blocks)).astype(np.int8)
        shifts[rng.random((n, blocks)) < 1 / 16] = -1
    packed = pack_bits(codes, bits)
    bias = rng.integers(-2**40, 2**40, size=(n,), dtype=np.int64)
    a = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
    out_ty = f"tensor<{m}x{n}xi64>"
    ops = [f"%s = arith.constant dense_resource<gemm_shifts> : tensor<{n}x{blocks}xi8>",
           f"%bias = arith.constant dense_resource<gemm_bias> : tensor<{n}xi64>",
           f"%c = qc.matmul_mx %a, %b, %s bias %bias zp {A_ZP} {{format = #qc<format "
           f"{'fp6_e2m3' if fp6 else 'fp4_e2m1'}>, "
           f"block = 32 : i64}} : (tensor<{m}x{k}xi8>, tensor<{packed.size}xi8>, "
           f"tensor<{n}x{blocks}xi8>, tensor<{n}xi64>) -> {out_ty}"]
    resources = [f"      gemm_b: \"{hex_blob(packed, 1)}\"",
                 f"      gemm_shifts: \"{hex_blob(shifts, 1)}\"",
                 f"      gemm_bias: \"{hex_blob(bias.astype('<i8'), 8)}\""]
    write_model(d, f"tensor<{m}x{k}xi8>", f"tensor<{packed.size}xi8>", out_ty, ops, "%c",
                resources)
    if timing:
        write_timing(d, m, k, -128, 128)
    else:
        w = (e2m3x8() if fp6 else E2M1X2)[codes]  # [K, N]
        x = a.astype(np.int64) - A_ZP
        acc = np.tile(bias, (m, 1))
        for b in range(blocks):
            part = x[:, 32 * b:32 * b + 32] @ w[32 * b:32 * b + 32]
            sh = shifts[:, b].astype(np.int64)
            acc += np.where(sh[None, :] >= 0, part << np.maximum(sh, 0)[None, :], 0)
        write_exact(d, a, acc)
    compile_case(d, compile_bin, target, timing)
    print(name, flush=True)


def exact_matmul(a, b):
    acc = a.astype(np.float64) @ b.astype(np.float64)
    out = acc.astype(np.int64)
    assert (out == acc).all() and np.abs(out).max(initial=0) < 2**31
    return out


def write_case(outdir, m, n, k, variant, seed, compile_bin, timing=False,
               target="cuda"):
    if variant.startswith("fp8"):
        return write_fp8_case(outdir, m, n, k, variant, seed, compile_bin, timing, target)
    if variant.startswith("mx"):
        return write_mx_case(outdir, m, n, k, seed, compile_bin, timing, target, variant)
    name = f"gemm_{m}x{n}x{k}_{variant}"
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    # One generator per shape: the three variants share their operands.
    rng = np.random.default_rng([seed, m, n, k])
    a = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
    lo, hi = (-8, 8) if variant == "w4" else (-128, 128)
    if timing:
        # Random 256 x 256 tiles repeated: the same work for the tensor
        # cores, and a library that compresses to almost nothing for the
        # copy to the GPU machine (a 8192^2 weight is 64 MB).
        tile = rng.integers(lo, hi, size=(256, 256), dtype=np.int8)
        b = np.tile(tile, (-(-k // 256), -(-n // 256)))[:k, :n].copy()
    else:
        b = rng.integers(lo, hi, size=(k, n), dtype=np.int8)
    bias = rng.integers(-50000, 50000, size=(n,), dtype=np.int32)
    mult, shift = dyadic(rng, n, k)

    a_zp = 0 if variant in ("plain", "w4") else A_ZP
    acc = exact_matmul(a.astype(np.int64) - a_zp, b) if not timing else \
        np.zeros((1, n), np.int64)
    ops = []
    acc_ty = f"tensor<{m}x{n}xi32>"
    if variant in ("plain", "w4"):
        ops.append(f"%c = qc.matmul_int %a, %b zp({a_zp}, [0]) : "
                   f"(tensor<{m}x{k}xi8>, tensor<{k}x{n}xi8>) -> {acc_ty}")
        expect = acc.astype(np.int32)
        out_ty, result = acc_ty, "%c"
    else:
        acc = acc + bias.astype(np.int64)
        assert np.abs(acc).max() < 2**31
        ops.append(f"%bias = arith.constant dense_resource<gemm_bias> : tensor<{n}xi32>")
        ops.append(f"%c = qc.matmul_int %a, %b bias %bias zp({a_zp}, [0]) : "
                   f"(tensor<{m}x{k}xi8>, tensor<{k}x{n}xi8>, tensor<{n}xi32>) -> {acc_ty}")
        if variant == "zp":
            expect = acc.astype(np.int32)
            out_ty, result = acc_ty, "%c"
        else:
            v = acc * mult[None, :] + (np.int64(1) << (shift[None, :] - 1))
            v = (v >> shift[None, :]) + OUT_ZP
            expect = np.clip(v, -128, 127).astype(np.int8)
            out_ty, result = f"tensor<{m}x{n}xi8>", "%r"
            ops.append(
                f"%r = qc.requantize %c multiplier [{', '.join(map(str, mult))}] "
                f"shift [{', '.join(map(str, shift))}] axis 1 zp (0 -> {OUT_ZP}) "
                f"clamp (-128, 127) : {acc_ty} -> {out_ty}")

    resources = [f"      gemm_b: \"{hex_blob(b, 1)}\""]
    if variant not in ("plain", "w4"):
        resources.append(f"      gemm_bias: \"{hex_blob(bias.astype('<i4'), 4)}\"")
    write_model(d, f"tensor<{m}x{k}xi8>", f"tensor<{k}x{n}xi8>", out_ty, ops, result,
                resources)
    if timing:
        write_timing(d, m, k, -128, 128)
    else:
        write_exact(d, a, expect)
    compile_case(d, compile_bin, target, timing)
    print(name, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("outdir")
    p.add_argument("--set", choices=("quick", "bench", "all"), default="quick")
    p.add_argument("--shapes", help="MxNxK,... instead of --set")
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--compile", metavar="BINDIR",
                   help="also build lib.so with BINDIR/quant-compile")
    p.add_argument("--target", default="cuda",
                   help="quant-compile's --target (cuda:sm_90a: wgmma kernels)")
    p.add_argument("--timing", action="store_true",
                   help="timing builds: a tiled (compressible) B, no expected "
                        "outputs, lib.so xz-compressed")
    args = p.parse_args()
    if args.shapes:
        shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]
    else:
        shapes = {"quick": QUICK, "bench": BENCH, "all": QUICK + BENCH}[args.set]
    variants = args.variants.split(",")
    for v in variants:
        if v not in VARIANTS:
            sys.exit(f"unknown variant {v} (of {', '.join(VARIANTS)})")
    for (m, n, k) in shapes:
        for v in variants:
            write_case(args.outdir, m, n, k, v, args.seed, args.compile, args.timing,
                       args.target)


if __name__ == "__main__":
    main()
