// What the GPU tests need to know first: how many CUDA devices this build can use here (0 in a
// build without the CUDA backend), and a backend on device 0 for those that found one.
#pragma once

#include <memory>

#include "kernels/backend/backend.hpp"
#if HYPERFUSE_HAVE_CUDA
#include "kernels/cuda/cuda_backend.hpp"
#endif

namespace hf::testing {

inline int visible_gpus() {
#if HYPERFUSE_HAVE_CUDA
  return cuda_device_count();
#else
  return 0;
#endif
}

inline bool gpu_visible() { return visible_gpus() > 0; }

// nullptr in a build without the CUDA backend.
inline std::unique_ptr<Backend> make_gpu_backend() {
#if HYPERFUSE_HAVE_CUDA
  return make_cuda_backend(0);
#else
  return nullptr;
#endif
}

}  // namespace hf::testing
