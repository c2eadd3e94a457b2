"""Running the tools (quant-compile, quant-run) and reading their JSON.

The scripts speak to the tools through `--json` (one JSON object on stdout)
and run a model on many samples in one process with `quant-run --samples`.
Tools built before those flags existed are still driven the old way (human
output, one process per sample); each such path is marked "legacy" below and
keeps the same results and definitions."""
import json
import os
import re
import shutil
import subprocess

import numpy as np


class ToolError(RuntimeError):
    """A tool failed; the message holds its last error lines."""


def _complete(cmd, env=None, fatal=True):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        msg = (f"{os.path.basename(cmd[0])} failed: "
               f"{(p.stderr or p.stdout).strip().splitlines()[-3:]}")
        raise SystemExit(msg) if fatal else ToolError(msg)
    return p


def run(cmd, env=None, fatal=True):
    """stdout of `cmd`. A failure exits the script with the tool's last error
    lines (fatal), or raises ToolError."""
    return _complete(cmd, env, fatal).stdout


_HELP = {}


def supports(tool, flag):
    """Whether `tool --help` lists `flag`."""
    if tool not in _HELP:
        p = subprocess.run([tool, "--help"], capture_output=True, text=True)
        _HELP[tool] = p.stdout + p.stderr
    return re.search(r"(^|[\s,])" + re.escape(flag) + r"\b", _HELP[tool], re.M) is not None


# ---------------------------------------------------------------- quant-compile

def compile(bindir, model, args, fatal=True):
    """Runs `quant-compile MODEL ARGS --json`; returns its JSON object (model,
    output, header, kind, inputs, outputs, quantized, report) and under "log"
    the human lines it printed (stderr)."""
    tool = os.path.join(bindir, "quant-compile")
    cmd = [tool, model, *args]
    if supports(tool, "--json"):
        p = _complete(cmd + ["--json"], fatal=fatal)
        res = json.loads(p.stdout)
        res["log"] = p.stderr
        return res
    # legacy: the human lines on stdout, no JSON
    return {"model": model, "report": None, "log": _complete(cmd, fatal=fatal).stdout}


def report(res, path):
    """The quality report of a quant-compile run given `--report path`: from
    its JSON, else (legacy) from the file."""
    if res.get("report"):
        return res["report"]
    with open(path) as f:
        return json.load(f)


def bit_widths(res):
    """The bit widths `--bits auto` chose, from quant-compile's result:
    {"status", "bytes", "bops", "sensitivity", "layers": [{"layer",
    "weight_bits", "activation_bits"}]}, or None when it chose none."""
    report = res.get("report") or {}
    if report.get("bit_widths"):
        return report["bit_widths"]
    # quant-compile's JSON holds the report only with --report, which also
    # holds a quarter of the samples out of calibration (and so would change
    # the figures); without it, the "bit widths (...)" line and its per-layer
    # lines (stderr with --json).
    m = re.search(r"bit widths \((\w+)\): (.*?); size (\d+) bytes, (\S+) BOPs, (?:\S+ us "
                  r"\(kernels\), )?summed sensitivity (\S+); weights:.*\n((?:  \S+: W\d+A\d+\n?)*)",
                  res["log"])
    if not m:
        return None
    layers = [{"layer": n, "weight_bits": int(w), "activation_bits": int(x)}
              for n, w, x in re.findall(r"^  (\S+): W(\d+)A(\d+)$", m.group(6), re.M)]
    return {"status": m.group(2), "bytes": float(m.group(3)), "bops": float(m.group(4)),
            "sensitivity": float(m.group(5)), "layers": layers}


def rewritten_float_diff(res):
    """max |rewritten float - original float| / max |original| of the first
    output (SmoothQuant, rotation), or None when the model was not rewritten."""
    diffs = (res.get("report") or {}).get("rewritten_float_max_rel_diff")
    if diffs:
        return float(diffs[0])
    # without --report (see bit_widths): the "rewritten float model vs
    # original" line
    m = re.search(r"^rewritten float model vs original.*= (\S+)", res["log"], re.M)
    return float(m.group(1)) if m else None


# ---------------------------------------------------------------- quant-run

def run_json(bindir, model, args, env=None, fatal=True):
    """Runs `quant-run MODEL ARGS --json`; returns its JSON object (model,
    threads, inputs, outputs, samples, timing, expected, comparison,
    outputs_dir)."""
    tool = os.path.join(bindir, "quant-run")
    if supports(tool, "--json"):
        return json.loads(_complete([tool, model, *args, "--json"], env, fatal).stdout)
    # legacy: only the timing line is read
    return {"model": model, "timing": _timing_line(_complete([tool, model, *args], env,
                                                             fatal).stdout)}


def _timing_line(out):
    m = re.search(r"median_ms=([0-9.]+) min_ms=([0-9.]+) max_ms=([0-9.]+) runs=(\d+) "
                  r"warmup=(\d+)", out)
    if not m:
        return None
    return {"median_ms": float(m.group(1)), "min_ms": float(m.group(2)),
            "max_ms": float(m.group(3)), "runs": int(m.group(4)), "warmup": int(m.group(5))}


def timing(res):
    """(median, min, max) ms of a --repeat run (quant-run's or ort-run.js's
    JSON object)."""
    t = res.get("timing")
    if not t:
        raise SystemExit(f"no timing from {res.get('model')}")
    return t["median_ms"], t["min_ms"], t["max_ms"]


def interleaved_ms(runners, rounds=5):
    """Median latency (ms) of each of `runners` (name -> a function that
    times one --repeat run and returns its JSON object), measured in
    `rounds` interleaved rounds: every round times each runner once, and
    a runner's figure is the median of its per-round medians. A burst of
    load on a shared machine then hits one round of every build, not every
    round of one."""
    per = {name: [] for name in runners}
    for _ in range(rounds):
        for name, f in runners.items():
            per[name].append(timing(f())[0])
    return {name: float(np.median(v)) for name, v in per.items()}


class Samples:
    """What run_samples returns: `outputs` (output name -> the stacked outputs,
    [samples, ...]) and `comparison` (output name -> {"sqnr_db", "cosine",
    "top1_agreement", "max_abs_err"} against the reference, when one was
    given)."""

    def __init__(self, outputs, comparison):
        self.outputs, self.comparison = outputs, comparison

    def sqnr(self, out):
        """quant-run's SQNR of output `out` (inf when exact; it reports 999)."""
        s = self.comparison[out]["sqnr_db"]
        return float("inf") if s >= 999.0 else s


def _clean(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)


def _load_dir(d):
    return {f[:-4]: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d))
            if f.endswith(".npy")}


def run_samples(bindir, lib, samples, work, reference=None, args=(), fatal=True):
    """Runs `lib` on every sample in one quant-run process (--samples):
    `samples` maps each input name to its samples stacked on a new first
    axis; `reference` (optional) maps output names to stacked reference
    outputs that quant-run compares ours with (--reference-outputs).
    `work` is a scratch directory. Outputs are keyed by their file names
    (the output name, "/" written "_"). Returns a Samples."""
    tool = os.path.join(bindir, "quant-run")
    os.makedirs(work, exist_ok=True)
    if not supports(tool, "--samples"):
        return _run_samples_legacy(tool, lib, samples, work, reference, args, fatal)
    batch, outdir = os.path.join(work, "samples.npz"), os.path.join(work, "outputs")
    np.savez(batch, **samples)
    _clean(outdir)
    cmd = [tool, lib, "--samples", batch, "-o", outdir, "--json", *args]
    if reference is not None:
        refdir = os.path.join(work, "reference")
        _clean(refdir)
        for name, value in reference.items():
            np.save(os.path.join(refdir, f"{name}.npy"), value)
        cmd += ["--reference-outputs", refdir]
    res = json.loads(run(cmd, fatal=fatal))
    return Samples(_load_dir(outdir), {c["output"]: c for c in res.get("comparison") or []})


def _run_samples_legacy(tool, lib, samples, work, reference, args, fatal):
    """legacy: one quant-run per sample; the comparison computed here with
    quant-run's definitions."""
    n = len(next(iter(samples.values())))
    ins, outdir = os.path.join(work, "inputs"), os.path.join(work, "outputs")
    _clean(ins)
    per = []
    for k in range(n):
        flags = []
        for name, value in samples.items():
            path = os.path.join(ins, f"{len(flags)}.npy")
            np.save(path, value[k])
            flags += ["-i", f"{name}={path}"]
        _clean(outdir)
        run([tool, lib, *flags, "-o", outdir, *args], fatal=fatal)
        per.append(_load_dir(outdir))
    outputs = {name: np.stack([p[name] for p in per]) for name in per[0]} if per else {}
    comparison = {}
    for name, ref in (reference or {}).items():
        comparison[name] = agreement(ref, outputs[name])
    return Samples(outputs, comparison)


def agreement(ref, x):
    """quant-run's comparison (qc::Agreement): SQNR and cosine over all
    elements, top-1 agreement over the rows of the last axis (None when it
    has one element), max |ref - x|. Used only where the tools are older
    than --reference-outputs."""
    r, y = ref.astype(np.float64), x.astype(np.float64)
    noise, sig = float(np.sum((r - y) ** 2)), float(np.sum(r ** 2))
    sqnr = 999.0 if noise == 0 else 10 * np.log10(sig / noise)
    cos = float(np.sum(r * y) / (np.linalg.norm(r) * np.linalg.norm(y) + 1e-300))
    top1 = None
    if r.ndim and r.shape[-1] > 1:
        top1 = float(np.mean(r.argmax(-1) == y.argmax(-1)))
    return {"sqnr_db": sqnr, "cosine": cos, "top1_agreement": top1,
            "max_abs_err": float(np.max(np.abs(r - y))) if r.size else 0.0}


def run_model(bindir, lib, inp, files, out, work):
    """Output `out` of `lib` on each .npy of `files` (bound to input `inp`),
    stacked [len(files), ...]: one quant-run process for all of them."""
    return run_samples(bindir, lib, {inp: np.stack([np.load(f) for f in files])},
                       work).outputs[out]
