// The search space is the cartesian product of the hyperparameter axes, numbered like Python's
// itertools.product (the last key varies fastest). A combination is its number in that order,
// so a random search never has to materialise the product.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "host/search/hyperparameters.hpp"

namespace hf {

// How many combinations the axes span; empty when the count does not fit in 64 bits.
std::optional<std::uint64_t> combination_count(const std::vector<HyperparameterAxis>& axes);

// The value index of every axis for combination number `combination`.
std::vector<int> combination_values(const std::vector<HyperparameterAxis>& axes, std::uint64_t combination);

// The combinations a search trains: the whole grid in order, or `count` distinct ones drawn
// without replacement from `seed` (every combination, in grid order, when there are no more
// than `count`). Throws std::length_error for a space beyond 2^64 combinations, which
// numbers cannot name (the config loader refuses those).
std::vector<std::uint64_t> choose_combinations(const std::vector<HyperparameterAxis>& axes, bool grid,
                                               std::uint64_t count, std::uint64_t seed);

// The seed of one training, fixed by the search seed, the combination and the rerun alone, so
// results do not depend on how trainings are scheduled.
std::uint64_t training_seed(std::uint64_t search_seed, std::uint64_t combination, int rerun);

}  // namespace hf
