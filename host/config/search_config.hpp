// Everything a search is told by its TOML config (docs/CONFIG.md documents each key), after
// validation: paths resolved, defaults filled in, hyperparameter values parsed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "host/search/hyperparameters.hpp"

namespace hf {

enum class Device { Auto, Cpu, Cuda };

struct SearchConfig {
  std::filesystem::path source;  // the config file itself

  // [data]
  std::filesystem::path train_path;
  std::filesystem::path test_path;
  bool shuffle = false;  // false: mini-batches in file order, as the seed's DataLoader

  // [search]
  bool explore_all_combinations = true;
  std::uint64_t combinations_to_try = 100;
  int rerun_count = 3;
  std::uint64_t seed = 42;
  double prediction_threshold = 0.5;

  // [execution]
  Device device = Device::Auto;
  int cpu_count = 0;      // 0: every core
  std::vector<int> gpus;  // CUDA device ids, one worker thread each; empty: every visible device

  // [output]
  std::filesystem::path output_dir;

  // [hyperparameters]: the keys the config lists, in its order, then every key it left out
  // with its single default value.
  std::vector<HyperparameterAxis> axes;
};

// Limits that keep a typo from launching a search that would never finish.
inline constexpr std::uint64_t kMaxCombinations = 1'000'000;
inline constexpr int kMaxRerunCount = 1000;

// Reads and validates a config; throws InputError naming file, line and key on any problem.
SearchConfig load_search_config(const std::filesystem::path& path);

// The same for a config's text; `path` names it in messages and anchors its relative paths.
SearchConfig parse_search_config(std::string_view text, const std::filesystem::path& path);

const char* device_name(Device device);

}  // namespace hf
