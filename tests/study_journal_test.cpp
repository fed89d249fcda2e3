// The study journal: what identifies a study, what the journal stores, resuming a stopped
// search to the same results as one that never stopped, and refusing to mix two studies.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>

#include "host/common/errors.hpp"
#include "host/journal/study_identity.hpp"
#include "host/journal/study_journal.hpp"
#include "host/run/run_search.hpp"
#include "tests/input_error_of.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

using testing::input_error_of;

using testing::journal_rows;
using testing::read_csv;
using testing::read_text;
using testing::without_timing;

// 6 combinations x 2 reruns of one epoch over 500 synthetic rows, results in dir/results.
SearchConfig journal_search(const std::filesystem::path& dir, const std::string& learning_rates = "[0.01, 0.002]") {
  testing::write_synthetic_data(dir, 500, 200);
  testing::write_text(dir / "search.toml", R"(
[data]
train = "train.csv"
test = "test.csv"
[search]
rerun_count = 2
seed = 5
[execution]
device = "cpu"
cpu_count = 2
[output]
dir = "results"
[hyperparameters]
learning_rate = )" + learning_rates + R"(
optimizer = ["Adam", "SGD", "RMSprop"]
max_epochs = [1]
hidden_layers = [[1, 0.5]]
)");
  return load_search_config(dir / "search.toml");
}

// Stops taking work once `packs` packs were handed out.
SearchOptions stop_after(std::atomic<int>& checks, int packs) {
  SearchOptions options;
  options.should_stop = [&checks, packs] { return checks.fetch_add(1) >= packs; };
  return options;
}

// The identity a search of `config` gets, from its data files as they are now.
StudyIdentity identity_of(const SearchConfig& config) {
  return study_identity(config, read_text(config.train_path), read_text(config.test_path));
}

TEST(StudyIdentity, ValuesCountByMeaningAndExecutionSettingsDoNotCount) {
  const std::filesystem::path a = testing::scratch_dir("a"), b = testing::scratch_dir("b");
  SearchConfig first = journal_search(a, "[0.01, 0.002]");
  SearchConfig second = journal_search(b, "[1e-2, 2e-3]");
  second.device = Device::Auto;
  second.cpu_count = 1;
  second.output_dir = b / "elsewhere";
  EXPECT_EQ(identity_of(first).hash, identity_of(second).hash);
  second.search.seed = 6;
  EXPECT_NE(identity_of(first).hash, identity_of(second).hash);
}

TEST(StudyIdentity, DifferencesNameEachChangedSetting) {
  const std::filesystem::path dir = testing::scratch_dir("search");
  SearchConfig config = journal_search(dir);
  const StudyIdentity before = identity_of(config);
  config.search.seed = 7;
  config.search.rerun_count = 3;
  testing::write_text(config.test_path, read_text(config.test_path) + "\n");  // same rows, other bytes
  const std::vector<std::string> lines = identity_differences(before.facts, identity_of(config).facts);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("data.test: ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1], "search.rerun_count: 2 -> 3");
  EXPECT_EQ(lines[2], "search.seed: 5 -> 7");
}

TEST(StudyJournal, StoresEveryTrainingOnceWithItsValuesAndScores) {
  const std::filesystem::path dir = testing::scratch_dir("search");
  const SearchConfig config = journal_search(dir);
  const SearchSummary summary = run_search(config, {}, nullptr, nullptr);
  ASSERT_EQ(summary.plan.trainings.size(), 12u);
  EXPECT_EQ(summary.journal_path, dir / "results" / "study.sqlite");
  const testing::JournalRows counts = journal_rows(summary.journal_path);
  EXPECT_EQ(counts.rows, 12);
  EXPECT_EQ(counts.distinct_trainings, 12);

  // The best combination's reruns, read back through the journal, match the CSV.
  const auto csv = read_csv(summary.results_path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(summary.journal_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*) FROM trainings WHERE learning_rate = ? AND optimizer = ? AND "
                               "status = 'finished' AND device = 'cpu' AND tp + fp + fn + tn = 200 AND seconds > 0",
                               -1, &statement, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(statement, 1, csv[1][0].c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(statement, 2, csv[1][1].c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(statement, 0), 2) << "both reruns of " << csv[1][0] << ", " << csv[1][1];
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

TEST(StudyJournal, AStoppedSearchResumesToTheResultsOfOneThatNeverStopped) {
  const std::filesystem::path whole = testing::scratch_dir("whole"), stopped = testing::scratch_dir("stopped");
  run_search(journal_search(whole), {}, nullptr, nullptr);

  const SearchConfig config = journal_search(stopped);
  std::atomic<int> checks{0};
  const SearchSummary partial = run_search(config, stop_after(checks, 5), nullptr, nullptr);
  EXPECT_TRUE(partial.stopped);
  EXPECT_GE(partial.trainings_done, 3u);  // two workers may each take one more before seeing the stop
  EXPECT_LT(partial.trainings_done, 12u);
  EXPECT_EQ(journal_rows(partial.journal_path).rows, static_cast<std::int64_t>(partial.trainings_done));
  EXPECT_TRUE(partial.wrote_results);
  EXPECT_EQ(read_csv(partial.results_path).size(), 1 + partial.results.ranked.size());

  const SearchSummary resumed = run_search(config, {}, nullptr, nullptr);
  EXPECT_FALSE(resumed.stopped);
  EXPECT_EQ(resumed.trainings_resumed, partial.trainings_done);
  EXPECT_EQ(resumed.trainings_done, 12u);
  EXPECT_EQ(journal_rows(resumed.journal_path).rows, 12);
  EXPECT_EQ(without_timing(read_csv(resumed.results_path)),
            without_timing(read_csv(whole / "results" / "hyperparameter_results.csv")));
  EXPECT_EQ(read_text(resumed.errors_path), read_text(whole / "results" / "errors.csv"));

  // Nothing left to do: a third run trains nothing and writes the same results.
  const SearchSummary again = run_search(config, {}, nullptr, nullptr);
  EXPECT_EQ(again.trainings_resumed, 12u);
  EXPECT_EQ(without_timing(read_csv(again.results_path)), without_timing(read_csv(resumed.results_path)));
}

TEST(StudyJournal, StoppedBeforeAnyTrainingFinishedLeavesEarlierResultsAlone) {
  const std::filesystem::path dir = testing::scratch_dir("search");
  const SearchConfig config = journal_search(dir);
  testing::write_text(dir / "results" / "hyperparameter_results.csv", "earlier results\n");
  std::atomic<int> checks{0};
  const SearchSummary summary = run_search(config, stop_after(checks, 0), nullptr, nullptr);
  EXPECT_TRUE(summary.stopped);
  EXPECT_FALSE(summary.wrote_results);
  EXPECT_EQ(summary.trainings_done, 0u);
  EXPECT_EQ(read_text(dir / "results" / "hyperparameter_results.csv"), "earlier results\n");
}

TEST(StudyJournal, AChangedStudyIsRefusedWithWhatChangedAndFreshStartsOver) {
  const std::filesystem::path dir = testing::scratch_dir("search");
  SearchConfig config = journal_search(dir);
  run_search(config, {}, nullptr, nullptr);
  const std::string before = read_text(dir / "results" / "hyperparameter_results.csv");

  config.search.seed = 6;
  const std::string message = input_error_of([&] { run_search(config, {}, nullptr, nullptr); });
  EXPECT_NE(message.find("study.sqlite: the results folder holds a journal of a different study"), std::string::npos)
      << message;
  EXPECT_NE(message.find("search.seed: 5 -> 6"), std::string::npos) << message;
  EXPECT_NE(message.find("--fresh"), std::string::npos) << message;
  EXPECT_EQ(read_text(dir / "results" / "hyperparameter_results.csv"), before) << "earlier results untouched";

  SearchOptions fresh;
  fresh.fresh = true;
  const SearchSummary summary = run_search(config, fresh, nullptr, nullptr);
  EXPECT_EQ(summary.trainings_resumed, 0u);
  EXPECT_EQ(journal_rows(summary.journal_path).rows, 12);
  EXPECT_NE(read_text(dir / "results" / "hyperparameter_results.csv"), before);
}

TEST(StudyJournal, AFileThatIsNotAJournalIsRefused) {
  const std::filesystem::path dir = testing::scratch_dir("search");
  const SearchConfig config = journal_search(dir);
  testing::write_text(dir / "results" / "study.sqlite", "these are my notes, not a database\n");
  const std::string message = input_error_of([&] { run_search(config, {}, nullptr, nullptr); });
  EXPECT_NE(message.find("study.sqlite: is not a hyperfuse study journal"), std::string::npos) << message;
  EXPECT_EQ(read_text(dir / "results" / "study.sqlite"), "these are my notes, not a database\n");
}

TEST(StudyJournal, ASecondRunOnTheSameFolderIsRefusedWhileTheFirstHoldsTheJournal) {
  const std::filesystem::path dir = testing::scratch_dir("search");
  const SearchConfig config = journal_search(dir);
  std::filesystem::create_directories(config.output_dir);
  const StudyIdentity identity = identity_of(config);
  StudyJournal first(config.output_dir, identity, {"learning_rate"}, false);
  const std::string message =
      input_error_of([&] { StudyJournal second(config.output_dir, identity, {"learning_rate"}, false); });
  EXPECT_NE(message.find("another hyperfuse run is using this output folder"), std::string::npos) << message;
}

}  // namespace
}  // namespace hf
