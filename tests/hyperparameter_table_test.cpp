// The hyperparameter descriptors are the one source of every hyperparameter's key, default,
// range and docs line: the table follows the enum, and docs/CONFIG.md shows the table as the
// code renders it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "host/search/hyperparameters.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

TEST(HyperparameterTable, OneDescriptorPerKeyInTheEnumsOrder) {
  ASSERT_EQ(hyperparameter_table().size(), static_cast<std::size_t>(kHyperparameterCount));
  for (int k = 0; k < kHyperparameterCount; ++k) {
    const Hyperparameter key = static_cast<Hyperparameter>(k);
    EXPECT_EQ(describe(key).key, key) << describe(key).name;
  }
}

TEST(HyperparameterTable, EveryDefaultIsAValueItsOwnDescriptorAccepts) {
  for (const HyperparameterDescriptor& d : hyperparameter_table()) {
    const HyperparameterValue v = d.default_value();
    switch (d.kind) {
      case ValueKind::Number:
      case ValueKind::WholeNumber: EXPECT_TRUE(d.in_range(v.number)) << d.name; break;
      case ValueKind::LayerMultiples:
        EXPECT_FALSE(v.multiples.empty()) << d.name;
        for (double m : v.multiples) EXPECT_TRUE(d.in_range(m)) << d.name;
        break;
      case ValueKind::Name: EXPECT_EQ(v.text, d.names[v.code]) << d.name; break;
    }
  }
  EXPECT_EQ(describe(Hyperparameter::HiddenLayers).default_value().multiples, (std::vector<double>{2, 3, 2, 1, 0.5}));
  EXPECT_EQ(describe(Hyperparameter::ActivationFunction).default_value().code, static_cast<int>(Activation::LeakyReLU));
  EXPECT_EQ(describe(Hyperparameter::LearningRate).default_value().number, 0.001);
}

TEST(HyperparameterTable, RangesExcludeTheMarkedBounds) {
  const HyperparameterDescriptor& dropout = describe(Hyperparameter::Dropout);
  EXPECT_TRUE(dropout.in_range(0.0));
  EXPECT_FALSE(dropout.in_range(1.0));
  const HyperparameterDescriptor& rate = describe(Hyperparameter::LearningRate);
  EXPECT_FALSE(rate.in_range(0.0));
  EXPECT_TRUE(rate.in_range(10.0));
  EXPECT_FALSE(rate.in_range(10.5));
}

TEST(HyperparameterTable, ValuesAreNormalisedByMeaning) {
  HyperparameterValue a, b;
  a.number = 1e-3;
  b.number = 0.001;
  EXPECT_EQ(describe(Hyperparameter::LearningRate).normalised(a), describe(Hyperparameter::LearningRate).normalised(b));
  HyperparameterValue layers;
  layers.multiples = {2, 0.5};
  EXPECT_EQ(describe(Hyperparameter::HiddenLayers).normalised(layers), "[2.0, 0.5]");
  HyperparameterValue name;
  name.code = static_cast<int>(Optimizer::RMSprop);
  EXPECT_EQ(describe(Hyperparameter::Optimizer).normalised(name), "RMSprop");
}

TEST(HyperparameterTable, ConfigDocsShowTheTableAsRendered) {
  std::ifstream file(testing::source_dir() / "docs" / "CONFIG.md");
  ASSERT_TRUE(file) << "docs/CONFIG.md not found";
  std::stringstream docs;
  docs << file.rdbuf();
  EXPECT_NE(docs.str().find(hyperparameter_docs_table()), std::string::npos)
      << "docs/CONFIG.md's [hyperparameters] table differs from the descriptors; paste this table:\n"
      << hyperparameter_docs_table();
}

}  // namespace
}  // namespace hf
