#!/usr/bin/env bash
# Float latency of the real models, single-threaded, against ONNX Runtime
# 1.30 FP32 with one intra-op thread, measured in one run on this machine;
# writes docs/benchmarks.md (the command, the machine and the table).
#
#   bash bench/real-models.sh [BUILD_DIR] [REPEAT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
repeat=${2:-20}
table=$(mktemp)
trap 'rm -f "$table"' EXIT
/usr/bin/python3 "$root/scripts/real-models-run.py" "$build/bin" --bench \
  --repeat "$repeat" --report "$table"
{
  echo "# Benchmarks"
  echo
  echo "Float (FP32) latency of the real models of \`scripts/real-models.sh\`, compiled by"
  echo "\`quant-compile\` (host CPU, \`-mcpu native\`) and run through the shared library by"
  echo "\`quant-run --repeat $repeat --threads 1\`, against ONNX Runtime run by \`scripts/ort-run.js\`"
  echo "on the same inputs in the same run. Produced by:"
  echo
  echo '```sh'
  echo "bash bench/real-models.sh build $repeat"
  echo '```'
  echo
  echo "Generated $(date -u +%Y-%m-%d). Ratio = our median / ORT's median (below 1: we are faster)."
  echo
  cat "$table"
  echo
  echo "What the code generator does today (docs/codegen.md): loops ordered so that the"
  echo "contiguous output dim is innermost and vectorized by LLVM (AVX-512 on this host),"
  echo "short-row and 1x1 convolutions through im2col, one malloc per intermediate tensor."
  echo "No cache tiling, register blocking, layout packing (ORT's MLAS uses NCHWc) or"
  echo "fusion of elementwise ops into their producers yet: that is where the larger"
  echo "ratios (the conv-heavy models) come from."
} > "$root/docs/benchmarks.md"
cat "$root/docs/benchmarks.md"
