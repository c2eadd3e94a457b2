#!/usr/bin/python3
"""Int8 GEMM throughput of our compiled code against this CPU's own VNNI peak.

The peak comes from vnni_peak.c: a register-only vpdpbusd loop, one thread.
Each GEMM is C[MxN] (int32) = (A[MxK] u8 - 3) x (B[KxN] s8 - 1), compiled by
quant-compile into a shared library and timed by quant-run (median of
--repeat runs after one warm-up, one thread), twice: B a constant (an ONNX
MatMulInteger whose B is an initializer: weights, packed at compile time) and
B an input (a qc.matmul_int module: packed at run time).
Every result is first checked against numpy. Shapes: 256, 512, 1024, 2048
cubed, and LLM-like M = 1, 16, 128 with K = N = 4096. Writes a markdown
table (--report).

    gemm_int8.py BINDIR [--work DIR] [--repeat N] [--report docs/gemm-int8.md]
"""
import argparse
import os
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from qcbench.report import cpu_name, write_generated
from qcbench.tools import run, run_json, timing

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
          (1, 4096, 4096), (16, 4096, 4096), (128, 4096, 4096)]


def matmul_integer(m, k, n, B):
    """C = MatMulInteger(A, B, 3, 1) with B an initializer."""
    node = helper.make_node("MatMulInteger", ["a", "b", "a_zp", "b_zp"], ["c"])
    graph = helper.make_graph(
        [node], "gemm", [helper.make_tensor_value_info("a", TensorProto.UINT8, [m, k])],
        [helper.make_tensor_value_info("c", TensorProto.INT32, [m, n])],
        [numpy_helper.from_array(B, "b"),
         numpy_helper.from_array(np.array(3, np.uint8), "a_zp"),
         numpy_helper.from_array(np.array(1, np.int8), "b_zp")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-gemm-int8")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--report", default=f"{ROOT}/docs/gemm-int8.md")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    peak_bin = f"{a.work}/vnni_peak"
    run(["cc", "-O2", "-mavx512f", "-mavx512vnni", f"{HERE}/vnni_peak.c", "-o", peak_bin])
    peak = float(re.search(r"vnni_peak_gops=([0-9.]+)", run([peak_bin])).group(1))
    print(f"VNNI peak, one core: {peak:.1f} GOPS", flush=True)
    rng = np.random.default_rng(0)
    rows = []
    for m, k, n in SHAPES:
        tag = f"{m}x{k}x{n}"
        A = rng.integers(0, 256, (m, k)).astype(np.uint8)
        B = rng.integers(-128, 128, (k, n)).astype(np.int8)
        want = (A.astype(np.int64) - 3) @ (B.astype(np.int64) - 1)
        np.save(f"{a.work}/a.npy", A)
        np.save(f"{a.work}/b.npy", B)
        # B constant: an ONNX MatMulInteger with B as an initializer (weights,
        # packed at compile time); B input: both operands are activations
        # (packed per column block at run time).
        model = f"{a.work}/mm_{tag}.onnx"
        onnx.save(matmul_integer(m, k, n, B), model)
        lib = f"{a.work}/libmm_{tag}.so"
        run([f"{a.bindir}/quant-compile", model, "-o", lib])
        x = ["-i", f"a={a.work}/a.npy"]
        mlir = f"{a.work}/mm_{tag}.mlir"
        with open(mlir, "w") as f:
            f.write(f"""func.func @main_graph(%a: tensor<{m}x{k}xui8>, %b: tensor<{k}x{n}xi8>)
    -> tensor<{m}x{n}xi32> attributes {{qc.input_names = ["a", "b"], qc.output_names = ["c"]}} {{
  %c = qc.matmul_int %a, %b zp(3, [1]) : (tensor<{m}x{k}xui8>, tensor<{k}x{n}xi8>) -> tensor<{m}x{n}xi32>
  return %c : tensor<{m}x{n}xi32>
}}
""")
        libb = f"{a.work}/libmm_{tag}_b.so"
        run([f"{a.bindir}/quant-compile", mlir, "-o", libb])
        xb = x + ["-i", f"b={a.work}/b.npy"]
        ok = True
        for l, xs in ((lib, x), (libb, xb)):
            run([f"{a.bindir}/quant-run", l, *xs, "-o", f"{a.work}/out"])
            ok &= np.array_equal(np.load(f"{a.work}/out/c.npy"), want)
        times = []
        for l, xs in ((lib, x), (libb, xb)):
            times.append(timing(run_json(a.bindir, l, [*xs, "--repeat", str(a.repeat),
                                                       "--warmup", "1"]))[0])
        ms, ms_b = times
        gops, gops_b = (2.0 * m * n * k / (t * 1e-3) / 1e9 for t in times)
        rows.append((tag, "yes" if ok else "NO", ms, gops, 100 * gops / peak, gops_b,
                     100 * gops_b / peak))
        print(f"  {tag}: {ms:.2f} ms, {gops:.1f} GOPS, {100 * gops / peak:.1f}% of peak; "
              f"B input {gops_b:.1f} GOPS{'' if ok else ', WRONG RESULT'}", flush=True)
        if not ok:
            return 1
    cpu = cpu_name()
    lines = [f"Machine: {cpu}, one thread. VNNI peak measured by `bench/gemm/vnni_peak.c`: "
             f"{peak:.1f} GOPS.", f"Median of {a.repeat} runs after one warm-up; the time "
             "is quant-run's whole call (input copy-in and output copy-out included).", "",
             "| M x K x N | matches numpy | ms | GOPS | % of peak | B input: GOPS | % of peak |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {t} | {ok} | {ms:.2f} | {g:.1f} | {p:.1f}% | {gb:.1f} | {pb:.1f}% |"
              for t, ok, ms, g, p, gb, pb in rows]
    # The generated part of the report, between its markers.
    write_generated(a.report, "bench/gemm/gemm_int8.py", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
