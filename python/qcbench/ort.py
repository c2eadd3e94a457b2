"""ONNX Runtime (npm onnxruntime-node, driven by scripts/ort-run.js): the
reference our results are compared with and the peer we are timed against."""
import json
import os
import subprocess

import numpy as np

from . import ROOT
from .tools import run

ORT_RUN = os.path.join(ROOT, "scripts", "ort-run.js")


def ort_dir(given=None):
    """`given`, else the directory scripts/install-ort.sh installs ONNX Runtime
    into; None when it cannot be installed (offline)."""
    if given:
        return given
    p = subprocess.run(["bash", os.path.join(ROOT, "scripts", "install-ort.sh")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return p.stdout.strip().splitlines()[-1]


def ort_run(directory, model, args, fatal=True):
    """Runs `ort-run.js MODEL ARGS --json` with ONNX Runtime from `directory`;
    returns its JSON object (model, threads, inputs, outputs, samples,
    timing)."""
    return json.loads(run(["node", ORT_RUN, model, *args, "--json", "--ort-dir", directory],
                          fatal=fatal))


def ort_samples(directory, model, samples, work, fatal=True):
    """ONNX Runtime's outputs of `model` on stacked samples (input name ->
    [samples, ...]), in one process (ort-run.js --stacked): output file name
    (the output name, "/" written "_") -> [samples, ...]."""
    os.makedirs(work, exist_ok=True)
    flags = []
    for k, (name, value) in enumerate(samples.items()):
        path = os.path.join(work, f"ort-in{k}.npy")
        np.save(path, value)
        flags += ["-i", f"{name}={path}"]
    outdir = os.path.join(work, "ort-outputs")
    res = ort_run(directory, model, [*flags, "--stacked", "-o", outdir], fatal=fatal)
    files = [name.replace("/", "_") for name in res["outputs"]]
    return {f: np.load(os.path.join(outdir, f + ".npy")) for f in files}


def ort_model(directory, model, inp, files, out, work):
    """Output `out` of ONNX Runtime running `model` on each .npy of `files`
    (bound to input `inp`), stacked [len(files), ...]."""
    return ort_samples(directory, model, {inp: np.stack([np.load(f) for f in files])},
                       work)[out]


def output_steps(model):
    """Scale of the DequantizeLinear each graph output of the ONNX `model`
    comes from (None if it comes from no static DequantizeLinear)."""
    from onnx import mapping, numpy_helper
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    # Types Debian's onnx 1.12 cannot convert (FLOAT8, INT4, FLOAT4) are not
    # scales: left out.
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer
             if i.data_type in mapping.TENSOR_TYPE_TO_NP_TYPE}
    for n in g.node:
        if n.op_type == "Constant":
            inits[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    steps = {}
    for out in g.output:
        name, step = out.name, None
        seen = set()
        while name in producer and name not in seen:
            seen.add(name)
            n = producer[name]
            if n.op_type == "DequantizeLinear":
                step = float(np.max(inits[n.input[1]])) if n.input[1] in inits else None
                break
            if n.op_type == "DynamicQuantizeLinear":
                # the output is the quantized tensor itself: integers
                step = 1.0 if out.name == n.output[0] else None
                break
            name = n.input[0]
        steps[out.name] = step
    return steps
