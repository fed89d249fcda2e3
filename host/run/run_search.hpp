// One whole search: load and scale the data, plan the trainings, open the study journal (and
// resume what an earlier run of the same study finished), run the rest on the chosen backend,
// rank the combinations, test the ranking against chance (search_significance.hpp) and write
// the result files.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "host/config/search_config.hpp"
#include "host/run/pack_runner.hpp"
#include "host/run/prepared_search.hpp"
#include "host/scoring/ranking.hpp"
#include "host/search/halving_schedule.hpp"
#include "host/search/search_plan.hpp"

namespace hf {

// Trains the packs `run` lists and fills their results; run_packs (local worker threads) when
// not set, the MPI coordinator when the search runs across ranks.
using PackExecutor = std::function<void(const PreparedSearch& prepared, const PackRunOptions& run,
                                        std::vector<TrainingResult>& results)>;

struct SearchOptions {
  bool fresh = false;                 // discard the journal instead of resuming it
  std::function<bool()> should_stop;  // checked before each pack: stop taking new work
  PackExecutor execute;
  std::string executor_name;  // replaces the backend in the summary, e.g. "3 MPI worker ranks"
};

struct SearchSummary {
  SearchPlan plan;
  SearchResults results;
  std::string backend;
  int threads = 0;
  int workers_per_gpu = 0;  // worker threads sharing each GPU (gpu_workers.hpp); 0 on the CPU
  int input_width = 0;
  int train_rows = 0;
  int validation_rows = 0;  // 0: ranked on the test rows
  int embargo_rows = 0;
  int test_rows = 0;
  double seconds = 0.0;
  int permutations = 0;              // of the search p-value's test; 0 when it did not run
  double permutation_seconds = 0.0;  // its share of `seconds`
  // Successive halving's rungs (empty in other searches). A training counts once per rung it
  // trains, so a halving's trainings are its rungs' trainings.
  std::vector<HalvingRung> rungs;
  std::size_t trainings_total = 0;    // the plan's trainings, or every rung's
  std::size_t trainings_resumed = 0;  // finished by earlier runs, read from the journal
  std::size_t trainings_done = 0;     // finished now or earlier; below trainings_total when stopped
  double total_flops = 0.0;           // of the trainings this run trained, when it trained them all
  bool stopped = false;               // should_stop ended the search early: results are partial
  bool wrote_results = false;         // false when stopped before any training finished
  // Combinations whose trained networks the journal keeps once the search completed: the best
  // [output] keep_models, fewer when fewer ranked or an earlier run of the study kept none.
  int models_kept = 0;
  std::string device_notice;  // when device = "auto" passed over a GPU this build cannot use, else empty
  std::string memory_notice;  // when memory changed how the search runs (fewer threads), else empty
  std::filesystem::path results_path;
  std::filesystem::path errors_path;
  std::filesystem::path journal_path;
};

// Called once the data is loaded, the plan made and the journal read, before training starts.
using PlanCallback = std::function<void(const SearchSummary& summary)>;

SearchSummary run_search(const SearchConfig& config, const SearchOptions& options, const PlanCallback& on_plan,
                         const ProgressCallback& progress);

}  // namespace hf
