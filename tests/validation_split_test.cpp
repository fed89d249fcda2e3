// Ranking on validation rows: the split of the training file (a tail after an embargo gap, or
// a file of its own), scaling fitted on the training rows alone, the refusals, the columns a
// search with validation writes, resuming it to the same results, the journal's schema and
// what the study's identity holds.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cmath>

#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/data/labelled_table.hpp"
#include "host/journal/study_identity.hpp"
#include "host/run/run_search.hpp"
#include "host/run/search_data.hpp"
#include "tests/input_error_of.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::input_error_of;
using testing::read_csv;
using testing::read_text;
using testing::without_timing;

// 100 rows: feature 0 is the row number (so the tail differs from the head), feature 1 cycles,
// the label alternates.
std::string counting_rows(int rows) {
  std::string text;
  for (int r = 0; r < rows; ++r) {
    text += std::to_string(r) + "," + std::to_string((r % 7) * 1.5) + "," + std::to_string(r % 2) + "\n";
  }
  return text;
}

// A config over dir/train.csv and dir/test.csv with `data` added to its [data] table.
SearchConfig config_with(const fs::path& dir, const std::string& data, const std::string& rest = "") {
  testing::write_text(dir / "search.toml",
                      "[data]\ntrain = \"train.csv\"\ntest = \"test.csv\"\n" + data +
                          "\n[execution]\ndevice = \"cpu\"\ncpu_count = 2\n[output]\ndir = \"results\"\n" + rest);
  return load_search_config(dir / "search.toml");
}

TEST(ValidationSplit, TheTailAfterTheEmbargoValidatesAndOnlyTheHeadIsScaledOn) {
  const fs::path dir = testing::scratch_dir("split");
  testing::write_text(dir / "train.csv", counting_rows(100));
  testing::write_text(dir / "test.csv", counting_rows(10));
  const SearchData data = load_search_data(config_with(dir, "validation = 0.2\nembargo_rows = 5"));
  ASSERT_EQ(data.train.rows, 75);  // 100 - 20 validation - 5 embargo
  ASSERT_EQ(data.validation.rows, 20);
  EXPECT_EQ(data.test.rows, 10);
  EXPECT_EQ(data.embargo_rows, 5);
  EXPECT_TRUE(data.has_validation());
  EXPECT_EQ(&data.ranking(), &data.validation);
  EXPECT_EQ(data.evaluation().test, &data.test);

  // Feature 0 of the training rows 0..74: mean 37, population variance (75^2 - 1) / 12.
  const double mean = 37.0, deviation = std::sqrt((75.0 * 75.0 - 1.0) / 12.0);
  double sum = 0.0;
  for (int r = 0; r < 75; ++r) {
    EXPECT_NEAR(data.train.row(r)[0], (r - mean) / deviation, 1e-6) << "training row " << r;
    sum += data.train.row(r)[0];
  }
  EXPECT_NEAR(sum / 75, 0.0, 1e-6) << "the training rows are what the scaler was fitted on";
  for (int r = 0; r < 20; ++r) {
    EXPECT_NEAR(data.validation.row(r)[0], (80 + r - mean) / deviation, 1e-5) << "validation row " << r;
    EXPECT_EQ(data.validation.y[r], static_cast<float>((80 + r) % 2));
  }
  EXPECT_NEAR(data.test.row(3)[0], (3 - mean) / deviation, 1e-6) << "test rows scaled with the training statistics";
  // The same, computed by the scaler on exactly those rows.
  const LabelledTable file = load_labelled_csv(dir / "train.csv");
  const StandardScaler scaler = StandardScaler::fit(table_rows(file, 0, 75));
  EXPECT_EQ(data.train.x, scaler.transform(table_rows(file, 0, 75)).x);
  EXPECT_EQ(data.validation.x, scaler.transform(table_rows(file, 80, 100)).x);
}

TEST(ValidationSplit, WithoutValidationEveryTrainingRowTrainsAndTheTestRowsRank) {
  const fs::path dir = testing::scratch_dir("none");
  testing::write_text(dir / "train.csv", counting_rows(100));
  testing::write_text(dir / "test.csv", counting_rows(10));
  const SearchData data = load_search_data(config_with(dir, ""));
  EXPECT_EQ(data.train.rows, 100);
  EXPECT_FALSE(data.has_validation());
  EXPECT_EQ(&data.ranking(), &data.test);
  EXPECT_EQ(data.evaluation().test, nullptr);
}

TEST(ValidationSplit, AValidationFileRanksAndTheEmbargoTrimsTheTrainingFile) {
  const fs::path dir = testing::scratch_dir("file");
  testing::write_text(dir / "train.csv", counting_rows(100));
  testing::write_text(dir / "test.csv", counting_rows(10));
  testing::write_text(dir / "val.csv", counting_rows(30));
  const SearchData data = load_search_data(config_with(dir, "validation = \"val.csv\"\nembargo_rows = 4"));
  EXPECT_EQ(data.train.rows, 96);
  EXPECT_EQ(data.validation.rows, 30);
  EXPECT_EQ(data.validation_file, counting_rows(30));
  const SearchData plain = load_search_data(config_with(dir, "validation = \"val.csv\""));
  EXPECT_EQ(plain.train.rows, 100);
}

TEST(ValidationSplit, UnusableSplitsAreRefusedWithTheKeyAndAFix) {
  const fs::path dir = testing::scratch_dir("refused");
  testing::write_text(dir / "train.csv", counting_rows(100));
  testing::write_text(dir / "test.csv", counting_rows(10));
  const std::string config = (dir / "search.toml").string();
  const auto error = [&](const std::string& data, const std::string& rest = "") {
    return input_error_of([&] { load_search_data(config_with(dir, data, rest)); });
  };
  std::string m = error("validation = 0.01");
  EXPECT_EQ(m.rfind(config + ":4:14: [data] validation = 0.01: holds out 1 of the 100 rows", 0), 0u) << m;
  EXPECT_NE(m.find("use a larger fraction"), std::string::npos) << m;
  m = error("validation = 0.9\nembargo_rows = 9");
  EXPECT_NE(m.find("[data] validation = 0.9 (with embargo_rows = 9): leaves 1 training rows of the 100"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("use a smaller fraction or fewer embargo rows"), std::string::npos) << m;

  // Labels 1 only in the last 10 rows: a 10% tail has one class, and so does the head without it.
  std::string tail_ones;
  for (int r = 0; r < 100; ++r) tail_ones += "1.5," + std::to_string(r) + "," + (r >= 90 ? "1" : "0") + "\n";
  testing::write_text(dir / "train.csv", tail_ones);
  m = error("validation = 0.1");
  EXPECT_NE(m.find("every validation row (rows 91 to 100 of"), std::string::npos) << m;
  EXPECT_NE(m.find("has label 1; the validation rows need both classes"), std::string::npos) << m;
  m = error("validation = 0.2");
  EXPECT_NE(m.find("every training row (rows 1 to 80 of"), std::string::npos) << m;
  EXPECT_NE(m.find("has label 0; the training rows need both classes"), std::string::npos) << m;

  testing::write_text(dir / "train.csv", counting_rows(100));
  testing::write_text(dir / "wide.csv", "1,2,3,0\n4,5,6,1\n");
  m = error("validation = \"wide.csv\"");
  EXPECT_EQ(m.rfind((dir / "wide.csv").string() + ":1: has 4 columns but the training file", 0), 0u) << m;
  EXPECT_NE(m.find("(the validation file)"), std::string::npos) << m;
  testing::write_text(dir / "ones.csv", "1,2,1\n4,5,1\n");
  m = error("validation = \"ones.csv\"");
  EXPECT_NE(m.find("every label (the last column) is 1, in all 2 rows; the validation data needs rows of both"),
            std::string::npos)
      << m;
  m = error("validation = \"missing.csv\"");
  EXPECT_NE(m.find("missing.csv: cannot open the data file"), std::string::npos) << m;
  testing::write_text(dir / "good.csv", counting_rows(10));
  m = error("validation = \"good.csv\"\nembargo_rows = 99");
  EXPECT_NE(m.find("[data] embargo_rows = 99 drops the last 99 rows"), std::string::npos) << m;

  m = error("validation = 0.2", "[search]\npermutation_block = 20\n");
  EXPECT_NE(m.find("[search] permutation_block = 20 makes the 20 validation rows a single block"), std::string::npos)
      << m;
  EXPECT_NE(m.find("use a block of at most 10 rows"), std::string::npos) << m;
  EXPECT_NO_THROW(load_search_data(config_with(dir, "validation = 0.2", "[search]\npermutation_block = 10\n")))
      << "two blocks are enough";
}

// A search of 4 combinations x 3 reruns over 900 synthetic rows with a validation tail.
SearchConfig validated_search(const fs::path& dir, const std::string& extra_search = "") {
  testing::write_synthetic_data(dir, 900, 300);
  testing::write_text(dir / "search.toml", R"(
[data]
train = "train.csv"
test = "test.csv"
validation = 0.25
embargo_rows = 10
[search]
rerun_count = 3
seed = 9
)" + extra_search + R"(
[execution]
device = "cpu"
cpu_count = 2
[output]
dir = "results"
[hyperparameters]
learning_rate = [0.01, 0.003]
optimizer = ["Adam", "RMSprop"]
max_epochs = [2]
hidden_layers = [[1, 0.5]]
)");
  return load_search_config(dir / "search.toml");
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto at = std::find(header.begin(), header.end(), name);
  EXPECT_NE(at, header.end()) << name;
  return static_cast<std::size_t>(at - header.begin());
}

TEST(ValidationSearch, RanksOnValidationAndReportsTheTestRowsUnderTheirOwnNames) {
  const fs::path dir = testing::scratch_dir("search");
  const SearchSummary summary = run_search(validated_search(dir), {}, nullptr, nullptr);
  EXPECT_EQ(summary.train_rows, 665);  // 900 - 225 - 10
  EXPECT_EQ(summary.validation_rows, 225);
  EXPECT_EQ(summary.embargo_rows, 10);
  EXPECT_EQ(summary.test_rows, 300);
  EXPECT_EQ(summary.permutations, 1000);
  const auto rows = read_csv(summary.results_path);
  ASSERT_EQ(rows.size(), 5u);
  const std::vector<std::string>& header = rows[0];
  const std::vector<std::string> appended(header.begin() + 22, header.end());
  EXPECT_EQ(appended,
            (std::vector<std::string>{"holm_p_value", "bh_p_value", "search_p_value", "val_log10_p_value",
                                      "val_precision", "val_tp", "val_fp", "val_fn", "val_tn", "test_log10_p_value",
                                      "test_precision", "test_tp", "test_fp", "test_fn", "test_tn"}));
  double previous = -1e300;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    ASSERT_EQ(row.size(), header.size());
    // The seed's columns describe the rows the ranking uses: the validation rows.
    for (const char* name : {"log10_p_value", "precision", "tp", "fp", "fn", "tn"}) {
      EXPECT_EQ(row[column(header, name)], row[column(header, std::string("val_") + name)]) << name;
    }
    const double ranked = std::stod(row[column(header, "val_log10_p_value")]);
    EXPECT_GE(ranked, previous) << "ranked by the validation median";
    previous = ranked;
    long long validation = 0, test = 0;
    for (const char* name : {"tp", "fp", "fn", "tn"}) {
      validation += std::stoll(row[column(header, std::string("val_") + name)]);
      test += std::stoll(row[column(header, std::string("test_") + name)]);
    }
    EXPECT_EQ(validation, 225);
    EXPECT_EQ(test, 300);
    const double p = std::stod(row[column(header, "p_value")]);
    const double holm = std::stod(row[column(header, "holm_p_value")]);
    const double bh = std::stod(row[column(header, "bh_p_value")]);
    const double search = std::stod(row[column(header, "search_p_value")]);
    EXPECT_GE(holm, p * (1 - 1e-12));
    EXPECT_LE(bh, holm * (1 + 1e-12));
    EXPECT_GE(bh, p * (1 - 1e-12));
    EXPECT_GT(search, 0.0);
    EXPECT_LE(search, 1.0);
  }
  // The test p-value is the median over the reruns of each rerun's test p-value.
  const RankedCombination& best = summary.results.ranked.front();
  EXPECT_EQ(python_float_repr(best.test_log10_p_value), rows[1][column(header, "test_log10_p_value")]);
  EXPECT_NE(best.test_log10_p_value, best.log10_p_value);
}

TEST(ValidationSearch, AStoppedSearchResumesToTheSameResultsWithoutRetraining) {
  const fs::path whole = testing::scratch_dir("whole"), stopped = testing::scratch_dir("stopped");
  run_search(validated_search(whole), {}, nullptr, nullptr);
  const SearchConfig config = validated_search(stopped);
  std::atomic<int> checks{0};
  SearchOptions stop;
  stop.should_stop = [&checks] { return checks.fetch_add(1) >= 1; };
  const SearchSummary partial = run_search(config, stop, nullptr, nullptr);
  ASSERT_TRUE(partial.stopped);
  ASSERT_GT(partial.trainings_done, 0u);
  const SearchSummary resumed = run_search(config, {}, nullptr, nullptr);
  EXPECT_EQ(resumed.trainings_resumed, partial.trainings_done);
  const auto expected = without_timing(read_csv(whole / "results" / "hyperparameter_results.csv"));
  EXPECT_EQ(without_timing(read_csv(resumed.results_path)), expected);

  // Another permutation count is not another study: everything resumes, the search p-values
  // are recounted from the stored predictions, and the other columns stay.
  SearchConfig fewer = config;
  fewer.permutations = 200;
  const SearchSummary recounted = run_search(fewer, {}, nullptr, nullptr);
  EXPECT_EQ(recounted.trainings_resumed, 12u);
  const auto rows = without_timing(read_csv(recounted.results_path));
  ASSERT_EQ(rows.size(), expected.size());
  const std::size_t search = column(rows[0], "search_p_value");
  int differ = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      if (c != search) {
        EXPECT_EQ(rows[r][c], expected[r][c]) << rows[0][c];
      }
    }
    differ += rows[r][search] != expected[r][search];
    // A multiple of 1/201.
    const double k = std::stod(rows[r][search]) * 201.0;
    EXPECT_NEAR(k, std::round(k), 1e-9);
  }
  EXPECT_GT(differ, 0);

  // permutations = 0: the column stays, empty.
  SearchConfig off = config;
  off.permutations = 0;
  const SearchSummary without = run_search(off, {}, nullptr, nullptr);
  EXPECT_EQ(without.permutations, 0);
  const auto off_rows = read_csv(without.results_path);
  for (std::size_t r = 1; r < off_rows.size(); ++r) EXPECT_EQ(off_rows[r][column(off_rows[0], "search_p_value")], "");
}

TEST(ValidationSearch, TheSplitIsPartOfTheStudysIdentity) {
  const fs::path dir = testing::scratch_dir("identity");
  SearchConfig config = validated_search(dir);
  const auto identity = [&](const SearchConfig& c) {
    return study_identity(c, read_text(c.train_path), read_text(c.test_path));
  };
  const StudyIdentity before = identity(config);
  config.validation_fraction = 0.3;
  config.embargo_rows = 0;
  const std::vector<std::string> lines = identity_differences(before.facts, identity(config).facts);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"data.embargo_rows: 10 -> 0", "data.validation: fraction 0.25 -> fraction 0.3"}));
  SearchConfig plain = config;
  plain.validation_fraction = 0.0;
  plain.embargo_rows = 0;
  for (const StudyFact& fact : identity(plain).facts) {
    EXPECT_EQ(fact.first.rfind("data.validation", 0), std::string::npos) << "no validation facts without validation";
    EXPECT_NE(fact.first, "data.embargo_rows");
  }
  SearchConfig once = config, twice = config;
  once.permutations = 10;
  twice.permutations = 2000;
  twice.permutation_block = 3;
  EXPECT_EQ(identity(once).hash, identity(twice).hash) << "the permutation test reads stored predictions";
}

TEST(ValidationSearch, AJournalOfTheEarlierSchemaIsRefusedWithAFix) {
  const fs::path dir = testing::scratch_dir("schema");
  const SearchConfig config = validated_search(dir);
  const SearchSummary first = run_search(config, {}, nullptr, nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(first.journal_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "UPDATE journal_info SET value = '1' WHERE key = 'schema_version'", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  const std::string m = input_error_of([&] { run_search(config, {}, nullptr, nullptr); });
  EXPECT_NE(m.find("study.sqlite: the study journal has schema version 1, but this hyperfuse reads 2"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("run with --fresh"), std::string::npos) << m;
  SearchOptions fresh;
  fresh.fresh = true;
  EXPECT_EQ(run_search(config, fresh, nullptr, nullptr).trainings_resumed, 0u);
}

TEST(ValidationSearch, TheJournalStoresPredictionsAndTestCounts) {
  const fs::path dir = testing::scratch_dir("journal");
  const SearchSummary summary = run_search(validated_search(dir), {}, nullptr, nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(summary.journal_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*) FROM trainings WHERE length(predicted_positives) = 29 AND "
                               "tp + fp + fn + tn = 225 AND test_tp + test_fp + test_fn + test_tn = 300 AND "
                               "test_p_value > 0",
                               -1, &statement, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(statement, 0), 12) << "225 rows in 29 bytes, for every training";
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

}  // namespace
}  // namespace hf
