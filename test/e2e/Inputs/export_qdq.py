#!/usr/bin/python3
"""quant-translate --export-onnx-qdq against ONNX Runtime: a model quantized by
quant-compile (calibrated, --emit-qdq) is exported as an ONNX QDQ model, which
must pass onnx.checker and load and run in ONNX Runtime 1.30 (npm
onnxruntime-node, scripts/ort-run.js); ORT's outputs must lie within one
quantization step (the scale of the DequantizeLinear the output comes from)
of our integer library's on at least 99% of the elements.

Without --model, a small CNN built here (Conv+BatchNorm, Relu, residual Add,
MaxPool, Concat, GlobalAveragePool, Gemm, Softmax) with random calibration
data; with --model, that model at --input-shape, calibrated on --calibration
(a directory of .npy samples) and evaluated on --eval, or without them on
random normal samples of its static input shape.

    export_qdq.py BINDIR WORKDIR [--model M.onnx --input-shape x:1x3x48x192
                                  --calibration DIR --eval DIR] [--ort-dir DIR]
Exit: 0 agreement, 1 a mismatch or failure, 77 ORT unavailable.
"""
import argparse
import glob
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from qcbench.ort import ort_dir, ort_samples, output_steps
from qcbench.tools import run, run_samples

HERE = os.path.dirname(os.path.abspath(__file__))


def small_cnn(path, rng):
    def he(shape):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)

    init = {
        "w1": he((8, 3, 3, 3)), "b1": (0.1 * rng.standard_normal(8)).astype(np.float32),
        "bn_s": rng.uniform(0.5, 1.5, 8).astype(np.float32),
        "bn_b": (0.2 * rng.standard_normal(8)).astype(np.float32),
        "bn_m": (0.2 * rng.standard_normal(8)).astype(np.float32),
        "bn_v": rng.uniform(0.5, 2.0, 8).astype(np.float32),
        "w2": he((8, 8, 3, 3)), "b2": (0.1 * rng.standard_normal(8)).astype(np.float32),
        "w3": he((8, 8, 1, 1)),
        "fcw": he((10, 16)), "fcb": (0.1 * rng.standard_normal(10)).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"], ["n1"],
                         name="bn1"),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Add", ["r2", "r1"], ["a"], name="residual"),
        helper.make_node("MaxPool", ["a"], ["p"], name="pool", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p", "w3"], ["c3"], name="conv3"),
        helper.make_node("Concat", ["c3", "p"], ["cat"], name="concat", axis=1),
        helper.make_node("GlobalAveragePool", ["cat"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fcw", "fcb"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "small_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(v, k) for k, v in init.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def small_mlp(path, rng):
    """MatMul (64 -> 64) + bias, Relu, Gemm (transB, 64 -> 32) + bias."""
    init = {"w1": (rng.standard_t(3, (64, 64)) / 8).astype(np.float32),
            "b1": (0.1 * rng.standard_normal(64)).astype(np.float32),
            "w2": (rng.standard_normal((32, 64)) / 8).astype(np.float32),
            "b2": (0.1 * rng.standard_normal(32)).astype(np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["m1"], name="fc1"),
             helper.make_node("Add", ["m1", "b1"], ["a1"], name="bias1"),
             helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
             helper.make_node("Gemm", ["r1", "w2", "b2"], ["y"], name="fc2", transB=1)]
    graph = helper.make_graph(
        nodes, "small_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 32])],
        [numpy_helper.from_array(v, k) for k, v in init.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("work")
    ap.add_argument("--model")
    ap.add_argument("--input-shape")
    ap.add_argument("--calibration")
    ap.add_argument("--eval")
    ap.add_argument("--ort-dir", default=os.environ.get("QC_ORT_DIR"))
    ap.add_argument("--weight-format", help="quant-compile --weight-format (minifloat "
                    "weights export as FLOAT8/FLOAT4 DequantizeLinear, opset 19-23)")
    ap.add_argument("--activation-type", help="quant-compile --activation-type (FP8 "
                    "activations export as QuantizeLinear to FLOAT8, opset 19; ONNX "
                    "Runtime then runs at graph optimization level basic: at 'all' its "
                    "QDQ propagation moves the FLOAT8 QuantizeLinear above a Slice, "
                    "which has no float8 form, and it refuses the model)")
    ap.add_argument("--mlp", action="store_true",
                    help="a two-layer MLP built here instead of the CNN (MX blocks of 32 "
                         "along K export as block_size)")
    a = ap.parse_args()
    a.ort_dir = ort_dir(a.ort_dir)
    if not a.ort_dir:
        print("export_qdq: ONNX Runtime unavailable: skipped")
        return 77
    os.makedirs(a.work, exist_ok=True)
    rng = np.random.default_rng(3)
    extra = []
    if a.model and a.calibration:
        model, calib = a.model, a.calibration
        evals = sorted(glob.glob(f"{a.eval}/*.npy"))
        if a.input_shape:
            extra = ["--input-shape", a.input_shape]
    elif a.model:  # random normal samples of the model's (static) input shape
        model = a.model
        inp = onnx.load(model).graph.input[0]
        shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        calib = f"{a.work}/calib"
        os.makedirs(calib, exist_ok=True)
        evals = []
        for i in range(24):
            f = f"{calib}/s{i:02d}.npy" if i < 16 else f"{a.work}/eval{i}.npy"
            np.save(f, rng.standard_normal(shape).astype(np.float32))
            if i >= 16:
                evals.append(f)
    elif a.mlp:
        model = f"{a.work}/small_mlp.onnx"
        small_mlp(model, rng)
        calib = f"{a.work}/calib"
        os.makedirs(calib, exist_ok=True)
        for i in range(16):
            np.save(f"{calib}/s{i:02d}.npy", rng.standard_normal((4, 64)).astype(np.float32))
        evals = []
        for i in range(8):
            evals.append(f"{a.work}/eval{i}.npy")
            np.save(evals[-1], rng.standard_normal((4, 64)).astype(np.float32))
    else:
        model = f"{a.work}/small_cnn.onnx"
        small_cnn(model, rng)
        calib = f"{a.work}/calib"
        os.makedirs(calib, exist_ok=True)
        for i in range(16):
            np.save(f"{calib}/s{i:02d}.npy",
                    rng.standard_normal((1, 3, 16, 16)).astype(np.float32))
        evals = []
        for i in range(8):
            evals.append(f"{a.work}/eval{i}.npy")
            np.save(evals[-1], rng.standard_normal((1, 3, 16, 16)).astype(np.float32))
    name = os.path.basename(model)[:-5]
    lib, qdq, exported = (f"{a.work}/lib{name}_int8.so", f"{a.work}/{name}_qdq.mlir",
                          f"{a.work}/{name}_qdq.onnx")
    if a.weight_format:
        extra += ["--weight-format", a.weight_format]
    if a.activation_type:
        extra += ["--activation-type", a.activation_type]
        os.environ["QC_ORT_OPT"] = "basic"  # scripts/ort-run.js
    run([f"{a.bindir}/quant-compile", model, *extra, "--calibration-data", calib,
         "--emit-qdq", qdq, "-o", lib], fatal=False)
    run([f"{a.bindir}/quant-translate", "--export-onnx-qdq", qdq, "-o", exported], fatal=False)
    m = onnx.load(exported)
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    if opset <= 17:  # Debian's onnx 1.12 checks up to opset 17; ORT judges the rest
        onnx.checker.check_model(m)
    types = sorted({t.data_type for t in m.graph.initializer})
    print(f"opset {opset}, initializer types {types}")
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"exported {os.path.basename(exported)}: {len(m.graph.node)} nodes, ops {' '.join(ops)}")
    steps = output_steps(m)
    inputs = [i.name for i in m.graph.input]
    within, total, worst = {}, {}, {}
    x_all = {inputs[0]: np.stack([np.load(f) for f in evals])}
    # ONNX Runtime on the float model is the reference quant-run compares ours
    # with (SQNR over all samples); ONNX Runtime on the export is compared
    # here, element by element in quantization steps.
    ref = ort_samples(a.ort_dir, model, x_all, f"{a.work}/float", fatal=False)
    theirs = ort_samples(a.ort_dir, exported, x_all, f"{a.work}/ort", fatal=False)
    res = run_samples(a.bindir, lib, x_all, f"{a.work}/ours", reference=ref, fatal=False)
    ours = res.outputs
    for k in range(len(evals)):
        for out in m.graph.output:
            x = ours[out.name][k].astype(np.float64)
            y = theirs[out.name][k].astype(np.float64)
            step = steps[out.name]
            if step is None:
                raise SystemExit(f"FAIL output {out.name} comes from no DequantizeLinear")
            d = np.abs(x - y)
            within[out.name] = within.get(out.name, 0) + int((d <= step * 1.001).sum())
            total[out.name] = total.get(out.name, 0) + d.size
            worst[out.name] = max(worst.get(out.name, 0), float(d.max() / step))
    failed = False
    for out in m.graph.output:
        frac = within[out.name] / total[out.name]
        # the int8 library must really be quantized: well short of float
        db = res.comparison[out.name]["sqnr_db"]
        ok = frac >= 0.99 and db < 80
        failed |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name} output {out.name}: {100 * frac:.2f}% of "
              f"{total[out.name]} within one step ({steps[out.name]:.3g}) of ONNX Runtime; "
              f"worst {worst[out.name]:.2f} steps; ours vs float {db:.1f} dB")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAIL {e}")
        sys.exit(1)
