"""Writes the arrays the quant-run error tests feed: a right and a wrongly
shaped float input, an int64 one, a deliberately wrong expected output, a
.npz with the input, and a file that is not a .npy."""
import sys

import numpy as np

d = sys.argv[1]
rng = np.random.default_rng(3)
np.save(f"{d}/x.npy", rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
np.save(f"{d}/x_small.npy", rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
np.save(f"{d}/x_int.npy", np.zeros((2, 3, 8, 8), np.int64))
np.save(f"{d}/y_wrong.npy", np.full((2, 10), 1e3, np.float32))
np.savez_compressed(f"{d}/inputs.npz", x=rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
open(f"{d}/garbage.npy", "wb").write(b"not numpy at all")
# Calibration data that is all NaN, and one sample with an infinity.
np.savez(f"{d}/calib_nan.npz", x=np.full((2, 3, 8, 8), np.nan, np.float32))
inf = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
inf[1, 2, 3, 4] = np.inf
np.savez(f"{d}/calib_inf.npz", x=inf)
