#!/usr/bin/python3
"""ONNX conformance over libonnx-testdata (the ONNX backend test models).

Import: every model goes through quant-translate --import-onnx (and the
verifier). Numerics: every model is compiled and run by quant-run on its
test_data_set_0 inputs and compared with the set's expected outputs (rtol
1e-3, atol 1e-4 for floats, exact for integers and bools). Reports per op
type and in total; with --baseline / --numeric-baseline FILE, fails when
fewer models import / pass than FILE says; with --update-baseline, raises the
files to today's counts. The ops the importer registers come from
`quant-translate --list-ops --json`; the numeric verdict from `quant-run
--json` (its "expected" comparison).

Run with Debian's /usr/bin/python3 (it needs python3-onnx to list op types)
and PYTHONPATH=<repo>/python (the qcbench package).
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys

import onnx

from qcbench import tools

DATA = "/usr/share/libonnx-testdata/data"

# The ops the importer promises (the import issue's list, a specification
# rather than what the importer registers, which --list-ops says): every
# node test made only of these should import; the report lists the ones that
# do not.
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


def run_once(cmd, timeout):
    """(ok, first error line, stdout)."""
    out = ""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                           timeout=timeout)
        ok, out = p.returncode == 0, p.stdout
        err = "" if ok else first_error(p.stderr)
        if p.returncode < 0:
            err = f"crashed with signal {-p.returncode}: {err}"
    except subprocess.TimeoutExpired:
        ok, err = False, f"timed out after {timeout} s"
    return ok, err, out


def with_constants(cmd_of, path, timeout):
    """(ok, error, bound, stdout): a model whose import needs a constant where
    the test feeds a graph input is retried with that input bound to the
    test's value."""
    ok, err, out = run_once(cmd_of([]), timeout)
    if not ok and ("must be a constant" in err or "cannot be compiled" in err):
        flags = constant_input_flags(path)
        if flags:
            ok2, err2, out2 = run_once(cmd_of(flags), timeout)
            if ok2:
                return True, "", True, out2
            err, out = err2, out2
    return ok, err, False, out


# legacy (a quant-run without --json): its one-line reasons for a wrong
# result (rather than a model it cannot import or compile).
MISMATCH = re.compile(r"elements differ|has shape .* expected|expected file holds|rejected argument")


def wrong_values(stdout, err):
    """Whether a failed quant-run computed wrong values (rather than failing
    to import or compile): its JSON's "expected" comparison says so; without
    JSON, its error line."""
    try:
        expected = json.loads(stdout).get("expected")
    except ValueError:
        expected = None
    if expected:
        return any(not e["matches"] for e in expected)
    return bool(MISMATCH.search(err))


def registered_ops(tool):
    """op type (spelled as op_types spells it) -> "since-until" opset ranges
    the importer registers (`quant-translate --list-ops --json`); None for a
    quant-translate without --list-ops."""
    if not tools.supports(tool, "--list-ops"):
        return None
    ops = collections.defaultdict(list)
    for o in json.loads(tools.run([tool, "--list-ops", "--json"])):
        key = (o["domain"] + "." if o["domain"] not in ("", "ai.onnx") else "") + o["op_type"]
        ops[key].append(f"{o['since']}+" if o.get("until") is None
                        else f"{o['since']}-{o['until']}")
    return {k: ", ".join(v) for k, v in ops.items()}


def run(tool, runner, path):
    """(path, import ok, import error, bound, numeric status, numeric error);
    numeric status is pass, fail (wrong numbers) or unsupported."""
    ok, err, bound, _ = with_constants(
        lambda flags: [tool, "--import-onnx", path, "-o", os.devnull] + flags, path, 60)
    status, nerr = "unsupported", "not run"
    if runner:
        data = os.path.join(os.path.dirname(path), "test_data_set_0")
        json_flag = ["--json"] if tools.supports(runner, "--json") else []
        nok, nerr, _, out = with_constants(
            lambda flags: [runner, path, "--test-data", data, "--rtol", "1e-3",
                           "--atol", "1e-4"] + json_flag + flags, path, 120)
        if nok:
            status = "pass"
        elif wrong_values(out, nerr):
            status = "fail"
        elif nerr.startswith("crashed") or nerr.startswith("timed out"):
            status = "crash"
    return path, ok, err, bound, status, nerr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="path to quant-translate")
    ap.add_argument("--runner", help="path to quant-run: also check numerics")
    ap.add_argument("--numeric-baseline", help="file holding the minimum passing count")
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
        runs = list(pool.map(lambda m: run(args.tool, args.runner, m[2]), models))
    results = {r[0]: (r[1], r[2]) for r in runs}
    numeric = {r[0]: (r[4], r[5]) for r in runs}
    bound = sum(1 for r in runs if r[3])

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
        "# ONNX conformance",
        "",
        "Generated by `scripts/conformance.py` (run by ctest as `onnx-conformance`;",
        "`ninja -C build update-conformance` rewrites this page and the baselines in",
        "test/conformance/). Import first, then numerics (below).",
        "",
        "# Import conformance",
        "",
        "Each of the ONNX backend test models of Debian's libonnx-testdata is imported with",
        "`quant-translate --import-onnx` and verified.",
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
    registered = registered_ops(args.tool)
    if registered is not None:
        unregistered = sorted(PROMISED - set(registered))
        lines += ["", f"The importer registers {len(registered)} op types "
                  "(`quant-translate --list-ops`; their opset ranges are in the table below). "
                  + (f"Promised but not registered: {', '.join(unregistered)}." if unregistered
                     else "Every promised op is registered.")]
    lines += ["", "## Per op type", "",
              "Models containing the op that import / fail (a model fails for its first",
              "unsupported node, so an op can be fine and still sit in failing models)"
              + ("; the opsets the importer registers it for (`-`: not registered)."
                 if registered is not None else "."), ""]
    if registered is not None:
        lines += ["| op | import | fail | importer opsets |", "| --- | ---: | ---: | --- |"]
        for op in sorted(per_op):
            lines.append(f"| {op} | {per_op[op][0]} | {per_op[op][1]} | "
                         f"{registered.get(op, '-')} |")
    else:  # legacy: a quant-translate without --list-ops
        lines += ["| op | import | fail |", "| --- | ---: | ---: |"]
        for op in sorted(per_op):
            lines.append(f"| {op} | {per_op[op][0]} | {per_op[op][1]} |")
    lines += ["", "## Why models fail", "", "| models | first error |", "| ---: | --- |"]
    for err, count in reasons.most_common():
        lines.append(f"| {count} | {err.replace('|', '/')} |")
    npassed = 0
    if args.runner:
        npassed = numeric_section(lines, models, ops_of, numeric)
    with open(args.report, "w") as f:
        f.write("\n".join(lines) + "\n")

    print(f"onnx import conformance: {passed} of {total} models import; "
          f"{promised_ok} of {len(promised)} node tests of promised ops")
    status = 0
    if args.runner:
        nprom = [numeric[p][0] for s_, n, p in models
                 if s_ == "node" and set(ops_of[p]) <= PROMISED]
        print(f"onnx numeric conformance: {npassed} of {total} models pass "
              f"({100.0 * npassed / total:.1f}%); {nprom.count('pass')} of {len(nprom)} "
              "node tests of promised ops")
        crashes += [f"{s_}/{n}: {numeric[p][1]}" for s_, n, p in models
                    if numeric[p][0] == "crash"]
        status |= check_baseline(args.numeric_baseline, npassed, args, "models pass numerically")
    if crashes:
        print("crashes or time-outs (must be diagnostics):\n  " + "\n  ".join(crashes))
        status = 1
    status |= check_baseline(args.baseline, passed, args, "models import")
    sys.exit(status)


def check_baseline(path, count, args, what):
    """Compares `count` with the number in `path` (or raises it); 1 on a drop."""
    if not path:
        return 0
    baseline = 0
    if os.path.exists(path):
        with open(path) as f:
            baseline = int(f.read().split()[0])
    if args.update_baseline and (count >= baseline or args.lower_baseline):
        with open(path, "w") as f:
            f.write(f"{count}\n")
        print(f"{os.path.basename(path)}: set to {count}")
        return 0
    if count < baseline:
        print(f"FAIL: {count} {what}, below the baseline of {baseline} ({path})")
        return 1
    print(f"{os.path.basename(path)} {baseline}: ok ({count} {what})")
    return 0


def numeric_section(lines, models, ops_of, numeric):
    """Appends the numeric results to the report; returns the passing count."""
    total = len(models)
    count = collections.Counter(numeric[p][0] for _, _, p in models)
    per_suite = collections.defaultdict(collections.Counter)
    per_op = collections.defaultdict(collections.Counter)
    reasons = collections.Counter()
    for suite, name, path in models:
        st, err = numeric[path]
        per_suite[suite][st] += 1
        for op in ops_of[path]:
            per_op[op][st] += 1
        if st != "pass":
            reasons[(st, re.sub(r"'(?!qc\.)[^']*'", "'…'", err))] += 1
    promised = [(name, numeric[path]) for suite, name, path in models
                if suite == "node" and set(ops_of[path]) <= PROMISED]
    pok = sum(1 for _, (st, _) in promised if st == "pass")
    lines[:0] = []
    lines += [
        "", "# Numeric conformance", "",
        "Each model is compiled to native code and run by `quant-run MODEL --test-data",
        "test_data_set_0` (JIT through MLIR's ExecutionEngine, input shapes from the test's",
        "inputs); its outputs are compared with the set's expected outputs: rtol 1e-3 and",
        "atol 1e-4 for floats (numpy.allclose, NaN matches NaN), exact for integers and bools.",
        "",
        f"**{count['pass']} of {total} models pass ({100.0 * count['pass'] / total:.1f}%);** "
        f"{count['fail']} compute wrong values, {count['unsupported']} cannot be imported "
        "or compiled yet.",
        "",
        "| suite | pass | fail | unsupported |",
        "| --- | ---: | ---: | ---: |",
    ]
    for suite in SUITES:
        if suite in per_suite:
            c = per_suite[suite]
            lines.append(f"| {suite} | {c['pass']} | {c['fail']} | {c['unsupported'] + c['crash']} |")
    lines += ["", "## Numeric results of node tests of the promised ops", "",
              f"{pok} of {len(promised)} node tests made only of the import issue's ops pass.",
              "", "| node test | status | first error |", "| --- | --- | --- |"]
    for name, (st, err) in promised:
        if st != "pass":
            lines.append(f"| {name} | {st} | {err.replace('|', '/')} |")
    lines += ["", "## Numeric results per op type", "",
              "Models containing the op (a model is only as good as its worst op).", "",
              "| op | pass | fail | unsupported |", "| --- | ---: | ---: | ---: |"]
    for op in sorted(per_op):
        c = per_op[op]
        lines.append(f"| {op} | {c['pass']} | {c['fail']} | {c['unsupported'] + c['crash']} |")
    lines += ["", "## Why models do not pass", "", "| models | status | first error |",
              "| ---: | --- | --- |"]
    for (st, err), n in reasons.most_common():
        lines.append(f"| {n} | {st} | {err.replace('|', '/')} |")
    return count["pass"]


if __name__ == "__main__":
    main()
