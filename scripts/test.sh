#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs the dependencies,
# builds, and runs every test (lit + FileCheck suite, GoogleTest unit tests,
# generated-docs freshness) through ctest. Non-zero exit on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)"
