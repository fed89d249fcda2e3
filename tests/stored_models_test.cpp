// The trained networks a search keeps: each epoch's mean training loss, the final parameters
// (which reproduce the training's own test-set counts when evaluated again), the journal
// keeping only the best combinations once the search completes, resume and the MPI messages
// keeping them too, and journals that cannot hold them refused with what to do.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "host/common/errors.hpp"
#include "host/data/labelled_table.hpp"
#include "host/distributed/protocol.hpp"
#include "host/journal/stored_models.hpp"
#include "host/journal/study_journal.hpp"
#include "host/journal/training_rows.hpp"
#include "host/predict/ensemble_forward.hpp"
#include "host/run/run_search.hpp"
#include "kernels/backend/forwarding_workspace.hpp"
#include "kernels/cpu/cpu_backend.hpp"
#include "tests/input_error_of.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::input_error_of;
using testing::read_csv;

// 6 combinations x 3 reruns of 2 epochs over 500 synthetic rows; results in dir/results.
SearchConfig models_search(const fs::path& dir, int keep_models) {
  testing::write_synthetic_data(dir, 500, 200);
  testing::write_text(dir / "search.toml", R"(
[data]
train = "train.csv"
test = "test.csv"
[search]
rerun_count = 3
seed = 9
[execution]
device = "cpu"
cpu_count = 2
[output]
dir = "results"
keep_models = )" + std::to_string(keep_models) +
                                               R"(
[hyperparameters]
learning_rate = [0.01, 0.002]
activation_function = ["ReLU", "PReLU", "Tanh"]
max_epochs = [2]
hidden_layers = [[1, 0.5]]
)");
  return load_search_config(dir / "search.toml");
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "expected '" << (needle) << "' in:\n" << (haystack)

std::int64_t count_rows(const fs::path& journal, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(journal.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  std::int64_t count = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW)
    count = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return count;
}

void execute(const fs::path& journal, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(journal.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// The test file scaled as the search scaled it, through the statistics the journal kept.
Dataset stored_test_rows(const SearchConfig& config, const StoredModels& models) {
  const ModelInputs& in = models.inputs();
  return StandardScaler::from_statistics(in.mean, in.scale, in.factor).transform(load_labelled_csv(config.test_path));
}

ConfusionCounts counts_of(const std::vector<float>& outputs, const std::vector<float>& labels, double threshold) {
  ConfusionCounts c;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const bool predicted = outputs[i] > static_cast<float>(threshold), actual = labels[i] > 0.5f;
    c.tp += predicted && actual;
    c.fp += predicted && !actual;
    c.fn += !predicted && actual;
    c.tn += !predicted && !actual;
  }
  return c;
}

// A CPU workspace that records every step's losses as the trainer's accumulate_loss sees them.
class LossRecordingBackend final : public Backend {
 public:
  const char* name() const override { return "cpu, recording losses"; }
  std::unique_ptr<PackWorkspace> create_workspace(const PackSpec& spec, int max_rows) override {
    return std::make_unique<Workspace>(cpu_.create_workspace(spec, max_rows), steps);
  }
  std::vector<std::vector<float>> steps;  // per step, every network's loss (active or not)

 private:
  class Workspace : public ForwardingWorkspace {
   public:
    Workspace(std::unique_ptr<PackWorkspace> inner, std::vector<std::vector<float>>& steps)
        : ForwardingWorkspace(std::move(inner)), steps_(steps) {}
    void accumulate_loss(const StepInfo& info) override {
      ForwardingWorkspace::accumulate_loss(info);
      steps_.push_back(read_losses());
    }

   private:
    std::vector<std::vector<float>>& steps_;
  };
  CpuBackend cpu_;
};

Dataset synthetic_dataset(const fs::path& dir, int rows) {
  testing::write_synthetic_data(dir, rows, 50);
  const LabelledTable table = load_labelled_csv(dir / "train.csv");
  return StandardScaler::fit(table).transform(table);
}

TEST(TrainingRecords, EachEpochsLossIsTheMeanOfItsStepLossesForTheEpochsANetworkTrains) {
  const Dataset data = synthetic_dataset(testing::scratch_dir("data"), 100);
  std::vector<PackMember> members(2);
  members[0].max_epochs = 3;
  members[1].max_epochs = 2;  // inactive in the third epoch
  members[1].l1 = 0.001;      // its loss includes the L1 term
  for (std::size_t m = 0; m < members.size(); ++m) members[m].seed = 70 + m;
  const PackSpec pack{ParameterLayout({30, 6, 1}), 32, members};  // 4 steps per epoch
  LossRecordingBackend backend;
  const std::vector<TrainingOutcome> outcomes = train_pack(backend, pack, data, data, PackOptions{});
  ASSERT_EQ(backend.steps.size(), 12u);
  for (std::size_t m = 0; m < members.size(); ++m) {
    ASSERT_EQ(outcomes[m].epoch_losses.size(), static_cast<std::size_t>(members[m].max_epochs)) << "network " << m;
    for (int epoch = 0; epoch < members[m].max_epochs; ++epoch) {
      double sum = 0.0;
      for (int step = 0; step < 4; ++step) sum += backend.steps[epoch * 4 + step][m];
      EXPECT_NEAR(outcomes[m].epoch_losses[epoch], sum / 4, 1e-6) << "network " << m << ", epoch " << epoch + 1;
    }
  }
  EXPECT_TRUE(outcomes[0].parameters.empty()) << "parameters only when the pack options keep them";
}

TEST(TrainingRecords, KeptParametersReproduceTheTrainingsOwnTestCounts) {
  const fs::path dir = testing::scratch_dir("data");
  testing::write_synthetic_data(dir, 300, 300);
  const LabelledTable train_table = load_labelled_csv(dir / "train.csv");
  const StandardScaler scaler = StandardScaler::fit(train_table);
  const Dataset train = scaler.transform(train_table), test = scaler.transform(load_labelled_csv(dir / "test.csv"));
  std::vector<PackMember> members(3);
  const Activation activations[] = {Activation::PReLU, Activation::RReLU, Activation::Softmin};
  for (std::size_t m = 0; m < members.size(); ++m) {
    members[m].activation = activations[m];
    members[m].dropout = 0.2;  // training only: evaluation sees every unit
    members[m].max_epochs = 2;
    members[m].learning_rate = 0.01;
    members[m].seed = 500 + m;
  }
  const PackSpec pack{ParameterLayout({30, 12, 5, 1}), 16, members};
  PackOptions options;
  options.keep_parameters = true;
  options.prediction_threshold = 0.4f;
  CpuBackend backend;
  const std::vector<TrainingOutcome> outcomes = train_pack(backend, pack, train, test, options);
  for (std::size_t m = 0; m < members.size(); ++m) {
    SCOPED_TRACE(kActivationNames[static_cast<int>(activations[m])]);
    ASSERT_FALSE(outcomes[m].failed);
    ASSERT_EQ(outcomes[m].parameters.size(), pack.layout.used);
    StoredEnsemble network;
    network.widths = pack.layout.widths;
    network.activation = activations[m];
    network.parameters = {outcomes[m].parameters};
    network.reruns = {1};
    const std::vector<std::vector<float>> outputs = rerun_probabilities(network, test);
    EXPECT_EQ(counts_of(outputs[0], test.y, 0.4), outcomes[m].counts) << "evaluated again, exactly as in training";
  }
}

TEST(KeptModels, ACompletedSearchKeepsTheBestCombinationsNetworksAndWhatPredictionsNeed) {
  const fs::path dir = testing::scratch_dir("search");
  const SearchConfig config = models_search(dir, 2);
  const SearchSummary summary = run_search(config, {}, nullptr, nullptr);
  ASSERT_FALSE(summary.stopped);
  EXPECT_EQ(summary.models_kept, 2);
  const fs::path journal = summary.journal_path;
  EXPECT_EQ(count_rows(journal, "SELECT count(*) FROM models"), 6) << "2 combinations x 3 reruns";
  EXPECT_EQ(count_rows(journal, "SELECT count(*) FROM kept_models"), 2);
  EXPECT_EQ(count_rows(journal, "SELECT count(*) FROM trainings"), 18) << "every training's row stays";

  const StoredModels models(config.output_dir);
  EXPECT_EQ(models.kept(), 2);
  EXPECT_EQ(models.inputs().features(), 30);
  EXPECT_EQ(models.inputs().prediction_threshold, 0.5);
  const LabelledTable train = load_labelled_csv(config.train_path);
  const StandardScaler scaler = StandardScaler::fit(train);
  EXPECT_EQ(models.inputs().mean, scaler.mean());
  EXPECT_EQ(models.inputs().scale, scaler.scale());

  // Ranks 1 and 2 are the results file's first two rows, and each rerun's stored network,
  // evaluated again on the test file, gives the counts the journal recorded for it.
  const auto csv = read_csv(summary.results_path);
  const std::vector<TrainingRow> trainings = read_training_rows(journal);
  const Dataset test = stored_test_rows(config, models);
  for (int rank = 1; rank <= 2; ++rank) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    const StoredEnsemble e = models.ensemble(rank);
    EXPECT_EQ(e.combination, summary.plan.combinations[summary.results.ranked[rank - 1].combination].number);
    ASSERT_EQ(e.hyperparameters.size(), 11u);
    EXPECT_EQ(e.hyperparameters[0], std::make_pair(std::string("learning_rate"), csv[rank][0]));
    EXPECT_EQ(e.hyperparameters[1], std::make_pair(std::string("activation_function"), csv[rank][1]));
    EXPECT_EQ(kActivationNames[static_cast<int>(e.activation)], csv[rank][1]);
    EXPECT_EQ(e.widths, (std::vector<int>{30, 30, 15, 1}));
    EXPECT_EQ(e.reruns, (std::vector<int>{1, 2, 3}));
    const std::vector<std::vector<float>> outputs = rerun_probabilities(e, test);
    for (std::size_t r = 0; r < e.reruns.size(); ++r) {
      EXPECT_EQ(e.epoch_losses[r].size(), 2u);
      for (double loss : e.epoch_losses[r]) EXPECT_TRUE(std::isfinite(loss) && loss > 0.0);
      for (const TrainingRow& row : trainings) {
        if (row.at("combination") != std::to_string(e.combination) || row.at("rerun") != std::to_string(e.reruns[r]))
          continue;
        const ConfusionCounts recorded{std::stoll(row.at("tp")), std::stoll(row.at("fp")), std::stoll(row.at("fn")),
                                       std::stoll(row.at("tn"))};
        EXPECT_EQ(counts_of(outputs[r], test.y, 0.5), recorded) << "rerun " << e.reruns[r];
      }
    }
  }
  const std::string message = input_error_of([&] { models.ensemble(3); });
  EXPECT_CONTAINS(message, "--rank 3: ");
  EXPECT_CONTAINS(message, "keeps the models of ranks 1 to 2");
}

// A plain double-precision forward pass of one stored network, apart from the backends.
double reference_output(const StoredEnsemble& e, std::size_t rerun, const float* row) {
  const ParameterLayout layout(e.widths);
  const std::vector<float>& p = e.parameters[rerun];
  std::vector<double> x(row, row + layout.in(0));
  for (int l = 0; l < layout.layers(); ++l) {
    std::vector<double> z(layout.out(l));
    for (int o = 0; o < layout.out(l); ++o) {
      z[o] = p[layout.bias_offset[l] + o];
      for (int i = 0; i < layout.in(l); ++i)
        z[o] += static_cast<double>(p[layout.weight_offset[l] + o * layout.in(l) + i]) * x[i];
      if (l + 1 == layout.layers()) continue;
      if (e.activation == Activation::ReLU) z[o] = std::max(z[o], 0.0);
      if (e.activation == Activation::PReLU && z[o] <= 0.0) z[o] *= p[layout.prelu_offset];
      if (e.activation == Activation::Tanh) z[o] = std::tanh(z[o]);
    }
    x = z;
  }
  return 1.0 / (1.0 + std::exp(-x[0]));
}

TEST(KeptModels, PredictionsEqualAFreshEvaluationOfTheStoredWeights) {
  const fs::path dir = testing::scratch_dir("search");
  const SearchConfig config = models_search(dir, 6);
  ASSERT_EQ(run_search(config, {}, nullptr, nullptr).models_kept, 6);
  const StoredModels models(config.output_dir);
  const Dataset test = stored_test_rows(config, models);
  std::set<Activation> seen;
  for (int rank = 1; rank <= models.kept(); ++rank) {
    const StoredEnsemble e = models.ensemble(rank);
    seen.insert(e.activation);
    const std::vector<std::vector<float>> outputs = rerun_probabilities(e, test);
    const std::vector<double> mean = ensemble_probabilities(outputs);
    for (int row = 0; row < test.rows; ++row) {
      double expected = 0.0;
      for (std::size_t r = 0; r < e.reruns.size(); ++r) {
        const double output = reference_output(e, r, test.row(row));
        EXPECT_NEAR(outputs[r][row], output, 1e-5) << "rank " << rank << ", rerun " << r + 1 << ", row " << row;
        expected += output / static_cast<double>(e.reruns.size());
      }
      ASSERT_NEAR(mean[row], expected, 1e-5) << "the ensemble is the mean of the reruns' outputs; row " << row;
    }
  }
  EXPECT_EQ(seen.size(), 3u) << "ReLU, PReLU (its learned slope) and Tanh networks are all checked";
}

TEST(KeptModels, AResumedSearchKeepsTheNetworksOfOneThatNeverStopped) {
  const fs::path whole = testing::scratch_dir("whole"), stopped = testing::scratch_dir("stopped");
  const SearchConfig whole_config = models_search(whole, 3);
  run_search(whole_config, {}, nullptr, nullptr);

  const SearchConfig config = models_search(stopped, 3);
  std::atomic<int> checks{0};
  SearchOptions stop;
  stop.should_stop = [&checks] { return checks.fetch_add(1) >= 2; };
  const SearchSummary partial = run_search(config, stop, nullptr, nullptr);
  ASSERT_TRUE(partial.stopped);
  EXPECT_EQ(partial.models_kept, 0) << "an unfinished search chooses no models";
  EXPECT_EQ(count_rows(partial.journal_path, "SELECT count(*) FROM models"),
            static_cast<std::int64_t>(partial.trainings_done))
      << "until it completes, every finished training's network is in the journal";
  const std::string unfinished = input_error_of([&] { StoredModels models(config.output_dir); });
  EXPECT_CONTAINS(unfinished, "has not completed");
  EXPECT_CONTAINS(unfinished, "run the same `hyperfuse run` command again");

  const SearchSummary resumed = run_search(config, {}, nullptr, nullptr);
  ASSERT_FALSE(resumed.stopped);
  EXPECT_GT(resumed.trainings_resumed, 0u);
  EXPECT_EQ(resumed.models_kept, 3);
  const StoredModels expected(whole_config.output_dir), got(config.output_dir);
  for (int rank = 1; rank <= 3; ++rank) {
    const StoredEnsemble a = expected.ensemble(rank), b = got.ensemble(rank);
    EXPECT_EQ(a.combination, b.combination) << "rank " << rank;
    EXPECT_EQ(a.parameters, b.parameters) << "rank " << rank << ": the same networks, bit for bit";
    EXPECT_EQ(a.epoch_losses, b.epoch_losses) << "rank " << rank;
  }
  // Asking for more on the completed study keeps what it has: the others' networks are gone.
  SearchConfig more = config;
  more.keep_models = 5;
  EXPECT_EQ(run_search(more, {}, nullptr, nullptr).models_kept, 3);
}

TEST(KeptModels, KeepModelsZeroStoresNoNetworks) {
  const fs::path dir = testing::scratch_dir("search");
  const SearchConfig config = models_search(dir, 0);
  const SearchSummary summary = run_search(config, {}, nullptr, nullptr);
  EXPECT_EQ(summary.models_kept, 0);
  EXPECT_EQ(count_rows(summary.journal_path, "SELECT count(*) FROM models"), 0);
  const StoredModels models(config.output_dir);
  EXPECT_EQ(models.kept(), 0);
  const std::string message = input_error_of([&] { models.ensemble(1); });
  EXPECT_CONTAINS(message, "kept no models ([output] keep_models = 0");
}

TEST(KeptModels, AJournalOfTheEarlierSchemaIsRefusedWithWhatToDo) {
  const fs::path dir = testing::scratch_dir("search");
  const SearchConfig config = models_search(dir, 2);
  const SearchSummary summary = run_search(config, {}, nullptr, nullptr);
  execute(summary.journal_path, "UPDATE journal_info SET value = '1' WHERE key = 'schema_version'");

  const std::string resume = input_error_of([&] { run_search(config, {}, nullptr, nullptr); });
  EXPECT_CONTAINS(resume, "study.sqlite: the study journal has schema version 1");
  EXPECT_CONTAINS(resume, "--fresh");
  const std::string read = input_error_of([&] { StoredModels models(config.output_dir); });
  EXPECT_CONTAINS(read, "schema version 1, written by an earlier hyperfuse");

  SearchOptions fresh;
  fresh.fresh = true;
  EXPECT_EQ(run_search(config, fresh, nullptr, nullptr).models_kept, 2);
  EXPECT_EQ(StoredModels(config.output_dir).kept(), 2);
}

TEST(KeptModels, MissingStudiesAreRefusedByName) {
  const fs::path dir = testing::scratch_dir("empty");
  EXPECT_CONTAINS(input_error_of([&] { StoredModels models(dir / "nowhere"); }), "nowhere: no such folder");
  EXPECT_CONTAINS(input_error_of([&] { StoredModels models(dir); }), "holds no study journal (study.sqlite)");
  testing::write_text(dir / "study.sqlite", "not a database at all, just some text that is long enough\n");
  EXPECT_CONTAINS(input_error_of([&] { StoredModels models(dir); }), "study.sqlite: is not a");
}

TEST(KeptModels, OutputKeepModelsIsReadWithItsDefaultAndRange) {
  const fs::path config = testing::scratch_dir("config") / "search.toml";
  EXPECT_EQ(parse_search_config("", config).keep_models, 5);
  EXPECT_EQ(parse_search_config("[output]\nkeep_models = 0\n", config).keep_models, 0);
  EXPECT_EQ(parse_search_config("[output]\nkeep_models = 40\n", config).keep_models, 40);
  std::string message = input_error_of([&] { parse_search_config("[output]\nkeep_models = -1\n", config); });
  EXPECT_CONTAINS(message, "search.toml:2:");
  EXPECT_CONTAINS(message, "[output] keep_models: -1 is out of range; use a value from 0 to 1000000");
  message = input_error_of([&] { parse_search_config("[output]\nkeep_models = \"all\"\n", config); });
  EXPECT_CONTAINS(message, "[output] keep_models: must be a whole number");
  message = input_error_of([&] { parse_search_config("[output]\nkeep_model = 3\n", config); });
  EXPECT_CONTAINS(message, "did you mean 'keep_models'?");
}

TEST(KeptModels, MpiResultsCarryEachNetworksParametersAndEpochLosses) {
  PackResults pack;
  pack.pack = 3;
  pack.members.resize(2);
  pack.members[0].done = true;
  pack.members[0].outcome.counts = {4, 3, 2, 1};
  pack.members[0].outcome.epoch_losses = {0.69, 0.61, 0.5837};
  pack.members[0].outcome.parameters = {0.25f, -1.5f, 3e-8f, 7.0f};
  pack.members[1].done = true;
  pack.members[1].outcome.failed = true;
  pack.members[1].outcome.epoch_losses = {0.7, std::numeric_limits<double>::quiet_NaN()};
  const PackResults got = decode_pack_results(encode_pack_results(pack));
  ASSERT_EQ(got.members.size(), 2u);
  EXPECT_EQ(got.members[0].outcome.parameters, pack.members[0].outcome.parameters);
  EXPECT_EQ(got.members[0].outcome.epoch_losses, pack.members[0].outcome.epoch_losses);
  EXPECT_TRUE(got.members[1].outcome.parameters.empty());
  ASSERT_EQ(got.members[1].outcome.epoch_losses.size(), 2u);
  EXPECT_TRUE(std::isnan(got.members[1].outcome.epoch_losses[1]));
  std::vector<char> truncated = encode_pack_results(pack);
  truncated.resize(truncated.size() - 5);
  EXPECT_THROW(decode_pack_results(truncated), std::runtime_error);
}

}  // namespace
}  // namespace hf
