"""Helpers of the e2e model tests: a float64 numpy convolution (the
reference), saving a one-graph ONNX model, running the tools, and a
library's outputs on stacked samples (quant-run --samples)."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv(x, w, b, pad, group=1, stride=(1, 1)):
    """NCHW input, OIHW weights, groups, symmetric padding, strides."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    sh, sw = stride
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, f, oh, ow))
    fg = f // group
    for g in range(group):
        xs = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                out[:, g * fg:(g + 1) * fg] += np.einsum(
                    "nchw,fc->nfhw", xs[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw],
                    w[g * fg:(g + 1) * fg, :, i, j])
    return out + (0 if b is None else b[None, :, None, None])


def save_model(path, nodes, weights, x_shape, y_shape, opset=13):
    """One input x, one output y, the weights as initializers."""
    graph = helper.make_graph(
        nodes, os.path.splitext(os.path.basename(path))[0],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
        [numpy_helper.from_array(v, k) for k, v in weights.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)
    return path


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def outputs(bindir, lib, samples, work):
    """Output y of `lib` on the stacked samples of the .npz `samples`."""
    out = os.path.join(work, "out-" + os.path.basename(lib))
    run(os.path.join(bindir, "quant-run"), lib, "--samples", samples, "-o", out)
    return np.load(os.path.join(out, "y.npy")).astype(np.float64)


def sqnr(ref, y):
    return 10 * np.log10((ref ** 2).sum() / ((y.reshape(ref.shape) - ref) ** 2).sum())


def split_samples(work, xs, n_calib=16):
    """The first n_calib samples of xs (one input x each) as calib/sNN.npy,
    the others stacked in held.npz; returns (calib dir, held file)."""
    calib = os.path.join(work, "calib")
    os.makedirs(calib, exist_ok=True)
    for i in range(n_calib):
        np.save(os.path.join(calib, f"s{i:02d}.npy"), xs[i])
    held = os.path.join(work, "held.npz")
    np.savez(held, x=xs[n_calib:])
    return calib, held


def kernels_match(bindir, model, stats, held, work, y, variants):
    """Compiles `model` with the calibration `stats` once per (int8-kernels
    value, extra flags) and prints whether its outputs on `held` equal y;
    returns whether all do."""
    good = True
    for i, (variant, extra) in enumerate(variants):
        lib = os.path.join(work, f"libk{i}_{variant}.so")
        run(os.path.join(bindir, "quant-compile"), model, "--load-calibration", stats,
            "--int8-kernels", variant, *extra, "-o", lib)
        same = np.array_equal(outputs(bindir, lib, held, work), y)
        print(f"--int8-kernels {variant} {' '.join(extra)}: outputs equal to the default build: "
              f"{'ok' if same else 'FAILED'}")
        good &= same
    return good
