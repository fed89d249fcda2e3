// The per-network choices a pack carries as small integer codes (activation, loss, optimizer,
// weight initialization), in the order their names are listed for users.
#pragma once

#include <cstdint>

namespace hf {

enum class Activation : std::uint8_t {
  ELU,
  Hardshrink,
  Hardsigmoid,
  Hardtanh,
  Hardswish,
  LeakyReLU,
  LogSigmoid,
  PReLU,
  ReLU,
  ReLU6,
  RReLU,
  SELU,
  CELU,
  GELU,
  Sigmoid,
  SiLU,
  Mish,
  Softplus,
  Softshrink,
  Softsign,
  Tanh,
  Tanhshrink,
  Softmin,
  Softmax,
  LogSoftmax,
};
inline constexpr int kActivationCount = 25;
inline constexpr const char* kActivationNames[kActivationCount] = {
    "ELU",        "Hardshrink", "Hardsigmoid", "Hardtanh",  "Hardswish",  "LeakyReLU", "LogSigmoid",
    "PReLU",      "ReLU",       "ReLU6",       "RReLU",     "SELU",       "CELU",      "GELU",
    "Sigmoid",    "SiLU",       "Mish",        "Softplus",  "Softshrink", "Softsign",  "Tanh",
    "Tanhshrink", "Softmin",    "Softmax",     "LogSoftmax"};

// Softmin, Softmax and LogSoftmax mix the features of a row (PyTorch's dim=None picks dim 1
// for a 2-D input); every other activation acts element by element.
constexpr bool is_row_activation(Activation a) {
  return a == Activation::Softmin || a == Activation::Softmax || a == Activation::LogSoftmax;
}

enum class Loss : std::uint8_t { BCE, MSE, Huber, SmoothL1, L1 };
inline constexpr int kLossCount = 5;
inline constexpr const char* kLossNames[kLossCount] = {"BCE", "MSE", "Huber", "SmoothL1", "L1"};

enum class Optimizer : std::uint8_t { SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Adadelta };
inline constexpr int kOptimizerCount = 7;
inline constexpr const char* kOptimizerNames[kOptimizerCount] = {"SGD",     "Adam",   "AdamW",   "RMSprop",
                                                                 "Adagrad", "Adamax", "Adadelta"};

enum class WeightInit : std::uint8_t {
  XavierUniform,
  XavierNormal,
  KaimingUniform,
  KaimingNormal,
  Orthogonal,
  Normal,
  Uniform,
};
inline constexpr int kWeightInitCount = 7;
inline constexpr const char* kWeightInitNames[kWeightInitCount] = {
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "normal", "uniform"};

}  // namespace hf
