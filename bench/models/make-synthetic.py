#!/usr/bin/python3
"""Synthetic models of real shapes, with random weights, for the benchmarks.

    make-synthetic.py OUTDIR [--calib N]

writes into OUTDIR:
  resnet50.onnx      ResNet-50 v1.5 (torchvision's layout: 7x7/2 stem, max
                     pool, bottleneck stages of 3/4/6/3 blocks, widths 64..512
                     x4, stride on the 3x3, global average pool, 1000-way FC),
                     input x: 1x3x224x224, BatchNorm folded into the convs;
  bert_base.onnx     a BERT-base encoder: 12 layers, hidden 768, 12 heads,
                     feed-forward 3072, GELU (erf), post-LayerNorm, input the
                     embeddings h: 1x128x768 (sequence 128), no mask;
  calib/resnet50/, calib/bert_base/: N .npy calibration inputs each (default
                     8), and one more as input.npy beside each model.

    make-synthetic.py OUTDIR --batch N

writes resnet50_bN.onnx and bert_base_bN.onnx: the same models, same
weights, at batch N (for the GPU benchmarks).

    make-synthetic.py OUTDIR --graph-npz

writes the same models as OUTDIR/<name>.npz instead: the graph as JSON under
"__graph__" and the weights under "w:<name>" (the format of
bench/gpu/export_graph.py), without the onnx package: the GPU machine
(numpy and PyTorch, no onnx, weights too large to copy there) makes the
models bench/gpu/torch_peer.py runs this way, bit-identical to the ONNX ones.

Weights are drawn with He/Xavier-like scales so that activations keep a
sane range through the depth (speed does not depend on the values; the
scales keep quantization meaningful). Deterministic (seeded).
"""
import argparse
import os

import json

import numpy as np


class Graph:
    """Nodes and weights in plain Python; model() makes the ONNX model."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], {}, 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, array, base="w"):
        nm = self.name(base)
        self.inits[nm] = np.asarray(array)
        return nm

    def op(self, op_type, inputs, base=None, **attrs):
        out = self.name(base or op_type.lower())
        self.nodes.append({"op": op_type, "inputs": list(inputs), "outputs": [out],
                           "attrs": attrs})
        return out

    def rename_output(self, name):
        self.nodes[-1]["outputs"][0] = name

    def model(self, inputs, outputs, opset):
        """inputs, outputs: (name, shape) of float tensors."""
        from onnx import TensorProto, helper, numpy_helper
        nodes = [helper.make_node(n["op"], n["inputs"], n["outputs"], **n["attrs"])
                 for n in self.nodes]
        inits = [numpy_helper.from_array(a, k) for k, a in self.inits.items()]

        def info(specs):
            return [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s))
                    for n, s in specs]
        g = helper.make_graph(nodes, "synthetic", info(inputs), info(outputs), inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        return m

    def save_npz(self, path, inputs, outputs):
        graph = {"inputs": [n for n, _ in inputs], "outputs": [n for n, _ in outputs],
                 "nodes": self.nodes}
        np.savez(path, __graph__=np.array(json.dumps(graph)),
                 **{f"w:{k}": a for k, a in self.inits.items()})


def resnet50(seed=0, batch=1):
    g = Graph(seed)
    r = g.rng

    def conv(x, cin, cout, k, stride=1, relu=True, gain=1.0):
        std = gain * np.sqrt(2.0 / (cin * k * k))
        w = (r.standard_normal((cout, cin, k, k)) * std).astype(np.float32)
        b = (r.standard_normal(cout) * 0.05).astype(np.float32)
        y = g.op("Conv", [x, g.const(w), g.const(b, "b")], "conv", kernel_shape=[k, k],
                 strides=[stride, stride], pads=[k // 2] * 4)
        return g.op("Relu", [y]) if relu else y

    x = conv("x", 3, 64, 7, 2)
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, (blocks, width) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
        for b in range(blocks):
            stride = 2 if b == 0 and stage > 0 else 1
            y = conv(x, cin, width, 1)
            y = conv(y, width, width, 3, stride)
            y = conv(y, width, width * 4, 1, relu=False, gain=0.3)
            sc = conv(x, cin, width * 4, 1, stride, relu=False) if b == 0 else x
            x = g.op("Relu", [g.op("Add", [y, sc])])
            cin = width * 4
    x = g.op("GlobalAveragePool", [x])
    x = g.op("Flatten", [x], axis=1)
    w = (r.standard_normal((1000, 2048)) * np.sqrt(1.0 / 2048)).astype(np.float32)
    y = g.op("Gemm", [x, g.const(w), g.const(np.zeros(1000, np.float32), "b")], "logits",
             transB=1)
    g.rename_output("logits")
    return g, [("x", (batch, 3, 224, 224))], [("logits", (batch, 1000))], 13


def bert_base(seed=1, layers=12, hidden=768, heads=12, ff=3072, seq=128, batch=1):
    g = Graph(seed)
    r = g.rng
    dh = hidden // heads

    def linear(x, cin, cout, gain=1.0):
        w = (r.standard_normal((cin, cout)) * gain / np.sqrt(cin)).astype(np.float32)
        b = (r.standard_normal(cout) * 0.02).astype(np.float32)
        return g.op("Add", [g.op("MatMul", [x, g.const(w)]), g.const(b, "b")])

    def layernorm(x):
        gamma = (1 + 0.1 * r.standard_normal(hidden)).astype(np.float32)
        beta = (0.05 * r.standard_normal(hidden)).astype(np.float32)
        return g.op("LayerNormalization", [x, g.const(gamma, "gamma"), g.const(beta, "beta")],
                    axis=-1, epsilon=1e-12)

    split = g.const(np.array([batch, seq, heads, dh], np.int64), "shape")
    merge = g.const(np.array([batch, seq, hidden], np.int64), "shape")
    scale = g.const(np.array(1.0 / np.sqrt(dh), np.float32), "scale")
    half, one = g.const(np.array(0.5, np.float32)), g.const(np.array(1.0, np.float32))
    rsqrt2 = g.const(np.array(1 / np.sqrt(2), np.float32))
    x = "h"
    for _ in range(layers):
        def heads_of(t, perm):
            return g.op("Transpose", [g.op("Reshape", [t, split])], perm=perm)
        q = heads_of(linear(x, hidden, hidden), [0, 2, 1, 3])
        k = heads_of(linear(x, hidden, hidden), [0, 2, 3, 1])
        v = heads_of(linear(x, hidden, hidden), [0, 2, 1, 3])
        s = g.op("Mul", [g.op("MatMul", [q, k]), scale])
        p = g.op("Softmax", [s], axis=-1)
        c = g.op("Transpose", [g.op("MatMul", [p, v])], perm=[0, 2, 1, 3])
        c = g.op("Reshape", [c, merge])
        x = layernorm(g.op("Add", [linear(c, hidden, hidden, 0.5), x]))
        f = linear(x, hidden, ff)
        f = g.op("Mul", [g.op("Mul", [f, half]),
                         g.op("Add", [g.op("Erf", [g.op("Mul", [f, rsqrt2])]), one])])
        x = layernorm(g.op("Add", [linear(f, ff, hidden, 0.5), x]))
    g.rename_output("out")
    return g, [("h", (batch, seq, hidden))], [("out", (batch, seq, hidden))], 17


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--calib", type=int, default=8)
    ap.add_argument("--graph-npz", action="store_true")
    ap.add_argument("--batch", type=int, default=1,
                    help="write <name>_b<N>.onnx, the same models (same weights) "
                         "at batch N, instead")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    if a.batch != 1:
        import onnx
        for name, build in (("resnet50", resnet50), ("bert_base", bert_base)):
            g, inputs, outputs, opset = build(batch=a.batch)
            m = g.model(inputs, outputs, opset)
            onnx.checker.check_model(m)
            path = f"{a.outdir}/{name}_b{a.batch}.onnx"
            onnx.save(m, path)
            print(path)
        return
    if a.graph_npz:
        for name, build in (("resnet50", resnet50), ("bert_base", bert_base)):
            g, inputs, outputs, _ = build()
            g.save_npz(f"{a.outdir}/{name}.npz", inputs, outputs)
            print(f"{a.outdir}/{name}.npz")
        return
    rng = np.random.default_rng(7)
    for name, build, shape, inp in (("resnet50", resnet50, (1, 3, 224, 224), "x"),
                                    ("bert_base", bert_base, (1, 128, 768), "h")):
        path = f"{a.outdir}/{name}.onnx"
        if not os.path.exists(path):
            import onnx
            g, inputs, outputs, opset = build()
            m = g.model(inputs, outputs, opset)
            onnx.checker.check_model(m)
            onnx.save(m, path)
        d = f"{a.outdir}/calib/{name}"
        os.makedirs(d, exist_ok=True)
        for i in range(a.calib):
            np.save(f"{d}/sample_{i}.npy", rng.standard_normal(shape).astype(np.float32))
        np.save(f"{a.outdir}/{name}_input.npy", rng.standard_normal(shape).astype(np.float32))
        print(f"{path}: input {inp} {'x'.join(map(str, shape))}")


if __name__ == "__main__":
    main()
