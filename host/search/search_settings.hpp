// What a search trains: its hyperparameter axes, how combinations are chosen from them, how
// often each is retrained, the data order and what counts as a positive prediction. With the
// data, these settings are the study's identity; where and how fast it runs are not.
#pragma once

#include <cstdint>
#include <vector>

#include "host/search/hyperparameters.hpp"

namespace hf {

// [search] strategy: how the combinations are chosen and how long each trains.
enum class SearchStrategy {
  Grid,     // every combination, each for max_epochs
  Random,   // number_of_combinations_to_try drawn combinations, each for max_epochs
  Halving,  // successive halving over the grid or drawn combinations (explore_all_combinations)
};

struct SearchSettings {
  // [hyperparameters]: the keys the config lists, in its order, then every key it left out
  // with its single default value.
  std::vector<HyperparameterAxis> axes;
  SearchStrategy strategy = SearchStrategy::Grid;
  // The combinations trained: every one of the grid (true), or number_of_combinations_to_try
  // drawn at random (false). Grid and Random strategies set it; Halving reads it for its
  // candidates.
  bool explore_all_combinations = true;
  std::uint64_t combinations_to_try = 100;
  // Halving: every candidate trains min_epochs, then the best 1 / reduction_factor go on
  // (host/search/halving_schedule.hpp).
  int min_epochs = 1;
  int reduction_factor = 3;
  int rerun_count = 3;
  std::uint64_t seed = 42;
  bool shuffle = false;  // false: mini-batches in file order, as the seed's DataLoader
  double prediction_threshold = 0.5;

  bool halving() const { return strategy == SearchStrategy::Halving; }
  // Whether some axis is a range: combinations are then drawn, and numbered by their draw.
  bool has_ranges() const {
    for (const HyperparameterAxis& axis : axes)
      if (axis.range) return true;
    return false;
  }
};

}  // namespace hf
