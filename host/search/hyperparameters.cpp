#include "host/search/hyperparameters.hpp"

#include <stdexcept>

namespace hf {

HyperparameterValue default_value(Hyperparameter key) {
  HyperparameterValue v;
  switch (key) {
    case Hyperparameter::LearningRate:
      v.number = 0.001;
      v.text = "0.001";
      break;
    case Hyperparameter::MaxEpochs:
      v.number = 8;
      v.text = "8";
      break;
    case Hyperparameter::BatchSize:
      v.number = 32;
      v.text = "32";
      break;
    case Hyperparameter::HiddenLayers:
      v.multiples = {2, 3, 2, 1, 0.5};
      v.text = "[2, 3, 2, 1, 0.5]";
      break;
    case Hyperparameter::LossFunction:
      v.code = static_cast<int>(Loss::BCE);
      v.text = "BCE";
      break;
    case Hyperparameter::ActivationFunction:
      v.code = static_cast<int>(Activation::LeakyReLU);
      v.text = "LeakyReLU";
      break;
    case Hyperparameter::Optimizer:
      v.code = static_cast<int>(Optimizer::Adam);
      v.text = "Adam";
      break;
    case Hyperparameter::Dropout:
      v.number = 0.0;
      v.text = "0.0";
      break;
    case Hyperparameter::L1Regularization:
      v.number = 0.0;
      v.text = "0.0";
      break;
    case Hyperparameter::L2Regularization:
      v.number = 0.0;
      v.text = "0.0";
      break;
    case Hyperparameter::WeightInitialization:
      v.code = static_cast<int>(WeightInit::XavierUniform);
      v.text = "xavier_uniform";
      break;
  }
  return v;
}

TrainingSettings resolve_settings(const std::vector<HyperparameterAxis>& axes, const std::vector<int>& value_index) {
  if (axes.size() != value_index.size()) throw std::logic_error("resolve_settings: one index per axis");
  TrainingSettings s;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    const HyperparameterValue& v = axes[a].values.at(static_cast<std::size_t>(value_index[a]));
    switch (axes[a].key) {
      case Hyperparameter::LearningRate: s.learning_rate = v.number; break;
      case Hyperparameter::MaxEpochs: s.max_epochs = static_cast<int>(v.number); break;
      case Hyperparameter::BatchSize: s.batch_size = static_cast<int>(v.number); break;
      case Hyperparameter::HiddenLayers: s.hidden_multiples = v.multiples; break;
      case Hyperparameter::LossFunction: s.loss = static_cast<Loss>(v.code); break;
      case Hyperparameter::ActivationFunction: s.activation = static_cast<Activation>(v.code); break;
      case Hyperparameter::Optimizer: s.optimizer = static_cast<Optimizer>(v.code); break;
      case Hyperparameter::Dropout: s.dropout = v.number; break;
      case Hyperparameter::L1Regularization: s.l1 = v.number; break;
      case Hyperparameter::L2Regularization: s.l2 = v.number; break;
      case Hyperparameter::WeightInitialization: s.weight_init = static_cast<WeightInit>(v.code); break;
    }
  }
  return s;
}

}  // namespace hf
