// Hidden-layer activations with PyTorch's default parameters: forward value and derivative,
// written as PyTorch's CPU kernels compute them. Element-wise ones are templates so the CPU
// loops vectorise; Softmin/Softmax/LogSoftmax act on a whole row (see row_activations.hpp).
#pragma once

#include <type_traits>

#include "kernels/math/codes.hpp"
#include "kernels/math/float_math.hpp"

namespace hf {

inline constexpr float kLeakyReluSlope = 0.01f;
inline constexpr float kPreluInitialSlope = 0.25f;
inline constexpr float kRreluLower = 1.0f / 8.0f;
inline constexpr float kRreluUpper = 1.0f / 3.0f;
// RReLU in eval mode uses the mean slope; in training each element draws its own.
inline constexpr float kRreluEvalSlope = (kRreluLower + kRreluUpper) / 2.0f;
inline constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
inline constexpr float kSeluScale = 1.0507009873554804934193349852946f;
inline constexpr float kShrinkLambda = 0.5f;
inline constexpr float kSoftplusThreshold = 20.0f;

// Activations whose derivative needs an expensive piece of the forward pass again (an exp, erf
// or tanh of the input) are written in two steps: activation_part<A>(x) computes that piece and
// activate_with_part / derivative_with_part finish them from it. activate and
// activation_derivative below run both steps; the CPU trainer keeps the part from the forward
// pass for the backward pass.
template <Activation A>
constexpr bool has_activation_part() {
  using Act = Activation;
  return A == Act::ELU || A == Act::CELU || A == Act::SELU || A == Act::LogSigmoid || A == Act::GELU ||
         A == Act::SiLU || A == Act::Mish || A == Act::Softplus || A == Act::Tanhshrink;
}

template <Activation A>
HF_HOST_DEVICE float activation_part(float x) {
  using Act = Activation;
  static_assert(has_activation_part<A>(), "only activations with a part have one");
  if constexpr (A == Act::ELU || A == Act::CELU || A == Act::SELU || A == Act::Softplus) {
    return exp_f(x);
  } else if constexpr (A == Act::LogSigmoid) {
    return exp_f(-abs_f(x));
  } else if constexpr (A == Act::GELU) {
    return erf_f(x * 0.70710678118654752440f);
  } else if constexpr (A == Act::SiLU) {
    return exp_f(-x);
  } else if constexpr (A == Act::Mish) {
    return tanh_f(log1p_f(exp_f(x)));  // tanh(softplus(x))
  } else {
    return tanh_f(x);  // Tanhshrink
  }
}

template <Activation A>
HF_HOST_DEVICE float activate_with_part(float x, float part) {
  using Act = Activation;
  if constexpr (A == Act::ELU || A == Act::CELU) {  // alpha = 1 makes CELU equal to ELU
    return x <= 0.0f ? expm1_from_exp(x, part) : x;
  } else if constexpr (A == Act::SELU) {
    return x <= 0.0f ? expm1_from_exp(x, part) * (kSeluAlpha * kSeluScale) : x * kSeluScale;
  } else if constexpr (A == Act::LogSigmoid) {
    return min_f(x, 0.0f) - log1p_f(part);
  } else if constexpr (A == Act::GELU) {
    return x * 0.5f * (1.0f + part);
  } else if constexpr (A == Act::SiLU) {
    return x / (1.0f + part);
  } else if constexpr (A == Act::Mish) {
    return x * part;
  } else if constexpr (A == Act::Softplus) {
    return x > kSoftplusThreshold ? x : log1p_f(part);
  } else {
    static_assert(A == Act::Tanhshrink, "an activation with a part");
    return x - part;
  }
}

template <Activation A>
HF_HOST_DEVICE float derivative_with_part(float x, float part) {
  using Act = Activation;
  if constexpr (A == Act::ELU || A == Act::CELU) {
    return x <= 0.0f ? part : 1.0f;
  } else if constexpr (A == Act::SELU) {
    return x <= 0.0f ? (kSeluAlpha * kSeluScale) * part : kSeluScale;
  } else if constexpr (A == Act::LogSigmoid) {
    return x < 0.0f ? 1.0f - part / (1.0f + part) : part / (1.0f + part);
  } else if constexpr (A == Act::GELU) {
    const float cdf = 0.5f * (1.0f + part);
    const float pdf = exp_f(-0.5f * x * x) * 0.39894228040143267794f;
    return cdf + x * pdf;
  } else if constexpr (A == Act::SiLU) {
    const float s = 1.0f / (1.0f + part);  // sigmoid_f(x)
    return s * (1.0f + x * (1.0f - s));
  } else if constexpr (A == Act::Mish) {
    const float s = sigmoid_f(x);
    return part + x * s * (1.0f - part * part);
  } else if constexpr (A == Act::Softplus) {
    return x > kSoftplusThreshold ? 1.0f : part / (part + 1.0f);
  } else {
    static_assert(A == Act::Tanhshrink, "an activation with a part");
    return part * part;
  }
}

// `slope` is the negative-side slope of PReLU (learned) and RReLU (drawn, or the mean in eval
// mode); other activations ignore it.
template <Activation A>
HF_HOST_DEVICE float activate(float x, float slope) {
  using Act = Activation;
  if constexpr (has_activation_part<A>()) {
    return activate_with_part<A>(x, activation_part<A>(x));
  } else if constexpr (A == Act::Hardshrink) {
    return (x >= -kShrinkLambda && x <= kShrinkLambda) ? 0.0f : x;
  } else if constexpr (A == Act::Hardsigmoid) {
    return min_f(max_f(x + 3.0f, 0.0f), 6.0f) / 6.0f;
  } else if constexpr (A == Act::Hardtanh) {
    return min_f(max_f(x, -1.0f), 1.0f);
  } else if constexpr (A == Act::Hardswish) {
    return x * min_f(max_f(x + 3.0f, 0.0f), 6.0f) / 6.0f;
  } else if constexpr (A == Act::LeakyReLU) {
    return x > 0.0f ? x : x * kLeakyReluSlope;
  } else if constexpr (A == Act::PReLU || A == Act::RReLU) {
    return x > 0.0f ? x : x * slope;
  } else if constexpr (A == Act::ReLU) {
    return max_f(x, 0.0f);
  } else if constexpr (A == Act::ReLU6) {
    return min_f(max_f(x, 0.0f), 6.0f);
  } else if constexpr (A == Act::Sigmoid) {
    return sigmoid_f(x);
  } else if constexpr (A == Act::Softshrink) {
    return x > kShrinkLambda ? x - kShrinkLambda : (x < -kShrinkLambda ? x + kShrinkLambda : 0.0f);
  } else if constexpr (A == Act::Softsign) {
    return x / (abs_f(x) + 1.0f);
  } else if constexpr (A == Act::Tanh) {
    return tanh_f(x);
  } else {
    static_assert(!is_row_activation(A), "row activations live in row_activations.hpp");
    return x;
  }
}

// d activate(x) / dx, given the input x and the output y = activate(x) (Tanh and Sigmoid use
// the output, as PyTorch's backward does).
template <Activation A>
HF_HOST_DEVICE float activation_derivative(float x, float y, float slope) {
  using Act = Activation;
  if constexpr (has_activation_part<A>()) {
    return derivative_with_part<A>(x, activation_part<A>(x));
  } else if constexpr (A == Act::Hardshrink || A == Act::Softshrink) {
    return (x >= -kShrinkLambda && x <= kShrinkLambda) ? 0.0f : 1.0f;
  } else if constexpr (A == Act::Hardsigmoid) {
    return (x > -3.0f && x < 3.0f) ? 1.0f / 6.0f : 0.0f;
  } else if constexpr (A == Act::Hardtanh) {
    return (x <= -1.0f || x >= 1.0f) ? 0.0f : 1.0f;
  } else if constexpr (A == Act::Hardswish) {
    return x < -3.0f ? 0.0f : (x <= 3.0f ? x / 3.0f + 0.5f : 1.0f);
  } else if constexpr (A == Act::LeakyReLU) {
    return x > 0.0f ? 1.0f : kLeakyReluSlope;
  } else if constexpr (A == Act::PReLU || A == Act::RReLU) {
    return x > 0.0f ? 1.0f : slope;
  } else if constexpr (A == Act::ReLU) {
    return x > 0.0f ? 1.0f : 0.0f;
  } else if constexpr (A == Act::ReLU6) {
    return (x <= 0.0f || x >= 6.0f) ? 0.0f : 1.0f;
  } else if constexpr (A == Act::Sigmoid) {
    return (1.0f - y) * y;
  } else if constexpr (A == Act::Softsign) {
    const float d = abs_f(x) + 1.0f;
    return 1.0f / (d * d);
  } else if constexpr (A == Act::Tanh) {
    return 1.0f - y * y;
  } else {
    static_assert(!is_row_activation(A), "row activations live in row_activations.hpp");
    return 1.0f;
  }
}

// Calls f(std::integral_constant<Activation, a>{}) for an element-wise activation `a`, so a
// loop can be instantiated for it; returns false for the row activations.
template <typename F>
HF_HOST_DEVICE bool with_elementwise_activation(Activation a, F&& f) {
  using A = Activation;
  switch (a) {
    case A::ELU: f(std::integral_constant<A, A::ELU>{}); return true;
    case A::Hardshrink: f(std::integral_constant<A, A::Hardshrink>{}); return true;
    case A::Hardsigmoid: f(std::integral_constant<A, A::Hardsigmoid>{}); return true;
    case A::Hardtanh: f(std::integral_constant<A, A::Hardtanh>{}); return true;
    case A::Hardswish: f(std::integral_constant<A, A::Hardswish>{}); return true;
    case A::LeakyReLU: f(std::integral_constant<A, A::LeakyReLU>{}); return true;
    case A::LogSigmoid: f(std::integral_constant<A, A::LogSigmoid>{}); return true;
    case A::PReLU: f(std::integral_constant<A, A::PReLU>{}); return true;
    case A::ReLU: f(std::integral_constant<A, A::ReLU>{}); return true;
    case A::ReLU6: f(std::integral_constant<A, A::ReLU6>{}); return true;
    case A::RReLU: f(std::integral_constant<A, A::RReLU>{}); return true;
    case A::SELU: f(std::integral_constant<A, A::SELU>{}); return true;
    case A::CELU: f(std::integral_constant<A, A::CELU>{}); return true;
    case A::GELU: f(std::integral_constant<A, A::GELU>{}); return true;
    case A::Sigmoid: f(std::integral_constant<A, A::Sigmoid>{}); return true;
    case A::SiLU: f(std::integral_constant<A, A::SiLU>{}); return true;
    case A::Mish: f(std::integral_constant<A, A::Mish>{}); return true;
    case A::Softplus: f(std::integral_constant<A, A::Softplus>{}); return true;
    case A::Softshrink: f(std::integral_constant<A, A::Softshrink>{}); return true;
    case A::Softsign: f(std::integral_constant<A, A::Softsign>{}); return true;
    case A::Tanh: f(std::integral_constant<A, A::Tanh>{}); return true;
    case A::Tanhshrink: f(std::integral_constant<A, A::Tanhshrink>{}); return true;
    case A::Softmin:
    case A::Softmax:
    case A::LogSoftmax: return false;
  }
  return false;
}

// Contribution of one element to dLoss/dslope of PReLU, given dLoss/dy.
HF_HOST_DEVICE float prelu_slope_gradient(float x, float grad_output) { return x > 0.0f ? 0.0f : x * grad_output; }

// RReLU's training-time slope for one element, from a uniform draw in [0, 1).
HF_HOST_DEVICE float rrelu_slope(float uniform) { return kRreluLower + (kRreluUpper - kRreluLower) * uniform; }

}  // namespace hf
