#include "host/scoring/ranking.hpp"

#include <algorithm>

#include "host/scoring/median_of_reruns.hpp"

namespace hf {

SearchResults rank_combinations(const SearchPlan& plan, const std::vector<TrainingResult>& results) {
  std::vector<std::vector<std::size_t>> reruns(plan.combinations.size());
  for (std::size_t t = 0; t < plan.trainings.size(); ++t) reruns[plan.trainings[t].combination].push_back(t);

  SearchResults out;
  for (std::size_t c = 0; c < plan.combinations.size(); ++c) {
    RankedCombination ranked;
    ranked.combination = c;
    std::vector<double> log10_p;
    bool failed = false;
    bool unfinished = false;
    for (std::size_t t : reruns[c]) {
      const TrainingResult& r = results[t];
      if (!r.done) {
        unfinished = true;
        continue;
      }
      ranked.seconds += r.outcome.seconds;
      if (r.outcome.failed) {
        failed = true;
        out.failures.push_back({c, plan.trainings[t].rerun, plan.trainings[t].seed, r.outcome.error});
        continue;
      }
      log10_p.push_back(r.score.log10_p_value);
      ranked.rerun_p_values.push_back(r.score.p_value);
    }
    if (unfinished) ++out.unfinished_combinations;
    if (failed || unfinished) continue;
    const RerunMedian median = median_of_reruns(log10_p, ranked.rerun_p_values);
    const TrainingResult& representative = results[reruns[c][median.representative]];
    ranked.log10_p_value = median.log10_p_value;
    ranked.p_value = median.p_value;
    ranked.representative_score = representative.score;
    ranked.representative_counts = representative.outcome.counts;
    out.ranked.push_back(std::move(ranked));
  }
  std::stable_sort(out.ranked.begin(), out.ranked.end(), [](const RankedCombination& a, const RankedCombination& b) {
    return a.log10_p_value < b.log10_p_value;
  });
  return out;
}

}  // namespace hf
