"""Small character-level transformers for the quantization-quality study
(docs/quality.md): a GPT-style causal language model and a BERT-style masked
language model, both pre-LN, trained on the fortune cookies of Debian's
`fortunes` package (/usr/share/games/fortunes).

Plain PyTorch (runs on Debian's torch 1.13 and on recent releases); attention
is written out (MatMul, Softmax) so that the ONNX export is the graph real
exporters emit: LayerNormalization, MatMul + Add, Erf-GELU, Softmax.
"""
import glob
import math
import os

import numpy as np
import torch
import torch.nn as nn

FORTUNES = "/usr/share/games/fortunes"
SEQ = 128
# Printable ASCII plus newline; index 0 is [MASK] for the BERT-style model,
# the last index BOS, which starts every sequence (position 0 of the window).
CHARS = "\n" + "".join(chr(c) for c in range(32, 127))
VOCAB = len(CHARS) + 2
MASK = 0
BOS = VOCAB - 1


def corpus(path=FORTUNES):
    """The fortunes as one string of CHARS (other characters dropped), in file
    name order; and its split: the last 5% is held out."""
    text = []
    for f in sorted(glob.glob(os.path.join(path, "*"))):
        if f.endswith((".dat", ".u8")) or os.path.isdir(f) or os.path.islink(f):
            continue
        with open(f, encoding="latin-1") as h:
            text.append(h.read())
    allowed = set(CHARS)
    s = "".join(c for c in "".join(text) if c in allowed)
    ids = np.array([CHARS.index(c) + 1 for c in s], dtype=np.int64)
    cut = int(len(ids) * 0.95)
    return ids[:cut], ids[cut:]


def encode(s):
    return np.array([CHARS.index(c) + 1 for c in s if c in CHARS], dtype=np.int64)


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


def windows(ids, starts):
    """[B, SEQ + 1] windows: BOS, then SEQ characters from each start (the
    causal model reads [:, :-1] and predicts [:, 1:])."""
    seq = np.stack([ids[s:s + SEQ] for s in starts])
    return np.concatenate([np.full((len(starts), 1), BOS, np.int64), seq], axis=1)


def mlm_batch(ids, rng, rate=0.15):
    """BERT-style masking of a [B, S] int64 batch: `rate` of the positions,
    of which 80% become [MASK], 10% a random character, 10% stay. Returns the
    input and the boolean mask of positions to predict."""
    pick = rng.random(ids.shape) < rate
    pick[:, 0] = False
    r = rng.random(ids.shape)
    inp = ids.copy()
    inp[pick & (r < 0.8)] = MASK
    rand = pick & (r >= 0.8) & (r < 0.9)
    inp[rand] = rng.integers(1, VOCAB, size=int(rand.sum()))
    return inp, pick
