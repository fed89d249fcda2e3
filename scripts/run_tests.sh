#!/usr/bin/env bash
# README command 2: build, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
cd build
ctest --output-on-failure -j"$(nproc)"
