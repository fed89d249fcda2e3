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

struct PackRunOptions {
  int threads = 1;
  BackendFactory make_backend;
  std::vector<std::size_t> packs;     // the plan's packs to train, in this order
  std::function<bool()> should_stop;  // checked before each pack; packs in flight finish
  PackDoneCallback on_pack_done;
  ProgressCallback progress;
  std::size_t trainings_done_before = 0;  // counted in progress, e.g. resumed from a journal
};

// Trains the plan's pack `pack` (split in halves when a device runs out of memory) and scores
// its networks.
std::vector<TrainingResult> train_and_score_pack(Backend& backend, const SearchPlan& plan, std::size_t pack,
                                                 const Dataset& train, const EvaluationSets& evaluation);

// Fills the results of the trainings in the packs it ran; the others stay not done.
void run_packs(const SearchPlan& plan, const Dataset& train, const EvaluationSets& evaluation,
               const PackRunOptions& options, std::vector<TrainingResult>& results);

}  // namespace hf
