#!/usr/bin/python3
"""Imports the conv_net test model (Conv -> BatchNormalization -> Relu ->
GlobalAveragePool -> Flatten -> Gemm), lowers it with qc-lower-to-llvm, JIT-runs
it with mlir-runner on a fixed input, and compares the output with a numpy
implementation of the same network written here from the ONNX semantics.

    run_conv_net.py MODEL QUANT_TRANSLATE QUANT_OPT MLIR_RUNNER RUNNER_LIBS
"""
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

model_path, translate, opt, runner, libs = sys.argv[1:6]
model = onnx.load(model_path)
w = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)


def reference(x):
    # Conv 3x3, pads 1, stride 1, bias.
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    W, b = w["w"], w["b"]
    c = np.zeros((2, 16, 8, 8), np.float64)
    for i in range(8):
        for j in range(8):
            patch = xp[:, :, i:i + 3, j:j + 3]
            c[:, :, i, j] = np.einsum("nchw,fchw->nf", patch, W)
    c += b[None, :, None, None]
    # BatchNormalization (inference, epsilon 1e-5).
    s, bb, m, v = (w[k][None, :, None, None] for k in ("s", "bb", "m", "v"))
    n = s * (c - m) / np.sqrt(v + 1e-5) + bb
    r = np.maximum(n, 0)
    p = r.mean(axis=(2, 3))
    return p @ w["fcw"].T + w["fcb"]


imported = subprocess.run([translate, "--import-onnx", model_path,
                           "--input-shape", "x:2x3x8x8"],
                          check=True, capture_output=True, text=True).stdout
# Add a @main that calls the graph on the fixed input and prints the result;
# it goes before the module's closing brace (the resource section follows it).
values = ", ".join(f"{float(v):.9e}" for v in x.reshape(-1))
harness = f"""
  func.func private @printMemrefF32(memref<*xf32>) attributes {{llvm.emit_c_interface}}
  func.func @main() {{
    %x = arith.constant dense<[{values}]> : tensor<384xf32>
    %shape = arith.constant dense<[2, 3, 8, 8]> : tensor<4xi64>
    %x4 = tensor.reshape %x(%shape) : (tensor<384xf32>, tensor<4xi64>) -> tensor<2x3x8x8xf32>
    %y = call @main_graph(%x4) : (tensor<2x3x8x8xf32>) -> tensor<2x10xf32>
    %m = bufferization.to_buffer %y : tensor<2x10xf32> to memref<2x10xf32>
    %u = memref.cast %m : memref<2x10xf32> to memref<*xf32>
    call @printMemrefF32(%u) : (memref<*xf32>) -> ()
    return
  }}
"""
end = imported.rindex("\n}\n")
module = imported[:end] + harness + imported[end:]
lowered = subprocess.run([opt, "-qc-lower-to-llvm"], input=module, check=True,
                         capture_output=True, text=True).stdout
out = subprocess.run([runner, "-e", "main", "-entry-point-result=void",
                      "-shared-libs=" + libs], input=lowered, check=True,
                     capture_output=True, text=True).stdout
body = out[out.index("data =") + len("data ="):]
got = np.array([float(t) for t in re.findall(r"-?[0-9.]+(?:e[-+]?[0-9]+)?", body)],
               np.float64).reshape(2, 10)
want = reference(x.astype(np.float64))
err = np.abs(got - want)
tol = 1e-4 + 1e-3 * np.abs(want)
print(f"max abs error {err.max():.3g}, max |reference| {np.abs(want).max():.3g}")
if not (err <= tol).all():
    sys.exit(f"MISMATCH\ngot\n{got}\nwant\n{want}")
print("conv_net matches the numpy reference (rtol 1e-3, atol 1e-4)")
