// The search space: counting combinations, numbering them like Python's itertools.product,
// choosing the ones a grid or random search trains, training seeds, and resolving a
// combination into TrainingSettings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/config/search_config.hpp"
#include "host/search/hyperparameters.hpp"
#include "host/search/search_plan.hpp"
#include "host/search/search_space.hpp"
#include "tests/test_paths.hpp"

namespace {

// An axis of `size` values numbered 0, 1, 2, ... (text and number alike).
hf::HyperparameterAxis numbered_axis(int size, hf::Hyperparameter key = hf::Hyperparameter::LearningRate) {
  hf::HyperparameterAxis axis{key, {}, std::nullopt};
  for (int i = 0; i < size; ++i) {
    hf::HyperparameterValue v;
    v.text = std::to_string(i);
    v.number = i;
    axis.values.push_back(v);
  }
  return axis;
}

// Axes with the given numbers of values.
std::vector<hf::HyperparameterAxis> axes_of_sizes(const std::vector<int>& sizes) {
  std::vector<hf::HyperparameterAxis> axes;
  for (int size : sizes) axes.push_back(numbered_axis(size));
  return axes;
}

std::vector<std::uint64_t> first_n(std::uint64_t n) {
  std::vector<std::uint64_t> all(n);
  std::iota(all.begin(), all.end(), std::uint64_t{0});
  return all;
}

// ---------------------------------------------------------------------------------------------
// combination_count

TEST(SearchSpaceCount, ProductOfAxisSizes) {
  EXPECT_EQ(hf::combination_count(axes_of_sizes({2, 3, 4})), std::optional<std::uint64_t>(24));
  EXPECT_EQ(hf::combination_count(axes_of_sizes({1, 1, 1})), std::optional<std::uint64_t>(1));
  EXPECT_EQ(hf::combination_count(axes_of_sizes({7})), std::optional<std::uint64_t>(7));
  EXPECT_EQ(hf::combination_count({}), std::optional<std::uint64_t>(1));  // the empty product
  EXPECT_EQ(hf::combination_count(axes_of_sizes({3, 0, 5})), std::optional<std::uint64_t>(0));
}

TEST(SearchSpaceCount, OverflowIsEmptyNotWrapped) {
  // 2^63 fits; 2^64 does not.
  EXPECT_EQ(hf::combination_count(axes_of_sizes(std::vector<int>(63, 2))),
            std::optional<std::uint64_t>(std::uint64_t{1} << 63));
  EXPECT_EQ(hf::combination_count(axes_of_sizes(std::vector<int>(64, 2))), std::nullopt);
  // 3^40 (about 1.2e19) is just below 2^64; 3^41 wraps to a plausible-looking number if unchecked.
  std::uint64_t power = 1;
  for (int i = 0; i < 40; ++i) power *= 3;
  EXPECT_EQ(hf::combination_count(axes_of_sizes(std::vector<int>(40, 3))), std::optional<std::uint64_t>(power));
  EXPECT_EQ(hf::combination_count(axes_of_sizes(std::vector<int>(41, 3))), std::nullopt);
  // Overflow stays overflow even when a later axis has one value.
  std::vector<int> sizes(64, 2);
  sizes.push_back(1);
  EXPECT_EQ(hf::combination_count(axes_of_sizes(sizes)), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// combination_values

TEST(SearchSpaceValues, NumberedLikeItertoolsProduct) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({2, 3, 4});
  // list(itertools.product(range(2), range(3), range(4)))[n] for a few n.
  EXPECT_EQ(hf::combination_values(axes, 0), (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(hf::combination_values(axes, 1), (std::vector<int>{0, 0, 1}));
  EXPECT_EQ(hf::combination_values(axes, 3), (std::vector<int>{0, 0, 3}));
  EXPECT_EQ(hf::combination_values(axes, 4), (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(hf::combination_values(axes, 11), (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(hf::combination_values(axes, 12), (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(hf::combination_values(axes, 17), (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(hf::combination_values(axes, 23), (std::vector<int>{1, 2, 3}));
}

TEST(SearchSpaceValues, EveryNumberMatchesNestedLoopsWithTheLastKeyFastest) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({3, 1, 2, 5});
  std::uint64_t combination = 0;
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 1; ++b) {
      for (int c = 0; c < 2; ++c) {
        for (int d = 0; d < 5; ++d) {
          EXPECT_EQ(hf::combination_values(axes, combination), (std::vector<int>{a, b, c, d})) << combination;
          ++combination;
        }
      }
    }
  }
  EXPECT_EQ(combination, 30u);
}

TEST(SearchSpaceValues, NumbersBeyondTheSpaceAreRefused) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({2, 3, 4});
  EXPECT_THROW(hf::combination_values(axes, 24), std::out_of_range);
  EXPECT_THROW(hf::combination_values(axes, 1000), std::out_of_range);
  EXPECT_NO_THROW(hf::combination_values(axes, 23));
}

TEST(SearchSpaceValues, WorksBeyondAMillionCombinations) {
  // 10^15 combinations: the highest number is every axis's last value.
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes(std::vector<int>(15, 10));
  EXPECT_EQ(hf::combination_values(axes, 999'999'999'999'999ull), std::vector<int>(15, 9));
  std::vector<int> expected(15, 0);
  expected[0] = 1;
  expected[14] = 7;
  EXPECT_EQ(hf::combination_values(axes, 100'000'000'000'007ull), expected);
}

// ---------------------------------------------------------------------------------------------
// choose_combinations

TEST(SearchSpaceChoose, GridIsEveryCombinationInOrder) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({2, 3, 4});
  EXPECT_EQ(hf::choose_combinations(axes, true, 100, 42), first_n(24));
  // A grid ignores the count and the seed.
  EXPECT_EQ(hf::choose_combinations(axes, true, 1, 42), first_n(24));
  EXPECT_EQ(hf::choose_combinations(axes, true, 5, 7), first_n(24));
}

TEST(SearchSpaceChoose, RandomDrawsDistinctCombinationsWithinTheSpace) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({10, 10, 10});
  const std::vector<std::uint64_t> chosen = hf::choose_combinations(axes, false, 40, 42);
  ASSERT_EQ(chosen.size(), 40u);
  EXPECT_EQ(std::set<std::uint64_t>(chosen.begin(), chosen.end()).size(), 40u);
  for (std::uint64_t c : chosen) EXPECT_LT(c, 1000u);
  // Not simply the start of the grid, nor sorted: a sample, not a prefix.
  EXPECT_NE(chosen, first_n(40));
  EXPECT_FALSE(std::is_sorted(chosen.begin(), chosen.end()));
}

TEST(SearchSpaceChoose, RandomIsReproducibleForASeedAndDiffersForAnother) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({4, 5, 6, 7});
  const std::vector<std::uint64_t> a = hf::choose_combinations(axes, false, 30, 42);
  const std::vector<std::uint64_t> b = hf::choose_combinations(axes, false, 30, 42);
  const std::vector<std::uint64_t> c = hf::choose_combinations(axes, false, 30, 43);
  const std::vector<std::uint64_t> d = hf::choose_combinations(axes, false, 30, 0);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  EXPECT_NE(c, d);
}

TEST(SearchSpaceChoose, RandomWithCountAtLeastTheTotalIsTheWholeGridInOrder) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({2, 3, 4});
  EXPECT_EQ(hf::choose_combinations(axes, false, 24, 42), first_n(24));
  EXPECT_EQ(hf::choose_combinations(axes, false, 25, 42), first_n(24));
  EXPECT_EQ(hf::choose_combinations(axes, false, 1'000'000, 9), first_n(24));
  // One short of the total is a shuffled draw, not the grid.
  const std::vector<std::uint64_t> almost = hf::choose_combinations(axes, false, 23, 42);
  EXPECT_EQ(std::set<std::uint64_t>(almost.begin(), almost.end()).size(), 23u);
  EXPECT_NE(almost, first_n(23));
}

TEST(SearchSpaceChoose, RandomOnAHugeSpaceDoesNotMaterialiseIt) {
  // 10^15 combinations: a vector of them would need 8 PB, so this only passes if the draw is lazy.
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes(std::vector<int>(15, 10));
  ASSERT_EQ(hf::combination_count(axes), std::optional<std::uint64_t>(1'000'000'000'000'000ull));
  const std::vector<std::uint64_t> chosen = hf::choose_combinations(axes, false, 1000, 42);
  ASSERT_EQ(chosen.size(), 1000u);
  EXPECT_EQ(std::set<std::uint64_t>(chosen.begin(), chosen.end()).size(), 1000u);
  for (std::uint64_t c : chosen) ASSERT_LT(c, 1'000'000'000'000'000ull);
  // Spread over the space: with 1000 uniform draws, some land in the top half and some below 10%.
  const auto high =
      std::count_if(chosen.begin(), chosen.end(), [](std::uint64_t c) { return c >= 500'000'000'000'000ull; });
  const auto low =
      std::count_if(chosen.begin(), chosen.end(), [](std::uint64_t c) { return c < 100'000'000'000'000ull; });
  EXPECT_GT(high, 400);
  EXPECT_LT(high, 600);
  EXPECT_GT(low, 50);
  EXPECT_LT(low, 150);
  EXPECT_EQ(chosen, hf::choose_combinations(axes, false, 1000, 42));
  EXPECT_EQ(hf::combination_values(axes, chosen.front()).size(), 15u);
}

// Numbers cannot name the combinations of a space beyond 2^64, so neither a grid nor a random
// draw is made of one (the config loader refuses such spaces with a message).
TEST(SearchSpaceChoose, SpacesBeyond64BitsAreRefused) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes(std::vector<int>(25, 10));  // 10^25
  ASSERT_EQ(hf::combination_count(axes), std::nullopt);
  EXPECT_THROW(hf::choose_combinations(axes, false, 100, 3), std::length_error);
  EXPECT_THROW(hf::choose_combinations(axes, true, 100, 3), std::length_error);
}

TEST(SearchSpaceChoose, DenseDrawCloseToTheTotal) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({10, 10, 10});
  for (std::uint64_t count : {501u, 750u, 999u}) {
    const std::vector<std::uint64_t> chosen = hf::choose_combinations(axes, false, count, 11);
    ASSERT_EQ(chosen.size(), count);
    const std::set<std::uint64_t> distinct(chosen.begin(), chosen.end());
    EXPECT_EQ(distinct.size(), count);
    EXPECT_LT(*distinct.rbegin(), 1000u);
    EXPECT_FALSE(std::is_sorted(chosen.begin(), chosen.end())) << count;
    EXPECT_EQ(chosen, hf::choose_combinations(axes, false, count, 11));
    EXPECT_NE(chosen, hf::choose_combinations(axes, false, count, 12));
  }
}

TEST(SearchSpaceChoose, EveryCombinationIsEquallyLikely) {
  // Sparse path (1 of 10) and dense path (5 of 10), each over 2,000 seeds: every combination
  // should be drawn about 200 (sparse) or 1,000 (dense) times. Seeds are fixed, so this is exact.
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({10});
  std::vector<int> sparse(10), dense(10);
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    ++sparse[hf::choose_combinations(axes, false, 1, seed).at(0)];
    for (std::uint64_t c : hf::choose_combinations(axes, false, 5, seed)) ++dense[c];
  }
  for (int c = 0; c < 10; ++c) {
    EXPECT_GT(sparse[c], 140) << c;
    EXPECT_LT(sparse[c], 260) << c;
    EXPECT_GT(dense[c], 900) << c;
    EXPECT_LT(dense[c], 1100) << c;
  }
}

// ---------------------------------------------------------------------------------------------
// training_seed

TEST(SearchSpaceSeed, DeterministicAndDependsOnEveryPart) {
  EXPECT_EQ(hf::training_seed(42, 7, 2), hf::training_seed(42, 7, 2));
  EXPECT_NE(hf::training_seed(42, 7, 2), hf::training_seed(43, 7, 2));
  EXPECT_NE(hf::training_seed(42, 7, 2), hf::training_seed(42, 8, 2));
  EXPECT_NE(hf::training_seed(42, 7, 2), hf::training_seed(42, 7, 1));
  // The parts are not interchangeable.
  EXPECT_NE(hf::training_seed(1, 0, 0), hf::training_seed(0, 1, 0));
  EXPECT_NE(hf::training_seed(0, 1, 0), hf::training_seed(0, 0, 1));
  EXPECT_NE(hf::training_seed(0, 0, 0), 0u);
}

TEST(SearchSpaceSeed, NoCollisionsAcrossSeedsCombinationsAndReruns) {
  std::set<std::uint64_t> seen;
  for (std::uint64_t search_seed : {0ull, 1ull, 42ull, 0xFFFFFFFFFFFFFFFFull}) {
    for (std::uint64_t combination = 0; combination < 200; ++combination) {
      for (int rerun = 0; rerun < 5; ++rerun) seen.insert(hf::training_seed(search_seed, combination, rerun));
    }
  }
  EXPECT_EQ(seen.size(), 4u * 200u * 5u);
}

// ---------------------------------------------------------------------------------------------
// resolve_settings

hf::HyperparameterValue named(int code, const char* text) {
  hf::HyperparameterValue v;
  v.code = code;
  v.text = text;
  return v;
}

hf::HyperparameterValue number(double value, const char* text) {
  hf::HyperparameterValue v;
  v.number = value;
  v.text = text;
  return v;
}

TEST(SearchSpaceSettings, EveryAxisMapsToItsField) {
  // Axes deliberately out of canonical order, as a config may list them.
  hf::HyperparameterValue wide;
  wide.multiples = {4, 0.5};
  wide.text = "[4, 0.5]";
  hf::HyperparameterValue narrow;
  narrow.multiples = {1};
  narrow.text = "[1]";
  const std::vector<hf::HyperparameterAxis> axes = {
      {hf::Hyperparameter::WeightInitialization,
       {named(static_cast<int>(hf::WeightInit::KaimingNormal), "kaiming_normal"),
        named(static_cast<int>(hf::WeightInit::Orthogonal), "orthogonal")}},
      {hf::Hyperparameter::Dropout, {number(0.0, "0.0"), number(0.3, "0.3")}},
      {hf::Hyperparameter::LearningRate, {number(0.01, "0.01"), number(0.002, "0.002")}},
      {hf::Hyperparameter::MaxEpochs, {number(3, "3"), number(12, "12")}},
      {hf::Hyperparameter::BatchSize, {number(16, "16"), number(256, "256")}},
      {hf::Hyperparameter::HiddenLayers, {narrow, wide}},
      {hf::Hyperparameter::LossFunction,
       {named(static_cast<int>(hf::Loss::Huber), "Huber"), named(static_cast<int>(hf::Loss::SmoothL1), "SmoothL1")}},
      {hf::Hyperparameter::ActivationFunction,
       {named(static_cast<int>(hf::Activation::Mish), "Mish"), named(static_cast<int>(hf::Activation::SELU), "SELU")}},
      {hf::Hyperparameter::Optimizer,
       {named(static_cast<int>(hf::Optimizer::RMSprop), "RMSprop"),
        named(static_cast<int>(hf::Optimizer::Adagrad), "Adagrad")}},
      {hf::Hyperparameter::L1Regularization, {number(1e-5, "1e-05"), number(0.0, "0.0")}},
      {hf::Hyperparameter::L2Regularization, {number(0.0, "0.0"), number(1e-4, "0.0001")}},
  };

  const hf::TrainingSettings first = hf::resolve_settings(axes, std::vector<int>(11, 0));
  EXPECT_EQ(first.weight_init, hf::WeightInit::KaimingNormal);
  EXPECT_EQ(first.dropout, 0.0);
  EXPECT_EQ(first.learning_rate, 0.01);
  EXPECT_EQ(first.max_epochs, 3);
  EXPECT_EQ(first.batch_size, 16);
  EXPECT_EQ(first.hidden_multiples, (std::vector<double>{1}));
  EXPECT_EQ(first.loss, hf::Loss::Huber);
  EXPECT_EQ(first.activation, hf::Activation::Mish);
  EXPECT_EQ(first.optimizer, hf::Optimizer::RMSprop);
  EXPECT_EQ(first.l1, 1e-5);
  EXPECT_EQ(first.l2, 0.0);

  const hf::TrainingSettings second = hf::resolve_settings(axes, std::vector<int>(11, 1));
  EXPECT_EQ(second.weight_init, hf::WeightInit::Orthogonal);
  EXPECT_EQ(second.dropout, 0.3);
  EXPECT_EQ(second.learning_rate, 0.002);
  EXPECT_EQ(second.max_epochs, 12);
  EXPECT_EQ(second.batch_size, 256);
  EXPECT_EQ(second.hidden_multiples, (std::vector<double>{4, 0.5}));
  EXPECT_EQ(second.loss, hf::Loss::SmoothL1);
  EXPECT_EQ(second.activation, hf::Activation::SELU);
  EXPECT_EQ(second.optimizer, hf::Optimizer::Adagrad);
  EXPECT_EQ(second.l1, 0.0);
  EXPECT_EQ(second.l2, 1e-4);

  // Mixed indices pick per axis.
  const hf::TrainingSettings mixed = hf::resolve_settings(axes, {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
  EXPECT_EQ(mixed.weight_init, hf::WeightInit::Orthogonal);
  EXPECT_EQ(mixed.dropout, 0.0);
  EXPECT_EQ(mixed.learning_rate, 0.002);
  EXPECT_EQ(mixed.max_epochs, 3);
  EXPECT_EQ(mixed.batch_size, 256);
  EXPECT_EQ(mixed.hidden_multiples, (std::vector<double>{1}));
  EXPECT_EQ(mixed.loss, hf::Loss::SmoothL1);
  EXPECT_EQ(mixed.activation, hf::Activation::Mish);
  EXPECT_EQ(mixed.optimizer, hf::Optimizer::Adagrad);
  EXPECT_EQ(mixed.l1, 1e-5);
  EXPECT_EQ(mixed.l2, 1e-4);
}

TEST(SearchSpaceSettings, AxesLeftOutKeepTheDefaults) {
  const std::vector<hf::HyperparameterAxis> axes = {
      {hf::Hyperparameter::BatchSize, {number(64, "64")}},
  };
  const hf::TrainingSettings s = hf::resolve_settings(axes, {0});
  const hf::TrainingSettings defaults;
  EXPECT_EQ(s.batch_size, 64);
  EXPECT_EQ(s.learning_rate, defaults.learning_rate);
  EXPECT_EQ(s.max_epochs, defaults.max_epochs);
  EXPECT_EQ(s.activation, defaults.activation);
  EXPECT_EQ(s.optimizer, defaults.optimizer);
}

TEST(SearchSpaceSettings, MismatchedIndicesAreRefused) {
  const std::vector<hf::HyperparameterAxis> axes = axes_of_sizes({2, 3});
  EXPECT_THROW(hf::resolve_settings(axes, {0}), std::logic_error);
  EXPECT_THROW(hf::resolve_settings(axes, {0, 0, 0}), std::logic_error);
  EXPECT_THROW(hf::resolve_settings(axes, {0, 3}), std::out_of_range);
}

TEST(SearchSpaceSettings, ConfigCombinationResolvesThroughCombinationValues) {
  // Key order as the file lists it; the last key varies fastest.
  const std::filesystem::path path = hf::testing::scratch_dir("config") / "search.toml";
  hf::testing::write_text(path, R"([hyperparameters]
optimizer = ["SGD", "AdamW"]
batch_size = [8, 16, 32]
learning_rate = [0.1, 0.01]
)");
  const hf::SearchConfig config = hf::load_search_config(path);
  ASSERT_EQ(hf::combination_count(config.search.axes), std::optional<std::uint64_t>(12));

  // itertools.product(["SGD", "AdamW"], [8, 16, 32], [0.1, 0.01])[9] == ("AdamW", 16, 0.01)
  const std::vector<int> index = hf::combination_values(config.search.axes, 9);
  EXPECT_EQ(index[0], 1);
  EXPECT_EQ(index[1], 1);
  EXPECT_EQ(index[2], 1);
  const hf::TrainingSettings s = hf::resolve_settings(config.search.axes, index);
  EXPECT_EQ(s.optimizer, hf::Optimizer::AdamW);
  EXPECT_EQ(s.batch_size, 16);
  EXPECT_EQ(s.learning_rate, 0.01);
  EXPECT_EQ(s.max_epochs, 8);  // left out: its default
  EXPECT_EQ(s.hidden_multiples, (std::vector<double>{2, 3, 2, 1, 0.5}));

  // ... [4] == ("SGD", 32, 0.1)
  const hf::TrainingSettings t =
      hf::resolve_settings(config.search.axes, hf::combination_values(config.search.axes, 4));
  EXPECT_EQ(t.optimizer, hf::Optimizer::SGD);
  EXPECT_EQ(t.batch_size, 32);
  EXPECT_EQ(t.learning_rate, 0.1);
}

// ---------------------------------------------------------------------------------------------
// Random search over ranges: draws numbered by their order.

hf::HyperparameterAxis range_axis(hf::Hyperparameter key, hf::RangeKind kind, double low, double high) {
  return hf::HyperparameterAxis{key, {}, hf::HyperparameterRange{kind, low, high}};
}

// The drawn numbers of axis `a`, draw by draw.
std::vector<double> drawn_numbers(const hf::DrawnCombinations& drawn, std::size_t a) {
  std::vector<double> numbers;
  for (const std::vector<int>& values : drawn.values) {
    numbers.push_back(drawn.axes[a].values.at(static_cast<std::size_t>(values[a])).number);
  }
  return numbers;
}

TEST(DrawnCombinations, TheSameSeedDrawsTheSameAndEveryValueLiesInItsRange) {
  const std::vector<hf::HyperparameterAxis> axes = {
      range_axis(hf::Hyperparameter::LearningRate, hf::RangeKind::LogUniform, 1e-5, 0.1),
      range_axis(hf::Hyperparameter::Dropout, hf::RangeKind::Uniform, 0.0, 0.5),
      range_axis(hf::Hyperparameter::MaxEpochs, hf::RangeKind::IntUniform, 2, 16),
      numbered_axis(3, hf::Hyperparameter::Optimizer)};
  const hf::DrawnCombinations a = hf::draw_combinations(axes, 300, 42);
  const hf::DrawnCombinations b = hf::draw_combinations(axes, 300, 42);
  const hf::DrawnCombinations other = hf::draw_combinations(axes, 300, 43);
  ASSERT_EQ(a.values.size(), 300u);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(drawn_numbers(a, 0), drawn_numbers(b, 0));
  EXPECT_NE(drawn_numbers(a, 0), drawn_numbers(other, 0)) << "another seed, other draws";
  // A range's axis holds one value per draw, in draw order; a list's keeps its values.
  EXPECT_EQ(a.axes[0].values.size(), 300u);
  EXPECT_EQ(a.axes[3].values.size(), 3u);
  for (std::size_t d = 0; d < a.values.size(); ++d) {
    EXPECT_EQ(a.values[d][0], static_cast<int>(d));
    const hf::HyperparameterValue& rate = a.axes[0].values[d];
    EXPECT_GE(rate.number, 1e-5);
    EXPECT_LE(rate.number, 0.1);
    // Written as the CSV writes numbers, Python's repr, which reads back as the same double.
    EXPECT_EQ(std::stod(rate.text), rate.number) << rate.text;
    const double dropout = a.axes[1].values[d].number;
    EXPECT_GE(dropout, 0.0);
    EXPECT_LT(dropout, 0.5);
    const hf::HyperparameterValue& epochs = a.axes[2].values[d];
    EXPECT_EQ(epochs.number, std::floor(epochs.number));
    EXPECT_EQ(epochs.text, std::to_string(static_cast<int>(epochs.number))) << "whole numbers without .0";
    EXPECT_GE(epochs.number, 2);
    EXPECT_LE(epochs.number, 16);
  }
}

TEST(DrawnCombinations, EachRangeDrawsOnItsScale) {
  const std::vector<hf::HyperparameterAxis> axes = {
      range_axis(hf::Hyperparameter::LearningRate, hf::RangeKind::LogUniform, 1e-5, 0.1),
      range_axis(hf::Hyperparameter::Dropout, hf::RangeKind::Uniform, 0.0, 0.5),
      range_axis(hf::Hyperparameter::BatchSize, hf::RangeKind::IntUniform, 3, 6)};
  const hf::DrawnCombinations drawn = hf::draw_combinations(axes, 4000, 7);
  const auto share = [](const std::vector<double>& values, auto below) {
    return static_cast<double>(std::count_if(values.begin(), values.end(), below)) / values.size();
  };
  // Log-uniform: each decade equally often (a quarter of the draws below 1e-4, half below 1e-3).
  const std::vector<double> rates = drawn_numbers(drawn, 0);
  EXPECT_NEAR(share(rates, [](double v) { return v < 1e-4; }), 0.25, 0.03);
  EXPECT_NEAR(share(rates, [](double v) { return v < 1e-3; }), 0.50, 0.03);
  // Uniform: half below the middle, a tenth below a tenth of the way.
  const std::vector<double> dropouts = drawn_numbers(drawn, 1);
  EXPECT_NEAR(share(dropouts, [](double v) { return v < 0.25; }), 0.50, 0.03);
  EXPECT_NEAR(share(dropouts, [](double v) { return v < 0.05; }), 0.10, 0.02);
  // Whole numbers: every one of 3, 4, 5, 6 about equally often, and nothing else.
  std::map<double, int> counts;
  for (double v : drawn_numbers(drawn, 2)) ++counts[v];
  ASSERT_EQ(counts.size(), 4u);
  EXPECT_EQ(counts.begin()->first, 3.0);
  EXPECT_EQ(counts.rbegin()->first, 6.0);
  for (const auto& [value, count] : counts) EXPECT_NEAR(count, 1000, 100) << value;
}

TEST(DrawnCombinations, DrawsAreDistinctAndTheFirstStayWhenMoreAreAsked) {
  // A finite space: 3 whole numbers x 2 listed values = 6 combinations, all 6 drawn once each.
  const std::vector<hf::HyperparameterAxis> small = {
      range_axis(hf::Hyperparameter::MaxEpochs, hf::RangeKind::IntUniform, 1, 3),
      numbered_axis(2, hf::Hyperparameter::Optimizer)};
  EXPECT_EQ(hf::distinct_combinations(small), std::optional<std::uint64_t>(6));
  const hf::DrawnCombinations all = hf::draw_combinations(small, 6, 3);
  std::set<std::pair<double, int>> seen;
  for (std::size_t d = 0; d < 6; ++d) seen.insert({all.axes[0].values[d].number, all.values[d][1]});
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_THROW(hf::draw_combinations(small, 7, 3), std::length_error);

  const std::vector<hf::HyperparameterAxis> endless = {
      range_axis(hf::Hyperparameter::LearningRate, hf::RangeKind::Uniform, 0.001, 0.01),
      numbered_axis(4, hf::Hyperparameter::Optimizer)};
  EXPECT_EQ(hf::distinct_combinations(endless), std::nullopt);
  const hf::DrawnCombinations ten = hf::draw_combinations(endless, 10, 5);
  const hf::DrawnCombinations twenty = hf::draw_combinations(endless, 20, 5);
  for (std::size_t d = 0; d < 10; ++d) {
    EXPECT_EQ(ten.values[d][1], twenty.values[d][1]);
    EXPECT_EQ(ten.axes[0].values[d].number, twenty.axes[0].values[d].number);
  }
}

TEST(DrawnCombinations, ThePlanNumbersDrawsInOrderAndSeedsTheirTrainingsFromTheDrawNumber) {
  hf::SearchSettings search;
  search.strategy = hf::SearchStrategy::Random;
  search.explore_all_combinations = false;
  search.combinations_to_try = 5;
  search.rerun_count = 2;
  search.seed = 99;
  for (const hf::HyperparameterDescriptor& d : hf::hyperparameter_table())
    search.axes.push_back({d.key, {d.default_value()}, std::nullopt});
  search.axes[0] = range_axis(hf::Hyperparameter::LearningRate, hf::RangeKind::LogUniform, 1e-4, 1e-2);
  const hf::SearchPlan plan = hf::plan_search(search, 30, 100, 50, 1);
  ASSERT_EQ(plan.combinations.size(), 5u);
  ASSERT_EQ(plan.trainings.size(), 10u);
  for (std::size_t c = 0; c < 5; ++c) {
    EXPECT_EQ(plan.combinations[c].number, c);
    // The setting trained is the value the CSV shows.
    EXPECT_EQ(plan.combinations[c].settings.learning_rate, std::stod(hf::value_of(plan, plan.combinations[c], 0).text));
  }
  for (const hf::PlannedTraining& t : plan.trainings) {
    EXPECT_EQ(t.seed, hf::training_seed(99, plan.combinations[t.combination].number, t.rerun));
  }
}

}  // namespace
