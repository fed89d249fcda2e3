// The study journal: every finished training, committed to an SQLite database as it finishes,
// so that no finished training is lost when a search is interrupted and a rerun of the same
// command resumes where it stopped. One writer thread owns the database connection (no
// "database is locked"); the schema is documented in README.md ("The study journal").
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "host/journal/stored_models.hpp"
#include "host/journal/study_identity.hpp"
#include "host/journal/training_state_store.hpp"
#include "host/scoring/precision_p_value.hpp"
#include "host/training/training_state.hpp"
#include "kernels/backend/confusion_counts.hpp"

struct sqlite3;

namespace hf {

inline constexpr const char* kJournalFileName = "study.sqlite";
// 2: the trained networks (models, kept_models, kept_hyperparameters, scaler). A journal of
// another version is refused with what to do.
inline constexpr int kJournalSchemaVersion = 2;

// One finished (or failed) training, as the journal stores it.
struct JournalEntry {
  std::uint64_t combination = 0;  // the combination's number in the full grid
  int rerun = 0;                  // 0-based here; the database shows it 1-based, as the CSV
  std::uint64_t seed = 0;
  std::vector<std::string> values;  // the combination's value of each axis, as the config wrote it
  bool failed = false;
  std::string error;
  ConfusionCounts counts;  // on the ranking rows: validation when the study has them, else test
  PrecisionTest score;
  std::optional<ConfusionCounts> test_counts;  // with validation rows: on the test rows
  std::string predicted_positives;             // on the ranking rows, RowBitset::to_bytes(); empty when failed
  double seconds = 0.0;
  std::string device;
  // The trained network, stored when not empty (a finished training of a search keeping models).
  std::vector<float> parameters;
  std::vector<double> epoch_losses;
  // Successive halving: the epochs trained when this row was scored (its rung), and the full
  // training state to continue from (training_state_bytes; stored when not empty). 0 and empty in
  // other studies.
  int epochs_trained = 0;
  std::string state;
  int continued_from = 0;  // the epochs of the state it continued from, whose file then goes; 0: none
};

// Successive halving's decision after one rung: the candidates (combination numbers) that train
// the next rung.
struct RungDecision {
  int rung = 0;    // the rung they train next, from 1
  int epochs = 0;  // its epochs
  std::vector<std::uint64_t> combinations;
};

class StudyJournal {
 public:
  // Opens the journal in `dir`, or creates it. An existing journal of another study is refused
  // with an InputError listing what changed, unless `fresh`, which discards it first.
  // `halving`: a successive-halving study, whose `trainings` table holds a row per rung a training
  // reached (column epochs_trained) and which keeps training states and rung decisions.
  StudyJournal(const std::filesystem::path& dir, const StudyIdentity& identity,
               const std::vector<std::string>& axis_keys, bool fresh, bool halving = false);
  ~StudyJournal();  // commits everything recorded, then closes
  StudyJournal(const StudyJournal&) = delete;
  StudyJournal& operator=(const StudyJournal&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // The trainings an earlier run of this study finished, read when the journal was opened.
  const std::vector<JournalEntry>& finished() const { return finished_; }

  // Queues entries for the writer thread; thread-safe. Rethrows a write failure, if any.
  void record(std::vector<JournalEntry> entries);

  // Waits until everything recorded so far is committed; rethrows a write failure.
  void flush();

  // Halving studies. The training state of a (combination, rerun) after `epochs` epochs, as its
  // committed row of that rung left it (training_state_store.hpp); thread-safe. InputError when
  // it is missing or damaged.
  TrainingState read_state(std::uint64_t combination, int rerun, int epochs) const;
  // The decisions an earlier run recorded, by rung.
  const std::vector<RungDecision>& decisions() const { return decisions_; }
  // Records a decision once every result of the rung before it is committed; then deletes the
  // states of the candidates that stop (`stopped`, after `stopped_epochs` epochs, every rerun).
  void record_decision(const RungDecision& decision, const std::vector<std::uint64_t>& stopped, int stopped_epochs,
                       int reruns);

  // Once the search has completed: keeps the networks of the best `keep` of `ranked` (best
  // first), deletes the others and records `inputs` (see keep_top_models). Returns how many
  // combinations' networks were kept.
  int keep_models(const std::vector<KeptCombination>& ranked, int keep, int reruns, const ModelInputs& inputs);

 private:
  void create_schema(const StudyIdentity& identity, const std::vector<std::string>& axis_keys);
  void read_decisions();
  void check_schema_version();
  void check_identity(const StudyIdentity& identity);
  void read_finished();
  void write_loop();
  void commit(const std::vector<JournalEntry>& entries);

  std::filesystem::path path_;
  int folder_lock_ = -1;
  sqlite3* db_ = nullptr;
  std::string insert_sql_;
  std::vector<JournalEntry> finished_;
  bool halving_ = false;
  std::vector<RungDecision> decisions_;
  TrainingStateStore states_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<JournalEntry> queue_;
  std::size_t recorded_ = 0;
  std::size_t committed_ = 0;
  bool closing_ = false;
  std::exception_ptr failure_;
  std::thread writer_;
};

}  // namespace hf
