// Aggregates each combination's reruns into its median p-value and ranks the combinations,
// best (smallest p-value) first. A combination with a failed rerun is not ranked; its failed
// trainings are listed instead. A combination with a rerun not done (an interrupted search) is
// not ranked either. Holm and Benjamini-Hochberg adjust over the ranked combinations.
#pragma once

#include <string>
#include <vector>

#include "host/scoring/training_result.hpp"
#include "host/search/search_plan.hpp"

namespace hf {

// Everything about the ranking set (p-values, counts, the reruns' p-values) describes the rows
// the search ranks on: the validation rows when there are any, else the test rows.
struct RankedCombination {
  std::size_t combination = 0;  // index into SearchPlan::combinations
  double log10_p_value = 0.0;   // median over reruns
  double p_value = 1.0;
  double seconds = 0.0;  // all reruns together
  PrecisionTest representative_score;
  ConfusionCounts representative_counts;
  std::vector<double> rerun_p_values;
  std::vector<std::size_t> trainings;  // the reruns' trainings, in rerun order (index into SearchPlan::trainings)

  // The test rows, when the search ranks on validation rows: the median over the reruns of the
  // test p-value, and the rerun that is that median (not necessarily the validation median's).
  double test_log10_p_value = 0.0;
  double test_p_value = 1.0;
  PrecisionTest test_representative_score;
  ConfusionCounts test_representative_counts;

  // The median p-value adjusted for the search (multiple_testing.hpp, search_significance.hpp).
  double holm_p_value = 1.0;
  double bh_p_value = 1.0;
  double search_p_value = -1.0;  // negative: not computed ([search] permutations = 0)

  int epochs_trained = 0;  // successive halving: the epochs of the last rung it reached; else 0
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

// Successive halving: `results` holds each training's result at the last rung its combination
// reached, and `epochs_trained` that rung's epochs per combination. Combinations that reached a
// later rung rank first; within a rung, by p-value.
SearchResults rank_combinations(const SearchPlan& plan, const std::vector<TrainingResult>& results,
                                const std::vector<int>& epochs_trained);

}  // namespace hf
