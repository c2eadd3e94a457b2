#!/usr/bin/env python3
"""ONNX Runtime's quantize_static (QDQ, MinMax, per-channel int8 weights,
uint8 activations) of PP-OCRv4's recognizer and detector, calibrated on the
calibration splits of ocr_sets.py, for ocr_eval.py --ort-dir. Python
onnxruntime is not in Debian: this runs on the device machine, with the
splits packed small enough to carry (ocr_sets.py --pack):

    ort-quantize-ocr.py PACK.npz MODEL_DIR OUTDIR
      -> OUTDIR/{rec,det}_qdq_minmax.onnx

PACK.npz: "rec" the recognizer's inputs [n, 1, 3, 48, 320] (float32),
"det" the pages' 8-bit grey pixels [n, 640, 640], normalized here as
ocr_sets.py does.
"""
import importlib.util
import os
import sys

import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("ortq", os.path.join(HERE, "ort-quantize.py"))
ortq = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ortq)

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def page(grey):
    a = grey.astype(np.float32) / 255.0
    return ((np.repeat(a[:, :, None], 3, 2) - MEAN) / STD).transpose(2, 0, 1)[None].astype(
        np.float32)


class Reader(CalibrationDataReader):
    def __init__(self, xs):
        self.items = iter([{"x": x} for x in xs])

    def get_next(self):
        return next(self.items, None)


def main():
    pack, models, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    sets = np.load(pack)
    calib = {"rec": list(sets["rec"]), "det": [page(g) for g in sets["det"]]}
    for m, shape in (("rec", [1, 3, 48, 320]), ("det", [1, 3, 640, 640])):
        pre = f"{out}/{m}_float.onnx"
        ortq.static_model(f"{models}/ch_PP-OCRv4_{m}_infer.onnx", "x", shape, pre, optimize=True)
        dst = f"{out}/{m}_qdq_minmax.onnx"
        quantize_static(pre, dst, Reader(calib[m]), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
        os.remove(pre)
        ops = sorted({n.op_type for n in onnx.load(dst).graph.node})
        print(f"{dst}: {os.path.getsize(dst)} bytes, ops {' '.join(ops)}", flush=True)


if __name__ == "__main__":
    main()
