// Trains one planned pack on a backend, splitting it in halves (and those in halves again)
// when the device runs out of memory, so no training is lost; any other device failure, and a
// host allocation that fails, is reported with the pack it happened in (and what was being
// allocated, never a bare std::bad_alloc).
#pragma once

#include <cstddef>
#include <vector>

#include "host/data/standard_scaler.hpp"
#include "host/search/search_plan.hpp"
#include "kernels/backend/backend.hpp"

namespace hf {

// Outcomes in the pack's member order, as train_pack returns them. `start`: the members' states
// to continue from (halving's later rungs), or empty.
std::vector<TrainingOutcome> train_planned_pack(Backend& backend, const PlannedPack& pack, std::size_t pack_index,
                                                std::size_t pack_count, const Dataset& train,
                                                const EvaluationSets& evaluation,
                                                const std::vector<TrainingState>& start = {});

}  // namespace hf
