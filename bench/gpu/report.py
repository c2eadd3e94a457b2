#!/usr/bin/python3
"""docs/benchmarks-gpu.md from one device run's results (bench/gpu/device-run.sh
OUT directories: several when the artifacts were too large for one copy and
the run was split over consecutive calls of the same lease).

    bench/gpu/report.py OUT [OUT...] [-o docs/benchmarks-gpu.md] [--note FILE]
"""
import argparse
import glob
import json
import os
import re


def load(dirs, pattern):
    """The JSON of every file matching `pattern` in `dirs` (lists joined);
    a later directory's result for the same model replaces an earlier one."""
    out = []
    for d in dirs:
        for p in sorted(glob.glob(os.path.join(d, pattern))):
            v = json.load(open(p))
            out.extend(v if isinstance(v, list) else [v])
    by_model = {}
    for r in out:
        by_model[r.get("model", id(r))] = r
    return list(by_model.values())


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("-o", "--output", default="docs/benchmarks-gpu.md")
    ap.add_argument("--note", help="markdown appended (analysis, ncu profile)")
    ap.add_argument("--command", default="bench/gpu/device-run.sh (see below)")
    args = ap.parse_args()
    device = ""
    for d in args.dirs:
        p = os.path.join(d, "device.txt")
        if os.path.exists(p):
            device = open(p).read().strip()
            break
    models = load(args.dirs, "models*.json")
    gemm = load(args.dirs, "gemm*.json")
    peer_gemm = [r for p in load(args.dirs, "peer_gemm.json") for r in p.get("gemm", [])]
    peers = {m: load(args.dirs, f"peer_{m}.json") for m in ("resnet50", "bert_base")}
    L = ["# GPU benchmarks (`--target cuda`, NVIDIA H200)", "",
         "Measured on the lent GPU machine in one lease (consecutive calls when the libraries",
         "were too large to copy at once), every figure of a table from the same run. Our",
         "libraries were built on the development machine (`bench/gpu/prepare.py`,",
         "`bench/gpu/make-gemm.py`) and run there by `qc-runner` (`scripts/gpu-test.sh`):",
         "times are CUDA-event medians of 20 runs after warm-up, of the whole library call",
         "(`P_time`: the model's stream, allocations, kernels and frees; inputs uploaded",
         "once). PyTorch's numbers (`bench/gpu/torch_peer.py`) are CUDA-event medians of 20",
         "runs in the same lease.", "", "Machine:", "", "```", device, "```", "",
         f"Command: {args.command}", ""]
    if models:
        L += ["## Correctness", "",
              "int8 builds against the CPU int8 build of the same quantization (bit-exact",
              "wanted; float parts of a model within 1e-5 of the output's magnitude), float",
              "builds against ONNX Runtime (rtol 1e-3, atol 1e-4).", "",
              "| model | check | bit-exact | max abs diff | max rel diff | ms (batch of the model) |",
              "| --- | --- | --- | --- | --- | --- |"]
        for r in sorted(models, key=lambda r: r["model"]):
            run = r.get("run")
            if not run:
                L.append(f"| {r['model']} | ERROR | - | - | - | - |")
                continue
            outs = run["outputs"]
            t = run.get("timing", {}).get("median_ms")
            if not outs:
                L.append(f"| {r['model']} | timing only | - | - | - | {fmt(t)} |")
                continue
            L.append("| {} | {} | {} | {:.3g} | {:.3g} | {} |".format(
                r["model"], "pass" if r["pass"] else "FAIL",
                "yes" if all(o["bit_exact"] for o in outs) else "no",
                max(o["max_abs_diff"] for o in outs), max(o["max_rel_diff"] for o in outs),
                fmt(t)))
        L.append("")
    if gemm:
        peer = {(r["M"], r["N"], r["K"]): r for r in peer_gemm}
        L += ["## int8 GEMM against cuBLASLt (torch._int_mm)", "",
              "Ours: a library of one `qc.matmul_int` (i8 x i8 -> i32, or requantized to i8",
              "in the kernel's epilogue; B a constant weight the compiler lays out for the",
              "tensor cores), the whole library call timed. cuBLASLt: `torch._int_mm(A, B)`",
              "with B column-major (its fast layout), i32 out; it rejects M <= 16, where its",
              "figure is the M = 32 call. TOPS = 2MNK / time; speed = cuBLASLt's time / ours",
              "(above 1: ours is faster).", "",
              "Libraries built for `--target cuda:sm_90a` (wgmma for M > 64, mma.sync below);",
              "the sm_90 column is the same GEMM built for `--target cuda` (mma.sync at every M)",
              "where the run had it.", "",
              "| M x N x K | ours ms (i32 out) | ours TOPS | ours ms (requantized) | ours ms (W4A8) | ours ms, sm_90 (mma.sync) | cuBLASLt ms | cuBLASLt TOPS | speed vs cuBLASLt |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        timing, exact = {}, []
        for r in gemm:
            m = re.match(r"gemm_(\d+)x(\d+)x(\d+)_(\w+)", r["model"])
            if not m or not r.get("run"):
                continue
            shape = tuple(map(int, m.groups()[:3]))
            if r["run"]["outputs"]:
                exact.append((r["model"], r["pass"] and all(o["bit_exact"] for o in r["run"]["outputs"])))
            elif shape in peer:
                timing.setdefault(shape, {})[m.group(4)] = r["run"]["timing"]["median_ms"]
        for (M, N, K), t in sorted(timing.items(), key=lambda kv: kv[0][0] * kv[0][1] * kv[0][2]):
            p = peer[(M, N, K)]
            plain = t.get("plain")
            ours = 2 * M * N * K / plain / 1e9 if plain else None
            L.append("| {}x{}x{} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                M, N, K, fmt(plain, 4), fmt(ours, 1), fmt(t.get("requant"), 4),
                fmt(t.get("w4"), 4), fmt(t.get("plainsync"), 4),
                fmt(p["median_ms"], 4) + (" (M=32)" if "padded_to_M" in p else ""),
                fmt(p["tops"], 1), fmt(p["median_ms"] / plain, 2) if plain else "-"))
        L += ["", "Correctness of the kernel (inputs and expected outputs from numpy, exact",
              "integer arithmetic; odd shapes for the edges and every tile configuration, plain",
              "i32, activation zero point with a bias, requantized to i8 with a negative output",
              "zero point, 4-bit weights): "
              f"{sum(ok for _, ok in exact)} of {len(exact)} cases bit-exact"
              + ("." if all(ok for _, ok in exact) else
                 ": not " + ", ".join(n for n, ok in exact if not ok) + "."), ""]
    rows = []
    for m, runs in peers.items():
        for p in runs:
            torch_t = {(r["dtype"], r["batch"]): r["median_ms"] for r in p["runs"]}
            for batch in sorted({r["batch"] for r in p["runs"]}):
                ours = None
                for r in models:
                    tag = f"{m}-int8" if batch == 1 else f"{m}-b{batch}-int8"
                    if r["model"] == tag and r.get("run"):
                        ours = r["run"].get("timing", {}).get("median_ms")
                f16, f32 = torch_t.get(("fp16", batch)), torch_t.get(("fp32", batch))
                rows.append("| {} | {} | {} | {} | {} | {} |".format(
                    m, batch, fmt(ours), fmt(f16), fmt(f32),
                    fmt(ours / f16, 2) if ours and f16 else "-"))
            rows_ref = p.get("fp32_vs_reference_max_rel")
            if rows_ref is not None:
                rows.append(f"| {m}: PyTorch FP32 vs ONNX Runtime, max abs diff / max abs | "
                            f"{rows_ref:.2g} | | | | |")
    if rows:
        L += ["## End to end: our int8 build against PyTorch FP16 and FP32", "",
              "The synthetic ResNet-50 and BERT-base (`bench/models/make-synthetic.py`; the",
              "GPU machine rebuilds the same weights with `--graph-npz` for PyTorch, checked",
              "against ONNX Runtime's output) run by a small ONNX interpreter in eager PyTorch",
              "(cuDNN benchmark mode, TF32 allowed for FP32 convolutions as PyTorch defaults).", "",
              "| model | batch | ours int8 ms | PyTorch FP16 ms | PyTorch FP32 ms | ours time / FP16 time |",
              "| --- | --- | --- | --- | --- | --- |"] + rows + [""]
    if args.note and os.path.exists(args.note):
        L += [open(args.note).read().rstrip(), ""]
    open(args.output, "w").write("\n".join(L) + "\n")
    print(args.output)


if __name__ == "__main__":
    main()
