// What the GPU tests need to know first: how many devices this build's accelerator backend
// (CUDA, real or emulated) can use here (0 in a build without one), and a backend on device 0
// for those that found one. Read from the backend registry, so no test needs an #if.
#pragma once

#include <memory>

#include "kernels/backend_registry.hpp"

namespace hf::testing {

inline const BackendEntry* gpu_backend_entry() { return find_backend("cuda"); }

inline int visible_gpus() {
  const BackendEntry* entry = gpu_backend_entry();
  return entry == nullptr ? 0 : entry->device_count();
}

inline bool gpu_visible() { return visible_gpus() > 0; }

// nullptr in a build without the CUDA backend.
inline std::unique_ptr<Backend> make_gpu_backend() {
  const BackendEntry* entry = gpu_backend_entry();
  return entry == nullptr ? nullptr : entry->make(0);
}

}  // namespace hf::testing
