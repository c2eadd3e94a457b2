#!/usr/bin/env bash
# The benchmarks, one command on a fresh clone (after scripts/install-deps.sh):
# builds the compiler, installs ONNX Runtime (npm), fetches the real models,
# generates the synthetic ResNet-50 / BERT-base, then
#   - bench/compare.py: our float and int8 builds against ONNX Runtime FP32 and
#     int8 at 1 and 2 threads -> docs/benchmarks.md (its generated part) and
#     docs/benchmarks.svg;
#   - bench/gemm/gemm_int8.py: int8 GEMM GOPS against the measured VNNI peak
#     -> docs/gemm-int8.md.
#
#   bash bench/run.sh [--repeat N] [--models cls,embedding,head,resnet50,bert,rec,det] [--work DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
repeat=30
models=cls,embedding,head,resnet50,bert,rec,det
work=/tmp/qc-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "bench/run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
bash "$root/scripts/build.sh"
"$root/scripts/py" "$root/bench/compare.py" "$root/build/bin" --work "$work" \
  --repeat "$repeat" --models "$models" --report "$root/docs/benchmarks.md"
"$root/scripts/py" "$root/bench/gemm/gemm_int8.py" "$root/build/bin" --work "$work/gemm" \
  --report "$root/docs/gemm-int8.md"
