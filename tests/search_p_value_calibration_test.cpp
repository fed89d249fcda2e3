// Does the search p-value mean what it says? 40 small searches on data whose labels are
// independent of the features: the best combination's raw median p-value is at most 0.05 far
// more often than 5% of the time (in 20% to 40% of the searches: docs/SIGNIFICANCE.md quotes the
// 30% measured), its search p-value is not (at most 15% of the searches, nominally 5%). And on
// data with a real signal (a label of feature 0 plus twice as much noise), the best
// combination's search p-value is at most 0.01. Tiny networks on a few hundred rows, one thread:
// about 5 s.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "host/common/random.hpp"
#include "host/run/run_search.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;

constexpr int kFeatures = 5;

// Rows of standard normal features; the label is a coin flip (`signal` 0) or whether
// feature 0 plus noise of standard deviation 1/signal is positive.
std::string generated_rows(int rows, double signal, std::uint64_t seed) {
  SplitMix64 random(seed);
  const auto uniform = [&] { return (static_cast<double>(random.next() >> 11) + 0.5) * 0x1.0p-53; };
  const auto normal = [&] { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); };
  std::string text;
  char cell[32];
  for (int r = 0; r < rows; ++r) {
    double first = 0.0;
    for (int f = 0; f < kFeatures; ++f) {
      const double x = normal();
      if (f == 0) first = x;
      std::snprintf(cell, sizeof cell, "%.6f,", x);
      text += cell;
    }
    const bool label = signal > 0.0 ? first + normal() / signal > 0.0 : uniform() < 0.5;
    text += label ? "1\n" : "0\n";
  }
  return text;
}

// 16 combinations x `reruns` of 5 epochs over 200 training and 200 test rows, ranked on the
// test rows (where ranking and reporting share rows, the case the search p-value is for).
// Learning rates from timid to reckless, so that networks trained on noise disagree.
SearchSummary small_search(const fs::path& dir, double signal, std::uint64_t seed, int reruns) {
  testing::write_text(dir / "train.csv", generated_rows(200, signal, mix64(seed)));
  testing::write_text(dir / "test.csv", generated_rows(200, signal, mix64(seed + 0x1000)));
  testing::write_text(dir / "search.toml",
                      "[data]\ntrain = \"train.csv\"\ntest = \"test.csv\"\n[search]\nrerun_count = " +
                          std::to_string(reruns) + "\nseed = " + std::to_string(seed) + R"(
permutations = 1000
[execution]
device = "cpu"
cpu_count = 1
[output]
dir = "results"
[hyperparameters]
learning_rate = [0.1, 0.03, 0.01, 0.003]
optimizer = ["Adam", "SGD"]
activation_function = ["Tanh", "ReLU"]
max_epochs = [5]
batch_size = [16]
hidden_layers = [[2]]
)");
  return run_search(load_search_config(dir / "search.toml"), {}, nullptr, nullptr);
}

TEST(SearchPValueCalibration, UnderTheNullTheBestRawPValueMisleadsAndTheSearchPValueDoesNot) {
  constexpr int kSearches = 40;
  int raw_significant = 0, search_significant = 0;
  for (int s = 0; s < kSearches; ++s) {
    const SearchSummary summary = small_search(testing::scratch_dir("null" + std::to_string(s)), 0.0, 1000 + s, 1);
    ASSERT_EQ(summary.results.ranked.size(), 16u);
    const RankedCombination& best = summary.results.ranked.front();
    ASSERT_GT(best.search_p_value, 0.0);
    raw_significant += best.p_value <= 0.05;
    search_significant += best.search_p_value <= 0.05;
  }
  const double raw_share = static_cast<double>(raw_significant) / kSearches;
  const double search_share = static_cast<double>(search_significant) / kSearches;
  std::printf(
      "[ figures  ] %d searches without signal: best raw median p <= 0.05 in %.3f of them, best search "
      "p-value <= 0.05 in %.3f (nominal 0.05)\n",
      kSearches, raw_share, search_share);
  // The searches are seeded, so the share is the same on every run of one build: 12 of 40 (30%,
  // the figure docs/SIGNIFICANCE.md quotes) in the GCC builds. Another compiler's float
  // contraction or another CPU's libxsmm kernels can move a best p-value near 0.05 across the
  // line, so the doc's 30% is held to +-4 searches; a raw p-value that did not mislead (5%)
  // would reach 8 of 40 for 0.07% of seed sets.
  EXPECT_GE(raw_significant, 8) << "the best raw p-value no longer misleads as docs/SIGNIFICANCE.md says";
  EXPECT_LE(raw_significant, 16) << "docs/SIGNIFICANCE.md's 30% is out of date";
  EXPECT_LE(search_share, 0.15);
}

TEST(SearchPValueCalibration, ARealSignalIsFoundSignificantAfterTheSearch) {
  const SearchSummary summary = small_search(testing::scratch_dir("signal"), 0.5, 77, 3);
  ASSERT_FALSE(summary.results.ranked.empty());
  const RankedCombination& best = summary.results.ranked.front();
  std::printf("[ figures  ] with signal: best raw median p %.3g, search p-value %.4g\n", best.p_value,
              best.search_p_value);
  EXPECT_LE(best.search_p_value, 0.01);
  EXPECT_GT(best.search_p_value, 0.0);
}

}  // namespace
}  // namespace hf
