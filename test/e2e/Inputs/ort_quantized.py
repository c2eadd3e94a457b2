#!/usr/bin/python3
"""Models quantized by ONNX Runtime's own tools (ort-quantized/, written by
bench/quality/ort-quantize.py), compiled by quant-compile to the integer path
and run by quant-run, against ONNX Runtime 1.30 (npm onnxruntime-node,
scripts/ort-run.js) running the same quantized model on the same inputs.

Each output element must lie within one quantization step of ONNX Runtime's
on at least 99% of the elements, the step being the scale of the
DequantizeLinear the output comes from (through float ops with slope <= 1:
Softmax, Sigmoid, Reshape). Dynamic models (DynamicQuantizeLinear) have no
static step at their float outputs, which must agree to 5% of their largest
magnitude on every element. Their DynamicQuantizeLinear outputs are compared
too and reported (not asserted): a 1-ulp float difference that moves one
element across a rounding boundary can change a tensor's maximum, hence its
runtime scale and every element after it, so agreement decays with depth.

    ort_quantized.py BINDIR WORKDIR [--ort-dir DIR] [MODEL.onnx ...]
Exit: 0 all agree, 1 a mismatch or failure, 77 ORT unavailable.
"""
import argparse
import os
import sys
import zlib

import numpy as np
import onnx

from qcbench.ort import ort_dir, ort_samples, output_steps
from qcbench.tools import run, run_samples

HERE = os.path.dirname(os.path.abspath(__file__))
# default set: QDQ Conv and Gemm, QLinearConv + QLinearMatMul, ConvInteger +
# MatMulInteger; the entropy twins differ only in their scales
MODELS = ["cls_qdq_minmax.onnx", "cls_qop.onnx", "cls_dynamic.onnx",
          "embedding_qop.onnx", "embedding_qdq_minmax.onnx", "hey_jarvis_qdq_minmax.onnx"]
SAMPLES = 4


def make_input(rng, name, shape, model_name):
    if model_name.startswith("cls"):  # PaddleOCR's normalized pixels
        return rng.uniform(-1, 1, shape).astype(np.float32)
    if model_name.startswith("embedding"):  # openWakeWord's mel/10 + 2
        return rng.uniform(0, 4, shape).astype(np.float32)
    return (rng.standard_normal(shape) * 2).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("work")
    ap.add_argument("--ort-dir", default=os.environ.get("QC_ORT_DIR"))
    ap.add_argument("models", nargs="*")
    a = ap.parse_intermixed_args()
    a.ort_dir = ort_dir(a.ort_dir)
    if not a.ort_dir:
        print("ort_quantized: ONNX Runtime unavailable: skipped")
        return 77
    os.makedirs(a.work, exist_ok=True)
    failed = False
    for m in a.models or MODELS:
        path = m if os.path.isabs(m) else f"{HERE}/ort-quantized/{m}"
        name = os.path.basename(path)[:-5]
        rng = np.random.default_rng(zlib.crc32(name.encode()))  # inputs per model
        model = onnx.load(path)
        dynamic = [n for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"]
        if dynamic:
            for n in dynamic:
                model.graph.output.append(onnx.helper.make_tensor_value_info(
                    n.output[0], onnx.TensorProto.UINT8, None))
            path = f"{a.work}/{name}_with_quantized_outputs.onnx"
            onnx.save(model, path)
        steps = output_steps(model)
        lib = f"{a.work}/lib{name}.so"
        try:
            run([f"{a.bindir}/quant-compile", path, "-o", lib], fatal=False)
            within, total, worst = {}, {}, {}
            samples = {}
            for s in range(SAMPLES):  # drawn sample by sample, input by input
                for inp in model.graph.input:
                    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
                    samples.setdefault(inp.name, []).append(
                        make_input(rng, inp.name, shape, name))
            samples = {k: np.stack(v) for k, v in samples.items()}
            ours = run_samples(a.bindir, lib, samples, f"{a.work}/{name}_ours",
                               fatal=False).outputs
            theirs = ort_samples(a.ort_dir, path, samples, f"{a.work}/{name}_ort", fatal=False)
            for s in range(SAMPLES):
                for out in model.graph.output:
                    x = ours[out.name][s].astype(np.float64)
                    y = theirs[out.name][s].astype(np.float64)
                    if x.shape != y.shape:
                        raise RuntimeError(f"{out.name}: shape {x.shape}, ORT {y.shape}")
                    tol = steps[out.name]
                    tol = tol * 1.001 if tol else 0.05 * max(np.abs(y).max(), 1e-6)
                    d = np.abs(x - y)
                    within[out.name] = within.get(out.name, 0) + int((d <= tol).sum())
                    total[out.name] = total.get(out.name, 0) + d.size
                    worst[out.name] = max(worst.get(out.name, 0), float(d.max() / tol))
            dyn_within = dyn_total = 0
            for out in model.graph.output:
                frac = within[out.name] / total[out.name]
                ok = frac >= 0.99
                step = steps[out.name]
                extra = out.name in {n.output[0] for n in dynamic}
                if extra:
                    dyn_within += within[out.name]
                    dyn_total += total[out.name]
                    continue
                if not step:  # float output of a dynamic model
                    ok = within[out.name] == total[out.name]
                failed |= not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name:24s} {out.name}: "
                      f"{100 * frac:.2f}% of {total[out.name]} within "
                      f"{'one step (%.3g)' % step if step else '5% of max'}; "
                      f"worst {worst[out.name]:.2f} x that")
            if dynamic:
                print(f"     {name:24s} its {len(dynamic)} DynamicQuantizeLinear outputs: "
                      f"{100 * dyn_within / dyn_total:.2f}% of {dyn_total} within one step "
                      f"(reported, not asserted)")
        except RuntimeError as e:
            print(f"FAIL {name}: {e}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
