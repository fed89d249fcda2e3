// RAII owner of one device allocation of `count` elements of T: freed when the owner goes,
// never copied, moved with the workspace that holds it. Given a stream, the allocation is
// stream-ordered (cudaMallocAsync, cudaFreeAsync from the device's memory pool): freeing it waits
// for nothing, where cudaFree synchronises the whole device and so stalls the kernels of the other
// workers sharing the GPU. The stream must outlive the buffer.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "kernels/cuda/cuda_check.hpp"

namespace hf {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count > 0) HF_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), count * sizeof(T)));
  }
  DeviceBuffer(std::size_t count, cudaStream_t stream) : count_(count), stream_(stream), stream_ordered_(true) {
    if (count > 0) HF_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&data_), count * sizeof(T), stream));
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        count_(std::exchange(other.count_, 0)),
        stream_(other.stream_),
        stream_ordered_(other.stream_ordered_) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      count_ = std::exchange(other.count_, 0);
      stream_ = other.stream_;
      stream_ordered_ = other.stream_ordered_;
    }
    return *this;
  }
  ~DeviceBuffer() { release(); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

  void upload(const T* host, std::size_t count, cudaStream_t stream) {
    if (count > 0) HF_CUDA_CHECK(cudaMemcpyAsync(data_, host, count * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
  void download(T* host, std::size_t count, cudaStream_t stream) const {
    if (count > 0) HF_CUDA_CHECK(cudaMemcpyAsync(host, data_, count * sizeof(T), cudaMemcpyDeviceToHost, stream));
  }
  // Every byte set to `byte`: 0 zeroes, 0xFF makes every float a NaN.
  void fill_bytes(int byte, cudaStream_t stream) {
    if (count_ > 0) HF_CUDA_CHECK(cudaMemsetAsync(data_, byte, bytes(), stream));
  }

 private:
  void release() {
    // A destructor cannot throw; a failed free leaks.
    if (data_ != nullptr) stream_ordered_ ? cudaFreeAsync(data_, stream_) : cudaFree(data_);
    data_ = nullptr;
    count_ = 0;
  }

  T* data_ = nullptr;
  std::size_t count_ = 0;
  cudaStream_t stream_ = nullptr;
  bool stream_ordered_ = false;
};

}  // namespace hf
