#!/usr/bin/python3
"""Latency-aware bit widths: accuracy against measured latency, the integer
program (CBC) against the greedy baseline and uniform widths, on the
transformers of bench/transformers (GPT- and BERT-style, [4, 128] tokens),
on PP-OCR's direction classifier (3x48x192), and on a decode-shaped stack
of feed-forward blocks (one token, 1024 -> 2816 -> 1024, made here:
`make_mlp`), where the table-lookup kernels are the faster ones.

For each model: the float build; uniform W8, W4 and W2 weights (8-bit
inputs); then `--bits auto --latency-budget B` with `--bit-assignment ilp`
and `greedy` at budgets between the fastest mix the latency table allows
(each layer in its fastest format: the int8 kernel on int8 or sub-byte
weights, or for 1-4 bits the table-lookup kernel, whichever the table timed
faster) and the all-8-bit latency. Every build is then run: its measured
latency (one thread, median of --rounds interleaved rounds of --repeat runs
of one sample) next to the
kernels' latency the program summed, and its quality against float
(perplexity and top-1 agreement for the transformers, output SQNR and
top-1 agreement for the classifier and the stack).

    latency_bits.py BINDIR [--work DIR] [--models mlp,cls,gpt,bert] [--repeat N]
                    [--report FILE.md] [--json FILE]
"""
import argparse
import glob
import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "bench", "transformers"))

from qcbench import tools  # noqa: E402
from qcbench.models import OCR, model_cache, script  # noqa: E402
from qcbench.report import cpu_name  # noqa: E402
from qcbench.tools import interleaved_ms, run_json, run_model, run_samples  # noqa: E402

CLS = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
CLS_OUT = "softmax_0.tmp_0"
# Budgets: fastest + f * (all-8-bit - fastest).
FRACTIONS = [0.05, 0.5]


def kernel_us(res):
    m = re.search(r"(\S+) us \(kernels\)", res["log"])
    return float(m.group(1)) if m else None


def widths(bw):
    if not bw:
        return None
    w = [l["weight_bits"] for l in bw["layers"]]
    return " ".join(f"{w.count(b)} x {b}-bit" for b in sorted(set(w)))


def make_mlp(work, d=1024, hidden=2816, blocks=3, seed=0):
    """A decode-shaped stack (one token, M = 1): `blocks` feed-forward
    blocks d -> hidden -> d with ReLU between and a residual Add, Gaussian
    weights scaled by 1 / sqrt(fan-in), block b's up-projection with b
    outlier input channels per 64. Written with Debian's onnx; 64 calibration and 32
    evaluation inputs of N(0, 1)."""
    path, calib, ev = f"{work}/mlp.onnx", f"{work}/mlp-calib", f"{work}/mlp-eval"
    if not os.path.exists(path):
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        rng = np.random.default_rng(seed)
        nodes, inits, x = [], [], "x"
        for b in range(blocks):
            w1 = rng.standard_normal((d, hidden)) / np.sqrt(d)
            w2 = rng.standard_normal((hidden, d)) / np.sqrt(hidden)
            # Block b's up-projection gets b heavy-tailed rows per 64 (input
            # channels 8x larger: outliers that per-channel scales at few
            # bits handle badly): the blocks differ in what bits cost them.
            w1[np.arange(0, d, 64 // max(b, 1))[: b * d // 64]] *= 8 if b else 1
            w1, w2 = w1.astype(np.float32), w2.astype(np.float32)
            inits += [numpy_helper.from_array(w1, f"w{b}_up"),
                      numpy_helper.from_array(w2, f"w{b}_down")]
            nodes += [helper.make_node("MatMul", [x, f"w{b}_up"], [f"h{b}"]),
                      helper.make_node("Relu", [f"h{b}"], [f"r{b}"]),
                      helper.make_node("MatMul", [f"r{b}", f"w{b}_down"], [f"o{b}"]),
                      helper.make_node("Add", [x, f"o{b}"], [f"x{b + 1}"])]
            x = f"x{b + 1}"
        nodes.append(helper.make_node("Identity", [x], ["y"]))
        g = helper.make_graph(nodes, "mlp",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, d])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, d])],
                              inits)
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
        for sub, base in ((calib, 1000), (ev, 2000)):
            os.makedirs(sub, exist_ok=True)
            r = np.random.default_rng(base)
            for i in range(64 if sub == calib else 32):
                np.save(f"{sub}/{i:03d}.npy", r.standard_normal((1, d)).astype(np.float32))
    return path, calib, sorted(glob.glob(f"{ev}/*.npy"))


class Model:
    """One model: how to build it, run it for quality, and time it."""

    def __init__(self, a, name):
        self.a, self.name = a, name
        w = a.work
        if name == "mlp":
            self.path, self.calib, self.evals = make_mlp(w)
            self.x = np.stack([np.load(f) for f in self.evals])
            # Rounded to nearest: GPTQ's Hessian from 64 single tokens is
            # rank-deficient for K = 1024.
            self.shape, self.scope, self.metric = [], ["--weight-rounding", "nearest"], "mse"
        elif name == "cls":
            samples = f"{w}/samples"
            if not os.path.isdir(f"{samples}/cls"):
                script("bench/quality/make-samples.py", samples, "--cache", model_cache(),
                       "--only", "cls")
            self.path = f"{model_cache()}/{OCR}/{CLS}"
            self.calib = f"{samples}/cls/calib"
            self.evals = sorted(glob.glob(f"{samples}/cls/eval/*.npy"))
            self.x = np.stack([np.load(f) for f in self.evals])
            self.shape = ["--input-shape", "x:1x3x48x192"]
            self.scope = []
            self.metric = "mse"
        else:
            from evaluate import MODELS
            data = f"{w}/{name}-data"
            if not os.path.exists(f"{data}/eval-labels.npz"):
                script("bench/transformers/samples.py", name, data)
            self.path = f"{MODELS}/{name}.onnx"
            self.calib = f"{data}/calib"
            self.labels = dict(np.load(f"{data}/eval-labels.npz"))
            self.evals = sorted(glob.glob(f"{data}/eval/*.npy"))
            self.shape = []
            self.scope = ["--quantize-scope", "linear"]
            self.metric = "kl"
        self.cache = f"{w}/{name}-latency-sensitivity.json"
        self.float = None

    def compile(self, label, flags, fatal=True):
        lib = f"{self.a.work}/{self.name}-lat-{re.sub('[^a-z0-9]+', '-', label.lower())}.so"
        args = self.shape + ["-o", lib]
        if flags is not None:
            args += ["--calibration-data", self.calib] + self.scope + flags
        return lib, tools.compile(self.a.bindir, self.path, args, fatal=fatal)

    def quality(self, lib):
        if self.name in ("cls", "mlp"):
            out = CLS_OUT if self.name == "cls" else "y"
            res = run_samples(self.a.bindir, lib, {"x": self.x},
                              f"{self.a.work}/out-{self.name}-lat")
            p = res.outputs[out].reshape(len(self.x), -1).astype(np.float64)
            if self.float is None:
                self.float = p
            f = self.float
            noise = ((p - f) ** 2).sum()
            sqnr = float("inf") if noise == 0 else 10 * np.log10((f ** 2).sum() / noise)
            if self.name == "mlp":  # no classes: the SQNR alone
                return {"sqnr": sqnr}
            return {"sqnr": sqnr, "agree": float((p.argmax(-1) == f.argmax(-1)).mean())}
        from evaluate import score
        logits = run_model(self.a.bindir, lib, "ids", self.evals, "logits",
                           f"{self.a.work}/out-{self.name}-lat")
        ppl, _ = score(self.name, logits, self.labels)
        pred = logits.argmax(-1)
        if self.float is None:
            self.float = pred
        return {"ppl": ppl, "agree": float((pred == self.float).mean())}

    def runner(self, lib):
        flags = ["--input", f"{'ids' if self.name in ('gpt', 'bert') else 'x'}={self.evals[0]}",
                 "--repeat", str(self.a.repeat), "--warmup", "5"]
        return lambda: run_json(self.a.bindir, lib, flags)


def study(a, name):
    m = Model(a, name)
    rows, failed = [], []

    def add(kind, label, flags, expect_bits=None):
        try:
            lib, res = m.compile(label, flags, fatal=kind not in ("ilp", "greedy"))
        except tools.ToolError as e:  # greedy can miss a tight budget
            print(f"{name:5s} {label:36s} no choice: {str(e).splitlines()[-1][-160:]}",
                  flush=True)
            failed.append({"model": name, "kind": kind, "config": label,
                           "error": str(e)[-300:]})
            return None
        bw = tools.bit_widths(res)
        q = m.quality(lib)
        r = {"model": name, "kind": kind, "config": label, "lib": lib,
             "kernels_us": kernel_us(res), "widths": widths(bw) or expect_bits, **q}
        rows.append(r)
        print(f"{name:5s} {label:36s} kernels "
              f"{r['kernels_us'] if r['kernels_us'] is not None else '-'} us  "
              f"{' '.join(f'{k} {v:.4g}' for k, v in q.items())}  ({r['widths']})", flush=True)
        return res

    add("float", "float", None)
    for bits in (8, 4, 2):
        add("uniform", f"uniform W{bits}", ["--weight-bits", str(bits)], f"all {bits}-bit")
    auto = ["--bits", "auto", "--sensitivity-metric", m.metric, "--sensitivity-cache", m.cache,
            "--weight-formats", "2,3,4,8", "--size-budget", "1e12"]
    # The all-8-bit kernels' latency and the fastest the table allows: the
    # program says both when the budget is below the fastest.
    try:
        m.compile("fastest", auto + ["--latency-budget", "1us"], fatal=False)
        log = ""
    except tools.ToolError as e:
        log = str(e)
    s8 = re.search(r"all at the widest: ([0-9.]+) us", log)
    f = re.search(r"the fastest choice these formats allow takes ([0-9.]+) us", log)
    slow = float(s8.group(1)) if s8 else None
    fast = float(f.group(1)) if f else None
    print(f"{name}: kernels {slow} us at 8 bits, fastest mix {fast} us", flush=True)
    if slow is None or fast is None:
        raise SystemExit(f"{name}: no latency table ({log[-400:]})")
    for frac in FRACTIONS:
        budget = fast + frac * (slow - fast)
        budget = max(budget, fast * 1.0001)
        for kind in ("ilp", "greedy"):
            add(kind, f"{kind} latency <= {budget:.0f} us",
                auto + ["--latency-budget", f"{budget:.1f}us", "--bit-assignment", kind])
    # Every build timed in interleaved rounds (a shared machine's bursts of
    # load then hit one round of each build, not all rounds of one).
    lat = interleaved_ms({r["config"]: m.runner(r["lib"]) for r in rows}, a.rounds)
    for r in rows:
        r["measured_ms"] = lat[r["config"]]
        del r["lib"]
        print(f"{name:5s} {r['config']:36s} measured {r['measured_ms']:.4f} ms", flush=True)
    return {"model": name, "kernels_8bit_us": slow, "kernels_fastest_us": fast, "rows": rows,
            "failed": failed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-latency-bits")
    ap.add_argument("--models", default="mlp,cls,gpt,bert")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--report")
    ap.add_argument("--json")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    results = [study(a, n) for n in a.models.split(",")]
    if a.json:
        with open(a.json, "w") as h:
            json.dump({"cpu": cpu_name(), "threads": 1, "results": results}, h, indent=1)
    if a.report:
        lines = [f"Latency-aware bit widths; {cpu_name()}, one thread, median of {a.rounds} "
                 f"interleaved rounds of {a.repeat} runs of one sample.", "",
                 "| model | configuration | kernels' latency, summed by the program (us) | "
                 "measured latency (ms) | quality vs float | widths |",
                 "|---|---|---:|---:|---|---|"]
        for res in results:
            for r in res["rows"]:
                q = (f"SQNR {r['sqnr']:.2f} dB" +
                     (f", agreement {100 * r['agree']:.1f}%" if "agree" in r else "")
                     if "sqnr" in r else
                     f"perplexity {r['ppl']:.4f}, agreement {100 * r['agree']:.2f}%")
                k = "-" if r["kernels_us"] is None else f"{r['kernels_us']:.0f}"
                lines.append(f"| {r['model']} | {r['config']} | {k} | {r['measured_ms']:.3f} | "
                             f"{q} | {r['widths'] or '-'} |")
            for r in res["failed"]:
                lines.append(f"| {r['model']} | {r['config']} | - | - | no choice within "
                             f"the budget | - |")
        with open(a.report, "w") as h:
            h.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
