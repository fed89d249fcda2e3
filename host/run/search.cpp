#include "host/run/search.hpp"

#include <chrono>
#include <thread>

#include "host/common/errors.hpp"
#include "host/data/labelled_table.hpp"
#include "host/data/standard_scaler.hpp"
#include "host/report/atomic_file.hpp"
#include "host/report/results_csv.hpp"
#include "host/training/cpu_backend.hpp"

namespace hf {
namespace {

// Networks per pack on the CPU: one, so each network's weights and optimizer state stay in
// the worker's cache for its whole training.
constexpr int kCpuPackSize = 1;

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

// Fails now, not after hours of training, when results could not be written.
void check_output_dir(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw InputError(dir.string() + ": cannot create the output folder (" + error.message() +
                     "); set [output] dir or --output-dir to a writable folder");
  }
  const std::filesystem::path probe = dir / ".hyperfuse-write-test";
  try {
    write_file_atomically(probe, "");
  } catch (const std::exception& e) {
    throw InputError(dir.string() +
                     ": the output folder is not writable; set [output] dir or --output-dir to a writable folder");
  }
  std::filesystem::remove(probe, error);
}

}  // namespace

int worker_threads(const SearchConfig& config) {
  if (config.cpu_count > 0) return config.cpu_count;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

SearchSummary run_search(const SearchConfig& config, const PlanCallback& on_plan, const ProgressCallback& progress) {
  if (config.device == Device::Cuda) {
    throw InputError(config.source.string() +
                     ": [execution] device = \"cuda\", but this build of hyperfuse has no CUDA backend yet; "
                     "use device = \"cpu\" or \"auto\" (or --device cpu)");
  }
  const auto started = std::chrono::steady_clock::now();
  const LabelledTable train_table = load_labelled_csv(config.train_path);
  const LabelledTable test_table = load_labelled_csv(config.test_path);
  if (train_table.features != test_table.features) {
    throw InputError(located(config.test_path.string(), 1, 0,
                             "has " + std::to_string(test_table.features + 1) + " columns but the training file " +
                                 config.train_path.string() + " has " + std::to_string(train_table.features + 1) +
                                 "; both need the same feature columns and the label last"));
  }
  require_both_labels(train_table, "training");
  require_both_labels(test_table, "test");
  check_output_dir(config.output_dir);

  const StandardScaler scaler = StandardScaler::fit(train_table);
  const Dataset train = scaler.transform(train_table);
  const Dataset test = scaler.transform(test_table);

  SearchSummary summary;
  summary.backend = "cpu";
  summary.threads = worker_threads(config);
  summary.input_width = train.features;
  summary.train_rows = train.rows;
  summary.test_rows = test.rows;
  summary.plan = plan_search(config, train.features, train.rows, test.rows, kCpuPackSize);
  summary.results_path = config.output_dir / kResultsFileName;
  summary.errors_path = config.output_dir / kErrorsFileName;
  if (on_plan) on_plan(summary);

  const std::vector<TrainingResult> trainings =
      run_packs(summary.plan, train, test, summary.threads, make_cpu_backend, progress);
  summary.results = rank_combinations(summary.plan, trainings);
  write_file_atomically(summary.results_path, results_csv(config, summary.plan, summary.results));
  write_file_atomically(summary.errors_path, errors_csv(config, summary.plan, summary.results));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace hf
