// Median over reruns as Python's statistics.median, on log10 p-values.
#include <gtest/gtest.h>

#include <cmath>

#include "host/scoring/median_of_reruns.hpp"

namespace hf {
namespace {

RerunMedian median_of(const std::vector<double>& p) {
  std::vector<double> log10_p;
  for (double v : p) log10_p.push_back(std::log10(v));
  return median_of_reruns(log10_p, p);
}

TEST(MedianOfReruns, OddCountTakesTheMiddleRerun) {
  const RerunMedian m = median_of({1e-3, 1e-9, 1e-5});
  EXPECT_EQ(m.representative, 2u);
  EXPECT_EQ(m.p_value, 1e-5);
  EXPECT_NEAR(m.log10_p_value, -5.0, 1e-12);
}

TEST(MedianOfReruns, EvenCountTakesTheMeanOfTheMiddleTwoAndTheLowerRerun) {
  const RerunMedian m = median_of({0.5, 1e-4, 3e-4, 1e-9});
  EXPECT_DOUBLE_EQ(m.p_value, (1e-4 + 3e-4) / 2);  // Python: statistics.median([...]) == 0.0002
  EXPECT_NEAR(m.log10_p_value, std::log10(2e-4), 1e-12);
  EXPECT_EQ(m.representative, 1u);
}

TEST(MedianOfReruns, EvenCountInLogSpaceBelowDoubleRange) {
  // (10^-900 + 10^-1000) / 2 in log10: -900 + log10(0.5) to double precision.
  const RerunMedian m = median_of_reruns({-1000.0, -900.0}, {0.0, 0.0});
  EXPECT_NEAR(m.log10_p_value, -900.0 + std::log10(0.5), 1e-9);
  EXPECT_EQ(m.representative, 0u);
}

TEST(MedianOfReruns, SingleRerunAndTiesKeepRerunOrder) {
  EXPECT_EQ(median_of({0.25}).p_value, 0.25);
  EXPECT_EQ(median_of({1.0, 1.0, 1.0}).representative, 1u);
  EXPECT_EQ(median_of({1.0, 1.0}).representative, 0u);
  EXPECT_THROW(median_of_reruns({}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace hf
