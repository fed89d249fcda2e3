// A random search over ranges, whole: the CSV shows the drawn values; the same results with any
// thread count and after a stop and resume; a changed range is another study, which the journal
// refuses to resume, naming the range.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "host/common/errors.hpp"
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

// 10 drawn combinations x 2 reruns over synthetic data; `ranges` is the [hyperparameters] table.
SearchConfig ranged_config(const fs::path& dir, int threads,
                           const std::string& ranges =
                               "learning_rate = { log_uniform = [0.0005, 0.05] }\n"
                               "dropout = { uniform = [0.0, 0.3] }\n"
                               "batch_size = { int_uniform = [16, 64] }\n") {
  testing::write_synthetic_data(dir, 700, 300);
  testing::write_text(dir / "search.toml", R"([data]
train = "train.csv"
test = "test.csv"
[search]
strategy = "random"
number_of_combinations_to_try = 10
rerun_count = 2
seed = 3
permutations = 100
[execution]
device = "cpu"
[output]
dir = "results"
[hyperparameters]
)" + ranges + R"(optimizer = ["Adam", "RMSprop"]
max_epochs = [2]
hidden_layers = [[1]]
)");
  SearchConfig config = load_search_config(dir / "search.toml");
  config.cpu_count = threads;
  return config;
}

std::vector<std::vector<std::string>> results_of(const fs::path& dir) {
  return read_csv(dir / "results" / "hyperparameter_results.csv");
}

TEST(RangedRandomSearch, TheCsvShowsTheDrawnValuesAndAnyThreadCountGivesTheSame) {
  const fs::path one = testing::scratch_dir("one"), two = testing::scratch_dir("two");
  run_search(ranged_config(one, 1), {}, nullptr, nullptr);
  run_search(ranged_config(two, 2), {}, nullptr, nullptr);
  const auto rows = results_of(one);
  ASSERT_EQ(rows.size(), 11u);
  EXPECT_EQ(without_timing(rows), without_timing(results_of(two)));
  ASSERT_EQ(rows[0][0], "learning_rate");
  ASSERT_EQ(rows[0][1], "dropout");
  ASSERT_EQ(rows[0][2], "batch_size");
  std::set<std::string> rates;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const double rate = std::stod(rows[r][0]), dropout = std::stod(rows[r][1]);
    EXPECT_GE(rate, 0.0005);
    EXPECT_LE(rate, 0.05);
    EXPECT_GE(dropout, 0.0);
    EXPECT_LT(dropout, 0.3);
    EXPECT_EQ(rows[r][2].find('.'), std::string::npos) << "a whole number: " << rows[r][2];
    EXPECT_GT(rows[r][0].size(), 6u) << "the drawn double, not a rounded one: " << rows[r][0];
    rates.insert(rows[r][0]);
  }
  EXPECT_EQ(rates.size(), 10u) << "every draw its own learning rate";
}

TEST(RangedRandomSearch, StoppedAndResumedItEndsAsARunThatNeverStopped) {
  const fs::path reference = testing::scratch_dir("reference"), stopped = testing::scratch_dir("stopped");
  run_search(ranged_config(reference, 1), {}, nullptr, nullptr);
  const SearchConfig config = ranged_config(stopped, 1);
  std::atomic<int> started{0};
  SearchOptions stop;
  stop.should_stop = [&started] { return started++ >= 7; };
  const SearchSummary first = run_search(config, stop, nullptr, nullptr);
  ASSERT_TRUE(first.stopped);
  const SearchSummary resumed = run_search(config, {}, nullptr, nullptr);
  EXPECT_EQ(resumed.trainings_resumed, first.trainings_done);
  EXPECT_FALSE(resumed.stopped);
  EXPECT_EQ(without_timing(results_of(stopped)), without_timing(results_of(reference)));
}

TEST(RangedRandomSearch, AnotherRangeIsAnotherStudy) {
  const fs::path dir = testing::scratch_dir("study");
  run_search(ranged_config(dir, 2), {}, nullptr, nullptr);
  // The same range written otherwise is the same study: it resumes, with nothing to train.
  const SearchSummary same =
      run_search(ranged_config(dir, 2,
                               "learning_rate = { log_uniform = [5e-4, 5e-2] }\ndropout = { uniform = [0, 0.3] }\n"
                               "batch_size = { int_uniform = [16, 64] }\n"),
                 {}, nullptr, nullptr);
  EXPECT_EQ(same.trainings_resumed, 20u);
  try {
    run_search(ranged_config(dir, 2,
                             "learning_rate = { log_uniform = [0.0005, 0.01] }\ndropout = { uniform = [0.0, 0.3] }\n"
                             "batch_size = { int_uniform = [16, 64] }\n"),
               {}, nullptr, nullptr);
    FAIL() << "resumed a study of another range";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("hyperparameters.learning_rate: { log_uniform = [0.0005, 0.05] } -> "
                           "{ log_uniform = [0.0005, 0.01] }"),
              std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace hf
