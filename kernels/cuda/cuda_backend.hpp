// The CUDA backend of the pack primitives, seen from plain C++ (no CUDA headers):
// kernels/backend_registry.cpp registers it through these functions.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "kernels/backend/backend.hpp"
#include "kernels/backend/device_limits.hpp"
#include "kernels/backend/workspace_bytes.hpp"

namespace hf {

// A backend whose every workspace lives on CUDA device `device`; the calling thread's current
// device becomes `device`. Throws DeviceError when the device cannot be used.
std::unique_ptr<Backend> make_cuda_backend(int device);

// What this CUDA backend is: the architectures it was compiled for and the cuBLAS version, or
// that it runs on the host emulation (tests/cuda_emulation).
std::string cuda_backend_description();
bool cuda_backend_is_emulated();
// Whether device = "auto" may pick this backend's GPUs: a real build's, yes; the emulation's only
// for tests that ask (HYPERFUSE_EMU_CHOSEN_BY_AUTO=1).
bool cuda_backend_chosen_by_auto();

// CUDA devices visible to this process; 0 when there is no device or no NVIDIA driver at all.
// Throws DeviceError, saying what to do, when a driver is there but cannot run this build (too old
// for its CUDA version, mismatched) or CUDA fails otherwise: a broken GPU setup is never read as
// "no GPU", which would train on the CPU and skip every GPU test unnoticed.
int cuda_device_count();

struct CudaDeviceMemory {
  std::string name;
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
  int networks_at_once = 0;  // multiprocessors x kFusedBlocksPerMultiprocessor
  DeviceLimits limits;
  std::string unusable;  // why this build cannot train on it (no code for it, ...); empty when it can
};
// The fused training kernel's blocks (networks) per multiprocessor: 256 threads x up to 255
// registers and 147-227 KiB of shared memory a block leave room for one (kernels/README.md).
inline constexpr int kFusedBlocksPerMultiprocessor = 1;
CudaDeviceMemory cuda_device_memory(int device);

// The architectures this build holds code for: "sm_75, sm_80, ..., compute_120 (PTX)".
std::string cuda_built_architectures();

// What rebuilds hyperfuse for the GPUs of this machine.
inline constexpr const char* kCudaRebuildCommand =
    "cmake -S . -B build -DCMAKE_CUDA_ARCHITECTURES=native && cmake --build build";

// Device bytes a CUDA workspace of this pack and `max_rows` rows allocates on a device of these
// limits (its plan puts in global scratch what the device's shared memory does not hold): the
// function its constructor allocates by, which sizes GPU packs and the memory plan.
WorkspaceBytes cuda_workspace_bytes(const PackSpec& pack, int max_rows, const DeviceLimits& device);

// Where the fused kernels keep one network of this pack on a device of these limits, training on
// `train_rows` rows.
NetworkPlacement cuda_network_placement(const PackSpec& pack, int train_rows, const DeviceLimits& device);

// The device's FP32 peak in FLOP/s: multiprocessors x clock x FP32 lanes per multiprocessor (64
// on compute capability 7.5 and 8.0, 128 from 8.6 on) x 2 (an FMA is two operations).
double cuda_fp32_peak_flops(int device);

}  // namespace hf
