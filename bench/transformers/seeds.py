#!/usr/bin/python3
"""How much of the W8A8 gap the rotation recovers, over random rotations and
a larger held-out set than evaluate.py's: float, naive W8A8 (per tensor and
per token), and the rotation with per-token activations, residual stream and
each input on its own (also with GPTQ, and with a scale per group of 32 or
16 channels of each token; symmetric, or with zero points), for each of several seeds
(--rotation-seed), all on N held-out windows of 4 x 128 characters. Prints
per seed and the mean, and, per seed, the gap recovered on each half of the
held-out set (whether the seeds' order is a property of the rotation or of
the text), and the mean KL divergence of the quantized model's predictions
from float's over the scored positions (how far the model moved, which
perplexity alone does not show: a perturbation can lower the perplexity of
an overconfident model). Writes a table into --report between its markers.

    seeds.py BINDIR [--work DIR] [--model gpt] [--eval 128] [--seeds 0,1,2,3,4]
             [--only REGEX] [--report FILE]
"""
import argparse
import glob
import os
import re

import numpy as np
from evaluate import MODELS, log_softmax, score

from qcbench.models import script
from qcbench.report import write_generated
from qcbench.tools import run, run_model

LINEAR = ["--quantize-scope", "linear"]
TOKEN = ["--activation-granularity", "token"]
EACH = ["--rotate-hadamard", "--rotate-residual=false"] + TOKEN
GPTQ = ["--weight-rounding", "gptq"]
ASYM = ["--activation-type", "u8"]  # with token / group:G: a zero point per row / group
GROUP = ["--rotate-hadamard", "--rotate-residual=false", "--activation-granularity"]
ROTATIONS = [("rotation (residual stream), per-token", ["--rotate-hadamard"] + TOKEN),
             ("rotation of each input, per-token", EACH),
             ("rotation of each input, per-token, GPTQ", EACH + GPTQ),
             ("rotation of each input, per group of 32 channels, GPTQ", GROUP + ["group:32"] + GPTQ),
             ("rotation of each input, per group of 16 channels, GPTQ", GROUP + ["group:16"] + GPTQ),
             ("rotation of each input, per-token with zero points, GPTQ", EACH + ASYM + GPTQ),
             ("rotation of each input, per group of 32 with zero points, GPTQ",
              GROUP + ["group:32"] + ASYM + GPTQ),
             ("rotation of each input, per group of 16 with zero points, GPTQ",
              GROUP + ["group:16"] + ASYM + GPTQ)]


def kl_divergence(model, logits, ref_logits, labels):
    """Mean KL(float || quantized) of the predictions at the scored
    positions (as score() selects them)."""
    p, q = log_softmax(ref_logits.astype(np.float64)), log_softmax(logits.astype(np.float64))
    kl = (np.exp(p) * (p - q)).sum(-1)
    if model == "gpt":
        return float(kl[:, :, :-1].mean())
    return float(kl[labels["masked"]].mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-transformers")
    ap.add_argument("--model", default="gpt")
    ap.add_argument("--eval", type=int, default=128)
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--report")
    ap.add_argument("--only", help="regular expression: the rotation recipes to run")
    a = ap.parse_args()
    data = f"{a.work}/{a.model}-data-eval{a.eval}"
    if not os.path.exists(f"{data}/eval-labels.npz"):
        script("bench/transformers/samples.py", a.model, data, "--eval", str(a.eval))
    labels = dict(np.load(f"{data}/eval-labels.npz"))
    evals = sorted(glob.glob(f"{data}/eval/*.npy"))
    half = len(evals) // 2
    parts = {"all": slice(None), "first half": slice(0, half), "second half": slice(half, None)}
    ref = {}

    def measure(name, flags):
        lib = f"{a.work}/{a.model}-seeds.so"
        cmd = [f"{a.bindir}/quant-compile", f"{MODELS}/{a.model}.onnx", "-o", lib]
        if flags is not None:
            cmd += ["--calibration-data", f"{data}/calib"] + LINEAR + flags
        run(cmd)
        logits = run_model(a.bindir, lib, "ids", evals, "logits", f"{a.work}/out-seeds")
        r = {k: score(a.model, logits[s], {n: v[s] for n, v in labels.items()})[0]
             for k, s in parts.items()}
        if flags is None:
            ref["logits"] = logits
        r["kl"] = kl_divergence(a.model, logits, ref["logits"], labels)
        print(f"{name:55s} " + "  ".join(f"{k} {v:.4f}" for k, v in r.items() if k != "kl") +
              f"  KL {r['kl']:.2e}", flush=True)
        return r

    base = {"float": measure("float", None), "naive": measure("W8A8 naive", []),
            "naive token": measure("W8A8 naive, per-token", TOKEN)}

    def gap(ppl, part="all"):
        return (base["naive"][part] - ppl) / (base["naive"][part] - base["float"][part])

    rows = [("float", [base["float"]]), ("W8A8 naive", [base["naive"]]),
            ("W8A8 naive, per-token activations", [base["naive token"]])]
    for name, flags in ROTATIONS:
        if a.only and not re.search(a.only, name):
            continue
        per_seed = []
        for seed in a.seeds.split(","):
            per_seed.append(measure(f"W8A8 + {name}, seed {seed}",
                                    flags + ["--rotation-seed", seed]))
        rows.append((f"W8A8 + {name}", per_seed))
    lines = ["| recipe | seeds | perplexity (mean) | per seed | W8A8 gap recovered (mean) | "
             "per seed | per seed, first / second half of the held-out set | "
             "KL from float (mean) | KL gap recovered |",
             "| --- | ---: | ---: | --- | ---: | --- | --- | ---: | ---: |"]
    for name, rs in rows:
        ppl = [r["all"] for r in rs]
        mean = float(np.mean(ppl))
        kl = float(np.mean([r["kl"] for r in rs]))
        base_kl = base["naive"]["kl"]
        quantized = name != "float"
        g = [gap(p) for p in ppl]
        halves = [f"{100 * gap(r['first half'], 'first half'):.0f} / "
                  f"{100 * gap(r['second half'], 'second half'):.0f}%" for r in rs]
        lines.append(
            f"| {name} | {len(rs)} | {mean:.4f} | "
            f"{', '.join(f'{p:.4f}' for p in ppl) if len(rs) > 1 else '-'} | "
            f"{f'{100 * gap(mean):.0f}%' if quantized and name != 'W8A8 naive' else '-'} | "
            f"{', '.join(f'{100 * x:.0f}%' for x in g) if len(rs) > 1 else '-'} | "
            f"{'; '.join(halves) if len(rs) > 1 else '-'} | "
            f"{f'{kl:.2e}' if quantized else '-'} | "
            f"{f'{100 * (1 - kl / base_kl):.0f}%' if quantized and name != 'W8A8 naive' else '-'} |")
        print(lines[-1], flush=True)
    if a.report:
        write_generated(a.report, "bench/transformers/seeds.py", lines,
                        f" ({a.model}, {a.eval} x 4 held-out windows)")


if __name__ == "__main__":
    main()
