#!/usr/bin/python3
"""A trained binary CNN end to end: digits rendered from Debian's DejaVu fonts
(this script's own data), a network whose hidden layers take binary
activations (sign, 0 -> +1) and binary weights (sign times a scale per
channel, XNOR-Net style), trained here with Debian's python3-torch (straight-
through estimators), exported to ONNX with the binarization as GreaterOrEqual
+ Where and the binary weights as constants. Then, in one run on held-out
digits:
  * accuracy of the PyTorch model, our float build, our int8 build with the
    AND + popcount kernels (--lowbit-kernels popcount) and with the int8
    kernels (--lowbit-kernels unpack), and ONNX Runtime FP32;
  * latency (batch 1, one thread, median of --rounds interleaved rounds of --repeat runs) of each build and
    of ONNX Runtime FP32.
Writes a markdown table (--report) and JSON (--json).

    binary_cnn.py BINDIR [--work DIR] [--epochs N] [--repeat N]
                  [--report docs/lowbit-models.md] [--json FILE]

Needs python3-torch (scripts/install-deps.sh with QC_INSTALL_TORCH=1) and
ONNX Runtime (scripts/install-ort.sh).
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

from qcbench.ort import ort_dir, ort_run, ort_samples  # noqa: E402
from qcbench.report import cpu_name, emit  # noqa: E402
from qcbench.tools import interleaved_ms, run, run_json, run_samples  # noqa: E402

FONTS = "/usr/share/fonts/truetype/dejavu"
SIZE = 28


def render_digits(n, seed):
    """n digit images [n, 1, 28, 28] in [0, 1] and their labels: a random
    DejaVu face and size, shifted and rotated, with noise."""
    from PIL import Image, ImageDraw, ImageFont
    rng = np.random.default_rng(seed)
    faces = sorted(f for f in os.listdir(FONTS) if f.endswith(".ttf") and "Math" not in f)
    xs = np.zeros((n, 1, SIZE, SIZE), np.float32)
    ys = rng.integers(0, 10, n)
    for i in range(n):
        font = ImageFont.truetype(os.path.join(FONTS, faces[rng.integers(len(faces))]),
                                  int(rng.integers(16, 25)))
        img = Image.new("L", (40, 40), 0)
        ImageDraw.Draw(img).text((20, 20), str(ys[i]), fill=255, font=font, anchor="mm")
        img = img.rotate(float(rng.uniform(-12, 12)), resample=Image.BILINEAR)
        dx, dy = rng.integers(-3, 4, 2)
        img = img.crop((6 + dx, 6 + dy, 6 + dx + SIZE, 6 + dy + SIZE))
        a = np.asarray(img, np.float32) / 255.0
        xs[i, 0] = np.clip(a + rng.normal(0, 0.08, a.shape), 0, 1)
    return xs, ys


def build_and_train(train, epochs, seed):
    import torch
    import torch.nn as nn
    torch.manual_seed(seed)
    torch.set_num_threads(2)

    class Sign(torch.autograd.Function):
        """sign with 0 -> +1; straight-through gradient inside [-1, 1]."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x.abs() <= 1).to(g.dtype)

    class BinConv(nn.Conv2d):
        def forward(self, x):
            w = self.weight
            alpha = w.abs().mean(dim=(1, 2, 3), keepdim=True)
            wb = Sign.apply(w) * alpha
            return nn.functional.conv2d(x, wb, None, self.stride, self.padding)

    class BinLinear(nn.Linear):
        def forward(self, x):
            w = self.weight
            alpha = w.abs().mean(dim=1, keepdim=True)
            return nn.functional.linear(x, Sign.apply(w) * alpha, self.bias)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv0 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
            self.bn0 = nn.BatchNorm2d(32)
            self.conv1 = BinConv(32, 64, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.conv2 = BinConv(64, 128, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(128)
            self.conv3 = BinConv(128, 128, 3, padding=1, bias=False)
            self.bn3 = nn.BatchNorm2d(128)
            self.fc = BinLinear(128 * 3 * 3, 10)
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            s = Sign.apply
            x = s(self.bn0(self.conv0(x)))
            x = self.pool(s(self.bn1(self.conv1(x))))      # 14
            x = self.pool(s(self.bn2(self.conv2(x))))      # 7
            x = self.pool(s(self.bn3(self.conv3(x))))      # 3
            return self.fc(x.flatten(1))

    net = Net()
    xs, ys = torch.from_numpy(train[0]), torch.from_numpy(train[1]).long()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * (len(xs) // 64))
    for ep in range(epochs):
        perm = torch.randperm(len(xs))
        net.train()
        total = 0.0
        for b in range(len(xs) // 64):
            idx = perm[b * 64:(b + 1) * 64]
            loss = nn.functional.cross_entropy(net(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss)
        print(f"epoch {ep + 1}/{epochs}: loss {total / (len(xs) // 64):.3f}", flush=True)
    net.eval()
    return net


def export(net, path):
    """The trained network as its inference function in ONNX: binary weights
    (sign x per-channel scale) as constants, BatchNormalization kept, the
    binarization GreaterOrEqual + Where."""
    import torch
    import torch.nn as nn

    class Export(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net
            with torch.no_grad():
                for conv in (net.conv1, net.conv2, net.conv3):
                    w = conv.weight
                    a = w.abs().mean(dim=(1, 2, 3), keepdim=True)
                    conv.weight.copy_(torch.where(w >= 0, a, -a))
                w = net.fc.weight
                a = w.abs().mean(dim=1, keepdim=True)
                net.fc.weight.copy_(torch.where(w >= 0, a, -a))

        def forward(self, x):
            n = self.net
            one = torch.ones(())  # a scalar constant in the graph
            s = lambda v: torch.where(v >= 0, one, -one)
            c = lambda conv, v: nn.functional.conv2d(v, conv.weight, None, 1, 1)
            x = s(n.bn0(n.conv0(x)))
            x = n.pool(s(n.bn1(c(n.conv1, x))))
            x = n.pool(s(n.bn2(c(n.conv2, x))))
            x = n.pool(s(n.bn3(c(n.conv3, x))))
            return nn.functional.linear(x.flatten(1), n.fc.weight, n.fc.bias)

    m = Export(net).eval()
    torch.onnx.export(m, torch.zeros(1, 1, SIZE, SIZE), path, input_names=["x"],
                      output_names=["logits"], opset_version=13)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--work", default="/tmp/qc-binary-cnn")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--train", type=int, default=12000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved timing rounds (each --repeat runs per build)")
    ap.add_argument("--report")
    ap.add_argument("--json")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    import torch
    train = render_digits(a.train, 1)
    test = render_digits(a.test, 2)
    net = build_and_train(train, a.epochs, 0)
    model = os.path.join(a.work, "binary_cnn.onnx")
    exported = export(net, model)
    with torch.no_grad():
        torch_logits = exported(torch.from_numpy(test[0])).numpy()
    acc = {"PyTorch": float((torch_logits.argmax(1) == test[1]).mean())}
    torch_pred = torch_logits.argmax(1)
    agree = {"PyTorch": 1.0}
    calib = os.path.join(a.work, "calib")
    os.makedirs(calib, exist_ok=True)
    for i in range(64):
        np.save(os.path.join(calib, f"{i:03d}.npy"), train[0][i:i + 1])
    libs = {"ours FP32": os.path.join(a.work, "float.so"),
            "ours int8, popcount kernels": os.path.join(a.work, "popcount.so"),
            "ours int8, int8 kernels": os.path.join(a.work, "unpack.so")}
    run([f"{a.bindir}/quant-compile", model, "-o", libs["ours FP32"]])
    for name, kern in (("ours int8, popcount kernels", "popcount"),
                       ("ours int8, int8 kernels", "unpack")):
        run([f"{a.bindir}/quant-compile", model, "--calibration-data", calib,
             "--lowbit-kernels", kern, "-o", libs[name]])
    samples = {"x": test[0][:, None]}  # [n, 1, 1, 28, 28]: one image a run
    for name, lib in libs.items():
        out = run_samples(a.bindir, lib, samples, os.path.join(a.work, "s_" + name[:12]))
        logits = out.outputs["logits"].reshape(len(test[1]), -1)
        acc[name] = float((logits.argmax(1) == test[1]).mean())
        agree[name] = float((logits.argmax(1) == torch_pred).mean())
    ort = ort_dir()
    if ort:
        o = ort_samples(ort, model, samples, os.path.join(a.work, "ort"))
        ort_pred = o["logits"].reshape(len(test[1]), -1).argmax(1)
        acc["ONNX Runtime FP32"] = float((ort_pred == test[1]).mean())
        agree["ONNX Runtime FP32"] = float((ort_pred == torch_pred).mean())
    x0 = os.path.join(a.work, "x0.npy")
    np.save(x0, test[0][:1])
    flags = ["-i", f"x={x0}", "--repeat", str(a.repeat), "--warmup", "20"]
    runners = {name: (lambda lib=lib: run_json(a.bindir, lib, flags)) for name, lib in libs.items()}
    if ort:
        runners["ONNX Runtime FP32"] = lambda: ort_run(ort, model, flags)
    lat = interleaved_ms(runners, a.rounds)
    rows = [(k, acc.get(k), agree.get(k), lat.get(k)) for k in
            ["PyTorch", "ours FP32", "ours int8, popcount kernels", "ours int8, int8 kernels",
             "ONNX Runtime FP32"]]
    lines = [f"Binary CNN on {a.test} held-out rendered digits ({a.train} trained on, "
             f"{a.epochs} epochs); latency batch 1, one thread, median of {a.rounds} interleaved rounds of {a.repeat} runs, "
             f"{cpu_name()}.", "",
             "| build | accuracy | same prediction as PyTorch | latency (ms) |",
             "|---|---:|---:|---:|"]
    for k, ac, ag, la in rows:
        lines.append(f"| {k} | {'' if ac is None else f'{100 * ac:.2f}%'} | "
                     f"{'' if ag is None else f'{100 * ag:.2f}%'} | "
                     f"{'' if la is None else f'{la:.4f}'} |")
    emit(lines, a.report, a.json,
         {"accuracy": acc, "agreement_with_pytorch": agree, "latency_ms": lat})


if __name__ == "__main__":
    main()
