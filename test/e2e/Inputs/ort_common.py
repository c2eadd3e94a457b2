"""Shared by the ONNX Runtime comparisons (ort_quantized.py, export_qdq.py):
where ONNX Runtime is, and the quantization step each graph output has."""
import os
import subprocess

import numpy as np
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))


def run(cmd):
    """stdout of `cmd`; RuntimeError with its last error line if it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} failed: "
                           f"{(p.stderr or p.stdout).strip().splitlines()[-3:]}")
    return p.stdout


def ort_dir(given):
    """`given`, else the directory scripts/install-ort.sh installs ONNX Runtime
    into; None when it cannot be installed (offline)."""
    if given:
        return given
    p = subprocess.run(["bash", f"{ROOT}/scripts/install-ort.sh"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        return None
    return p.stdout.strip().splitlines()[-1]


def output_steps(model):
    """Scale of the DequantizeLinear each graph output comes from (None if
    it comes from no static DequantizeLinear)."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
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
