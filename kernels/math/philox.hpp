// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011): every dropout mask, RReLU
// slope and initial weight is a pure function of (training seed, stream, step, element), so the
// CPU trainer and the CUDA kernels draw identical numbers in any order, on any thread.
#pragma once

#include <cstdint>

#include "kernels/math/host_device.hpp"

namespace hf {

struct Philox4 {
  std::uint32_t v[4];
};

// What a draw is for; part of the counter so streams never overlap.
enum class RandomStream : std::uint32_t { Dropout = 1, RReLU = 2, WeightInit = 3, BiasInit = 4 };

HF_HOST_DEVICE void philox_round(std::uint32_t c[4], const std::uint32_t k[2]) {
  const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c[0];
  const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c[2];
  const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
  const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
  c[0] = hi1 ^ c[1] ^ k[0];
  c[1] = lo1;
  c[2] = hi0 ^ c[3] ^ k[1];
  c[3] = lo0;
}

HF_HOST_DEVICE Philox4 philox4x32_10(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                                     std::uint64_t key) {
  std::uint32_t c[4] = {c0, c1, c2, c3};
  std::uint32_t k[2] = {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)};
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += 0x9E3779B9u;
      k[1] += 0xBB67AE85u;
    }
    philox_round(c, k);
  }
  return Philox4{{c[0], c[1], c[2], c[3]}};
}

// Four uniform draws for elements [4*group, 4*group+4) of one stream at one step (or, for
// initialization, of one layer: pass the layer as `step`).
HF_HOST_DEVICE Philox4 random_block(std::uint64_t seed, RandomStream stream, std::uint32_t layer, std::uint64_t step,
                                    std::uint32_t group) {
  return philox4x32_10(group, (static_cast<std::uint32_t>(stream) << 16) | layer, static_cast<std::uint32_t>(step),
                       static_cast<std::uint32_t>(step >> 32), seed);
}

// Uniform in [0, 1) with 24 random bits: exactly representable in float.
HF_HOST_DEVICE float uniform_float(std::uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }

// Uniform in (0, 1], for logarithms.
HF_HOST_DEVICE double uniform_open_zero(std::uint32_t bits) {
  return (static_cast<double>(bits >> 8) + 1.0) * (1.0 / 16777216.0);
}

// SplitMix64's finaliser: turns structured inputs (seed, combination, rerun) into independent
// 64-bit seeds.
HF_HOST_DEVICE std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace hf
