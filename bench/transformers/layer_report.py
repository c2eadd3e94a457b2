#!/usr/bin/python3
"""Per-layer effect of the rewrites on the GPT-style model of model.py: for
each activation a linear layer reads, the largest channel max |x| over the
channels' mean before and after SmoothQuant (with the alpha searched) and
after the rotation, and the SQNR of the W8A8 (per-tensor u8) quantized
activation against float, from quant-compile's quality reports. Writes the
table into --report (docs/quality.md) between its markers.

    layer_report.py BINDIR [--work DIR] [--report docs/quality.md]
"""
import argparse
import os
import re

from evaluate import MODELS

from qcbench import tools
from qcbench.models import script
from qcbench.report import write_generated


def label(tensor):
    m = re.match(r"/blocks\.(\d+)/(.*)", tensor)
    if not m:
        return "final LN (head)" if "/ln/" in tensor else tensor
    block, rest = m.groups()
    for key, what in (("ln1", "LN1 (Q, K, V)"), ("ln2", "LN2 (FC1)"),
                      ("Reshape_3", "attention (O)"), ("Mul_2", "GELU (FC2)")):
        if key in rest:
            return f"blocks.{block} {what}"
    return tensor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-transformers")
    ap.add_argument("--report")
    a = ap.parse_args()
    data = f"{a.work}/gpt-data"
    if not os.path.exists(f"{data}/eval-labels.npz"):
        script("bench/transformers/samples.py", "gpt", data)
    reports = {}
    for name, flags in (("naive", []), ("smooth", ["--smooth-alpha", "auto"]),
                        ("rotate", ["--rotate-hadamard"])):
        path = f"{a.work}/gpt-layers-{name}.json"
        res = tools.compile(a.bindir, f"{MODELS}/gpt.onnx",
                            ["-o", f"{a.work}/gpt-layers.so", "--calibration-data",
                             f"{data}/calib", "--quantize-scope", "linear", "--report", path] +
                            flags)
        reports[name] = {l["tensor"]: l for l in tools.report(res, path)["layers"]}
    lines = ["| activation (input of) | channel max/mean | after SmoothQuant (alpha) | "
             "after rotation | SQNR naive (dB) | SmoothQuant | rotation |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for tensor, n in reports["naive"].items():
        s, r = reports["smooth"].get(tensor, {}), reports["rotate"].get(tensor, {})
        alpha = s.get("smooth_alpha")
        lines.append(
            f"| {label(tensor)} | {n['channel_max_over_mean']:.2f} | "
            f"{s.get('channel_max_over_mean', 0):.2f} ({'-' if alpha is None else f'{alpha:.2f}'})"
            f" | {r.get('channel_max_over_mean', 0):.2f} | {n['sqnr_db']:.1f} | "
            f"{s.get('sqnr_db', 0):.1f} | {r.get('sqnr_db', 0):.1f} |")
    print("\n".join(lines))
    if a.report:
        write_generated(a.report, "bench/transformers/layer_report.py", lines)


if __name__ == "__main__":
    main()
