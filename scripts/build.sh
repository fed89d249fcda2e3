#!/usr/bin/env bash
# Installs the Debian 12 packages hyperfuse needs (only those missing; with sudo when not root)
# and builds it in Release mode: into build/, or into BUILD_DIR with the extra CMake options
# given (scripts/run_tests.sh builds build-emu/ with -DHYPERFUSE_CUDA=EMULATE this way). Every
# other script starts here. Its progress goes to stderr, the full build log to BUILD_DIR/build.log.
# Usage: scripts/build.sh [BUILD_DIR [CMAKE_OPTION...]]
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/install_packages.sh
install_packages "${HYPERFUSE_PACKAGES[@]}"

dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null

# The full build log goes to $dir/build.log; stderr gets its progress, one line per finished
# target and one per CUDA file started (each takes minutes: every architecture's machine code),
# so that a build of several minutes is never silent. On a failure the log's end follows.
log="$dir/build.log"
started=$SECONDS
progress() {
  local line
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$log"
    case "$line" in
      *"Built target "* | *"Building CUDA object "*)
        printf 'hyperfuse build (%dm%02ds): %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) \
          "${line/CMakeFiles\/*.dir\//}" >&2
        ;;
    esac
  done
}
: >"$log"
if ! cmake --build "$dir" -j"$(nproc)" 2>&1 | progress; then
  echo "hyperfuse build: failed; the end of $log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
echo "hyperfuse build: done in $dir/ ($((SECONDS - started)) s)" >&2
