#!/usr/bin/env bash
# README command 2: build, then run the whole test suite twice (and its GPU tests twice more): in
# build/ (the real build: the CUDA backend compiled by nvcc where the toolkit is, its tests skipped without a GPU), and in
# build-emu/ (-DHYPERFUSE_CUDA=EMULATE: the CUDA backend compiled as C++ against the host
# emulation in tests/cuda_emulation, with its race check), where every GPU test runs and a GPU
# test that would skip fails instead (HYPERFUSE_REQUIRE_GPU=1); then the Python package's tests
# (scripts/run_python_tests.sh: pip install into build-venv/, pytest). Installs Chromium for the
# report's browser test first.
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium: the report's browser test (tests/study_report_test.cpp), which fails instead of
# skipping without it here (HYPERFUSE_REQUIRE_BROWSER=1), so that it runs in CI.
source scripts/install_packages.sh
install_packages chromium
export HYPERFUSE_REQUIRE_BROWSER=1
scripts/build.sh >/dev/null
(cd build && ctest --output-on-failure -j"$(nproc)")
scripts/build.sh build-emu -DHYPERFUSE_CUDA=EMULATE >/dev/null
(cd build-emu && HYPERFUSE_REQUIRE_GPU=1 ctest --output-on-failure -j"$(nproc)")
# The GPU tests again on emulated cards with less shared memory per block than the H100's 227 KiB
# (the default profile): a T4 (64 KiB, compute capability 7.5) and an RTX 4090 (99 KiB), where the
# fused plan puts what does not fit in global scratch (tests/cuda_emulation/README.md, profiles).
# Left out: the suites that assume the H100's own figures (the emulation's, the workers' per-SM
# counts) and the whole-search agreement, which the pass above already runs on each card
# (GpuSearchOnEachCard).
gpu_suites='^(EmulatedGpuSearch|FusedPath|CudaPack|PackTraining|DeviceLimits|DeviceLimitsCli|DeviceChoice|WorkspaceBytes|OutOfMemory)\.|BackendOps|ContinuedTraining|FusedNumbering'
for profile in t4 rtx4090; do
  (cd build-emu && HYPERFUSE_EMU_PROFILE=$profile HYPERFUSE_REQUIRE_GPU=1 \
    ctest --output-on-failure -j"$(nproc)" -R "$gpu_suites")
done
scripts/run_python_tests.sh
