#!/usr/bin/python3
"""SmoothQuant and rotation on the transformer of a real pretrained model:
PP-OCRv4's text recognizer (ch_PP-OCRv4_rec: a conv backbone, then an SVTR
neck of two pre-LN transformer blocks, d = 120, attention and MLP, LayerNorm
decomposed into ReduceMean/Sub/Pow/Sqrt/Div, then a CTC head of 6625
classes). `--quantize-scope matmul` quantizes the inputs and weights of the
transformer's linear layers and the head, the convolutional backbone staying
float (one row quantizes the convolutions too, for scale).

Each recipe is compiled by quant-compile (calibration: 32 rendered text
lines of make-samples.py) and run by quant-run on 32 held-out lines; the CTC
output is decoded greedily with the model's dictionary (ppocr_keys_v1.txt).
Reports, against the float build: the character error rate of the decoded
text (edit distance / length), lines decoded identically, and the output's
SQNR; and against the rendered text, the character error rate. Writes a
table into --report between its markers.

    ppocr_rec.py BINDIR [--work DIR] [--report docs/quality.md] [--only REGEX]
"""
import argparse
import glob
import os
import re
import time

import numpy as np

from qcbench import tools
from qcbench.models import OCR, model_cache, script
from qcbench.report import write_generated
from qcbench.tools import run_samples

OUT = "softmax_11.tmp_0"
# The transformer's linear layers only (Q/K/V, output, MLP and the CTC head);
# the convolutional backbone stays float, so that what is measured is the
# transformer's quantization.
MM = ["--quantize-scope", "matmul"]
TOKEN = ["--activation-granularity", "token"]
ASYM = ["--activation-type", "u8"]  # with token / group:G: a zero point per row / group
EACH = ["--rotate-hadamard", "--rotate-residual=false"]
RECIPES = [
    ("float", None),
    ("W8A8 whole model (convolutions too), naive", ["--quantize-scope", "linear"]),
    ("W8A8 naive", MM),
    ("W8A8 + SmoothQuant (alpha 0.5)", MM + ["--smooth-alpha", "0.5"]),
    ("W8A8 + SmoothQuant (alpha searched)", MM + ["--smooth-alpha", "auto"]),
    ("W8A8 + rotation", MM + ["--rotate-hadamard"]),
    ("W8A8 naive, per-token activations", MM + TOKEN),
    ("W8A8 + rotation, per-token activations", MM + ["--rotate-hadamard"] + TOKEN),
    ("W8A8 naive, per-token activations with zero points", MM + TOKEN + ASYM),
    ("W8A8 + rotation of each input, per-token activations with zero points",
     MM + EACH + TOKEN + ASYM),
    ("W8A8 + rotation of each input, a scale and zero point per 40 channels",
     MM + EACH + ["--activation-granularity", "group:40"] + ASYM),
    ("W4A8 naive, GPTQ", MM + ["--weight-bits", "4", "--weight-rounding", "gptq"]),
    ("W4A8 + rotation, GPTQ", MM + ["--weight-bits", "4", "--rotate-hadamard",
                                    "--weight-rounding", "gptq"]),
    ("W4A4 naive, GPTQ", MM + ["--weight-bits", "4", "--activation-bits", "4",
                               "--weight-rounding", "gptq"]),
    ("W4A4 + rotation, per-token activations, GPTQ",
     MM + ["--weight-bits", "4", "--activation-bits", "4", "--rotate-hadamard",
           "--weight-rounding", "gptq"] + TOKEN),
]



def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, cb in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ca != cb))
    return d[len(b)]


def decode(probs, keys):
    """Greedy CTC: argmax per step, repeats collapsed, blanks (0) dropped;
    class i is keys[i - 1], the last class a space."""
    out, last = [], 0
    for k in probs.argmax(-1):
        if k != last and k != 0:
            out.append(keys[k - 1] if k - 1 < len(keys) else " ")
        last = k
    return "".join(out)


def cer(got, want):
    return sum(edit_distance(g, w) for g, w in zip(got, want)) / sum(len(w) for w in want)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-quality")
    ap.add_argument("--report")
    ap.add_argument("--only", help="regular expression: the recipes to run (float always runs)")
    a = ap.parse_args()
    cache = model_cache()
    samples = f"{a.work}/samples"
    if not os.path.isdir(f"{samples}/rec"):
        script("bench/quality/make-samples.py", samples, "--cache", cache, "--only", "rec")
    model = f"{cache}/{OCR}/ch_PP-OCRv4_rec_infer.onnx"
    keys = [l.rstrip("\n") for l in open(f"{cache}/{OCR}/ppocr_keys_v1.txt", encoding="utf-8")]
    texts = dict(l.rstrip("\n").split("\t", 1) for l in open(f"{samples}/rec/texts.txt"))
    evals = sorted(glob.glob(f"{samples}/rec/eval/*.npy"))
    truth = [texts["eval/" + os.path.basename(f)[:-4]] for f in evals]
    x = np.stack([np.load(f) for f in evals])
    rows, fl = [], None
    for name, flags in RECIPES:
        if a.only and flags is not None and not re.search(a.only, name):
            continue
        lib = f"{a.work}/rec-{re.sub('[^a-z0-9]+', '-', name.lower())}.so"
        args = ["--input-shape", "x:1x3x48x320", "-o", lib]
        if flags is not None:
            args += ["--calibration-data", f"{samples}/rec/calib"] + flags
        t0 = time.time()
        rel = tools.rewritten_float_diff(tools.compile(a.bindir, model, args))
        secs = time.time() - t0
        # The output's SQNR against the float build's: quant-run's
        # (--reference-outputs), over all samples and elements.
        res = run_samples(a.bindir, lib, {"x": x}, f"{a.work}/out-rec",
                          reference=None if fl is None else {OUT: fl[2]})
        stacked = res.outputs[OUT]
        probs = list(stacked[:, 0].astype(np.float64))
        text = [decode(p, keys) for p in probs]
        if fl is None:
            fl = (probs, text, stacked)
        r = {"name": name, "sqnr": float("inf") if res.comparison == {} else res.sqnr(OUT),
             "cer_float": cer(text, fl[1]), "same": np.mean([t == u for t, u in zip(text, fl[1])]),
             "cer_truth": cer(text, truth), "rel": rel, "secs": secs}
        rows.append(r)
        print(f"{name:45s} SQNR {r['sqnr']:6.2f} dB  CER vs float {100 * r['cer_float']:5.2f}%  "
              f"lines as float {100 * r['same']:5.1f}%  CER vs text {100 * r['cer_truth']:5.2f}%"
              f"{'' if rel is None else f'  rewritten float rel diff {rel:.1e}'}  ({secs:.0f} s)",
              flush=True)
    if a.report:
        lines = ["| recipe | output SQNR vs float (dB) | CER vs float | lines as float | "
                 "CER vs rendered text | W8A8 gap recovered (CER vs float) | rewritten float vs "
                 "original (max rel. diff) |",
                 "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        naive = next((r for r in rows if r["name"] == "W8A8 naive"), None)
        for r in rows:
            gap = "-"
            if naive and r["name"].startswith("W8A8 +") and naive["cer_float"] > 0:
                gap = f"{100 * (naive['cer_float'] - r['cer_float']) / naive['cer_float']:.0f}%"
            sq = "inf" if r["sqnr"] == float("inf") else f"{r['sqnr']:.2f}"
            rel = "-" if r["rel"] is None else f"{r['rel']:.1e}"
            lines.append(f"| {r['name']} | {sq} | {100 * r['cer_float']:.2f}% | "
                         f"{100 * r['same']:.1f}% | {100 * r['cer_truth']:.2f}% | {gap} | {rel} |")
        write_generated(a.report, "bench/transformers/ppocr_rec.py", lines)


if __name__ == "__main__":
    main()
