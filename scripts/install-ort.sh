#!/usr/bin/env bash
# Installs ONNX Runtime 1.30 for Node (npm onnxruntime-node) into a cache
# outside the tree, once: the peer the real models are compared and timed
# against. --ignore-scripts: the package's install script only downloads
# CUDA parts (and fails offline); its bundled linux-x64 libonnxruntime.so is
# all the CPU runs need. Prints the directory holding node_modules last;
# exits 77 (ctest's skip) when npm or the registry is unreachable.
set -uo pipefail
version=${QC_ORT_VERSION:-1.30.0}
dir=${QC_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/quant-compiler}/ort-$version
if [ ! -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "install-ort: npm/node missing (scripts/install-deps.sh installs them)" >&2
    exit 77
  fi
  mkdir -p "$dir"
  if ! (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --silent \
          "onnxruntime-node@$version" >/dev/null 2>&1); then
    echo "install-ort: npm install onnxruntime-node@$version failed (offline?)" >&2
    rm -rf "$dir"
    exit 77
  fi
  echo "$version" > "$dir/ORT_VERSION"
fi
echo "$dir"
