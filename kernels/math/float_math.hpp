// The transcendental functions the trainer uses, written out in branch-free float arithmetic
// so the CPU loops vectorise (libm's expf/tanhf/erff are scalar calls) and both backends run
// the very same arithmetic. Accuracy is a few float ulps, like the vectorised (Sleef) kernels
// PyTorch's CPU build uses; tests/float_math_test.cpp measures it against double-precision
// libm. Polynomial coefficients come from kernels/math/fit_float_math.py.
#pragma once

#include <math.h>

#include <cstdint>
#include <cstring>

#include "kernels/math/host_device.hpp"

namespace hf {

HF_HOST_DEVICE std::uint32_t bits_of(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

HF_HOST_DEVICE float float_of(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

HF_HOST_DEVICE float infinity_f() { return float_of(0x7f800000u); }
HF_HOST_DEVICE float nan_f() { return float_of(0x7fc00000u); }
HF_HOST_DEVICE float sqrt_f(float x) { return ::sqrtf(x); }
HF_HOST_DEVICE float abs_f(float x) { return ::fabsf(x); }

// As std::min/std::max (and PyTorch's clamp): a NaN first argument comes through, so a
// diverged network's NaN reaches its loss instead of being clamped away.
HF_HOST_DEVICE float min_f(float a, float b) { return b < a ? b : a; }
HF_HOST_DEVICE float max_f(float a, float b) { return a < b ? b : a; }

// Nearest integer (ties to even) of |x| < 2^22, by the 1.5 * 2^23 rounding trick.
HF_HOST_DEVICE float round_to_integer(float x) { return (x + 12582912.0f) - 12582912.0f; }

// 2^n as a float, for -126 <= n <= 127.
HF_HOST_DEVICE float power_of_two(int n) { return float_of(static_cast<std::uint32_t>(n + 127) << 23); }

inline constexpr float kLn2High = 0.693359375f;      // few bits: n * kLn2High is exact
inline constexpr float kLn2Low = -2.121944401e-04f;  // ln 2 - kLn2High

HF_HOST_DEVICE float exp_f(float x) {
  // Clamp into the range where the reduction works; NaN takes the low branch and is restored
  // at the end. Beyond 88.8 the result overflows to inf, below -104 it underflows to 0.
  const float clamped = x > -104.0f ? (x < 88.8f ? x : 88.8f) : -104.0f;
  const float n = round_to_integer(clamped * 1.44269504088896341f);
  const float r = (clamped - n * kLn2High) - n * kLn2Low;  // |r| <= ln2 / 2
  float p = 1.979035715e-04f;
  p = p * r + 1.394464927e-03f;
  p = p * r + 8.333497003e-03f;
  p = p * r + 4.166629508e-02f;
  p = p * r + 1.666666587e-01f;
  p = p * r + 5.000000068e-01f;
  const float y = (r * r * p + r) + 1.0f;
  // 2^n in two factors, so results near overflow and in the subnormal range stay exact.
  const int k = static_cast<int>(n);
  const int half = k / 2;
  const float result = y * power_of_two(half) * power_of_two(k - half);
  return x != x ? x : result;
}

HF_HOST_DEVICE float log_f(float x) {
  const bool subnormal = x < 1.17549435e-38f;
  const float scaled = subnormal ? x * 33554432.0f : x;  // 2^25
  const std::uint32_t bits = bits_of(scaled);
  int exponent = static_cast<int>((bits >> 23) & 0xffu) - 127 - (subnormal ? 25 : 0);
  float m = float_of((bits & 0x007fffffu) | 0x3f800000u);  // [1, 2)
  const bool upper = m > 1.41421356f;
  m = upper ? m * 0.5f : m;
  exponent += upper ? 1 : 0;
  const float f = m - 1.0f;  // exact; sqrt(1/2) - 1 <= f < sqrt(2) - 1
  float p = -7.634429904e-02f;
  p = p * f + 1.276155036e-01f;
  p = p * f + -1.316019506e-01f;
  p = p * f + 1.420176247e-01f;
  p = p * f + -1.662335648e-01f;
  p = p * f + 2.000122667e-01f;
  p = p * f + -2.500082106e-01f;
  p = p * f + 3.333333171e-01f;
  const float e = static_cast<float>(exponent);
  const float f2 = f * f;
  float y = f2 * f * p;
  y = y + e * kLn2Low;
  y = y - 0.5f * f2;
  float result = (f + y) + e * kLn2High;
  result = x == 0.0f ? -infinity_f() : result;
  result = x < 0.0f ? nan_f() : result;
  result = x == infinity_f() ? x : result;
  return x != x ? x : result;
}

// exp(x) - 1, accurate near 0 (Kahan's method: the rounding of exp(x) cancels out), given
// u = exp_f(x), for callers that need exp(x) as well.
HF_HOST_DEVICE float expm1_from_exp(float x, float u) {
  const float u_minus_1 = u - 1.0f;
  float result = u_minus_1 * x / log_f(u);
  result = u == 1.0f ? x : result;
  result = u_minus_1 == -1.0f ? -1.0f : result;
  result = u == infinity_f() ? u : result;
  return x != x ? x : result;
}

HF_HOST_DEVICE float expm1_f(float x) { return expm1_from_exp(x, exp_f(x)); }

// log(1 + x), accurate near 0 (Kahan's method).
HF_HOST_DEVICE float log1p_f(float x) {
  const float u = 1.0f + x;
  float result = log_f(u) * x / (u - 1.0f);
  result = u == 1.0f ? x : result;
  result = x == infinity_f() ? x : result;
  return x != x ? x : result;
}

HF_HOST_DEVICE float tanh_f(float x) {
  const float a = abs_f(x);
  const float x2 = x * x;
  float p = -5.704990371e-03f;
  p = p * x2 + 2.063909062e-02f;
  p = p * x2 + -5.373971627e-02f;
  p = p * x2 + 1.333144221e-01f;
  p = p * x2 + -3.333328194e-01f;
  const float small = x + x * x2 * p;
  const float large = 1.0f - 2.0f / (exp_f(2.0f * a) + 1.0f);
  return a < 0.625f ? small : (x < 0.0f ? -large : large);
}

HF_HOST_DEVICE float erf_f(float x) {
  const float a = abs_f(x);
  const float x2 = x * x;
  float p = 7.854024842e-05f;
  p = p * x2 + -8.010247171e-04f;
  p = p * x2 + 5.188334440e-03f;
  p = p * x2 + -2.685381603e-02f;
  p = p * x2 + 1.128358527e-01f;
  p = p * x2 + -3.761262584e-01f;
  p = p * x2 + 1.128379166e+00f;
  const float small = x * p;
  // erf = 1 - exp(-x^2) Q(u) for |x| >= 1; past 4 the product is below half an ulp of 1.
  const float u = (1.0f / min_f(a, 4.0f)) * 2.66666667f - 1.66666667f;
  float q = -1.882194855e-05f;
  q = q * u + 1.144947754e-04f;
  q = q * u + -3.497247940e-04f;
  q = q * u + 4.636559296e-04f;
  q = q * u + 2.307703340e-03f;
  q = q * u + -2.424316890e-02f;
  q = q * u + 1.433564441e-01f;
  q = q * u + 3.059529929e-01f;
  const float large = 1.0f - exp_f(-a * a) * q;
  return a < 1.0f ? small : (x < 0.0f ? -large : large);
}

HF_HOST_DEVICE float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

// a / b, rounded exactly as the division rounds it, given reciprocal = 1.0f / b (for a divisor
// shared by many divisions). Where there is fused multiply-add (GPUs, and CPUs built for it), a
// product and two FMAs replace the division, whose throughput bounds Adam's update: q = a * (1/b)
// is within an ulp of a / b, a - q * b is exact in an FMA, and q + (a - q * b) / b rounded once is
// a / b rounded (Markstein's theorem). bench/exact_division_check.cpp confirms it bit for bit for
// every significand of a and every Adam bias correction. a = 0, infinity and NaN come out as
// a / b; the callers' a stays far from overflow and underflow.
HF_HOST_DEVICE float divide_exactly(float a, float b, float reciprocal) {
#if defined(__CUDA_ARCH__)
  const float q = a * reciprocal;
  const float remainder = __fmaf_rn(-q, b, a);
  const float corrected = __fmaf_rn(remainder, reciprocal, q);
  return abs_f(q) < infinity_f() ? corrected : q;
#elif defined(__FMA__)
  const float q = a * reciprocal;
  const float remainder = __builtin_fmaf(-q, b, a);
  const float corrected = __builtin_fmaf(remainder, reciprocal, q);
  return abs_f(q) < infinity_f() ? corrected : q;
#else
  (void)reciprocal;
  return a / b;
#endif
}

}  // namespace hf
