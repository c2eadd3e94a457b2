#!/usr/bin/python3
"""The real models of scripts/real-models.sh, compiled and run end to end
against ONNX Runtime.

Each model is compiled by quant-compile into a shared library (static shapes
as a deployment fixes them), run by quant-run through that library on
deterministic random inputs, and run by ONNX Runtime (npm onnxruntime-node,
scripts/ort-run.js) on the same inputs; every output must match within
rtol 1e-3, atol 1e-4. With --bench, both are timed single-threaded (the
median of --repeat runs after warm-up, one intra-op thread for ORT) and a
markdown table goes to --report.

    real-models-run.py BINDIR [--bench] [--repeat N] [--report FILE]
Exit: 0 all match, 1 a mismatch or failure, 77 models or ORT unavailable.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

from qcbench import ROOT
from qcbench.models import OCR, WAKE, model_cache
from qcbench.ort import ort_run
from qcbench.report import cpu_name
from qcbench.tools import run, run_json, timing
# name, model path in the cache, inputs: name -> (shape, dtype, generator)
MODELS = [
    ("melspectrogram", f"{WAKE}/melspectrogram.onnx",
     {"input": ((1, 1280), "float32", "audio")}),
    ("embedding_model", f"{WAKE}/embedding_model.onnx",
     {"input_1": ((1, 76, 32, 1), "float32", "normal")}),
    ("alexa_v0.1", f"{WAKE}/alexa_v0.1.onnx",
     {"onnx::Flatten_0": ((1, 16, 96), "float32", "normal")}),
    ("hey_jarvis_v0.1", f"{WAKE}/hey_jarvis_v0.1.onnx",
     {"x.1": ((1, 16, 96), "float32", "normal")}),
    ("hey_mycroft_v0.1", f"{WAKE}/hey_mycroft_v0.1.onnx",
     {"onnx::Flatten_0": ((1, 16, 96), "float32", "normal")}),
    ("hey_rhasspy_v0.1", f"{WAKE}/hey_rhasspy_v0.1.onnx",
     {"onnx::Flatten_0": ((1, 16, 96), "float32", "normal")}),
    ("timer_v0.1", f"{WAKE}/timer_v0.1.onnx",
     {"onnx::Flatten_0": ((1, 34, 96), "float32", "normal")}),
    ("weather_v0.1", f"{WAKE}/weather_v0.1.onnx",
     {"onnx::Flatten_0": ((1, 22, 96), "float32", "normal")}),
    ("silero_vad", f"{WAKE}/silero_vad.onnx",
     {"input": ((1, 512), "float32", "audio1"), "sr": ((), "int64", 16000),
      "h": ((2, 1, 64), "float32", "small"), "c": ((2, 1, 64), "float32", "small")}),
    ("ppocr_v4_det", f"{OCR}/ch_PP-OCRv4_det_infer.onnx",
     {"x": ((1, 3, 640, 640), "float32", "image")}),
    ("ppocr_v4_rec", f"{OCR}/ch_PP-OCRv4_rec_infer.onnx",
     {"x": ((1, 3, 48, 320), "float32", "image")}),
    ("ppocr_mobile_v2_cls", f"{OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx",
     {"x": ((1, 3, 48, 192), "float32", "image")}),
]


def make_input(rng, shape, dtype, kind):
    if isinstance(kind, int):
        return np.array(kind, dtype=dtype).reshape(shape)
    if kind == "audio":  # openWakeWord feeds int16-range samples as floats
        return (rng.standard_normal(shape) * 3000).astype(dtype)
    if kind == "audio1":
        return (rng.standard_normal(shape) * 0.3).astype(dtype)
    if kind == "small":
        return (rng.standard_normal(shape) * 0.1).astype(dtype)
    if kind == "image":  # PaddleOCR's normalized pixels
        return rng.uniform(-1, 1, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--report")
    ap.add_argument("--work", default=None)
    ap.add_argument("--only", help="comma-separated model names")
    args = ap.parse_args()

    cache = model_cache(fatal=False)
    if cache is None:
        print("real models unavailable: skipped")
        sys.exit(77)
    ort = subprocess.run(["bash", os.path.join(ROOT, "scripts/install-ort.sh")],
                         capture_output=True, text=True)
    if ort.returncode != 0:
        print("ONNX Runtime unavailable: " + ort.stderr.strip())
        sys.exit(77 if ort.returncode == 77 else 1)
    ort_dir = ort.stdout.strip().splitlines()[-1]
    work = args.work or os.path.join(cache, "..", "run")
    os.makedirs(work, exist_ok=True)

    rows, failed = [], 0
    only = set(args.only.split(",")) if args.only else None
    for name, rel, inputs in MODELS:
        if only and name not in only:
            continue
        model = os.path.join(cache, rel)
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        rng = np.random.default_rng(2026)
        flags, shapes = [], []
        for k, (inp, (shape, dtype, kind)) in enumerate(inputs.items()):
            path = os.path.join(d, f"in{k}.npy")
            np.save(path, make_input(rng, shape, dtype, kind))
            flags += ["-i", f"{inp}={path}"]
            if shape:
                shapes += ["--input-shape", f"{inp}:" + "x".join(map(str, shape))]
        lib = os.path.join(d, f"lib{name.replace('.', '_')}.so")
        try:
            start = time.time()
            run([os.path.join(args.bindir, "quant-compile"), model, *shapes, "-o", lib],
                fatal=False)
            compile_s = time.time() - start
            run([os.path.join(args.bindir, "quant-run"), lib, *flags, "-o", os.path.join(d, "qc")],
                fatal=False)
            ort_run(ort_dir, model, [*flags, "-o", os.path.join(d, "ort")], fatal=False)
            worst, ok = 0.0, True
            for f in sorted(os.listdir(os.path.join(d, "ort"))):
                want = np.load(os.path.join(d, "ort", f))
                got = np.load(os.path.join(d, "qc", f))
                if got.shape != want.shape:
                    raise RuntimeError(f"{f}: shape {got.shape} vs ORT {want.shape}")
                g, w = got.astype(np.float64), want.astype(np.float64)
                err = np.abs(g - w)
                worst = max(worst, float(err.max()) if err.size else 0.0)
                ok &= bool(np.all(err <= 1e-4 + 1e-3 * np.abs(w)))
            status = "match" if ok else "MISMATCH"
            failed += not ok
            row = [name, status, f"{worst:.2g}", f"{compile_s:.1f}"]
            if args.bench:
                r = str(args.repeat)
                timed = [*flags, "--repeat", r, "--threads", "1"]
                qc_ms = timing(run_json(args.bindir, lib, timed, fatal=False))[0]
                ort_ms = timing(ort_run(ort_dir, model, timed, fatal=False))[0]
                row += [f"{qc_ms:.3f}", f"{ort_ms:.3f}", f"{qc_ms / ort_ms:.2f}"]
        except RuntimeError as e:  # ToolError too
            failed += 1
            row = [name, f"FAILED: {e}", "", ""] + (["", "", ""] if args.bench else [])
        rows.append(row)
        print(" | ".join(row), flush=True)

    header = ["model", "vs ONNX Runtime (rtol 1e-3, atol 1e-4)", "max abs diff", "compile s"]
    if args.bench:
        header += ["quant-compile ms", "ORT FP32 ms", "ratio (lower is better for us)"]
    if args.report:
        cpu = cpu_name()
        lines = [f"Machine: {cpu}, {os.cpu_count()} cores; one thread for both "
                 f"(quant-run on the compiled .so; ONNX Runtime "
                 f"{open(os.path.join(ort_dir, 'ORT_VERSION')).read().strip() if os.path.exists(os.path.join(ort_dir, 'ORT_VERSION')) else ''} "
                 "CPU, intra-op threads 1, graph optimizations all). "
                 f"Median of {args.repeat} runs after 3 warm-up runs.", "",
                 "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        with open(args.report, "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"real models vs ONNX Runtime: {len(rows) - failed} of {len(rows)} match")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
