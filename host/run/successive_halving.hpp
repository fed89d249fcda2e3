// Successive halving over a plan's combinations (the candidates): rung after rung, every
// candidate's reruns train to the rung's epochs (after the first rung, continuing from their
// stored training states), the rung's candidates are ranked by their median p-value on the
// ranking rows, ties by combination number, and the best 1 / reduction_factor go on. Every
// rung's results and every decision are committed to the study journal as they happen, each
// training's latest state to a file beside it (training_state_store.hpp) before its row, so a
// run killed at any moment resumes without retraining a finished rung, and decides exactly as a
// run that never stopped (docs/CONFIG.md, "Successive halving").
#pragma once

#include <functional>
#include <vector>

#include "host/journal/study_journal.hpp"
#include "host/run/run_search.hpp"
#include "host/search/halving_schedule.hpp"

namespace hf {

class SuccessiveHalving {
 public:
  // Reads the rung results and decisions an earlier run of the study committed to `journal`.
  SuccessiveHalving(const SearchConfig& config, const PreparedSearch& prepared, StudyJournal& journal);

  const std::vector<HalvingRung>& rungs() const { return rungs_; }
  std::size_t trainings_total() const;  // every rung's trainings as the schedule plans them
  std::size_t trainings_resumed() const { return resumed_; }
  std::size_t trainings_done() const;
  bool complete() const;                           // the last rung has trained
  double flops_trained() const { return flops_; }  // by this run

  // A training's journal row without its rung and state, which run() adds.
  using EntryOf = std::function<JournalEntry(std::size_t training, const TrainingResult& result)>;
  // Trains the rungs left, rung after rung, until the last or until run.should_stop. `execute`
  // trains one rung's packs (run_packs when null); `options` brings the worker threads, backend,
  // stop check and progress, and run() sets the packs, start states and journaling.
  void run(const PackExecutor& execute, PackRunOptions options, const EntryOf& entry_of);

  // Each training's result at the last rung its combination completed (not done when none),
  // and per combination that rung's epochs (0 when none).
  std::vector<TrainingResult> last_results() const;
  std::vector<int> epochs_trained() const;
  // The predictions after every completed rung before a combination's last one, one family
  // member per (combination, rung), for the search p-value.
  std::vector<std::vector<const RowBitset*>> earlier_rungs() const;

 private:
  // The plan's trainings of a rung's candidates, in plan order.
  std::vector<std::size_t> trainings_of(int rung) const;
  bool rung_complete(int rung) const;
  // The last rung whose results of combination c are all there, or -1.
  int last_rung_of(std::size_t combination) const;
  // After rung `rung`, the candidates of the next: decided from the results, checked against a
  // decision the journal recorded, else recorded.
  void decide(int rung);
  void train_rung(int rung, const PackExecutor& execute, PackRunOptions options, const EntryOf& entry_of);

  const SearchConfig& config_;
  const PreparedSearch& prepared_;
  StudyJournal& journal_;
  std::vector<HalvingRung> rungs_;
  std::vector<std::vector<std::size_t>> candidates_;  // per rung, combination indices; empty until decided
  std::vector<bool> decided_;                         // per rung: candidates_ known
  std::vector<std::vector<TrainingResult>> results_;  // per rung, per training
  std::vector<std::vector<std::size_t>> reruns_;      // per combination, its trainings
  std::size_t resumed_ = 0;
  double flops_ = 0.0;
};

}  // namespace hf
