#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-22 with ASan + UBSan, into
# $FUZZ_BUILD_DIR, default build-fuzz/) and runs each for a bounded time on
# seed corpora from libonnx-testdata and test/:
#
#   scripts/fuzz.sh [--seconds S] [--runs N] [--only onnx,mlir,tensors,json]
#
# Defaults: 60 s a target. Findings (crash-*, leak-*, oom-*, timeout-*) land
# in $FUZZ_BUILD_DIR/findings/<target>/ and make the exit non-zero; the last
# line of each target's log (libFuzzer's "Done N runs") is its execution count.
# docs/robustness.md records the campaigns.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=60 runs=-1 only=onnx,mlir,tensors,json
while [ $# -gt 0 ]; do
  case $1 in
  --seconds) seconds=$2; shift 2 ;;
  --runs) runs=$2; shift 2 ;;
  --only) only=$2; shift 2 ;;
  *) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DQC_FUZZ=ON
fi
targets=()
for t in ${only//,/ }; do targets+=("qc-fuzz-$t"); done
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

# Seed corpora (made once).
seeds=$build/seeds
if [ ! -d "$seeds/onnx" ]; then
  mkdir -p "$seeds"/{onnx,mlir,tensors,json}
  find /usr/share/libonnx-testdata/data -name model.onnx | sort | while read -r m; do
    cp "$m" "$seeds/onnx/$(echo "$m" | md5sum | cut -c1-16).onnx"
  done
  # Every .mlir test case (split at its "// -----" separators).
  /usr/bin/python3 - "$root" "$seeds" <<'PY'
import glob, hashlib, os, sys
import numpy as np
root, seeds = sys.argv[1], sys.argv[2]
for f in glob.glob(os.path.join(root, "test", "**", "*.mlir"), recursive=True):
    for case in open(f, errors="replace").read().split("// -----"):
        h = hashlib.md5(case.encode()).hexdigest()[:16]
        open(os.path.join(seeds, "mlir", h + ".mlir"), "w").write(case)
rng = np.random.default_rng(0)
for i, (dt, shape) in enumerate([("<f4", (2, 3)), ("|u1", (4,)), ("<i8", (1, 2, 2)),
                                 ("<f2", (3,)), ("|i1", ())]):
    a = rng.standard_normal(shape).astype(dt)
    np.save(os.path.join(seeds, "tensors", "a%d.npy" % i), a)
    data = open(os.path.join(seeds, "tensors", "a%d.npy" % i), "rb").read()
    open(os.path.join(seeds, "tensors", "a%d.npy" % i), "wb").write(b"\0" + data)
    np.savez_compressed(os.path.join(seeds, "tensors", "z%d.npz" % i), x=a, y=a)
    data = open(os.path.join(seeds, "tensors", "z%d.npz" % i), "rb").read()
    os.remove(os.path.join(seeds, "tensors", "z%d.npz" % i))
    open(os.path.join(seeds, "tensors", "z%d.bin" % i), "wb").write(b"\1" + data)
# ONNX TensorProtos: the backend tests' inputs and outputs (first byte 2).
pbs = sorted(glob.glob("/usr/share/libonnx-testdata/data/node/*/test_data_set_0/*.pb"))
for f in pbs[::8]:
    data = open(f, "rb").read()
    if len(data) <= 65536:
        h = hashlib.md5(f.encode()).hexdigest()[:16]
        open(os.path.join(seeds, "tensors", "p%s.bin" % h), "wb").write(b"\2" + data)
# Calibration statistics as quant-compile --save-calibration writes them
# (histograms of 160 bins; one tensor per channel axis), and the
# sensitivity tables of test/.
import json
hist = [float(x) for x in rng.integers(0, 50, 160)]
json.dump({"format": "qc-calibration-1", "tensors": {
    "x": {"min": -1.5, "max": 2.0, "count": 4000, "hist": hist, "abs_hist": hist[::-1],
          "channel_axis": -1, "channel_mean": [], "channel_abs_max": []},
    "h": {"min": 0.0, "max": 6.0, "count": 10, "hist": hist, "abs_hist": hist,
          "channel_axis": 1, "channel_mean": [0.5, 1.0], "channel_abs_max": [2.0, 6.0]}}},
    open(os.path.join(seeds, "json", "stats.json"), "w"))
for f in glob.glob(os.path.join(root, "test", "**", "*.json"), recursive=True):
    h = hashlib.md5(f.encode()).hexdigest()[:16]
    open(os.path.join(seeds, "json", h + ".json"), "w").write(open(f).read())
PY
fi

status=0
for t in ${only//,/ }; do
  corpus=$build/corpus/$t findings=$build/findings/$t
  mkdir -p "$corpus" "$findings"
  log=$build/fuzz-$t.log
  echo "fuzz.sh: qc-fuzz-$t for ${seconds}s (runs $runs), log $log"
  # Inputs over 1 MiB, 4 GiB of memory or 10 s an input are findings too.
  # allow_user_poisoning=0: LLVM's headers, compiled here with ASan, poison
  # the BumpPtrAllocator slabs that libMLIR.so (built without it) fills.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:allow_user_poisoning=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/bin/qc-fuzz-$t" "$corpus" "$seeds/$t" -max_total_time="$seconds" \
      -runs="$runs" -max_len=1048576 -rss_limit_mb=4096 -timeout=10 \
      -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1 || status=1
  grep -E "^Done|stat::number_of_executed_units" "$log" | tail -2 || true
  if ls "$findings" | grep -q .; then
    echo "fuzz.sh: qc-fuzz-$t FOUND: $(ls "$findings" | tr '\n' ' ')"
    status=1
  fi
done
exit $status
