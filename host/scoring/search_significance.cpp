#include "host/scoring/search_significance.hpp"

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
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

// log10 p-values of a network by its true positives, for each predicted-positive count n that
// occurs. Below the base rate the p-value is 1 (log10 0) with no table. From there up to a
// dozen standard deviations of the shuffled count above its mean, the one-sided Fisher test
// P(X >= tp) is tabulated with the recurrence precision_p_value uses, run once over all tp:
// log pmf(tp) upward from its first value, the tail as a multiple of pmf(tp) downward from
// where its terms vanish, so no term underflows however small. A count beyond the table (12
// standard deviations above the mean: rarer than one in 10^30 shuffles) is computed on the spot.
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
      for (std::size_t i = first; i < end; ++i) tabulate(work[i].first, work[i].second);
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
    const ConfusionCounts counts{tp, predicted - tp, positives_ - tp, rows_ - positives_ - predicted + tp};
    return precision_p_value(counts).log10_p_value;
  }

 private:
  void tabulate(std::int64_t n, const Range& range) {
    if (range.highest < range.lowest) return;
    const double N = static_cast<double>(rows_), K = static_cast<double>(positives_), n_ = static_cast<double>(n);
    // pmf(k + 1) / pmf(k) of the hypergeometric distribution.
    const auto ratio = [&](double k) { return (K - k) * (n_ - k) / ((k + 1.0) * (N - K - n_ + k + 1.0)); };
    // tail(k) / pmf(k) = 1 + ratio(k) (1 + ratio(k + 1) (1 + ...)), from the top down. The top
    // is the largest tp, or where the terms past the table have shrunk below 1e-20 of
    // pmf(highest) (they only shrink above the mean), which keeps large row counts cheap.
    std::int64_t top = range.highest;
    for (double shrink = 1.0; top < std::min(n, positives_) && shrink > 1e-20; ++top) {
      shrink *= ratio(static_cast<double>(top));
    }
    std::vector<double> tail_over_pmf(static_cast<std::size_t>(range.highest - range.lowest + 1));
    double multiple = 1.0;
    for (std::int64_t k = top - 1; k >= range.lowest; --k) {
      multiple = 1.0 + ratio(static_cast<double>(k)) * multiple;
      if (k <= range.highest) tail_over_pmf[static_cast<std::size_t>(k - range.lowest)] = multiple;
    }
    if (top <= range.highest) tail_over_pmf[static_cast<std::size_t>(top - range.lowest)] = 1.0;
    const double lowest = static_cast<double>(range.lowest);
    double log_pmf = log_choose(K, lowest) + log_choose(N - K, n_ - lowest) - log_choose(N, n_);
    for (std::int64_t k = range.lowest; k <= range.highest; ++k) {
      const double log_p = std::min(0.0, log_pmf + std::log(tail_over_pmf[static_cast<std::size_t>(k - range.lowest)]));
      values_[range.offset + static_cast<std::size_t>(k - range.lowest)] = log_p / std::log(10.0);
      log_pmf += std::log(ratio(static_cast<double>(k)));
    }
  }

  static double log_choose(double n, double k) {
    using boost::math::lgamma;  // as precision_p_value; std::lgamma writes a global (signgam) from every thread
    return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
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

__extension__ typedef unsigned __int128 Product;  // 64 x 64 bits

// Uniform in [0, bound): Lemire's multiply-and-reject, which needs a division only in the rare
// case that may be biased, where SplitMix64::below divides every time; a shuffle draws once per
// row.
std::uint64_t draw_below(SplitMix64& random, std::uint64_t bound) {
  Product product = static_cast<Product>(random.next()) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<Product>(random.next()) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

}  // namespace

RowBitset shuffled_labels(const RowBitset& positives, int block, std::uint64_t seed, int index) {
  const int rows = positives.rows();
  const int blocks = (rows + block - 1) / block;
  std::vector<int> order(static_cast<std::size_t>(blocks));
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 random(mix64(mix64(seed ^ kShuffleStream) + static_cast<std::uint64_t>(index)));
  for (int i = blocks - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)], order[draw_below(random, static_cast<std::uint64_t>(i) + 1)]);
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
  add_search_p_values(ranked, results, ranking_labels, test, {});
}

void add_search_p_values(std::vector<RankedCombination>& ranked, const std::vector<TrainingResult>& results,
                         const std::vector<float>& ranking_labels, const PermutationTest& test,
                         const std::vector<std::vector<const RowBitset*>>& also_searched) {
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
  combinations.insert(combinations.end(), also_searched.begin(), also_searched.end());
  const std::vector<CombinationSignificance> significance = search_significance(combinations, positives, test);
  for (std::size_t c = 0; c < ranked.size(); ++c) {
    // The table's recurrence and precision_p_value's sum round differently, by far less than this.
    const double observed = significance[c].observed_log10_p_value, ranked_value = ranked[c].log10_p_value;
    if (!(std::fabs(observed - ranked_value) <= 1e-9 * std::max(1.0, std::fabs(ranked_value)))) {
      throw std::logic_error("permutation test: a combination's median p-value differs from its ranked one");
    }
    ranked[c].search_p_value = significance[c].search_p_value;
  }
}

}  // namespace hf
