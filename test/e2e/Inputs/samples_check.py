"""quant-run --samples against an independent reference: writes a sample set
of the conv_net test model (a directory of .npz, or one stacked .npz), and
checks the outputs quant-run stacked (-o) against the numpy reference of
test/e2e/Inputs/conv_net_ref.py, and quant-run's --reference-outputs numbers
against numpy's SQNR and top-1 agreement.

    samples_check.py write DIR MODEL.onnx
    samples_check.py check DIR MODEL.onnx OUTDIR [quant-run.json]
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from conv_net_ref import reference

mode, d, model = sys.argv[1:4]
w = {t.name: numpy_helper.to_array(t) for t in onnx.load(model).graph.initializer}
rng = np.random.default_rng(7)
if mode == "write":
    os.makedirs(f"{d}/set", exist_ok=True)
    xs = rng.standard_normal((5, 2, 3, 8, 8)).astype(np.float32)
    for i, x in enumerate(xs):
        np.savez(f"{d}/set/sample_{i}.npz", x=x)
    np.savez(f"{d}/stacked.npz", x=xs)
    # A perturbed reference: what --reference-outputs compares against.
    ref = np.stack([reference(w, x.astype(np.float64)) for x in xs]).astype(np.float32)
    noisy = ref + rng.standard_normal(ref.shape).astype(np.float32) * 0.05
    os.makedirs(f"{d}/noisy", exist_ok=True)
    np.save(f"{d}/noisy/y.npy", noisy)
    sys.exit(0)

outdir = sys.argv[4]
xs = np.stack([np.load(f"{d}/set/sample_{i}.npz")["x"] for i in range(5)])
ref = np.stack([reference(w, x.astype(np.float64)) for x in xs])
got = np.load(f"{outdir}/y.npy")
assert got.shape == (5, 2, 10), got.shape
np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-4)
print("stacked outputs match the numpy reference")
if len(sys.argv) > 5:
    report = json.load(open(sys.argv[5]))
    c = report["comparison"][0]
    noisy = np.load(f"{d}/noisy/y.npy").astype(np.float64)
    sqnr = 10 * np.log10(np.sum(noisy ** 2) / np.sum((noisy - got) ** 2))
    top1 = np.mean(np.argmax(noisy, -1) == np.argmax(got, -1))
    assert abs(c["sqnr_db"] - sqnr) < 1e-3, (c["sqnr_db"], sqnr)
    assert abs(c["top1_agreement"] - top1) < 1e-9, (c["top1_agreement"], top1)
    assert report["samples"] == 5
    print(f"comparison matches numpy (SQNR {sqnr:.3f} dB, top-1 {top1:.2f})")
