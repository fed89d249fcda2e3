#!/usr/bin/env bash
# Installs the Debian 12 packages hyperfuse needs (only those missing; with sudo when not root)
# and builds it in Release mode: into build/, or into BUILD_DIR with the extra CMake options
# given (scripts/run_tests.sh builds build-emu/ with -DHYPERFUSE_CUDA=EMULATE this way). Every
# other script starts here.
# Usage: scripts/build.sh [BUILD_DIR [CMAKE_OPTION...]]
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/install_packages.sh
install_packages "${HYPERFUSE_PACKAGES[@]}"

dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
