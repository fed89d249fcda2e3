#include "host/run/prepared_search.hpp"

#include <algorithm>
#include <thread>

#include "host/common/errors.hpp"
#include "host/data/labelled_table.hpp"
#include "host/run/device_choice.hpp"

namespace hf {

int worker_threads(const SearchConfig& config) {
  if (config.cpu_count > 0) return config.cpu_count;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

PreparedSearch prepare_search(const SearchConfig& config) {
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
  PreparedSearch prepared;
  prepared.scaler = StandardScaler::fit(train_table);
  prepared.train = prepared.scaler.transform(train_table);
  prepared.test = prepared.scaler.transform(test_table);
  prepared.identity = study_identity(config, train_file, test_file);
  prepared.backend = device.backend_name();
  prepared.threads = device.threads;
  prepared.make_backend = backend_factory(device);
  prepared.plan = plan_search(config.search, prepared.train.features, prepared.train.rows, prepared.test.rows,
                              pack_size_rule(device, prepared.train.rows, prepared.test.rows));
  for (PlannedPack& pack : prepared.plan.packs) pack.options.keep_parameters = config.keep_models > 0;
  return prepared;
}

}  // namespace hf
