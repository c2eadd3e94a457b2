#!/usr/bin/env bash
# ctest's GPU test: on a machine with the NVIDIA driver and a GPU, builds the
# quick model set for the cuda target (bench/gpu/prepare.py: PP-OCR cls and
# two wake-word models, float against ONNX Runtime and int8 bit-exact
# against the CPU int8 build) and runs it (scripts/gpu-test.sh). Without a
# driver or GPU it exits 77: ctest reports the test skipped, never passed.
# (On the lent GPU machine, which has no LLVM, the models are built here and
# gpu-test.sh runs there: see docs/benchmarks-gpu.md.)
#
#   scripts/gpu-check.sh BINDIR WORKDIR
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${1:?usage: gpu-check.sh BINDIR WORKDIR}
work=${2:?usage: gpu-check.sh BINDIR WORKDIR}
if ! /usr/bin/python3 -c "import ctypes; ctypes.CDLL('libcuda.so.1')" 2>/dev/null; then
  echo "gpu-check: no NVIDIA driver (libcuda.so.1): skipped"
  exit 77
fi
rm -rf "$work"
"$root/scripts/py" "$root/bench/gpu/prepare.py" "$bindir" "$work" \
  --only ppocr_mobile_v2_cls,alexa_v0.1,hey_jarvis_v0.1 || exit 1
exec bash "$root/scripts/gpu-test.sh" "$work" --repeat 5
