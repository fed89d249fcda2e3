// What a search trains, made the same way by every process that takes part: the scaled data
// and the plan. Under MPI every rank prepares it from the same config and data, so a pack is
// named by its index alone.
#pragma once

#include <string>

#include "host/config/search_config.hpp"
#include "host/data/standard_scaler.hpp"
#include "host/journal/study_identity.hpp"
#include "host/run/device_choice.hpp"
#include "host/run/pack_runner.hpp"
#include "host/search/search_plan.hpp"

namespace hf {

struct PreparedSearch {
  Dataset train;
  Dataset validation;  // no rows without [data] validation: the search ranks on the test rows
  Dataset test;
  int embargo_rows = 0;
  StandardScaler scaler;  // fitted on the training rows; predictions apply it to new rows
  SearchPlan plan;
  PackPlanning planning;        // how plan's packs were planned: halving plans its later rungs alike
  StudyIdentity identity;       // of the config and the data files' bytes read here
  std::string backend;          // what trains the packs here ("cpu")
  int threads = 0;              // worker threads here
  BackendFactory make_backend;  // one per worker thread
  DeviceChoice device;
  std::vector<DeviceMemory> gpu_memory;  // free memory of each chosen GPU when the packs were sized
  std::size_t data_file_bytes = 0;       // both data files, as read
  std::size_t program_bytes = 0;         // this process's peak resident memory before loading the data

  bool has_validation() const { return validation.rows > 0; }
  EvaluationSets evaluation() const {
    return has_validation() ? EvaluationSets{&validation, &test} : EvaluationSets{&test, nullptr};
  }
  const Dataset& ranking() const { return has_validation() ? validation : test; }
};

// Loads and scales the data (the scaler is fitted on the training rows; search_data.hpp) and
// plans the search; the packs return their networks' final parameters when the config keeps
// models.
// Throws InputError for bad data or a device this build cannot use.
PreparedSearch prepare_search(const SearchConfig& config);

// The worker thread count a config asks for (cpu_count 0 means every core).
int worker_threads(const SearchConfig& config);

}  // namespace hf
