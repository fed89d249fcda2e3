#include "host/search/search_space.hpp"

#include <algorithm>
#include <cstring>
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

DrawnCombinations draw_combinations(const std::vector<HyperparameterAxis>& axes, std::uint64_t count,
                                    std::uint64_t seed) {
  DrawnCombinations drawn;
  drawn.axes = axes;
  for (HyperparameterAxis& axis : drawn.axes) {
    if (axis.range) axis.values.clear();
  }
  const std::optional<std::uint64_t> distinct = distinct_combinations(axes);
  if (distinct && *distinct < count)
    throw std::length_error("draw_combinations: fewer distinct combinations than asked");  // the loader refuses these
  SplitMix64 random(mix64(seed ^ 0xD4A3C0FFEEull));
  // Draws are told apart by a 64-bit hash of their values: equal hashes count as a repeat, which
  // at worst costs one more draw, the same in every run.
  std::unordered_set<std::uint64_t> seen;
  std::vector<double> numbers(axes.size());
  std::vector<int> index(axes.size());
  while (drawn.values.size() < count) {
    std::uint64_t hash = 0;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const HyperparameterAxis& axis = axes[a];
      if (axis.range) {
        numbers[a] = axis.range->value_at(unit_interval(random.next()));
        std::uint64_t bits = 0;
        static_assert(sizeof bits == sizeof numbers[a]);
        std::memcpy(&bits, &numbers[a], sizeof bits);
        hash = mix64(hash ^ bits);
      } else {
        index[a] = static_cast<int>(random.below(axis.values.size()));
        hash = mix64(hash ^ static_cast<std::uint64_t>(index[a]));
      }
    }
    if (!seen.insert(hash).second) continue;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      if (!axes[a].range) continue;
      index[a] = static_cast<int>(drawn.axes[a].values.size());
      drawn.axes[a].values.push_back(describe(axes[a].key).drawn_value(numbers[a]));
    }
    drawn.values.push_back(index);
  }
  return drawn;
}

std::optional<std::uint64_t> distinct_combinations(const std::vector<HyperparameterAxis>& axes) {
  std::uint64_t total = 1;
  for (const HyperparameterAxis& axis : axes) {
    std::uint64_t n = axis.values.size();
    if (axis.range) {
      if (axis.range->kind != RangeKind::IntUniform) return std::nullopt;
      n = static_cast<std::uint64_t>(axis.range->high - axis.range->low) + 1;
    }
    if (n == 0) return 0;
    if (total > UINT64_MAX / n) return std::nullopt;
    total *= n;
  }
  return total;
}

std::uint64_t training_seed(std::uint64_t search_seed, std::uint64_t combination, int rerun) {
  return mix64(mix64(mix64(search_seed) + combination) + static_cast<std::uint64_t>(rerun));
}

}  // namespace hf
