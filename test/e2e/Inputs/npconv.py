"""A float64 numpy convolution (NCHW, OIHW weights, groups, symmetric
padding, stride 1): the reference of the e2e CNN tests."""
import numpy as np


def conv(x, w, b, pad, group=1):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    out = np.zeros((n, f, oh, ow))
    fg = f // group
    for g in range(group):
        xs = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                out[:, g * fg:(g + 1) * fg] += np.einsum(
                    "nchw,fc->nfhw", xs[:, :, i:i + oh, j:j + ow], w[g * fg:(g + 1) * fg, :, i, j])
    return out + (0 if b is None else b[None, :, None, None])
