#!/usr/bin/env bash
# The fused kernels' SASS report (bench/sass_report.py) read from a built CUDA library, for every
# architecture the build holds: registers, local memory, SASS size, LDS/STS against generic LD/ST,
# CALLs and each hot loop's instructions per FFMA. cuobjdump and nvdisasm come from the toolkit or,
# where it lacks them (as the Debian machines here do), from PyPI's nvidia-cuda-cuobjdump and
# nvidia-cuda-nvdisasm in a venv kept in build-tools/.
# Usage: bench/sass_report.sh [BUILD_DIR] [sass_report.py options: --loops --json FILE --check ...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true

library="$build/libhyperfuse_cuda.a"
if [[ ! -f $library ]]; then
  echo "sass_report: $library not found: build the CUDA backend first (scripts/build.sh $build)" >&2
  exit 2
fi

if ! command -v cuobjdump >/dev/null || ! command -v nvdisasm >/dev/null; then
  venv=build-tools/venv
  if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
  fi
  tools=$("$venv/bin/python" - <<'EOF'
import glob, os, sys
found = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "nvidia", "*", "bin"))
print(found[0] if found else "")
EOF
)
  if [[ -z $tools || ! -x $tools/cuobjdump || ! -x $tools/nvdisasm ]]; then
    "$venv/bin/pip" install --quiet nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm
    tools=$(ls -d "$venv"/lib/python*/site-packages/nvidia/*/bin | head -1)
  fi
  export PATH="$PWD/$tools:$PATH"
fi

exec python3 bench/sass_report.py "$library" "$@"
