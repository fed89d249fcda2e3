// The hyperparameters a search varies, one descriptor each: its config key, how its values are
// written and checked, its default, how the study identity compares values, its line in the
// docs and how a value sets a training's settings. The config loader, the defaults, the study
// identity and docs/CONFIG.md's table all read this one table, so adding a hyperparameter is one
// entry in hyperparameters.cpp plus the training code that uses it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/search/value_range.hpp"
#include "kernels/backend/pack_spec.hpp"

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

// One value of one hyperparameter. Which field is meaningful depends on the descriptor's kind.
struct HyperparameterValue {
  std::string text;               // as the config wrote it; the CSV shows this
  double number = 0.0;            // Number and WholeNumber kinds
  std::vector<double> multiples;  // LayerMultiples: hidden-layer widths as multiples of the input width
  int code = 0;                   // Name kind: index of the name in the descriptor's names
};

// The values one hyperparameter takes in the search: a list in config order (written as a list or
// as { choice = [...] }), or, in a random search, a range each combination draws a value from.
struct HyperparameterAxis {
  Hyperparameter key;
  std::vector<HyperparameterValue> values;  // empty when the axis is a range
  std::optional<HyperparameterRange> range{};
};

// Everything one training needs to know about its hyperparameters: the per-network settings a
// pack carries, plus the two that decide which pack it joins.
struct TrainingSettings : NetworkSettings {
  int batch_size = 32;
  std::vector<double> hidden_multiples;
};

// How a hyperparameter's values are written in a config.
enum class ValueKind {
  Number,          // a finite number in [lowest, highest] (bounds excluded where marked)
  WholeNumber,     // an integer in [lowest, highest]
  LayerMultiples,  // a list of numbers, each in (lowest, highest]
  Name,            // one of `names`, quoted
};

struct HyperparameterDescriptor {
  Hyperparameter key;
  const char* name;  // the config key and CSV column
  ValueKind kind;
  double lowest = 0.0, highest = 0.0;
  bool lowest_excluded = false, highest_excluded = false;
  const char* range_fix = "";  // how an out-of-range message says to fix it
  const char* const* names = nullptr;
  int name_count = 0;
  const char* default_text;  // the single value used when the config leaves the key out, as TOML
  const char* example;       // values for a message's "e.g."
  const char* doc;           // what the docs' table says of the values
  void (*apply)(const HyperparameterValue& value, TrainingSettings& settings);

  bool in_range(double number) const;
  // Whether a random search may draw this hyperparameter from a range of this kind: real
  // numbers from uniform and log-uniform ranges, whole numbers from int-uniform ones; lists of
  // layer widths and names only from lists.
  bool accepts(RangeKind range) const;
  // A number drawn from a range as a value, its text in Python's notation as the CSV writes
  // numbers (an int for whole numbers).
  HyperparameterValue drawn_value(double number) const;
  // The value used when the config leaves the key out.
  HyperparameterValue default_value() const;
  // A value's text by meaning, for the study identity: 1e-3 and 0.001 alike, names by code.
  std::string normalised(const HyperparameterValue& value) const;
};

// Every hyperparameter, in the canonical order (the order of keys a config leaves out).
const std::vector<HyperparameterDescriptor>& hyperparameter_table();
const HyperparameterDescriptor& describe(Hyperparameter key);
inline const char* key_name(Hyperparameter key) { return describe(key).name; }

// The settings for one value index per axis.
TrainingSettings resolve_settings(const std::vector<HyperparameterAxis>& axes, const std::vector<int>& value_index);

// docs/CONFIG.md's table of hyperparameters (key, default, values), rendered from the table; a
// test keeps the docs equal to it.
std::string hyperparameter_docs_table();

}  // namespace hf
