#include "host/scoring/search_significance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>
#include <thread>

#include "host/common/random.hpp"
#include "host/scoring/median_of_reruns.hpp"
#include "host/scoring/precision_p_value.hpp"

namespace hf {
namespace {

// Keeps the shuffles apart from every other use of the search seed.
constexpr std::uint64_t kShuffleStream = 0x5045524D55544531ull;  // "PERMUTE1"

// Calls work(thread, first, end) on `threads` threads over contiguous parts of [0, count).
template <typename Work>
void in_parallel(std::size_t count, int threads, Work&& work) {
  const std::size_t parts = std::max<std::size_t>(1, std::min<std::size_t>(count, static_cast<std::size_t>(threads)));
  if (parts <= 1) {
    work(0, std::size_t{0}, count);
    return;
  }
  std::vector<std::thread> pool;
  for (std::size_t p = 0; p < parts; ++p) {
    pool.emplace_back([&, p] { work(static_cast<int>(p), count * p / parts, count * (p + 1) / parts); });
  }
  for (std::thread& t : pool) t.join();
}

// log10 p-values of a network by its true positives, for each predicted-positive count that
// occurs. Below the base rate the p-value is 1 (log10 0) with no table; from there up to a
// dozen standard deviations of the shuffled count above its mean it is tabulated; the rare
// count beyond is computed on the spot. Every value comes from precision_p_value, so a
// shuffle that reproduces the observed counts reproduces the observed p-value bit for bit.
class PValueTable {
 public:
  PValueTable(std::int64_t rows, std::int64_t positives, const std::vector<std::int64_t>& predicted_counts, int threads)
      : rows_(rows), positives_(positives) {
    std::vector<std::int64_t> counts = predicted_counts;
    std::sort(counts.begin(), counts.end());
    counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
    std::size_t size = 0;
    for (std::int64_t n : counts) {
      Range range;
      range.lowest = positives_ * n / rows_ + 1;  // the least tp whose precision beats the base rate
      const double mean = static_cast<double>(n) * positives_ / rows_;
      const double variance =
          rows_ > 1 ? mean * (rows_ - positives_) * (rows_ - n) / (static_cast<double>(rows_) * (rows_ - 1)) : 0.0;
      const std::int64_t span = static_cast<std::int64_t>(std::ceil(12.0 * std::sqrt(variance))) + 32;
      range.highest = std::min({n, positives_, range.lowest + span});
      range.offset = size;
      if (range.highest >= range.lowest) size += static_cast<std::size_t>(range.highest - range.lowest + 1);
      ranges_.emplace(n, range);
    }
    values_.resize(size);
    std::vector<std::pair<std::int64_t, Range>> work(ranges_.begin(), ranges_.end());
    in_parallel(work.size(), threads, [&](int, std::size_t first, std::size_t end) {
      for (std::size_t i = first; i < end; ++i) {
        const auto& [n, range] = work[i];
        for (std::int64_t tp = range.lowest; tp <= range.highest; ++tp) {
          values_[range.offset + static_cast<std::size_t>(tp - range.lowest)] = computed(n, tp);
        }
      }
    });
  }

  // The table of one predicted-positive count, looked up once per network.
  struct Range {
    std::int64_t lowest = 0;
    std::int64_t highest = -1;
    std::size_t offset = 0;
  };
  const Range& range(std::int64_t predicted) const { return ranges_.at(predicted); }

  double log10_p_value(std::int64_t predicted, const Range& range, std::int64_t tp) const {
    if (tp < range.lowest) return 0.0;
    if (tp <= range.highest) return values_[range.offset + static_cast<std::size_t>(tp - range.lowest)];
    return computed(predicted, tp);
  }

 private:
  double computed(std::int64_t predicted, std::int64_t tp) const {
    const ConfusionCounts counts{tp, predicted - tp, positives_ - tp, rows_ - positives_ - predicted + tp};
    return precision_p_value(counts).log10_p_value;
  }

  std::int64_t rows_;
  std::int64_t positives_;
  std::map<std::int64_t, Range> ranges_;
  std::vector<double> values_;
};

// One network as the shuffles see it.
struct Network {
  const RowBitset* predicted;
  std::int64_t predicted_count;
  const PValueTable::Range* range;
};

}  // namespace

RowBitset shuffled_labels(const RowBitset& positives, int block, std::uint64_t seed, int index) {
  const int rows = positives.rows();
  const int blocks = (rows + block - 1) / block;
  std::vector<int> order(static_cast<std::size_t>(blocks));
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 random(mix64(mix64(seed ^ kShuffleStream) + static_cast<std::uint64_t>(index)));
  for (int i = blocks - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)], order[random.below(static_cast<std::uint64_t>(i) + 1)]);
  }
  RowBitset shuffled(rows);
  int to = 0;
  for (int b : order) {
    const int end = std::min(rows, (b + 1) * block);
    for (int from = b * block; from < end; ++from, ++to) {
      if (positives.test(from)) shuffled.set(to);
    }
  }
  return shuffled;
}

std::vector<CombinationSignificance> search_significance(const std::vector<std::vector<const RowBitset*>>& combinations,
                                                         const RowBitset& positives, const PermutationTest& test) {
  std::vector<CombinationSignificance> out(combinations.size());
  if (combinations.empty()) return out;
  if (test.permutations <= 0 || test.block < 1) throw std::invalid_argument("search_significance: no permutations");

  std::vector<std::int64_t> predicted_counts;
  std::size_t most_reruns = 0;
  for (const auto& reruns : combinations) {
    if (reruns.empty()) throw std::invalid_argument("search_significance: a combination without reruns");
    most_reruns = std::max(most_reruns, reruns.size());
    for (const RowBitset* p : reruns) {
      if (p->rows() != positives.rows()) {
        throw std::logic_error("search_significance: predictions of " + std::to_string(p->rows()) +
                               " rows against labels of " + std::to_string(positives.rows()));
      }
      predicted_counts.push_back(p->count());
    }
  }
  const PValueTable table(positives.rows(), positives.count(), predicted_counts, test.threads);
  std::vector<std::vector<Network>> networks(combinations.size());
  std::size_t next = 0;
  for (std::size_t c = 0; c < combinations.size(); ++c) {
    for (const RowBitset* p : combinations[c]) {
      const std::int64_t n = predicted_counts[next++];
      networks[c].push_back({p, n, &table.range(n)});
    }
  }
  // A combination's median log10 p-value under the labels `labels`.
  const auto median = [&](const std::vector<Network>& reruns, const RowBitset& labels, std::vector<double>& scratch) {
    for (std::size_t r = 0; r < reruns.size(); ++r) {
      const Network& net = reruns[r];
      scratch[r] = table.log10_p_value(net.predicted_count, *net.range, net.predicted->count_common(labels));
    }
    return median_log10_p_value(scratch.data(), reruns.size());
  };

  std::vector<double> scratch(most_reruns);
  for (std::size_t c = 0; c < combinations.size(); ++c) {
    out[c].observed_log10_p_value = median(networks[c], positives, scratch);
  }

  // The best median of the whole search under each shuffle; each shuffle depends on its index
  // alone, so the threads' split does not change any value.
  const auto permutations = static_cast<std::size_t>(test.permutations);
  std::vector<double> best(permutations);
  in_parallel(permutations, test.threads, [&](int, std::size_t first, std::size_t end) {
    std::vector<double> local(most_reruns);
    for (std::size_t i = first; i < end; ++i) {
      const RowBitset labels = shuffled_labels(positives, test.block, test.seed, static_cast<int>(i));
      double lowest = std::numeric_limits<double>::infinity();
      for (const std::vector<Network>& reruns : networks) lowest = std::min(lowest, median(reruns, labels, local));
      best[i] = lowest;
    }
  });
  std::sort(best.begin(), best.end());
  for (CombinationSignificance& c : out) {
    const auto as_good = std::upper_bound(best.begin(), best.end(), c.observed_log10_p_value) - best.begin();
    c.search_p_value = (1.0 + static_cast<double>(as_good)) / (1.0 + static_cast<double>(permutations));
  }
  return out;
}

void add_search_p_values(std::vector<RankedCombination>& ranked, const std::vector<TrainingResult>& results,
                         const std::vector<float>& ranking_labels, const PermutationTest& test) {
  const RowBitset positives = positive_rows(ranking_labels);
  std::vector<std::vector<const RowBitset*>> combinations;
  for (const RankedCombination& c : ranked) {
    std::vector<const RowBitset*> reruns;
    for (std::size_t t : c.trainings) {
      const TrainingOutcome& outcome = results.at(t).outcome;
      const RowBitset& predicted = outcome.predicted_positives;
      if (predicted.rows() != positives.rows() || predicted.count() != outcome.counts.tp + outcome.counts.fp ||
          predicted.count_common(positives) != outcome.counts.tp) {
        throw std::logic_error(
            "permutation test: a training's stored predictions do not reproduce its confusion "
            "counts on the ranking rows");
      }
      reruns.push_back(&predicted);
    }
    combinations.push_back(std::move(reruns));
  }
  const std::vector<CombinationSignificance> significance = search_significance(combinations, positives, test);
  for (std::size_t c = 0; c < ranked.size(); ++c) {
    if (significance[c].observed_log10_p_value != ranked[c].log10_p_value) {
      throw std::logic_error("permutation test: a combination's median p-value differs from its ranked one");
    }
    ranked[c].search_p_value = significance[c].search_p_value;
  }
}

}  // namespace hf
