// Dropout masks and RReLU slopes drawn from the counter-based generator: element e of hidden
// layer l at training step s of a network always gets the same draw, on any backend.
#pragma once

#include <cstdint>

#include "kernels/math/activations.hpp"
#include "kernels/math/philox.hpp"

namespace hf {

// What dropout scales the kept units by: 1 / float(1 - p), the difference taken in double, the
// one rounding every backend uses.
inline float dropout_keep_scale(double p) { return p > 0.0 ? 1.0f / static_cast<float>(1.0 - p) : 1.0f; }

// Dropout's multiplier for one uniform draw: 0 with probability p, else 1 / (1 - p).
HF_HOST_DEVICE float dropout_multiplier_for(float uniform, float p, float keep_scale) {
  return uniform < p ? 0.0f : keep_scale;
}

// The multiplier dropout applies to element `element` (row * width + column of the batch):
// 0 with probability p, else 1 / (1 - p), as torch.nn.functional.dropout scales.
HF_HOST_DEVICE float dropout_multiplier(std::uint64_t seed, int layer, std::uint64_t step, std::uint32_t element,
                                        float p, float keep_scale) {
  const Philox4 block =
      random_block(seed, RandomStream::Dropout, static_cast<std::uint32_t>(layer), step, element >> 2);
  return dropout_multiplier_for(uniform_float(block.v[element & 3u]), p, keep_scale);
}

// RReLU's training-time negative slope for one element.
HF_HOST_DEVICE float rrelu_training_slope(std::uint64_t seed, int layer, std::uint64_t step, std::uint32_t element) {
  const Philox4 block = random_block(seed, RandomStream::RReLU, static_cast<std::uint32_t>(layer), step, element >> 2);
  return rrelu_slope(uniform_float(block.v[element & 3u]));
}

}  // namespace hf
