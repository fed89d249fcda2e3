#include "host/scoring/ranking.hpp"

#include <algorithm>
#include <cmath>

#include "host/scoring/median_of_reruns.hpp"
#include "host/scoring/multiple_testing.hpp"

namespace hf {
namespace {

// The test rows' median over the reruns (meaningful when the search ranks on validation rows).
void add_test_median(const std::vector<TrainingResult>& results, RankedCombination& ranked) {
  std::vector<PrecisionTest> scores;
  std::vector<double> log10_p, p;
  for (std::size_t t : ranked.trainings) {
    scores.push_back(precision_p_value(results[t].outcome.test_counts));
    log10_p.push_back(scores.back().log10_p_value);
    p.push_back(scores.back().p_value);
  }
  const RerunMedian median = median_of_reruns(log10_p, p);
  ranked.test_log10_p_value = median.log10_p_value;
  ranked.test_p_value = median.p_value;
  ranked.test_representative_score = scores[median.representative];
  ranked.test_representative_counts = results[ranked.trainings[median.representative]].outcome.test_counts;
}

// Over every ranked combination in order of p-value (which successive halving's ranking, by
// the last rung first, is not).
void add_adjusted_p_values(std::vector<RankedCombination>& ranked) {
  std::vector<std::size_t> order(ranked.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ranked[a].log10_p_value < ranked[b].log10_p_value; });
  std::vector<double> log10_p;
  for (std::size_t i : order) log10_p.push_back(ranked[i].log10_p_value);
  const std::vector<double> holm = holm_log10_p_values(log10_p);
  const std::vector<double> bh = benjamini_hochberg_log10_p_values(log10_p);
  for (std::size_t k = 0; k < order.size(); ++k) {
    ranked[order[k]].holm_p_value = std::pow(10.0, holm[k]);
    ranked[order[k]].bh_p_value = std::pow(10.0, bh[k]);
  }
}

}  // namespace

SearchResults rank_combinations(const SearchPlan& plan, const std::vector<TrainingResult>& results) {
  return rank_combinations(plan, results, std::vector<int>(plan.combinations.size(), 0));
}

SearchResults rank_combinations(const SearchPlan& plan, const std::vector<TrainingResult>& results,
                                const std::vector<int>& epochs_trained) {
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
      ranked.trainings.push_back(t);
    }
    if (unfinished) ++out.unfinished_combinations;
    if (failed || unfinished) continue;
    const RerunMedian median = median_of_reruns(log10_p, ranked.rerun_p_values);
    const TrainingResult& representative = results[reruns[c][median.representative]];
    ranked.epochs_trained = epochs_trained.at(c);
    ranked.log10_p_value = median.log10_p_value;
    ranked.p_value = median.p_value;
    ranked.representative_score = representative.score;
    ranked.representative_counts = representative.outcome.counts;
    add_test_median(results, ranked);
    out.ranked.push_back(std::move(ranked));
  }
  std::stable_sort(out.ranked.begin(), out.ranked.end(), [](const RankedCombination& a, const RankedCombination& b) {
    if (a.epochs_trained != b.epochs_trained) return a.epochs_trained > b.epochs_trained;
    return a.log10_p_value < b.log10_p_value;
  });
  add_adjusted_p_values(out.ranked);
  return out;
}

}  // namespace hf
