// The precision p-value against SciPy's one-sided Fisher exact test, in and beyond double range.
#include <gtest/gtest.h>

#include <boost/math/distributions/hypergeometric.hpp>
#include <cmath>

#include "host/common/random.hpp"
#include "host/scoring/precision_p_value.hpp"
#include "tests/fixture_file.hpp"

namespace hf {
namespace {

ConfusionCounts counts(std::int64_t tp, std::int64_t fp, std::int64_t fn, std::int64_t tn) { return {tp, fp, fn, tn}; }

// Relative agreement of 1e-9: lgamma differences of numbers near 1e5 keep about 11 digits.
void expect_p_value(const ConfusionCounts& c, double expected) {
  const PrecisionTest t = precision_p_value(c);
  EXPECT_NEAR(t.p_value, expected, 1e-9 * expected) << c.tp << "," << c.fp << "," << c.fn << "," << c.tn;
  if (expected > 0) {
    EXPECT_NEAR(t.log10_p_value, std::log10(expected), 1e-9 * std::max(1.0, std::fabs(std::log10(expected))));
  }
}

TEST(PrecisionPValue, IssueReferenceValuesFromScipy) {
  expect_p_value(counts(20, 2, 5, 30), 7.668932932760284e-09);
  expect_p_value(counts(50, 10, 950, 9000), 8.737006209562824e-41);
  expect_p_value(counts(700, 300, 2000, 7000), 1.6519569951940041e-199);
  expect_p_value(counts(0, 0, 5, 30), 1.0);
  expect_p_value(counts(1, 9, 9, 1), 1.0);
}

TEST(PrecisionPValue, FixtureValuesFromScipy) {
  // Each line is "counts_and_p 5 tp fp fn tn p".
  int checked = 0;
  std::ifstream in(testing::source_dir() / "tests" / "fixtures" / "p_values.txt");
  std::string name;
  std::size_t n = 0;
  double tp, fp, fn, tn, p;
  while (in >> name >> n >> tp >> fp >> fn >> tn >> p) {
    ASSERT_EQ(name, "counts_and_p");
    expect_p_value(counts(static_cast<std::int64_t>(tp), static_cast<std::int64_t>(fp), static_cast<std::int64_t>(fn),
                          static_cast<std::int64_t>(tn)),
                   p);
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(PrecisionPValue, BelowDoubleRangeStaysExactInLogSpace) {
  // SciPy underflows to 0 here; the issue gives log10 p = -958.3030666930.
  const PrecisionTest t = precision_p_value(counts(1500, 200, 3000, 20000));
  EXPECT_EQ(t.p_value, 0.0);
  EXPECT_NEAR(t.log10_p_value, -958.3030666930, 1e-9 * 958.3);
}

TEST(PrecisionPValue, OrdersDifferencesBelow1eMinus308) {
  const PrecisionTest better = precision_p_value(counts(1501, 199, 2999, 20001));
  const PrecisionTest worse = precision_p_value(counts(1500, 200, 3000, 20000));
  EXPECT_LT(better.log10_p_value, worse.log10_p_value);
  EXPECT_EQ(better.p_value, 0.0);
}

TEST(PrecisionPValue, OneWhenPrecisionDoesNotBeatTheBaseRate) {
  EXPECT_EQ(precision_p_value(counts(5, 5, 5, 5)).p_value, 1.0);  // precision 0.5 = base rate 0.5
  EXPECT_EQ(precision_p_value(counts(5, 5, 5, 5)).log10_p_value, 0.0);
  EXPECT_EQ(precision_p_value(counts(2, 8, 10, 10)).p_value, 1.0);  // below the base rate
  EXPECT_EQ(precision_p_value(counts(0, 0, 3, 3)).precision, 0.0);  // nothing predicted positive
  EXPECT_DOUBLE_EQ(precision_p_value(counts(3, 1, 3, 3)).precision, 0.75);
}

TEST(PrecisionPValue, AgreesWithBoostHypergeometricTailOnRandomTables) {
  SplitMix64 random(11);
  int compared = 0;
  for (int i = 0; i < 400; ++i) {
    const ConfusionCounts c =
        counts(static_cast<std::int64_t>(random.below(60)), static_cast<std::int64_t>(random.below(60)),
               static_cast<std::int64_t>(random.below(200)), static_cast<std::int64_t>(random.below(400)));
    const std::int64_t total = c.total(), positives = c.tp + c.fn, predicted = c.tp + c.fp;
    if (predicted == 0 || c.tp * total <= positives * predicted) continue;
    boost::math::hypergeometric_distribution<double> h(static_cast<unsigned>(positives),
                                                       static_cast<unsigned>(predicted), static_cast<unsigned>(total));
    const double tail = boost::math::cdf(boost::math::complement(h, static_cast<unsigned>(c.tp - 1)));
    EXPECT_NEAR(precision_p_value(c).p_value, tail, 1e-9 * tail + 1e-300);
    ++compared;
  }
  EXPECT_GT(compared, 50);
}

}  // namespace
}  // namespace hf
