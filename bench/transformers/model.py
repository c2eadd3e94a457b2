"""Small character-level transformers for the quantization-quality study
(docs/quality.md): a GPT-style causal language model and a BERT-style masked
language model, both pre-LN, trained on the fortune cookies of Debian's
`fortunes` package (/usr/share/games/fortunes).

Plain PyTorch (runs on Debian's torch 1.13 and on recent releases); attention
is written out (MatMul, Softmax) so that the ONNX export is the graph real
exporters emit: LayerNormalization, MatMul + Add, Erf-GELU, Softmax.
"""
import math

import torch
import torch.nn as nn

from corpus import SEQ, VOCAB


class Block(nn.Module):
    def __init__(self, d, heads, causal):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.ln1 = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)
        if causal:
            mask = torch.full((SEQ, SEQ), -1e4).triu(1)
            self.register_buffer("mask", mask)

    def forward(self, x):
        b, s, d = x.shape
        h = self.ln1(x)
        split = lambda t: t.reshape(b, s, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        att = q @ k.transpose(2, 3) * (1.0 / math.sqrt(d // self.heads))
        if self.causal:
            att = att + self.mask[:s, :s]
        y = torch.softmax(att, dim=-1) @ v
        x = x + self.o(y.transpose(1, 2).reshape(b, s, d))
        h = self.ln2(x)
        return x + self.fc2(nn.functional.gelu(self.fc1(h)))


class CharTransformer(nn.Module):
    def __init__(self, causal, d=192, heads=6, layers=4):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, d)
        self.pos = nn.Parameter(torch.zeros(1, SEQ, d))
        self.blocks = nn.ModuleList(Block(d, heads, causal) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, VOCAB)

    def forward(self, ids):
        x = self.tok(ids) + self.pos[:, : ids.shape[1]]
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x))
