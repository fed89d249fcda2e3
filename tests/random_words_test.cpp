// The CPU trainer's bulk Philox words (eight blocks at a time in AVX2 registers where the build
// has them) against the shared per-block generator, word for word: every dropout mask and RReLU
// slope of the CPU trainer depends on it matching what the CUDA kernels draw one block at a time.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/cpu/random_words.hpp"
#include "kernels/math/philox.hpp"

namespace hf {
namespace {

struct Counter {
  std::uint64_t seed;
  RandomStream stream;
  std::uint32_t layer;
  std::uint64_t step;
  std::uint32_t first_group;
};

TEST(RandomWords, MatchRandomBlockForEveryLengthAndCounter) {
  // Seeds and steps with high bits set, a first group that wraps past 2^32, and lengths on
  // both sides of the eight-block vector width.
  const Counter counters[] = {
      {0, RandomStream::Dropout, 0, 0, 0},
      {0x123456789abcdef0ull, RandomStream::RReLU, 3, 7, 5},
      {0xffffffffffffffffull, RandomStream::Dropout, 65535, (1ull << 32) + 3, 0xfffffffcu},
      {42, RandomStream::WeightInit, 1, 0xfedcba9876543210ull, 1000},
  };
  for (const Counter& c : counters) {
    for (std::size_t groups : {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 65, 720}) {
      std::vector<std::uint32_t> words(4 * groups + 4, 0xdeadbeefu);
      philox_words(c.seed, c.stream, c.layer, c.step, c.first_group, groups, words.data());
      for (std::size_t g = 0; g < groups; ++g) {
        const Philox4 block =
            random_block(c.seed, c.stream, c.layer, c.step, c.first_group + static_cast<std::uint32_t>(g));
        for (int j = 0; j < 4; ++j) {
          ASSERT_EQ(words[4 * g + j], block.v[j])
              << "group " << g << " word " << j << " of " << groups << " groups, seed " << c.seed;
        }
      }
      EXPECT_EQ(words[4 * groups], 0xdeadbeefu) << "wrote past " << groups << " groups";
    }
  }
}

}  // namespace
}  // namespace hf
