#!/usr/bin/python3
"""Mixed precision by integer programming against uniform widths and the
greedy baseline, on the transformers of model.py: for each model, uniform
W8A8 and W4A8 (rounded to nearest, and by GPTQ), then `quant-compile --bits
auto` (CBC) and `--bit-assignment greedy` at several size budgets, all with
per-channel weights and per-tensor u8 inputs of the linear layers
(--quantize-scope linear). Reports the size the formats need, perplexity and
top-1 agreement with the float model's predictions; writes a table and an
SVG plot (size against perplexity) into --report's directory.

    bitwidths.py BINDIR [--work DIR] [--report docs/quality.md] [--models gpt,bert]
"""
import argparse
import glob
import json
import os
import re
import time

import numpy as np
from evaluate import MODELS, score

from qcbench import tools
from qcbench.models import script
from qcbench.plot import size_plot as svg
from qcbench.report import write_generated
from qcbench.tools import run, run_model

# Average weight bits of the ILP / greedy budgets (the size budget is the
# fixed bytes plus params x bits / 8).
BUDGET_BITS = [3.0, 3.5, 4.0, 5.0, 6.0]
# BOPs budgets: weight bits x activation bits per MAC on average (W4A8 = 32).
BOPS_WA = [20.0, 28.0]


def compile_and_score(a, model, data, labels, evals, name, flags, float_pred):
    lib = f"{a.work}/{model}-bits-{re.sub('[^a-z0-9]+', '-', name.lower())}.so"
    args = ["-o", lib]
    if flags is not None:  # None: the float build
        args += ["--calibration-data", f"{data}/calib", "--quantize-scope", "linear"] + flags
    t0 = time.time()
    bw = tools.bit_widths(tools.compile(a.bindir, f"{MODELS}/{model}.onnx", args))
    secs = time.time() - t0
    # Not evaluate.py's output directory: both may run at once.
    logits = run_model(a.bindir, lib, "ids", evals, "logits", f"{a.work}/out-bitwidths")
    ppl, acc = score(model, logits, labels)
    agree = float((logits.argmax(-1) == float_pred).mean()) if float_pred is not None else 1.0
    return {"name": name, "ppl": ppl, "acc": acc, "agree": agree, "secs": secs,
            "bytes": round(bw["bytes"]) if bw else None, "bops": bw["bops"] if bw else None,
            "cost": bw["sensitivity"] if bw else None, "mix": mix(bw) if bw else None,
            "status": bw["status"] if bw else None, "logits": logits}


def mix(bw):
    """"N x B-bit ..." of the weights (ascending widths), and how many layer
    inputs are at 4 bits."""
    weights = [l["weight_bits"] for l in bw["layers"]]
    acts = sum(1 for l in bw["layers"] if l["activation_bits"] == 4)
    return (" ".join(f"{weights.count(b)} x {b}-bit" for b in sorted(set(weights))) +
            (f"; {acts} inputs at 4 bits" if acts else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-transformers")
    ap.add_argument("--report")
    ap.add_argument("--models", default="gpt,bert")
    ap.add_argument("--metric", default="kl")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rows, points = [], {}
    for model in a.models.split(","):
        data = f"{a.work}/{model}-data"
        if not os.path.exists(f"{data}/eval-labels.npz"):
            script("bench/transformers/samples.py", model, data)
        labels = dict(np.load(f"{data}/eval-labels.npz"))
        evals = sorted(glob.glob(f"{data}/eval/*.npy"))
        cache = f"{a.work}/{model}-sensitivity-{a.metric}.json"
        fl = compile_and_score(a, model, data, labels, evals, "float", None, None)
        float_pred = fl["logits"].argmax(-1)
        auto = ["--bits", "auto", "--sensitivity-metric", a.metric, "--sensitivity-cache", cache]
        # The table (sizes) comes with the first --bits auto run.
        configs = [("uniform", "W8A8", ["--weight-bits", "8"]),
                   ("uniform", "W4A8 nearest", ["--weight-bits", "4", "--weight-rounding",
                                                "nearest"]),
                   ("uniform", "W4A8 GPTQ", ["--weight-bits", "4"])]
        results = []
        table = None
        for bits in BUDGET_BITS:
            for kind in ("ilp", "greedy"):
                if table is None:
                    # A first run with a generous budget writes the table.
                    run([f"{a.bindir}/quant-compile", f"{MODELS}/{model}.onnx", "-o",
                         f"{a.work}/{model}-table.so", "--calibration-data", f"{data}/calib",
                         "--quantize-scope", "linear", "--size-budget", "1e12"] + auto)
                    table = json.load(open(cache))
                params = sum(l["params"] for l in table["layers"])
                budget = table["fixed_bytes"] + params * bits / 8
                configs.append((kind, f"{kind} {bits:g} bits/weight",
                                auto + ["--size-budget", f"{budget:.0f}",
                                        "--bit-assignment", kind]))
        configs.append(("ilp", "ilp 4 bits/weight, nearest",
                        auto + ["--size-budget", f"{table['fixed_bytes'] + params * 4 / 8:.0f}",
                                "--weight-rounding", "nearest"]))
        # BOPs budgets with 4- or 8-bit layer inputs: the weight and input
        # choices couple (MACs x w x a), where one step at a time can go wrong.
        macs = sum(l["macs"] for l in table["layers"])
        auto48 = ["--bits", "auto", "--sensitivity-metric", a.metric, "--activation-formats",
                  "4,8", "--sensitivity-cache", f"{a.work}/{model}-sensitivity-{a.metric}-a48.json"]
        for wa in BOPS_WA:
            for kind in ("ilp", "greedy"):
                configs.append((f"bops-{kind}", f"{kind} {wa:g} bits^2/MAC",
                                auto48 + ["--bops-budget", f"{macs * wa:.0f}",
                                          "--bit-assignment", kind]))
        for kind, name, flags in configs:
            r = compile_and_score(a, model, data, labels, evals, name, flags, float_pred)
            if r["bytes"] is None:
                w = 8 if "W8" in name else 4
                r["bytes"] = table["fixed_bytes"] + params * w / 8
                r["mix"] = f"{len(table['layers'])} x {w}-bit"
            r["kind"] = kind if "nearest" not in name or kind == "uniform" else "ilp-nearest"
            if r["bops"] is None:
                r["bops"] = macs * (8 if "W8" in name else 4) * 8
            results.append(r)
            print(f"{model:5s} {name:32s} {r['bytes'] / 1e3:8.1f} KB {r['bops']:.3e} BOPs "
                  f"perplexity {r['ppl']:8.4f}  agreement {100 * r['agree']:6.2f}%  "
                  f"sensitivity {r['cost'] if r['cost'] is not None else '-'}  "
                  f"({r['mix']}; {r['secs']:.0f} s)", flush=True)
        label = {"gpt": "GPT-style", "bert": "BERT-style"}[model]
        rows.append(f"| {label} | float | {(table['fixed_bytes'] + 4 * params) / 1e3:.0f} | - | - | "
                    f"{fl['ppl']:.4f} | 100% | - |")
        for r in results:
            cost = "-" if r["cost"] is None else f"{r['cost']:.4f}"
            rows.append(f"| {label} | {r['name']} | {r['bytes'] / 1e3:.0f} | "
                        f"{r['bops'] / 1e9:.1f} | {cost} | {r['ppl']:.4f} | "
                        f"{100 * r['agree']:.2f}% | {r['mix']} |")
        points[label] = [r for r in results if r["kind"] in ("uniform", "ilp", "greedy")]
    if a.report:
        svg_path = os.path.join(os.path.dirname(a.report), "bitwidths.svg")
        svg(points, svg_path)
        lines = ["| model | configuration | size (KB) | GBOPs | summed sensitivity (KL) | "
                 "perplexity | top-1 agreement with float | widths |",
                 "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"] + rows
        write_generated(a.report, "bench/transformers/bitwidths.py", lines)


if __name__ == "__main__":
    main()
