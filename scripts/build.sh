#!/usr/bin/env bash
# Installs the Debian 12 packages hyperfuse needs (only those missing; with sudo when not root)
# and builds it in Release mode into build/. Every other script starts here.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/install_packages.sh
install_packages "${HYPERFUSE_PACKAGES[@]}"

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
