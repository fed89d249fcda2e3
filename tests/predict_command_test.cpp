// `hyperfuse run` then `hyperfuse predict` and `hyperfuse export` as a user runs them: the buy
// list of a latest.csv-shaped file (one row per stock, tickers kept, probabilities in [0, 1],
// most probable first), labelled and unlabelled rows with and without identifiers, every kind of
// bad input refused at file:line:column with exit status 2 and nothing written, the ONNX
// export agreeing with predict in onnxruntime where it is installed, and the D.AT data where
// ../shared/example_data is present.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "host/journal/stored_models.hpp"
#include "host/predict/ensemble_forward.hpp"
#include "host/predict/prediction_rows.hpp"
#include "tests/hyperfuse_process.hpp"
#include "tests/result_files.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::Outcome;
using testing::read_csv;
using testing::read_text;
using testing::write_text;

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "expected '" << (needle) << "' in:\n" << (haystack)

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells(1);
  for (char c : line) {
    if (c == ',')
      cells.emplace_back();
    else
      cells.back() += c;
  }
  return cells;
}

// A finished search shared by the tests: make-data with a latest.csv of 25 stocks, then a search
// of 4 combinations x 3 reruns keeping the best 2, in one folder made once.
class PredictCommand : public ::testing::Test {
 protected:
  // One study per process: ctest runs each test in a process of its own, in parallel, and each
  // process sets the suite up; a folder shared between processes would be removed under another.
  static fs::path shared() {
    return fs::temp_directory_path() / "hyperfuse-tests" / ("PredictCommand-shared-" + std::to_string(getpid()));
  }

  static void SetUpTestSuite() {
    fs::remove_all(shared());
    fs::create_directories(shared() / "captured");
    const Outcome made = testing::run_hyperfuse(shared(), shared() / "captured",
                                                {"make-data", "--out-dir", "data", "--train-rows", "400", "--test-rows",
                                                 "150", "--latest-rows", "25", "--seed", "3"});
    ASSERT_EQ(made.exit_code, 0) << made;
    write_text(shared() / "search.toml", R"([data]
train = "data/train.csv"
test = "data/test.csv"
[search]
rerun_count = 3
seed = 4
[execution]
device = "cpu"
cpu_count = 2
[output]
dir = "study"
keep_models = 2
[hyperparameters]
learning_rate = [0.01, 0.003]
activation_function = ["GELU", "PReLU"]
max_epochs = [3]
hidden_layers = [[1, 0.5]]
)");
    const Outcome ran = testing::run_hyperfuse(shared(), shared() / "captured", {"run", "search.toml", "-q"});
    ASSERT_EQ(ran.exit_code, 0) << ran;
    ASSERT_NE(ran.out.find("Trained networks of the best 2 combinations kept in"), std::string::npos) << ran;
  }

  static void TearDownTestSuite() { fs::remove_all(shared()); }

  void SetUp() override {
    work_ = testing::scratch_dir("work");
    captured_ = testing::scratch_dir("captured");
  }

  // Runs hyperfuse in the work folder, the shared study and data reachable by absolute paths.
  Outcome hyperfuse(const std::vector<std::string>& args) const {
    return testing::run_hyperfuse(work_, captured_, args);
  }

  // Expects exit status 2 with the message on stderr only.
  Outcome expect_input_error(const std::vector<std::string>& args) const {
    const Outcome o = hyperfuse(args);
    EXPECT_EQ(o.exit_code, 2) << o;
    EXPECT_EQ(o.err.rfind("hyperfuse: error: ", 0), 0u) << o;
    EXPECT_EQ(o.out, "") << o;
    return o;
  }

  static std::string study() { return (shared() / "study").string(); }
  static fs::path data(const std::string& name) { return shared() / "data" / name; }

  fs::path work_, captured_;
};

TEST_F(PredictCommand, ALatestShapedFileGetsOneRowPerStockMostProbableFirst) {
  const Outcome o = hyperfuse({"predict", "--study", study(), data("latest.csv").string()});
  ASSERT_EQ(o.exit_code, 0) << o;
  const std::vector<std::string> lines = lines_of(o.out);
  ASSERT_EQ(lines.size(), 26u) << o;
  EXPECT_EQ(lines[0], "identifier,probability,buy");
  std::set<std::string> tickers, expected;
  for (const std::string& row : lines_of(read_text(data("latest.csv")))) expected.insert(cells_of(row)[0]);
  double previous = 1.0;
  int buys = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = cells_of(lines[i]);
    ASSERT_EQ(cells.size(), 3u) << lines[i];
    tickers.insert(cells[0]);
    const double p = std::stod(cells[1]);
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 1.0);
    EXPECT_LE(p, previous) << "sorted by probability, most probable first";
    previous = p;
    EXPECT_EQ(cells[2], p > 0.5 ? "1" : "0") << lines[i];
    buys += cells[2] == "1";
  }
  EXPECT_EQ(tickers, expected) << "every stock once, by its ticker";
  EXPECT_CONTAINS(o.err, std::to_string(buys) + " of 25 rows are buys (probability > 0.5)");
  EXPECT_CONTAINS(o.err, "rank 1 of " + study());
}

TEST_F(PredictCommand, TheBuyListIsTheStoredEnsemblesMeanProbabilityPerRow) {
  const Outcome o = hyperfuse({"predict", "--study", study(), "--rank", "2", data("latest.csv").string()});
  ASSERT_EQ(o.exit_code, 0) << o;
  std::map<std::string, std::string> printed;
  for (const std::string& line : lines_of(o.out)) printed[cells_of(line)[0]] = cells_of(line)[1];

  const StoredModels models(shared() / "study");
  const StoredEnsemble ensemble = models.ensemble(2);
  const PredictionRows rows = read_prediction_rows(data("latest.csv"), 30);
  const ModelInputs& in = models.inputs();
  const std::vector<double> probability = ensemble_probabilities(rerun_probabilities(
      ensemble, StandardScaler::from_statistics(in.mean, in.scale, in.factor).transform(rows.table)));
  ASSERT_EQ(probability.size(), 25u);
  for (std::size_t i = 0; i < probability.size(); ++i) {
    ASSERT_EQ(printed.count(rows.identifiers[i]), 1u) << rows.identifiers[i];
    EXPECT_EQ(std::stod(printed[rows.identifiers[i]]), probability[i]) << rows.identifiers[i] << ": printed exactly";
  }
}

TEST_F(PredictCommand, LabelsAndIdentifiersMayBeThereOrNot) {
  // test.csv: 30 features and a label. The same rows without the label, and with an identifier.
  const std::vector<std::string> labelled = lines_of(read_text(data("test.csv")));
  std::string features_only, identified;
  for (std::size_t i = 0; i < labelled.size(); ++i) {
    features_only += labelled[i].substr(0, labelled[i].rfind(',')) + "\n";
    identified += "\"R" + std::to_string(i + 1) + "\"," + labelled[i] + "\n";
  }
  write_text(work_ / "features.csv", features_only);
  write_text(work_ / "identified.csv", identified);

  const Outcome with_labels = hyperfuse({"predict", "--study", study(), data("test.csv").string()});
  ASSERT_EQ(with_labels.exit_code, 0) << with_labels;
  EXPECT_CONTAINS(with_labels.err, "against the file's labels: ");
  const Outcome without = hyperfuse({"predict", "--study", study(), "features.csv"});
  ASSERT_EQ(without.exit_code, 0) << without;
  EXPECT_EQ(without.err.find("against the file's labels"), std::string::npos) << without;
  EXPECT_EQ(without.out, with_labels.out) << "the label column changes nothing but the summary";
  const std::vector<std::string> rows = lines_of(without.out);
  ASSERT_EQ(rows.size(), 151u);
  EXPECT_EQ(rows[0], "row,probability,buy");
  std::set<int> numbers;
  for (std::size_t i = 1; i < rows.size(); ++i) numbers.insert(std::stoi(cells_of(rows[i])[0]));
  EXPECT_EQ(numbers.size(), 150u);
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), 150) << "rows are named by their line in the file";

  const Outcome named = hyperfuse({"predict", "--study", study(), "identified.csv", "--out", "buy.csv"});
  ASSERT_EQ(named.exit_code, 0) << named;
  EXPECT_EQ(named.out, "") << "with --out, nothing on stdout";
  const std::vector<std::string> buy = lines_of(read_text(work_ / "buy.csv"));
  ASSERT_EQ(buy.size(), 151u);
  EXPECT_EQ(buy[0], "identifier,probability,buy");
  for (std::size_t i = 1; i < buy.size(); ++i) {
    const std::vector<std::string> a = cells_of(buy[i]), b = cells_of(rows[i]);
    EXPECT_EQ(a[0], "R" + b[0]) << "quotes around an identifier are not part of it";
    EXPECT_EQ(a[1], b[1]);
  }
}

struct BadFile {
  std::string name;
  std::string contents;
  std::vector<std::string> expected;  // substrings of the message; "FILE" stands for the path
};

std::string closes(int count, const std::string& value = "1.0") {
  std::string row;
  for (int i = 0; i < count; ++i) row += (i ? "," : "") + value;
  return row;
}

TEST_F(PredictCommand, BadRowsAreRefusedAtFileLineColumnWithExitTwoAndNothingWritten) {
  const std::vector<BadFile> cases = {
      {"narrow", "AAPL," + closes(28) + "\n", {"FILE:1: this row has 29 columns, but the model takes 30 features"}},
      {"wide", closes(33) + "\n", {"FILE:1: this row has 33 columns", "30 to 32 columns"}},
      {"label_not_binary", closes(30) + ",0.7\n", {"FILE:1:31: column 31 (the label): '0.7' is not 0 or 1"}},
      {"empty", "", {"FILE: the data file has no rows"}},
      {"blank_lines", "\n  \n\n", {"FILE: the data file has no rows"}},
      {"ragged",
       "AAPL," + closes(30) + "\nMSFT," + closes(29) + "\n",
       {"FILE:2: this row has 30 columns but the first row has 31"}},
      {"header",
       "ticker," + closes(30, "close") + "\n",
       {"FILE:1:2: column 2: 'close' is not a number", "if this is a header row, delete it"}},
      {"not_finite",
       "AAPL," + closes(30) + "\nMSFT," + closes(3) + ",nan," + closes(26) + "\n",
       {"FILE:2:5: column 5: 'nan' is not a finite number"}},
      {"empty_identifier",
       "AAPL," + closes(30) + "\n," + closes(30) + "\n",
       {"FILE:2:1: column 1 (the identifier) is empty"}},
  };
  write_text(work_ / "earlier.csv", "earlier buy list\n");
  for (const BadFile& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path file = work_ / (c.name + ".csv");
    write_text(file, c.contents);
    for (const std::vector<std::string>& out :
         {std::vector<std::string>{}, std::vector<std::string>{"--out", "new.csv"},
          std::vector<std::string>{"--out", "earlier.csv"}}) {
      std::vector<std::string> args = {"predict", "--study", study(), file.string()};
      args.insert(args.end(), out.begin(), out.end());
      const Outcome o = expect_input_error(args);
      for (std::string expected : c.expected) {
        const std::size_t at = expected.find("FILE");
        if (at != std::string::npos) expected.replace(at, 4, file.string());
        EXPECT_CONTAINS(o.err, expected);
      }
    }
    EXPECT_FALSE(fs::exists(work_ / "new.csv"));
    EXPECT_EQ(read_text(work_ / "earlier.csv"), "earlier buy list\n");
  }
}

TEST_F(PredictCommand, MissingStudiesRanksAndPathsAreRefusedWithExitTwo) {
  const std::string latest = data("latest.csv").string();
  fs::create_directories(work_ / "empty");
  Outcome o = expect_input_error({"predict", "--study", "nowhere", latest});
  EXPECT_CONTAINS(o.err, "nowhere: no such folder; give --study the output folder of a search");
  o = expect_input_error({"predict", "--study", "empty", latest});
  EXPECT_CONTAINS(o.err, "empty: holds no study journal (study.sqlite)");
  o = expect_input_error({"predict", latest});
  EXPECT_CONTAINS(o.err, "results: no such folder") << "the default study is ./results";
  o = expect_input_error({"predict", "--study", study(), "--rank", "3", latest});
  EXPECT_CONTAINS(o.err,
                  "--rank 3: " + study() + "/study.sqlite keeps the models of ranks 1 to 2 ([output] keep_models)");
  o = expect_input_error({"predict", "--study", study(), "--rank=0", latest});
  EXPECT_CONTAINS(o.err, "--rank needs a whole number from 1");
  o = expect_input_error({"predict", "--study", study(), "missing.csv"});
  EXPECT_CONTAINS(o.err, "missing.csv: cannot open the data file to predict");
  o = expect_input_error({"predict", "--study", study(), latest, "--out", "no/such/folder/buy.csv"});
  EXPECT_CONTAINS(o.err, "--out no/such/folder/buy.csv: the folder no/such/folder does not exist");
  o = expect_input_error({"predict", "--study", study()});
  EXPECT_CONTAINS(o.err, "predict needs the data file to predict");
  EXPECT_EQ(std::distance(fs::directory_iterator(work_), fs::directory_iterator{}), 1) << "only empty/ in work/";
}

TEST_F(PredictCommand, ExportRefusesMissingStudiesRanksAndPathsWithExitTwo) {
  fs::create_directories(work_ / "empty");
  Outcome o = expect_input_error({"export", "--study", "nowhere", "--onnx", "m.onnx"});
  EXPECT_CONTAINS(o.err, "nowhere: no such folder");
  o = expect_input_error({"export", "--study", "empty", "--onnx", "m.onnx"});
  EXPECT_CONTAINS(o.err, "holds no study journal");
  o = expect_input_error({"export", "--study", study(), "--rank", "7", "--onnx", "m.onnx"});
  EXPECT_CONTAINS(o.err, "--rank 7: ");
  EXPECT_CONTAINS(o.err, "keeps the models of ranks 1 to 2");
  o = expect_input_error({"export", "--study", study(), "--onnx", "no/such/m.onnx"});
  EXPECT_CONTAINS(o.err, "--onnx no/such/m.onnx: the folder no/such does not exist");
  o = expect_input_error({"export", "--study", study()});
  EXPECT_CONTAINS(o.err, "export needs --onnx FILE");
  o = expect_input_error({"export", "--study", study(), "--onnx", "empty"});
  EXPECT_CONTAINS(o.err, "--onnx empty: is a folder");
  EXPECT_FALSE(fs::exists(work_ / "m.onnx"));
  EXPECT_EQ(std::distance(fs::directory_iterator(work_), fs::directory_iterator{}), 1) << "only empty/ in work/";
}

bool have_onnxruntime() { return std::system("python3 -c 'import onnxruntime, numpy' >/dev/null 2>&1") == 0; }

// Each row's probability and buy from an ONNX runtime: the committed script prints
// "identifier,probability,buy" in file order.
std::map<std::string, std::pair<double, std::string>> onnxruntime_predictions(const fs::path& model,
                                                                              const fs::path& rows,
                                                                              const fs::path& output) {
  const std::string command =
      "python3 " + testing::shell_quoted((testing::source_dir() / "tests" / "onnx_runtime_predict.py").string()) + " " +
      testing::shell_quoted(model.string()) + " " + testing::shell_quoted(rows.string()) + " >" +
      testing::shell_quoted(output.string()) + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << read_text(output);
  std::map<std::string, std::pair<double, std::string>> predictions;
  for (const std::string& line : lines_of(read_text(output))) {
    const std::vector<std::string> cells = cells_of(line);
    if (cells.size() == 3) predictions[cells[0]] = {std::stod(cells[1]), cells[2]};
  }
  return predictions;
}

TEST_F(PredictCommand, TheOnnxExportAgreesWithPredictInOnnxRuntime) {
  for (const std::string rank : {"1", "2"}) {
    SCOPED_TRACE("rank " + rank);
    const Outcome exported = hyperfuse({"export", "--study", study(), "--rank", rank, "--onnx", "model.onnx"});
    ASSERT_EQ(exported.exit_code, 0) << exported;
    EXPECT_CONTAINS(exported.out, "Wrote model.onnx: rank " + rank);
    ASSERT_GT(fs::file_size(work_ / "model.onnx"), 1000u);
    if (!have_onnxruntime())
      GTEST_SKIP() << "onnxruntime is not installed for python3 (pip install --user onnxruntime)";
    const Outcome predicted = hyperfuse({"predict", "--study", study(), "--rank", rank, data("latest.csv").string()});
    ASSERT_EQ(predicted.exit_code, 0) << predicted;
    const auto runtime = onnxruntime_predictions(work_ / "model.onnx", data("latest.csv"), captured_ / "runtime");
    ASSERT_EQ(runtime.size(), 25u);
    for (const std::string& line : lines_of(predicted.out)) {
      const std::vector<std::string> cells = cells_of(line);
      if (cells[0] == "identifier") continue;
      ASSERT_EQ(runtime.count(cells[0]), 1u) << cells[0];
      const double p = std::stod(cells[1]);
      EXPECT_NEAR(runtime.at(cells[0]).first, p, 1e-5) << cells[0];
      if (std::fabs(p - 0.5) > 1e-5) {
        EXPECT_EQ(runtime.at(cells[0]).second, cells[2]) << cells[0];
      }
    }
  }
}

// The D.AT data (../shared/example_data/dat): a search on its test.csv split 80/20 in row order,
// then the buy list of its latest.csv. Skipped where the shared folder is absent.
TEST(PredictRealData, TheDatBuyListHasEveryTickerOfLatestCsv) {
  const fs::path dat = testing::source_dir().parent_path() / "shared" / "example_data" / "dat";
  if (!fs::exists(dat / "test.csv") || !fs::exists(dat / "latest.csv"))
    GTEST_SKIP() << dat << " is absent (it is not part of the repository)";
  const fs::path work = testing::scratch_dir("work"), captured = testing::scratch_dir("captured");
  const std::vector<std::string> rows = lines_of(read_text(dat / "test.csv"));
  const std::size_t split = rows.size() * 8 / 10;
  std::string train, test;
  for (std::size_t i = 0; i < rows.size(); ++i) (i < split ? train : test) += rows[i] + "\n";
  write_text(work / "train.csv", train);
  write_text(work / "test.csv", test);
  write_text(work / "search.toml", R"([data]
train = "train.csv"
test = "test.csv"
[search]
rerun_count = 2
[execution]
device = "cpu"
cpu_count = 2
[output]
dir = "study"
keep_models = 1
[hyperparameters]
learning_rate = [0.001]
max_epochs = [2]
hidden_layers = [[1]]
)");
  const Outcome ran = testing::run_hyperfuse(work, captured, {"run", "search.toml", "-q"});
  ASSERT_EQ(ran.exit_code, 0) << ran;
  const Outcome o =
      testing::run_hyperfuse(work, captured, {"predict", "--study", "study", (dat / "latest.csv").string()});
  ASSERT_EQ(o.exit_code, 0) << o;
  const std::vector<std::string> lines = lines_of(o.out);
  const std::vector<std::string> latest = lines_of(read_text(dat / "latest.csv"));
  ASSERT_EQ(lines.size(), latest.size() + 1);
  std::set<std::string> tickers;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = cells_of(lines[i]);
    tickers.insert(cells[0]);
    EXPECT_GE(std::stod(cells[1]), 0.0);
    EXPECT_LE(std::stod(cells[1]), 1.0);
  }
  EXPECT_EQ(tickers.size(), latest.size());
  EXPECT_EQ(tickers.count("AAPL"), 1u);
}

}  // namespace
}  // namespace hf
