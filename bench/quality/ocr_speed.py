#!/usr/bin/env python3
"""Single-threaded latency of compiled OCR libraries (quant-run --repeat),
side by side: the builds of ocr_eval.py (float, int8, W8A16, mixed).

  ocr_speed.py BINDIR --input x=FILE.npy NAME=LIB.so ... [--repeat 10] [--json F]

Prints median / min milliseconds per run and each build's ratio to the
first one; the JSON keeps the raw timings with the machine's CPU model.
"""
import argparse
import json
import platform
import subprocess


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("libs", nargs="+", help="NAME=LIB.so")
    ap.add_argument("--input", required=True, help="NAME=FILE.npy")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    for spec in a.libs:
        name, lib = spec.split("=", 1)
        r = subprocess.run([f"{a.bindir}/quant-run", lib, "-i", a.input, "--repeat", str(a.repeat),
                            "--warmup", str(a.warmup), "--num-threads", "1", "--json"],
                           capture_output=True, text=True, check=True)
        t = json.loads(r.stdout)["timing"]
        rows.append({"build": name, "lib": lib, **t})
    base = rows[0]["median_ms"]
    print(f"{'build':<28} {'median ms':>10} {'min ms':>10} {'vs ' + rows[0]['build']:>12}")
    for r in rows:
        print(f"{r['build']:<28} {r['median_ms']:>10.2f} {r['min_ms']:>10.2f} {r['median_ms'] / base:>11.2f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cpu": cpu_model(), "threads": 1, "repeat": a.repeat, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
