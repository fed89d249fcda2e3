// Runs a plan's packs on worker threads: each worker takes the next pack, trains it, scores
// every network (the p-value is computed on the worker, as soon as the pack ends) and records
// the results in the training's own slot, so the outcome is the same for any thread count.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/data/standard_scaler.hpp"
#include "host/scoring/training_result.hpp"
#include "host/search/search_plan.hpp"
#include "kernels/backend/backend.hpp"

namespace hf {

// Called from the thread that called run_packs, about four times a second and once at the end.
using ProgressCallback = std::function<void(std::size_t trainings_done, std::size_t trainings_total)>;

// One backend per worker; `make_backend` is called once per thread with the worker's number.
using BackendFactory = std::function<std::unique_ptr<Backend>(int worker)>;

// Called on a worker thread as soon as a pack is trained and scored, with the pack's index and
// its members' results (in the pack's member order), parameters included; the results that
// run_packs fills keep no parameters.
using PackDoneCallback = std::function<void(std::size_t pack, const std::vector<TrainingResult>& members)>;

// The members' training states a pack continues from (successive halving's later rungs).
using StartStates = std::function<std::vector<TrainingState>(std::size_t pack)>;

struct PackRunOptions {
  int threads = 1;
  BackendFactory make_backend;
  std::vector<std::size_t> packs;  // the plan's packs to train, in this order
  // Successive halving's later rungs: the packs `packs` indexes instead of the plan's (planned on
  // the process that runs the search), and each one's start states. Null / empty otherwise.
  const std::vector<PlannedPack>* rung_packs = nullptr;
  StartStates start_states;
  bool more_rounds = false;           // halving: another rung follows, so MPI worker ranks stay
  std::function<bool()> should_stop;  // checked before each pack; packs in flight finish
  PackDoneCallback on_pack_done;
  ProgressCallback progress;
  std::size_t trainings_done_before = 0;  // counted in progress, e.g. resumed from a journal
  std::size_t trainings_total = 0;        // for progress; 0: the plan's trainings
};

// Trains the pack numbered `pack_index` of `pack_count` (split in halves when a device runs out
// of memory), from `start` when it is not empty, and scores its networks.
std::vector<TrainingResult> train_and_score_pack(Backend& backend, const PlannedPack& pack, std::size_t pack_index,
                                                 std::size_t pack_count, const Dataset& train,
                                                 const EvaluationSets& evaluation,
                                                 const std::vector<TrainingState>& start = {});

// The packs a run's `packs` index: the plan's, or a rung's.
inline const std::vector<PlannedPack>& packs_of(const SearchPlan& plan, const PackRunOptions& options) {
  return options.rung_packs ? *options.rung_packs : plan.packs;
}

// Fills the results of the trainings in the packs it ran; the others stay not done.
void run_packs(const SearchPlan& plan, const Dataset& train, const EvaluationSets& evaluation,
               const PackRunOptions& options, std::vector<TrainingResult>& results);

}  // namespace hf
