// One whole search: load and scale the data, plan the trainings, run them on the chosen
// backend, rank the combinations and write the result files.
#pragma once

#include <filesystem>
#include <string>

#include "host/config/search_config.hpp"
#include "host/run/pack_runner.hpp"
#include "host/run/ranking.hpp"
#include "host/run/search_plan.hpp"

namespace hf {

struct SearchSummary {
  SearchPlan plan;
  SearchResults results;
  std::string backend;
  int threads = 0;
  int input_width = 0;
  int train_rows = 0;
  int test_rows = 0;
  double seconds = 0.0;
  std::filesystem::path results_path;
  std::filesystem::path errors_path;
};

// Called once the data is loaded and the plan made, before training starts.
using PlanCallback = std::function<void(const SearchSummary& summary)>;

SearchSummary run_search(const SearchConfig& config, const PlanCallback& on_plan, const ProgressCallback& progress);

// The worker thread count a config asks for (cpu_count 0 means every core).
int worker_threads(const SearchConfig& config);

}  // namespace hf
