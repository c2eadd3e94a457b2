"""Metrics the tools do not compute (or not on these inputs).

quant-run --reference-outputs reports SQNR, cosine and top-1 agreement of our
outputs against a reference (qcbench.tools.run_samples returns them); what
is here differs in definition or compares two outputs neither of which is
ours (ONNX Runtime against ONNX Runtime)."""
import numpy as np


def sqnr(ref, x):
    """10 log10(sum ref^2 / sum (ref - x)^2) over all elements (inf when
    exact): quant-run's definition, for pairs quant-run does not see."""
    ref, x = ref.astype(np.float64).ravel(), x.astype(np.float64).ravel()
    noise = np.sum((ref - x) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(ref ** 2) / noise))


def mean_cosine(ref, x):
    """The mean over samples (the first axis) of each sample's cosine: not
    quant-run's cosine, which is one cosine over all elements."""
    ref = ref.astype(np.float64).reshape(len(ref), -1)
    x = x.astype(np.float64).reshape(len(x), -1)
    return float(np.mean(np.sum(ref * x, 1) / (np.linalg.norm(ref, axis=1) *
                                                np.linalg.norm(x, axis=1) + 1e-30)))
