#!/usr/bin/env bash
# The GPU runs of the cuda target, on a machine with an NVIDIA GPU and
# nothing else of ours (no LLVM, no MLIR, no network): run each model that
# bench/gpu/prepare.py built into DIR with the self-contained qc-runner and
# check its outputs against the references prepared with it (bit-exact for
# the int8 builds against the CPU int8 build; ONNX Runtime's within rtol
# 1e-3 for the float builds), timing each by CUDA events.
#
#   scripts/gpu-test.sh DIR [--repeat N] [--json FILE]
#
# Exit: 0 all pass, 1 a mismatch or a run error, 77 (ctest's skip) when the
# machine has no NVIDIA driver or GPU: skipped, never passed.
set -uo pipefail
dir=${1:?usage: gpu-test.sh DIR [--repeat N] [--json FILE]}
shift
repeat=20
json=
while [ $# -gt 0 ]; do
  case $1 in
  --repeat) repeat=$2; shift 2 ;;
  --json) json=$2; shift 2 ;;
  *) echo "gpu-test: unknown option $1" >&2; exit 2 ;;
  esac
done
runner=$dir/qc-runner
if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1' &&
   ! ls /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib64/libcuda.so.1 >/dev/null 2>&1; then
  echo "gpu-test: no NVIDIA driver (libcuda.so.1): skipped"
  exit 77
fi
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi
status=0
results=()
# Libraries too large to copy in one piece come split (NAME.part-aa, -ab,
# ...; possibly copied over several calls) or xz-compressed: reassemble.
unpack() {
  local d=$1 f base
  for f in "$d"/*.part-aa; do
    [ -e "$f" ] || continue
    base=${f%.part-aa}
    cat "$base".part-* > "$base.tmp" && mv "$base.tmp" "$base" && rm -f "$base".part-*
  done
  for f in "$d"/*.xz; do
    [ -e "$f" ] || continue
    python3 -c "import lzma, sys; open(sys.argv[1][:-3], 'wb').write(lzma.open(sys.argv[1]).read())" "$f" &&
      rm -f "$f"
  done
  # Timing builds come without inputs: random ones of inputs.json's shapes.
  if [ -f "$d/inputs.json" ] && ! ls "$d"/in0.npy >/dev/null 2>&1; then
    python3 - "$d" <<'PY'
import json, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(0)
for i, t in enumerate(json.load(open(f"{d}/inputs.json"))):
    a = rng.standard_normal(t["shape"]) if t["dtype"].startswith("float") else \
        rng.integers(t.get("low", 0), t.get("high", 100), t["shape"])
    np.save(f"{d}/in{i}.npy", a.astype(t["dtype"]))
PY
  fi
}
for d in "$dir"/*/; do
  [ -f "$d/check" ] || continue
  name=$(basename "$d")
  unpack "$d"
  lib=$(ls "$d"/lib*.so | head -1)
  args=()
  for f in $(ls "$d"/in*.npy | sort -V); do args+=(--input "$f"); done
  check=$(cat "$d/check")
  if [ "$check" = timing ]; then
    check=  # a timing-only build: no reference outputs
  else
    for f in $(ls "$d"/expect*.npy | sort -V); do args+=(--expect "$f"); done
  fi
  # shellcheck disable=SC2086
  out=$("$runner" "$lib" "${args[@]}" $check --repeat "$repeat" --json 2>&1)
  rc=$?
  if [ $rc -eq 2 ] && grep -q "no NVIDIA driver\|no CUDA device" <<<"$out"; then
    echo "gpu-test: $out: skipped"
    exit 77
  fi
  if [ $rc -eq 0 ]; then verdict=PASS; else verdict=FAIL; status=1; fi
  printf '%-28s %s  %s\n' "$name" "$verdict" "$out"
  if [ $rc -le 1 ]; then
    results+=("{\"model\": \"$name\", \"pass\": $([ $rc -eq 0 ] && echo true || echo false), \"run\": $out}")
  else
    msg=$(tr '"\n' "' " <<<"$out")
    results+=("{\"model\": \"$name\", \"pass\": false, \"error\": \"$msg\"}")
  fi
done
if [ -s "$dir/failed.txt" ]; then
  echo "did not compile for cuda:"
  sed 's/^/  /' "$dir/failed.txt"
fi
if [ -n "$json" ]; then
  (IFS=,; echo "[${results[*]}]") > "$json"
fi
exit $status
