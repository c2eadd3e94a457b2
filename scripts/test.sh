#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs the dependencies,
# builds, and runs every test (lit + FileCheck suite, GoogleTest unit tests,
# generated-docs freshness) through ctest. Non-zero exit on any failure.
#
#   scripts/test.sh              the suite (README.md's test command; CI)
#   scripts/test.sh --sanitize   the same suite built with ASan + UBSan
#                                (Debug, -DQC_SANITIZE=ON) in build-asan/
#   scripts/test.sh --sanitize -R REGEX   only the ctest tests REGEX names
#   scripts/test.sh --sanitize-quick      the bounded part CI runs: the
#                                importer (quant-translate) built with the
#                                sanitizers and the ONNX import / export lit
#                                tests (bad, corrupt and invalid models among
#                                them) run through it
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=0
ctest_args=()
while [ $# -gt 0 ]; do
  case $1 in
  --sanitize) sanitize=1; shift ;;
  --sanitize-quick) sanitize=2; shift ;;
  *) ctest_args+=("$1"); shift ;;
  esac
done
bash "$root/scripts/install-deps.sh"
if [ "$sanitize" != 0 ]; then
  build=${BUILD_DIR:-$root/build-asan}
  if [ ! -f "$build/build.ninja" ]; then
    cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DQC_SANITIZE=ON
  fi
  # LLVM's and protobuf's registries live until exit: leaks are the
  # fuzzers' to find (scripts/fuzz.sh), not the suite's. LLVM's headers,
  # compiled with ASan, poison allocator slabs that libMLIR.so (built
  # without it) fills: user poisoning off.
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allow_user_poisoning=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if [ "$sanitize" = 2 ]; then
    cmake --build "$build" -j "$(nproc)" --target quant-translate
    # The two tests that also run quant-opt are left to the full run.
    exec /usr/lib/llvm-22/bin/lit -sv "$build/test/Target/ONNX" \
      --filter-out 'import-conv-net|import-quantized'
  fi
  cmake --build "$build" -j "$(nproc)"
  cd "$build"
  ctest --output-on-failure -j "$(nproc)" "${ctest_args[@]}"
  exit
fi
bash "$root/scripts/build.sh"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" "${ctest_args[@]}"
