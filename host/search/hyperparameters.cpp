#include "host/search/hyperparameters.hpp"

#include <cstdlib>
#include <stdexcept>

#include "host/common/number_format.hpp"

namespace hf {
namespace {

std::vector<HyperparameterDescriptor> make_table() {
  using H = Hyperparameter;
  using K = ValueKind;
  // Each entry: key, name, kind, range, range fix, names, default, example, doc, apply.
  return {
      {H::LearningRate, "learning_rate", K::Number, 0.0, 10.0, true, false,
       "a learning rate must be above 0 and at most 10 (typical: 0.0001 to 0.1)", nullptr, 0, "0.001", "0.001, 0.0005",
       "numbers above 0, at most 10",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.learning_rate = v.number; }},
      {H::MaxEpochs, "max_epochs", K::WholeNumber, 1, 100000, false, false, "use a whole number from 1 to 100000",
       nullptr, 0, "8", "8", "whole numbers 1 to 100,000: passes over the training data",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.max_epochs = static_cast<int>(v.number); }},
      {H::BatchSize, "batch_size", K::WholeNumber, 1, 1000000, false, false, "use a whole number from 1 to 1000000",
       nullptr, 0, "32", "32, 64", "whole numbers 1 to 1,000,000; the last batch of an epoch may be smaller",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.batch_size = static_cast<int>(v.number); }},
      {H::HiddenLayers, "hidden_layers", K::LayerMultiples, 0.0, 1000.0, true, false,
       "use a number above 0 and at most 1000", nullptr, 0, "[2, 3, 2, 1, 0.5]", "[2, 3, 2, 1, 0.5]",
       "lists of hidden-layer widths as multiples of the input width n: each layer has max(round(n × h), 1) units "
       "(Python's round, half to even); `[]` means no hidden layer",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.hidden_multiples = v.multiples; }},
      {H::LossFunction, "loss_function", K::Name, 0, 0, false, false, "", kLossNames, kLossCount, "\"BCE\"",
       "\"BCE\", \"MSE\"",
       "`BCE`, `MSE`, `Huber` (delta 1), `SmoothL1` (beta 1), `L1`; computed on the sigmoid output, mean over the "
       "batch",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.loss = static_cast<Loss>(v.code); }},
      {H::ActivationFunction, "activation_function", K::Name, 0, 0, false, false, "", kActivationNames,
       kActivationCount, "\"LeakyReLU\"", "\"ReLU\", \"Tanh\"",
       "`ELU`, `Hardshrink`, `Hardsigmoid`, `Hardtanh`, `Hardswish`, `LeakyReLU`, `LogSigmoid`, `PReLU`, `ReLU`, "
       "`ReLU6`, `RReLU`, `SELU`, `CELU`, `GELU`, `Sigmoid`, `SiLU`, `Mish`, `Softplus`, `Softshrink`, `Softsign`, "
       "`Tanh`, `Tanhshrink`, `Softmin`, `Softmax`, `LogSoftmax` — PyTorch's modules with their default arguments, "
       "after every hidden layer. `PReLU` is one learnable slope (initially 0.25) shared by all hidden layers; "
       "`RReLU` draws its slopes in training and uses their mean when evaluating; `Softmin`/`Softmax`/`LogSoftmax` "
       "act across the units of a layer",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.activation = static_cast<Activation>(v.code); }},
      {H::Optimizer, "optimizer", K::Name, 0, 0, false, false, "", kOptimizerNames, kOptimizerCount, "\"Adam\"",
       "\"Adam\", \"RMSprop\"",
       "`SGD`, `Adam`, `AdamW`, `RMSprop`, `Adagrad`, `Adamax`, `Adadelta` — torch.optim with its default arguments",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.optimizer = static_cast<Optimizer>(v.code); }},
      {H::Dropout, "dropout", K::Number, 0.0, 1.0, false, true,
       "dropout is a probability from 0 up to (not including) 1, e.g. 0.2", nullptr, 0, "0.0", "0.0, 0.2",
       "probability in [0, 1) of zeroing a hidden unit in training (survivors scaled by 1/(1-p))",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.dropout = v.number; }},
      {H::L1Regularization, "l1_regularization", K::Number, 0.0, 100.0, false, false,
       "use 0 (off) or a small positive weight such as 0.0001", nullptr, 0, "0.0", "0.0, 0.0001",
       "adds l1 × (sum of the absolute values of every parameter) to the loss; at most 100",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.l1 = v.number; }},
      {H::L2Regularization, "l2_regularization", K::Number, 0.0, 100.0, false, false,
       "use 0 (off) or a small positive weight such as 0.0001", nullptr, 0, "0.0", "0.0, 0.0001",
       "the optimizer's `weight_decay` (decoupled for AdamW, whose default 0.01 it replaces); at most 100",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.l2 = v.number; }},
      {H::WeightInitialization, "weight_initialization", K::Name, 0, 0, false, false, "", kWeightInitNames,
       kWeightInitCount, "\"xavier_uniform\"", "\"xavier_uniform\"",
       "`xavier_uniform`, `xavier_normal`, `kaiming_uniform`, `kaiming_normal`, `orthogonal`, `normal`, `uniform` — "
       "torch.nn.init with default arguments, for the weight matrices; biases are nn.Linear's U(-1/√fan_in, "
       "1/√fan_in)",
       [](const HyperparameterValue& v, TrainingSettings& s) { s.weight_init = static_cast<WeightInit>(v.code); }},
  };
}

// The numbers of a default written as a TOML list of numbers: "[2, 3, 2, 1, 0.5]".
std::vector<double> list_of_numbers(const std::string& text) {
  std::vector<double> numbers;
  const char* p = text.c_str() + 1;  // after '['
  while (*p != ']' && *p != '\0') {
    char* end = nullptr;
    numbers.push_back(std::strtod(p, &end));
    p = end;
    while (*p == ',' || *p == ' ') ++p;
  }
  return numbers;
}

}  // namespace

bool HyperparameterDescriptor::in_range(double number) const {
  const bool above = lowest_excluded ? number > lowest : number >= lowest;
  const bool below = highest_excluded ? number < highest : number <= highest;
  return above && below;
}

bool HyperparameterDescriptor::accepts(RangeKind range) const {
  switch (kind) {
    case ValueKind::Number: return range == RangeKind::Uniform || range == RangeKind::LogUniform;
    case ValueKind::WholeNumber: return range == RangeKind::IntUniform;
    case ValueKind::LayerMultiples:
    case ValueKind::Name: return false;
  }
  return false;
}

HyperparameterValue HyperparameterDescriptor::drawn_value(double number) const {
  HyperparameterValue v;
  v.number = number;
  v.text = kind == ValueKind::WholeNumber ? python_int_repr(static_cast<long long>(number)) : python_float_repr(number);
  return v;
}

HyperparameterValue HyperparameterDescriptor::default_value() const {
  HyperparameterValue v;
  v.text = default_text;
  switch (kind) {
    case ValueKind::Number:
    case ValueKind::WholeNumber: v.number = std::strtod(default_text, nullptr); break;
    case ValueKind::LayerMultiples: v.multiples = list_of_numbers(v.text); break;
    case ValueKind::Name:
      v.text = v.text.substr(1, v.text.size() - 2);  // unquoted, as the CSV shows names
      for (int i = 0; i < name_count; ++i)
        if (v.text == names[i]) v.code = i;
      break;
  }
  return v;
}

std::string HyperparameterDescriptor::normalised(const HyperparameterValue& value) const {
  switch (kind) {
    case ValueKind::LayerMultiples: {
      std::string text = "[";
      for (std::size_t i = 0; i < value.multiples.size(); ++i) {
        text += (i ? ", " : "") + python_float_repr(value.multiples[i]);
      }
      return text + "]";
    }
    case ValueKind::Name: return names[value.code];
    case ValueKind::Number:
    case ValueKind::WholeNumber: return python_float_repr(value.number);
  }
  return "";
}

const std::vector<HyperparameterDescriptor>& hyperparameter_table() {
  static const std::vector<HyperparameterDescriptor> table = make_table();
  return table;
}

const HyperparameterDescriptor& describe(Hyperparameter key) {
  return hyperparameter_table().at(static_cast<std::size_t>(key));
}

TrainingSettings resolve_settings(const std::vector<HyperparameterAxis>& axes, const std::vector<int>& value_index) {
  if (axes.size() != value_index.size()) throw std::logic_error("resolve_settings: one index per axis");
  TrainingSettings s;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    describe(axes[a].key).apply(axes[a].values.at(static_cast<std::size_t>(value_index[a])), s);
  }
  return s;
}

std::string hyperparameter_docs_table() {
  std::string table = "| key | default | values |\n|---|---|---|\n";
  for (const HyperparameterDescriptor& d : hyperparameter_table()) {
    table += std::string("| `") + d.name + "` | `[" + d.default_text + "]` | " + d.doc + " |\n";
  }
  return table;
}

}  // namespace hf
