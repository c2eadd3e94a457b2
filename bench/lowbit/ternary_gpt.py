#!/usr/bin/python3
"""A ternary-weight transformer (BitNet b1.58 style) end to end: the
character-level GPT of bench/transformers/model.py with every linear layer of
its blocks trained with ternary weights (absmean per tensor: W ~ g * round(
clip(W / g, -1, 1)), straight-through gradients), embeddings and head float.

  ternary_gpt.py train CORPUS_DIR OUT_DIR [--steps N]
      trains (a GPU where PyTorch sees one: the device machine) and saves
      ternary_gpt.pt;
  ternary_gpt.py evaluate BINDIR STATE.pt [--work DIR] [--windows N]
                 [--repeat N] [--report FILE] [--json FILE]
      exports it to ONNX (ternary weights as constants, batch 1), then in one
      run: held-out perplexity and next-character accuracy of the PyTorch
      model, our float build, our W8A8 builds with the weights on bit planes
      (--lowbit-kernels lut, the table-lookup kernel), unpacked
      (--lowbit-kernels unpack) and chosen per layer by timing (auto), and
      ONNX Runtime FP32; latency (one thread, median of --rounds interleaved rounds of --repeat runs) of
      each.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "transformers"))
sys.path.insert(0, os.path.join(ROOT, "python"))

from corpus import SEQ, corpus, windows  # noqa: E402


def ternarize(w):
    import torch
    g = w.abs().mean().clamp(min=1e-8)
    return torch.round(torch.clamp(w / g, -1, 1)) * g


def make_model():
    import torch
    import torch.nn as nn
    from model import CharTransformer

    class BitLinear(nn.Linear):
        def forward(self, x):
            w = self.weight
            wq = w + (ternarize(w) - w).detach()  # straight-through
            return nn.functional.linear(x, wq, self.bias)

    m = CharTransformer(True)
    for blk in m.blocks:
        for name in ("q", "k", "v", "o", "fc1", "fc2"):
            old = getattr(blk, name)
            new = BitLinear(old.in_features, old.out_features)
            new.load_state_dict(old.state_dict())
            setattr(blk, name, new)
    return m


def train(a):
    import time

    import torch
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    tr, held = corpus(a.corpus)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = make_model().to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.98), weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=a.steps, pct_start=0.05)
    t0 = time.time()
    for step in range(a.steps):
        seq = windows(tr, rng.integers(0, len(tr) - SEQ - 1, size=64))
        x = torch.from_numpy(seq[:, :-1]).to(dev)
        y = torch.from_numpy(seq[:, 1:]).to(dev)
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 1000 == 0 or step == a.steps - 1:
            print(f"step {step} loss {loss.item():.4f} ({time.time() - t0:.0f} s)", flush=True)
    os.makedirs(a.out, exist_ok=True)
    torch.save({k: v.cpu() for k, v in model.state_dict().items()},
               os.path.join(a.out, "ternary_gpt.pt"))


def evaluate(a):
    import torch
    from qcbench.ort import ort_dir, ort_run, ort_samples
    from qcbench.report import cpu_name, emit
    from qcbench.tools import interleaved_ms, run, run_json, run_samples

    os.makedirs(a.work, exist_ok=True)
    from model import CharTransformer
    # The trained weights in plain linear layers (same names), made ternary
    # once: the inference function the ONNX file holds.
    model = CharTransformer(True)
    model.load_state_dict(torch.load(a.state, map_location="cpu"))
    with torch.no_grad():
        for blk in model.blocks:
            for name in ("q", "k", "v", "o", "fc1", "fc2"):
                lin = getattr(blk, name)
                lin.weight.copy_(ternarize(lin.weight))
    model.eval()
    onnx_path = os.path.join(a.work, "ternary_gpt.onnx")
    torch.onnx.export(model, (torch.zeros(1, SEQ, dtype=torch.int64),), onnx_path,
                      input_names=["ids"], output_names=["logits"], opset_version=17,
                      do_constant_folding=True)
    tr, held = corpus(a.corpus)
    rng = np.random.default_rng(1)
    seqs = windows(held, rng.integers(0, len(held) - SEQ - 1, size=a.windows))
    ids, target = seqs[:, :-1], seqs[:, 1:]

    def quality(logits):
        logits = logits.reshape(len(ids), SEQ, -1).astype(np.float64)
        m = logits.max(-1, keepdims=True)
        logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
        nll = -np.take_along_axis(logp, target[..., None], -1).mean()
        return float(np.exp(nll)), float((logits.argmax(-1) == target).mean())

    res = {}
    with torch.no_grad():
        res["PyTorch"] = quality(model(torch.from_numpy(ids)).numpy())
    calib = os.path.join(a.work, "calib")
    os.makedirs(calib, exist_ok=True)
    cs = windows(tr, np.random.default_rng(2).integers(0, len(tr) - SEQ - 1, size=32))
    for i in range(len(cs)):
        np.save(os.path.join(calib, f"{i:03d}.npy"), cs[i:i + 1, :-1])
    libs = {"ours FP32": [],
            "ours W8A8, ternary weights on bit planes (lut)": ["--lowbit-kernels", "lut"],
            "ours W8A8, weights unpacked to int8": ["--lowbit-kernels", "unpack"],
            "ours W8A8, --lowbit-kernels auto (per layer, timed)": ["--lowbit-kernels", "auto"]}
    paths = {}
    for i, (name, flags) in enumerate(libs.items()):
        paths[name] = os.path.join(a.work, f"lib{i}.so")
        q = [] if name == "ours FP32" else ["--calibration-data", calib, "--quantize-scope",
                                            "linear", *flags]
        run([f"{a.bindir}/quant-compile", onnx_path, *q, "-o", paths[name]])
    samples = {"ids": ids[:, None]}
    for name, lib in paths.items():
        out = run_samples(a.bindir, lib, samples, os.path.join(a.work, f"s{len(res)}"))
        res[name] = quality(out.outputs["logits"])
    ort = ort_dir()
    if ort:
        o = ort_samples(ort, onnx_path, samples, os.path.join(a.work, "ort"))
        res["ONNX Runtime FP32"] = quality(o["logits"])
    x0 = os.path.join(a.work, "ids0.npy")
    np.save(x0, ids[:1])
    flags = ["-i", f"ids={x0}", "--repeat", str(a.repeat), "--warmup", "10"]
    runners = {name: (lambda lib=lib: run_json(a.bindir, lib, flags)) for name, lib in paths.items()}
    if ort:
        runners["ONNX Runtime FP32"] = lambda: ort_run(ort, onnx_path, flags)
    lat = interleaved_ms(runners, a.rounds)
    lines = [f"Ternary-weight character GPT (4 blocks, d = 192; every block linear "
             f"ternary) on {a.windows} held-out windows of {SEQ} characters; latency "
             f"batch 1, one thread, median of {a.rounds} interleaved rounds of {a.repeat} runs, {cpu_name()}.", "",
             "| build | perplexity | next-character accuracy | latency (ms) |",
             "|---|---:|---:|---:|"]
    for name in ["PyTorch", *paths, "ONNX Runtime FP32"]:
        if name not in res:
            continue
        ppl, acc = res[name]
        la = lat.get(name)
        lines.append(f"| {name} | {ppl:.3f} | {100 * acc:.2f}% | "
                     f"{'' if la is None else f'{la:.3f}'} |")
    emit(lines, a.report, a.json, {"quality": res, "latency_ms": lat})


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("corpus")
    t.add_argument("out")
    t.add_argument("--steps", type=int, default=6000)
    e = sub.add_parser("evaluate")
    e.add_argument("bindir")
    e.add_argument("state")
    e.add_argument("--corpus", default="/usr/share/games/fortunes")
    e.add_argument("--work", default="/tmp/qc-ternary-gpt")
    e.add_argument("--windows", type=int, default=64)
    e.add_argument("--repeat", type=int, default=50)
    e.add_argument("--rounds", type=int, default=5,
                   help="interleaved timing rounds (each --repeat runs per build)")
    e.add_argument("--report")
    e.add_argument("--json")
    a = ap.parse_args()
    train(a) if a.cmd == "train" else evaluate(a)


if __name__ == "__main__":
    main()
