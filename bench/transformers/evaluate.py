#!/usr/bin/python3
"""Quality of the transformers of model.py under quantization: perplexity of the GPT-style model on held-out fortunes, masked-
character accuracy and perplexity of the BERT-style model, for float and
each quantization recipe, all compiled by quant-compile and run by
quant-run. Writes the table into --report (docs/quality.md) between its
markers, and the figures as JSON into the work directory.

    evaluate.py BINDIR [--work DIR] [--report docs/quality.md] [--models gpt,bert]
                [--formats]  (the weight-format table instead of the recipes)
                [--activations]  (8-bit weights with u8 / i8 / FP8 activations)
"""
import argparse
import glob
import json
import os
import re
import time

import numpy as np

from qcbench import ROOT, tools
from qcbench.models import script
from qcbench.report import write_generated
from qcbench.tools import run_model

MODELS = f"{ROOT}/bench/models/transformers"

# name, quant-compile flags (None: float)
RECIPES = [
    ("float", None),
    ("W8A8 naive", ["--quantize-scope", "linear"]),
    ("W8A8 + SmoothQuant (alpha 0.5)", ["--quantize-scope", "linear", "--smooth-alpha", "0.5"]),
    ("W8A8 + SmoothQuant (alpha searched)", ["--quantize-scope", "linear", "--smooth-alpha", "auto"]),
    ("W8A8 + rotation", ["--quantize-scope", "linear", "--rotate-hadamard"]),
    ("W8A8 naive, percentile calibration",
     ["--quantize-scope", "linear", "--calibration-method", "percentile"]),
    ("W8A8 + rotation, percentile calibration",
     ["--quantize-scope", "linear", "--rotate-hadamard", "--calibration-method", "percentile"]),
    ("W8A8 naive, per-token activations", ["--quantize-scope", "linear",
                                             "--activation-granularity", "token"]),
    ("W8A8 + rotation, per-token activations", ["--quantize-scope", "linear", "--rotate-hadamard",
                                                "--activation-granularity", "token"]),
    ("W8A8 + rotation of each input (no residual stream), per-token activations",
     ["--quantize-scope", "linear", "--rotate-hadamard", "--rotate-residual=false",
      "--activation-granularity", "token"]),
    ("W8A8 + rotation of each input, per-token activations, GPTQ",
     ["--quantize-scope", "linear", "--rotate-hadamard", "--rotate-residual=false",
      "--activation-granularity", "token", "--weight-rounding", "gptq"]),
    ("W8A8 + rotation of each input, a scale and zero point per 32 channels, GPTQ",
     ["--quantize-scope", "linear", "--rotate-hadamard", "--rotate-residual=false",
      "--activation-granularity", "group:32", "--activation-type", "u8",
      "--weight-rounding", "gptq"]),
    ("W8A8 + rotation, per-token activations, GPTQ",
     ["--quantize-scope", "linear", "--rotate-hadamard", "--activation-granularity", "token",
      "--weight-rounding", "gptq"]),
    ("W4A8 naive", ["--quantize-scope", "linear", "--weight-bits", "4", "--weight-rounding",
                    "nearest"]),
    ("W4A8 naive, GPTQ", ["--quantize-scope", "linear", "--weight-bits", "4",
                          "--weight-rounding", "gptq"]),
    ("W4A8 + SmoothQuant (alpha searched), GPTQ",
     ["--quantize-scope", "linear", "--weight-bits", "4", "--smooth-alpha", "auto",
      "--weight-rounding", "gptq"]),
    ("W4A8 + rotation", ["--quantize-scope", "linear", "--weight-bits", "4", "--rotate-hadamard",
                         "--weight-rounding", "nearest"]),
    ("W4A8 + rotation, per-token activations", ["--quantize-scope", "linear", "--weight-bits", "4",
                                                "--rotate-hadamard", "--activation-granularity",
                                                "token", "--weight-rounding", "nearest"]),
    ("W4A8 + rotation, GPTQ", ["--quantize-scope", "linear", "--weight-bits", "4",
                               "--rotate-hadamard", "--weight-rounding", "gptq"]),
    ("W4A8 + rotation, per-token activations, GPTQ",
     ["--quantize-scope", "linear", "--weight-bits", "4", "--rotate-hadamard",
      "--activation-granularity", "token", "--weight-rounding", "gptq"]),
    ("W4A4 naive", ["--quantize-scope", "linear", "--weight-bits", "4", "--activation-bits", "4",
                    "--weight-rounding", "nearest"]),
    ("W4A4 + rotation", ["--quantize-scope", "linear", "--weight-bits", "4", "--activation-bits", "4",
                         "--rotate-hadamard", "--weight-rounding", "nearest"]),
    ("W4A4 + rotation, per-token activations", ["--quantize-scope", "linear", "--weight-bits", "4",
                                                "--activation-bits", "4", "--rotate-hadamard",
                                                "--activation-granularity", "token",
                                                "--weight-rounding", "nearest"]),
    ("W4A4 + rotation, per-token activations, GPTQ",
     ["--quantize-scope", "linear", "--weight-bits", "4", "--activation-bits", "4",
      "--rotate-hadamard", "--activation-granularity", "token", "--weight-rounding", "gptq"]),
    ("W8A8 integer-only, naive", []),
    ("W8A8 integer-only + rotation", ["--rotate-hadamard"]),
]

# --formats: weight formats at 4, 6 and 8 bits, rounded to nearest, with
# 8-bit activations (the layers' inputs, per tensor): name, bits per weight
# (scales included), flags.
LINEAR = ["--quantize-scope", "linear", "--weight-rounding", "nearest"]
FORMAT_RECIPES = [
    ("float", None, None),
    ("int4, a scale per channel", 4.0, LINEAR + ["--weight-bits", "4"]),
    ("int4, a scale per 32 (f32 scales)", 5.0,
     LINEAR + ["--weight-bits", "4", "--weight-granularity", "block:32"]),
    ("int4, a scale per 32, GPTQ", 5.0,
     ["--quantize-scope", "linear", "--weight-bits", "4", "--weight-granularity", "block:32",
      "--weight-rounding", "gptq"]),
    ("int4, a scale per 128 (f32 scales)", 4.25,
     LINEAR + ["--weight-bits", "4", "--weight-granularity", "block:128"]),
    ("int4, a scale per 128, GPTQ", 4.25,
     ["--quantize-scope", "linear", "--weight-bits", "4", "--weight-granularity", "block:128",
      "--weight-rounding", "gptq"]),
    ("fp4 E2M1, a scale per channel", 4.0, LINEAR + ["--weight-format", "fp4_e2m1"]),
    ("MXFP4 (E8M0 per 32, max)", 4.25, LINEAR + ["--weight-format", "mxfp4"]),
    ("MXFP4 (E8M0 per 32, mse)", 4.25,
     LINEAR + ["--weight-format", "mxfp4", "--block-scale", "mse"]),
    ("MXFP4 (mse), GPTQ", 4.25,
     ["--quantize-scope", "linear", "--weight-format", "mxfp4", "--block-scale", "mse",
      "--weight-rounding", "gptq"]),
    ("NVFP4 (E4M3 per 16)", 4.5, LINEAR + ["--weight-format", "nvfp4"]),
    ("NVFP4, GPTQ", 4.5,
     ["--quantize-scope", "linear", "--weight-format", "nvfp4", "--weight-rounding", "gptq"]),
    ("MXFP6 E2M3", 6.25, LINEAR + ["--weight-format", "mxfp6_e2m3"]),
    ("MXFP6 E3M2", 6.25, LINEAR + ["--weight-format", "mxfp6_e3m2"]),
    ("int8, a scale per channel", 8.0, LINEAR),
    ("fp8 E4M3, a scale per channel", 8.0, LINEAR + ["--weight-format", "fp8_e4m3"]),
    ("fp8 E5M2, a scale per channel", 8.0, LINEAR + ["--weight-format", "fp8_e5m2"]),
    ("MXFP8 E4M3", 8.25, LINEAR + ["--weight-format", "mxfp8_e4m3"]),
]


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def score(model, logits, labels):
    """(perplexity, accuracy): next-character for gpt, masked characters
    for bert."""
    t = labels["targets"]
    lp = log_softmax(logits.astype(np.float64))
    if model == "gpt":
        lp, t, sel = lp[:, :, :-1], t[:, :, 1:], np.ones(t[:, :, 1:].shape, bool)
    else:
        sel = labels["masked"]
    picked = np.take_along_axis(lp, t[..., None], -1)[..., 0]
    nll = -picked[sel].mean()
    acc = (lp.argmax(-1) == t)[sel].mean()
    return float(np.exp(nll)), float(acc)

# --activations: 8-bit weights (a scale per channel, rounded to nearest) with
# the linear layers' inputs as u8, i8 or FP8 codes, a scale per tensor.
ACTIVATION_RECIPES = [
    ("float", "-", None),
    ("int8", "u8", LINEAR),
    ("int8", "i8", LINEAR + ["--activation-type", "i8"]),
    ("int8", "fp8 E4M3", LINEAR + ["--activation-type", "fp8_e4m3"]),
    ("fp8 E4M3", "u8", LINEAR + ["--weight-format", "fp8_e4m3"]),
    ("fp8 E4M3", "fp8 E4M3", LINEAR + ["--weight-format", "fp8_e4m3",
                                        "--activation-type", "fp8_e4m3"]),
    ("fp8 E5M2", "fp8 E5M2", LINEAR + ["--weight-format", "fp8_e5m2",
                                        "--activation-type", "fp8_e5m2"]),
    ("fp8 E4M3", "fp8 E5M2", LINEAR + ["--weight-format", "fp8_e4m3",
                                        "--activation-type", "fp8_e5m2"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-transformers")
    ap.add_argument("--report")
    ap.add_argument("--models", default="gpt,bert")
    ap.add_argument("--only", help="regular expression: the recipes to run (float always runs)")
    ap.add_argument("--formats", action="store_true",
                    help="the weight-format table (FORMAT_RECIPES) instead")
    ap.add_argument("--activations", action="store_true",
                    help="the activation-format table (ACTIVATION_RECIPES) instead")
    a = ap.parse_args()
    recipes = ([(n, f) for n, _, f in FORMAT_RECIPES] if a.formats else
               [("float" if f is None else f"W {w} / A {x}", f)
                for w, x, f in ACTIVATION_RECIPES] if a.activations
               else RECIPES)
    bits = {n: b for n, b, _ in FORMAT_RECIPES}
    os.makedirs(a.work, exist_ok=True)
    rows = {}
    for model in a.models.split(","):
        data = f"{a.work}/{model}-data"
        if not os.path.exists(f"{data}/eval-labels.npz"):
            script("bench/transformers/samples.py", model, data)
        labels = dict(np.load(f"{data}/eval-labels.npz"))
        evals = sorted(glob.glob(f"{data}/eval/*.npy"))
        for name, flags in recipes:
            if a.only and flags is not None and not re.search(a.only, name):
                continue
            lib = f"{a.work}/{model}-{len(rows)}.so"
            args = ["-o", lib]
            if flags is not None:
                args += ["--calibration-data", f"{data}/calib"] + flags
            t0 = time.time()
            rel = tools.rewritten_float_diff(
                tools.compile(a.bindir, f"{MODELS}/{model}.onnx", args))
            compile_s = time.time() - t0
            logits = run_model(a.bindir, lib, "ids", evals, "logits", f"{a.work}/out")
            ppl, acc = score(model, logits, labels)
            rows[(model, name)] = (ppl, acc, rel)
            print(f"{model:5s} {name:40s} perplexity {ppl:8.4f} accuracy {100 * acc:6.2f}%"
                  f"{'' if rel is None else f'  rewritten float rel diff {rel:.1e}'}"
                  f"  ({compile_s:.0f} s to compile)", flush=True)
    if a.report and a.activations:
        lines = ["| model | weights (a scale per channel) | activations (a scale per tensor) | "
                 "perplexity | accuracy |", "| --- | --- | --- | ---: | ---: |"]
        for (model, name), (ppl, acc, rel) in rows.items():
            label = {"gpt": "GPT-style (next char)", "bert": "BERT-style (masked char)"}[model]
            w, x = name[2:].split(" / A ") if name != "float" else ("float", "float")
            lines.append(f"| {label} | {w} | {x} | {ppl:.4f} | {100 * acc:.2f}% |")
        write_generated(a.report, "activation formats: bench/transformers/evaluate.py "
                        "--activations", lines)
    elif a.report and a.formats:
        lines = ["| model | weights (activations u8 per tensor) | bits per weight | perplexity | "
                 "accuracy |", "| --- | --- | ---: | ---: | ---: |"]
        for (model, name), (ppl, acc, rel) in rows.items():
            label = {"gpt": "GPT-style (next char)", "bert": "BERT-style (masked char)"}[model]
            b = "-" if bits.get(name) is None else f"{bits[name]:g}"
            lines.append(f"| {label} | {name} | {b} | {ppl:.4f} | {100 * acc:.2f}% |")
        write_generated(a.report, "weight formats: bench/transformers/evaluate.py --formats", lines)
    elif a.report:
        lines = ["| model | recipe | perplexity | accuracy | W8A8 gap recovered | "
                 "rewritten float vs original (max rel. diff) |",
                 "| --- | --- | ---: | ---: | ---: | ---: |"]
        for (model, name), (ppl, acc, rel) in rows.items():
            f = rows[(model, "float")][0]
            linear8 = name.startswith("W8A8 +") or name.startswith("W8A8 naive,")
            base = rows[(model, "W8A8 naive")][0] if linear8 else None
            if name.startswith("W8A8 integer-only +"):
                base = rows[(model, "W8A8 integer-only, naive")][0]
            rec = "-" if base is None or base == f else f"{100 * (base - ppl) / (base - f):.0f}%"
            label = {"gpt": "GPT-style (next char)", "bert": "BERT-style (masked char)"}[model]
            lines.append(f"| {label} | {name} | {ppl:.4f} | {100 * acc:.2f}% | {rec} | "
                         f"{'-' if rel is None else f'{rel:.1e}'} |")
        write_generated(a.report, "bench/transformers/evaluate.py", lines)
    suffix = "-formats" if a.formats else "-activations" if a.activations else ""
    with open(f"{a.work}/results{suffix}.json", "w") as h:
        json.dump({f"{m}/{n}": v for (m, n), v in rows.items()}, h, indent=1)


if __name__ == "__main__":
    main()
