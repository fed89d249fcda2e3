// Reads the PyTorch fixtures written by tests/fixtures/generate_pytorch_fixtures.py:
// "case NAME" lines open a case; every other line is "key count value...".
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_paths.hpp"

namespace hf::testing {

struct FixtureCase {
  std::string name;
  std::map<std::string, std::vector<double>> values;
  const std::vector<double>& at(const std::string& key) const {
    auto it = values.find(key);
    if (it == values.end()) throw std::out_of_range("fixture " + name + " has no '" + key + "'");
    return it->second;
  }
};

inline void PrintTo(const FixtureCase& c, std::ostream* os) { *os << c.name; }

inline std::vector<FixtureCase> read_fixture_file(const std::string& file_name) {
  std::ifstream in(source_dir() / "tests" / "fixtures" / file_name);
  if (!in) throw std::runtime_error("cannot open fixture " + file_name);
  std::vector<FixtureCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key.empty()) continue;
    if (key == "case") {
      cases.emplace_back();
      words >> cases.back().name;
      continue;
    }
    std::size_t count = 0;
    words >> count;
    std::vector<double> values(count);
    for (double& v : values) words >> v;
    if (!words) throw std::runtime_error("fixture " + file_name + ": bad line for " + key);
    if (cases.empty()) cases.emplace_back();
    cases.back().values[key] = std::move(values);
  }
  return cases;
}

// |actual - expected| <= absolute + relative * |expected|, with a message naming the element.
inline ::testing::AssertionResult all_close(const std::vector<double>& actual, const std::vector<double>& expected,
                                            double absolute, double relative) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << "size " << actual.size() << " != " << expected.size();
  }
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double limit = absolute + relative * std::fabs(expected[i]);
    if (!(std::fabs(actual[i] - expected[i]) <= limit)) {
      return ::testing::AssertionFailure() << "element " << i << ": " << actual[i] << " vs expected " << expected[i]
                                           << " (difference " << actual[i] - expected[i] << ", limit " << limit << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace hf::testing
