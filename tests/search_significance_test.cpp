// The search-adjusted p-values: the permutation test's search p-value against SciPy's Fisher
// exact test (tests/fixtures/fisher_exact.txt), its shuffles (seeded, in blocks), its
// independence of the thread count, Holm's and Benjamini-Hochberg's adjustments, and the
// bitsets the predictions are stored in.
#include <gtest/gtest.h>

#include <cmath>

#include "host/data/row_bitset.hpp"
#include "host/scoring/multiple_testing.hpp"
#include "host/scoring/precision_p_value.hpp"
#include "host/scoring/search_significance.hpp"
#include "tests/fixture_file.hpp"

namespace hf {
namespace {

// Labels with the first `positives` of `rows` rows positive, and a network predicting `tp` of
// them and `predicted - tp` negatives.
struct OneNetwork {
  RowBitset labels;
  RowBitset predicted;
};

OneNetwork one_network(int rows, int positives, int predicted, int tp) {
  OneNetwork n{RowBitset(rows), RowBitset(rows)};
  for (int r = 0; r < positives; ++r) n.labels.set(r);
  for (int r = 0; r < tp; ++r) n.predicted.set(r);
  for (int r = 0; r < predicted - tp; ++r) n.predicted.set(positives + r);
  return n;
}

// With one network, a shuffle's true positives are hypergeometric: the search p-value is a
// Monte Carlo estimate of the one-sided Fisher exact test's p-value.
TEST(SearchSignificance, OneNetworkAgreesWithScipysFisherExactTest) {
  const std::vector<testing::FixtureCase> cases = testing::read_fixture_file("fisher_exact.txt");
  ASSERT_EQ(cases.size(), 8u);
  PermutationTest test;
  test.permutations = 20000;
  test.seed = 11;
  test.threads = 2;
  for (const testing::FixtureCase& c : cases) {
    const std::vector<double>& counts = c.at("counts");
    const double fisher = c.at("fisher_p")[0];
    const int rows = static_cast<int>(counts[0]), positives = static_cast<int>(counts[1]),
              predicted = static_cast<int>(counts[2]), tp = static_cast<int>(counts[3]);
    const OneNetwork n = one_network(rows, positives, predicted, tp);
    const std::vector<CombinationSignificance> result = search_significance({{&n.predicted}}, n.labels, test);
    ASSERT_EQ(result.size(), 1u);
    const ConfusionCounts observed{tp, predicted - tp, positives - tp, rows - positives - predicted + tp};
    const double expected = precision_p_value(observed).log10_p_value;
    EXPECT_NEAR(result[0].observed_log10_p_value, expected, 1e-12 * std::fabs(expected)) << c.name;
    // 4.5 standard errors of a binomial share, plus the +1 of the estimator.
    const double tolerance = 4.5 * std::sqrt(fisher * (1 - fisher) / test.permutations) + 1.0 / test.permutations;
    EXPECT_NEAR(result[0].search_p_value, fisher, tolerance) << c.name;
  }
}

std::vector<OneNetwork> some_networks() {
  std::vector<OneNetwork> networks;
  for (int tp : {12, 9, 14, 7, 10, 11}) networks.push_back(one_network(90, 30, 25, tp));
  return networks;
}

std::vector<std::vector<const RowBitset*>> three_combinations_of_two(const std::vector<OneNetwork>& networks) {
  return {{&networks[0].predicted, &networks[1].predicted},
          {&networks[2].predicted, &networks[3].predicted},
          {&networks[4].predicted, &networks[5].predicted}};
}

TEST(SearchSignificance, SameResultForAnyThreadCountAndOtherSeedsOtherShuffles) {
  const std::vector<OneNetwork> networks = some_networks();
  const auto combinations = three_combinations_of_two(networks);
  PermutationTest test;
  test.permutations = 300;
  test.seed = 7;
  std::vector<double> first;
  for (int threads : {1, 2, 5}) {
    test.threads = threads;
    std::vector<double> p;
    for (const CombinationSignificance& c : search_significance(combinations, networks[0].labels, test))
      p.push_back(c.search_p_value);
    if (first.empty()) first = p;
    EXPECT_EQ(p, first) << threads << " threads";
  }
  test.seed = 8;
  std::vector<double> other;
  for (const CombinationSignificance& c : search_significance(combinations, networks[0].labels, test))
    other.push_back(c.search_p_value);
  EXPECT_NE(other, first);
}

// Each shuffle's best over three combinations is at least as good as its best over one, so a
// combination's search p-value in the whole search is at least its p-value searched alone (the
// same seed gives the same shuffles), and the best observed combination has the smallest.
TEST(SearchSignificance, SearchPValuesAccountForEveryCombination) {
  const std::vector<OneNetwork> networks = some_networks();
  const auto combinations = three_combinations_of_two(networks);
  PermutationTest test;
  test.permutations = 2000;
  test.seed = 3;
  const std::vector<CombinationSignificance> all = search_significance(combinations, networks[0].labels, test);
  ASSERT_EQ(all.size(), 3u);
  std::size_t best = 0;
  bool larger = false;
  for (std::size_t c = 0; c < all.size(); ++c) {
    const std::vector<CombinationSignificance> alone = search_significance({combinations[c]}, networks[0].labels, test);
    EXPECT_EQ(all[c].observed_log10_p_value, alone[0].observed_log10_p_value);
    EXPECT_GE(all[c].search_p_value, alone[0].search_p_value) << c;
    larger = larger || all[c].search_p_value > alone[0].search_p_value;
    if (all[c].observed_log10_p_value < all[best].observed_log10_p_value) best = c;
    EXPECT_GT(all[c].search_p_value, 0.0);
    EXPECT_LE(all[c].search_p_value, 1.0);
  }
  EXPECT_TRUE(larger) << "searching three combinations costs at least one of them significance";
  for (const CombinationSignificance& c : all) EXPECT_GE(c.search_p_value, all[best].search_p_value);
}

TEST(SearchSignificance, NoSkillGetsOneAndOverwhelmingSkillGetsTheSmallestShare) {
  const OneNetwork none = one_network(100, 50, 20, 10);   // precision at the base rate: p-value 1
  const OneNetwork sharp = one_network(100, 50, 40, 40);  // every prediction right
  PermutationTest test;
  test.permutations = 999;
  const std::vector<CombinationSignificance> result =
      search_significance({{&none.predicted}, {&sharp.predicted}}, none.labels, test);
  EXPECT_EQ(result[0].observed_log10_p_value, 0.0);
  EXPECT_EQ(result[0].search_p_value, 1.0);
  EXPECT_EQ(result[1].search_p_value, 1.0 / 1000.0);
}

TEST(SearchSignificance, ShufflesKeepThePositivesAndMoveWholeBlocks) {
  RowBitset labels(120);
  for (int r = 0; r < 120; ++r) {
    if ((r / 6) % 3 == 0) labels.set(r);  // blocks of 6 rows share their label
  }
  const RowBitset once = shuffled_labels(labels, 6, 42, 5);
  EXPECT_EQ(once, shuffled_labels(labels, 6, 42, 5)) << "seeded: the same index gives the same shuffle";
  EXPECT_NE(once, shuffled_labels(labels, 6, 42, 6));
  EXPECT_NE(once, labels);
  EXPECT_EQ(once.count(), labels.count());
  for (int r = 0; r < 120; ++r) EXPECT_EQ(once.test(r), once.test(r - r % 6)) << "row " << r << " left its block";

  // Row by row, the 6-row runs break up.
  const RowBitset rows = shuffled_labels(labels, 1, 42, 5);
  EXPECT_EQ(rows.count(), labels.count());
  int broken = 0;
  for (int r = 0; r < 120; ++r) broken += rows.test(r) != rows.test(r - r % 6);
  EXPECT_GT(broken, 20);

  // A last block shorter than the others moves too, whole.
  RowBitset tail(23);
  for (int r = 20; r < 23; ++r) tail.set(r);
  for (int index = 0; index < 20; ++index) {
    const RowBitset moved = shuffled_labels(tail, 5, 1, index);
    EXPECT_EQ(moved.count(), 3);
    int first = 0;
    while (!moved.test(first)) ++first;
    EXPECT_TRUE(moved.test(first + 1) && moved.test(first + 2)) << "index " << index;
  }
}

TEST(SearchSignificance, PredictionsOfAnotherRowCountAreRefused) {
  const OneNetwork n = one_network(50, 20, 10, 6);
  const RowBitset shorter(49);
  EXPECT_THROW(search_significance({{&shorter}}, n.labels, PermutationTest{}), std::logic_error);
}

TEST(MultipleTesting, HolmAndBenjaminiHochbergAsPAdjustComputesThem) {
  // R: p.adjust(c(0.005, 0.01, 0.03, 0.04), "holm") and "BH".
  const std::vector<double> p = {0.005, 0.01, 0.03, 0.04};
  std::vector<double> log10_p;
  for (double v : p) log10_p.push_back(std::log10(v));
  const std::vector<double> holm = holm_log10_p_values(log10_p);
  const std::vector<double> bh = benjamini_hochberg_log10_p_values(log10_p);
  const std::vector<double> expected_holm = {0.02, 0.03, 0.06, 0.06};  // 4p, 3p, 2p, then the running maximum
  const std::vector<double> expected_bh = {0.02, 0.02, 0.04, 0.04};    // 4p/1, 4p/2 -> min with 4p/3 ...
  for (std::size_t i = 0; i < p.size(); ++i) {
    EXPECT_NEAR(std::pow(10.0, holm[i]), expected_holm[i], 1e-15) << i;
    EXPECT_NEAR(std::pow(10.0, bh[i]), expected_bh[i], 1e-15) << i;
  }
  // Capped at 1, and monotone.
  const std::vector<double> large = {std::log10(0.3), std::log10(0.6), std::log10(0.9)};
  EXPECT_NEAR(std::pow(10.0, holm_log10_p_values(large)[0]), 0.9, 1e-15);
  EXPECT_EQ(holm_log10_p_values(large)[1], 0.0);
  EXPECT_EQ(holm_log10_p_values(large)[2], 0.0);
  for (double v : benjamini_hochberg_log10_p_values(large)) EXPECT_NEAR(std::pow(10.0, v), 0.9, 1e-15);
  // Far below double range, in log10.
  const std::vector<double> tiny = {-400.0, -300.0};
  EXPECT_NEAR(holm_log10_p_values(tiny)[0], -400.0 + std::log10(2.0), 1e-12);
  EXPECT_NEAR(benjamini_hochberg_log10_p_values(tiny)[0], -400.0 + std::log10(2.0), 1e-12);
  EXPECT_THROW(holm_log10_p_values({-1.0, -2.0}), std::invalid_argument);
}

TEST(RowBitset, CountsSharedRowsAndStoresBitsInAFixedByteOrder) {
  RowBitset a(70), b(70);
  for (int r : {0, 1, 9, 63, 64, 69}) a.set(r);
  for (int r : {1, 2, 63, 69}) b.set(r);
  EXPECT_EQ(a.count(), 6);
  EXPECT_EQ(a.count_common(b), 3);
  const std::string bytes = a.to_bytes();
  ASSERT_EQ(bytes.size(), 9u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x03);  // rows 0 and 1
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x02);  // row 9
  EXPECT_EQ(static_cast<unsigned char>(bytes[7]), 0x80);  // row 63
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 0x21);  // rows 64 and 69
  EXPECT_EQ(RowBitset::from_bytes(70, bytes), a);
  EXPECT_THROW(RowBitset::from_bytes(71, bytes + "x"), std::runtime_error);
  EXPECT_THROW(RowBitset::from_bytes(66, bytes), std::runtime_error) << "rows 66 to 69 are set";
  EXPECT_EQ(positive_rows({1.0f, 0.0f, 1.0f}).count(), 2);
}

}  // namespace
}  // namespace hf
