#!/usr/bin/env bash
# Builds, on this machine, what bench/device_check.sh runs on a bare GPU machine (nvcc, CMake and
# PyTorch there, but no tomlplusplus, Boost, libxsmm, GoogleTest or MPI): hyperfuse, hyperfuse_tests
# hyperfuse_bench and fused_model (the performance model) with the CUDA backend (sm_90 + PTX) and without -march=native, staged in
# build-device/ (binaries in bin/, the shared libraries the device lacks in lib/) so that
# folder alone can be carried there. The object files stay in build-device-work/.
# Usage: bench/build_for_device.sh [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-2}
# The lent GPU machines are H100s and H200s: sm_90 alone (and its PTX), not the release build's
# every architecture, which would take several times the build time and the 64 MiB carry.
cmake -S . -B build-device-work -G Ninja -DCMAKE_BUILD_TYPE=Release -DHYPERFUSE_CUDA=ON -DHYPERFUSE_NATIVE=OFF -DHYPERFUSE_MPI=OFF \
  "-DCMAKE_CUDA_ARCHITECTURES=90-real;90-virtual" >/dev/null
cmake --build build-device-work -j"$jobs" --target hyperfuse hyperfuse_tests hyperfuse_bench fused_model

rm -rf build-device
mkdir -p build-device/bin build-device/lib
cp build-device-work/hyperfuse build-device-work/tests/hyperfuse_tests build-device-work/bench/hyperfuse_bench \
  build-device-work/bench/fused_model build-device/bin/
strip build-device/bin/*
# Every shared library outside the C/C++ runtime and the CUDA toolkit (which the device has)
# travels along: tomlplusplus is the one Debian ships only as a shared library.
for lib in $(ldd build-device/bin/* | awk '/=> \// {print $3}' | sort -u); do
  case "$(basename "$lib")" in
    libc.so* | libm.so* | libstdc++* | libgcc_s* | libpthread* | libdl.so* | librt.so* | ld-linux*) ;;
    libcublas* | libcudart* | libcuda.so*) ;;
    *) cp -L "$lib" build-device/lib/ ;;
  esac
done
echo "build-device/: $(du -sh build-device | cut -f1)"
ls -l build-device/bin build-device/lib
