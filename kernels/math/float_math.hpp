// The transcendental functions the trainer uses, in one place, so both backends call the same
// implementation and a faster one can replace them without touching the math that uses them.
#pragma once

#include <math.h>

#include "kernels/math/host_device.hpp"

namespace hf {

HF_HOST_DEVICE float exp_f(float x) { return ::expf(x); }
HF_HOST_DEVICE float expm1_f(float x) { return ::expm1f(x); }
HF_HOST_DEVICE float log_f(float x) { return ::logf(x); }
HF_HOST_DEVICE float log1p_f(float x) { return ::log1pf(x); }
HF_HOST_DEVICE float tanh_f(float x) { return ::tanhf(x); }
HF_HOST_DEVICE float erf_f(float x) { return ::erff(x); }
HF_HOST_DEVICE float sqrt_f(float x) { return ::sqrtf(x); }
HF_HOST_DEVICE float abs_f(float x) { return ::fabsf(x); }
// As std::min/std::max (and PyTorch's clamp): a NaN first argument comes through, so a
// diverged network's NaN reaches its loss instead of being clamped away.
HF_HOST_DEVICE float min_f(float a, float b) { return b < a ? b : a; }
HF_HOST_DEVICE float max_f(float a, float b) { return a < b ? b : a; }
HF_HOST_DEVICE float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

}  // namespace hf
