// allow_dynamic_shared_memory: read the attribute, raise it when lower, under one mutex.
#include "kernels/cuda/shared_memory_attribute.hpp"

#include <cuda_runtime.h>

#include <mutex>

#include "kernels/cuda/cuda_check.hpp"

namespace hf {

void allow_dynamic_shared_memory(const void* kernel, std::size_t bytes) {
  static std::mutex raising;
  const std::lock_guard<std::mutex> lock(raising);
  cudaFuncAttributes attributes{};
  HF_CUDA_CHECK(cudaFuncGetAttributes(&attributes, kernel));
  if (static_cast<std::size_t>(attributes.maxDynamicSharedSizeBytes) >= bytes) return;
  HF_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

}  // namespace hf
