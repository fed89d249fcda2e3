// Runs a plan's packs on worker threads: each worker takes the next pack, trains it, scores
// every network (the p-value is computed on the worker, as soon as the pack ends) and records
// the results in the training's own slot, so the outcome is the same for any thread count.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "host/data/standard_scaler.hpp"
#include "host/run/search_plan.hpp"
#include "host/scoring/precision_p_value.hpp"
#include "host/training/backend.hpp"

namespace hf {

struct TrainingResult {
  TrainingOutcome outcome;
  PrecisionTest score;
};

// Called from the thread that called run_packs, about four times a second and once at the end.
using ProgressCallback = std::function<void(std::size_t trainings_done, std::size_t trainings_total)>;

// One backend per worker; `make_backend` is called once per thread.
using BackendFactory = std::function<std::unique_ptr<Backend>()>;

std::vector<TrainingResult> run_packs(const SearchPlan& plan, const Dataset& train, const Dataset& test, int threads,
                                      const BackendFactory& make_backend, const ProgressCallback& progress);

}  // namespace hf
