#!/usr/bin/env bash
# Installs the Debian 12 packages hyperfuse needs (only those missing; with sudo when not root)
# and builds it in Release mode into build/. Every other script starts here.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ make cmake libtomlplusplus-dev libboost-dev libsqlite3-dev libxsmm-dev libgtest-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "hyperfuse: installing ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "hyperfuse: please run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
