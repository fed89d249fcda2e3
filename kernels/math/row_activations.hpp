// Softmin, Softmax and LogSoftmax over the features of one row (PyTorch's implicit dim=1 for a
// 2-D input): forward, and the backward that turns dLoss/dy into dLoss/dx for the row.
//
// Written once for `Lanes` rows side by side, stored feature by feature (feature i of row r at
// [i * stride + r], stride Lanes unless given); the one-row functions at the end are Lanes = 1.
// Each row's arithmetic is the same in every form, in the same order. The CPU trainer runs 16
// rows at a time so the running maximum and sums, chains of dependent operations along a row,
// advance in vector lanes; the fused CUDA kernels keep a batch feature-major and run one row per
// thread with the batch's stride.
#pragma once

#include "kernels/math/codes.hpp"
#include "kernels/math/float_math.hpp"

namespace hf {

// y = activation(x) for Lanes rows of `width` features; x and y may not alias.
template <int Lanes>
HF_HOST_DEVICE void row_activation_forward_lanes(Activation a, const float* x, float* y, int width,
                                                 int stride = Lanes) {
  const float sign = a == Activation::Softmin ? -1.0f : 1.0f;  // softmin(x) = softmax(-x)
  float largest[Lanes], sum[Lanes];
  for (int r = 0; r < Lanes; ++r) largest[r] = sign * x[r];
  for (int i = 1; i < width; ++i)
    for (int r = 0; r < Lanes; ++r) largest[r] = max_f(largest[r], sign * x[i * stride + r]);
  for (int r = 0; r < Lanes; ++r) sum[r] = 0.0f;
  for (int i = 0; i < width; ++i) {
    for (int r = 0; r < Lanes; ++r) {
      y[i * stride + r] = exp_f(sign * x[i * stride + r] - largest[r]);
      sum[r] += y[i * stride + r];
    }
  }
  if (a == Activation::LogSoftmax) {
    float log_sum[Lanes];
    for (int r = 0; r < Lanes; ++r) log_sum[r] = log_f(sum[r]);
    for (int i = 0; i < width; ++i)
      for (int r = 0; r < Lanes; ++r) y[i * stride + r] = x[i * stride + r] - largest[r] - log_sum[r];
  } else {
    for (int i = 0; i < width; ++i)
      for (int r = 0; r < Lanes; ++r) y[i * stride + r] = y[i * stride + r] / sum[r];
  }
}

// grad (dLoss/dy on entry) becomes dLoss/dx for Lanes rows, given their forward output y.
template <int Lanes>
HF_HOST_DEVICE void row_activation_backward_lanes(Activation a, const float* y, float* grad, int width,
                                                  int stride = Lanes) {
  float total[Lanes];
  for (int r = 0; r < Lanes; ++r) total[r] = 0.0f;
  if (a == Activation::LogSoftmax) {
    for (int i = 0; i < width; ++i)
      for (int r = 0; r < Lanes; ++r) total[r] += grad[i * stride + r];
    for (int i = 0; i < width; ++i)
      for (int r = 0; r < Lanes; ++r) grad[i * stride + r] = grad[i * stride + r] - exp_f(y[i * stride + r]) * total[r];
    return;
  }
  for (int i = 0; i < width; ++i)
    for (int r = 0; r < Lanes; ++r) total[r] += grad[i * stride + r] * y[i * stride + r];
  const float sign = a == Activation::Softmin ? -1.0f : 1.0f;
  for (int i = 0; i < width; ++i)
    for (int r = 0; r < Lanes; ++r)
      grad[i * stride + r] = sign * (y[i * stride + r] * (grad[i * stride + r] - total[r]));
}

// One row: y = activation(x); x and y may not alias.
HF_HOST_DEVICE void row_activation_forward(Activation a, const float* x, float* y, int width) {
  row_activation_forward_lanes<1>(a, x, y, width);
}

// One row: grad (dLoss/dy on entry) becomes dLoss/dx, given the row's forward output y.
HF_HOST_DEVICE void row_activation_backward(Activation a, const float* y, float* grad, int width) {
  row_activation_backward_lanes<1>(a, y, grad, width);
}

}  // namespace hf
