#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer: builds into
# build-asan/ with clang (RelWithDebInfo, -DHYPERFUSE_SANITIZE=ON), with the CUDA backend on the
# host emulation (-DHYPERFUSE_CUDA=EMULATE: every device allocation its own host allocation, so
# a kernel's overrun is an ASan report), and runs ctest; any report aborts its test, so ctest
# fails, and so does a GPU test that would skip (HYPERFUSE_REQUIRE_GPU=1).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/install_packages.sh
install_packages "${HYPERFUSE_PACKAGES[@]}" clang libclang-rt-14-dev

cmake -S . -B build-asan -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DHYPERFUSE_SANITIZE=ON -DHYPERFUSE_BENCH=OFF -DHYPERFUSE_CUDA=EMULATE >/dev/null
cmake --build build-asan -j"$(nproc)"
# libxsmm's JIT-compiled GEMMs run under ASan as they are (libxsmm 1.17 from Debian: its code
# buffers are mmap'd, not heap, and it does not replace malloc), so the CPU trainer is tested
# with the same kernels as the release build; no suppressions are needed.
# Leaks count too; halt_on_error and a failing exit code for UBSan make every report fatal.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export HYPERFUSE_REQUIRE_GPU=1
# The whole-search agreement on each emulated card (GpuSearchOnEachCard, about 80 s each without
# ASan) runs in scripts/run_tests.sh; here the default card's (GpuSearch) covers the same code.
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -E 'Mpi|GpuSearchOnEachCard'
# The MPI runs with leak detection off: Open MPI keeps allocations until exit in plugins it has
# unloaded by then, so LeakSanitizer cannot even name them (let alone suppress them by
# library). Address and undefined-behaviour checks stay on in every rank.
ASAN_OPTIONS="${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}" \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -R 'Mpi'
