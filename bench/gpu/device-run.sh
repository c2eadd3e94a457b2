#!/usr/bin/env bash
# On the GPU machine (no LLVM, no network): everything docs/benchmarks-gpu.md
# reports, measured in one run, each result as JSON under OUT.
#
#   bench/gpu/device-run.sh DIR OUT [--repeat N]
#
# DIR holds what was built on the development machine:
#   DIR/models/  bench/gpu/prepare.py's model builds (checked and timed by
#                scripts/gpu-test.sh: int8 bit-exact against the CPU int8
#                build, float against ONNX Runtime)
#   DIR/gemm/    bench/gpu/make-gemm.py's GEMM libraries (same check, timed)
#   DIR/refs/    resnet50_in.npy, resnet50_ort.npy, bert_base_in.npy,
#                bert_base_ort.npy: an input and ONNX Runtime's output of the
#                synthetic models, which bench/gpu/torch_peer.py checks its
#                PyTorch rendition of them against
# PyTorch's peers (torch._int_mm, FP16/FP32 ResNet-50 and BERT-base at batch
# 1 and 32) run in the same invocation.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:?usage: device-run.sh DIR OUT [--repeat N]}
out=${2:?usage: device-run.sh DIR OUT [--repeat N]}
shift 2
repeat=20
while [ $# -gt 0 ]; do
  case $1 in
  --repeat) repeat=${2:?--repeat needs a count}; shift 2 ;;
  *) echo "device-run: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  lscpu | grep "Model name"
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
} > "$out/device.txt" 2>&1
cat "$out/device.txt"
status=0
for part in models gemm; do
  [ -d "$dir/$part" ] || continue
  cp "$dir/qc-runner" "$dir/$part/" 2>/dev/null
  bash "$root/scripts/gpu-test.sh" "$dir/$part" --repeat "$repeat" --json "$out/$part.json" |
    cut -c1-400 || status=1
done
python3 "$root/bench/gpu/torch_peer.py" gemm --repeat "$repeat" -o "$out/peer_gemm.json" > /dev/null || status=1
syn=$(mktemp -d)
python3 "$root/bench/models/make-synthetic.py" "$syn" --graph-npz > /dev/null || status=1
for m in resnet50 bert_base; do
  [ -f "$dir/refs/${m}_in.npy" ] || continue
  python3 "$root/bench/gpu/torch_peer.py" model "$syn/$m.npz" --input "$dir/refs/${m}_in.npy" \
    --reference "$dir/refs/${m}_ort.npy" --repeat "$repeat" -o "$out/peer_$m.json" > /dev/null || status=1
done
rm -rf "$syn"
ls -la "$out"
exit $status
