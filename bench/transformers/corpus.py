"""The fortunes corpus of the quantization-quality transformers (model.py),
without torch: the character set, the train/held-out split, windows and
BERT-style masking (samples.py needs only these and numpy).
"""
import glob
import os

import numpy as np

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
