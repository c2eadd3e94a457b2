"""numpy reference of the conv_net test model (make_model.py), written from
the ONNX semantics: Conv 3x3 pads 1 + bias -> BatchNormalization (eps 1e-5)
-> Relu -> GlobalAveragePool -> Flatten -> Gemm (transB)."""
import numpy as np


def reference(w, x):
    n, _, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    W, b = w["w"], w["b"]
    c = np.zeros((n, W.shape[0], h, wd), np.float64)
    for i in range(h):
        for j in range(wd):
            patch = xp[:, :, i:i + 3, j:j + 3]
            c[:, :, i, j] = np.einsum("nchw,fchw->nf", patch, W)
    c += b[None, :, None, None]
    s, bb, m, v = (w[k][None, :, None, None] for k in ("s", "bb", "m", "v"))
    r = np.maximum(s * (c - m) / np.sqrt(v + 1e-5) + bb, 0)
    return r.mean(axis=(2, 3)) @ w["fcw"].T + w["fcb"]
