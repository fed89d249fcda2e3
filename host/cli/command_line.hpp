// The command line, parsed with CLI11: `hyperfuse run [CONFIG] [options]`, `predict`, `export`,
// `report`, `make-data`, `convert`, `devices`, `benchmark`, `help [COMMAND]`, `--help`, `--version`. Options take their value as
// `-j 4`, `-j4`, `--seed 4` or `--seed=4`; each command's `--help` shows its own options. Bad
// usage throws InputError (exit 2) with what was wrong and where to read more.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "host/cli/benchmark.hpp"
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
  int latest_rows = 0;  // > 0: also latest.csv, a ticker and 30 closes per row, no label
  std::uint64_t seed = 2024;
};

// The folder of a finished search (its [output] dir) that predict, export and report read.
inline const std::filesystem::path kDefaultStudyDir = "results";

struct PredictArguments {
  std::filesystem::path study = kDefaultStudyDir;
  int rank = 1;  // which kept combination: 1 = the best
  std::filesystem::path data;
  std::optional<std::filesystem::path> out;  // stdout when not given
};

struct ExportArguments {
  std::filesystem::path study = kDefaultStudyDir;
  int rank = 1;
  std::filesystem::path onnx;
};

struct ReportArguments {
  std::filesystem::path study = kDefaultStudyDir;
  std::optional<std::filesystem::path> out;  // STUDY/report.html when not given
};

// `hyperfuse convert`: run by the Python package's converter (host/cli/seed_conversion.hpp).
struct ConvertArguments {
  std::filesystem::path config;
  std::optional<std::filesystem::path> out;  // stdout when not given
  std::optional<std::filesystem::path> train;
  std::optional<std::filesystem::path> test;
  std::optional<std::filesystem::path> output_dir;
};

struct DevicesArguments {
  std::optional<std::filesystem::path> config;  // also say what this search's plan does on each GPU
};

enum class Command { Help, Version, Run, MakeData, Predict, Export, Report, Convert, Devices, Benchmark };

struct CommandLine {
  Command command = Command::Help;
  std::string help;  // the text Command::Help prints: every command, or the one asked about
  RunArguments run;
  MakeDataArguments make_data;
  PredictArguments predict;
  ExportArguments export_model;
  ReportArguments report;
  ConvertArguments convert;
  DevicesArguments devices;
  BenchmarkArguments benchmark;
};

CommandLine parse_command_line(const std::vector<std::string>& args);

// Command-line overrides win over the config file.
void apply_overrides(const RunArguments& args, SearchConfig& config);

}  // namespace hf
