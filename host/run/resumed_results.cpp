#include "host/run/resumed_results.hpp"

#include <stdexcept>
#include <string>

#include "host/common/errors.hpp"

namespace hf {

TrainingIndex index_trainings(const SearchPlan& plan) {
  TrainingIndex index;
  for (std::size_t t = 0; t < plan.trainings.size(); ++t) {
    index[{plan.combinations[plan.trainings[t].combination].number, plan.trainings[t].rerun}] = t;
  }
  return index;
}

std::size_t training_of(const TrainingIndex& index, const SearchPlan& plan, const JournalEntry& entry,
                        const std::filesystem::path& journal) {
  const auto found = index.find({entry.combination, entry.rerun});
  if (found == index.end() || plan.trainings[found->second].seed != entry.seed) {
    throw InputError(journal.string() + ": holds combination " + std::to_string(entry.combination) + " rerun " +
                     std::to_string(entry.rerun + 1) +
                     ", which this search does not plan with that seed (a journal of another hyperfuse "
                     "version?); run with --fresh to start this study over");
  }
  return found->second;
}

TrainingResult journal_result(const JournalEntry& e, int ranking_rows, const std::filesystem::path& journal) {
  TrainingResult r;
  r.done = true;
  r.outcome.counts = e.counts;
  r.outcome.failed = e.failed;
  r.outcome.error = e.error;
  r.outcome.seconds = e.seconds;
  if (e.test_counts) r.outcome.test_counts = *e.test_counts;
  if (!e.failed) {
    try {
      r.outcome.predicted_positives = RowBitset::from_bytes(ranking_rows, e.predicted_positives);
    } catch (const std::runtime_error& error) {
      throw InputError(journal.string() + ": combination " + std::to_string(e.combination) + " rerun " +
                       std::to_string(e.rerun + 1) + ": " + error.what() +
                       "; the journal is damaged: run with --fresh to start this study over");
    }
  }
  r.score = training_score(r.outcome);
  r.device = e.device;
  return r;
}

}  // namespace hf
