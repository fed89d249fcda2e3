// One macro family for CUDA runtime and cuBLAS status codes: HF_CUDA_CHECK(expr) and
// HF_CUBLAS_CHECK(expr) throw a DeviceError (OutOfDeviceMemory for allocation failures) that
// names the device, the failing expression, file and line, and says what to do.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/backend/device_errors.hpp"

namespace hf {

// "device 0 (NVIDIA H100 80GB HBM3)", or "device ?" when even that query fails.
inline std::string current_device_description() {
  int device = -1;
  if (cudaGetDevice(&device) != cudaSuccess) return "device ?";
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, device) != cudaSuccess) return "device " + std::to_string(device);
  return "device " + std::to_string(device) + " (" + properties.name + ")";
}

inline std::string failure_location(const char* expression, const char* file, int line) {
  return std::string(" in `") + expression + "` at " + file + ":" + std::to_string(line);
}

constexpr const char* kOutOfMemoryHint =
    "; the GPU has no memory left for this pack: hyperfuse retries it in halves, and if a single network does not "
    "fit, use a smaller batch_size or fewer hidden units, or free the GPU (nvidia-smi lists other processes)";
constexpr const char* kDeviceFailureHint =
    "; check the GPU with nvidia-smi, set CUDA_LAUNCH_BLOCKING=1 to locate an asynchronous error, or run with "
    "[execution] device = \"cpu\" (--device cpu) to continue without the GPU";

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* expression, const char* file, int line) {
  cudaGetLastError();  // clear a sticky-free error so later queries work
  const std::string message = "CUDA error on " + current_device_description() + ": " + cudaGetErrorName(status) + " (" +
                              cudaGetErrorString(status) + ")" + failure_location(expression, file, line);
  if (status == cudaErrorMemoryAllocation) throw OutOfDeviceMemory(message + kOutOfMemoryHint);
  throw DeviceError(message + kDeviceFailureHint);
}

[[noreturn]] inline void throw_cublas_error(cublasStatus_t status, const char* expression, const char* file, int line) {
  // A failed allocation inside cuBLAS can leave cudaErrorMemoryAllocation as the runtime's last
  // error; cleared here, or the next HF_CUDA_CHECK_LAUNCH of the retried half pack would report
  // this old failure as its own and split the pack again.
  cudaGetLastError();
  const std::string message = "cuBLAS error on " + current_device_description() + ": " + cublasGetStatusName(status) +
                              " (" + cublasGetStatusString(status) + ")" + failure_location(expression, file, line);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) throw OutOfDeviceMemory(message + kOutOfMemoryHint);
  throw DeviceError(message + kDeviceFailureHint);
}

}  // namespace hf

#define HF_CUDA_CHECK(expression)                                                                                 \
  do {                                                                                                            \
    const cudaError_t hf_cuda_status_ = (expression);                                                             \
    if (hf_cuda_status_ != cudaSuccess) ::hf::throw_cuda_error(hf_cuda_status_, #expression, __FILE__, __LINE__); \
  } while (0)

#define HF_CUBLAS_CHECK(expression)                                                 \
  do {                                                                              \
    const cublasStatus_t hf_cublas_status_ = (expression);                          \
    if (hf_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                 \
      ::hf::throw_cublas_error(hf_cublas_status_, #expression, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: reports a bad launch configuration at once (execution errors surface
// at the next synchronising call, which is checked too).
#define HF_CUDA_CHECK_LAUNCH() HF_CUDA_CHECK(cudaGetLastError())
