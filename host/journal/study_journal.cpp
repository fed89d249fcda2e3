#include "host/journal/study_journal.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <ctime>
#include <stdexcept>

#include "host/common/errors.hpp"
#include "host/journal/sqlite_statement.hpp"

namespace hf {
namespace {

std::string quoted_identifier(const std::string& name) { return "\"" + name + "\""; }

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void remove_journal_files(const std::filesystem::path& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path.string() + suffix, ignored);
}

// test_tp, test_fp, test_fn, test_tn, test_p_value, test_log10_p_value from column `i` on:
// NULL without test counts (no validation rows, so the ranking counts are the test counts).
void bind_test_columns(Statement& insert, int& i, const std::optional<ConfusionCounts>& counts) {
  if (!counts) {
    for (int k = 0; k < 6; ++k) insert.bind_null(i++);
    return;
  }
  for (std::int64_t n : {counts->tp, counts->fp, counts->fn, counts->tn}) insert.bind(i++, n);
  const PrecisionTest score = precision_p_value(*counts);
  insert.bind(i++, score.p_value);
  insert.bind(i++, score.log10_p_value);
}

// One trainings row's values, in the column order of the insert statement.
void bind_training_row(Statement& insert, const JournalEntry& e, const std::string& finished_at, bool halving) {
  int i = 1;
  insert.bind(i++, std::to_string(e.combination));
  insert.bind(i++, static_cast<std::int64_t>(e.rerun + 1));
  insert.bind(i++, std::to_string(e.seed));
  for (const std::string& value : e.values) insert.bind(i++, value);
  insert.bind(i++, std::string(e.failed ? "failed" : "finished"));
  if (e.failed) {
    for (int k = 0; k < 14; ++k) insert.bind_null(i++);
  } else {
    for (std::int64_t n : {e.counts.tp, e.counts.fp, e.counts.fn, e.counts.tn}) insert.bind(i++, n);
    insert.bind(i++, e.score.precision);
    insert.bind(i++, e.score.p_value);
    insert.bind(i++, e.score.log10_p_value);
    bind_test_columns(insert, i, e.test_counts);
    insert.bind_blob(i++, e.predicted_positives);
  }
  insert.bind(i++, e.seconds);
  insert.bind(i++, e.device);
  if (e.failed) {
    insert.bind(i++, e.error);
  } else {
    insert.bind_null(i++);
  }
  insert.bind(i++, finished_at);
  if (halving) insert.bind(i++, static_cast<std::int64_t>(e.epochs_trained));
}

}  // namespace

StudyJournal::StudyJournal(const std::filesystem::path& dir, const StudyIdentity& identity,
                           const std::vector<std::string>& axis_keys, bool fresh, bool halving)
    : path_(dir / kJournalFileName), halving_(halving), states_(dir) {
  // A second run on the same folder would mix two writers' trainings: the folder is locked
  // for the lifetime of the journal (flock, released by the kernel however the process ends).
  folder_lock_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder_lock_ < 0 || ::flock(folder_lock_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const bool busy = error == EWOULDBLOCK;
    if (folder_lock_ >= 0) ::close(folder_lock_);
    throw InputError(dir.string() + (busy
                                         ? ": another hyperfuse run is using this output folder and its study journal; "
                                           "wait for it to finish, or set --output-dir to another folder"
                                         : ": cannot lock the output folder (" + std::string(std::strerror(error)) +
                                               "); check that it exists and is readable"));
  }
  if (fresh) remove_journal_files(path_);
  const bool existed = std::filesystem::exists(path_);
  // States belong to the journal that committed their rows: none without one.
  if (!existed) states_.remove_all();
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string reason = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    ::close(folder_lock_);
    throw InputError(path_.string() + ": cannot open the study journal (" + reason +
                     "); check that the output folder is writable");
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    // WAL: readers (sqlite3, pandas) see committed trainings while the search runs.
    // Incremental auto-vacuum: the networks deleted when a search completes give their pages
    // back (PRAGMA incremental_vacuum) without rewriting the whole file. It only takes effect
    // on a new database, before the switch to WAL; on an existing one it changes nothing.
    const char* setup = "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
    char* message = nullptr;
    if (sqlite3_exec(db_, setup, nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string reason = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      throw InputError(path_.string() + ": is not a hyperfuse study journal (" + reason +
                       "); move it away, or run with --fresh to replace it");
    }
    Statement has_schema(db_, "SELECT count(*) FROM sqlite_master WHERE name = 'trainings'");
    has_schema.step();
    if (has_schema.integer(0) == 0) {
      if (existed && !fresh) {
        // An empty database (a run killed while creating it) is simply created again.
        Statement tables(db_, "SELECT count(*) FROM sqlite_master");
        tables.step();
        if (tables.integer(0) != 0) {
          throw InputError(path_.string() +
                           ": is not a hyperfuse study journal; move it away, or run with --fresh to replace it");
        }
      }
      create_schema(identity, axis_keys);
    } else {
      check_schema_version();
      check_identity(identity);
      read_finished();
      if (halving_) read_decisions();
    }
  } catch (...) {
    sqlite3_close(db_);
    ::close(folder_lock_);
    throw;
  }

  insert_sql_ = "INSERT INTO trainings (combination, rerun, seed";
  std::string placeholders = "?, ?, ?";
  for (const std::string& key : axis_keys) {
    insert_sql_ += ", " + quoted_identifier(key);
    placeholders += ", ?";
  }
  insert_sql_ +=
      ", status, tp, fp, fn, tn, precision, p_value, log10_p_value, test_tp, test_fp, test_fn, test_tn, "
      "test_p_value, test_log10_p_value, predicted_positives, seconds, device, error, finished_at";
  insert_sql_ += halving_ ? ", epochs_trained)" : ")";
  insert_sql_ += " VALUES (" + placeholders + ", ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?" +
                 (halving_ ? ", ?)" : ")");
  writer_ = std::thread([this] { write_loop(); });
}

StudyJournal::~StudyJournal() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  writer_.join();
  sqlite3_close(db_);
  ::close(folder_lock_);
}

void StudyJournal::create_schema(const StudyIdentity& identity, const std::vector<std::string>& axis_keys) {
  std::string sql =
      "BEGIN;"
      "CREATE TABLE journal_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE study_settings (position INTEGER PRIMARY KEY, fact TEXT NOT NULL UNIQUE, value TEXT NOT NULL);"
      "CREATE TABLE trainings (combination TEXT NOT NULL, rerun INTEGER NOT NULL, seed TEXT NOT NULL";
  for (const std::string& key : axis_keys) sql += ", " + quoted_identifier(key) + " TEXT NOT NULL";
  sql +=
      ", status TEXT NOT NULL CHECK (status IN ('finished', 'failed')), tp INTEGER, fp INTEGER, fn INTEGER, "
      "tn INTEGER, precision REAL, p_value REAL, log10_p_value REAL, test_tp INTEGER, test_fp INTEGER, "
      "test_fn INTEGER, test_tn INTEGER, test_p_value REAL, test_log10_p_value REAL, predicted_positives BLOB, "
      "seconds REAL NOT NULL, device TEXT NOT NULL, error TEXT, finished_at TEXT NOT NULL";
  // Halving: a row per rung a training reached; the candidates chosen for each rung after the
  // first.
  sql += halving_ ? ", epochs_trained INTEGER NOT NULL, PRIMARY KEY (combination, rerun, epochs_trained));"
                    "CREATE TABLE rung_decisions (rung INTEGER NOT NULL, epochs INTEGER NOT NULL, "
                    "position INTEGER NOT NULL, combination TEXT NOT NULL, PRIMARY KEY (rung, position));"
                  : ", PRIMARY KEY (combination, rerun));";
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string reason = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw std::runtime_error(path_.string() + ": cannot create the study journal: " + reason);
  }
  try {
    create_model_tables(db_);
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  Statement info(db_, "INSERT INTO journal_info (key, value) VALUES (?, ?)");
  const std::pair<const char*, std::string> rows[] = {{"schema_version", std::to_string(kJournalSchemaVersion)},
                                                      {"study_hash", identity.hash},
                                                      {"created_at", utc_now()}};
  for (const auto& [key, value] : rows) {
    info.bind(1, std::string(key));
    info.bind(2, value);
    info.step();
    info.reset();
  }
  Statement settings(db_, "INSERT INTO study_settings (position, fact, value) VALUES (?, ?, ?)");
  for (std::size_t i = 0; i < identity.facts.size(); ++i) {
    settings.bind(1, static_cast<std::int64_t>(i));
    settings.bind(2, identity.facts[i].first);
    settings.bind(3, identity.facts[i].second);
    settings.step();
    settings.reset();
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw std::runtime_error(path_.string() + ": cannot create the study journal: " + sqlite3_errmsg(db_));
  }
}

// A journal of another schema cannot resume: an older one lacks the predictions the permutation
// test reads and the trained networks, and retraining them would not be resuming.
void StudyJournal::check_schema_version() {
  Statement version(db_, "SELECT value FROM journal_info WHERE key = 'schema_version'");
  const std::string found = version.step() ? version.text(0) : "(none)";
  if (found == std::to_string(kJournalSchemaVersion)) return;
  throw InputError(path_.string() + ": the study journal has schema version " + found + ", but this hyperfuse reads " +
                   std::to_string(kJournalSchemaVersion) +
                   " (which also stores each training's predictions, for the search p-value, and the trained "
                   "networks), so it cannot resume it; run with --fresh to start this study over, or set --output-dir "
                   "(or [output] dir) to another folder to keep the old journal");
}

void StudyJournal::check_identity(const StudyIdentity& identity) {
  Statement hash(db_, "SELECT value FROM journal_info WHERE key = 'study_hash'");
  if (hash.step() && hash.text(0) == identity.hash) return;
  std::vector<StudyFact> facts;
  Statement settings(db_, "SELECT fact, value FROM study_settings ORDER BY position");
  while (settings.step()) facts.emplace_back(settings.text(0), settings.text(1));
  std::string message =
      path_.string() + ": the results folder holds a journal of a different study, so it cannot resume. What changed:";
  for (const std::string& line : identity_differences(facts, identity.facts)) message += "\n  " + line;
  message +=
      "\nRun with --fresh to discard that journal and start this study over, or set --output-dir (or [output] dir) "
      "to another folder to keep both";
  throw InputError(message);
}

void StudyJournal::read_finished() {
  Statement rows(db_, std::string("SELECT combination, rerun, seed, status, tp, fp, fn, tn, precision, p_value, "
                                  "log10_p_value, seconds, device, error, test_tp, test_fp, test_fn, test_tn, "
                                  "predicted_positives") +
                          (halving_ ? ", epochs_trained" : "") + " FROM trainings");
  while (rows.step()) {
    JournalEntry e;
    e.combination = std::stoull(rows.text(0));
    e.rerun = static_cast<int>(rows.integer(1)) - 1;
    e.seed = std::stoull(rows.text(2));
    e.failed = rows.text(3) == "failed";
    e.counts = {rows.integer(4), rows.integer(5), rows.integer(6), rows.integer(7)};
    e.score.precision = rows.real(8);
    e.score.p_value = rows.real(9);
    e.score.log10_p_value = rows.real(10);
    e.seconds = rows.real(11);
    e.device = rows.text(12);
    e.error = rows.text(13);
    if (!rows.is_null(14))
      e.test_counts = ConfusionCounts{rows.integer(14), rows.integer(15), rows.integer(16), rows.integer(17)};
    e.predicted_positives = rows.bytes(18);
    if (halving_) e.epochs_trained = static_cast<int>(rows.integer(19));
    finished_.push_back(std::move(e));
  }
}

void StudyJournal::read_decisions() {
  Statement rows(db_, "SELECT rung, epochs, combination FROM rung_decisions ORDER BY rung, position");
  while (rows.step()) {
    const int rung = static_cast<int>(rows.integer(0));
    if (decisions_.empty() || decisions_.back().rung != rung)
      decisions_.push_back({rung, static_cast<int>(rows.integer(1)), {}});
    decisions_.back().combinations.push_back(std::stoull(rows.text(2)));
  }
}

TrainingState StudyJournal::read_state(std::uint64_t combination, int rerun, int epochs) const {
  return states_.read(combination, rerun, epochs);
}

void StudyJournal::record_decision(const RungDecision& decision, const std::vector<std::uint64_t>& stopped,
                                   int stopped_epochs, int reruns) {
  flush();  // the writer thread is idle from here: every result of the rung is committed
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw std::runtime_error(path_.string() + ": cannot write the study journal: " + sqlite3_errmsg(db_));
  }
  try {
    Statement insert(db_, "INSERT INTO rung_decisions (rung, epochs, position, combination) VALUES (?, ?, ?, ?)");
    for (std::size_t i = 0; i < decision.combinations.size(); ++i) {
      insert.bind(1, static_cast<std::int64_t>(decision.rung));
      insert.bind(2, static_cast<std::int64_t>(decision.epochs));
      insert.bind(3, static_cast<std::int64_t>(i));
      insert.bind(4, std::to_string(decision.combinations[i]));
      insert.step();
      insert.reset();
    }
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw std::runtime_error(path_.string() + ": cannot commit to the study journal: " + sqlite3_errmsg(db_));
  }
  decisions_.push_back(decision);
  for (std::uint64_t combination : stopped) {
    for (int rerun = 0; rerun < reruns; ++rerun) states_.remove(combination, rerun, stopped_epochs);
  }
}

void StudyJournal::record(std::vector<JournalEntry> entries) {
  if (entries.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (failure_) std::rethrow_exception(failure_);
  recorded_ += entries.size();
  for (JournalEntry& e : entries) queue_.push_back(std::move(e));
  changed_.notify_all();
}

void StudyJournal::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return committed_ == recorded_ || failure_; });
  if (failure_) std::rethrow_exception(failure_);
}

int StudyJournal::keep_models(const std::vector<KeptCombination>& ranked, int keep, int reruns,
                              const ModelInputs& inputs) {
  flush();  // the writer thread is idle from here: every recorded training is committed
  const int kept = keep_top_models(db_, ranked, keep, reruns, inputs, utc_now());
  // A completed halving continues nothing: its states go.
  if (halving_) states_.remove_all();
  return kept;
}

void StudyJournal::write_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (queue_.empty() && closing_) return;
    std::vector<JournalEntry> batch;
    batch.swap(queue_);
    lock.unlock();
    try {
      commit(batch);
    } catch (...) {
      lock.lock();
      if (!failure_) failure_ = std::current_exception();
      committed_ = recorded_;  // nothing more will be written; flush() reports the failure
      changed_.notify_all();
      return;
    }
    lock.lock();
    committed_ += batch.size();
    changed_.notify_all();
  }
}

// One transaction per batch: everything that finished since the last commit.
void StudyJournal::commit(const std::vector<JournalEntry>& entries) {
  // A row's state is on disk before the row: a run killed in between finds a state without its
  // row, which the retrained rung overwrites, never a row without its state.
  bool wrote_states = false;
  for (const JournalEntry& e : entries) {
    if (e.state.empty()) continue;
    states_.write(e.combination, e.rerun, e.epochs_trained, e.state);
    wrote_states = true;
  }
  if (wrote_states) states_.sync();
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw std::runtime_error(path_.string() + ": cannot write the study journal: " + sqlite3_errmsg(db_));
  }
  try {
    Statement insert(db_, insert_sql_);
    Statement insert_model(db_, kInsertModelSql);
    const std::string finished_at = utc_now();
    for (const JournalEntry& e : entries) {
      bind_training_row(insert, e, finished_at, halving_);
      insert.step();
      insert.reset();
      if (e.parameters.empty()) continue;
      insert_model.bind(1, std::to_string(e.combination));
      insert_model.bind(2, static_cast<std::int64_t>(e.rerun + 1));
      insert_model.bind_blob(3, e.parameters);
      insert_model.bind_blob(4, e.epoch_losses);
      insert_model.step();
      insert_model.reset();
    }
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw std::runtime_error(path_.string() + ": cannot commit to the study journal: " + sqlite3_errmsg(db_));
  }
  // The states these rows continued from are superseded now.
  for (const JournalEntry& e : entries) {
    if (e.continued_from > 0) states_.remove(e.combination, e.rerun, e.continued_from);
  }
}

}  // namespace hf
