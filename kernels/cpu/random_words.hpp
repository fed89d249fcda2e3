// The Philox words of many consecutive counter blocks at once, for the CPU trainer's dropout
// masks and RReLU slopes: the same numbers as kernels/math/philox.hpp's random_block, eight
// blocks per step in AVX2 registers where the CPU has them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/math/philox.hpp"

namespace hf {

// words[4 * g + j] = random_block(seed, stream, layer, step, first_group + g).v[j] for g in
// [0, groups): 4 * groups words.
void philox_words(std::uint64_t seed, RandomStream stream, std::uint32_t layer, std::uint64_t step,
                  std::uint32_t first_group, std::size_t groups, std::uint32_t* words);

}  // namespace hf
