// Losses of the sigmoid output p against the 0/1 label y, per element, as PyTorch computes them
// (reduction 'mean' divides by the batch outside), and dLoss/dp.
#pragma once

#include <type_traits>

#include "kernels/math/codes.hpp"
#include "kernels/math/float_math.hpp"

namespace hf {

inline constexpr float kBceLogFloor = -100.0f;  // PyTorch clamps log(p) and log(1-p) here
inline constexpr float kBceGradientEpsilon = 1e-12f;
inline constexpr float kHuberDelta = 1.0f;
inline constexpr float kSmoothL1Beta = 1.0f;

HF_HOST_DEVICE float loss_value(Loss loss, float p, float y) {
  const float d = p - y;
  switch (loss) {
    case Loss::BCE: return -(y * max_f(log_f(p), kBceLogFloor) + (1.0f - y) * max_f(log_f(1.0f - p), kBceLogFloor));
    case Loss::MSE: return d * d;
    case Loss::Huber: return abs_f(d) < kHuberDelta ? 0.5f * d * d : kHuberDelta * (abs_f(d) - 0.5f * kHuberDelta);
    case Loss::SmoothL1:
      return abs_f(d) < kSmoothL1Beta ? 0.5f * d * d / kSmoothL1Beta : abs_f(d) - 0.5f * kSmoothL1Beta;
    case Loss::L1: return abs_f(d);
  }
  return 0.0f;
}

// dLoss/dp for one element, scaled by `norm` (1/batch for the mean), in PyTorch's order of
// operations.
HF_HOST_DEVICE float loss_gradient(Loss loss, float p, float y, float norm) {
  const float d = p - y;
  switch (loss) {
    case Loss::BCE: return norm * d / max_f((1.0f - p) * p, kBceGradientEpsilon);
    case Loss::MSE: return 2.0f * d * norm;
    case Loss::Huber: return d < -kHuberDelta ? -norm * kHuberDelta : (d > kHuberDelta ? norm * kHuberDelta : norm * d);
    case Loss::SmoothL1: return d <= -kSmoothL1Beta ? -norm : (d >= kSmoothL1Beta ? norm : norm * d / kSmoothL1Beta);
    case Loss::L1: return d > 0.0f ? norm : (d < 0.0f ? -norm : 0.0f);
  }
  return 0.0f;
}

// dLoss/dz for the output pre-activation z, through the sigmoid p = sigmoid(z).
HF_HOST_DEVICE float output_gradient(Loss loss, float p, float y, float norm) {
  return loss_gradient(loss, p, y, norm) * (1.0f - p) * p;
}

// Calls f(std::integral_constant<Loss, l>{}), so a loop can be instantiated for one loss.
template <typename F>
HF_HOST_DEVICE void with_loss(Loss l, F&& f) {
  switch (l) {
    case Loss::BCE: f(std::integral_constant<Loss, Loss::BCE>{}); return;
    case Loss::MSE: f(std::integral_constant<Loss, Loss::MSE>{}); return;
    case Loss::Huber: f(std::integral_constant<Loss, Loss::Huber>{}); return;
    case Loss::SmoothL1: f(std::integral_constant<Loss, Loss::SmoothL1>{}); return;
    case Loss::L1: f(std::integral_constant<Loss, Loss::L1>{}); return;
  }
}

}  // namespace hf
