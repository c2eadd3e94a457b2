#!/usr/bin/python3
"""A PyTorch fake-quantization model of the GPT or the BERT (bench/models/
transformers/{gpt,bert}.onnx loaded into model.py's CharTransformer),
independent of the compiler, to split the W8A8 error of the rotation recipe into its parts:
naive W8A8 (per-tensor u8 activations, minmax over the calibration windows),
per-token int8 activations, each linear input rotated by the same randomized
Hadamard matrix as quant-compile's (Paley's order-12 factor times
Walsh-Hadamard), with or without the LayerNorm's gamma and beta folded into
the readers, weights or activations alone, per-layer-type activations left
float, clipping, GPTQ and SmoothQuant before the rotation (per layer or one
factor for Q, K and V as quant-compile's; max or second-moment statistics),
asymmetric per-token scales, a scale (and zero point) per group of channels,
the rotation's signs picked per layer among N candidates by the calibration
windows' output error, and centering (the LayerNorm's beta or the calibration
mean subtracted before the rotation, added back through the bias). Prints, per
recipe, the mean KL divergence of the predictions from float's, the held-out
perplexity and the perplexity at the temperature that calibrates the float
model (T*), each with the share of naive W8A8's gap recovered.

    simulate.py DATA [EXPERIMENTS.py]

DATA: samples.py's output (calib/, eval/, eval-labels.npz); the model is the
BERT where eval-labels.npz marks masked positions, else the GPT (perplexity
of the next character, or of the masked characters).
EXPERIMENTS.py: report(name, cfg, seeds) calls run in this module (default:
the studies of docs/quality.md, GPT and BERT). Uses the GPU where PyTorch sees one (the
device machine: seconds), else the CPU (minutes per recipe).
"""
import copy
import glob
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper
from model import CharTransformer

HERE = os.path.dirname(os.path.abspath(__file__))
dev = 'cuda' if torch.cuda.is_available() else 'cpu'
DATA = sys.argv[1]
LABELS = np.load(f'{DATA}/eval-labels.npz')
BERT = 'masked' in LABELS
m = onnx.load(os.path.join(HERE, '..', 'models', 'transformers', 'bert.onnx' if BERT else 'gpt.onnx'))
inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
net = CharTransformer(not BERT); sd = net.state_dict()
names = [f'blocks.{b}.{l}' for b in range(4) for l in ['q','k','v','o','fc1','fc2']] + ['head']
order = []
for n in m.graph.node:
    if n.op_type == 'MatMul':
        for i in n.input:
            if i in inits and i not in order: order.append(i)
for nm, w in zip(names, order): sd[nm + '.weight'] = torch.tensor(inits[w].T.copy())
for k in sd:
    if k in inits: sd[k] = torch.tensor(inits[k])
sd['pos'] = torch.tensor(next(v for v in inits.values() if v.shape == tuple(sd['pos'].shape)))
net.load_state_dict(sd); net.eval(); net.to(dev)
stack = lambda split: np.stack([np.load(f) for f in sorted(glob.glob(f'{DATA}/{split}/*.npy'))])
EV = torch.tensor(stack('eval').reshape(-1, 128)).long().to(dev)
TG = torch.tensor(LABELS['targets'].reshape(-1, 128)).long().to(dev)
# the scored positions: each next character (GPT), the masked ones (BERT)
if BERT: PICK = torch.tensor(LABELS['masked'].reshape(-1, 128)).to(dev)
else: PICK = torch.ones_like(TG, dtype=torch.bool); PICK[:, -1] = False
TGS = (TG if BERT else TG.roll(-1, 1))[PICK]
CA = torch.tensor(stack('calib').reshape(-1, 128)).long().to(dev)
def logits(model, ids=EV):
    with torch.no_grad():
        return torch.cat([torch.log_softmax(model(ids[i:i+128]).double(), -1) for i in range(0, len(ids), 128)])
FLP = logits(net)
def ce(lp, T=1.0):
    x = torch.log_softmax(lp[PICK] / T, -1)
    return -x.gather(-1, TGS[:, None]).mean().item()
Ts = torch.linspace(1.0, 2.2, 121)
TSTAR = min(Ts.tolist(), key=lambda T: ce(FLP, T))
FPPL, FPPLT = math.exp(ce(FLP)), math.exp(ce(FLP, TSTAR))
print(f'float ppl {FPPL:.4f}, T* {TSTAR:.2f}: ppl {FPPLT:.4f}', flush=True)
def had(n):
    H = torch.ones(1, 1, dtype=torch.float64)
    while H.shape[0] < n: H = torch.cat([torch.cat([H, H], 1), torch.cat([H, -H], 1)], 0)
    return H
def paley(q):
    leg = [0] + [1 if pow(a, (q - 1) // 2, q) == 1 else -1 for a in range(1, q)]
    S = torch.zeros(q + 1, q + 1, dtype=torch.float64); S[0, 1:] = 1; S[1:, 0] = -1
    for i in range(q):
        for j in range(q): S[1 + i, 1 + j] = leg[(j - i) % q]
    return torch.eye(q + 1, dtype=torch.float64) + S
def rot(n, seed):
    g = torch.Generator().manual_seed(seed)
    p = n & -n; k = n // p
    if k > 1 and p >= 4: F = paley(4 * k - 1) / math.sqrt(4 * k); p //= 4
    else: F = torch.ones(1, 1, dtype=torch.float64)
    H = torch.kron(F, had(p) / math.sqrt(p))
    s = torch.randint(0, 2, (n,), generator=g).double() * 2 - 1
    return (s[:, None] * H).float().to(dev)
def qw(w, bits=8, clip=1.0):
    qm = 2 ** (bits - 1) - 1
    s = w.abs().amax(1, keepdim=True) * clip / qm
    return (w / s).round().clamp(-qm, qm) * s
def gptq(w, H, bits=8, damp=0.01):
    qm = 2 ** (bits - 1) - 1
    w = w.double().clone(); H = H.double().clone()
    s = w.abs().amax(1, keepdim=True) / qm
    dead = torch.diag(H) == 0; H[dead, dead] = 1; w[:, dead] = 0
    H += damp * torch.diag(H).mean() * torch.eye(len(H), device=H.device, dtype=H.dtype)
    Hi = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    Q = torch.zeros_like(w)
    for i in range(w.shape[1]):
        q = (w[:, i:i+1] / s).round().clamp(-qm, qm) * s
        Q[:, i:i+1] = q
        err = (w[:, i:i+1] - q) / Hi[i, i]
        w[:, i+1:] -= err @ Hi[i:i+1, i+1:]
    return Q.float()
def qa_tok(x, bits=8, clip=1.0):
    qm = 2 ** (bits - 1) - 1
    s = x.abs().amax(-1, keepdim=True).clamp_min(1e-12) * clip / qm
    return (x / s).round().clamp(-qm, qm) * s
def qa_asym(x):
    lo, hi = x.amin(-1, keepdim=True).clamp_max(0), x.amax(-1, keepdim=True).clamp_min(0)
    sc = ((hi - lo) / 255).clamp_min(1e-12); z = (-lo / sc).round()
    return ((x / sc).round() + z).clamp(0, 255).sub(z) * sc
def qa_static(x, lo, hi, bits=8):
    lo = min(lo, 0.0); hi = max(hi, 0.0)
    s = (hi - lo) / (2 ** bits - 1); z = round(-lo / s)
    return ((x / s).round() + z).clamp(0, 2 ** bits - 1).sub(z) * s
class QL(nn.Module):
    def __init__(self, lin, cfg, seed, name, stats):
        super().__init__()
        cfg = dict(cfg); cfg.update(cfg.get('per', {}).get(name, {}))
        self.cfg, self.name = cfg, name
        self.bb = lin.bias.data.clone(); w = lin.weight.data
        self.ln = None
        st = stats[name]
        if cfg.get('foldln') and name in LNOF:
            g, be = LNOF[name]
            self.ln = (g, be); self.bb = self.bb + w @ be; w = w * g[None, :]
        self.lo, self.hi = st['lo'], st['hi']
        # centering: what the readers' bias can absorb, subtracted before the
        # rotation (the LayerNorm's beta, or the calibration mean)
        self.mu = None
        if cfg.get('center') == 'beta' and name in LNOF: self.mu = LNOF[name][1]
        elif cfg.get('center') == 'mean': self.mu = st['X'].mean(0)
        if self.mu is not None: self.bb = self.bb + w @ self.mu
        self.sm = None
        if cfg.get('smooth') is not None and name.split('.')[-1] in cfg.get('smoothat', 'q k v o fc1 fc2 head').split():
            al = cfg['smooth']
            if cfg.get('qkvshared') and name.split('.')[-1] in 'qkv':  # one factor for Q, K, V
                wst = torch.cat([QKVW[name[:-1] + n] for n in 'qkv'])
            else: wst = w
            if cfg.get('smoothstat') == 'rms':  # second moments: what a rotation spreads
                amax = st['X'].pow(2).mean(0).sqrt().clamp_min(1e-5); wmax = wst.norm(dim=0).clamp_min(1e-5)
            else:
                amax = st['X'].abs().amax(0).clamp_min(1e-5); wmax = wst.abs().amax(0).clamp_min(1e-5)
            self.sm = (amax ** al / wmax ** (1 - al)).clamp_min(1e-5); w = w * self.sm[None, :]
        self.R = rot(w.shape[1], seed) if cfg.get('rot') else None
        if self.R is not None and cfg.get('search'):
            # the signs that quantize the calibration windows best: of
            # `search` candidates, the least output (or input) error
            X = st['X']
            if self.mu is not None: X = X - self.mu
            if self.sm is not None: X = X / self.sm
            ws = w
            if cfg.get('rotshare') and name.split('.')[-1] in 'qkv':
                seed = seed // 100 * 100 + int(name.split('.')[1]) * 6
                if self.sm is None: ws = torch.cat([QKVW[name[:-1] + n] for n in 'qkv'])
            best = None
            for c in range(cfg['search']):
                R = rot(w.shape[1], seed * 1000 + c)
                Xr = X @ R; d = self.aq(Xr) - Xr
                e = (d @ (ws @ R).T if cfg.get('searchobj', 'out') == 'out' else d).pow(2).sum().item()
                if best is None or e < best[0]: best = (e, R)
            self.R = best[1]
        if self.R is not None: w = w @ self.R
        if not cfg.get('wq', True): self.w = w
        elif cfg.get('gptq'):
            X = st['X']
            if self.ln is not None: X = (X - self.ln[1]) / self.ln[0]
            if self.mu is not None: X = X - self.mu
            if self.sm is not None: X = X / self.sm
            if self.R is not None: X = X @ self.R
            self.w = gptq(w, X.T.double() @ X.double(), cfg.get('wb', 8))
        else: self.w = qw(w, cfg.get('wb', 8), cfg.get('wclip', 1.0))
    def forward(self, x):
        if self.ln is not None: x = (x - self.ln[1]) / self.ln[0]
        if self.mu is not None: x = x - self.mu
        if self.sm is not None: x = x / self.sm
        if self.R is not None: x = x @ self.R
        return self.aq(x) @ self.w.T + self.bb
    def aq(self, x):
        a = self.cfg.get('aq', 'token')
        if a == 'token': x = qa_tok(x, 8, self.cfg.get('aclip', 1.0))
        elif a == 'token_asym': x = qa_asym(x)
        elif a == 'group':
            g = self.cfg.get('group', 32)
            x = qa_tok(x.unflatten(-1, (-1, g))).flatten(-2)
        elif a == 'group_asym':
            g = self.cfg.get('group', 32)
            x = qa_asym(x.unflatten(-1, (-1, g))).flatten(-2)
        elif a == 'static': x = qa_static(x, self.lo, self.hi)
        return x
# calibration: each linear input's range and samples (float model)
STATS = {}
def calibrate():
    hooks = []
    for blk_i, blk in enumerate(net.blocks):
        for n in ['q','k','v','o','fc1','fc2']:
            hooks.append((f'blocks.{blk_i}.{n}', getattr(blk, n)))
    hooks.append(('head', net.head))
    acc = {n: [] for n, _ in hooks}
    hs = [mod.register_forward_hook(lambda mm, i, o, n=n: acc[n].append(i[0].detach().flatten(0, 1))) for n, mod in hooks]
    with torch.no_grad(): net(CA)
    for h in hs: h.remove()
    for n, xs in acc.items():
        X = torch.cat(xs); STATS[n.split('.')[-1] if False else n] = {'lo': X.min().item(), 'hi': X.max().item(), 'X': X}
calibrate()
LNOF = {}
for b, blk in enumerate(net.blocks):
    for n in ['q', 'k', 'v']: LNOF[f'blocks.{b}.{n}'] = (blk.ln1.weight.data, blk.ln1.bias.data)
    LNOF[f'blocks.{b}.fc1'] = (blk.ln2.weight.data, blk.ln2.bias.data)
LNOF['head'] = (net.ln.weight.data, net.ln.bias.data)
print('ln gammas: ' + ' '.join(f'{n}: {g.abs().min():.3f}..{g.abs().max():.3f}' for n, (g, _) in LNOF.items() if n.endswith(('.q', 'head'))), flush=True)
QKVW = {f'blocks.{b}.{n}': getattr(blk, n).weight.data for b, blk in enumerate(net.blocks) for n in 'qkv'}
def build(cfg, seed=0):
    q = copy.deepcopy(net); i = 0
    for b, blk in enumerate(q.blocks):
        for n in ['q','k','v','o','fc1','fc2']:
            full = f'blocks.{b}.{n}'
            c = dict(cfg)
            if n in cfg.get('float', ()) or full in cfg.get('float', ()): c['aq'] = None
            if n in cfg.get('wfloat', ()): c['wq'] = False
            setattr(blk, n, QL(getattr(blk, n), c, seed * 100 + i, full, STATS)); i += 1
    c = dict(cfg)
    if 'head' in cfg.get('float', ()): c['aq'] = None
    if 'head' in cfg.get('wfloat', ()): c['wq'] = False
    q.head = QL(q.head, c, seed * 100 + i, 'head', STATS)
    return q
NAIVE = None  # the first report's (KL, perplexity, perplexity at T*)
def report(name, cfg, seeds=(0,)):
    global NAIVE
    out = []
    for s in seeds:
        lp = logits(build(cfg, s))
        kl = (FLP.exp() * (FLP - lp)).sum(-1)[PICK].mean().item()
        p, pt = math.exp(ce(lp)), math.exp(ce(lp, TSTAR))
        out.append((kl, p, pt))
    kl, p, pt = [float(np.mean([o[i] for o in out])) for i in range(3)]
    if NAIVE is None: NAIVE = (kl, p, pt)
    g = lambda v, i, f: 100 * (NAIVE[i] - v) / (NAIVE[i] - f)
    per = ' '.join(f'{100*(NAIVE[0]-o[0])/NAIVE[0]:.0f}' for o in out)
    print(f'{name:45s} KL {kl:.3e} ({g(kl,0,0):.0f}%; {per})  ppl {p:.4f} ({g(p,1,FPPL):.0f}%)  ppl@T* {pt:.4f} ({g(pt,2,FPPLT):.0f}%)', flush=True)
S5 = (0, 1, 2, 3, 4)

STUDY_BERT = """
S = tuple(range(8))
report('naive W8A8 (static per-tensor)', {'aq': 'static'})
report('per-token, no rotation', {})
report('each input rotated, per-token', {'rot': 1}, S)
report('  weights only', {'rot': 1, 'aq': None}, S)
report('  GPTQ', {'rot': 1, 'gptq': 1}, S)
for f in ['q,k,v', 'o', 'fc1', 'fc2', 'head']:
    report(f'  activations float at {f}', {'rot': 1, 'float': tuple(f.split(','))}, S)
for b in range(4):
    report(f'  activations float at blocks.{b} q,k,v', {'rot': 1, 'float': tuple(f'blocks.{b}.{n}' for n in 'qkv')}, S)
report('  GPTQ, activations float at q,k of blocks 0-1', {'rot': 1, 'gptq': 1, 'float': ('blocks.0.q', 'blocks.0.k', 'blocks.1.q', 'blocks.1.k')}, S)
report('  activations clipped to 0.99', {'rot': 1, 'aclip': 0.99}, S)
report('  SmoothQuant 0.5 first, a factor per layer', {'rot': 1, 'smooth': 0.5}, S)
report('  SmoothQuant 0.5 first, one for Q, K, V', {'rot': 1, 'smooth': 0.5, 'qkvshared': 1}, S)
report('  SmoothQuant 0.5 (second moments) first, one for Q, K, V', {'rot': 1, 'smooth': 0.5, 'smoothstat': 'rms', 'qkvshared': 1}, S)
report('  asymmetric per-token scales', {'rot': 1, 'aq': 'token_asym'}, S)
report('  asymmetric per-token scales, GPTQ', {'rot': 1, 'aq': 'token_asym', 'gptq': 1}, S)
for g in (96, 64, 32, 16):
    report(f'  a scale per {g} channels', {'rot': 1, 'aq': 'group', 'group': g}, S)
    report(f'  a scale per {g} channels, GPTQ', {'rot': 1, 'aq': 'group', 'group': g, 'gptq': 1}, S)
for n in (16, 64):
    report(f'  signs: best of {n} by calibration output error', {'rot': 1, 'search': n}, S)
    report(f'  signs: best of {n}, GPTQ', {'rot': 1, 'search': n, 'gptq': 1}, S)
report('  signs: best of 16, one for Q, K, V, a scale per 32 channels, GPTQ', {'rot': 1, 'search': 16, 'rotshare': 1, 'aq': 'group', 'group': 32, 'gptq': 1}, S)
for c in ('beta', 'mean'):
    report(f'  centered ({c}), a scale per 32 channels, GPTQ', {'rot': 1, 'center': c, 'aq': 'group', 'group': 32, 'gptq': 1}, S)
    report(f'  centered ({c}), a scale per 16 channels, GPTQ', {'rot': 1, 'center': c, 'aq': 'group', 'group': 16, 'gptq': 1}, S)
report('  a scale and zero point per 32 channels', {'rot': 1, 'aq': 'group_asym', 'group': 32}, S)
for g in (64, 32, 16):
    report(f'  a scale and zero point per {g} channels, GPTQ', {'rot': 1, 'aq': 'group_asym', 'group': g, 'gptq': 1}, S)
report('(no rotation) a scale and zero point per token, GPTQ', {'aq': 'token_asym', 'gptq': 1}, S)
report('(no rotation) a scale per 32 channels, GPTQ', {'aq': 'group', 'group': 32, 'gptq': 1}, S)
report('(no rotation) a scale per 16 channels, GPTQ', {'aq': 'group', 'group': 16, 'gptq': 1}, S)
for g in (32, 16):
    report(f'(no rotation) a scale and zero point per {g} channels, GPTQ', {'aq': 'group_asym', 'group': g, 'gptq': 1}, S)
"""

STUDY = """
report('naive W8A8 (static per-tensor)', {'aq': 'static'})
report('per-token, no rotation', {})
report('each input rotated, per-token', {'rot': 1}, S5)
report('  weights only', {'rot': 1, 'aq': None}, S5)
report('  activations only', {'rot': 1, 'wq': False}, S5)
report('  LayerNorm gamma, beta folded into the readers', {'rot': 1, 'foldln': 1}, S5)
report('    weights only', {'rot': 1, 'foldln': 1, 'aq': None}, S5)
report('    activations only', {'rot': 1, 'foldln': 1, 'wq': False}, S5)
for f in ['q,k,v', 'o', 'fc1', 'fc2', 'head']:
    report(f'  activations float at {f}', {'rot': 1, 'float': tuple(f.split(','))}, S5)
for c in [0.98, 0.95, 0.9]:
    report(f'  activations clipped to {c} of max', {'rot': 1, 'aclip': c}, S5)
for c in [0.98, 0.95]:
    report(f'  weights clipped to {c} of max', {'rot': 1, 'wclip': c}, S5)
report('  GPTQ', {'rot': 1, 'gptq': 1}, S5)
report('  SmoothQuant 0.5 first', {'rot': 1, 'smooth': 0.5}, S5)
report('  SmoothQuant 0.5 first, GPTQ', {'rot': 1, 'smooth': 0.5, 'gptq': 1}, S5)
report('  a scale and zero point per token, GPTQ', {'rot': 1, 'aq': 'token_asym', 'gptq': 1}, S5)
report('  a scale per 32 channels, GPTQ', {'rot': 1, 'aq': 'group', 'group': 32, 'gptq': 1}, S5)
for g in (32, 16):
    report(f'  a scale and zero point per {g} channels, GPTQ', {'rot': 1, 'aq': 'group_asym', 'group': g, 'gptq': 1}, S5)
report('(no rotation) a scale and zero point per 32 channels, GPTQ', {'aq': 'group_asym', 'group': 32, 'gptq': 1}, S5)
"""
exec(open(sys.argv[2]).read() if len(sys.argv) > 2 else STUDY_BERT if BERT else STUDY)
