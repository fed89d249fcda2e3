// The command-line conventions people type by habit (CLI11): values attached (`-j1`,
// `--output-dir=DIR`) as well as apart, `hyperfuse help COMMAND`, each command's --help showing
// only its own options, the last of a repeated option winning; and make-data's latest.csv.
#include <gtest/gtest.h>

#include <algorithm>

#include <set>
#include <sstream>

#include "tests/hyperfuse_process.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::Outcome;
using testing::read_text;

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "expected '" << (needle) << "' in:\n" << (haystack)
#define EXPECT_LACKS(haystack, needle) \
  EXPECT_EQ((haystack).find(needle), std::string::npos) << "did not expect '" << (needle) << "' in:\n" << (haystack)

class CliConventions : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = testing::scratch_dir("work");
    captured_ = testing::scratch_dir("captured");
  }
  Outcome hyperfuse(const std::vector<std::string>& args) const {
    return testing::run_hyperfuse(work_, captured_, args);
  }
  fs::path work_, captured_;
};

TEST_F(CliConventions, ValuesAttachedOrApartMeanTheSame) {
  testing::write_synthetic_data(work_ / "data", 200, 100);
  testing::write_text(work_ / "search.toml",
                      "[data]\ntrain = \"data/train.csv\"\ntest = \"data/test.csv\"\n[search]\nrerun_count = 1\n"
                      "[execution]\ndevice = \"cpu\"\n[output]\ndir = \"from_config\"\n[hyperparameters]\n"
                      "max_epochs = [1]\nlearning_rate = [0.001, 0.01]\n");
  const Outcome apart =
      hyperfuse({"run", "search.toml", "-j", "1", "--output-dir", "apart", "--seed", "3", "--reruns", "2", "-q"});
  ASSERT_EQ(apart.exit_code, 0) << apart;
  const Outcome attached =
      hyperfuse({"run", "search.toml", "-j1", "--output-dir=attached", "--seed=3", "--reruns=2", "--quiet"});
  ASSERT_EQ(attached.exit_code, 0) << attached;
  EXPECT_FALSE(fs::exists(work_ / "from_config"));
  const auto apart_csv = testing::without_timing(testing::read_csv(work_ / "apart" / "hyperparameter_results.csv"));
  ASSERT_EQ(apart_csv.size(), 3u);
  const std::vector<std::string>& header = apart_csv.front();
  EXPECT_NE(std::find(header.begin(), header.end(), "p_value_rerun_2"), header.end()) << "--reruns 2 took effect";
  EXPECT_EQ(testing::without_timing(testing::read_csv(work_ / "attached" / "hyperparameter_results.csv")), apart_csv);

  // A repeated option: the last one wins, as before.
  const Outcome repeated =
      hyperfuse({"run", "search.toml", "-j", "1", "--output-dir", "first", "--output-dir=last", "-q"});
  ASSERT_EQ(repeated.exit_code, 0) << repeated;
  EXPECT_FALSE(fs::exists(work_ / "first"));
  EXPECT_TRUE(fs::exists(work_ / "last" / "hyperparameter_results.csv"));
}

TEST_F(CliConventions, EachCommandsHelpShowsItsOwnOptions) {
  struct Expected {
    std::vector<std::string> args;
    std::string usage;
    std::vector<std::string> own, others;
  };
  const std::vector<Expected> cases = {
      {{"help", "run"},
       "Usage: hyperfuse run",
       {"--reruns N", "-j,--cpu-count N", "--fresh"},
       {"--train-rows", "--onnx"}},
      {{"run", "--help"}, "Usage: hyperfuse run", {"--reruns N", "--output-dir DIR"}, {"--rank", "--latest-rows"}},
      {{"make-data", "-h"},
       "Usage: hyperfuse make-data",
       {"--train-rows N", "--latest-rows N"},
       {"--reruns", "--study"}},
      {{"help", "predict"},
       "Usage: hyperfuse predict",
       {"--study DIR", "--rank N", "-o,--out FILE", "DATA.csv"},
       {"--reruns", "--onnx"}},
      {{"export", "--help"}, "Usage: hyperfuse export", {"--onnx FILE", "--rank N"}, {"--reruns", "--train-rows"}},
      {{"help", "report"}, "Usage: hyperfuse report", {"--study DIR", "-o,--out FILE"}, {"--rank", "--reruns"}},
      {{"convert", "--help"},
       "Usage: hyperfuse convert",
       {"CONFIG.py", "-o,--out FILE", "--train FILE", "--output-dir DIR"},
       {"--reruns", "--study"}},
  };
  for (const Expected& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.args[1]);
    const Outcome o = hyperfuse(c.args);
    EXPECT_EQ(o.exit_code, 0) << o;
    EXPECT_EQ(o.err, "");
    EXPECT_CONTAINS(o.out, c.usage);
    for (const std::string& option : c.own) EXPECT_CONTAINS(o.out, option);
    for (const std::string& option : c.others) EXPECT_LACKS(o.out, option);
  }
  // The whole help lists every command's options.
  const Outcome all = hyperfuse({"help"});
  EXPECT_EQ(all.exit_code, 0) << all;
  for (const std::string option : {"--reruns N", "--latest-rows N", "--onnx FILE", "--rank N", "--version"})
    EXPECT_CONTAINS(all.out, option);
  const Outcome unknown = hyperfuse({"help", "predcit"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown;
  EXPECT_CONTAINS(unknown.err, "unknown command 'predcit' (did you mean 'predict'?)");
}

// `hyperfuse convert` runs the clone's python/hyperfuse/convert.py with python3 (the Python
// package's tests cover every config.py shape); here: the TOML it writes runs, and a bad name
// is the reader's located message with exit status 2.
TEST_F(CliConventions, ConvertWritesTheSeedConfigAsATomlThatRuns) {
  testing::write_synthetic_data(work_ / "data", 200, 100);
  testing::write_text(work_ / "config.py",
                      "from nn_constants import Hyperparameters as Hyper, LossFunction as Lf\n"
                      "RERUN_COUNT = 1\nCPU_COUNT = cpu_count()\n"
                      "hyperparameter_values = {\n"
                      "    Hyper.EPOCHS: [1],\n"
                      "    Hyper.LOSS_FUNCTION: [Lf.BCE, Lf.SMOOTH_L1],  # Lf.MSE,\n"
                      "}\n");
  const Outcome converted = hyperfuse({"convert", "config.py", "--out", "config.toml", "--train", "data/train.csv",
                                       "--test", "data/test.csv", "--output-dir", "out"});
  ASSERT_EQ(converted.exit_code, 0) << converted;
  const std::string toml = read_text(work_ / "config.toml");
  EXPECT_CONTAINS(toml, "[hyperparameters]\nmax_epochs = [1]\nloss_function = [\"BCE\", \"SmoothL1\"]\n");
  EXPECT_CONTAINS(toml, "[execution]\ncpu_count = 0\n");
  const Outcome run = hyperfuse({"run", "config.toml", "-q"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_EQ(testing::read_csv(work_ / "out" / "hyperparameter_results.csv").size(), 3u);  // header and 2 rows

  testing::write_text(work_ / "bad.py", "hyperparameter_values = {\n    'loss': [Lf.FOCAL],\n}\n");
  const Outcome bad = hyperfuse({"convert", "bad.py"});
  EXPECT_EQ(bad.exit_code, 2) << bad;
  EXPECT_CONTAINS(bad.err,
                  "bad.py:2:14: loss_function: unknown value Lf.FOCAL; accepted: BCE, MSE, Huber, SmoothL1, L1");
}

TEST_F(CliConventions, MakeDataWritesALatestFileOfTickersAndCloses) {
  const Outcome o = hyperfuse(
      {"make-data", "--out-dir", "made", "--train-rows", "30", "--test-rows", "20", "--latest-rows=12", "--seed", "8"});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(o.out, "made/latest.csv (12 stocks: ticker and last 30 closes, no label)");
  std::istringstream lines(read_text(work_ / "made" / "latest.csv"));
  std::string line;
  std::set<std::string> tickers;
  int rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    std::vector<std::string> cells(1);
    for (char c : line) {
      if (c == ',')
        cells.emplace_back();
      else
        cells.back().push_back(c);
    }
    ASSERT_EQ(cells.size(), 31u) << line;
    tickers.insert(cells[0]);
    EXPECT_EQ(cells[0].rfind("SYN", 0), 0u) << cells[0];
    for (std::size_t i = 1; i < cells.size(); ++i) EXPECT_GT(std::stod(cells[i]), 0.0);
    EXPECT_EQ(cells[30], "1.0") << "closes divided by the last one";
  }
  EXPECT_EQ(rows, 12);
  EXPECT_EQ(tickers.size(), 12u) << "one row per stock";
  // The training and test files are those of a make-data without latest rows.
  ASSERT_EQ(hyperfuse({"make-data", "--out-dir", "plain", "--train-rows", "30", "--test-rows", "20", "--seed", "8"})
                .exit_code,
            0);
  EXPECT_EQ(read_text(work_ / "made" / "train.csv"), read_text(work_ / "plain" / "train.csv"));
  EXPECT_EQ(read_text(work_ / "made" / "test.csv"), read_text(work_ / "plain" / "test.csv"));
  EXPECT_FALSE(fs::exists(work_ / "plain" / "latest.csv"));
}

}  // namespace
}  // namespace hf
