// Parameter updates of PyTorch's optimizers with their default settings (torch.optim, single-
// tensor path), one element at a time. Step-dependent scalars are computed once per step in
// double precision, as PyTorch computes them in Python floats: on the host for the CPU trainer
// and the per-primitive CUDA path, by one thread of each block in the fused CUDA kernels.
#pragma once

#include <cmath>
#include <type_traits>

#include "kernels/math/codes.hpp"
#include "kernels/math/float_math.hpp"

namespace hf {

inline constexpr double kAdamBeta1 = 0.9, kAdamBeta2 = 0.999, kAdamEpsilon = 1e-8;
inline constexpr double kRmspropAlpha = 0.99, kRmspropEpsilon = 1e-8;
inline constexpr double kAdagradEpsilon = 1e-10;
inline constexpr double kAdadeltaRho = 0.9, kAdadeltaEpsilon = 1e-6;

// Scalars of one optimizer step of one network.
struct OptimizerStep {
  float learning_rate = 0.0f;
  float weight_decay = 0.0f;  // L2 regularization; coupled except for AdamW
  float step_size = 0.0f;     // learning rate over the first-moment bias correction
  float bias_correction2_sqrt = 1.0f;
  float bias_correction2_sqrt_reciprocal = 1.0f;  // 1.0f / bias_correction2_sqrt, for divide_exactly
  float decoupled_decay = 1.0f;                   // AdamW: parameters shrink by this factor first
};

HF_HOST_DEVICE OptimizerStep optimizer_step_scalars(Optimizer optimizer, double learning_rate, double weight_decay,
                                                    long long step /* 1-based */) {
  OptimizerStep s;
  s.learning_rate = static_cast<float>(learning_rate);
  s.weight_decay = static_cast<float>(weight_decay);
  const double t = static_cast<double>(step);
  // ::pow and ::sqrt (math.h's double functions) on the host and in CUDA device code alike.
  const double bias_correction1 = 1.0 - ::pow(kAdamBeta1, t);
  s.step_size = static_cast<float>(learning_rate / bias_correction1);
  s.bias_correction2_sqrt = static_cast<float>(::sqrt(1.0 - ::pow(kAdamBeta2, t)));
  s.bias_correction2_sqrt_reciprocal = 1.0f / s.bias_correction2_sqrt;
  if (optimizer == Optimizer::AdamW) s.decoupled_decay = static_cast<float>(1.0 - learning_rate * weight_decay);
  return s;
}

// How many per-parameter state tensors the optimizer keeps (moments, accumulators).
constexpr int optimizer_state_count(Optimizer optimizer) {
  switch (optimizer) {
    case Optimizer::SGD: return 0;
    case Optimizer::RMSprop:
    case Optimizer::Adagrad: return 1;
    default: return 2;
  }
}

template <Optimizer O>
HF_HOST_DEVICE void optimizer_update(float& param, float grad, float& state1, float& state2, const OptimizerStep& s) {
  constexpr float beta1 = static_cast<float>(kAdamBeta1), beta2 = static_cast<float>(kAdamBeta2);
  constexpr float one_minus_beta1 = static_cast<float>(1.0 - kAdamBeta1);
  constexpr float one_minus_beta2 = static_cast<float>(1.0 - kAdamBeta2);
  constexpr float adam_epsilon = static_cast<float>(kAdamEpsilon);
  if constexpr (O == Optimizer::AdamW) {
    param = param * s.decoupled_decay;
  } else {
    if (s.weight_decay != 0.0f) grad = grad + s.weight_decay * param;
  }
  if constexpr (O == Optimizer::SGD) {
    param = param - s.learning_rate * grad;
  } else if constexpr (O == Optimizer::Adam || O == Optimizer::AdamW) {
    state1 = state1 * beta1 + grad * one_minus_beta1;
    state2 = state2 * beta2 + grad * grad * one_minus_beta2;
    const float denom =
        divide_exactly(sqrt_f(state2), s.bias_correction2_sqrt, s.bias_correction2_sqrt_reciprocal) + adam_epsilon;
    param = param - s.step_size * (state1 / denom);
  } else if constexpr (O == Optimizer::RMSprop) {
    constexpr float alpha = static_cast<float>(kRmspropAlpha);
    constexpr float one_minus_alpha = static_cast<float>(1.0 - kRmspropAlpha);
    state1 = state1 * alpha + grad * grad * one_minus_alpha;
    const float avg = sqrt_f(state1) + static_cast<float>(kRmspropEpsilon);
    param = param - s.learning_rate * (grad / avg);
  } else if constexpr (O == Optimizer::Adagrad) {
    state1 = state1 + grad * grad;
    const float std_dev = sqrt_f(state1) + static_cast<float>(kAdagradEpsilon);
    param = param - s.learning_rate * (grad / std_dev);
  } else if constexpr (O == Optimizer::Adamax) {
    state1 = state1 * beta1 + grad * one_minus_beta1;
    state2 = max_f(state2 * beta2, abs_f(grad) + adam_epsilon);
    param = param - s.step_size * (state1 / state2);
  } else if constexpr (O == Optimizer::Adadelta) {
    constexpr float rho = static_cast<float>(kAdadeltaRho);
    constexpr float one_minus_rho = static_cast<float>(1.0 - kAdadeltaRho);
    constexpr float epsilon = static_cast<float>(kAdadeltaEpsilon);
    state1 = state1 * rho + grad * grad * one_minus_rho;
    const float std_dev = sqrt_f(state1 + epsilon);
    const float delta = sqrt_f(state2 + epsilon) / std_dev * grad;
    state2 = state2 * rho + delta * delta * one_minus_rho;
    param = param - s.learning_rate * delta;
  }
}

// Calls f(std::integral_constant<Optimizer, o>{}), so an update loop can be instantiated for it.
template <typename F>
HF_HOST_DEVICE void with_optimizer(Optimizer o, F&& f) {
  using O = Optimizer;
  switch (o) {
    case O::SGD: f(std::integral_constant<O, O::SGD>{}); return;
    case O::Adam: f(std::integral_constant<O, O::Adam>{}); return;
    case O::AdamW: f(std::integral_constant<O, O::AdamW>{}); return;
    case O::RMSprop: f(std::integral_constant<O, O::RMSprop>{}); return;
    case O::Adagrad: f(std::integral_constant<O, O::Adagrad>{}); return;
    case O::Adamax: f(std::integral_constant<O, O::Adamax>{}); return;
    case O::Adadelta: f(std::integral_constant<O, O::Adadelta>{}); return;
  }
}

}  // namespace hf
