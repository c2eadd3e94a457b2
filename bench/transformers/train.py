#!/usr/bin/env python3
"""Trains the two character-level transformers of model.py (GPT-style causal
LM and BERT-style masked LM) on the fortunes corpus and saves their
state dicts; export.py turns them into ONNX. Run where PyTorch sees a GPU
(the device machine: about two minutes on an H200) or, slowly, on a CPU.

    train.py CORPUS_DIR OUT_DIR [--steps N] [--models gpt,bert]

CORPUS_DIR holds the fortunes files (/usr/share/games/fortunes, from Debian's
`fortunes` package; copied for a machine without it). Prints the training
loss, the held-out loss and the activation outlier ratio (max over channels of
a LayerNorm output's per-channel max |x|, over their median) per layer.
"""
import argparse
import os
import time

import numpy as np
import torch

from corpus import corpus, mlm_batch, windows
from model import SEQ, CharTransformer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=15000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--models", default="gpt,bert")
    a = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    train, held = corpus(a.corpus)
    print(f"corpus: {len(train)} train, {len(held)} held-out characters; device {dev}")
    os.makedirs(a.out, exist_ok=True)
    for name, causal in (("gpt", True), ("bert", False)):
        if name not in a.models.split(","):
            continue
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        model = CharTransformer(causal).to(dev)
        # No weight decay: the regime in which LayerNorm gains and the
        # residual stream grow the outlier channels quantization has to face.
        opt = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.98),
                                weight_decay=0.0)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=a.steps,
                                                    pct_start=0.05)
        t0 = time.time()
        for step in range(a.steps):
            st = rng.integers(0, len(train) - SEQ - 1, size=a.batch)
            seq = windows(train, st)
            if causal:
                x = torch.from_numpy(seq[:, :-1]).to(dev)
                y = torch.from_numpy(seq[:, 1:]).to(dev)
                loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
            else:
                inp, pick = mlm_batch(seq[:, :-1], rng)
                logits = model(torch.from_numpy(inp).to(dev))
                sel = torch.from_numpy(pick).to(dev)
                y = torch.from_numpy(seq[:, :-1]).to(dev)
                loss = torch.nn.functional.cross_entropy(logits[sel], y[sel])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % 500 == 0 or step == a.steps - 1:
                print(f"{name} step {step} loss {loss.item():.4f} ({time.time() - t0:.0f} s)",
                      flush=True)
        model.eval()
        hrng = np.random.default_rng(1)
        with torch.no_grad():
            st = hrng.integers(0, len(held) - SEQ - 1, size=256)
            seq = windows(held, st)
            if causal:
                logits = model(torch.from_numpy(seq[:, :-1]).to(dev))
                hl = torch.nn.functional.cross_entropy(
                    logits.flatten(0, 1), torch.from_numpy(seq[:, 1:]).to(dev).flatten())
                print(f"{name} held-out loss {hl.item():.4f} perplexity {hl.exp().item():.3f}")
            else:
                inp, pick = mlm_batch(seq[:, :-1], hrng)
                logits = model(torch.from_numpy(inp).to(dev))
                sel = torch.from_numpy(pick).to(dev)
                acc = (logits[sel].argmax(-1) == torch.from_numpy(seq[:, :-1]).to(dev)[sel])
                print(f"{name} held-out masked accuracy {acc.float().mean().item():.4f}")
            # Outlier channels: per-channel max |x| of each LayerNorm output.
            feats = {}
            hooks = [m.register_forward_hook(
                lambda mod, i, o, n=n: feats.__setitem__(n, o.detach()))
                for n, m in model.named_modules() if isinstance(m, torch.nn.LayerNorm)]
            hooks += [m.register_forward_hook(
                lambda mod, i, o, n=n: feats.__setitem__(n + ".in", i[0].detach()))
                for n, m in model.named_modules() if n.endswith("fc2")]
            model(torch.from_numpy(seq[:64, :-1]).to(dev))
            for h in hooks:
                h.remove()
            for n, f in feats.items():
                cmax = f.abs().flatten(0, 1).max(0).values
                print(f"{name} {n}: channel max|x| max/median {(cmax.max() / cmax.median()).item():.1f}")
        torch.save({k: v.cpu() for k, v in model.state_dict().items()},
                   os.path.join(a.out, f"{name}.pt"))


if __name__ == "__main__":
    main()
