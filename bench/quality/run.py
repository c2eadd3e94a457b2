#!/usr/bin/python3
"""Quality of our W8A8 against ONNX Runtime's quantize_static, on the same
calibration and evaluation samples (make-samples.py), both measured against
the float model run by ONNX Runtime:

  - PP-OCR text-direction classifier (rendered text lines, labelled upright or
    turned): softmax SQNR and cosine against float, top-1 agreement with
    float, accuracy against the labels;
  - openWakeWord "hey jarvis" (espeak-ng speech): the embedding model (SQNR
    of the 96-dim embeddings), the wake-word head (detection score SQNR on
    float embeddings), and the two chained (int8 embeddings into the int8
    head): score SQNR, mean |score - float score|, detections (score >= 0.5)
    agreeing with float, detection accuracy against the labels.

Ours: quant-compile --calibration-data (per-channel int8 weights, uint8
activations, bias correction) with each calibration method; ORT: the
committed test/e2e/Inputs/ort-quantized/*_qdq_{minmax,entropy}.onnx
(bench/quality/ort-quantize.py, per-channel, QDQ), run by ORT 1.30 (npm).
Writes a markdown table to --report (docs/quality.md includes it).

    run.py BINDIR [--work DIR] [--report FILE] [--methods minmax,entropy,...]
"""
import argparse
import os
import sys
import time

import numpy as np

from qcbench import ROOT
from qcbench.metrics import mean_cosine as cosine
from qcbench.metrics import sqnr
from qcbench.models import OCR, WAKE, setup
from qcbench.ort import ort_model
from qcbench.tools import run, run_samples

ORTQ = f"{ROOT}/test/e2e/Inputs/ort-quantized"


def stack(files):
    return np.stack([np.load(f) for f in files])


class Runner:
    def __init__(self, bindir, ort_dir, work):
        self.bindir, self.ort_dir, self.work = bindir, ort_dir, work

    def ours(self, lib, inp, x, out, ref):
        """(our output `out` on the stacked samples `x`, quant-run's SQNR of
        it against `ref`)."""
        r = run_samples(self.bindir, lib, {inp: x}, f"{self.work}/o", reference={out: ref})
        return r.outputs[out], r.sqnr(out)

    def ort(self, model, inp, files, out):
        return ort_model(self.ort_dir, model, inp, files, out, f"{self.work}/o")

    def compile(self, model, shape, calib, method, name):
        lib = f"{self.work}/lib{name}.so"
        t = time.time()
        run([f"{self.bindir}/quant-compile", model, "--input-shape", shape,
             "--calibration-data", calib, "--calibration-method", method, "-o", lib])
        print(f"  compiled {name} in {time.time() - t:.0f} s", flush=True)
        return lib


# SQNR: quant-run's (--reference-outputs) for our models, qcbench.metrics.sqnr
# (the same definition) for ONNX Runtime's. Cosine: the mean over samples of
# each sample's cosine (qcbench.metrics.mean_cosine), not quant-run's cosine
# over all elements, so that the table keeps its definition.


def labels(path, split):
    out = {}
    for line in open(path):
        k, v = line.split()
        if k.startswith(split + "/"):
            out[k.split("/", 1)[1]] = int(v)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-quality")
    ap.add_argument("--report", default=f"{ROOT}/docs/quality-vs-ort.md")
    ap.add_argument("--methods", default="minmax,percentile,mse,entropy")
    ap.add_argument("--ort-dir", default=os.environ.get("QC_ORT_DIR"))
    a = ap.parse_args()
    a.ort_dir, cache, samples = setup(a.work, a.ort_dir)
    r = Runner(a.bindir, a.ort_dir, a.work)
    methods = a.methods.split(",")
    rows = []

    # --- PP-OCR classifier
    print("== PP-OCR cls", flush=True)
    cls = f"{cache}/{OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx"
    lab = labels(f"{samples}/cls/labels.txt", "eval")
    files = [f"{samples}/cls/eval/{k}.npy" for k in sorted(lab)]
    truth = np.array([lab[k] for k in sorted(lab)])
    out = "softmax_0.tmp_0"
    ref = r.ort(cls, "x", files, out)

    def cls_row(who, y, snr=None):
        snr = sqnr(ref, y) if snr is None else snr
        rows.append(("PP-OCR cls", who, f"{snr:.2f}", f"{cosine(ref, y):.5f}",
                     f"{100 * np.mean(y.argmax(-1).ravel() == ref.argmax(-1).ravel()):.1f}%",
                     f"{100 * np.mean(y.argmax(-1).ravel() == truth):.1f}%"))
        print("  " + " | ".join(rows[-1]), flush=True)

    cls_row("float (ORT)", ref)
    for m in methods:
        lib = r.compile(cls, "x:1x3x48x192", f"{samples}/cls/calib", m, f"cls_{m}")
        cls_row(f"ours W8A8 {m}", *r.ours(lib, "x", stack(files), out, ref))
    for m in ("minmax", "entropy"):
        cls_row(f"ORT QDQ {m}", r.ort(f"{ORTQ}/cls_qdq_{m}.onnx", "x", files, out))

    # --- openWakeWord: embedding model, head, both chained
    print("== openWakeWord hey jarvis", flush=True)
    emb = f"{cache}/{WAKE}/embedding_model.onnx"
    head = f"{cache}/{WAKE}/hey_jarvis_v0.1.onnx"
    lab = labels(f"{samples}/wake/labels.txt", "eval")
    names = sorted(lab)
    truth = np.array([lab[k] for k in names])
    efiles = [f"{samples}/wake/eval/embedding/{k}.npy" for k in names]
    hfiles = [f"{samples}/wake/eval/head/{k}.npy" for k in names]
    eref = r.ort(emb, "input_1", efiles, "conv2d_19")
    href_full = r.ort(head, "x.1", hfiles, "53")
    href = href_full.ravel()

    def chained_files(embs, tag):
        out = []
        for k, e in zip(names, embs):
            f = f"{a.work}/{tag}_{k}.npy"
            np.save(f, e.reshape(1, 16, 96).astype(np.float32))
            out.append(f)
        return out

    def chained(embs):
        """Our embeddings as the head's samples."""
        return embs.reshape(len(embs), 1, 16, 96).astype(np.float32)

    def wake_rows(who, e, h, chain, snr=(None, None, None)):
        det_ref = href >= 0.5
        # quant-run's SQNR where given (ours), else the same computed here
        se, sh, sc = (sqnr(want, got) if given is None else given
                      for want, got, given in zip((eref, href, href), (e, h, chain), snr))
        rows.append(("wake embedding", who, f"{se:.2f}", f"{cosine(eref, e):.5f}",
                     "", ""))
        rows.append(("wake head (float embeddings)", who, f"{sh:.2f}", "",
                     f"{100 * np.mean((h >= 0.5) == det_ref):.1f}%",
                     f"{100 * np.mean((h >= 0.5) == truth):.1f}%"))
        rows.append(("wake chained, score", who, f"{sc:.2f}",
                     f"mean abs diff {np.mean(np.abs(chain - href)):.4f}",
                     f"{100 * np.mean((chain >= 0.5) == det_ref):.1f}%",
                     f"{100 * np.mean((chain >= 0.5) == truth):.1f}%"))
        for row in rows[-3:]:
            print("  " + " | ".join(row), flush=True)

    wake_rows("float (ORT)", eref, href, href)
    for m in methods:
        elib = r.compile(emb, "input_1:16x76x32x1", f"{samples}/wake/calib/embedding", m,
                         f"emb_{m}")
        hlib = r.compile(head, "x.1:1x16x96", f"{samples}/wake/calib/head", m, f"head_{m}")
        e, se = r.ours(elib, "input_1", stack(efiles), "conv2d_19", eref)
        h, sh = r.ours(hlib, "x.1", stack(hfiles), "53", href_full)
        c, sc = r.ours(hlib, "x.1", chained(e), "53", href_full)
        wake_rows(f"ours W8A8 {m}", e, h.ravel(), c.ravel(), (se, sh, sc))
    for m in ("minmax", "entropy"):
        eq, hq = f"{ORTQ}/embedding_qdq_{m}.onnx", f"{ORTQ}/hey_jarvis_qdq_{m}.onnx"
        e = r.ort(eq, "input_1", efiles, "conv2d_19")
        h = r.ort(hq, "x.1", hfiles, "53").ravel()
        c = r.ort(hq, "x.1", chained_files(e, f"chain_ort_{m}"), "53").ravel()
        wake_rows(f"ORT QDQ {m}", e, h, c)

    with open(a.report, "w") as f:
        f.write("<!-- written by bench/quality/run.py; do not edit -->\n")
        f.write("| model | quantized by | SQNR vs float (dB) | cosine vs float | "
                "agreement with float | accuracy vs labels |\n")
        f.write("| --- | --- | ---: | ---: | ---: | ---: |\n")
        for row in rows:
            f.write("| " + " | ".join(row) + " |\n")
    print(f"report: {a.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
