// SplitMix64, the small deterministic generator behind host-side choices (random search
// sampling) and the shuffled order of an epoch's rows, which the CPU trainer makes on the host
// and the fused CUDA kernels on the device: the same sequence on every platform.
#pragma once

#include <cstdint>

#include "kernels/math/philox.hpp"

namespace hf {

class SplitMix64 {
 public:
  HF_HOST_DEVICE explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  HF_HOST_DEVICE std::uint64_t next() {
    const std::uint64_t out = mix64(state_);
    state_ += 0x9E3779B97F4A7C15ull;
    return out;
  }

  // Uniform in [0, bound) without modulo bias: reject the few draws below 2^64 mod bound.
  HF_HOST_DEVICE std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  std::uint64_t state_;
};

}  // namespace hf
