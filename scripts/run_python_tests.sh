#!/usr/bin/env bash
# The Python package's tests (python/tests, pytest; docs/PYTHON.md), run by scripts/run_tests.sh:
# `pip install` of this clone into a virtual environment (build-venv/) with pytest, pandas and
# numpy from PyPI, then pytest. The package's CMake build is kept in build-python/, so a rerun
# compiles only what changed; it leaves out the CUDA backend (HYPERFUSE_CUDA=OFF: these tests
# train on the CPU, and build/ and build-emu/ test the CUDA backend), the tests and benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install_packages.sh
install_packages "${HYPERFUSE_PACKAGES[@]}" python3 python3-venv

[ -x build-venv/bin/python ] || python3 -m venv build-venv
build-venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -C build-dir=build-python -C cmake.define.HYPERFUSE_CUDA=OFF . pytest pandas numpy
cd python/tests
../../build-venv/bin/python -m pytest -q -p no:cacheprovider
