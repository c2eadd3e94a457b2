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
  echo "What the code generator does today (docs/codegen.md, docs/kernels.md): 2-d group-1 and"
  echo "depthwise float convolutions with constant weights and matmuls in the AVX-512 float"
  echo "kernels (6x64 FMA tiles, weights packed at compile time), upsampling ConvTransposes as 1x1"
  echo "convolutions (decompose-conv-transpose); other contractions register-tiled and"
  echo "vectorized by qc-linalg-vectorize; elementwise chains fused and vectorized by LLVM;"
  echo "one malloc per intermediate tensor. Activations stay NCHW and every convolution"
  echo "packs its input (ORT's MLAS keeps NCHWc blocks between layers), and"
  echo "BatchNormalization is folded only by the quantization pipeline: that is where the"
  echo "remaining ratios above 1 come from."
} > "$root/docs/benchmarks-float.md"
cat "$root/docs/benchmarks-float.md"
