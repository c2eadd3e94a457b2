#!/usr/bin/env python3
"""Is ONNX Runtime as fast on our QDQ export as on its own quantize_static?

bench/compare.py times ORT int8 on the synthetic ResNet-50 / BERT-base
through our QDQ export, because quantize_static needs Python onnxruntime,
which this project's machines cannot install (no PyPI). This script runs
where Python onnxruntime 1.30 is available (the lent device machine): it
builds the same synthetic models (make-synthetic.py), quantizes them with
quantize_static (QDQ, per-channel int8 weights, uint8 activations, MinMax,
the same 8 calibration inputs) and times, with one and two intra-op
threads, ORT FP32, ORT on its own QDQ model and, for each EXPORT given, ORT
on our export.

    ort-check-export.py WORKDIR [EXPORT.onnx=NAME ...]
"""
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = {"resnet50": "x", "bert_base": "h"}


class Reader(CalibrationDataReader):
    def __init__(self, name, files):
        self.items = iter([{name: np.load(f)} for f in files])

    def get_next(self):
        return next(self.items, None)


def timed(path, name, x, threads, repeat=20):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    for _ in range(3):
        s.run(None, {name: x})
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        s.run(None, {name: x})
        ts.append(1e3 * (time.perf_counter() - t0))
    return float(np.median(ts))


def main():
    work = sys.argv[1]
    exports = dict(a.split("=")[::-1] for a in sys.argv[2:])
    subprocess.run([sys.executable, f"{HERE}/make-synthetic.py", work], check=True)
    print(f"onnxruntime {ort.__version__}")
    for model, inp in INPUTS.items():
        src = f"{work}/{model}.onnx"
        pre, q = f"{work}/{model}_pre.onnx", f"{work}/{model}_ort_qdq.onnx"
        quant_pre_process(src, pre)
        calib = sorted(f"{work}/calib/{model}/{f}" for f in os.listdir(f"{work}/calib/{model}"))
        quantize_static(pre, q, Reader(inp, calib), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
        x = np.load(f"{work}/{model}_input.npy")
        for threads in (1, 2):
            row = {"ORT FP32": timed(src, inp, x, threads),
                   "ORT int8, quantize_static": timed(q, inp, x, threads)}
            if model in exports:
                row["ORT int8, our export"] = timed(exports[model], inp, x, threads)
            print(f"{model}, {threads} thread(s): " +
                  ", ".join(f"{k} {v:.2f} ms" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
