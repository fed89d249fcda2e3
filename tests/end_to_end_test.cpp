// Whole searches: the result files a run writes, identical results whatever the thread count
// or pack grouping, failed trainings reported while the rest goes on, and a run on the real
// D.AT data when ../shared/example_data is present.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "host/config/search_config.hpp"
#include "host/data/labelled_table.hpp"
#include "host/data/synthetic_data.hpp"
#include "host/report/results_csv.hpp"
#include "host/run/run_search.hpp"
#include "host/training/weight_init.hpp"
#include "kernels/cpu/cpu_backend.hpp"
#include "kernels/backend/forwarding_workspace.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/single_network.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

using testing::read_csv;
using testing::read_text;
using testing::without_timing;

// A small search over synthetic data in `dir`: 8 combinations x 3 reruns of 2 epochs.
SearchConfig small_search(const std::filesystem::path& dir, int threads) {
  testing::write_synthetic_data(dir, 700, 300);
  testing::write_text(dir / "search.toml", R"(
[data]
train = "train.csv"
test = "test.csv"
[search]
rerun_count = 3
seed = 5
[execution]
device = "cpu"
[output]
dir = "results"
[hyperparameters]
activation_function = ["Tanh", "RReLU"]
learning_rate = [0.01, 0.002]
max_epochs = [2]
batch_size = [32]
hidden_layers = [[1, 0.5]]
loss_function = ["BCE"]
optimizer = ["Adam", "SGD"]
dropout = [0.1]
)");
  SearchConfig config = load_search_config(dir / "search.toml");
  config.cpu_count = threads;
  return config;
}

// Every column but execution_time, which measures the machine, not the result.
TEST(EndToEnd, SearchWritesRankedResultsAndErrorFiles) {
  const std::filesystem::path dir = testing::scratch_dir("search");
  const SearchConfig config = small_search(dir, 2);
  const SearchSummary summary = run_search(config, {}, nullptr, nullptr);
  EXPECT_EQ(summary.plan.trainings.size(), 24u);

  const auto rows = read_csv(dir / "results" / "hyperparameter_results.csv");
  ASSERT_EQ(rows.size(), 9u);  // header + 8 combinations
  const std::vector<std::string> header = rows[0];
  const std::vector<std::string> expected_header = {"activation_function",
                                                    "learning_rate",
                                                    "max_epochs",
                                                    "batch_size",
                                                    "hidden_layers",
                                                    "loss_function",
                                                    "optimizer",
                                                    "dropout",
                                                    "l1_regularization",
                                                    "l2_regularization",
                                                    "weight_initialization",
                                                    "p_value",
                                                    "execution_time",
                                                    "log10_p_value",
                                                    "precision",
                                                    "tp",
                                                    "fp",
                                                    "fn",
                                                    "tn",
                                                    "p_value_rerun_1",
                                                    "p_value_rerun_2",
                                                    "p_value_rerun_3",
                                                    "holm_p_value",
                                                    "bh_p_value",
                                                    "search_p_value"};
  EXPECT_EQ(header, expected_header);
  double previous = -1e300;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    ASSERT_EQ(row.size(), header.size());
    EXPECT_TRUE(row[0] == "Tanh" || row[0] == "RReLU");
    EXPECT_EQ(row[4], "[1, 0.5]");
    EXPECT_EQ(row[8], "0.0");  // a key left out: its default, as Python prints it
    const double log10_p = std::stod(row[13]);
    EXPECT_GE(log10_p, previous) << "ranked by ascending median p-value";
    previous = log10_p;
    const long long total = std::stoll(row[15]) + std::stoll(row[16]) + std::stoll(row[17]) + std::stoll(row[18]);
    EXPECT_EQ(total, 300) << "confusion counts cover the test set";
    std::vector<double> reruns = {std::stod(row[19]), std::stod(row[20]), std::stod(row[21])};
    std::sort(reruns.begin(), reruns.end());
    EXPECT_EQ(std::stod(row[11]), reruns[1]) << "median of three reruns";
    EXPECT_GT(std::stod(row[12]), 0.0) << "execution time";
  }
  EXPECT_EQ(read_text(dir / "results" / "errors.csv"),
            "activation_function,learning_rate,max_epochs,batch_size,hidden_layers,loss_function,optimizer,dropout,"
            "l1_regularization,l2_regularization,weight_initialization,rerun,seed,error\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "results" / ".hyperfuse-write-test"));
}

TEST(EndToEnd, IdenticalResultsWithOneAndTwoThreads) {
  const std::filesystem::path one = testing::scratch_dir("one"), two = testing::scratch_dir("two");
  run_search(small_search(one, 1), {}, nullptr, nullptr);
  run_search(small_search(two, 2), {}, nullptr, nullptr);
  const auto a = without_timing(read_csv(one / "results" / "hyperparameter_results.csv"));
  const auto b = without_timing(read_csv(two / "results" / "hyperparameter_results.csv"));
  ASSERT_EQ(a.size(), 9u);
  EXPECT_EQ(a, b);
}

TEST(EndToEnd, ShuffledBatchesAreReproducibleAndChangeResults) {
  const std::filesystem::path first = testing::scratch_dir("first"), second = testing::scratch_dir("second"),
                              plain = testing::scratch_dir("plain");
  SearchConfig a = small_search(first, 2), b = small_search(second, 1), c = small_search(plain, 2);
  a.search.shuffle = b.search.shuffle = true;
  run_search(a, {}, nullptr, nullptr);
  run_search(b, {}, nullptr, nullptr);
  run_search(c, {}, nullptr, nullptr);
  const auto shuffled = without_timing(read_csv(first / "results" / "hyperparameter_results.csv"));
  EXPECT_EQ(shuffled, without_timing(read_csv(second / "results" / "hyperparameter_results.csv")));
  EXPECT_NE(shuffled, without_timing(read_csv(plain / "results" / "hyperparameter_results.csv")));
}

// A network's numbers do not depend on the pack it trains in.
TEST(PackTraining, PackOfThreeEqualsThreePacksOfOne) {
  SyntheticDataOptions options;
  options.train_rows = 100;
  const LabelledTable table = [&] {
    const std::filesystem::path dir = testing::scratch_dir("data");
    testing::write_text(dir / "train.csv", make_synthetic_data(options).train_csv);
    return load_labelled_csv(dir / "train.csv");
  }();
  const Dataset data = StandardScaler::fit(table).transform(table);
  std::vector<PackMember> members(3);
  members[0].activation = Activation::RReLU;
  members[0].dropout = 0.2;
  members[1].activation = Activation::Softmax;
  members[1].optimizer = Optimizer::RMSprop;
  members[1].loss = Loss::MSE;
  members[2].activation = Activation::PReLU;
  members[2].optimizer = Optimizer::Adadelta;
  members[2].l1 = 0.001;
  for (int m = 0; m < 3; ++m) {
    members[m].seed = 40 + static_cast<std::uint64_t>(m);
    members[m].max_epochs = 1 + m;  // networks stop after their own last epoch
  }
  const PackSpec pack{ParameterLayout({30, 17, 9, 1}), 16, members};
  CpuBackend backend;
  PackOptions pack_options;
  const std::vector<TrainingOutcome> together = train_pack(backend, pack, data, data, pack_options);
  for (int m = 0; m < 3; ++m) {
    const PackSpec alone{pack.layout, 16, {members[m]}};
    const std::vector<TrainingOutcome> single = train_pack(backend, alone, data, data, pack_options);
    EXPECT_EQ(single[0].counts, together[m].counts) << "network " << m;
    EXPECT_FALSE(together[m].failed);
  }
}

TEST(PackTraining, NetworksWithoutHiddenLayersTrainForEveryActivation) {
  SyntheticDataOptions options;
  options.train_rows = 50;
  const std::filesystem::path dir = testing::scratch_dir("data");
  testing::write_text(dir / "train.csv", make_synthetic_data(options).train_csv);
  const LabelledTable table = load_labelled_csv(dir / "train.csv");
  const Dataset data = StandardScaler::fit(table).transform(table);
  std::vector<PackMember> members(3);
  members[0].activation = Activation::PReLU;  // no hidden layer: no slope to learn
  members[1].activation = Activation::Softmax;
  members[2].activation = Activation::RReLU;
  for (PackMember& m : members) m.dropout = 0.5;  // nothing to drop either
  const PackSpec pack{ParameterLayout(layer_widths(30, {})), 8, members};
  CpuBackend backend;
  for (const TrainingOutcome& outcome : train_pack(backend, pack, data, data, PackOptions{})) {
    EXPECT_FALSE(outcome.failed) << outcome.error;
    EXPECT_EQ(outcome.counts.total(), 50);
  }
}

// Wraps the CPU backend and sets a network's first weight to NaN after a given step.
class FaultInjectingBackend : public Backend {
 public:
  struct Fault {
    int network;
    std::uint64_t after_step;
  };
  FaultInjectingBackend(std::vector<Fault> faults, std::size_t floats) : faults_(std::move(faults)), floats_(floats) {}
  const char* name() const override { return "cpu with faults"; }
  std::unique_ptr<PackWorkspace> create_workspace(const PackSpec& spec, int max_rows) override {
    return std::make_unique<Workspace>(cpu_.create_workspace(spec, max_rows), *this);
  }

 private:
  class Workspace : public ForwardingWorkspace {
   public:
    Workspace(std::unique_ptr<PackWorkspace> inner, const FaultInjectingBackend& faults)
        : ForwardingWorkspace(std::move(inner)), faults_(faults) {}
    void optimizer_step(const StepInfo& info, const std::vector<OptimizerStep>& scalars) override {
      ForwardingWorkspace::optimizer_step(info, scalars);
      for (const Fault& f : faults_.faults_) {
        if (f.after_step != info.step) continue;
        std::vector<float> p(faults_.floats_);
        read_parameters(p.data());
        p[static_cast<std::size_t>(f.network) * (faults_.floats_ / 3)] = std::numeric_limits<float>::quiet_NaN();
        write_parameters(p.data());
      }
    }

   private:
    const FaultInjectingBackend& faults_;
  };

  CpuBackend cpu_;
  std::vector<Fault> faults_;
  std::size_t floats_;
};

TEST(PackTraining, DivergedNetworksAreReportedWithEpochAndStepWhileTheOtherFinishes) {
  SyntheticDataOptions options;
  options.train_rows = 64;
  const std::filesystem::path dir = testing::scratch_dir("data");
  testing::write_text(dir / "train.csv", make_synthetic_data(options).train_csv);
  const LabelledTable table = load_labelled_csv(dir / "train.csv");
  const Dataset data = StandardScaler::fit(table).transform(table);
  std::vector<PackMember> members(3);
  for (PackMember& m : members) m.max_epochs = 3;
  members[1].activation = Activation::ReLU;                       // NaN passes through ReLU as in PyTorch
  const PackSpec pack{ParameterLayout({30, 8, 1}), 16, members};  // 4 steps per epoch
  // Network 1 breaks after the 6th step, so its 7th step's loss is NaN; network 2 after the
  // last step of epoch 1, where only the check of the weights at the end of the epoch sees it.
  FaultInjectingBackend backend({{1, 5}, {2, 3}}, 3 * pack.layout.size);
  const std::vector<TrainingOutcome> outcomes = train_pack(backend, pack, data, data, PackOptions{});
  EXPECT_FALSE(outcomes[0].failed);
  EXPECT_EQ(outcomes[0].counts.total(), 64);
  ASSERT_TRUE(outcomes[1].failed);
  EXPECT_NE(outcomes[1].error.find("loss became NaN or infinite at epoch 2, step 3 of 4"), std::string::npos)
      << outcomes[1].error;
  ASSERT_TRUE(outcomes[2].failed);
  EXPECT_NE(outcomes[2].error.find("weights became NaN or infinite during epoch 1"), std::string::npos)
      << outcomes[2].error;
}

TEST(Results, FailedCombinationsGoToErrorsCsvNotTheRanking) {
  const std::filesystem::path dir = testing::scratch_dir("search");
  const SearchConfig config = small_search(dir, 1);
  const SearchPlan plan = plan_search(config.search, 30, 700, 300, 1);
  std::vector<TrainingResult> results(plan.trainings.size());
  for (std::size_t t = 0; t < results.size(); ++t) {
    results[t].done = true;
    results[t].outcome.counts = {10, 5, 20, 65};
    results[t].score = precision_p_value(results[t].outcome.counts);
  }
  results[4].outcome.failed = true;
  results[4].outcome.error =
      "training diverged: the loss became NaN or infinite at epoch 1, step 3 of 22; try a lower learning rate";
  const SearchResults ranked = rank_combinations(plan, results);
  EXPECT_EQ(ranked.ranked.size(), plan.combinations.size() - 1);
  ASSERT_EQ(ranked.failures.size(), 1u);
  const std::string errors = errors_csv(config, plan, ranked);
  EXPECT_NE(errors.find(",2," + std::to_string(plan.trainings[4].seed) + ",\"training diverged: the loss became NaN"),
            std::string::npos)
      << errors;
  EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 2);
}

TEST(Results, CsvCellsAreQuotedWhenNeeded) {
  EXPECT_EQ(csv_cell("plain"), "plain");
  EXPECT_EQ(csv_cell("[2, 3]"), "\"[2, 3]\"");
  EXPECT_EQ(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
}

// The real D.AT stock data (../shared/example_data/dat/test.csv), split 80/20 in row order as
// its README suggests. Skipped where the shared folder is absent, as in a user's clone.
TEST(EndToEnd, RealStockDataWhenAvailable) {
  const std::filesystem::path source =
      testing::source_dir().parent_path() / "shared" / "example_data" / "dat" / "test.csv";
  if (!std::filesystem::exists(source)) GTEST_SKIP() << source << " is absent";
  const std::filesystem::path dir = testing::scratch_dir("dat");
  std::istringstream lines(read_text(source));
  std::string line, train, test;
  for (int row = 0; std::getline(lines, line); ++row) (row < 10009 ? train : test) += line + "\n";
  testing::write_text(dir / "train.csv", train);
  testing::write_text(dir / "test.csv", test);
  testing::write_text(dir / "search.toml", R"(
[data]
train = "train.csv"
test = "test.csv"
[search]
rerun_count = 1
[output]
dir = "results"
[hyperparameters]
max_epochs = [1]
hidden_layers = [[1, 0.5]]
)");
  const SearchSummary summary = run_search(load_search_config(dir / "search.toml"), {}, nullptr, nullptr);
  EXPECT_EQ(summary.train_rows, 10009);
  EXPECT_EQ(summary.test_rows, 2503);
  ASSERT_EQ(summary.results.ranked.size(), 1u);
  EXPECT_EQ(summary.results.ranked[0].representative_counts.total(), 2503);
}

}  // namespace
}  // namespace hf
