// The counter-based generator: Philox4x32-10 known-answer vectors (Random123's kat_vectors),
// uniform ranges, and independence of the streams the trainer draws from.
#include <gtest/gtest.h>

#include "kernels/math/dropout.hpp"
#include "kernels/math/philox.hpp"

namespace hf {
namespace {

TEST(Philox, KnownAnswerVectors) {
  const Philox4 zero = philox4x32_10(0, 0, 0, 0, 0);
  EXPECT_EQ(zero.v[0], 0x6627e8d5u);
  EXPECT_EQ(zero.v[1], 0xe169c58du);
  EXPECT_EQ(zero.v[2], 0xbc57ac4cu);
  EXPECT_EQ(zero.v[3], 0x9b00dbd8u);
  const Philox4 ones = philox4x32_10(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffffffffffull);
  EXPECT_EQ(ones.v[0], 0x408f276du);
  EXPECT_EQ(ones.v[1], 0x41c83b0eu);
  EXPECT_EQ(ones.v[2], 0xa20bc7c6u);
  EXPECT_EQ(ones.v[3], 0x6d5451fdu);
  const Philox4 pi = philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0x299f31d0a4093822ull);
  EXPECT_EQ(pi.v[0], 0xd16cfe09u);
  EXPECT_EQ(pi.v[1], 0x94fdccebu);
  EXPECT_EQ(pi.v[2], 0x5001e420u);
  EXPECT_EQ(pi.v[3], 0x24126ea1u);
}

TEST(Philox, UniformFloatsCoverTheUnitInterval) {
  EXPECT_EQ(uniform_float(0), 0.0f);
  EXPECT_LT(uniform_float(0xffffffffu), 1.0f);
  EXPECT_GT(uniform_open_zero(0), 0.0);
  EXPECT_EQ(uniform_open_zero(0xffffffffu), 1.0);
  double sum = 0;
  const int n = 40000;
  for (int i = 0; i < n / 4; ++i) {
    const Philox4 b = random_block(5, RandomStream::Dropout, 0, 0, static_cast<std::uint32_t>(i));
    for (std::uint32_t v : b.v) sum += uniform_float(v);
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);  // 4 sigma of the mean of 40,000 uniforms
}

TEST(Philox, StreamsLayersStepsAndSeedsDiffer) {
  const Philox4 base = random_block(1, RandomStream::Dropout, 0, 0, 0);
  for (const Philox4& other :
       {random_block(1, RandomStream::RReLU, 0, 0, 0), random_block(1, RandomStream::Dropout, 1, 0, 0),
        random_block(1, RandomStream::Dropout, 0, 1, 0), random_block(1, RandomStream::Dropout, 0, 1ull << 32, 0),
        random_block(2, RandomStream::Dropout, 0, 0, 0), random_block(1, RandomStream::Dropout, 0, 0, 1)}) {
    EXPECT_NE(base.v[0], other.v[0]);
  }
}

TEST(Philox, RreluSlopesStayInTorchsRange) {
  for (std::uint32_t e = 0; e < 4000; ++e) {
    const float slope = rrelu_training_slope(3, 1, 2, e);
    EXPECT_GE(slope, 1.0f / 8.0f);
    EXPECT_LT(slope, 1.0f / 3.0f);
  }
}

}  // namespace
}  // namespace hf
