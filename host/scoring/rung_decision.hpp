// Successive halving's decision after a rung: which of the rung's candidates train on. The best
// ceil(candidates / reduction_factor) by median log10 p-value over their reruns on the ranking
// rows, ties broken by the lower combination number; a candidate with a failed or missing rerun
// is not among them. The order alone decides, so thread count, GPU count and MPI ranks cannot
// change it.
#pragma once

#include <cstddef>
#include <vector>

#include "host/scoring/training_result.hpp"
#include "host/search/search_plan.hpp"

namespace hf {

// `results` holds the rung's results by training (done only for the rung's candidates);
// `candidates` is how many the rung trained. Returns the chosen combinations (indices into
// plan.combinations), ascending.
std::vector<std::size_t> rung_survivors(const SearchPlan& plan, const std::vector<TrainingResult>& results,
                                        std::size_t candidates, int reduction_factor);

}  // namespace hf
