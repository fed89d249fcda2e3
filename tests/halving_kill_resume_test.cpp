// Successive halving killed (SIGKILL) at random moments, in the middle of its rungs, and run
// again until it finishes: no committed rung training is lost or committed twice, no finished
// rung is trained again, and the results equal those of a run that was never interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "tests/kept_networks.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::journal_count;
using testing::journal_rows;
using testing::read_csv;
using testing::read_text;
using testing::start_search;
using testing::wait_for;
using testing::without_timing;

// 16 candidates x 3 reruns, rungs at 1, 3 and 8 epochs for 16, 6 and 2 candidates.
constexpr int kRungTrainings[] = {48, 18, 6};
constexpr int kTrainings = 48 + 18 + 6;

fs::path write_config(const fs::path& dir) {
  return testing::write_example_data_config(dir, R"([search]
strategy = "halving"
min_epochs = 1
reduction_factor = 3
rerun_count = 3
seed = 11
[hyperparameters]
learning_rate = [0.001, 0.004]
optimizer = ["Adam", "RMSprop"]
activation_function = ["ReLU", "Tanh"]
dropout = [0.0, 0.2]
max_epochs = [8]
hidden_layers = [[2, 1]]
)");
}

// Trainings that may go on (their last committed rung is not the last, and no decision has
// stopped their combination) whose state file for that rung is missing: a resume could not
// continue them without retraining.
int trainings_without_their_state(const fs::path& out) {
  sqlite3* db = nullptr;
  int missing = 0;
  if (sqlite3_open_v2((out / "study.sqlite").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  std::map<int, std::set<std::string>> decided;  // next rung's epochs -> combinations chosen for it
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT epochs, combination FROM rung_decisions", -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    decided[sqlite3_column_int(statement, 0)].insert(reinterpret_cast<const char*>(sqlite3_column_text(statement, 1)));
  }
  sqlite3_finalize(statement);
  sqlite3_prepare_v2(db,
                     "SELECT combination, rerun, max(epochs_trained) FROM trainings WHERE status = 'finished' GROUP BY "
                     "combination, rerun",
                     -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    const std::string combination = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    const int rerun = sqlite3_column_int(statement, 1), epochs = sqlite3_column_int(statement, 2);
    if (epochs == 8) continue;
    const int next = epochs == 1 ? 3 : 8;
    if (decided.count(next) && !decided[next].count(combination)) continue;  // stopped
    const fs::path state =
        out / "training_states" /
        ("c" + combination + "-r" + std::to_string(rerun) + "-e" + std::to_string(epochs) + ".state");
    missing += !fs::exists(state);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return missing;
}

TEST(HalvingKillAndResume, SigkillInTheMiddleOfRungs) {
  const fs::path reference = testing::scratch_dir("reference");
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_for(start_search(write_config(reference), reference)), 0) << read_text(reference / "log");
  const int reference_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  const auto expected = without_timing(read_csv(reference / "out" / "hyperparameter_results.csv"));
  ASSERT_EQ(expected.size(), 17u) << read_text(reference / "log");
  ASSERT_EQ(journal_rows(reference / "out" / "study.sqlite").rows, kTrainings);

  const fs::path work = testing::scratch_dir("interrupted");
  const fs::path config = write_config(work);
  const fs::path journal = work / "out" / "study.sqlite";
  std::mt19937 random(5);
  std::uniform_int_distribution<int> delay_ms(std::max(10, reference_ms / 10), std::max(20, reference_ms * 8 / 10));
  std::int64_t committed = 0;
  int kills = 0, in_the_middle_of_a_rung = 0;
  for (int i = 0; i < 6 && committed < kTrainings; ++i) {
    const pid_t pid = start_search(config, work);
    if (i == 0) {
      // The first kill after the first commit, so that it lands mid-search on a loaded machine.
      for (int poll = 0; poll < 1000 && journal_rows(journal).rows <= 0; ++poll)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    }
    kill(pid, SIGKILL);
    const int status = wait_for(pid);
    if (status != 0) {
      EXPECT_EQ(status, 128 + SIGKILL) << read_text(work / "log");
      ++kills;
    }
    const testing::JournalRows rows = journal_rows(journal);
    EXPECT_TRUE(rows.consistent) << "kill " << i;
    EXPECT_GE(rows.rows, committed) << "kill " << i << ": a committed training was lost";
    EXPECT_LE(rows.rows, kTrainings);
    committed = rows.rows;
    // Killed with part of a rung committed: rows not at a rung's end.
    const bool at_a_rung_end = committed == 0 || committed == kRungTrainings[0] ||
                               committed == kRungTrainings[0] + kRungTrainings[1] || committed == kTrainings;
    in_the_middle_of_a_rung += !at_a_rung_end;
    EXPECT_EQ(trainings_without_their_state(work / "out"), 0) << "kill " << i;
  }
  EXPECT_GE(kills, 1) << "no kill came before the search finished";
  EXPECT_GE(in_the_middle_of_a_rung, 1) << "no kill came in the middle of a rung";

  ASSERT_EQ(wait_for(start_search(config, work)), 0) << read_text(work / "log");
  EXPECT_EQ(journal_rows(journal).rows, kTrainings) << "every rung training committed exactly once";
  EXPECT_EQ(journal_count(journal,
                          "SELECT count(DISTINCT combination || '/' || rerun || '/' || epochs_trained) FROM trainings"),
            kTrainings);
  EXPECT_FALSE(fs::exists(work / "out" / "training_states")) << "a completed halving keeps no states";
  EXPECT_EQ(without_timing(read_csv(work / "out" / "hyperparameter_results.csv")), expected);
  testing::expect_the_same_kept_networks(work / "out", reference / "out");
}

}  // namespace
}  // namespace hf
