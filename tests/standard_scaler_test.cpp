// hf::StandardScaler against scikit-learn's semantics: population statistics from the training
// set, constant columns left unscaled, and the same statistics applied to the test set.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "host/common/errors.hpp"
#include "host/data/standard_scaler.hpp"

namespace hf {
namespace {

LabelledTable table_of(int rows, int features, std::vector<double> values, std::vector<float> labels) {
  LabelledTable t;
  t.rows = rows;
  t.features = features;
  t.values = std::move(values);
  t.labels = std::move(labels);
  return t;
}

// Four rows; columns: 1..4 (mean 2.5, variance 1.25), constant 5, {-2, 0, 0, 6} (mean 1,
// variance 9), constant 0.1 (whose mean carries rounding noise).
LabelledTable hand_table() {
  return table_of(4, 4,
                  {1, 5, -2, 0.1,  //
                   2, 5, 0, 0.1,   //
                   3, 5, 0, 0.1,   //
                   4, 5, 6, 0.1},
                  {0, 1, 1, 0});
}

TEST(StandardScaler, MeanAndPopulationScaleMatchHandComputation) {
  const StandardScaler s = StandardScaler::fit(hand_table());
  ASSERT_EQ(s.mean().size(), 4u);
  ASSERT_EQ(s.scale().size(), 4u);
  EXPECT_DOUBLE_EQ(s.mean()[0], 2.5);
  EXPECT_DOUBLE_EQ(s.mean()[1], 5.0);
  EXPECT_DOUBLE_EQ(s.mean()[2], 1.0);
  EXPECT_NEAR(s.mean()[3], 0.1, 1e-15);
  // ddof 0: divide by n = 4, not n - 1 = 3 (which would give sqrt(5/3) and sqrt(12)).
  EXPECT_DOUBLE_EQ(s.scale()[0], std::sqrt(1.25));
  EXPECT_DOUBLE_EQ(s.scale()[2], 3.0);
}

TEST(StandardScaler, ConstantColumnKeepsScaleOneAndBecomesZero) {
  const LabelledTable train = hand_table();
  const StandardScaler s = StandardScaler::fit(train);
  EXPECT_EQ(s.scale()[1], 1.0);
  EXPECT_EQ(s.scale()[3], 1.0) << "0.1 repeated has a tiny rounding variance that must count as constant";
  const Dataset d = s.transform(train);
  for (int r = 0; r < d.rows; ++r) {
    EXPECT_EQ(d.row(r)[1], 0.0f) << "row " << r;
    EXPECT_NEAR(d.row(r)[3], 0.0f, 1e-12f) << "row " << r;
  }
}

TEST(StandardScaler, ConstantColumnWithLargeValueKeepsScaleOne) {
  const LabelledTable t = table_of(3, 2, {123456.789, 1, 123456.789, 2, 123456.789, 3}, {0, 1, 0});
  const StandardScaler s = StandardScaler::fit(t);
  EXPECT_EQ(s.scale()[0], 1.0);
  EXPECT_DOUBLE_EQ(s.scale()[1], std::sqrt(2.0 / 3.0));
}

TEST(StandardScaler, SmallButRealVarianceIsScaled) {
  // A column that varies by 1e-6 is not constant: scikit-learn scales it.
  const LabelledTable t = table_of(2, 1, {1.0, 1.000002}, {0, 1});
  const StandardScaler s = StandardScaler::fit(t);
  EXPECT_NEAR(s.scale()[0], 1e-6, 1e-12);
  const Dataset d = s.transform(t);
  EXPECT_NEAR(d.x[0], -1.0f, 1e-4f);
  EXPECT_NEAR(d.x[1], 1.0f, 1e-4f);
}

TEST(StandardScaler, TransformOfTrainingSetMatchesHandComputation) {
  const Dataset d = StandardScaler::fit(hand_table()).transform(hand_table());
  ASSERT_EQ(d.rows, 4);
  ASSERT_EQ(d.features, 4);
  ASSERT_EQ(d.x.size(), 16u);
  const float root = static_cast<float>(std::sqrt(1.25));
  EXPECT_FLOAT_EQ(d.row(0)[0], -1.5f / root);
  EXPECT_FLOAT_EQ(d.row(1)[0], -0.5f / root);
  EXPECT_FLOAT_EQ(d.row(2)[0], 0.5f / root);
  EXPECT_FLOAT_EQ(d.row(3)[0], 1.5f / root);
  EXPECT_FLOAT_EQ(d.row(0)[2], -1.0f);
  EXPECT_FLOAT_EQ(d.row(1)[2], -1.0f / 3.0f);
  EXPECT_FLOAT_EQ(d.row(3)[2], 5.0f / 3.0f);
  EXPECT_EQ(d.y, (std::vector<float>{0, 1, 1, 0}));
}

TEST(StandardScaler, TrainingColumnsHaveMeanZeroAndStdOne) {
  const int rows = 57, features = 5;
  std::vector<double> values;
  std::vector<float> labels;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < features; ++c)
      values.push_back(std::sin(r * 1.7 + c * 0.3) * (c + 1) * 10.0 + c * 100.0 + r * (c == 4 ? 3.0 : 0.0));
    labels.push_back(static_cast<float>(r % 2));
  }
  const LabelledTable train = table_of(rows, features, values, labels);
  const Dataset d = StandardScaler::fit(train).transform(train);
  for (int c = 0; c < features; ++c) {
    double sum = 0.0, squares = 0.0;
    for (int r = 0; r < rows; ++r) sum += d.row(r)[c];
    const double mean = sum / rows;
    for (int r = 0; r < rows; ++r) squares += (d.row(r)[c] - mean) * (d.row(r)[c] - mean);
    EXPECT_NEAR(mean, 0.0, 1e-6) << "column " << c;
    EXPECT_NEAR(std::sqrt(squares / rows), 1.0, 1e-5) << "column " << c;
  }
}

TEST(StandardScaler, TestSetUsesTrainingStatistics) {
  const StandardScaler s = StandardScaler::fit(hand_table());
  // Its own statistics would be mean 10, 4, 4 and scale 10, 1, 1 in the first three columns.
  const LabelledTable test = table_of(2, 4,
                                      {0, 3, 4, 0.1,  //
                                       20, 5, 4, 0.1},
                                      {1, 0});
  const Dataset d = s.transform(test);
  ASSERT_EQ(d.rows, 2);
  ASSERT_EQ(d.features, 4);
  const double root = std::sqrt(1.25);
  EXPECT_FLOAT_EQ(d.row(0)[0], static_cast<float>((0 - 2.5) / root));
  EXPECT_FLOAT_EQ(d.row(1)[0], static_cast<float>((20 - 2.5) / root));
  EXPECT_FLOAT_EQ(d.row(0)[1], -2.0f);  // constant in training: shifted by 5, not scaled
  EXPECT_FLOAT_EQ(d.row(1)[1], 0.0f);
  EXPECT_FLOAT_EQ(d.row(0)[2], 1.0f);  // (4 - 1) / 3, though the test column is constant
  EXPECT_FLOAT_EQ(d.row(1)[2], 1.0f);
  EXPECT_EQ(d.y, (std::vector<float>{1, 0}));
  // Fitting did not change: the scaler is not refitted on what it transforms.
  EXPECT_DOUBLE_EQ(s.mean()[0], 2.5);
}

TEST(StandardScaler, OutputIsFloat) {
  static_assert(std::is_same_v<decltype(Dataset::x)::value_type, float>, "features are float for training");
  static_assert(std::is_same_v<decltype(Dataset::y)::value_type, float>, "labels are float for training");
  // 1/3 is rounded to the nearest float, not kept as a double and truncated.
  const LabelledTable t = table_of(2, 1, {-1.0, 1.0}, {0, 1});
  const StandardScaler s = StandardScaler::fit(t);
  const Dataset d = s.transform(table_of(1, 1, {1.0 / 3.0}, {1}));
  EXPECT_EQ(d.x[0], static_cast<float>(1.0 / 3.0));
}

// Values near the double range: the plain sums overflowed (1e308 + 1e308 = inf), so the mean
// was inf and every standardised feature NaN, which trained nothing. fuzz/labelled_csv_fuzzer
// checks that every table the loader accepts standardises to finite features.
TEST(StandardScaler, HugeFiniteValuesStandardiseToFiniteFeatures) {
  const LabelledTable t = table_of(3, 3,
                                   {1e308, 1.7e308, -1e308,  //
                                    -1e308, 1.7e308, 1e308,  //
                                    1e308, 1.7e308, 1e308},
                                   {0, 1, 1});
  const StandardScaler s = StandardScaler::fit(t);
  EXPECT_DOUBLE_EQ(s.mean()[0], 1e308 / 3);
  EXPECT_DOUBLE_EQ(s.scale()[0], std::sqrt(8.0 / 9.0) * 1e308);
  EXPECT_DOUBLE_EQ(s.mean()[1], 1.7e308);
  const Dataset d = s.transform(t);
  for (float x : d.x) EXPECT_TRUE(std::isfinite(x)) << x;
  // Column 0 is {1, -1, 1} x 1e308: standardised as {1, -1, 1} would be.
  EXPECT_FLOAT_EQ(d.row(0)[0], static_cast<float>((1 - 1.0 / 3) / std::sqrt(8.0 / 9.0)));
  EXPECT_FLOAT_EQ(d.row(1)[0], static_cast<float>((-1 - 1.0 / 3) / std::sqrt(8.0 / 9.0)));
  EXPECT_FLOAT_EQ(d.row(0)[1], 0.0f);  // constant: shifted, not scaled
  EXPECT_FLOAT_EQ(d.row(0)[2], static_cast<float>((-1 - 1.0 / 3) / std::sqrt(8.0 / 9.0)));
}

// A test value so far from the training data that it standardises beyond float range is an
// input error naming the file, row and column, not an infinite feature that fails every training.
TEST(StandardScaler, TestValueBeyondFloatRangeAfterScalingIsAnInputError) {
  const StandardScaler s = StandardScaler::fit(table_of(2, 2, {0, 1, 1, 2}, {0, 1}));
  LabelledTable test = table_of(2, 2, {0.5, 1, 0.5, 1e300}, {1, 0});
  test.source = "data/test.csv";
  try {
    s.transform(test);
    ADD_FAILURE() << "transform accepted 1e300 against a training column of {1, 2}";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("data/test.csv: row 2", 0), 0u) << message;
    EXPECT_NE(message.find("column 2: 1e+300"), std::string::npos) << message;
    EXPECT_NE(message.find("drop the row"), std::string::npos) << message;
  }
}

TEST(StandardScaler, TransformRejectsAnotherWidth) {
  const StandardScaler s = StandardScaler::fit(hand_table());
  EXPECT_THROW(s.transform(table_of(1, 3, {1, 2, 3}, {0})), std::logic_error);
}

}  // namespace
}  // namespace hf
