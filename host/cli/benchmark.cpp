// `hyperfuse benchmark` (benchmark.hpp): one short search per device through run_search, exactly
// as `hyperfuse run` trains, timed from the end of planning to the last training.
#include "host/cli/benchmark.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"
#include "host/data/synthetic_data.hpp"
#include "host/report/atomic_file.hpp"
#include "host/run/fma_peak.hpp"
#include "host/run/run_search.hpp"
#include "host/search/search_space.hpp"
#include "kernels/backend/device_errors.hpp"
#include "kernels/backend_registry.hpp"

namespace hf {
namespace {

// The default grid of configs/default.toml, on data generated into the scratch folder.
const char* const kDefaultSearch = R"([data]
train = "train.csv"
test = "test.csv"

[hyperparameters]
learning_rate = [0.001, 0.0005]
max_epochs = [8]
batch_size = [32, 64]
hidden_layers = [[2, 3, 2, 1, 0.5], [2, 1, 0.5]]
loss_function = ["BCE", "MSE"]
activation_function = ["LeakyReLU", "PReLU", "ReLU", "Tanh"]
optimizer = ["Adam", "RMSprop"]
dropout = [0.0, 0.2]
)";

// A folder of its own under the system's temporary folder, removed with everything in it.
class ScratchFolder {
 public:
  ScratchFolder() {
    path_ = std::filesystem::temp_directory_path() / ("hyperfuse-benchmark-" + std::to_string(::getpid()));
    std::error_code error;
    std::filesystem::remove_all(path_, error);
    std::filesystem::create_directories(path_, error);
    if (error)
      throw InputError(path_.string() + ": cannot create the benchmark's scratch folder (" + error.message() +
                       "); set TMPDIR to a writable folder");
  }
  ~ScratchFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

SearchConfig benchmark_config(const BenchmarkArguments& args, const std::filesystem::path& scratch) {
  SearchConfig config;
  if (args.config) {
    config = load_search_config(*args.config);
  } else {
    SyntheticDataOptions options;
    options.train_rows = args.train_rows;
    options.test_rows = std::max(args.train_rows / 4, 100);
    const SyntheticData data = make_synthetic_data(options);
    write_file_atomically(scratch / "train.csv", data.train_csv);
    write_file_atomically(scratch / "test.csv", data.test_csv);
    config = parse_search_config(kDefaultSearch, scratch / "benchmark.toml");
  }
  // A sample of the combinations, one training each: the figures are speeds, not a search.
  config.search.strategy = SearchStrategy::Random;
  config.search.explore_all_combinations = false;
  config.search.combinations_to_try = static_cast<std::uint64_t>(args.trainings);
  const std::optional<std::uint64_t> distinct =
      config.search.has_ranges() ? distinct_combinations(config.search.axes) : combination_count(config.search.axes);
  if (distinct) config.search.combinations_to_try = std::min(config.search.combinations_to_try, *distinct);
  config.search.rerun_count = 1;
  config.permutations = 0;
  config.keep_models = 0;
  return config;
}

// Runs the search on `device` (and `gpu`) and fills the row's figures.
void run_on(SearchConfig config, Device device, int gpu, const std::filesystem::path& output, BenchmarkRow& row) {
  config.device = device;
  config.gpus = device == Device::Cuda ? std::vector<int>{gpu} : std::vector<int>{};
  config.output_dir = output;
  SearchOptions options;
  options.fresh = true;
  const auto started = std::chrono::steady_clock::now();
  const auto since_start = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  double planned_at = 0.0, trained_at = 0.0;
  const SearchSummary s = run_search(
      config, options, [&](const SearchSummary&) { planned_at = since_start(); },
      [&](std::size_t done, std::size_t total) {
        if (done == total) trained_at = since_start();
      });
  row.ran = true;
  row.seconds = (trained_at > 0.0 ? trained_at : s.seconds) - planned_at;
  row.trainings = static_cast<double>(s.plan.trainings.size());
  row.flops = s.plan.total_flops;
  for (const PlannedCombination& c : s.plan.combinations)
    row.samples += static_cast<double>(c.settings.max_epochs) * s.train_rows * config.search.rerun_count;
  if (device == Device::Cpu) {
    row.device = "cpu (" + std::to_string(s.threads) + " threads)";
    row.peak_flops = measured_fma_peak_gflops(s.threads, 0.5) * 1e9;
    row.peak_kind = "measured FMA peak";
  }
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// A row for a device the search did not run on, and why.
BenchmarkRow not_run(const std::string& device, const std::string& why) {
  BenchmarkRow row;
  row.device = device;
  row.note = why;
  return row;
}

}  // namespace

std::string benchmark_table(const std::vector<BenchmarkRow>& rows) {
  std::string table;
  char line[512];
  std::snprintf(line, sizeof line, "%-44s %12s %12s %10s %28s %8s\n", "device", "trainings/s", "samples/s", "GFLOP/s",
                "share of peak", "vs CPU");
  table += line;
  const double cpu_rate = !rows.empty() && rows.front().ran && rows.front().seconds > 0.0
                              ? rows.front().trainings / rows.front().seconds
                              : 0.0;
  for (const BenchmarkRow& r : rows) {
    if (!r.ran) {
      std::snprintf(line, sizeof line, "%-44s %s\n", r.device.c_str(), r.note.c_str());
      table += line;
      continue;
    }
    const double seconds = std::max(r.seconds, 1e-9);
    const double gflops = r.flops / seconds / 1e9;
    const std::string share = r.peak_flops > 0.0 ? format("%.1f%%", 100.0 * r.flops / seconds / r.peak_flops) + " of " +
                                                       format("%.0f", r.peak_flops / 1e9) + " GFLOP/s"
                                                 : "peak unknown";
    const std::string ratio = cpu_rate > 0.0 ? format("%.2fx", r.trainings / seconds / cpu_rate) : "-";
    std::snprintf(line, sizeof line, "%-44s %12.2f %12.4g %10.1f %28s %8s\n", r.device.c_str(), r.trainings / seconds,
                  r.samples / seconds, gflops, share.c_str(), ratio.c_str());
    table += line;
  }
  return table;
}

int benchmark_command(const BenchmarkArguments& args) {
  const ScratchFolder scratch;
  const SearchConfig config = benchmark_config(args, scratch.path());
  std::printf(
      "hyperfuse benchmark: %llu trainings of %s, the same search on each device (timed from the end of "
      "planning to the last training)\n",
      static_cast<unsigned long long>(config.search.combinations_to_try),
      args.config ? args.config->string().c_str()
                  : ("the default grid on " + std::to_string(args.train_rows) + " generated rows").c_str());
  std::fflush(stdout);
  std::vector<BenchmarkRow> rows(1);
  run_on(config, Device::Cpu, 0, scratch.path() / "cpu", rows.front());

  const BackendEntry* gpu = nullptr;
  for (const BackendEntry& entry : registered_backends())
    if (entry.accelerator && gpu == nullptr) gpu = &entry;
  if (gpu == nullptr) {
    rows.push_back(not_run("gpu",
                           "no GPU: this build has no CUDA backend (scripts/build.sh builds it where the CUDA "
                           "toolkit is installed)"));
  } else {
    int count = 0;
    try {
      count = gpu->device_count();
    } catch (const DeviceError& e) {
      rows.push_back(not_run(gpu->name, std::string("no GPU usable: ") + e.what()));
    }
    if (count == 0 && rows.size() == 1) rows.push_back(not_run(gpu->name, "no GPU visible"));
    for (int device = 0; device < count; ++device) {
      BenchmarkRow row;
      row.device = gpu->name + ":" + std::to_string(device) + " " + gpu->device_memory(device).name;
      if (gpu->emulated) {
        row.device += " (emulated)";
        row.note = "emulated, no speed (the host emulation checks kernels; it does not time them)";
      } else {
        try {
          run_on(config, Device::Cuda, device, scratch.path() / ("cuda" + std::to_string(device)), row);
          row.peak_flops = gpu->fp32_peak_flops ? gpu->fp32_peak_flops(device) : 0.0;
          row.peak_kind = "FP32 peak";
        } catch (const DeviceError& e) {
          row.ran = false;
          row.note = std::string("failed: ") + e.what();
        }
      }
      rows.push_back(row);
    }
  }
  std::fputs(benchmark_table(rows).c_str(), stdout);
  std::printf(
      "Share of peak: the CPU's against its FMA peak measured now on the same threads; a GPU's against its "
      "FP32 peak (SMs x clock x FP32 lanes x 2).\n");
  return 0;
}

}  // namespace hf
