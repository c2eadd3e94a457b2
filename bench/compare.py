#!/usr/bin/python3
"""Our float and int8 builds against ONNX Runtime, in one run on this machine.

For each model and for 1 and 2 threads, times on the same input:
  - our float build (quant-compile; --threads 2 for two threads);
  - our int8 build (quant-compile --calibration-data; AVX-512 VNNI kernels
    where the CPU has them);
  - ONNX Runtime 1.30 FP32 on the float model;
  - ONNX Runtime 1.30 int8 on a QDQ model of it;
the median of --repeat runs after warm-up, with min and max. Models:
  - the real models that ONNX Runtime's quantize_static quantized for us
    (test/e2e/Inputs/ort-quantized/*_qdq_minmax.onnx, per-channel QDQ, made
    by bench/quality/ort-quantize.py), calibrated by both on the same 32
    samples of bench/quality/make-samples.py;
  - a ResNet-50 and a BERT-base encoder of the real shapes with random
    weights (bench/models/make-synthetic.py), and PP-OCRv4's recognizer
    (make-samples.py's text lines) and detector (16 pages of
    bench/quality/ocr_sets.py). Python onnxruntime (which quantize_static
    needs) is not installable here, so their ORT int8 model is our own QDQ
    export (quant-compile --emit-qdq, quant-translate --export-onnx-qdq),
    the same calibration.
Writes a markdown table with the machine's CPU model and flags (--report) and
an SVG chart beside it.

    compare.py BINDIR [--work DIR] [--repeat N] [--report docs/benchmarks.md]
              [--models cls,embedding,head,resnet50,bert,rec,det]
"""
import argparse
import os
import re
import sys

from qcbench.models import OCR, WAKE, script, setup
from qcbench.ort import ort_run
from qcbench.report import cpu_flags, cpu_name, write_generated
from qcbench.tools import run, run_json, timing

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORTQ = f"{ROOT}/test/e2e/Inputs/ort-quantized"
# key, name, float model, input, shape, calibration samples, ORT QDQ model
# (None: our export), repeat divisor (the large models run fewer times)
MODELS = [
    ("cls", "PP-OCR cls", f"cache:{OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", "1x3x48x192",
     "samples:cls/calib", "cls_qdq_minmax.onnx", 1),
    ("embedding", "wake embedding (x16)", f"cache:{WAKE}/embedding_model.onnx", "input_1",
     "16x76x32x1", "samples:wake/calib/embedding", "embedding_qdq_minmax.onnx", 1),
    ("head", "hey jarvis head", f"cache:{WAKE}/hey_jarvis_v0.1.onnx", "x.1", "1x16x96",
     "samples:wake/calib/head", "hey_jarvis_qdq_minmax.onnx", 1),
    ("resnet50", "ResNet-50 (synthetic)", "synth:resnet50.onnx", "x", "1x3x224x224",
     "synth:calib/resnet50", None, 5),
    ("bert", "BERT-base encoder, seq 128 (synthetic)", "synth:bert_base.onnx", "h", "1x128x768",
     "synth:calib/bert_base", None, 5),
    ("rec", "PP-OCRv4 rec", f"cache:{OCR}/ch_PP-OCRv4_rec_infer.onnx", "x", "1x3x48x320",
     "samples:rec/calib", None, 1),
    ("det", "PP-OCRv4 det, 640x640", f"cache:{OCR}/ch_PP-OCRv4_det_infer.onnx", "x",
     "1x3x640x640", "ocr:det/calib", None, 5),
]
CONFIGS = ["ours FP32", "ours int8", "ORT FP32", "ORT int8 (QDQ)"]


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
        label = name if len(name) <= 20 else name[:19] + "…"
        out.append(f'<text x="{x}" y="{y0 + 14}">{label}</text>')
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
    ap.add_argument("--report", default=f"{ROOT}/docs/benchmarks.md")
    ap.add_argument("--models", default=",".join(m[0] for m in MODELS))
    ap.add_argument("--ort-dir", default=os.environ.get("QC_ORT_DIR"))
    a = ap.parse_args()
    a.ort_dir, cache, samples = setup(a.work, a.ort_dir)
    keys = a.models.split(",")
    synth = f"{a.work}/synthetic"
    if {"resnet50", "bert"} & set(keys):
        print("== synthetic models (bench/models/make-synthetic.py)", flush=True)
        script("bench/models/make-synthetic.py", synth)
    ocr = f"{a.work}/ocr-sets"
    if "det" in keys and not os.path.isdir(f"{ocr}/det/calib"):
        print("== detector pages (bench/quality/ocr_sets.py)", flush=True)
        script("bench/quality/ocr_sets.py", ocr, "--rec-calib", "1", "--rec-eval", "1",
               "--det-calib", "16", "--det-eval", "1")
    roots = {"cache": cache, "samples": samples, "synth": synth, "ocr": ocr}

    def path(p):
        root, rel = p.split(":", 1)
        return f"{roots[root]}/{rel}"

    threads = [1, 2]
    results = []
    for key, name, rel, inp, shape, calib, ortq, div in MODELS:
        if key not in keys:
            continue
        print(f"== {name}", flush=True)
        model, calib = path(rel), path(calib)
        repeat = max(3, a.repeat // div)
        rep = ["--repeat", str(repeat), "--warmup", "5" if div == 1 else "2"]
        sample = sorted(f for f in os.listdir(calib) if f.endswith(".npy"))[0]
        x = ["-i", f"{inp}={calib}/{sample}"]
        tag = re.sub(r"[^a-z0-9]+", "_", name.lower())
        if ortq:
            ort_int8 = f"{ORTQ}/{ortq}"
        else:
            qdq = f"{a.work}/{tag}_qdq.mlir"
            ort_int8 = f"{a.work}/{tag}_qdq.onnx"
        times = {"repeat": repeat}
        for t in threads:
            tflags = ["--threads", str(t)] if t > 1 else []
            fl, ql = f"{a.work}/lib{tag}_f{t}.so", f"{a.work}/lib{tag}_q{t}.so"
            run([f"{a.bindir}/quant-compile", model, "--input-shape", f"{inp}:{shape}",
                 *tflags, "-o", fl])
            export = ["--emit-qdq", qdq] if not ortq and t == 1 else []
            run([f"{a.bindir}/quant-compile", model, "--input-shape", f"{inp}:{shape}",
                 "--calibration-data", calib, *export, *tflags, "-o", ql])
            if export:
                run([f"{a.bindir}/quant-translate", "--export-onnx-qdq", qdq, "-o", ort_int8])
            flags = [*x, *rep, "--threads", str(t)]
            times[(t, "ours FP32")] = timing(run_json(a.bindir, fl, flags))
            times[(t, "ours int8")] = timing(run_json(a.bindir, ql, flags))
            times[(t, "ORT FP32")] = timing(ort_run(a.ort_dir, model, flags))
            times[(t, "ORT int8 (QDQ)")] = timing(ort_run(a.ort_dir, ort_int8, flags))
            print("  " + ", ".join(f"{c} {times[(t, c)][0]:.3f} ms" for c in CONFIGS) +
                  f" ({t} thread{'s' if t > 1 else ''})", flush=True)
        results.append((name + ("" if ortq else " *"), times))

    cpu = cpu_name()
    isa = " ".join(f for f in cpu_flags() if f.startswith(("avx512", "avx2", "fma", "avx_vnni")))
    chart = os.path.splitext(a.report)[0] + ".svg"
    svg(chart, results, threads)
    lines = [f"Machine: {cpu}, {os.cpu_count()} cores; {isa}.", "",
             "Median of the runs after warm-up (min-max in parentheses), ms; one input, "
             "the same for every configuration. `*`: the ORT int8 model is our QDQ "
             "export (no Python onnxruntime here for quantize_static).", "",
             f"![latency relative to ORT FP32]({os.path.basename(chart)})", "",
             "| model | threads | runs | " + " | ".join(CONFIGS) +
             " | ours int8 / ORT int8 | ours int8 / ORT FP32 | ours FP32 / ORT FP32 |",
             "| --- | ---: | ---: |" + " ---: |" * (len(CONFIGS) + 3)]
    for name, times in results:
        for t in threads:
            cells = [f"{times[(t, c)][0]:.3f} ({times[(t, c)][1]:.3f}-{times[(t, c)][2]:.3f})"
                     for c in CONFIGS]
            q, f32 = times[(t, "ours int8")][0], times[(t, "ORT FP32")][0]
            lines.append(f"| {name} | {t} | {times['repeat']} | " + " | ".join(cells) +
                         f" | {q / times[(t, 'ORT int8 (QDQ)')][0]:.2f} | {q / f32:.2f} | "
                         f"{times[(t, 'ours FP32')][0] / f32:.2f} |")
    # The generated part of the report, between its markers; the text
    # around it (the analysis) stays.
    write_generated(a.report, "bench/compare.py", lines, f" (--repeat {a.repeat})")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
