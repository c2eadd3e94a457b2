"""Shared by bench/quality/run.py and bench/compare.py: running the tools, and
the set-up both need (ONNX Runtime, the model cache, the samples)."""
import os
import platform
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit(f"{os.path.basename(cmd[0])} failed: "
                         f"{(p.stderr or p.stdout).strip().splitlines()[-3:]}")
    return p.stdout


def run_model(bindir, lib, inp, files, out, outdir):
    """Runs the compiled model `lib` by quant-run once per file (bound to
    input `inp`, results under `outdir`); output `out` of every run, stacked."""
    import numpy as np
    res = []
    for f in files:
        run([f"{bindir}/quant-run", lib, "-i", f"{inp}={f}", "-o", outdir])
        res.append(np.load(f"{outdir}/{out}.npy"))
    return np.stack(res)


def setup(work, ort_dir):
    """(ONNX Runtime's directory, the real-model cache, the samples of
    make-samples.py under `work`, made when missing)."""
    os.makedirs(work, exist_ok=True)
    if not ort_dir:
        ort_dir = run(["bash", f"{ROOT}/scripts/install-ort.sh"]).strip().splitlines()[-1]
    cache = run(["bash", f"{ROOT}/scripts/real-models.sh", "--fetch-only"]).strip().splitlines()[-1]
    samples = f"{work}/samples"
    if not os.path.isdir(f"{samples}/wake"):
        print("== samples (bench/quality/make-samples.py)", flush=True)
        run(["/usr/bin/python3", f"{HERE}/make-samples.py", samples, "--cache", cache,
             "--ort-dir", ort_dir])
    return ort_dir, cache, samples


def cpu_name():
    return next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                 if l.startswith("model name")), platform.processor())


def write_generated(path, writer, lines, note=""):
    """Writes `lines` into the file `path` between the markers of `writer`
    (a script's path, e.g. bench/compare.py; `note` follows it in the begin
    marker), keeping the text around them; appends them (with the markers)
    when the file has none yet."""
    import re
    begin = f"<!-- begin: written by {writer}{note}; do not edit -->"
    end = f"<!-- end: {writer} -->"
    body = "\n".join([begin] + lines + [end])
    old = open(path).read() if os.path.exists(path) else ""
    m = re.search(re.escape(f"<!-- begin: written by {writer}") + r".*?" + re.escape(end),
                  old, re.S)
    text = old[:m.start()] + body + old[m.end():] if m else old + body + "\n"
    with open(path, "w") as f:
        f.write(text)


def timing(out):
    """(median, min, max) ms from the "median_ms=.. min_ms=.. max_ms=.." line
    quant-run and scripts/ort-run.js print with --repeat."""
    import re
    m = re.search(r"median_ms=([0-9.]+) min_ms=([0-9.]+) max_ms=([0-9.]+)", out)
    if not m:
        raise SystemExit(f"no timing in: {out.strip()[-200:]}")
    return tuple(float(v) for v in m.groups())
