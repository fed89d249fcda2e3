#include "host/run/prepared_search.hpp"

#include <algorithm>
#include <thread>

#include "host/common/errors.hpp"
#include "host/data/labelled_table.hpp"
#include "host/training/cpu_backend.hpp"

namespace hf {
namespace {

// Networks per pack on the CPU: one, so each network's weights and optimizer state stay in
// the worker's cache for its whole training.
constexpr int kCpuPackSize = 1;

}  // namespace

int worker_threads(const SearchConfig& config) {
  if (config.cpu_count > 0) return config.cpu_count;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

PreparedSearch prepare_search(const SearchConfig& config) {
  if (config.device == Device::Cuda) {
    throw InputError(config.source.string() +
                     ": [execution] device = \"cuda\", but this build of hyperfuse has no CUDA backend yet; "
                     "use device = \"cpu\" or \"auto\" (or --device cpu)");
  }
  const LabelledTable train_table = load_labelled_csv(config.train_path);
  const LabelledTable test_table = load_labelled_csv(config.test_path);
  if (train_table.features != test_table.features) {
    throw InputError(located(config.test_path.string(), 1, 0,
                             "has " + std::to_string(test_table.features + 1) + " columns but the training file " +
                                 config.train_path.string() + " has " + std::to_string(train_table.features + 1) +
                                 "; both need the same feature columns and the label last"));
  }
  const StandardScaler scaler = StandardScaler::fit(train_table);
  PreparedSearch prepared;
  prepared.train = scaler.transform(train_table);
  prepared.test = scaler.transform(test_table);
  prepared.backend = "cpu";
  prepared.threads = worker_threads(config);
  prepared.make_backend = [](int /*worker*/) { return std::make_unique<CpuBackend>(); };
  prepared.plan = plan_search(config, prepared.train.features, prepared.train.rows, prepared.test.rows, kCpuPackSize);
  return prepared;
}

}  // namespace hf
