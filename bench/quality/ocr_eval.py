#!/usr/bin/python3
"""PP-OCRv4's recognizer and detector on our own labelled sets
(ocr_sets.py), float against quantized builds, scored as the tasks are:

  rec: exact-string accuracy against the rendered text and against the
       float build (greedy CTC with ppocr_keys_v1.txt), character error rate;
       spaces ignored, as PaddleOCR's recognition metric does by default
       (the model's spaces between words are unreliable)
  det: box F1 against the rendered lines' boxes after DB-style
       postprocessing (probability > 0.3, connected components, box score
       >= 0.6, unclipped by area x 1.5 / perimeter, matched one to one at
       IoU >= 0.5), and the probability map's IoU with the float build's
       (pixels > 0.3)

Builds: float, and each --config NAME=FLAGS (default: our default int8
build, `quant-compile --calibration-data`), compiled for the held-out
split and timed at compile; with --ort-dir, also ONNX Runtime's
quantize_static models of that directory ({rec,det}_qdq_minmax.onnx, made
by ort-quantize-ocr.py on the same calibration split), run by ONNX Runtime
1.30 (scripts/install-ort.sh). Writes a markdown table (--report) and JSON.

    ocr_eval.py BINDIR [--sets DIR] [--work DIR] [--models rec,det]
                [--config "NAME=FLAGS"]... [--ort-dir DIR] [--report FILE]
                [--json FILE]
"""
import argparse
import collections
import glob
import json
import os
import re
import shlex
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "bench", "transformers"))

from qcbench import tools  # noqa: E402
from qcbench.models import OCR, model_cache  # noqa: E402
from qcbench.ort import ort_dir, ort_samples  # noqa: E402
from qcbench.report import emit  # noqa: E402
from ppocr_rec import decode, edit_distance  # noqa: E402  (bench/transformers)
from qcbench.tools import run_samples  # noqa: E402

MODELS = {"rec": ("ch_PP-OCRv4_rec_infer.onnx", "x:1x3x48x320"),
          "det": ("ch_PP-OCRv4_det_infer.onnx", "x:1x3x640x640")}


def components(mask):
    """4-connected components of a boolean map: a list of (ys, xs) arrays."""
    h, w = mask.shape
    seen = np.zeros_like(mask, bool)
    out = []
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        queue, ys, xs = collections.deque([(y0, x0)]), [], []
        while queue:
            y, x = queue.popleft()
            ys.append(y)
            xs.append(x)
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    queue.append((ny, nx))
        out.append((np.array(ys), np.array(xs)))
    return out


def boxes_of(prob, thresh=0.3, box_thresh=0.6, unclip=1.5):
    """DB's postprocessing, axis-aligned: the text regions' boxes."""
    out = []
    for ys, xs in components(prob > thresh):
        if len(ys) < 4 or prob[ys, xs].mean() < box_thresh:
            continue
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        w, h = x1 - x0, y1 - y0
        d = w * h * unclip / (2 * (w + h))
        out.append([x0 - d, y0 - d, x1 + d, y1 + d])
    return out


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(pred, truth, at=0.5):
    """True positives of a one-to-one matching at IoU >= at (greedy, best
    pairs first)."""
    pairs = sorted(((iou(p, t), i, j) for i, p in enumerate(pred) for j, t in enumerate(truth)),
                   reverse=True)
    used_p, used_t, tp = set(), set(), 0
    for v, i, j in pairs:
        if v < at:
            break
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            tp += 1
    return tp


def score_det(maps, truth, float_maps):
    tp = npred = ntrue = 0
    inter = union = 0
    for m, t, f in zip(maps, truth, float_maps):
        pred = boxes_of(m)
        tp += match(pred, t)
        npred += len(pred)
        ntrue += len(t)
        a, b = m > 0.3, f > 0.3
        inter += int((a & b).sum())
        union += int((a | b).sum())
    p = tp / max(npred, 1)
    r = tp / max(ntrue, 1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(p + r, 1e-12),
            "map_iou_vs_float": inter / max(union, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--sets", default="/tmp/qc-ocr-sets")
    ap.add_argument("--work", default="/tmp/qc-ocr-eval")
    ap.add_argument("--models", default="rec,det")
    ap.add_argument("--config", action="append", default=[],
                    help="NAME=FLAGS: a quantized build (default: 'int8 default=')")
    ap.add_argument("--ort-dir", help="ONNX Runtime's quantized models (ort-quantize-ocr.py)")
    ap.add_argument("--report")
    ap.add_argument("--json")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if not os.path.exists(f"{a.sets}/det/boxes.json"):
        tools.run(["/usr/bin/python3", os.path.join(HERE, "ocr_sets.py"), a.sets])
    cache = model_cache()
    configs = [("float", None)] + [
        (c.split("=", 1)[0], shlex.split(c.split("=", 1)[1])) for c in
        (a.config or ["int8 default="])]
    keys = [l.rstrip("\n") for l in open(f"{cache}/{OCR}/ppocr_keys_v1.txt", encoding="utf-8")]
    results = []
    for model in a.models.split(","):
        onnx_name, shape = MODELS[model]
        evals = sorted(glob.glob(f"{a.sets}/{model}/eval/*.npy"))
        x = np.stack([np.load(f) for f in evals])
        names = ["eval/" + os.path.basename(f)[:-4] for f in evals]
        if model == "rec":
            labels = dict(l.rstrip("\n").split("\t", 1)
                          for l in open(f"{a.sets}/rec/labels.txt", encoding="utf-8"))
            truth = [labels[n].replace(" ", "") for n in names]
        else:
            boxes = json.load(open(f"{a.sets}/det/boxes.json"))
            truth = [boxes[n] for n in names]
        ref = None
        runs = list(configs)
        if a.ort_dir:
            runs.append(("ONNX Runtime quantize_static (QDQ, MinMax)", "ort"))
        for name, flags in runs:
            t0 = time.time()
            if flags == "ort":
                y = next(iter(ort_samples(ort_dir(), f"{a.ort_dir}/{model}_qdq_minmax.onnx",
                                          {"x": x}, f"{a.work}/ort-{model}").values()))
                secs = None
            else:
                lib = f"{a.work}/{model}-{re.sub('[^a-z0-9]+', '-', name.lower())}.so"
                args = ["--input-shape", shape, "-o", lib]
                if flags is not None:
                    args += ["--calibration-data", f"{a.sets}/{model}/calib"] + flags
                tools.compile(a.bindir, f"{cache}/{OCR}/{onnx_name}", args)
                secs = time.time() - t0
                out = run_samples(a.bindir, lib, {"x": x}, f"{a.work}/out-{model}")
                y = next(iter(out.outputs.values()))
            r = {"model": model, "config": name, "compile_s": secs}
            if model == "rec":
                text = [decode(p[0].astype(np.float64), keys).replace(" ", "") for p in y]
                if ref is None:
                    ref = text
                r.update(exact=float(np.mean([t == u for t, u in zip(text, truth)])),
                         cer=sum(edit_distance(t, u) for t, u in zip(text, truth)) /
                         sum(len(u) for u in truth),
                         same_as_float=float(np.mean([t == u for t, u in zip(text, ref)])))
            else:
                maps = [m.reshape(m.shape[-2:]) for m in y]
                if ref is None:
                    ref = maps
                r.update(score_det(maps, truth, ref))
            results.append(r)
            print(f"{model} {name:30s} " + "  ".join(
                f"{k} {v:.4f}" for k, v in r.items() if isinstance(v, float)), flush=True)
    lines = ["| model | build | task metric | vs float | compile (s) |",
             "|---|---|---|---|---:|"]
    for r in results:
        if r["model"] == "rec":
            task = f"exact strings {100 * r['exact']:.1f}%, CER {100 * r['cer']:.2f}%"
            vs = f"same string as float {100 * r['same_as_float']:.1f}%"
        else:
            task = (f"box F1 {100 * r['f1']:.1f}% (P {100 * r['precision']:.1f}%, "
                    f"R {100 * r['recall']:.1f}%)")
            vs = f"map IoU {r['map_iou_vs_float']:.3f}"
        secs = "-" if r["compile_s"] is None else f"{r['compile_s']:.0f}"
        lines.append(f"| {r['model']} | {r['config']} | {task} | {vs} | {secs} |")
    emit(lines, a.report, a.json, results)


if __name__ == "__main__":
    main()
