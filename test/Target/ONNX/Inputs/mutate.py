#!/usr/bin/python3
"""Imports deterministic byte-level mutations of a model (flipped bytes,
truncations, overwritten words) and fails if any run ends other than with
success or a diagnostic and exit code 1: never an abort or a signal.

    mutate.py QUANT_TRANSLATE MODEL COUNT
"""
import random
import subprocess
import sys
import tempfile

tool, src, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
rng = random.Random(1234)
outcomes = {"imported": 0, "diagnosed": 0}
with tempfile.NamedTemporaryFile(suffix=".onnx") as f:
    for i in range(count):
        d = bytearray(data)
        if i % 3 == 0:
            for _ in range(rng.randint(1, 8)):
                d[rng.randrange(len(d))] = rng.randrange(256)
        elif i % 3 == 1:
            d = d[: rng.randrange(len(d))]
        else:
            p = rng.randrange(len(d))
            d[p:p + 4] = bytes(rng.randrange(256) for _ in range(4))
        f.seek(0)
        f.truncate()
        f.write(d)
        f.flush()
        p = subprocess.run([tool, "--import-onnx", f.name, "-o", "/dev/null"],
                           capture_output=True, text=True, errors="replace", timeout=60)
        if p.returncode == 0:
            outcomes["imported"] += 1
        elif p.returncode == 1 and "error:" in p.stderr:
            outcomes["diagnosed"] += 1
        else:
            sys.exit(f"mutation {i}: exit code {p.returncode}\n{p.stderr[-2000:]}")
print(f"{count} mutations: {outcomes['imported']} imported, "
      f"{outcomes['diagnosed']} diagnosed, 0 crashed")
