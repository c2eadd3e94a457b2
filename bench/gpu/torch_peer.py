#!/usr/bin/env python3
"""The peer measurements of docs/benchmarks-gpu.md, on the GPU machine
(PyTorch with CUDA; no onnx package, no network), timed by CUDA events
(median of --repeat after warm-up), printed as one JSON object.

    torch_peer.py gemm [--repeat N]
        torch._int_mm (cuBLASLt int8, B column-major as cuBLASLt wants it)
        at M = N = K = 4096 and 8192, and M in 1..128 with N = K = 4096.
    torch_peer.py gemm-fp8 [--cases DIR] [--repeat N]
        torch._scaled_mm (cuBLASLt FP8 E4M3 x E4M3, B column-major, unit
        scales, f32 out) with use_fast_accum False (its default) and True,
        at the shapes of make-gemm.py's bench set (M < 16 padded to 16);
        with --cases, on make-gemm.py's fp8 cases too (in0.npy,
        b_codes.npy, expect0.npy): its error against the float64 sums,
        max |diff| / max |expected|, beside ours (qc-runner's).
    torch_peer.py model GRAPH.npz --input X.npy [--batch B]... [--reference Y.npy]
        the model of GRAPH.npz (bench/models/make-synthetic.py --graph-npz,
        made on the GPU machine) run by a small
        ONNX interpreter in PyTorch, FP32 and FP16 (channels-last for convs
        where it helps cuDNN), at each batch (the input repeated); with
        --reference, the FP32 batch-1 output is compared with it (ONNX
        Runtime's, from bench/gpu/prepare.py) to show the interpreter runs
        the same model.
"""
import argparse
import json
import math

import numpy as np
import torch
import torch.nn.functional as F


def timed(fn, repeat, warmup=5):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return {"median_ms": times[len(times) // 2], "min_ms": times[0],
            "mean_ms": sum(times) / len(times)}


def gemm(args):
    shapes = [(4096, 4096, 4096), (8192, 8192, 8192)] + \
        [(m, 4096, 4096) for m in (1, 2, 4, 8, 16, 32, 64, 128)]
    out = []
    for m, n, k in shapes:
        a = torch.randint(-128, 127, (m, k), dtype=torch.int8, device="cuda")
        bt = torch.randint(-128, 127, (n, k), dtype=torch.int8, device="cuda")
        b = bt.t()  # [K, N], column-major
        row = {"M": m, "N": n, "K": k}
        try:
            t = timed(lambda: torch._int_mm(a, b), args.repeat)
            row.update(t, tops=2 * m * n * k / t["median_ms"] / 1e9)
        except RuntimeError as e:  # cuBLASLt's int8 path wants M > 16
            row["int_mm_error"] = str(e).splitlines()[0]
            mp = 32
            ap = torch.zeros((mp, k), dtype=torch.int8, device="cuda")
            t = timed(lambda: torch._int_mm(ap, b), args.repeat)
            row.update({"padded_to_M": mp, **t,
                        "tops": 2 * m * n * k / t["median_ms"] / 1e9})
        ah = a.half()
        bh = b.half()
        t16 = timed(lambda: ah @ bh, args.repeat)
        row["fp16_median_ms"] = t16["median_ms"]
        out.append(row)
        print(json.dumps(row), flush=True)
    return {"gemm": out}


def gemm_fp8(args):
    import glob
    import os
    shapes = [(m, 4096, 4096) for m in (1, 16, 128, 4096, 8192)] + [(8192, 8192, 8192)]
    out = []
    f8 = torch.float8_e4m3fn
    one = torch.tensor(1.0, device="cuda")
    for m, n, k in shapes:
        mp = max(m, 16)
        a = (torch.randn((mp, k), device="cuda") * 4).to(f8)
        bt = (torch.randn((n, k), device="cuda") * 4).to(f8)
        b = bt.t()  # [K, N], column-major
        row = {"M": m, "N": n, "K": k}
        if mp != m:
            row["padded_to_M"] = mp
        for fast in (False, True):
            t = timed(lambda: torch._scaled_mm(a, b, one, one, out_dtype=torch.float32,
                                               use_fast_accum=fast), args.repeat)
            key = "fast_accum" if fast else "default"
            row[key] = dict(t, tflops=2 * m * n * k / t["median_ms"] / 1e9)
        out.append(row)
        print(json.dumps(row), flush=True)
    cases = []
    for d in sorted(glob.glob(os.path.join(args.cases or "/nonexistent", "gemm_*_fp8"))):
        a = torch.from_numpy(np.load(f"{d}/in0.npy")).cuda().view(f8)
        bt = torch.from_numpy(np.load(f"{d}/b_codes.npy")).cuda().view(f8)
        expect = np.load(f"{d}/expect0.npy").astype(np.float64)
        m, k = a.shape
        mp = -(-max(m, 16) // 16) * 16
        kp = -(-k // 16) * 16
        n = bt.shape[0]
        np16 = -(-n // 16) * 16
        ap = torch.zeros((mp, kp), dtype=torch.uint8, device="cuda").view(f8)
        bp = torch.zeros((np16, kp), dtype=torch.uint8, device="cuda").view(f8)
        ap[:m, :k] = a
        bp[:n, :k] = bt
        row = {"case": os.path.basename(d)}
        for fast in (False, True):
            y = torch._scaled_mm(ap, bp.t(), one, one, out_dtype=torch.float32,
                                 use_fast_accum=fast)[:m, :n].double().cpu().numpy()
            row["fast_accum" if fast else "default"] = \
                float(np.abs(y - expect).max() / np.abs(expect).max())
        cases.append(row)
        print(json.dumps(row), flush=True)
    return {"gemm_fp8": out, "cases": cases}


class Interpreter:
    def __init__(self, npz, dtype):
        self.graph = json.loads(str(npz["__graph__"]))
        self.dtype = dtype
        self.w = {}
        for k in npz.files:
            if k.startswith("w:"):
                t = torch.from_numpy(np.ascontiguousarray(npz[k])).cuda()
                self.w[k[2:]] = t.to(dtype) if t.is_floating_point() else t

    def __call__(self, x):
        env = dict(self.w)
        env[self.graph["inputs"][0]] = x
        for n in self.graph["nodes"]:
            i = [env[name] if name else None for name in n["inputs"]]
            a = n["attrs"]
            op = n["op"]
            if op == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None,
                             stride=a.get("strides", [1, 1]), padding=(p[0], p[1]),
                             dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
            elif op == "Relu":
                y = F.relu(i[0])
            elif op == "Add":
                y = i[0] + i[1]
            elif op == "Mul":
                y = i[0] * i[1]
            elif op == "MaxPool":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.max_pool2d(i[0], a["kernel_shape"], a.get("strides"), (p[0], p[1]))
            elif op == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            elif op == "Flatten":
                y = i[0].flatten(a.get("axis", 1))
            elif op == "Gemm":
                b = i[1].t() if a.get("transB", 0) else i[1]
                y = i[0] @ b
                if len(i) > 2:
                    y = y + i[2]
            elif op == "MatMul":
                y = i[0] @ i[1]
            elif op == "Reshape":
                shape = [int(s) for s in i[1].tolist()]
                if shape[0] == 1 and i[0].shape[0] != 1:
                    shape[0] = i[0].shape[0]  # the batch the model was exported at
                y = i[0].reshape([i[0].shape[k] if s == 0 else s for k, s in enumerate(shape)])
            elif op == "Transpose":
                y = i[0].permute(a["perm"])
            elif op == "Softmax":
                y = torch.softmax(i[0], dim=a.get("axis", -1))
            elif op == "LayerNormalization":
                y = F.layer_norm(i[0], i[1].shape, i[1], i[2] if len(i) > 2 else None,
                                 a.get("epsilon", 1e-5))
            elif op == "Erf":
                y = torch.erf(i[0])
            else:
                raise SystemExit(f"torch_peer: no {op}")
            env[n["outputs"][0]] = y
        return env[self.graph["outputs"][0]]


def model(args):
    npz = np.load(args.graph)
    x1 = torch.from_numpy(np.load(args.input)).cuda()
    res = {"model": args.graph, "runs": []}
    for dtype in (torch.float32, torch.float16):
        net = Interpreter(npz, dtype)
        name = "fp32" if dtype == torch.float32 else "fp16"
        if args.reference and dtype == torch.float32:
            with torch.no_grad():
                y = net(x1).float().cpu().numpy()
            ref = np.load(args.reference)
            res["fp32_vs_reference_max_abs"] = float(np.abs(y - ref).max())
            res["fp32_vs_reference_max_rel"] = float(np.abs(y - ref).max() / (np.abs(ref).max() + 1e-30))
        for batch in args.batch:
            x = x1.repeat(batch, *([1] * (x1.dim() - 1))).to(dtype)
            with torch.no_grad():
                t = timed(lambda: net(x), args.repeat)
            row = {"dtype": name, "batch": batch, **t}
            res["runs"].append(row)
            print(json.dumps(row), flush=True)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["gemm", "gemm-fp8", "model"])
    ap.add_argument("--cases")
    ap.add_argument("graph", nargs="?")
    ap.add_argument("--input")
    ap.add_argument("--reference")
    ap.add_argument("--batch", type=int, action="append")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("-o", "--output")
    args = ap.parse_args()
    args.batch = args.batch or [1, 32]
    torch.backends.cudnn.benchmark = True
    res = {"gemm": gemm, "gemm-fp8": gemm_fp8, "model": model}[args.what](args)
    res["device"] = torch.cuda.get_device_name()
    res["torch"] = torch.__version__
    text = json.dumps(res, indent=1)
    if args.output:
        open(args.output, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
