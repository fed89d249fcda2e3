#include "host/run/prepared_search.hpp"

#include <algorithm>
#include <thread>

#include "host/run/device_choice.hpp"
#include "host/run/gpu_workers.hpp"
#include "host/run/machine_memory.hpp"
#include "host/run/search_data.hpp"

namespace hf {

int worker_threads(const SearchConfig& config) {
  if (config.cpu_count > 0) return config.cpu_count;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

PreparedSearch prepare_search(const SearchConfig& config) {
  const std::size_t program_bytes = peak_resident_bytes();
  DeviceChoice device = choose_device(config, worker_threads(config));
  SearchData data = load_search_data(config);
  PreparedSearch prepared;
  prepared.train = std::move(data.train);
  prepared.validation = std::move(data.validation);
  prepared.test = std::move(data.test);
  prepared.embargo_rows = data.embargo_rows;
  prepared.scaler = data.scaler;
  prepared.identity = study_identity(config, data.train_file, data.test_file, data.validation_file);
  prepared.backend = device.backend_name();
  prepared.gpu_memory = gpu_memory(device);
  prepared.data_file_bytes = data.train_file.size() + data.validation_file.size() + data.test_file.size();
  prepared.program_bytes = program_bytes;
  // Every network is evaluated on the validation rows (if any) and the test rows.
  const int evaluated_rows = prepared.validation.rows + prepared.test.rows;
  prepared.planning =
      PackPlanning{prepared.train.features, prepared.train.rows, evaluated_rows,
                   pack_size_rule(device, prepared.gpu_memory, prepared.train.rows, prepared.evaluation().rows())};
  prepared.plan = plan_search(config.search, prepared.planning);
  for (PlannedPack& pack : prepared.plan.packs) pack.options.keep_parameters = config.keep_models > 0;
  // Packs smaller than what a GPU trains at once share it: more workers, each with its stream.
  const std::size_t resident = resident_bytes_per_worker(
      prepared.plan, {&prepared.train, &prepared.validation, &prepared.test}, prepared.train.rows);
  device = with_workers_per_gpu(device, workers_per_gpu(device, prepared.gpu_memory, prepared.plan, prepared.train.rows,
                                                        prepared.evaluation().rows(), resident));
  prepared.device = device;
  prepared.threads = device.threads;
  prepared.make_backend = backend_factory(device);
  return prepared;
}

}  // namespace hf
