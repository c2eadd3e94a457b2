#!/usr/bin/python3
"""ONNX import conformance over libonnx-testdata (the ONNX backend test models).

Imports every model with quant-translate --import-onnx and reports, per op
type and in total, how many models import and verify. Writes a markdown
report; with --baseline FILE, fails when fewer models import than FILE says;
with --update-baseline, rewrites FILE with today's count.

Run with Debian's /usr/bin/python3 (it needs python3-onnx to list op types).
"""
import argparse
import collections
import concurrent.futures
import os
import re
import subprocess
import sys

import onnx

DATA = "/usr/share/libonnx-testdata/data"

# The ops the importer promises (the import issue's list): every node test
# made only of these should import; the report lists the ones that do not.
PROMISED = set("""
Conv ConvTranspose Gemm MatMul Add Sub Mul Div Pow Sqrt Exp Log Neg Abs Reciprocal Max Min Relu
LeakyRelu PRelu Clip Sigmoid HardSigmoid HardSwish Tanh Erf Gelu Softmax LogSoftmax
LayerNormalization BatchNormalization InstanceNormalization MaxPool AveragePool GlobalAveragePool
GlobalMaxPool ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL2 Reshape Transpose Flatten
Squeeze Unsqueeze Concat Split Slice Gather Expand Tile Pad Resize Shape Size Constant
ConstantOfShape Identity Dropout Cast Where Equal Less Greater GreaterOrEqual LessOrEqual Not And Or
Range If QuantizeLinear DequantizeLinear QLinearConv QLinearMatMul MatMulInteger ConvInteger
DynamicQuantizeLinear
""".split())
SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple", "real"]


def op_types(path):
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:  # noqa: BLE001 - a model onnx cannot read counts as unknown
        return ["<unreadable>"]
    ops = {(n.domain + "." if n.domain not in ("", "ai.onnx") else "") + n.op_type
           for n in model.graph.node}
    return sorted(ops) or ["<no nodes>"]


def first_error(stderr):
    for line in stderr.splitlines():
        if "error:" in line:
            msg = line.split("error:", 1)[1].strip()
            msg = re.sub(r"node '[^']*'", "node", msg)
            return msg
    return stderr.strip().splitlines()[0] if stderr.strip() else "failed"


INT_TYPES = {onnx.TensorProto.INT64, onnx.TensorProto.INT32}


def constant_input_flags(path):
    """--constant-input for every integer graph input, from the test's first
    data set: the values the backend test fixes (axes, split sizes, ...)."""
    model = onnx.load(path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    data = os.path.join(os.path.dirname(path), "test_data_set_0")
    flags = []
    for k, vi in enumerate(inputs):
        pb = os.path.join(data, f"input_{k}.pb")
        if vi.type.tensor_type.elem_type in INT_TYPES and os.path.exists(pb):
            flags += ["--constant-input", f"{vi.name}={pb}"]
    return flags


def run_once(tool, path, flags):
    try:
        p = subprocess.run([tool, "--import-onnx", path, "-o", os.devnull] + flags,
                           capture_output=True, text=True, errors="replace", timeout=60)
        ok = p.returncode == 0
        err = "" if ok else first_error(p.stderr)
        if p.returncode < 0:
            err = f"crashed with signal {-p.returncode}: {err}"
    except subprocess.TimeoutExpired:
        ok, err = False, "timed out after 60 s"
    return ok, err


def run(tool, path):
    """(path, ok, error, bound): a model whose import needs a constant where
    the test feeds a graph input is retried with that input bound."""
    ok, err = run_once(tool, path, [])
    if not ok and "must be a constant" in err:
        flags = constant_input_flags(path)
        if flags:
            ok2, err2 = run_once(tool, path, flags)
            if ok2:
                return path, True, "", True
            err = err2
    return path, ok, err, False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="path to quant-translate")
    ap.add_argument("--report", required=True, help="markdown report to write")
    ap.add_argument("--baseline", help="file holding the minimum import count")
    ap.add_argument("--update-baseline", action="store_true",
                    help="raise the baseline to today's count (never lowers it)")
    ap.add_argument("--lower-baseline", action="store_true",
                    help="with --update-baseline: allow lowering it")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    models = []
    for suite in SUITES:
        root = os.path.join(DATA, suite)
        if not os.path.isdir(root):
            continue
        for name in sorted(os.listdir(root)):
            path = os.path.join(root, name, "model.onnx")
            if os.path.exists(path):
                models.append((suite, name, path))
    if not models:
        sys.exit(f"no models under {DATA}: install libonnx-testdata")

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda m: run(args.tool, m[2]), models))
    results = {p: (ok, err) for p, ok, err, _ in runs}
    bound = sum(1 for _, _, _, b in runs if b)

    ops_of = {path: op_types(path) for _, _, path in models}
    per_suite = collections.defaultdict(lambda: [0, 0])
    per_op = collections.defaultdict(lambda: [0, 0])
    reasons = collections.Counter()
    crashes = []
    for suite, name, path in models:
        ok, err = results[path]
        per_suite[suite][0 if ok else 1] += 1
        for op in ops_of[path]:
            per_op[op][0 if ok else 1] += 1
        if not ok:
            reasons[err] += 1
            if err.startswith("crashed") or err.startswith("timed out"):
                crashes.append(f"{suite}/{name}: {err}")
    passed = sum(s[0] for s in per_suite.values())
    total = len(models)
    promised = [(name, results[path]) for suite, name, path in models
                if suite == "node" and set(ops_of[path]) <= PROMISED]
    promised_ok = sum(1 for _, (ok, _) in promised if ok)

    lines = [
        "# ONNX import conformance",
        "",
        "Generated by `scripts/conformance.py` (run by ctest as `onnx-import-conformance`;",
        "`ninja -C build update-conformance` rewrites this page and the baseline).",
        "Each of the ONNX backend test models of Debian's libonnx-testdata is imported with",
        "`quant-translate --import-onnx` and verified; numeric checks come with code generation.",
        "",
        f"**{passed} of {total} models import ({100.0 * passed / total:.1f}%).**",
        "",
        f"{bound} of them are node tests that feed a value the importer needs as a constant",
        "(Squeeze axes, Split sizes, ...) through a graph input; they import with that input",
        "bound to the test's own data by `--constant-input NAME=test_data_set_0/input_K.pb`.",
        "",
        "| suite | import | fail |",
        "| --- | ---: | ---: |",
    ]
    for suite in SUITES:
        if suite in per_suite:
            lines.append(f"| {suite} | {per_suite[suite][0]} | {per_suite[suite][1]} |")
    lines += ["", "## Node tests of the promised ops", "",
              f"{promised_ok} of {len(promised)} node tests made only of the ops the importer",
              "promises (the import issue's list) import. The exceptions:", "",
              "| node test | first error |", "| --- | --- |"]
    for name, (ok, err) in promised:
        if not ok:
            lines.append(f"| {name} | {err.replace('|', '/')} |")
    lines += ["", "## Per op type", "",
              "Models containing the op that import / fail (a model fails for its first",
              "unsupported node, so an op can be fine and still sit in failing models).", "",
              "| op | import | fail |", "| --- | ---: | ---: |"]
    for op in sorted(per_op):
        lines.append(f"| {op} | {per_op[op][0]} | {per_op[op][1]} |")
    lines += ["", "## Why models fail", "", "| models | first error |", "| ---: | --- |"]
    for err, count in reasons.most_common():
        lines.append(f"| {count} | {err.replace('|', '/')} |")
    with open(args.report, "w") as f:
        f.write("\n".join(lines) + "\n")

    print(f"onnx import conformance: {passed} of {total} models import; "
          f"{promised_ok} of {len(promised)} node tests of promised ops")
    status = 0
    if crashes:
        print("crashes or time-outs (must be diagnostics):\n  " + "\n  ".join(crashes))
        status = 1
    if args.baseline:
        baseline = 0
        if os.path.exists(args.baseline):
            with open(args.baseline) as f:
                baseline = int(f.read().split()[0])
        if args.update_baseline and (passed >= baseline or args.lower_baseline):
            with open(args.baseline, "w") as f:
                f.write(f"{passed}\n")
            print(f"baseline set to {passed}")
        else:
            if passed < baseline:
                print(f"FAIL: {passed} models import, below the baseline of {baseline}")
                status = 1
            else:
                print(f"baseline {baseline}: ok")
    sys.exit(status)


if __name__ == "__main__":
    main()
