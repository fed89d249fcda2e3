#include "host/run/prepared_search.hpp"

#include <algorithm>
#include <thread>

#include "host/common/errors.hpp"
#include "host/data/labelled_table.hpp"
#include "host/run/device_choice.hpp"
#include "host/run/machine_memory.hpp"

namespace hf {

int worker_threads(const SearchConfig& config) {
  if (config.cpu_count > 0) return config.cpu_count;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

PreparedSearch prepare_search(const SearchConfig& config) {
  const std::size_t program_bytes = peak_resident_bytes();
  const DeviceChoice device = choose_device(config, worker_threads(config));
  // Each file is read once: parsed here, hashed for the study's identity.
  const std::string train_file = read_data_file(config.train_path);
  const std::string test_file = read_data_file(config.test_path);
  const LabelledTable train_table = parse_labelled_csv(train_file, config.train_path);
  const LabelledTable test_table = parse_labelled_csv(test_file, config.test_path);
  if (train_table.features != test_table.features) {
    throw InputError(located(config.test_path.string(), 1, 0,
                             "has " + std::to_string(test_table.features + 1) + " columns but the training file " +
                                 config.train_path.string() + " has " + std::to_string(train_table.features + 1) +
                                 "; both need the same feature columns and the label last"));
  }
  require_both_labels(train_table, "training");
  require_both_labels(test_table, "test");
  const StandardScaler scaler = StandardScaler::fit(train_table);
  PreparedSearch prepared;
  prepared.train = scaler.transform(train_table);
  prepared.test = scaler.transform(test_table);
  prepared.identity = study_identity(config, train_file, test_file);
  prepared.backend = device.backend_name();
  prepared.threads = device.threads;
  prepared.make_backend = backend_factory(device);
  prepared.device = device;
  prepared.gpu_memory = gpu_memory(device);
  prepared.data_file_bytes = train_file.size() + test_file.size();
  prepared.program_bytes = program_bytes;
  prepared.plan = plan_search(config.search, prepared.train.features, prepared.train.rows, prepared.test.rows,
                              pack_size_rule(device, prepared.gpu_memory, prepared.train.rows, prepared.test.rows));
  return prepared;
}

}  // namespace hf
