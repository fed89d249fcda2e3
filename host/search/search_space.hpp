// The search space is the cartesian product of the hyperparameter axes, numbered like Python's
// itertools.product (the last key varies fastest). A combination is its number in that order,
// so a random search never has to materialise the product. A random search over ranges draws
// its combinations instead, and numbers them by their draw.
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

// A random search over axes with ranges (a range has no grid, so no grid numbers): `count`
// distinct combinations, each axis's value drawn in turn from a generator seeded by `seed` (a
// range's value from the range, a list's uniformly from the list); a draw equal to an earlier
// one is drawn again. Combinations are numbered by their draw, 0 to count - 1, so the first
// draws stay the same when `count` grows. Returns the axes with each range replaced by its
// drawn values (draw d's value at index d) and every draw's value index per axis.
struct DrawnCombinations {
  std::vector<HyperparameterAxis> axes;
  std::vector<std::vector<int>> values;  // per draw, the value index of each axis
};
DrawnCombinations draw_combinations(const std::vector<HyperparameterAxis>& axes, std::uint64_t count,
                                    std::uint64_t seed);

// How many distinct combinations a space of lists and whole-number ranges holds; empty when a
// range of real numbers makes it endless, or the count passes 2^64.
std::optional<std::uint64_t> distinct_combinations(const std::vector<HyperparameterAxis>& axes);

// The seed of one training, fixed by the search seed, the combination and the rerun alone, so
// results do not depend on how trainings are scheduled.
std::uint64_t training_seed(std::uint64_t search_seed, std::uint64_t combination, int rerun);

}  // namespace hf
