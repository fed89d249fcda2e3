// Initial parameters: each torch.nn.init scheme's distribution (bounds, mean, spread,
// orthogonality), nn.Linear's bias range, the PReLU slope, and determinism from the seed.
#include <gtest/gtest.h>

#include <cmath>

#include "host/training/weight_init.hpp"

namespace hf {
namespace {

struct Moments {
  double mean = 0, std_dev = 0, low = 1e300, high = -1e300;
};

Moments weight_moments(WeightInit init, int in, int out, std::uint64_t seed) {
  const ParameterLayout layout({in, out});
  std::vector<float> p(layout.size);
  initialize_parameters(layout, init, false, seed, p.data());
  Moments m;
  const std::size_t n = layout.weight_count(0);
  for (std::size_t i = 0; i < n; ++i) {
    m.mean += p[i] / n;
    m.low = std::min<double>(m.low, p[i]);
    m.high = std::max<double>(m.high, p[i]);
  }
  for (std::size_t i = 0; i < n; ++i) m.std_dev += (p[i] - m.mean) * (p[i] - m.mean) / n;
  m.std_dev = std::sqrt(m.std_dev);
  return m;
}

// 200 x 150 = 30,000 draws: the sample std is within about 1% of the true one.
TEST(WeightInit, EachSchemeHasTorchsDistribution) {
  const int in = 200, out = 150;
  const double xavier_bound = std::sqrt(6.0 / (in + out)), xavier_std = std::sqrt(2.0 / (in + out));
  const double kaiming_std = std::sqrt(2.0 / in), kaiming_bound = std::sqrt(3.0) * kaiming_std;
  struct Expected {
    WeightInit init;
    double mean, std_dev, low, high;
  };
  const Expected cases[] = {
      {WeightInit::XavierUniform, 0, xavier_bound / std::sqrt(3.0), -xavier_bound, xavier_bound},
      {WeightInit::XavierNormal, 0, xavier_std, -1e9, 1e9},
      {WeightInit::KaimingUniform, 0, kaiming_std, -kaiming_bound, kaiming_bound},
      {WeightInit::KaimingNormal, 0, kaiming_std, -1e9, 1e9},
      {WeightInit::Normal, 0, 1.0, -1e9, 1e9},
      {WeightInit::Uniform, 0.5, 1.0 / std::sqrt(12.0), 0.0, 1.0},
  };
  for (const Expected& e : cases) {
    const Moments m = weight_moments(e.init, in, out, 3);
    const char* name = kWeightInitNames[static_cast<int>(e.init)];
    EXPECT_NEAR(m.mean, e.mean, 0.03 * e.std_dev) << name;
    EXPECT_NEAR(m.std_dev, e.std_dev, 0.02 * e.std_dev) << name;
    EXPECT_GE(m.low, e.low) << name;
    EXPECT_LE(m.high, e.high) << name;
    if (e.high < 1e9) {
      EXPECT_GT(m.high, e.high - 0.01 * (e.high - e.low)) << name << " should reach near its upper bound";
    }
  }
}

TEST(WeightInit, OrthogonalRowsOrColumnsAreOrthonormal) {
  for (const auto& [in, out] : {std::pair{30, 60}, std::pair{60, 30}, std::pair{15, 15}}) {
    const ParameterLayout layout({in, out});
    std::vector<float> p(layout.size);
    initialize_parameters(layout, WeightInit::Orthogonal, false, 9, p.data());
    // W is out x in; the shorter dimension's vectors are orthonormal.
    const bool rows = out <= in;
    const int count = rows ? out : in, length = rows ? in : out;
    for (int a = 0; a < count; ++a)
      for (int b = 0; b < count; ++b) {
        double dot = 0;
        for (int k = 0; k < length; ++k)
          dot += rows ? double(p[a * in + k]) * p[b * in + k] : double(p[k * in + a]) * p[k * in + b];
        EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5) << in << "x" << out << " vectors " << a << "," << b;
      }
  }
}

TEST(WeightInit, BiasesLikeNnLinearAndPreluSlope) {
  const ParameterLayout layout({400, 300, 1});
  std::vector<float> p(layout.size);
  initialize_parameters(layout, WeightInit::XavierUniform, true, 4, p.data());
  const double bound = 1.0 / std::sqrt(400.0);
  double low = 1, high = -1;
  for (int j = 0; j < 300; ++j) {
    low = std::min<double>(low, p[layout.bias_offset[0] + j]);
    high = std::max<double>(high, p[layout.bias_offset[0] + j]);
  }
  EXPECT_GE(low, -bound);
  EXPECT_LE(high, bound);
  EXPECT_LT(low, -0.9 * bound);
  EXPECT_GT(high, 0.9 * bound);
  EXPECT_EQ(p[layout.prelu_offset], 0.25f);
  for (std::size_t i = layout.used; i < layout.size; ++i) EXPECT_EQ(p[i], 0.0f) << "padding";
  initialize_parameters(layout, WeightInit::XavierUniform, false, 4, p.data());
  EXPECT_EQ(p[layout.prelu_offset], 0.0f) << "no PReLU: the slot stays zero";
}

TEST(WeightInit, SameSeedSameWeightsOtherSeedOthers) {
  const ParameterLayout layout({30, 60, 90, 1});
  std::vector<float> a(layout.size), b(layout.size), c(layout.size);
  initialize_parameters(layout, WeightInit::KaimingNormal, false, 77, a.data());
  initialize_parameters(layout, WeightInit::KaimingNormal, false, 77, b.data());
  initialize_parameters(layout, WeightInit::KaimingNormal, false, 78, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(LayerWidths, RoundHalfToEvenAndAtLeastOne) {
  EXPECT_EQ(layer_widths(30, {2, 3, 2, 1, 0.5}), (std::vector<int>{30, 60, 90, 60, 30, 15, 1}));
  EXPECT_EQ(layer_widths(30, {2, 3, 2, 1, 0.5, 0.25}), (std::vector<int>{30, 60, 90, 60, 30, 15, 8, 1}));  // 7.5 -> 8
  EXPECT_EQ(layer_widths(5, {0.5, 0.3, 0.01}), (std::vector<int>{5, 2, 2, 1, 1}));  // 2.5 -> 2, 1.5 -> 2, 0.05 -> 1
  EXPECT_EQ(layer_widths(7, {}), (std::vector<int>{7, 1}));
}

}  // namespace
}  // namespace hf
