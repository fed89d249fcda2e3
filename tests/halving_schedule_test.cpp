// Successive halving's arithmetic: the rungs (epochs and candidate counts) for a schedule, and
// the decision after a rung on constructed results whose answer is known: the best medians go
// on, ties by combination number, failed and unfinished candidates never.
#include <gtest/gtest.h>

#include "host/scoring/rung_decision.hpp"
#include "host/search/halving_schedule.hpp"

namespace hf {
namespace {

std::vector<int> epochs_of(const std::vector<HalvingRung>& rungs) {
  std::vector<int> epochs;
  for (const HalvingRung& r : rungs) epochs.push_back(r.epochs);
  return epochs;
}

std::vector<std::size_t> candidates_of(const std::vector<HalvingRung>& rungs) {
  std::vector<std::size_t> counts;
  for (const HalvingRung& r : rungs) counts.push_back(r.candidates);
  return counts;
}

TEST(HalvingRungs, EveryRungIsReductionFactorTimesTheOneBeforeAndTheLastIsMaxEpochs) {
  // The seed grid with the defaults: 1, 3, then 8 (9 would pass max_epochs).
  const std::vector<HalvingRung> seed = halving_rungs(1, 8, 3, 1024);
  EXPECT_EQ(epochs_of(seed), (std::vector<int>{1, 3, 8}));
  EXPECT_EQ(candidates_of(seed), (std::vector<std::size_t>{1024, 342, 114}));
  EXPECT_EQ(epochs_of(halving_rungs(1, 8, 2, 16)), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(candidates_of(halving_rungs(1, 8, 2, 16)), (std::vector<std::size_t>{16, 8, 4, 2}));
  EXPECT_EQ(epochs_of(halving_rungs(2, 54, 3, 10)), (std::vector<int>{2, 6, 18, 54}));
  EXPECT_EQ(candidates_of(halving_rungs(2, 54, 3, 10)), (std::vector<std::size_t>{10, 4, 2, 1}));
}

TEST(HalvingRungs, TheRungCountComesNearestToReductionFactorOnALogScale) {
  // log3(10) = 2.1: two cuts, the last step 10/3. log3(16) = 2.52: three cuts.
  EXPECT_EQ(epochs_of(halving_rungs(1, 10, 3, 9)), (std::vector<int>{1, 3, 10}));
  EXPECT_EQ(epochs_of(halving_rungs(1, 16, 3, 9)), (std::vector<int>{1, 3, 9, 16}));
  // log3(4) = 1.26 and log3(5) = 1.46: one cut; log3(6) = 1.63: two.
  EXPECT_EQ(epochs_of(halving_rungs(1, 4, 3, 9)), (std::vector<int>{1, 4}));
  EXPECT_EQ(epochs_of(halving_rungs(1, 5, 3, 9)), (std::vector<int>{1, 5}));
  EXPECT_EQ(epochs_of(halving_rungs(1, 6, 3, 9)), (std::vector<int>{1, 3, 6}));
  // Exactly half way on the log scale (4^1.5 = 8) rounds up: a cut at 2 and one at 8.
  EXPECT_EQ(epochs_of(halving_rungs(1, 8, 4, 9)), (std::vector<int>{1, 4, 8}));
}

TEST(HalvingRungs, AReductionFactorAboveTheSquareOfTheSpanKeepsEveryCandidateToTheEnd) {
  // (8 / 1)^2 = 64: from 65 on, one rung of max_epochs: a grid.
  EXPECT_EQ(epochs_of(halving_rungs(1, 8, 64, 100)), (std::vector<int>{1, 8}));
  EXPECT_EQ(epochs_of(halving_rungs(1, 8, 65, 100)), (std::vector<int>{8}));
  EXPECT_EQ(candidates_of(halving_rungs(1, 8, 65, 100)), (std::vector<std::size_t>{100}));
  EXPECT_EQ(epochs_of(halving_rungs(8, 8, 3, 5)), (std::vector<int>{8})) << "min_epochs = max_epochs";
  EXPECT_EQ(epochs_of(halving_rungs(1, 100, 1000000, 5)), (std::vector<int>{100}));
  // The widest span and the largest factor: no overflow on the way.
  EXPECT_EQ(epochs_of(halving_rungs(1, 100000, 1000000, 5)), (std::vector<int>{1, 100000}));
  EXPECT_EQ(epochs_of(halving_rungs(100000, 100000, 2, 5)), (std::vector<int>{100000}));
}

TEST(HalvingRungs, AtLeastOneCandidateGoesOn) {
  EXPECT_EQ(candidates_kept(1, 3), 1u);
  EXPECT_EQ(candidates_kept(3, 3), 1u);
  EXPECT_EQ(candidates_kept(4, 3), 2u);
  EXPECT_EQ(candidates_kept(0, 3), 0u);
  EXPECT_THROW(halving_rungs(0, 8, 3, 1), std::invalid_argument);
  EXPECT_THROW(halving_rungs(9, 8, 3, 1), std::invalid_argument);
  EXPECT_THROW(halving_rungs(1, 8, 1, 1), std::invalid_argument);
}

// A plan of combinations numbered by `numbers`, three reruns each, and their results at a rung:
// combination c's reruns predict true_positives[c] positives of 100 rows, all correctly, where
// 50 rows are positive, so more true positives make a smaller p-value.
struct ConstructedRung {
  SearchPlan plan;
  std::vector<TrainingResult> results;
};

ConstructedRung constructed(const std::vector<std::uint64_t>& numbers, const std::vector<int>& true_positives) {
  ConstructedRung r;
  for (std::size_t c = 0; c < numbers.size(); ++c) {
    PlannedCombination combination;
    combination.number = numbers[c];
    r.plan.combinations.push_back(combination);
    for (int rerun = 0; rerun < 3; ++rerun) {
      r.plan.trainings.push_back({c, rerun, 0});
      TrainingResult result;
      result.done = true;
      const int tp = true_positives[c];
      result.outcome.counts = {tp, 0, 50 - tp, 50};
      result.score = training_score(result.outcome);
      r.results.push_back(result);
    }
  }
  return r;
}

TEST(RungDecision, TheBestMediansGoOn) {
  // Combinations 0..5 with 5, 30, 10, 40, 20, 1 true positives: the best third are 3 and 1.
  const ConstructedRung r = constructed({0, 1, 2, 3, 4, 5}, {5, 30, 10, 40, 20, 1});
  EXPECT_EQ(rung_survivors(r.plan, r.results, 6, 3), (std::vector<std::size_t>{1, 3}));
  EXPECT_EQ(rung_survivors(r.plan, r.results, 6, 2), (std::vector<std::size_t>{1, 3, 4}));
  EXPECT_EQ(rung_survivors(r.plan, r.results, 6, 6), (std::vector<std::size_t>{3}));
  EXPECT_EQ(rung_survivors(r.plan, r.results, 6, 100), (std::vector<std::size_t>{3})) << "at least one";
}

TEST(RungDecision, TiesGoToTheLowerCombinationNumberWhateverThePlanOrder) {
  // Equal scores; the plan lists the combinations out of number order (a random search's draws).
  const ConstructedRung r = constructed({17, 4, 9, 2}, {20, 20, 20, 20});
  // Numbers 2 and 4 are plan indices 3 and 1.
  EXPECT_EQ(rung_survivors(r.plan, r.results, 4, 2), (std::vector<std::size_t>{1, 3}));
  const ConstructedRung s = constructed({17, 4, 9, 2}, {20, 25, 20, 20});
  // Number 4 is the best outright; the tie for the second place goes to number 2.
  EXPECT_EQ(rung_survivors(s.plan, s.results, 4, 2), (std::vector<std::size_t>{1, 3}));
}

TEST(RungDecision, FailedAndUnfinishedCandidatesNeverGoOn) {
  ConstructedRung r = constructed({0, 1, 2, 3, 4, 5}, {5, 30, 10, 40, 20, 1});
  r.results[3].outcome.failed = true;  // combination 1, its first rerun: diverged
  r.results[3].score = training_score(r.results[3].outcome);
  r.results[10].done = false;  // combination 3, its second rerun: not trained (a stopped run)
  EXPECT_EQ(rung_survivors(r.plan, r.results, 6, 3), (std::vector<std::size_t>{2, 4}));
  // Fewer candidates left than the share to keep: only those.
  for (std::size_t t = 0; t < r.results.size(); ++t) r.results[t].done = t < 3;
  EXPECT_EQ(rung_survivors(r.plan, r.results, 6, 2), (std::vector<std::size_t>{0}));
}

TEST(RungDecision, TheMedianOverRerunsDecidesNotTheBestRerun) {
  // Combination 0's reruns: 45, 2 and 2 true positives; combination 1's: 25 each. Combination
  // 0's best rerun beats everything, but its median does not.
  ConstructedRung r = constructed({0, 1}, {45, 25});
  for (int t : {1, 2}) {
    r.results[t].outcome.counts = {2, 0, 48, 50};
    r.results[t].score = training_score(r.results[t].outcome);
  }
  EXPECT_EQ(rung_survivors(r.plan, r.results, 2, 2), (std::vector<std::size_t>{1}));
}

}  // namespace
}  // namespace hf
