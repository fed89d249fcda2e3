// The shared float transcendental functions against double-precision libm: the largest error
// in float ulps over dense sweeps, and the special values (NaN, infinities, zero, subnormals).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "kernels/math/float_math.hpp"
#include "kernels/math/optimizers.hpp"

namespace hf {
namespace {

// Error of `actual` in units of the float spacing at the exact result.
double ulps(float actual, double exact) {
  const float rounded = static_cast<float>(exact);
  if (rounded == 0.0f) return actual == 0.0f ? 0.0 : std::fabs(actual) / std::numeric_limits<float>::denorm_min();
  const double spacing =
      std::nextafter(std::fabs(rounded), std::numeric_limits<float>::infinity()) - std::fabs(rounded);
  return std::fabs(static_cast<double>(actual) - exact) / spacing;
}

struct Sweep {
  const char* name;
  std::function<float(float)> mine;
  std::function<double(double)> exact;
  double low, high;
  double max_ulps;
};

double worst_ulps(const Sweep& s, float* worst_at) {
  double worst = 0.0;
  const int n = 400000;
  for (int i = 0; i <= n; ++i) {
    const float x = static_cast<float>(s.low + (s.high - s.low) * i / n);
    const double e = ulps(s.mine(x), s.exact(static_cast<double>(x)));
    if (e > worst) {
      worst = e;
      *worst_at = x;
    }
  }
  return worst;
}

TEST(FloatMath, WithinAFewUlpsOfDoublePrecisionLibm) {
  const Sweep sweeps[] = {
      {"exp", exp_f, [](double x) { return std::exp(x); }, -87.0, 88.7, 2.0},
      {"exp near 0", exp_f, [](double x) { return std::exp(x); }, -1.0, 1.0, 2.0},
      {"exp subnormal results", exp_f, [](double x) { return std::exp(x); }, -103.0, -87.5, 2.0},
      {"log", log_f, [](double x) { return std::log(x); }, 1e-6, 1e4, 2.0},
      {"log near 1", log_f, [](double x) { return std::log(x); }, 0.5, 2.0, 2.0},
      {"expm1", expm1_f, [](double x) { return std::expm1(x); }, -20.0, 20.0, 3.0},
      {"expm1 near 0", expm1_f, [](double x) { return std::expm1(x); }, -1e-3, 1e-3, 3.0},
      {"log1p", log1p_f, [](double x) { return std::log1p(x); }, -0.999, 1e3, 3.0},
      {"log1p near 0", log1p_f, [](double x) { return std::log1p(x); }, -1e-3, 1e-3, 3.0},
      {"tanh", tanh_f, [](double x) { return std::tanh(x); }, -12.0, 12.0, 3.0},
      {"tanh near 0", tanh_f, [](double x) { return std::tanh(x); }, -0.7, 0.7, 3.0},
      {"erf", erf_f, [](double x) { return std::erf(x); }, -6.0, 6.0, 3.0},
      {"erf near 0", erf_f, [](double x) { return std::erf(x); }, -1.1, 1.1, 3.0},
      {"sigmoid", sigmoid_f, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, -30.0, 30.0, 3.0},
  };
  for (const Sweep& s : sweeps) {
    float at = 0;
    const double worst = worst_ulps(s, &at);
    EXPECT_LE(worst, s.max_ulps) << s.name << ": " << worst << " ulps at x = " << at;
    RecordProperty(s.name, std::to_string(worst));
  }
}

TEST(FloatMath, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (const auto& f : {exp_f, log_f, expm1_f, log1p_f, tanh_f, erf_f, sigmoid_f}) EXPECT_TRUE(std::isnan(f(nan)));
  EXPECT_EQ(exp_f(inf), inf);
  EXPECT_EQ(exp_f(-inf), 0.0f);
  EXPECT_EQ(exp_f(89.0f), inf);
  EXPECT_EQ(exp_f(-110.0f), 0.0f);
  EXPECT_EQ(exp_f(0.0f), 1.0f);
  EXPECT_EQ(log_f(0.0f), -inf);
  EXPECT_TRUE(std::isnan(log_f(-1.0f)));
  EXPECT_EQ(log_f(inf), inf);
  EXPECT_EQ(log_f(1.0f), 0.0f);
  EXPECT_NEAR(log_f(1e-40f), std::log(1e-40), 1e-5);  // a subnormal input
  EXPECT_EQ(expm1_f(inf), inf);
  EXPECT_EQ(expm1_f(-inf), -1.0f);
  EXPECT_EQ(expm1_f(-200.0f), -1.0f);
  EXPECT_EQ(expm1_f(1e-30f), 1e-30f);
  EXPECT_EQ(log1p_f(-1.0f), -inf);
  EXPECT_EQ(log1p_f(inf), inf);
  EXPECT_TRUE(std::isnan(log1p_f(-2.0f)));
  EXPECT_EQ(log1p_f(1e-30f), 1e-30f);
  EXPECT_EQ(tanh_f(inf), 1.0f);
  EXPECT_EQ(tanh_f(-inf), -1.0f);
  EXPECT_EQ(tanh_f(0.0f), 0.0f);
  EXPECT_EQ(erf_f(inf), 1.0f);
  EXPECT_EQ(erf_f(-inf), -1.0f);
  EXPECT_EQ(erf_f(0.0f), 0.0f);
  EXPECT_EQ(sigmoid_f(-inf), 0.0f);
  EXPECT_EQ(sigmoid_f(inf), 1.0f);
  EXPECT_TRUE(std::isnan(max_f(nan, 0.0f)));
  EXPECT_TRUE(std::isnan(min_f(nan, 0.0f)));
}

// divide_exactly against the division, bit for bit, on a sample of what Adam divides: every
// 97th bias correction with 2^16 dividends spread over the significands and over the range
// the square root of a float takes (bench/exact_division_check covers every case).
TEST(FloatMath, DivideExactlyRoundsAsTheDivision) {
  long compared = 0;
  for (long long t = 1; t < 17000; t += 97) {
    const OptimizerStep s = optimizer_step_scalars(Optimizer::Adam, 0.001, 0.0, t);
    for (std::uint32_t i = 0; i < (1u << 16); ++i) {
      // Significand bits from a multiplicative hash of i, the exponent cycling over 2^-75..2^63.
      const std::uint32_t significand = (i * 2654435761u) >> 9;
      const std::uint32_t exponent = 52u + (i % 139u);
      const float a = float_of((exponent << 23) | significand);
      ASSERT_EQ(bits_of(divide_exactly(a, s.bias_correction2_sqrt, s.bias_correction2_sqrt_reciprocal)),
                bits_of(a / s.bias_correction2_sqrt))
          << a << " / " << s.bias_correction2_sqrt << " (step " << t << ")";
      ++compared;
    }
    for (const float a : {0.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
      EXPECT_EQ(bits_of(divide_exactly(a, s.bias_correction2_sqrt, s.bias_correction2_sqrt_reciprocal)),
                bits_of(a / s.bias_correction2_sqrt));
    }
  }
  EXPECT_GT(compared, 10'000'000);
}

}  // namespace
}  // namespace hf
