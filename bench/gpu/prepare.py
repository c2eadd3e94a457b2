#!/usr/bin/python3
"""Builds what the GPU machine runs (it has no LLVM/MLIR and no network):
for each model, the cuda build, its inputs and the outputs it must match,
plus qc-runner. scripts/gpu-test.sh runs the result on the GPU.

    bench/gpu/prepare.py BINDIR OUTDIR [--only a,b] [--modes float,int8]
                         [--batch N] [--target cuda[:sm_NN]]

Per model and mode, OUTDIR/<model>-<mode>/ holds:
  lib<model>.so   the cuda build (quant-compile --target cuda)
  in<k>.npy       the inputs (deterministic random, as real-models-run.py)
  expect<k>.npy   what each output must be:
                   int8:  the CPU int8 build's outputs (same quantization:
                          the same calibration samples, deterministic), to
                          be matched within 1e-5 of each output's largest
                          magnitude (qc-runner --scaled-tol: float parts of
                          the model, LSTMs, normalizations, may round
                          differently); qc-runner reports whether each
                          output is bit-exact as well;
                   float: ONNX Runtime's outputs, rtol 1e-3 / atol 1e-4
                          like the CPU target's check (scripts/
                          real-models-run.py).
  check           the qc-runner tolerance flags ("" = bit-exact), or
                  "timing" (--batch builds: timed, no reference)
A model that does not compile is listed in OUTDIR/failed.txt with the
compiler's message (the test script reports it).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

from qcbench import ROOT
from qcbench.models import OCR, WAKE, model_cache
from qcbench.ort import ort_dir as find_ort, ort_run

sys.path.insert(0, os.path.join(ROOT, "scripts"))
real = __import__("real-models-run")

# name, path (in the model cache, or made by make-synthetic.py), inputs
MODELS = {name: (rel, inputs) for name, rel, inputs in real.MODELS}
SYNTHETIC = {
    "resnet50": ("resnet50.onnx", {"x": ((1, 3, 224, 224), "float32", "normal")}),
    "bert_base": ("bert_base.onnx", {"h": ((1, 128, 768), "float32", "normal")}),
}
# The character-level transformers of bench/transformers (token ids in).
sys.path.insert(0, os.path.join(ROOT, "bench", "transformers"))
VOCAB = __import__("corpus").VOCAB
TRANSFORMERS = {
    name: (os.path.join(ROOT, f"bench/models/transformers/{name}.onnx"),
           {"ids": ((4, 128), "int64", "ids")}) for name in ("gpt", "bert")}
# Every model of the list: PP-OCR cls, the wake-word models, the
# synthetic ResNet-50 and BERT-base, the transformers.
DEFAULT = ["ppocr_mobile_v2_cls", "melspectrogram", "embedding_model", "alexa_v0.1",
           "hey_jarvis_v0.1", "hey_mycroft_v0.1", "hey_rhasspy_v0.1", "timer_v0.1",
           "weather_v0.1", "silero_vad", "gpt", "bert", "resnet50", "bert_base"]


def make_input(rng, shape, dtype, kind):
    if kind == "ids":
        return rng.integers(0, VOCAB, shape).astype(dtype)
    return real.make_input(rng, shape, dtype, kind)


def sh(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError((p.stderr or p.stdout).strip()[-2000:])
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("out")
    ap.add_argument("--only")
    ap.add_argument("--modes", default="float,int8")
    ap.add_argument("--calib", type=int, default=8)
    ap.add_argument("--target", default="cuda",
                    help="quant-compile's --target (cuda:sm_90a: wgmma kernels)")
    ap.add_argument("--batch", type=int, default=None,
                    help="the synthetic models at this batch, for timing only "
                         "(no reference outputs: the cuda build alone)")
    ap.add_argument("--synthetic-dir", default=None,
                    help="where make-synthetic.py's models are (made when missing)")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else DEFAULT
    os.makedirs(args.out, exist_ok=True)
    shutil.copy(os.path.join(args.bindir, "qc-runner"), args.out)
    cache = model_cache(fatal=False)
    ort = find_ort()
    synth = args.synthetic_dir or os.path.join(cache or "/tmp", "..", "synthetic")
    compile_ = os.path.join(args.bindir, "quant-compile")
    qrun = os.path.join(args.bindir, "quant-run")
    failed = []
    for name in names:
        if name in SYNTHETIC:
            rel, inputs = SYNTHETIC[name]
            if args.batch:
                rel = rel.replace(".onnx", f"_b{args.batch}.onnx")
            if not os.path.exists(os.path.join(synth, rel)):
                sh(["/usr/bin/python3", os.path.join(ROOT, "bench/models/make-synthetic.py"), synth]
                   + (["--batch", str(args.batch)] if args.batch else []))
            model = os.path.join(synth, rel)
            if args.batch:
                inputs = {k: ((args.batch,) + shape[1:], dt, kind)
                          for k, (shape, dt, kind) in inputs.items()}
        elif name in TRANSFORMERS:
            model, inputs = TRANSFORMERS[name]
        else:
            rel, inputs = MODELS[name]
            model = os.path.join(cache, rel)
        rng = np.random.default_rng(2026)
        arrays = {k: make_input(rng, *spec) for k, spec in inputs.items()}
        shapes = []
        for k, (shape, _, _) in inputs.items():
            if shape:
                shapes += ["--input-shape", f"{k}:" + "x".join(map(str, shape))]
        timing_only = bool(args.batch) and name in SYNTHETIC
        for mode in args.modes.split(","):
            tag = f"{name}-b{args.batch}" if timing_only else name
            d = os.path.abspath(os.path.join(args.out, f"{tag}-{mode}"))
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            flags = []
            for i, (k, a) in enumerate(arrays.items()):
                np.save(f"{d}/in{i}.npy", a)
                flags += ["-i", f"{k}={d}/in{i}.npy"]
            quant = []
            if mode == "int8":
                calib = f"{d}/calib"
                os.makedirs(calib)
                crng = np.random.default_rng(7)
                for s in range(args.calib):
                    np.savez(f"{calib}/s{s}.npz",
                             **{k: make_input(crng, *spec) for k, spec in inputs.items()})
                quant = ["--calibration-data", calib]
            lib = f"{d}/lib{name.replace('.', '_')}.so"
            try:
                print(f"== {name} {mode}", flush=True)
                built = json.loads(sh([compile_, model, *shapes, *quant, "--target", args.target,
                                       "-o", lib, "--json"]))
                if timing_only:
                    # Inputs are made on the GPU machine (gpu-test.sh).
                    shutil.rmtree(f"{d}/calib", ignore_errors=True)
                    for i in range(len(arrays)):
                        os.remove(f"{d}/in{i}.npy")
                    json.dump([{"shape": list(spec[0]), "dtype": spec[1]}
                               for spec in inputs.values()],
                              open(f"{d}/inputs.json", "w"))
                    open(f"{d}/check", "w").write("timing\n")
                    continue
                ref = f"{d}/ref"
                if mode == "int8":
                    cpu = f"{d}/cpu.so"
                    sh([compile_, model, *shapes, *quant, "-o", cpu, "--prefix",
                        os.path.basename(lib)[3:-3]])
                    sh([qrun, cpu, "--prefix", os.path.basename(lib)[3:-3], *flags, "-o", ref])
                    os.remove(cpu)
                    os.remove(cpu[:-3] + ".h")
                    check = "--scaled-tol 1e-5"
                else:
                    ort_run(ort, model, [*flags, "-o", ref])
                    check = "--rtol 1e-3 --atol 1e-4"
                # expect<k>.npy in the library's output order
                for i, o in enumerate(t["name"] for t in built["outputs"]):
                    shutil.copy(f"{ref}/{o.replace('/', '_')}.npy", f"{d}/expect{i}.npy")
                shutil.rmtree(ref)
                shutil.rmtree(f"{d}/calib", ignore_errors=True)
                open(f"{d}/check", "w").write(check + "\n")
            except Exception as e:  # noqa: BLE001 - reported, the rest go on
                msg = str(e).strip().splitlines()
                failed.append(f"{name}-{mode}: {msg[-1] if msg else e}")
                print("   FAILED:", failed[-1], flush=True)
                shutil.rmtree(d, ignore_errors=True)
    with open(os.path.join(args.out, "failed.txt"), "w") as f:
        f.write("".join(line + "\n" for line in failed))
    print(f"prepared {args.out}: {len(failed)} failed")


if __name__ == "__main__":
    main()
