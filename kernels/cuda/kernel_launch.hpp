// How the CUDA backend launches kernels: HF_LAUNCH(kernel, grid, block, shared_bytes, stream)(args...)
// is exactly kernel<<<grid, block, shared_bytes, stream>>>(args...) under nvcc, and the host
// emulation's checked, queued launch in the emulated build (tests/cuda_emulation/README.md), so
// every launch of the backend runs, and is checked, on every commit.
#pragma once

#include <cuda_runtime.h>

#if HYPERFUSE_CUDA_EMULATED
#define HF_LAUNCH(kernel, grid, block, shared_bytes, stream) \
  ::hf_emu::launch_kernel(kernel, #kernel, grid, block, shared_bytes, stream)
// The backend's training steps (steps summed over networks), for the emulation's counters.
#define HF_COUNT_TRAINING_STEPS(steps) ::hf_emu::count_training_steps(steps)
// The launches of the fused training kernel, for the emulation's counters (epochs split in parts).
#define HF_COUNT_FUSED_EPOCH_LAUNCH() ::hf_emu::count_fused_epoch_launch()
#else
#define HF_LAUNCH(kernel, grid, block, shared_bytes, stream) kernel<<<grid, block, shared_bytes, stream>>>
#define HF_COUNT_TRAINING_STEPS(steps) static_cast<void>(0)
#define HF_COUNT_FUSED_EPOCH_LAUNCH() static_cast<void>(0)
#endif

namespace hf {

// The block's dynamic shared memory (a launch's shared_bytes). Kernels use this rather than
// declaring `extern __shared__` arrays, which the emulation cannot provide.
template <typename T>
__device__ __forceinline__ T* dynamic_shared_memory() {
#if HYPERFUSE_CUDA_EMULATED
  return static_cast<T*>(::hf_emu::dynamic_shared_memory());
#else
  extern __shared__ __align__(16) unsigned char hf_dynamic_shared_bytes[];
  return reinterpret_cast<T*>(hf_dynamic_shared_bytes);
#endif
}

}  // namespace hf
