#!/usr/bin/env bash
# The main job, as far as the project goes today: installs, builds, and runs
# quant-opt over a bundled int8 conv/matmul chain: canonicalization folds the
# redundant requantization and clamps, and the integer-only check proves that
# no floating-point op is left between quantize and dequantize.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
opt="${BUILD_DIR:-$root/build}/bin/quant-opt"
example="$root/examples/int8-conv-chain.mlir"
echo "== $example, canonicalized and checked integer-only"
"$opt" "$example" -canonicalize -check-integer-only
echo "== integer-only check passed"
