#!/usr/bin/python3
"""Latency of the transformers of model.py (gpt.onnx, bert.onnx: batch 4 x
128 characters) under the quantization recipes of docs/quality.md, against
ONNX Runtime 1.30 FP32 on the float model, in one run on this machine:

  - our float build;
  - W8A8 per tensor (`--quantize-scope linear`, static u8 activations);
  - each input rotated, per-token int8 activations (one int8 product per
    linear layer, scaled per row);
  - each input rotated, a scale and zero point per 32 channels of each
    token (qc.matmul_group_scaled: one kernel per linear layer that scales
    each group's int32 sums in registers);
  - ONNX Runtime FP32 (scripts/ort-run.js, onnxruntime-node).

Median of --repeat runs after warm-up on one calibration window, at 1 and 2
threads. Writes its table into --report (docs/quality.md) between its
markers.

    speed.py BINDIR [--work DIR] [--repeat N] [--report docs/quality.md]
"""
import argparse
import glob
import os
import sys

from qcbench import ROOT
from qcbench.models import script
from qcbench.ort import ort_dir as find_ort
from qcbench.ort import ort_run
from qcbench.report import cpu_name, write_generated
from qcbench.tools import run, run_json, timing

MODELS = f"{ROOT}/bench/models/transformers"
LINEAR = ["--quantize-scope", "linear"]
EACH = ["--rotate-hadamard", "--rotate-residual=false"]
RECIPES = [
    ("ours float", None),
    ("ours W8A8 per tensor", LINEAR),
    ("ours W8A8 rotated, per token", LINEAR + EACH + ["--activation-granularity", "token"]),
    ("ours W8A8 rotated, group:32 + zero points",
     LINEAR + EACH + ["--activation-granularity", "group:32", "--activation-type", "u8"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-transformers-speed")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--report")
    ap.add_argument("--ort-dir", default=os.environ.get("QC_ORT_DIR"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    ort_dir = find_ort(a.ort_dir)
    if not ort_dir:
        sys.exit("ONNX Runtime cannot be installed (scripts/install-ort.sh)")
    rep = ["--repeat", str(a.repeat), "--warmup", "5"]
    threads = [1, 2]
    rows = []
    for model in ("gpt", "bert"):
        data = f"{a.work}/{model}-data"
        if not os.path.isdir(f"{data}/calib"):
            script("bench/transformers/samples.py", model, data)
        sample = sorted(glob.glob(f"{data}/calib/*.npy"))[0]
        onnx = f"{MODELS}/{model}.onnx"
        times = {}
        for t in threads:
            tflags = ["--threads", str(t)] if t > 1 else []
            for k, (name, flags) in enumerate(RECIPES):
                lib = f"{a.work}/{model}-{k}-t{t}.so"
                cmd = [f"{a.bindir}/quant-compile", onnx, *tflags, "-o", lib]
                if flags is not None:
                    cmd += ["--calibration-data", f"{data}/calib", *flags]
                run(cmd)
                times[(t, name)] = timing(run_json(a.bindir, lib, ["-i", f"ids={sample}", *rep,
                                                                   "--threads", str(t)]))
            times[(t, "ORT FP32")] = timing(ort_run(ort_dir, onnx, ["-i", f"ids={sample}", *rep,
                                                                    "--threads", str(t)]))
            print(f"{model} ({t} thread{'s' if t > 1 else ''}): " +
                  ", ".join(f"{n} {v[0]:.2f} ms" for (tt, n), v in times.items() if tt == t),
                  flush=True)
        rows.append((model, times))
    configs = [n for n, _ in RECIPES] + ["ORT FP32"]
    lines = [f"Machine: {cpu_name()}, {os.cpu_count()} cores. Median of {a.repeat} runs after "
             "5 warm-up runs (min-max), ms, on one batch of 4 x 128 characters; the ratio "
             "columns are against ONNX Runtime FP32 in the same run.", "",
             "| model | threads | " + " | ".join(configs) + " | " +
             " | ".join(f"{n.replace('ours ', '')} / ORT FP32" for n, _ in RECIPES) + " |",
             "| --- | ---: |" + " ---: |" * (2 * len(configs) - 1)]
    for model, times in rows:
        for t in threads:
            ort = times[(t, "ORT FP32")][0]
            cells = [f"{times[(t, c)][0]:.2f} ({times[(t, c)][1]:.2f}-{times[(t, c)][2]:.2f})"
                     for c in configs]
            ratios = [f"{times[(t, n)][0] / ort:.2f}" for n, _ in RECIPES]
            lines.append(f"| {model.upper()}-style | {t} | " + " | ".join(cells) + " | " +
                         " | ".join(ratios) + " |")
    print("\n".join(lines))
    if a.report:
        write_generated(a.report, "bench/transformers/speed.py", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
