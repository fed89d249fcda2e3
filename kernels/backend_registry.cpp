#include "kernels/backend_registry.hpp"

#include "kernels/cpu/cpu_backend.hpp"
#if HYPERFUSE_HAVE_CUDA
#include "kernels/cuda/cuda_backend.hpp"
#endif

namespace hf {
namespace {

BackendEntry cpu_entry() {
  BackendEntry entry;
  entry.name = "cpu";
  entry.description = cpu_backend_description();
  entry.make = [](int /*device*/) { return std::unique_ptr<Backend>(std::make_unique<CpuBackend>()); };
  entry.workspace_bytes = [](const PackSpec& pack, int max_rows, const DeviceLimits& /*device*/) {
    return cpu_workspace_bytes(pack, max_rows);
  };
  entry.library_bytes = cpu_library_bytes;
  return entry;
}

#if HYPERFUSE_HAVE_CUDA
BackendEntry cuda_entry() {
  BackendEntry entry;
  entry.name = "cuda";
  entry.description = cuda_backend_description();
  entry.accelerator = true;
  entry.emulated = cuda_backend_is_emulated();
  entry.chosen_by_auto = cuda_backend_chosen_by_auto();
  entry.device_count = cuda_device_count;
  entry.make = make_cuda_backend;
  entry.device_memory = [](int device) {
    const CudaDeviceMemory memory = cuda_device_memory(device);
    return DeviceMemory{memory.name,   memory.free_bytes, memory.total_bytes, memory.networks_at_once,
                        memory.limits, memory.unusable};
  };
  entry.workspace_bytes = cuda_workspace_bytes;
  entry.architectures = cuda_built_architectures();
  entry.placement = cuda_network_placement;
  entry.fp32_peak_flops = cuda_fp32_peak_flops;
  return entry;
}
#endif

}  // namespace

const std::vector<BackendEntry>& registered_backends() {
  static const std::vector<BackendEntry> entries = [] {
    std::vector<BackendEntry> list{cpu_entry()};
#if HYPERFUSE_HAVE_CUDA
    list.push_back(cuda_entry());
#endif
    return list;
  }();
  return entries;
}

const BackendEntry* find_backend(const std::string& name) {
  for (const BackendEntry& entry : registered_backends())
    if (entry.name == name) return &entry;
  return nullptr;
}

}  // namespace hf
