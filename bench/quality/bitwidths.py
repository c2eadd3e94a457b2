#!/usr/bin/python3
"""Mixed precision by integer programming on a real CNN: PP-OCR's text-direction
classifier (ch_ppocr_mobile_v2.0_cls, 3x48x192 crops), quantized by quant-compile
with uniform W8A8 and W4A8, and with `--bits auto` (CBC) and the greedy baseline
at several size budgets, sensitivities measured as the relative squared error
of the logits (--sensitivity-metric mse: the classifier's Softmax output is
measured at its input) and, at one budget, as the KL divergence from float's
and as the task loss (the increase of the cross-entropy of the calibration
samples' labels, --sensitivity-metric task).
The sensitivities are measured on all 32 calibration samples (--sensitivity-samples).
Scores each build on the held-out samples of make-samples.py: softmax SQNR and
KL divergence against the float build, top-1 agreement with float, accuracy
and mean cross-entropy against the labels. Writes a table into --report
between its markers and an SVG plot (size against SQNR) beside it.

    bitwidths.py BINDIR [--work DIR] [--report docs/quality.md] [--metric mse|kl|task]
"""
import argparse
import glob
import json
import os
import re
import time

import numpy as np

from qcbench import tools
from qcbench.models import OCR, model_cache, script
from qcbench.plot import size_plot as svg
from qcbench.report import write_generated
from qcbench.tools import run_samples

MODEL = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
OUT = "softmax_0.tmp_0"
BUDGET_BITS = [2.5, 3.0, 4.0, 5.0, 6.0]


def labels_of(samples, split):
    out = {}
    for line in open(f"{samples}/cls/labels.txt"):
        key, label = line.split()
        if key.startswith(split + "/"):
            out[key.split("/", 1)[1]] = int(label)
    return out


def score(probs, float_probs, labels, snr=None):
    """The figures of `probs` against the float build's; `snr`: quant-run's
    SQNR of them (--reference-outputs, the same definition as here)."""
    p = probs.reshape(len(probs), -1).astype(np.float64)
    f = float_probs.reshape(len(probs), -1).astype(np.float64)
    noise = ((p - f) ** 2).sum()
    sqnr = snr if snr is not None else float("inf") if noise == 0 else \
        10 * np.log10((f ** 2).sum() / noise)
    kl = float((f * (np.log(np.maximum(f, 1e-30)) - np.log(np.maximum(p, 1e-30)))).sum(-1).mean())
    ce = float(-np.log(np.maximum(p[np.arange(len(p)), labels], 1e-30)).mean())
    return {"sqnr": sqnr, "kl": kl, "ce": ce,
            "agree": float((p.argmax(-1) == f.argmax(-1)).mean()),
            "acc": float((p.argmax(-1) == labels).mean())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-quality")
    ap.add_argument("--report")
    ap.add_argument("--metric", default="mse", help="the sensitivity metric of the sweep")
    ap.add_argument("--sensitivity-samples", type=int, default=32,
                    help="calibration samples per sensitivity measurement (all 32 by default)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    samples = f"{a.work}/samples"
    cache = model_cache()
    if not os.path.isdir(f"{samples}/cls"):
        script("bench/quality/make-samples.py", samples, "--cache", cache, "--only", "cls")
    model = f"{cache}/{OCR}/{MODEL}"
    calib = f"{samples}/cls/calib"
    # The task labels, in the order quant-compile reads the samples (by name).
    names = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{calib}/*.npy"))
    calib_labels = labels_of(samples, "calib")
    labels_npz = f"{a.work}/cls-calib-labels.npz"
    np.savez(labels_npz, **{OUT: np.array([[calib_labels[n]] for n in names], np.int64)})
    evals = sorted(glob.glob(f"{samples}/cls/eval/*.npy"))
    x = np.stack([np.load(f) for f in evals])
    float_out = {}
    eval_labels = labels_of(samples, "eval")
    y = np.array([eval_labels[os.path.basename(f)[:-4]] for f in evals])

    def build(name, flags):
        lib = f"{a.work}/cls-bits-{re.sub('[^a-z0-9]+', '-', name.lower())}.so"
        args = ["--input-shape", "x:1x3x48x192", "-o", lib]
        if flags is not None:
            args += ["--calibration-data", calib] + flags
        t0 = time.time()
        bw = tools.bit_widths(tools.compile(a.bindir, model, args))
        secs = time.time() - t0
        res = run_samples(a.bindir, lib, {"x": x}, f"{a.work}/out-cls-bits",
                          reference=float_out or None)
        return res.outputs[OUT], bw, secs, res.sqnr(OUT) if res.comparison else None

    fl_probs, _, _, _ = build("float", None)
    float_out[OUT] = fl_probs
    tables = {}

    def auto(metric, budget=None):
        table_file = f"{a.work}/cls-sensitivity-{metric}-{a.sensitivity_samples}.json"
        flags = ["--bits", "auto", "--sensitivity-metric", metric, "--sensitivity-cache", table_file,
                 "--sensitivity-samples", str(a.sensitivity_samples)]
        if metric == "task":
            flags += ["--sensitivity-labels", labels_npz]
        if budget is None:  # a first run with a generous budget writes the table
            build(f"table {metric}", flags + ["--size-budget", "1e12"])
            tables[metric] = json.load(open(table_file))
            return None
        return flags + ["--size-budget", f"{budget:.0f}"]

    for metric in ("task", "kl", "mse"):
        auto(metric)
    t = tables[a.metric]
    params = sum(l["params"] for l in t["layers"])

    def budget(bits):
        return t["fixed_bytes"] + params * bits / 8

    configs = [("uniform", "W8A8", ["--weight-bits", "8"]),
               ("uniform", "W4A8", ["--weight-bits", "4"])]
    for bits in BUDGET_BITS:
        for kind in ("ilp", "greedy"):
            configs.append((kind, f"{kind} {bits:g} bits/weight",
                            auto(a.metric, budget(bits)) + ["--bit-assignment", kind]))
    for metric in ("task", "kl", "mse"):
        if metric == a.metric:
            continue
        configs.append((f"ilp-{metric}", f"ilp 4 bits/weight, {metric} sensitivity",
                        auto(metric, budget(4))))
    results = []
    for kind, name, flags in configs:
        probs, bw, secs, snr = build(name, flags)
        r = score(probs, fl_probs, y, snr)
        r.update(name=name, kind=kind, secs=secs,
                 metric=kind.split("-")[1] if "-" in kind else a.metric)
        if bw:
            weights = [l["weight_bits"] for l in bw["layers"]]
            r.update(bytes=round(bw["bytes"]), cost=bw["sensitivity"], status=bw["status"],
                     mix=" ".join(f"{weights.count(b)} x {b}-bit" for b in sorted(set(weights))))
        else:
            w = 8 if "W8" in name else 4
            r.update(bytes=budget(w), cost=None, mix=f"{len(t['layers'])} x {w}-bit")
        results.append(r)
        print(f"{name:40s} {r['bytes'] / 1e3:7.1f} KB  SQNR {r['sqnr']:6.2f} dB  KL {r['kl']:.2e}  "
              f"agreement {100 * r['agree']:5.1f}%  accuracy {100 * r['acc']:5.1f}%  "
              f"CE {r['ce']:.4f}  ({r['mix']}; {secs:.0f} s)", flush=True)
    fl = score(fl_probs, fl_probs, y)
    with open(f"{a.work}/cls-bitwidths.json", "w") as h:
        json.dump({"float": fl, "results": results}, h, indent=1)
    if a.report:
        svg({"PP-OCR cls": [r for r in results if r["kind"] in ("uniform", "ilp", "greedy")]},
            os.path.join(os.path.dirname(a.report), "bitwidths-cls.svg"),
            key="sqnr", ylabel="softmax SQNR vs float (dB)",
            yrange=(0, 1.05 * max(r["sqnr"] for r in results)))
        lines = ["| configuration | size (KB) | summed sensitivity | SQNR vs float "
                 "(dB) | KL vs float | top-1 agreement | accuracy | cross-entropy | widths |",
                 "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
                 f"| float | {(t['fixed_bytes'] + 4 * params) / 1e3:.1f} | - | inf | 0 | 100% | "
                 f"{100 * fl['acc']:.1f}% | {fl['ce']:.4f} | - |"]
        for r in results:
            cost = "-" if r["cost"] is None else f"{r['cost']:.2e} ({r['metric']})"
            lines.append(f"| {r['name']} | {r['bytes'] / 1e3:.1f} | {cost} | {r['sqnr']:.2f} | "
                         f"{r['kl']:.2e} | {100 * r['agree']:.1f}% | {100 * r['acc']:.1f}% | "
                         f"{r['ce']:.4f} | {r['mix']} |")
        write_generated(a.report, "bench/quality/bitwidths.py", lines)


if __name__ == "__main__":
    main()
