// The command line: `hyperfuse run [CONFIG] [options]`, `hyperfuse make-data [options]`,
// `--help`, `--version`. Bad usage throws InputError (exit 2) with the usage hint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "host/config/search_config.hpp"

namespace hf {

struct RunArguments {
  std::filesystem::path config = "configs/default.toml";
  std::optional<Device> device;
  std::optional<int> cpu_count;
  std::optional<std::filesystem::path> output_dir;
  std::optional<std::uint64_t> seed;
  std::optional<int> reruns;
  bool fresh = false;  // discard the study journal instead of resuming it
  bool quiet = false;
  bool dry_run = false;  // print the plan and the memory it needs; train nothing, write nothing
};

struct MakeDataArguments {
  std::filesystem::path out_dir = "example_data";
  int train_rows = 10000;
  int test_rows = 2500;
  std::uint64_t seed = 2024;
};

enum class Command { Help, Version, Run, MakeData };

struct CommandLine {
  Command command = Command::Help;
  RunArguments run;
  MakeDataArguments make_data;
};

CommandLine parse_command_line(const std::vector<std::string>& args);

// Command-line overrides win over the config file.
void apply_overrides(const RunArguments& args, SearchConfig& config);

extern const char* const kUsage;

}  // namespace hf
