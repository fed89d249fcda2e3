// The hyperparameters a search varies: their keys, the values a config lists for them, and the
// settings of one training resolved from a chosen value of each.
#pragma once

#include <string>
#include <vector>

#include "kernels/math/codes.hpp"

namespace hf {

enum class Hyperparameter {
  LearningRate,
  MaxEpochs,
  BatchSize,
  HiddenLayers,
  LossFunction,
  ActivationFunction,
  Optimizer,
  Dropout,
  L1Regularization,
  L2Regularization,
  WeightInitialization,
};
inline constexpr int kHyperparameterCount = 11;

// The config key of each hyperparameter, in the canonical order (used for keys left out).
inline constexpr const char* kHyperparameterKeys[kHyperparameterCount] = {
    "learning_rate",        "max_epochs", "batch_size", "hidden_layers",     "loss_function",
    "activation_function",  "optimizer",  "dropout",    "l1_regularization", "l2_regularization",
    "weight_initialization"};

inline const char* key_name(Hyperparameter h) { return kHyperparameterKeys[static_cast<int>(h)]; }

// One value of one hyperparameter. Which field is meaningful depends on the key.
struct HyperparameterValue {
  std::string text;               // as the config wrote it; the CSV shows this
  double number = 0.0;            // learning rate, epochs, batch size, dropout, L1, L2
  std::vector<double> multiples;  // hidden_layers: widths as multiples of the input width
  int code = 0;                   // loss, activation, optimizer, initialization: index of the name
};

// The values one hyperparameter takes in the search, in config order.
struct HyperparameterAxis {
  Hyperparameter key;
  std::vector<HyperparameterValue> values;
};

// Everything one training needs to know about its hyperparameters.
struct TrainingSettings {
  double learning_rate = 0.001;
  int max_epochs = 8;
  int batch_size = 32;
  std::vector<double> hidden_multiples;
  Loss loss = Loss::BCE;
  Activation activation = Activation::LeakyReLU;
  Optimizer optimizer = Optimizer::Adam;
  double dropout = 0.0;
  double l1 = 0.0;
  double l2 = 0.0;
  WeightInit weight_init = WeightInit::XavierUniform;
};

// The settings for one value index per axis.
TrainingSettings resolve_settings(const std::vector<HyperparameterAxis>& axes, const std::vector<int>& value_index);

// The single value a hyperparameter takes when the config leaves it out.
HyperparameterValue default_value(Hyperparameter key);

}  // namespace hf
