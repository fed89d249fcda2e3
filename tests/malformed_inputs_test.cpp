// The malformed-input battery (tests/malformed/, listed in its README.md): each bad config or
// data file run through the hyperfuse binary must exit 2 with a message that names the file,
// the line (and column where there is one) and says how to fix it, and must leave an earlier
// results file byte for byte as it was; the inputs a user would expect to work must run.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/result_files.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::hyperfuse_binary;
using testing::read_text;
using testing::scratch_dir;
using testing::shell_quoted;
using testing::source_dir;
using testing::write_text;

fs::path battery_dir() { return source_dir() / "tests" / "malformed"; }

// How a battery file is used: as the training, test or validation file of a small valid config,
// or as the config itself (with valid data beside it).
enum class Role { Train, Test, Validation, Config };

struct MalformedCase {
  const char* file;  // under tests/malformed/data/ or tests/malformed/config/
  Role role;
  int exit_code;                       // 2: refused before training; 0: accepted and run
  int line;                            // expected "file:line:" (0: the message names the file without a line)
  int column;                          // expected "file:line:column:" (0: none)
  const char* located;                 // the file the message names, relative to the work folder ("": the case's file)
  std::vector<std::string> fragments;  // what is wrong and how to fix it
  const char* data_keys = "";          // more [data] keys for a data file's config, e.g. "validation = 0.25\n"
};

std::ostream& operator<<(std::ostream& os, const MalformedCase& c) { return os << c.file; }

const char* const kSentinel = "earlier results: a failed run must leave this file exactly as it was\r\n\x01\xff";

// Valid data (tests/malformed/data/good_*.csv: 40 training and 20 test rows of 3 features).
const char* const kGoodTrain = "good_train.csv";
const char* const kGoodTest = "good_test.csv";

class MalformedInput : public ::testing::TestWithParam<MalformedCase> {
 protected:
  void SetUp() override {
    work_ = scratch_dir("work");
    captured_ = scratch_dir("captured");
    fs::create_directories(work_ / "data");
    fs::copy_file(battery_dir() / "data" / kGoodTrain, work_ / "data" / "train.csv");
    fs::copy_file(battery_dir() / "data" / kGoodTest, work_ / "data" / "test.csv");
    write_text(work_ / "results" / "hyperparameter_results.csv", kSentinel);
  }

  // Puts the case's file in the work folder and returns the config to run.
  fs::path prepare(const MalformedCase& c) const {
    if (c.role == Role::Config) {
      fs::copy_file(battery_dir() / "config" / c.file, work_ / c.file);
      return work_ / c.file;
    }
    fs::copy_file(battery_dir() / "data" / c.file, work_ / "data" / c.file);
    const std::string train = c.role == Role::Train ? std::string("data/") + c.file : "data/train.csv";
    const std::string test = c.role == Role::Test ? std::string("data/") + c.file : "data/test.csv";
    std::string data_keys = c.data_keys;
    if (c.role == Role::Validation) data_keys = std::string("validation = \"data/") + c.file + "\"\n" + data_keys;
    write_text(work_ / "search.toml", "[data]\ntrain = \"" + train + "\"\ntest = \"" + test + "\"\n" + data_keys +
                                          "\n[search]\nrerun_count = 1\nseed = 1\n\n[execution]\ndevice = "
                                          "\"cpu\"\ncpu_count = 1\n\n[output]\ndir = \"results\"\n\n"
                                          "[hyperparameters]\nmax_epochs = [1]\nhidden_layers = [[1]]\nbatch_size = "
                                          "[32]\n");
    return work_ / "search.toml";
  }

  // Runs `hyperfuse run CONFIG --quiet` in the work folder; returns the exit status.
  int run(const fs::path& config) {
    const std::string command = "cd " + shell_quoted(work_.string()) + " && " +
                                shell_quoted(hyperfuse_binary().string()) + " run " + shell_quoted(config.string()) +
                                " --quiet </dev/null >" + shell_quoted((captured_ / "stdout").string()) + " 2>" +
                                shell_quoted((captured_ / "stderr").string());
    const int status = std::system(command.c_str());
    out_ = read_text(captured_ / "stdout");
    err_ = read_text(captured_ / "stderr");
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  fs::path work_;
  fs::path captured_;
  std::string out_;
  std::string err_;
};

TEST_P(MalformedInput, ExitStatusMessageAndEarlierResults) {
  const MalformedCase& c = GetParam();
  const fs::path config = prepare(c);
  const int exit_code = run(config);
  const std::string shown = "exit " + std::to_string(exit_code) + "\n--- stdout:\n" + out_ + "--- stderr:\n" + err_;
  ASSERT_EQ(exit_code, c.exit_code) << shown;

  if (c.exit_code == 0) {
    // Accepted: the search ran and replaced the earlier results with a ranked table.
    EXPECT_EQ(err_, "") << shown;
    const std::string results = read_text(work_ / "results" / "hyperparameter_results.csv");
    EXPECT_EQ(results.rfind("max_epochs,", 0) == 0 || results.rfind("learning_rate,", 0) == 0, true) << results;
    EXPECT_GE(std::count(results.begin(), results.end(), '\n'), 2) << "a header and at least one ranked row";
    return;
  }

  // Refused: one message on stderr, in the form "file:line:column: what; how to fix it".
  EXPECT_EQ(out_, "") << shown;
  const fs::path located = std::string(c.located).empty() ? (c.role == Role::Config ? config : work_ / "data" / c.file)
                                                          : (work_ / c.located).lexically_normal();
  std::string where = "hyperfuse: error: " + located.string() + ":";
  if (c.line > 0) where += std::to_string(c.line) + ":";
  if (c.column > 0) where += std::to_string(c.column) + ":";
  EXPECT_EQ(err_.rfind(where + " ", 0), 0u) << "expected the message to start with '" << where << " '\n" << shown;
  EXPECT_EQ(std::count(err_.begin(), err_.end(), '\n'), 1) << "one line\n" << shown;
  EXPECT_LT(err_.size(), 700u) << "short enough to read\n" << shown;
  for (const std::string& fragment : c.fragments) {
    EXPECT_NE(err_.find(fragment), std::string::npos) << "expected '" << fragment << "' in\n" << shown;
  }
  // Nothing written: the earlier results are byte for byte the same and nothing joined them.
  EXPECT_EQ(read_text(work_ / "results" / "hyperparameter_results.csv"), kSentinel);
  EXPECT_EQ(std::distance(fs::directory_iterator(work_ / "results"), fs::directory_iterator{}), 1)
      << "only the earlier results file is in results/";
}

const std::vector<MalformedCase>& data_cases() {
  static const std::vector<MalformedCase> cases = {
      {"nan.csv", Role::Train, 2, 3, 2, "", {"column 2: 'nan' is not a finite number", "replace or drop this row"}},
      {"inf.csv", Role::Train, 2, 2, 1, "", {"column 1: '-inf' is not a finite number", "replace or drop this row"}},
      {"empty_lines.csv", Role::Train, 0, 0, 0, "", {}},
      {"windows_line_endings.csv", Role::Train, 0, 0, 0, "", {}},
      {"utf8_bom.csv", Role::Train, 0, 0, 0, "", {}},
      {"quoted_numbers.csv", Role::Train, 0, 0, 0, "", {}},
      {"fewer_rows_than_batch.csv", Role::Train, 0, 0, 0, "", {}},
      {"huge_values.csv", Role::Train, 0, 0, 0, "", {}},
      {"trailing_commas.csv", Role::Train, 2, 1, 5, "", {"column 5: '' is not a number", "remove the trailing comma"}},
      {"header_first_line.csv",
       Role::Train,
       2,
       1,
       1,
       "",
       {"'close_1' is not a number", "if this is a header row, delete it"}},
      {"header_in_middle.csv",
       Role::Train,
       2,
       4,
       1,
       "",
       {"'close_1' is not a number", "every cell must be a plain number"}},
      {"only_header.csv", Role::Train, 2, 1, 1, "", {"'close_1' is not a number", "delete it"}},
      {"single_class_train.csv",
       Role::Train,
       2,
       0,
       0,
       "",
       {"every label (the last column) is 0, in all 6 rows", "both classes", "cannot learn"}},
      {"single_class_test.csv",
       Role::Test,
       2,
       0,
       0,
       "",
       {"every label (the last column) is 1, in all 6 rows", "both classes", "nothing could be ranked"}},
      {"label_not_0_or_1.csv",
       Role::Train,
       2,
       5,
       4,
       "",
       {"column 4 (the label): '2' is not 0 or 1", "must hold the 0/1 label"}},
      {"empty.csv", Role::Train, 2, 0, 0, "", {"the data file has no rows", "features, then a 0/1 label"}},
      {"ragged_rows.csv",
       Role::Train,
       2,
       3,
       0,
       "",
       {"this row has 3 columns but the first row has 4", "the same number of comma-separated values"}},
      {"very_long_line.csv", Role::Train, 2, 2, 0, "", {"this row has 5001 columns but the first row has 4"}},
      {"non_utf8.csv", Role::Train, 2, 2, 2, "", {"'\\xe9t\\xe9' is not a number", "plain number"}},
      {"utf16.csv", Role::Train, 2, 0, 0, "", {"UTF-16", "save it as CSV in UTF-8"}},
      {"value_too_large.csv",
       Role::Train,
       2,
       2,
       2,
       "",
       {"'1e400' is too large for a double", "rescale this column or drop the row"}},
      {"test_wider_than_train.csv",
       Role::Test,
       2,
       1,
       0,
       "",
       {"has 5 columns but the training file", "has 4", "the same feature columns"}},
      {"single_class_tail.csv",
       Role::Train,
       2,
       4,
       14,
       "search.toml",
       {"[data] validation = 0.25: every validation row (rows 31 to 40 of", "has label 1",
        "the validation rows need both classes", "use a larger fraction"},
       "validation = 0.25\n"},
      {"single_class_validation.csv",
       Role::Validation,
       2,
       0,
       0,
       "",
       {"every label (the last column) is 0, in all 12 rows", "the validation data needs rows of both classes"}},
      {"validation_wider_than_train.csv",
       Role::Validation,
       2,
       1,
       0,
       "",
       {"has 5 columns but the training file", "has 4", "(the validation file)"}},
  };
  return cases;
}

const std::vector<MalformedCase>& config_cases() {
  static const std::vector<MalformedCase> cases = {
      {"wrong_type_table.toml",
       Role::Config,
       2,
       2,
       10,
       "",
       {"'search' must be a table, written [search] on a line of its own", "the integer 5"}},
      {"wrong_type_bool.toml", Role::Config, 2, 3, 11, "", {"[data] shuffle: must be true or false", "\"yes\""}},
      {"wrong_type_integer.toml",
       Role::Config,
       2,
       3,
       15,
       "",
       {"rerun_count: must be a whole number", "write it without quotes: 3"}},
      {"wrong_type_float_for_integer.toml",
       Role::Config,
       2,
       3,
       8,
       "",
       {"seed: must be a whole number", "the number 4.5"}},
      {"wrong_type_number.toml",
       Role::Config,
       2,
       3,
       24,
       "",
       {"prediction_threshold: must be a number", "write it without quotes: 0.5"}},
      {"wrong_type_string.toml", Role::Config, 2, 3, 7, "", {"[output] dir: must be a quoted string", "42"}},
      {"wrong_type_not_a_list.toml",
       Role::Config,
       2,
       3,
       17,
       "",
       {"learning_rate: must be a list of values", "learning_rate = [0.001, 0.0005]"}},
      {"wrong_type_list_element.toml",
       Role::Config,
       2,
       3,
       19,
       "",
       {"batch_size: each value must be a whole number", "write it without quotes: 64"}},
      {"wrong_type_hidden_layers.toml",
       Role::Config,
       2,
       3,
       18,
       "",
       {"hidden_layers", "list of lists", "hidden_layers = [[2, 3, 2, 1, 0.5]]"}},
      {"wrong_type_name.toml",
       Role::Config,
       2,
       3,
       14,
       "",
       {"optimizer: each value must be a quoted name", "valid names are: SGD, Adam"}},
      {"wrong_type_date.toml", Role::Config, 2, 3, 8, "", {"seed: must be a whole number, not a date or time"}},
      {"missing_data_table.toml",
       Role::Config,
       2,
       0,
       0,
       "../example_data/train.csv",
       {"cannot open the data file", "check [data] train/test in the config"}},
      {"duplicate_key.toml",
       Role::Config,
       2,
       5,
       8,
       "",
       {"cannot redefine existing integer 'seed'", "may appear only once", "remove the second one"}},
      {"duplicate_table.toml",
       Role::Config,
       2,
       5,
       1,
       "",
       {"cannot redefine existing table 'search'", "may appear only once"}},
      {"unknown_table.toml", Role::Config, 2, 2, 2, "", {"unknown key 'serch'", "did you mean 'search'?"}},
      {"unknown_key.toml",
       Role::Config,
       2,
       3,
       1,
       "",
       {"[search]: unknown key 'rerun_cout'", "did you mean 'rerun_count'?", "valid keys are"}},
      {"unknown_name.toml",
       Role::Config,
       2,
       3,
       32,
       "",
       {"activation_function: unknown name \"tanh\"", "did you mean \"Tanh\"?", "valid names are"}},
      {"learning_rate_zero.toml",
       Role::Config,
       2,
       3,
       25,
       "",
       {"learning_rate: 0 is out of range", "above 0 and at most 10"}},
      {"learning_rate_huge.toml",
       Role::Config,
       2,
       3,
       18,
       "",
       {"learning_rate: 1000000000.0 is out of range", "typical: 0.0001 to 0.1"}},
      {"epochs_zero.toml", Role::Config, 2, 3, 15, "", {"max_epochs: 0 is out of range", "from 1 to 100000"}},
      {"batch_size_zero.toml", Role::Config, 2, 3, 15, "", {"batch_size: 0 is out of range", "from 1 to 1000000"}},
      {"dropout_one.toml",
       Role::Config,
       2,
       3,
       17,
       "",
       {"dropout: 1.0 is out of range", "from 0 up to (not including) 1"}},
      {"rerun_count_zero.toml", Role::Config, 2, 3, 15, "", {"rerun_count: 0 is out of range", "from 1 to 1000"}},
      {"rerun_count_million.toml",
       Role::Config,
       2,
       3,
       15,
       "",
       {"rerun_count: 1000000 is out of range", "from 1 to 1000"}},
      {"grid_ten_million.toml",
       Role::Config,
       2,
       3,
       28,
       "",
       {"the full grid has 10000000 combinations", "set explore_all_combinations = false",
        "number_of_combinations_to_try"}},
      {"random_search_huge_space.toml", Role::Config, 0, 0, 0, "", {}},
      {"toml_syntax_error.toml",
       Role::Config,
       2,
       4,
       1,
       "",
       {"TOML syntax error", "expected comma or closing ']'", "lists in [ ]"}},
      {"not_utf8.toml", Role::Config, 2, 3, 13, "", {"invalid utf-8", "save the config as UTF-8"}},
      {"validation_out_of_range.toml",
       Role::Config,
       2,
       3,
       14,
       "",
       {"[data] validation: 1.5 is out of range", "between 0 and 1", "e.g. 0.2"}},
      {"validation_wrong_type.toml",
       Role::Config,
       2,
       3,
       14,
       "",
       {"[data] validation: must be a number or a quoted path, not a list", "validation = 0.2"}},
      {"embargo_without_validation.toml",
       Role::Config,
       2,
       4,
       16,
       "",
       {"[data] embargo_rows: only means something with a validation set", "set [data] validation"}},
      {"validation_leaves_no_training_rows.toml",
       Role::Config,
       2,
       5,
       14,
       "",
       {"[data] validation = 0.9 (with embargo_rows = 5): leaves 0 training rows of the 40",
        "36 go to validation, 5 to the embargo", "use a smaller fraction or fewer embargo rows"}},
      {"validation_too_few_rows.toml",
       Role::Config,
       2,
       5,
       14,
       "",
       {"[data] validation = 0.01: holds out 0 of the 40 rows", "use a larger fraction"}},
      {"validation_fraction_and_embargo.toml", Role::Config, 0, 0, 0, "", {}},
      {"permutation_block_too_large.toml",
       Role::Config,
       2,
       0,
       0,
       "",
       {"[search] permutation_block = 50 makes the 20 test rows a single block", "at most 10 rows",
        "permutations = 0"}},
      {"permutations_negative.toml",
       Role::Config,
       2,
       3,
       16,
       "",
       {"[search] permutations: -1 is out of range", "from 0 to 1000000"}},
  };
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<MalformedCase>& info) {
  std::string name = info.param.file;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Data, MalformedInput, ::testing::ValuesIn(data_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Config, MalformedInput, ::testing::ValuesIn(config_cases()), case_name);

// Every committed battery file has a case above (and so a row in tests/malformed/README.md).
TEST(MalformedBattery, EveryFileHasACase) {
  std::set<std::string> listed = {kGoodTrain, kGoodTest};
  for (const MalformedCase& c : data_cases()) listed.insert(std::string("data/") + c.file);
  for (const MalformedCase& c : config_cases()) listed.insert(std::string("config/") + c.file);
  int files = 0;
  for (const char* folder : {"data", "config"}) {
    for (const fs::directory_entry& entry : fs::directory_iterator(battery_dir() / folder)) {
      const std::string name = entry.path().filename().string();
      const bool is_good_data = name == kGoodTrain || name == kGoodTest;
      EXPECT_TRUE(is_good_data || listed.count(std::string(folder) + "/" + name) == 1)
          << folder << "/" << name << " has no case in malformed_inputs_test.cpp";
      ++files;
    }
  }
  EXPECT_EQ(files, static_cast<int>(data_cases().size() + config_cases().size()) + 2);
}

}  // namespace
}  // namespace hf
