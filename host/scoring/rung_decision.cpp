#include "host/scoring/rung_decision.hpp"

#include <algorithm>

#include "host/scoring/ranking.hpp"
#include "host/search/halving_schedule.hpp"

namespace hf {

std::vector<std::size_t> rung_survivors(const SearchPlan& plan, const std::vector<TrainingResult>& results,
                                        std::size_t candidates, int reduction_factor) {
  SearchResults ranked = rank_combinations(plan, results);
  std::stable_sort(ranked.ranked.begin(), ranked.ranked.end(),
                   [&](const RankedCombination& a, const RankedCombination& b) {
                     if (a.log10_p_value != b.log10_p_value) return a.log10_p_value < b.log10_p_value;
                     return plan.combinations[a.combination].number < plan.combinations[b.combination].number;
                   });
  const std::size_t keep = std::min(candidates_kept(candidates, reduction_factor), ranked.ranked.size());
  std::vector<std::size_t> survivors;
  for (std::size_t i = 0; i < keep; ++i) survivors.push_back(ranked.ranked[i].combination);
  std::sort(survivors.begin(), survivors.end());
  return survivors;
}

}  // namespace hf
