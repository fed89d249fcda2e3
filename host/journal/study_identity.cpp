#include "host/journal/study_identity.hpp"

#include <cstdint>
#include <cstdio>
#include <map>

#include "host/common/number_format.hpp"

namespace hf {
namespace {

std::string file_fact(const std::string& contents) {
  return content_hash(contents) + " (" + std::to_string(contents.size()) + " bytes)";
}

}  // namespace

std::string content_hash(const std::string& bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

StudyIdentity study_identity(const SearchConfig& config, const std::string& train_file, const std::string& test_file,
                             const std::string& validation_file) {
  StudyIdentity identity;
  auto& facts = identity.facts;
  facts.emplace_back("data.train", file_fact(train_file));
  facts.emplace_back("data.test", file_fact(test_file));
  // Only with validation rows, so a study without them keeps the facts it always had. They
  // decide which rows train, which rank and which stored predictions mean what.
  if (config.validation_fraction > 0.0) {
    facts.emplace_back("data.validation", "fraction " + python_float_repr(config.validation_fraction));
  } else if (!config.validation_path.empty()) {
    facts.emplace_back("data.validation", "file " + file_fact(validation_file));
  }
  if (config.has_validation()) facts.emplace_back("data.embargo_rows", std::to_string(config.embargo_rows));
  facts.emplace_back("data.shuffle", config.search.shuffle ? "true" : "false");
  facts.emplace_back("search.explore_all_combinations", config.search.explore_all_combinations ? "true" : "false");
  if (!config.search.explore_all_combinations) {
    facts.emplace_back("search.combinations_to_try", std::to_string(config.search.combinations_to_try));
  }
  facts.emplace_back("search.rerun_count", std::to_string(config.search.rerun_count));
  facts.emplace_back("search.seed", std::to_string(config.search.seed));
  facts.emplace_back("search.prediction_threshold", python_float_repr(config.search.prediction_threshold));
  // Axis order matters: it numbers the grid, and so the seeds.
  for (const HyperparameterAxis& axis : config.search.axes) {
    const std::string fact = std::string("hyperparameters.") + key_name(axis.key);
    if (axis.range) {
      facts.emplace_back(fact, axis.range->text());
      continue;
    }
    std::string values = "[";
    for (std::size_t v = 0; v < axis.values.size(); ++v) {
      values += (v ? ", " : "") + describe(axis.key).normalised(axis.values[v]);
    }
    facts.emplace_back(fact, values + "]");
  }
  std::string all;
  for (const StudyFact& f : facts) all += f.first + "=" + f.second + "\n";
  identity.hash = content_hash(all);
  return identity;
}

std::vector<std::string> identity_differences(const std::vector<StudyFact>& journal,
                                              const std::vector<StudyFact>& current) {
  std::map<std::string, std::string> before(journal.begin(), journal.end());
  std::map<std::string, std::string> now(current.begin(), current.end());
  std::vector<std::string> lines;
  for (const auto& [key, value] : now) {
    const auto old = before.find(key);
    if (old == before.end()) {
      lines.push_back(key + ": (not set) -> " + value);
    } else if (old->second != value) {
      lines.push_back(key + ": " + old->second + " -> " + value);
    }
  }
  for (const auto& [key, value] : before) {
    if (!now.count(key)) lines.push_back(key + ": " + value + " -> (not set)");
  }
  // Same facts in another order: only the hyperparameter key order can differ.
  if (lines.empty()) lines.push_back("the order of the [hyperparameters] keys (it numbers the grid and the seeds)");
  return lines;
}

}  // namespace hf
