#!/usr/bin/python3
"""Calibration and evaluation samples for the transformers of model.py, from
the fortunes corpus (Debian's `fortunes` package): windows of BOS + 127
characters, BATCH per sample (the exported models' batch).

  OUT/calib/NNN.npy   ids: windows of the training split (masked as in
                      training for the BERT-style model)
  OUT/eval/NNN.npy    ids: windows of the held-out split
  OUT/eval-labels.npz "targets" [n, BATCH, 128] (the unmasked ids) and, for
                      bert, "masked" [n, BATCH, 128] (positions to predict)
  OUT/calib-labels.npz "logits" [n, BATCH, 128]: the calibration windows' task
                      labels for quant-compile --task-labels (gpt: the next
                      character; bert: the masked characters, -1 elsewhere)

    samples.py {gpt|bert} OUT [--calib N] [--eval N] [--corpus DIR]
"""
import argparse
import os

import numpy as np

from corpus import FORTUNES, SEQ, corpus, mlm_batch, windows

BATCH = 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["gpt", "bert"])
    ap.add_argument("out")
    ap.add_argument("--calib", type=int, default=16)
    ap.add_argument("--eval", type=int, default=32)
    ap.add_argument("--corpus", default=FORTUNES)
    a = ap.parse_args()
    train, held = corpus(a.corpus)
    rng = np.random.default_rng(7)
    targets, masked, calib_labels = [], [], []
    for split, ids, n in (("calib", train, a.calib), ("eval", held, a.eval)):
        os.makedirs(os.path.join(a.out, split), exist_ok=True)
        for i in range(n):
            st = rng.integers(0, len(ids) - SEQ - 1, size=BATCH)
            full = windows(ids, st)
            w = full[:, :SEQ]
            inp = w
            if a.model == "bert":
                inp, pick = mlm_batch(w, rng)
            if split == "calib":
                calib_labels.append(full[:, 1:] if a.model == "gpt" else np.where(pick, w, -1))
            np.save(os.path.join(a.out, split, f"{i:03d}.npy"), inp)
            if split == "eval":
                targets.append(w)
                if a.model == "bert":
                    masked.append(pick)
    labels = {"targets": np.stack(targets)}
    if masked:
        labels["masked"] = np.stack(masked)
    np.savez(os.path.join(a.out, "eval-labels.npz"), **labels)
    np.savez(os.path.join(a.out, "calib-labels.npz"), logits=np.stack(calib_labels))
    print(f"{a.model}: {a.calib} calibration and {a.eval} evaluation samples of "
          f"{BATCH}x{SEQ} in {a.out}")


if __name__ == "__main__":
    main()
