// Every backend this build has, in one list: the only place that knows which backends were
// compiled in (kernels/backend_registry.cpp). Device choice, the op tests, the benchmarks and
// `hyperfuse --version` read it, so adding a backend is one entry here plus its folder.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/backend/backend.hpp"
#include "kernels/backend/device_limits.hpp"
#include "kernels/backend/workspace_bytes.hpp"

namespace hf {

struct DeviceMemory {
  std::string name;  // e.g. "NVIDIA H100 80GB HBM3"
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
  // Networks the device trains at once (multiprocessors x the fused kernel's blocks per
  // multiprocessor, one network a block); 0 when the backend does not say. A pack with fewer
  // leaves the device partly idle, so it gets more worker threads (gpu_workers.hpp).
  int networks_at_once = 0;
  DeviceLimits limits;   // compute capability, shared memory per block, ... (device_limits.hpp)
  std::string unusable;  // why this build cannot train on it, with the fix; empty when it can
};

struct BackendEntry {
  std::string name;         // as configs and --device name it: "cpu", "cuda"
  std::string description;  // for --version: what it is built with
  // Accelerators train on devices, one or more worker threads per device (host/run/
  // gpu_workers.hpp), with packs sized by device memory; the CPU backend is not one (one worker per core, one network
  // per pack).
  bool accelerator = false;
  bool emulated = false;       // runs on a host emulation of its device (tests only, no speed)
  bool chosen_by_auto = true;  // device = "auto" may pick it when it has a device
  // Accelerators only. device_count throws DeviceError when the devices cannot be counted (a
  // driver too old for this build, ...); 0 means none is visible.
  std::function<int()> device_count;
  std::function<std::unique_ptr<Backend>(int device)> make;
  std::function<DeviceMemory(int device)> device_memory;
  // Accelerators only: the device's FP32 peak in FLOP/s (`hyperfuse benchmark`'s share of peak).
  std::function<double(int device)> fp32_peak_flops;
  // The bytes a workspace of this pack and max_rows rows allocates on the backend's memory
  // (host memory for the CPU, device memory for an accelerator) of a device of these limits (an
  // accelerator's plan depends on them; the CPU's ignores them): exactly what make(...)'s
  // create_workspace allocates there. GPU pack sizing and the memory plan both read it.
  std::function<WorkspaceBytes(const PackSpec& pack, int max_rows, const DeviceLimits& device)> workspace_bytes;
  // Accelerators only: where a network of this pack lives on a device of these limits, for
  // --dry-run and `hyperfuse devices`.
  std::function<NetworkPlacement(const PackSpec& pack, int train_rows, const DeviceLimits& device)> placement;
  // Accelerators only: the architectures this build holds code for ("sm_75, ..., compute_120
  // (PTX)"), for `hyperfuse devices` and messages.
  std::string architectures;
  // Host bytes the backend keeps for the whole run beside its workspaces, given how many
  // distinct (in, out, rows) layer shapes the search computes: a JIT GEMM library's kernels.
  // Null when it keeps none worth counting.
  std::function<std::size_t(std::size_t layer_shapes)> library_bytes;
};

// The CPU backend first, then the accelerators this build has.
const std::vector<BackendEntry>& registered_backends();

// The entry named `name`, or null when this build does not have it.
const BackendEntry* find_backend(const std::string& name);

}  // namespace hf
