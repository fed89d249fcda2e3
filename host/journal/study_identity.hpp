// What makes two runs the same study: the normalised search settings that decide which
// trainings run and what they compute, and the contents of the data files. A journal resumes
// only a study with the same identity, so two different searches never mix.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "host/config/search_config.hpp"

namespace hf {

// One named fact, e.g. {"search.seed", "42"} or {"hyperparameters.learning_rate", "[0.001, 0.01]"}.
using StudyFact = std::pair<std::string, std::string>;

struct StudyIdentity {
  std::vector<StudyFact> facts;  // in a fixed order
  std::string hash;              // 16 hex digits over all facts
};

// Device, thread count and output folder are left out: they change how fast a study runs, not
// what it computes. Values are compared by meaning ("1e-3" equals "0.001"), data by content.
// `train_file`, `test_file` and `validation_file` (a separate validation file, else empty) are
// the data files' bytes, as read for loading.
StudyIdentity study_identity(const SearchConfig& config, const std::string& train_file, const std::string& test_file,
                             const std::string& validation_file = "");

// Human-readable differences, one line per fact that changed ("search.seed: 42 -> 7").
std::vector<std::string> identity_differences(const std::vector<StudyFact>& journal,
                                              const std::vector<StudyFact>& current);

// 64-bit FNV-1a, as 16 hex digits: an identity check against accidental changes, not a
// cryptographic hash.
std::string content_hash(const std::string& bytes);

}  // namespace hf
