#include "host/search/search_space.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <unordered_set>

#include "host/common/random.hpp"

namespace hf {

std::optional<std::uint64_t> combination_count(const std::vector<HyperparameterAxis>& axes) {
  std::uint64_t total = 1;
  for (const HyperparameterAxis& axis : axes) {
    const std::uint64_t n = axis.values.size();
    if (n == 0) return 0;
    if (total > UINT64_MAX / n) return std::nullopt;
    total *= n;
  }
  return total;
}

std::vector<int> combination_values(const std::vector<HyperparameterAxis>& axes, std::uint64_t combination) {
  std::vector<int> index(axes.size());
  for (std::size_t a = axes.size(); a-- > 0;) {
    const std::uint64_t n = axes[a].values.size();
    index[a] = static_cast<int>(combination % n);
    combination /= n;
  }
  if (combination != 0) throw std::out_of_range("combination number beyond the search space");
  return index;
}

std::vector<std::uint64_t> choose_combinations(const std::vector<HyperparameterAxis>& axes, bool grid,
                                               std::uint64_t count, std::uint64_t seed) {
  const std::optional<std::uint64_t> total = combination_count(axes);
  if (!total) throw std::length_error("the search space has more than 2^64 combinations");  // the loader refuses these
  if (grid || *total <= count) {
    std::vector<std::uint64_t> all(*total);
    std::iota(all.begin(), all.end(), std::uint64_t{0});
    return all;
  }
  const std::uint64_t space = *total;
  SplitMix64 random(mix64(seed ^ 0x5EA4C4ull));
  std::vector<std::uint64_t> chosen;
  chosen.reserve(count);
  if (space <= 2 * count) {
    // Dense: a partial Fisher-Yates shuffle of every index.
    std::vector<std::uint64_t> all(space);
    std::iota(all.begin(), all.end(), std::uint64_t{0});
    for (std::uint64_t i = 0; i < count; ++i) {
      std::swap(all[i], all[i + random.below(space - i)]);
      chosen.push_back(all[i]);
    }
    return chosen;
  }
  // Sparse: draw and reject repeats; at least half the space is free, so this ends quickly.
  std::unordered_set<std::uint64_t> seen;
  while (chosen.size() < count) {
    const std::uint64_t candidate = random.below(space);
    if (seen.insert(candidate).second) chosen.push_back(candidate);
  }
  return chosen;
}

std::uint64_t training_seed(std::uint64_t search_seed, std::uint64_t combination, int rerun) {
  return mix64(mix64(mix64(search_seed) + combination) + static_cast<std::uint64_t>(rerun));
}

}  // namespace hf
