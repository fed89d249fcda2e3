// What a search trains: its hyperparameter axes, how combinations are chosen from them, how
// often each is retrained, the data order and what counts as a positive prediction. With the
// data, these settings are the study's identity; where and how fast it runs are not.
#pragma once

#include <cstdint>
#include <vector>

#include "host/search/hyperparameters.hpp"

namespace hf {

struct SearchSettings {
  // [hyperparameters]: the keys the config lists, in its order, then every key it left out
  // with its single default value.
  std::vector<HyperparameterAxis> axes;
  bool explore_all_combinations = true;  // false: random search
  std::uint64_t combinations_to_try = 100;
  int rerun_count = 3;
  std::uint64_t seed = 42;
  bool shuffle = false;  // false: mini-batches in file order, as the seed's DataLoader
  double prediction_threshold = 0.5;
};

}  // namespace hf
