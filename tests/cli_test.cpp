// The hyperfuse binary run as a user runs it: exit status, messages and the files it writes
// for help, bad usage, bad configs and data, make-data, and a tiny search.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "host/data/labelled_table.hpp"
#include "host/report/results_csv.hpp"
#include "tests/gpu_available.hpp"
#include "tests/result_files.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::hyperfuse_binary;
using testing::read_text;
using testing::scratch_dir;
using testing::shell_quoted;
using testing::write_text;

// The hyperparameter keys in the order a config leaves them out (kHyperparameterKeys).
const std::vector<std::string> kCanonicalKeys = {
    "learning_rate",        "max_epochs", "batch_size", "hidden_layers",     "loss_function",
    "activation_function",  "optimizer",  "dropout",    "l1_regularization", "l2_regularization",
    "weight_initialization"};
const std::vector<std::string> kScoreColumns = {
    "p_value", "execution_time", "log10_p_value", "precision", "tp", "fp", "fn", "tn"};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string line;
  for (const std::string& p : parts) line += (line.empty() ? "" : ",") + p;
  return line;
}

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "exit " << o.exit_code << "\n--- stdout:\n" << o.out << "--- stderr:\n" << o.err;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = scratch_dir("work");
    captured_ = scratch_dir("captured");
  }

  // Runs hyperfuse in the work folder with `args`, stdin closed, stdout and stderr captured.
  Outcome hyperfuse(const std::vector<std::string>& args) const {
    std::string command = "cd " + shell_quoted(work_.string()) + " && " + shell_quoted(hyperfuse_binary().string());
    for (const std::string& a : args) command += " " + shell_quoted(a);
    command += " </dev/null >" + shell_quoted((captured_ / "stdout").string()) + " 2>" +
               shell_quoted((captured_ / "stderr").string());
    const int status = std::system(command.c_str());
    Outcome o;
    o.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = read_text(captured_ / "stdout");
    o.err = read_text(captured_ / "stderr");
    return o;
  }

  // Expects exit status 2 (bad usage, config or data) and an error message on stderr only.
  Outcome expect_input_error(const std::vector<std::string>& args) const {
    const Outcome o = hyperfuse(args);
    EXPECT_EQ(o.exit_code, 2) << o;
    EXPECT_EQ(o.err.rfind("hyperfuse: error: ", 0), 0u) << o;
    EXPECT_EQ(o.out, "") << o;
    return o;
  }

  // 200 training and 100 test rows of 30 features from `make-data`, in work/data.
  void make_tiny_data() const {
    const Outcome o = hyperfuse({"make-data", "--out-dir", (work_ / "data").string(), "--train-rows", "200",
                                 "--test-rows", "100", "--seed", "7"});
    ASSERT_EQ(o.exit_code, 0) << o;
  }

  // A config in the work folder; `data` and `output` are paths relative to it.
  fs::path write_config(const std::string& hyperparameters, int rerun_count = 1, const std::string& device = "cpu",
                        const std::string& train = "data/train.csv", const std::string& test = "data/test.csv",
                        const std::string& output = "out") const {
    const fs::path path = work_ / "search.toml";
    write_text(path, "[data]\ntrain = \"" + train + "\"\ntest = \"" + test +
                         "\"\n\n[search]\nrerun_count = " + std::to_string(rerun_count) +
                         "\nseed = 5\n\n[execution]\ndevice = \"" + device + "\"\ncpu_count = 2\n\n[output]\ndir = \"" +
                         output + "\"\n\n[hyperparameters]\n" + hyperparameters);
    return path;
  }

  fs::path work_;
  fs::path captured_;
};

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "expected '" << (needle) << "' in:\n" << (haystack)

TEST_F(Cli, HelpPrintsUsageAndExitsZero) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}, {}}) {
    SCOPED_TRACE(joined(args));
    const Outcome o = hyperfuse(args);
    EXPECT_EQ(o.exit_code, 0) << o;
    EXPECT_CONTAINS(o.out, "Usage:");
    EXPECT_CONTAINS(o.out, "hyperfuse run [CONFIG]");
    EXPECT_CONTAINS(o.out, "hyperfuse make-data");
    EXPECT_CONTAINS(o.out, "--reruns N");
    EXPECT_EQ(o.err, "") << o;
  }
}

// Regression: --help after a command used to be rejected as an unknown option (exit 2).
TEST_F(Cli, HelpAfterACommandPrintsUsage) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"run", "--help"}, {"run", "configs/x.toml", "-h"}, {"make-data", "-h"}, {"make-data", "--help"}}) {
    SCOPED_TRACE(joined(args));
    const Outcome o = hyperfuse(args);
    EXPECT_EQ(o.exit_code, 0) << o;
    EXPECT_CONTAINS(o.out, "Usage:");
  }
}

TEST_F(Cli, VersionPrintsVersionBackendsAndMpiAndExitsZero) {
  const Outcome o = hyperfuse({"--version"});
  EXPECT_EQ(o.exit_code, 0) << o;
  EXPECT_TRUE(std::regex_search(o.out, std::regex("^hyperfuse [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << o;
  EXPECT_TRUE(std::regex_search(o.out, std::regex("\nbackend cpu: CPU with [^\n]+\n"))) << o;
  // The CUDA line names how it was built: real architectures and cuBLAS, or the emulation.
  if (testing::gpu_backend_entry() != nullptr) {
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\nbackend cuda: CUDA (for [^\n]+, cuBLAS [0-9.]+|emulated)")))
        << o;
  }
  EXPECT_TRUE(std::regex_search(o.out, std::regex("\nMPI: [^\n]+\n$"))) << o;
  EXPECT_EQ(o.err, "") << o;
}

TEST_F(Cli, UnknownCommandSuggestsTheClosest) {
  Outcome o = expect_input_error({"rnu"});
  EXPECT_CONTAINS(o.err, "unknown command 'rnu'");
  EXPECT_CONTAINS(o.err, "did you mean 'run'?");
  EXPECT_CONTAINS(o.err, "hyperfuse --help");

  o = expect_input_error({"make-dat"});
  EXPECT_CONTAINS(o.err, "did you mean 'make-data'?");
  o = expect_input_error({"covnert"});
  EXPECT_CONTAINS(o.err, "did you mean 'convert'?");

  // Nothing close: no guess, but the list of commands.
  o = expect_input_error({"frobnicate"});
  EXPECT_EQ(o.err.find("did you mean"), std::string::npos) << o;
  EXPECT_CONTAINS(o.err, "the commands are run, predict, export, report, make-data, convert, devices, benchmark, help");
}

TEST_F(Cli, UnknownOptionSuggestsTheClosest) {
  Outcome o = expect_input_error({"run", "--sed", "3"});
  EXPECT_CONTAINS(o.err, "unknown option '--sed'");
  EXPECT_CONTAINS(o.err, "did you mean '--seed'?");

  o = expect_input_error({"run", "--quite"});
  EXPECT_CONTAINS(o.err, "did you mean '--quiet'?");

  o = expect_input_error({"run", "--output-directory", "x"});
  EXPECT_CONTAINS(o.err, "unknown option '--output-directory'");

  o = expect_input_error({"make-data", "--out-dri", "x"});
  EXPECT_CONTAINS(o.err, "did you mean '--out-dir'?");
  EXPECT_FALSE(fs::exists(work_ / "x"));
}

TEST_F(Cli, BadNumbersExitTwoNamingTheOption) {
  const std::vector<std::vector<std::string>> cases = {
      {"-j", "x"},
      {"-j", "-1"},
      {"-j", "4097"},
      {"--cpu-count", "1.5"},
      {"-j", ""},
      {"--seed", "abc"},
      {"--seed", "-1"},
      {"--seed", "1e3"},
      {"--seed", "99999999999999999999"},
      {"--reruns", "0"},
      {"--reruns", "1001"},
      {"--reruns", "two"},
      {"--reruns", " 2"},
  };
  for (const std::vector<std::string>& c : cases) {
    SCOPED_TRACE(joined(c));
    std::vector<std::string> args = {"run", "missing.toml"};
    args.insert(args.end(), c.begin(), c.end());
    const Outcome o = expect_input_error(args);
    EXPECT_CONTAINS(o.err, c[0] + " needs a whole number from");
    EXPECT_CONTAINS(o.err, "'" + c[1] + "'");
  }
  const Outcome o = expect_input_error({"make-data", "--train-rows", "0"});
  EXPECT_CONTAINS(o.err, "--train-rows needs a whole number from 1");
  EXPECT_FALSE(fs::exists(work_ / "example_data"));
}

TEST_F(Cli, OptionWithoutValueExitsTwo) {
  for (const std::string option : {"--seed", "--reruns", "-j", "--output-dir", "--device"}) {
    SCOPED_TRACE(option);
    const Outcome o = expect_input_error({"run", "missing.toml", option});
    EXPECT_CONTAINS(o.err, option + " needs a value");
  }
}

TEST_F(Cli, BadDeviceNameAndSecondConfigExitTwo) {
  Outcome o = expect_input_error({"run", "--device", "gpu"});
  EXPECT_CONTAINS(o.err, "--device must be auto, cpu or cuda, not 'gpu'");
  o = expect_input_error({"run", "a.toml", "b.toml"});
  EXPECT_CONTAINS(o.err, "'a.toml' and 'b.toml'");
}

TEST_F(Cli, MissingConfigNamesTheFile) {
  const fs::path missing = work_ / "no-such-config.toml";
  Outcome o = expect_input_error({"run", missing.string(), "--quiet"});
  EXPECT_CONTAINS(o.err, missing.string() + ": cannot open the config file");

  // Without a config argument the default is read from the working folder.
  o = expect_input_error({"run"});
  EXPECT_CONTAINS(o.err, "configs/default.toml: cannot open the config file");
}

TEST_F(Cli, DataErrorNamesFileAndLineAndLeavesResultsUntouched) {
  write_text(work_ / "data" / "train.csv", "0.5,1.5,0\n0.25,2.5,1\n\n0.75,oops,0\n");
  write_text(work_ / "data" / "test.csv", "0.5,1.5,0\n");
  const std::string sentinel = "earlier results, not to be overwritten\n";
  write_text(work_ / "out" / "hyperparameter_results.csv", sentinel);
  const fs::path config = write_config("max_epochs = [1]\n");

  const Outcome o = expect_input_error({"run", config.string(), "--quiet"});
  // The data path is resolved against the config's folder, and the message points at the cell.
  EXPECT_CONTAINS(o.err, (work_ / "data" / "train.csv").string() + ":4:2:");
  EXPECT_CONTAINS(o.err, "'oops' is not a number");
  EXPECT_EQ(read_text(work_ / "out" / "hyperparameter_results.csv"), sentinel);
  EXPECT_FALSE(fs::exists(work_ / "out" / "errors.csv"));
  EXPECT_EQ(std::distance(fs::directory_iterator(work_ / "out"), fs::directory_iterator{}), 1)
      << "only the sentinel is in out/";
}

TEST_F(Cli, TestFileErrorNamesFileLineAndColumn) {
  write_text(work_ / "data" / "train.csv", "0.5,1.5,0\n0.25,2.5,1\n");
  write_text(work_ / "data" / "test.csv", "0.5,1.5,0\r\nnan,2.5,1\r\n");
  const fs::path config = write_config("max_epochs = [1]\n");
  const Outcome o = expect_input_error({"run", config.string(), "--quiet"});
  EXPECT_CONTAINS(o.err, (work_ / "data" / "test.csv").string() + ":2:1:");
  EXPECT_CONTAINS(o.err, "not a finite number");
  EXPECT_FALSE(fs::exists(work_ / "out" / "hyperparameter_results.csv"));
}

TEST_F(Cli, MissingDataFileNamesItAndTheConfigKey) {
  write_text(work_ / "data" / "test.csv", "0.5,1.5,0\n");
  const fs::path config = write_config("max_epochs = [1]\n");
  const Outcome o = expect_input_error({"run", config.string(), "--quiet"});
  EXPECT_CONTAINS(o.err, (work_ / "data" / "train.csv").string() + ": cannot open the data file");
  EXPECT_CONTAINS(o.err, "[data]");
}

TEST_F(Cli, MismatchedTrainAndTestWidthsExitTwo) {
  write_text(work_ / "data" / "train.csv", "0.5,1.5,0\n0.25,2.5,1\n");
  write_text(work_ / "data" / "test.csv", "0.5,1.5,7,0\n");
  const std::string sentinel = "sentinel\n";
  write_text(work_ / "out" / "hyperparameter_results.csv", sentinel);
  const fs::path config = write_config("max_epochs = [1]\n");
  const Outcome o = expect_input_error({"run", config.string(), "--quiet"});
  EXPECT_CONTAINS(o.err, (work_ / "data" / "test.csv").string());
  EXPECT_CONTAINS(o.err, "has 4 columns");
  EXPECT_CONTAINS(o.err, (work_ / "data" / "train.csv").string() + " has 3");
  EXPECT_EQ(read_text(work_ / "out" / "hyperparameter_results.csv"), sentinel);
}

// Sets an environment variable for the processes this test starts, and restores it.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnvironment() {
    if (old_.empty())
      unsetenv(name_);
    else
      setenv(name_, old_.c_str(), 1);
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  const char* name_;
  std::string old_;
};

TEST_F(Cli, CudaDeviceWithoutCudaExitsTwo) {
  // The emulation (tests/cuda_emulation) takes its device away when told to; a real GPU cannot.
  const BackendEntry* gpu = testing::gpu_backend_entry();
  std::optional<ScopedEnvironment> no_device;
  if (gpu != nullptr && gpu->emulated) {
    no_device.emplace("HYPERFUSE_EMU_DEVICES", "0");
  } else if (testing::gpu_visible()) {
    GTEST_SKIP() << "a CUDA device is visible, so device = \"cuda\" is valid here";
  }
  const char* reason = gpu != nullptr ? "no CUDA device is visible" : "no CUDA backend";
  make_tiny_data();
  const fs::path config = write_config("max_epochs = [1]\n", 1, "cuda");
  Outcome o = expect_input_error({"run", config.string(), "--quiet"});
  EXPECT_CONTAINS(o.err, config.string());
  EXPECT_CONTAINS(o.err, reason);
  EXPECT_CONTAINS(o.err, "device = \"cpu\"");
  EXPECT_FALSE(fs::exists(work_ / "out" / "hyperparameter_results.csv"));

  // The same through the command line, over a config that says cpu.
  write_config("max_epochs = [1]\n", 1, "cpu");
  o = expect_input_error({"run", config.string(), "--device", "cuda", "--quiet"});
  EXPECT_CONTAINS(o.err, reason);
  EXPECT_FALSE(fs::exists(work_ / "out" / "hyperparameter_results.csv"));
}

// --device cuda trains on the emulated GPU (and only then: auto stays on the CPU), which counts
// the steps it took into the file HYPERFUSE_EMU_COUNTERS names.
TEST_F(Cli, CudaDeviceTrainsOnTheEmulatedGpu) {
  const BackendEntry* gpu = testing::gpu_backend_entry();
  if (gpu == nullptr || !gpu->emulated) GTEST_SKIP() << "runs in the emulated build (-DHYPERFUSE_CUDA=EMULATE)";
  make_tiny_data();
  const fs::path counters = work_ / "counters.json";
  const ScopedEnvironment count_into("HYPERFUSE_EMU_COUNTERS", counters.string().c_str());
  const fs::path config = write_config("max_epochs = [1]\nbatch_size = [50]\nlearning_rate = [0.01, 0.1]\n", 1, "auto");
  Outcome o = hyperfuse({"run", config.string(), "--quiet"});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(read_text(counters), "\"launches\": 0,");  // auto: the CPU

  // A fresh output folder, or the run would resume the finished study from its journal.
  o = hyperfuse({"run", config.string(), "--device", "cuda", "--output-dir", (work_ / "out_gpu").string(), "--quiet"});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_TRUE(fs::exists(work_ / "out_gpu" / "hyperparameter_results.csv"));
  const std::string figures = read_text(counters);
  EXPECT_EQ(figures.find("\"launches\": 0,"), std::string::npos) << figures;
  EXPECT_CONTAINS(figures, "\"training_steps\": 8,");  // 200 rows in batches of 50, two networks
}

// hyperfuse benchmark: the same short search on the CPU and on each GPU, one table; the GPU rows
// say what this build and machine have (no CUDA backend, no GPU visible, or emulated: no speed).
TEST_F(Cli, BenchmarkPrintsOneTableOfTheCpuAndEveryGpu) {
  Outcome o = hyperfuse({"benchmark", "--trainings", "4", "--train-rows", "400"});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(o.out, "4 trainings of the default grid on 400 generated rows");
  const std::vector<std::string> lines = lines_of(o.out);
  ASSERT_GE(lines.size(), 4u) << o;
  for (const char* column : {"device", "trainings/s", "samples/s", "GFLOP/s", "share of peak", "vs CPU"})
    EXPECT_CONTAINS(lines[1], column);
  // The CPU row: its figures, its share of the FMA peak measured now, and 1.00x of itself.
  EXPECT_TRUE(std::regex_search(lines[2], std::regex("^cpu \\([0-9]+ threads\\) +[0-9.]+ +[0-9.e+]+ +[0-9.]+ +"
                                                     "[0-9.]+% of [0-9]+ GFLOP/s +1\\.00x$")))
      << lines[2];
  const BackendEntry* gpu = testing::gpu_backend_entry();
  if (gpu == nullptr) {
    EXPECT_CONTAINS(lines[3], "no GPU: this build has no CUDA backend");
  } else if (gpu->emulated) {
    EXPECT_TRUE(std::regex_search(lines[3], std::regex("^cuda:0 .*\\(emulated\\) +emulated, no speed"))) << lines[3];
  } else if (!testing::gpu_visible()) {
    EXPECT_CONTAINS(lines[3], "no GPU visible");
  } else {
    EXPECT_TRUE(std::regex_search(lines[3], std::regex("^cuda:0 .* of [0-9]+ GFLOP/s +[0-9.]+x$"))) << lines[3];
  }

  // A config: a sample of its combinations (fewer when it has fewer).
  make_tiny_data();
  const fs::path config = write_config("max_epochs = [1]\nlearning_rate = [0.01, 0.1]\n");
  o = hyperfuse({"benchmark", config.string()});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(o.out, "2 trainings of " + config.string());
  EXPECT_FALSE(fs::exists(work_ / "out")) << "the benchmark writes into a scratch folder, not the config's output";

  o = expect_input_error({"benchmark", "--trainings", "0"});
  EXPECT_CONTAINS(o.err, "--trainings needs a whole number from 1");
  o = expect_input_error({"benchmark", (work_ / "missing.toml").string()});
  EXPECT_CONTAINS(o.err, "missing.toml");
}

TEST_F(Cli, UnwritableOutputFolderExitsTwoBeforeTraining) {
  make_tiny_data();
  write_text(work_ / "taken", "a file where the output folder should be\n");
  const fs::path config = write_config("max_epochs = [1]\n");
  const Outcome o = expect_input_error({"run", config.string(), "--output-dir", (work_ / "taken").string(), "--quiet"});
  EXPECT_CONTAINS(o.err, (work_ / "taken").string());
  EXPECT_CONTAINS(o.err, "--output-dir");
}

TEST_F(Cli, ConfigErrorNamesTheConfigLine) {
  const fs::path config = work_ / "typo.toml";
  write_text(config, "[data]\ntrain = \"a.csv\"\n\n[serch]\nseed = 1\n");
  const Outcome o = expect_input_error({"run", config.string()});
  EXPECT_CONTAINS(o.err, config.string() + ":4:");
  EXPECT_CONTAINS(o.err, "did you mean 'search'?");
}

TEST_F(Cli, MakeDataIntoAFileExitsTwo) {
  write_text(work_ / "taken", "x\n");
  const Outcome o = expect_input_error(
      {"make-data", "--out-dir", (work_ / "taken").string(), "--train-rows", "5", "--test-rows", "5"});
  EXPECT_CONTAINS(o.err, (work_ / "taken").string());
  EXPECT_EQ(read_text(work_ / "taken"), "x\n");
}

TEST_F(Cli, MakeDataWritesBothFiles) {
  const fs::path dir = work_ / "made";
  const Outcome o = hyperfuse({"make-data", "--out-dir", dir.string(), "--train-rows", "50", "--test-rows", "20"});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(o.out, "Wrote " + (dir / "train.csv").string() + " (50 rows");
  EXPECT_CONTAINS(o.out, (dir / "test.csv").string() + " (20 rows");
  const std::vector<std::string> train = lines_of(read_text(dir / "train.csv"));
  const std::vector<std::string> test = lines_of(read_text(dir / "test.csv"));
  EXPECT_EQ(train.size(), 50u);
  EXPECT_EQ(test.size(), 20u);
  ASSERT_FALSE(train.empty());
  EXPECT_EQ(csv_line_cells(train.front()).size(), 31u) << train.front();
  const LabelledTable table = load_labelled_csv(dir / "test.csv");
  EXPECT_EQ(table.rows, 20);
  EXPECT_EQ(table.features, 30);
  // Only the two data files: the atomic writes leave no temporary files behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 2);
}

TEST_F(Cli, MakeDataIsDeterministicInItsSeed) {
  ASSERT_EQ(
      hyperfuse({"make-data", "--out-dir", "a", "--train-rows", "40", "--test-rows", "10", "--seed", "5"}).exit_code,
      0);
  ASSERT_EQ(
      hyperfuse({"make-data", "--out-dir", "b", "--train-rows", "40", "--test-rows", "10", "--seed", "5"}).exit_code,
      0);
  ASSERT_EQ(
      hyperfuse({"make-data", "--out-dir", "c", "--train-rows", "40", "--test-rows", "10", "--seed", "6"}).exit_code,
      0);
  const std::string a = read_text(work_ / "a" / "train.csv");
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == read_text(work_ / "b" / "train.csv"));
  EXPECT_TRUE(a != read_text(work_ / "c" / "train.csv"));
}

TEST_F(Cli, TinyRunWritesResultsAndErrors) {
  make_tiny_data();
  // Every key, in an order unlike the canonical one, so the header must follow the config.
  const std::vector<std::string> config_order = {
      "optimizer",           "max_epochs",        "learning_rate",         "dropout",
      "hidden_layers",       "batch_size",        "weight_initialization", "loss_function",
      "activation_function", "l2_regularization", "l1_regularization"};
  const fs::path config = write_config(
      "optimizer = [\"Adam\"]\nmax_epochs = [1]\nlearning_rate = [0.001, 0.01]\ndropout = [0.0]\nhidden_layers = [[1, "
      "0.5]]\n"
      "batch_size = [64]\nweight_initialization = [\"xavier_uniform\"]\nloss_function = [\"BCE\"]\nactivation_function "
      "= [\"ReLU\"]\n"
      "l2_regularization = [0.0]\nl1_regularization = [0.0]\n");
  const Outcome o = hyperfuse({"run", config.string(), "--quiet"});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(o.out, "Best combination");
  EXPECT_CONTAINS(o.out, (work_ / "out" / "hyperparameter_results.csv").string());
  EXPECT_EQ(o.err, "") << "--quiet prints nothing on stderr";

  std::vector<std::string> header = config_order;
  header.insert(header.end(), kScoreColumns.begin(), kScoreColumns.end());
  header.insert(header.end(), {"p_value_rerun_1", "holm_p_value", "bh_p_value", "search_p_value"});
  const std::vector<std::string> results = lines_of(read_text(work_ / "out" / "hyperparameter_results.csv"));
  ASSERT_EQ(results.size(), 3u) << "header and two combinations";
  EXPECT_EQ(results[0], joined(header));

  std::set<std::string> learning_rates;
  for (std::size_t i = 1; i < results.size(); ++i) {
    const std::vector<std::string> cells = csv_line_cells(results[i]);
    ASSERT_EQ(cells.size(), header.size()) << results[i];
    learning_rates.insert(cells[2]);
    EXPECT_EQ(cells[0], "Adam");
    EXPECT_EQ(cells[4], "[1, 0.5]");
    const double p_value = std::stod(cells[11]);
    EXPECT_GE(p_value, 0.0);
    EXPECT_LE(p_value, 1.0);
    EXPECT_EQ(cells[11], cells[19]) << "with one rerun the median is that rerun's p-value";
    long long counted = 0;
    for (int k = 15; k <= 18; ++k) counted += std::stoll(cells[k]);
    EXPECT_EQ(counted, 100) << "tp + fp + fn + tn covers every test row: " << results[i];
  }
  EXPECT_EQ(learning_rates, (std::set<std::string>{"0.001", "0.01"}));

  const std::vector<std::string> errors = lines_of(read_text(work_ / "out" / "errors.csv"));
  ASSERT_FALSE(errors.empty());
  std::vector<std::string> errors_header = config_order;
  errors_header.insert(errors_header.end(), {"rerun", "seed", "error"});
  EXPECT_EQ(errors[0], joined(errors_header));
  EXPECT_EQ(errors.size(), 1u) << "no training failed";
  // Just the two result files and the study journal: no write probe, temporary file or
  // SQLite write-ahead log left behind.
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(work_ / "out")) files.insert(entry.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"hyperparameter_results.csv", "errors.csv", "study.sqlite"}));
}

TEST_F(Cli, LeftOutKeysFollowTheListedOnesInCanonicalOrder) {
  make_tiny_data();
  const fs::path config = write_config("optimizer = [\"Adam\", \"RMSprop\"]\nmax_epochs = [1]\n");
  const Outcome o = hyperfuse({"run", config.string(), "--quiet", "-j", "1"});
  ASSERT_EQ(o.exit_code, 0) << o;
  std::vector<std::string> header = {"optimizer", "max_epochs"};
  for (const std::string& key : kCanonicalKeys) {
    if (key != "optimizer" && key != "max_epochs") header.push_back(key);
  }
  header.insert(header.end(), kScoreColumns.begin(), kScoreColumns.end());
  header.insert(header.end(), {"p_value_rerun_1", "holm_p_value", "bh_p_value", "search_p_value"});
  const std::vector<std::string> results = lines_of(read_text(work_ / "out" / "hyperparameter_results.csv"));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], joined(header));
}

TEST_F(Cli, WithoutQuietThePlanIsReportedOnStderr) {
  make_tiny_data();
  const fs::path config = write_config("max_epochs = [1]\nlearning_rate = [0.001, 0.01]\n");
  const Outcome o = hyperfuse({"run", config.string()});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(o.err, "2 combinations x 1 reruns = 2 trainings on cpu");
  EXPECT_CONTAINS(o.err, "200 train / 100 test rows of 30 features");
  EXPECT_CONTAINS(o.out, "Best combination");
  // Once: ranking and reporting share the test rows.
  const std::string note = "note: no [data] validation, so the test rows both choose the best combination";
  EXPECT_CONTAINS(o.err, note);
  EXPECT_EQ(o.err.find(note), o.err.rfind(note)) << o;
  EXPECT_CONTAINS(o.err, "search p-values from 1000 label permutations in ");
  EXPECT_CONTAINS(o.out, ", search p-value ");
}

TEST_F(Cli, WithValidationTheSummaryGivesValidationSearchAndTestPValues) {
  make_tiny_data();
  const fs::path config = write_config("max_epochs = [1]\nlearning_rate = [0.001, 0.01]\n");
  std::string text = read_text(config);
  text.replace(text.find("[data]\n"), 7, "[data]\nvalidation = 0.25\nembargo_rows = 5\n");
  write_text(config, text);
  const Outcome o = hyperfuse({"run", config.string()});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(o.err, "145 train / 5 embargo / 50 validation / 100 test rows of 30 features");
  EXPECT_EQ(o.err.find("note: no [data] validation"), std::string::npos) << o;
  EXPECT_CONTAINS(o.out, "Best combination (median precision p-value on validation ");
  EXPECT_CONTAINS(o.out, ", search p-value ");
  EXPECT_CONTAINS(o.out, "; on test ");
  EXPECT_CONTAINS(o.out, "in its median rerun on validation");
  EXPECT_CONTAINS(o.out, "in its median rerun on test");
}

TEST_F(Cli, OverridesWinOverTheConfig) {
  make_tiny_data();
  const fs::path config = write_config("max_epochs = [1]\nlearning_rate = [0.001, 0.01]\n", 1, "cpu", "data/train.csv",
                                       "data/test.csv", "config_out");
  const fs::path other = work_ / "elsewhere";
  const Outcome o = hyperfuse(
      {"run", config.string(), "--output-dir", other.string(), "--reruns", "2", "--seed", "9", "-j", "1", "--quiet"});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_FALSE(fs::exists(work_ / "config_out")) << "--output-dir replaces [output] dir";
  EXPECT_CONTAINS(o.out, (other / "hyperparameter_results.csv").string());
  const std::vector<std::string> results = lines_of(read_text(other / "hyperparameter_results.csv"));
  ASSERT_EQ(results.size(), 3u);
  const std::vector<std::string> header = csv_line_cells(results[0]);
  ASSERT_GE(header.size(), 5u);
  EXPECT_EQ(header[header.size() - 5], "p_value_rerun_1");
  EXPECT_EQ(header[header.size() - 4], "p_value_rerun_2");
  EXPECT_EQ(header[header.size() - 3], "holm_p_value");
  EXPECT_EQ(std::count(header.begin(), header.end(), "p_value_rerun_3"), 0);
  for (std::size_t i = 1; i < results.size(); ++i)
    EXPECT_EQ(csv_line_cells(results[i]).size(), header.size()) << results[i];
  EXPECT_TRUE(fs::exists(other / "errors.csv"));
}

TEST_F(Cli, SeedChangesNothingStructurally) {
  make_tiny_data();
  const fs::path config = write_config("max_epochs = [1]\nlearning_rate = [0.001, 0.01]\nbatch_size = [32, 64]\n", 2);
  ASSERT_EQ(hyperfuse({"run", config.string(), "--seed", "1", "--output-dir", "one", "-q"}).exit_code, 0);
  ASSERT_EQ(hyperfuse({"run", config.string(), "--seed", "2", "--output-dir", "two", "-q"}).exit_code, 0);
  const std::vector<std::string> one = lines_of(read_text(work_ / "one" / "hyperparameter_results.csv"));
  const std::vector<std::string> two = lines_of(read_text(work_ / "two" / "hyperparameter_results.csv"));
  ASSERT_EQ(one.size(), 5u) << "header and four combinations";
  ASSERT_EQ(two.size(), one.size());
  EXPECT_EQ(one[0], two[0]);
  // The same combinations, each with the same number of cells; only scores may differ.
  const auto combinations = [](const std::vector<std::string>& lines) {
    std::set<std::string> keys;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const std::vector<std::string> cells = csv_line_cells(lines[i]);
      keys.insert(
          joined(std::vector<std::string>(cells.begin(), cells.begin() + static_cast<long>(kCanonicalKeys.size()))) +
          " | " + std::to_string(cells.size()));
    }
    return keys;
  };
  EXPECT_EQ(combinations(one), combinations(two));
  EXPECT_EQ(combinations(one).size(), 4u);
}

}  // namespace
}  // namespace hf
