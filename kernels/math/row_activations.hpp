// Softmin, Softmax and LogSoftmax over the features of one row (PyTorch's implicit dim=1 for a
// 2-D input): forward, and the backward that turns dLoss/dy into dLoss/dx for the row.
#pragma once

#include "kernels/math/codes.hpp"
#include "kernels/math/float_math.hpp"

namespace hf {

// y = activation(x) for one row of `width` features; x and y may not alias.
HF_HOST_DEVICE void row_activation_forward(Activation a, const float* x, float* y, int width) {
  const float sign = a == Activation::Softmin ? -1.0f : 1.0f;  // softmin(x) = softmax(-x)
  float largest = sign * x[0];
  for (int i = 1; i < width; ++i) largest = max_f(largest, sign * x[i]);
  float sum = 0.0f;
  for (int i = 0; i < width; ++i) {
    y[i] = exp_f(sign * x[i] - largest);
    sum += y[i];
  }
  if (a == Activation::LogSoftmax) {
    const float log_sum = log_f(sum);
    for (int i = 0; i < width; ++i) y[i] = x[i] - largest - log_sum;
  } else {
    for (int i = 0; i < width; ++i) y[i] = y[i] / sum;
  }
}

// grad (dLoss/dy on entry) becomes dLoss/dx, given the row's forward output y.
HF_HOST_DEVICE void row_activation_backward(Activation a, const float* y, float* grad, int width) {
  if (a == Activation::LogSoftmax) {
    float grad_sum = 0.0f;
    for (int i = 0; i < width; ++i) grad_sum += grad[i];
    for (int i = 0; i < width; ++i) grad[i] = grad[i] - exp_f(y[i]) * grad_sum;
    return;
  }
  float dot = 0.0f;
  for (int i = 0; i < width; ++i) dot += grad[i] * y[i];
  const float sign = a == Activation::Softmin ? -1.0f : 1.0f;
  for (int i = 0; i < width; ++i) grad[i] = sign * (y[i] * (grad[i] - dot));
}

}  // namespace hf
