// A zero-initialised float array on 64-byte boundaries, so vector loads never split cache lines.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace hf {

class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(std::size_t count) : size_(count), bytes_(bytes_for(count)) {
    data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes_)));
    if (!data_) throw std::bad_alloc();
    std::memset(data_.get(), 0, bytes_);
  }
  // What an array of `count` floats allocates: whole cache lines, at least one.
  static std::size_t bytes_for(std::size_t count) {
    const std::size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
    return bytes == 0 ? 64 : bytes;
  }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return bytes_; }  // allocated, 0 for a default-constructed array
  float& operator[](std::size_t i) { return data_[i]; }
  float operator[](std::size_t i) const { return data_[i]; }
  void zero() { std::memset(data_.get(), 0, size_ * sizeof(float)); }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float[], Free> data_;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace hf
