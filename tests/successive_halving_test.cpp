// Whole successive-halving searches: each candidate's row equals the grid's row for the same
// combination trained to the candidate's last rung (networks continue exactly); the rung
// decisions follow the grid's ranking at each rung; a reduction factor that keeps every
// candidate gives the grid; the thread count changes nothing; a search stopped in the middle of
// a rung resumes without retraining a finished rung and ends as a run that never stopped.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include "host/config/search_config.hpp"
#include "host/run/run_search.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::read_csv;
using testing::without_timing;

using Rows = std::vector<std::vector<std::string>>;

// 12 combinations x 2 reruns over synthetic data with a validation tail; `search` is the
// [search] table's extra lines, `epochs` the one max_epochs.
SearchConfig search_config(const fs::path& dir, const std::string& search, int epochs, int threads = 2) {
  testing::write_synthetic_data(dir, 900, 300);
  testing::write_text(dir / "search.toml", R"([data]
train = "train.csv"
test = "test.csv"
validation = 0.25
[search]
rerun_count = 2
seed = 9
permutations = 200
)" + search + R"(
[execution]
device = "cpu"
[output]
dir = "results"
[hyperparameters]
learning_rate = [0.02, 0.003, 0.0002]
activation_function = ["Tanh", "ReLU"]
optimizer = ["Adam", "SGD"]
max_epochs = [)" + std::to_string(epochs) + R"(]
hidden_layers = [[1, 0.5]]
dropout = [0.1]
)");
  SearchConfig config = load_search_config(dir / "search.toml");
  config.cpu_count = threads;
  return config;
}

Rows results_of(const fs::path& dir) { return read_csv(dir / "results" / "hyperparameter_results.csv"); }

std::size_t column(const Rows& rows, const std::string& name) {
  const auto found = std::find(rows[0].begin(), rows[0].end(), name);
  if (found == rows[0].end()) throw std::logic_error("no column " + name);
  return static_cast<std::size_t>(found - rows[0].begin());
}

// A row's combination: the three listed hyperparameters that vary, the config's first columns
// (max_epochs, the fourth, differs between the grids of each rung).
std::vector<std::string> key_of(const std::vector<std::string>& row) { return {row.begin(), row.begin() + 3}; }

// The grid's rows by combination, for the columns both files have.
std::map<std::vector<std::string>, std::vector<std::string>> by_combination(const Rows& rows) {
  std::map<std::vector<std::string>, std::vector<std::string>> out;
  for (std::size_t r = 1; r < rows.size(); ++r) out[key_of(rows[r])] = rows[r];
  return out;
}

// What a training's numbers decide: the ranking rows' median and counts, every rerun, the test
// rows' median and counts. Not execution_time, nor the p-values adjusted over the whole search.
const std::vector<std::string> kTrainingColumns = {"p_value",
                                                   "log10_p_value",
                                                   "precision",
                                                   "tp",
                                                   "fp",
                                                   "fn",
                                                   "tn",
                                                   "p_value_rerun_1",
                                                   "p_value_rerun_2",
                                                   "test_log10_p_value",
                                                   "test_precision",
                                                   "test_tp",
                                                   "test_fp",
                                                   "test_fn",
                                                   "test_tn"};

Rows without_column(Rows rows, const std::string& name) {
  const std::size_t c = column(rows, name);
  for (auto& row : rows) row.erase(row.begin() + static_cast<long>(c));
  return rows;
}

int count_rows(const fs::path& journal, const std::string& sql) {
  sqlite3* db = nullptr;
  int count = -1;
  if (sqlite3_open_v2(journal.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      count = sqlite3_column_int(statement, 0);
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return count;
}

const char* const kHalving = "strategy = \"halving\"\nmin_epochs = 1\nreduction_factor = 3\n";

TEST(SuccessiveHalving, EveryCandidateEqualsTheGridTrainedToItsLastRung) {
  // Rungs at 1, 3 and 6 epochs for 12, 4 and 2 candidates.
  const fs::path dir = testing::scratch_dir("halving");
  const SearchSummary summary = run_search(search_config(dir, kHalving, 6), {}, nullptr, nullptr);
  ASSERT_EQ(summary.rungs.size(), 3u);
  EXPECT_EQ(summary.rungs[1].epochs, 3);
  EXPECT_EQ(summary.trainings_total, (12u + 4u + 2u) * 2u);
  EXPECT_EQ(summary.trainings_done, summary.trainings_total);
  const Rows halving = results_of(dir);
  ASSERT_EQ(halving.size(), 13u) << "every candidate has a row";

  std::map<int, std::map<std::vector<std::string>, std::vector<std::string>>> grids;
  std::map<int, Rows> grid_rows;
  for (int epochs : {1, 3, 6}) {
    const fs::path grid = testing::scratch_dir("grid" + std::to_string(epochs));
    run_search(search_config(grid, "", epochs), {}, nullptr, nullptr);
    grid_rows[epochs] = results_of(grid);
    grids[epochs] = by_combination(grid_rows[epochs]);
  }
  const std::size_t epochs_column = column(halving, "epochs_trained");
  std::map<int, int> reached;
  int previous_epochs = 1000;
  for (std::size_t r = 1; r < halving.size(); ++r) {
    const int epochs = std::stoi(halving[r][epochs_column]);
    ++reached[epochs];
    EXPECT_LE(epochs, previous_epochs) << "ranked by the last rung first";
    previous_epochs = epochs;
    const std::vector<std::string>& grid_row = grids.at(epochs).at(key_of(halving[r]));
    for (const std::string& name : kTrainingColumns) {
      EXPECT_EQ(halving[r][column(halving, name)], grid_row[column(grid_rows[epochs], name)])
          << name << " of the candidate in row " << r << ", stopped at " << epochs << " epochs";
    }
  }
  EXPECT_EQ(reached, (std::map<int, int>{{1, 8}, {3, 2}, {6, 2}}));

  // The decisions: after the first rung the best 4 of the 1-epoch grid go on, after the second
  // the best 2 of those by their 3-epoch results (the grid files rank by median, ties in grid
  // order, which is the combination numbers' order).
  std::set<std::vector<std::string>> after_first, after_second;
  for (std::size_t r = 1; r <= 4; ++r) after_first.insert(key_of(grid_rows[1][r]));
  for (std::size_t r = 1; r < grid_rows[3].size() && after_second.size() < 2; ++r) {
    if (after_first.count(key_of(grid_rows[3][r]))) after_second.insert(key_of(grid_rows[3][r]));
  }
  for (std::size_t r = 1; r < halving.size(); ++r) {
    const int epochs = std::stoi(halving[r][epochs_column]);
    EXPECT_EQ(epochs >= 3, after_first.count(key_of(halving[r])) == 1) << "row " << r;
    EXPECT_EQ(epochs == 6, after_second.count(key_of(halving[r])) == 1) << "row " << r;
  }

  // The journal: a row per rung each training reached, each decision; no states once done.
  const fs::path journal = dir / "results" / "study.sqlite";
  EXPECT_EQ(count_rows(journal, "SELECT count(*) FROM trainings"), 36);
  EXPECT_EQ(count_rows(journal, "SELECT count(*) FROM rung_decisions"), 6);
  EXPECT_FALSE(fs::exists(dir / "results" / "training_states")) << "a completed halving keeps no states";
  EXPECT_EQ(count_rows(journal, "SELECT count(*) FROM models"), 10) << "the best 5 combinations' reruns, kept";
}

TEST(SuccessiveHalving, AReductionFactorThatKeepsEveryCandidateIsTheGrid) {
  // (6 / 1)^2 = 36 < 40: a single rung of 6 epochs.
  const fs::path halving = testing::scratch_dir("halving"), grid = testing::scratch_dir("grid");
  const SearchSummary summary =
      run_search(search_config(halving, "strategy = \"halving\"\nmin_epochs = 1\nreduction_factor = 40\n", 6), {},
                 nullptr, nullptr);
  EXPECT_EQ(summary.rungs.size(), 1u);
  run_search(search_config(grid, "strategy = \"grid\"\n", 6), {}, nullptr, nullptr);
  const Rows halving_rows = without_timing(results_of(halving));
  for (std::size_t r = 1; r < halving_rows.size(); ++r) EXPECT_EQ(halving_rows[r].back(), "6");
  // Every shared column, the adjusted and search p-values too: one rung is one family.
  EXPECT_EQ(without_column(halving_rows, "epochs_trained"), without_timing(results_of(grid)));
}

TEST(SuccessiveHalving, TheSameResultsWithOneAndTwoThreads) {
  const fs::path one = testing::scratch_dir("one"), two = testing::scratch_dir("two");
  run_search(search_config(one, kHalving, 6, 1), {}, nullptr, nullptr);
  run_search(search_config(two, kHalving, 6, 2), {}, nullptr, nullptr);
  EXPECT_EQ(without_timing(results_of(one)), without_timing(results_of(two)));
}

// Stops the search after `packs` packs have started, at the check before the next.
SearchOptions stopping_after(std::atomic<int>& started, int packs) {
  SearchOptions options;
  options.should_stop = [&started, packs] { return started++ >= packs; };
  return options;
}

TEST(SuccessiveHalving, StoppedInTheMiddleOfARungItResumesWithoutRetrainingFinishedRungs) {
  const fs::path reference = testing::scratch_dir("reference");
  run_search(search_config(reference, kHalving, 6, 1), {}, nullptr, nullptr);
  const Rows expected = without_timing(results_of(reference));

  // One thread, one network per pack, and should_stop asked once before each rung and before
  // each pack (and once more when a rung's packs run out): the rungs are 24, 8 and 4 packs.
  // Stops during the first rung, after it (its decision made), during the second and the third.
  for (int stop_after : {7, 25, 30, 38}) {
    const fs::path dir = testing::scratch_dir("stopped" + std::to_string(stop_after));
    const SearchConfig config = search_config(dir, kHalving, 6, 1);
    std::atomic<int> started{0};
    const SearchSummary first = run_search(config, stopping_after(started, stop_after), nullptr, nullptr);
    ASSERT_TRUE(first.stopped) << "stop after " << stop_after;
    const std::size_t done = first.trainings_done;
    EXPECT_GT(done, 0u);
    EXPECT_LT(done, first.trainings_total);

    const SearchSummary resumed = run_search(config, {}, nullptr, nullptr);
    EXPECT_FALSE(resumed.stopped);
    EXPECT_EQ(resumed.trainings_resumed, done) << "every training committed before the stop is resumed";
    EXPECT_EQ(resumed.trainings_done, resumed.trainings_total);
    EXPECT_EQ(without_timing(results_of(dir)), expected) << "stopped after " << stop_after << " packs";
    // A rung's training is committed once (the journal's key refuses a second row), and the
    // decisions are those of the run that never stopped.
    EXPECT_EQ(count_rows(dir / "results" / "study.sqlite", "SELECT count(*) FROM trainings"), 36);
    EXPECT_EQ(count_rows(dir / "results" / "study.sqlite", "SELECT count(*) FROM rung_decisions"), 6);
  }
}

TEST(SuccessiveHalving, CandidatesDrawnFromRangesHalveToo) {
  const std::string search =
      "strategy = \"halving\"\nexplore_all_combinations = false\nnumber_of_combinations_to_try = 9\n";
  const fs::path one = testing::scratch_dir("one"), two = testing::scratch_dir("two");
  for (const fs::path& dir : {one, two}) {
    SearchConfig config = search_config(dir, search, 4, dir == one ? 1 : 2);
    // learning_rate drawn on a log scale instead of listed.
    for (HyperparameterAxis& axis : config.search.axes) {
      if (axis.key == Hyperparameter::LearningRate) {
        axis.values.clear();
        axis.range = HyperparameterRange{RangeKind::LogUniform, 1e-4, 0.05};
      }
    }
    const SearchSummary summary = run_search(config, {}, nullptr, nullptr);
    EXPECT_EQ(summary.rungs.size(), 2u) << "1 and 4 epochs";
    EXPECT_EQ(summary.plan.combinations.size(), 9u);
  }
  const Rows rows = results_of(one);
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(without_timing(rows), without_timing(results_of(two)));
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const double learning_rate = std::stod(rows[r][column(rows, "learning_rate")]);
    EXPECT_GE(learning_rate, 1e-4);
    EXPECT_LE(learning_rate, 0.05);
  }
}

}  // namespace
}  // namespace hf
