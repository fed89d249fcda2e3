// Everything a search is told by its TOML config (docs/CONFIG.md documents each key), after
// validation: paths resolved, defaults filled in, hyperparameter values parsed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "host/search/search_settings.hpp"

namespace hf {

enum class Device { Auto, Cpu, Cuda };

struct SearchConfig {
  std::filesystem::path source;  // the config file itself

  // [data] train and test
  std::filesystem::path train_path;
  std::filesystem::path test_path;
  // [data] validation and embargo_rows: rank on validation rows and only report the test set.
  // Either a fraction of the training file's rows, taken from its end, or a file of its own;
  // neither: rank on the test set, as the seed did.
  double validation_fraction = 0.0;       // 0: no fraction
  std::filesystem::path validation_path;  // empty: no validation file
  int embargo_rows = 0;                   // training rows dropped just before the validation rows
  std::string validation_where;           // "config:line:column" of [data] validation, for messages
  bool has_validation() const { return validation_fraction > 0.0 || !validation_path.empty(); }

  // What is trained: [search], [data] shuffle and [hyperparameters].
  SearchSettings search;

  // [search] permutations and permutation_block: the search-wide permutation test
  // (docs/SIGNIFICANCE.md). Not part of the study's identity: it reads stored predictions.
  int permutations = 1000;  // 0: no search_p_value
  int permutation_block = 1;

  // [execution]
  Device device = Device::Auto;
  int cpu_count = 0;      // 0: every core
  std::vector<int> gpus;  // CUDA device ids, one worker thread each; empty: every visible device

  // [output]
  std::filesystem::path output_dir;
  int keep_models = 5;  // combinations whose trained networks the journal keeps (0: none)
};

// Limits that keep a typo from launching a search that would never finish.
inline constexpr std::uint64_t kMaxCombinations = 1'000'000;
inline constexpr int kMaxRerunCount = 1000;
inline constexpr int kMaxKeptModels = 1'000'000;
inline constexpr int kMaxPermutations = 1'000'000;
inline constexpr int kMaxDataRows = 100'000'000;  // bounds row counts in keys (embargo, permutation blocks)

// Reads and validates a config; throws InputError naming file, line and key on any problem.
SearchConfig load_search_config(const std::filesystem::path& path);

// The same for a config's text; `path` names it in messages and anchors its relative paths.
SearchConfig parse_search_config(std::string_view text, const std::filesystem::path& path);

const char* device_name(Device device);

}  // namespace hf
