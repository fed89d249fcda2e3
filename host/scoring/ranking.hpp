// Aggregates each combination's reruns into its median p-value and ranks the combinations,
// best (smallest p-value) first. A combination with a failed rerun is not ranked; its failed
// trainings are listed instead. A combination with a rerun not done (an interrupted search) is
// not ranked either.
#pragma once

#include <string>
#include <vector>

#include "host/scoring/training_result.hpp"
#include "host/search/search_plan.hpp"

namespace hf {

struct RankedCombination {
  std::size_t combination = 0;  // index into SearchPlan::combinations
  double log10_p_value = 0.0;   // median over reruns
  double p_value = 1.0;
  double seconds = 0.0;  // all reruns together
  PrecisionTest representative_score;
  ConfusionCounts representative_counts;
  std::vector<double> rerun_p_values;
};

struct FailedTraining {
  std::size_t combination = 0;
  int rerun = 0;
  std::uint64_t seed = 0;
  std::string error;
};

struct SearchResults {
  std::vector<RankedCombination> ranked;
  std::vector<FailedTraining> failures;
  std::size_t unfinished_combinations = 0;  // with a rerun not done: the search was interrupted
};

SearchResults rank_combinations(const SearchPlan& plan, const std::vector<TrainingResult>& results);

}  // namespace hf
