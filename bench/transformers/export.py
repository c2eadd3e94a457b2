#!/usr/bin/python3
"""Exports the trained state dicts of train.py to ONNX with Debian's torch
(1.13; the legacy TorchScript exporter):

  gpt.onnx   causal LM, opset 17 (LayerNormalization ops)
  bert.onnx  masked LM, opset 14 (LayerNorm decomposed into ReduceMean, Sub,
             Pow, Sqrt, Div, Mul, Add, as exporters for older opsets emit)

Both take ids [BATCH, 128] int64 (BOS first) and return logits
[BATCH, 128, VOCAB].

    export.py STATE_DIR OUT_DIR
"""
import os
import sys

import torch

from model import SEQ, CharTransformer

BATCH = 4


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, causal, opset in (("gpt", True, 17), ("bert", False, 14)):
        model = CharTransformer(causal)
        model.load_state_dict(torch.load(os.path.join(src, f"{name}.pt")))
        model.eval()
        ids = torch.zeros(BATCH, SEQ, dtype=torch.int64)
        torch.onnx.export(model, (ids,), os.path.join(out, f"{name}.onnx"),
                          input_names=["ids"], output_names=["logits"],
                          opset_version=opset, do_constant_folding=True)
        print(f"wrote {name}.onnx (opset {opset})")


if __name__ == "__main__":
    main()
