// exact_division_check: the proof behind divide_exactly (kernels/math/float_math.hpp), which
// Adam's update uses for sqrt(v) / bias_correction2_sqrt. For every bias correction a training
// can reach (step 1 until it rounds to 1.0f, about 10,000 distinct values) and every one of the
// 2^23 float significands of the dividend in [1, 2), it compares divide_exactly with the
// division bit for bit. Other exponents of the dividend scale both sides exactly (the dividend,
// the square root of a float, lies between 2^-75 and 2^64, far from overflow and underflow);
// a sample of them is checked as well. Prints the mismatches found: 0 is the proof. About a
// minute on one core.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/math/float_math.hpp"
#include "kernels/math/optimizers.hpp"

namespace {

// Mismatches over every significand with the given exponent bits.
long mismatches(float divisor, float reciprocal, std::uint32_t exponent_bits) {
  long count = 0;
  for (std::uint32_t significand = 0; significand < (1u << 23); ++significand) {
    const float a = hf::float_of(exponent_bits | significand);
    count += hf::divide_exactly(a, divisor, reciprocal) != a / divisor;
  }
  return count;
}

}  // namespace

int main() {
#if defined(__FMA__)
  std::puts("exact_division_check: divide_exactly uses the FMA correction on this build");
#else
  std::puts("exact_division_check: this build has no FMA, divide_exactly is the division itself");
#endif
  std::vector<hf::OptimizerStep> steps;
  long long t = 1;
  for (;; ++t) {
    const hf::OptimizerStep s = hf::optimizer_step_scalars(hf::Optimizer::Adam, 0.001, 0.0, t);
    if (steps.empty() || steps.back().bias_correction2_sqrt != s.bias_correction2_sqrt) steps.push_back(s);
    if (s.bias_correction2_sqrt == 1.0f) break;
  }
  const auto started = std::chrono::steady_clock::now();
  long total = 0, checked = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const float b = steps[i].bias_correction2_sqrt, reciprocal = steps[i].bias_correction2_sqrt_reciprocal;
    total += mismatches(b, reciprocal, 0x3f800000u);  // [1, 2)
    checked += 1 << 23;
    if (i % 500 == 0) {  // dividends near 2^-75 and 2^63
      total += mismatches(b, reciprocal, 0x1a000000u) + mismatches(b, reciprocal, 0x5f000000u);
      checked += 2 << 23;
    }
    // Zero, infinity and NaN come through as the division gives them.
    for (const float a : {0.0f, hf::infinity_f(), hf::nan_f()}) {
      const float expected = a / b, actual = hf::divide_exactly(a, b, reciprocal);
      total += std::memcmp(&expected, &actual, sizeof actual) != 0;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%zu bias corrections (steps 1 to %lld), %ld dividends checked in %.0f s: %ld mismatches\n", steps.size(),
              t, checked, seconds, total);
  return total == 0 ? 0 : 1;
}
