#!/usr/bin/env bash
# Float latency of the real models, single-threaded, against ONNX Runtime
# 1.30 FP32 with one intra-op thread, measured in one run on this machine;
# writes docs/benchmarks-float.md (the command, the machine and the table).
#
#   bash bench/real-models.sh [BUILD_DIR] [REPEAT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
repeat=${2:-20}
table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$root/scripts/py" "$root/scripts/real-models-run.py" "$build/bin" --bench \
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
  echo "What the code generator does today (docs/codegen.md): f32 matmuls, batch matmuls"
  echo "and 1x1 / short-row / small convolutions (through im2col) register-tiled and"
  echo "vectorized by qc-linalg-vectorize (8x32 tiles of AVX-512 FMAs, the accumulator"
  echo "in registers); the other loops ordered so that the contiguous output dim is"
  echo "innermost and vectorized by LLVM; one malloc per intermediate tensor. No cache"
  echo "tiling, operand packing (ORT's MLAS uses NCHWc) or fusion of elementwise ops"
  echo "into their producers yet: that is where the larger ratios (the conv-heavy"
  echo "models with large planes) come from."
} > "$root/docs/benchmarks-float.md"
cat "$root/docs/benchmarks-float.md"
