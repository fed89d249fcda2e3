// A search across MPI ranks: the messages round-trip, 2 and 3 ranks write the single-process
// CSV, and a worker rank killed mid-search loses only its packs in flight. The runs need a
// build with MPI and mpirun on PATH; without them they report as skipped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "host/data/row_bitset.hpp"
#include "host/distributed/protocol.hpp"
#include "tests/kept_networks.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::expect_the_same_kept_networks;
using testing::journal_rows;
using testing::read_csv;
using testing::read_text;
using testing::wait_for;
using testing::without_timing;

TEST(MpiProtocol, HelloAndPackResultsRoundTrip) {
  WorkerHello hello;
  hello.error = "data/train.csv:3:1: not a number";
  hello.error_exit_status = 2;
  hello.study_hash = "0123456789abcdef";
  hello.packs = 768;
  hello.threads = 16;
  hello.host = "node07";
  hello.backend = "cpu";
  const WorkerHello back = decode_hello(encode_hello(hello));
  EXPECT_EQ(back.error, hello.error);
  EXPECT_EQ(back.error_exit_status, 2);
  EXPECT_EQ(back.study_hash, hello.study_hash);
  EXPECT_EQ(back.packs, 768u);
  EXPECT_EQ(back.threads, 16);
  EXPECT_EQ(back.host, "node07");
  EXPECT_EQ(back.backend, "cpu");

  PackResults pack;
  pack.pack = 41;
  pack.members.resize(2);
  pack.members[0].done = true;
  pack.members[0].outcome.counts = {30, 12, 50, 408};
  pack.members[0].outcome.seconds = 0.25;
  pack.members[0].outcome.test_counts = {7, 3, 40, 200};
  pack.members[0].outcome.predicted_positives = RowBitset(500);
  for (int r : {0, 9, 64, 499}) pack.members[0].outcome.predicted_positives.set(r);
  pack.members[0].device = "cpu, rank 2 on node07";
  pack.members[1].done = true;
  pack.members[1].outcome.failed = true;
  pack.members[1].outcome.error = "training diverged at epoch 3";
  const PackResults got = decode_pack_results(encode_pack_results(pack));
  ASSERT_EQ(got.members.size(), 2u);
  EXPECT_EQ(got.pack, 41u);
  EXPECT_TRUE(got.members[0].done);
  EXPECT_EQ(got.members[0].outcome.counts, pack.members[0].outcome.counts);
  EXPECT_EQ(got.members[0].outcome.test_counts, pack.members[0].outcome.test_counts);
  EXPECT_EQ(got.members[0].outcome.predicted_positives, pack.members[0].outcome.predicted_positives);
  EXPECT_TRUE(got.members[1].outcome.predicted_positives.empty()) << "a failed training has no predictions";
  EXPECT_EQ(got.members[0].outcome.seconds, 0.25);
  EXPECT_EQ(got.members[0].device, "cpu, rank 2 on node07");
  EXPECT_EQ(got.members[0].score.log10_p_value, precision_p_value({30, 12, 50, 408}).log10_p_value)
      << "scores are recomputed from the counts";
  EXPECT_TRUE(got.members[1].outcome.failed);
  EXPECT_EQ(got.members[1].outcome.error, "training diverged at epoch 3");

  EXPECT_EQ(decode_pack_indices(encode_pack_indices({3, 1, 4})), (std::vector<std::size_t>{3, 1, 4}));
  std::vector<char> truncated = encode_pack_results(pack);
  truncated.resize(truncated.size() - 3);
  EXPECT_THROW(decode_pack_results(truncated), std::runtime_error);
}

// 32 combinations x 3 reruns over the committed example data: a few seconds on 2 cores.
fs::path write_config(const fs::path& dir) {
  return testing::write_example_data_config(dir, R"([search]
rerun_count = 3
seed = 21
[hyperparameters]
learning_rate = [0.001, 0.004]
optimizer = ["Adam", "RMSprop"]
activation_function = ["ReLU", "Tanh"]
dropout = [0.0, 0.2]
batch_size = [32, 64]
max_epochs = [6]
hidden_layers = [[2, 1]]
)");
}

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

// argv for mpirun with `ranks` ranks running `hyperfuse run CONFIG -q`.
std::vector<std::string> mpirun_command(int ranks, const fs::path& config, bool survive_dead_ranks) {
  std::vector<std::string> args = {"mpirun", "--oversubscribe", "-np", std::to_string(ranks)};
  if (::getuid() == 0) args.insert(args.begin() + 1, "--allow-run-as-root");
  if (survive_dead_ranks) {
    args.insert(args.begin() + 1, {"--enable-recovery", "-x", "HYPERFUSE_MPI_WORKER_TIMEOUT=2"});
  }
  for (const std::string& a :
       {testing::hyperfuse_binary().string(), std::string("run"), config.string(), std::string("-q")}) {
    args.push_back(a);
  }
  return args;
}

// The pid of the process mpirun started as `rank`, or 0.
pid_t rank_process(pid_t mpirun, int rank) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string pid, command, state;
    pid_t parent = 0;
    if (!(stat >> pid >> command >> state >> parent) || parent != mpirun) continue;
    const std::string environment = read_text(entry.path() / "environ");
    const std::string wanted = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    if (environment.find(std::string(1, '\0') + wanted + '\0') != std::string::npos ||
        environment.rfind(wanted + '\0', 0) == 0) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return 0;
}

class MpiSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HYPERFUSE_HAVE_MPI) GTEST_SKIP() << "built without MPI (apt-get install libopenmpi-dev openmpi-bin)";
    if (!have_mpirun()) GTEST_SKIP() << "mpirun is not on PATH (apt-get install openmpi-bin)";
    single_ = testing::scratch_dir("single");
    const pid_t pid = testing::start_process(
        {testing::hyperfuse_binary().string(), "run", write_config(single_).string(), "-q"}, single_ / "log");
    ASSERT_EQ(wait_for(pid), 0) << read_text(single_ / "log");
    expected_ = without_timing(read_csv(single_ / "out" / "hyperparameter_results.csv"));
    ASSERT_EQ(expected_.size(), 33u);
  }

  fs::path single_;
  std::vector<std::vector<std::string>> expected_;
};

TEST_F(MpiSearch, TwoAndThreeRanksWriteTheSingleProcessResults) {
  for (int ranks : {2, 3}) {
    const fs::path dir = testing::scratch_dir("ranks" + std::to_string(ranks));
    const pid_t pid = testing::start_process(mpirun_command(ranks, write_config(dir), false), dir / "log");
    ASSERT_EQ(wait_for(pid), 0) << read_text(dir / "log");
    EXPECT_EQ(without_timing(read_csv(dir / "out" / "hyperparameter_results.csv")), expected_) << ranks << " ranks";
    EXPECT_EQ(read_text(dir / "out" / "errors.csv"), read_text(single_ / "out" / "errors.csv"));
    const testing::JournalRows journal = journal_rows(dir / "out" / "study.sqlite");
    EXPECT_EQ(journal.distinct_trainings, 96);
    EXPECT_EQ(journal.rows, 96);
    expect_the_same_kept_networks(dir / "out", single_ / "out");
  }
}

// The search of write_config ranked on a validation tail after an embargo: every rank splits the
// training file alike, and the workers send back test counts and predictions, so the CSV (with
// its validation, test and search p-value columns) is the single process's.
fs::path write_validation_config(const fs::path& dir) {
  const fs::path config = write_config(dir);
  std::string text = read_text(config);
  text.replace(text.find("[data]\n"), 7, "[data]\nvalidation = 0.2\nembargo_rows = 10\n");
  testing::write_text(config, text);
  return config;
}

TEST(MpiValidationSearch, TwoAndThreeRanksWriteTheSingleProcessResults) {
  if (!HYPERFUSE_HAVE_MPI) GTEST_SKIP() << "built without MPI (apt-get install libopenmpi-dev openmpi-bin)";
  if (!have_mpirun()) GTEST_SKIP() << "mpirun is not on PATH (apt-get install openmpi-bin)";
  const fs::path single = testing::scratch_dir("validated_single");
  const pid_t pid = testing::start_process(
      {testing::hyperfuse_binary().string(), "run", write_validation_config(single).string(), "-q"}, single / "log");
  ASSERT_EQ(wait_for(pid), 0) << read_text(single / "log");
  const auto expected = without_timing(read_csv(single / "out" / "hyperparameter_results.csv"));
  ASSERT_EQ(expected.size(), 33u);
  EXPECT_EQ(expected[0].back(), "test_tn");
  for (int ranks : {2, 3}) {
    const fs::path dir = testing::scratch_dir("validated" + std::to_string(ranks));
    const pid_t run = testing::start_process(mpirun_command(ranks, write_validation_config(dir), false), dir / "log");
    ASSERT_EQ(wait_for(run), 0) << read_text(dir / "log");
    EXPECT_EQ(without_timing(read_csv(dir / "out" / "hyperparameter_results.csv")), expected) << ranks << " ranks";
  }
}

// Successive halving: the first rung's packs go out by index, the later rungs' whole, with the
// members' training states; the CSV and the journal are the single process's.
fs::path write_halving_config(const fs::path& dir) {
  const fs::path config = write_config(dir);
  std::string text = read_text(config);
  text.replace(text.find("[search]\n"), 9, "[search]\nstrategy = \"halving\"\nmin_epochs = 1\n");
  text.replace(text.find("[data]\n"), 7, "[data]\nvalidation = 0.2\n");
  testing::write_text(config, text);
  return config;
}

TEST(MpiHalvingSearch, TwoRanksWriteTheSingleProcessResults) {
  if (!HYPERFUSE_HAVE_MPI) GTEST_SKIP() << "built without MPI (apt-get install libopenmpi-dev openmpi-bin)";
  if (!have_mpirun()) GTEST_SKIP() << "mpirun is not on PATH (apt-get install openmpi-bin)";
  const fs::path single = testing::scratch_dir("halving_single");
  const pid_t pid = testing::start_process(
      {testing::hyperfuse_binary().string(), "run", write_halving_config(single).string(), "-q"}, single / "log");
  ASSERT_EQ(wait_for(pid), 0) << read_text(single / "log");
  const auto expected = without_timing(read_csv(single / "out" / "hyperparameter_results.csv"));
  ASSERT_EQ(expected.size(), 33u);
  ASSERT_EQ(expected[0].back(), "epochs_trained");
  ASSERT_EQ(expected[1].back(), "6") << "the best candidates reached the last rung";
  const fs::path dir = testing::scratch_dir("halving_ranks2");
  const pid_t run = testing::start_process(mpirun_command(2, write_halving_config(dir), false), dir / "log");
  ASSERT_EQ(wait_for(run), 0) << read_text(dir / "log");
  EXPECT_EQ(without_timing(read_csv(dir / "out" / "hyperparameter_results.csv")), expected);
  const testing::JournalRows journal = journal_rows(dir / "out" / "study.sqlite");
  EXPECT_EQ(journal.rows, (32 + 11 + 4) * 3) << "rungs of 32, 11 and 4 candidates";
  EXPECT_EQ(journal.rows, journal_rows(single / "out" / "study.sqlite").rows);
  expect_the_same_kept_networks(dir / "out", single / "out");
}

TEST(MpiProtocol, PackOrdersAndTrainingStatesRoundTrip) {
  PackOrder order{7, 12, PlannedPack{PackSpec{ParameterLayout({4, 3, 1}), 16, {}}, {}, {}, 1.5e6, 3}, {}};
  PackMember member;
  member.activation = Activation::RReLU;
  member.learning_rate = 0.0123;
  member.dropout = 0.25;
  member.max_epochs = 9;
  member.seed = 0xFEEDFACEull;
  order.planned.spec.members = {member, member};
  order.planned.spec.members[1].optimizer = Optimizer::Adadelta;
  order.planned.options.shuffle = true;
  order.planned.options.order_seed = 99;
  order.planned.options.keep_state = true;
  for (int m = 0; m < 2; ++m) {
    TrainingState state;
    state.epochs = 3;
    state.steps = 30;
    state.parameters.assign(order.planned.spec.layout.size, 0.5f + static_cast<float>(m));
    state.first_state.assign(order.planned.spec.layout.size, -1.0f);
    state.second_state.assign(order.planned.spec.layout.size, 2.0f);
    state.epoch_losses = {0.7, 0.6, 0.55};
    order.start.push_back(state);
  }
  const std::vector<PackOrder> back = decode_pack_orders(encode_pack_orders({order}));
  ASSERT_EQ(back.size(), 1u);
  const PackOrder& got = back[0];
  EXPECT_EQ(got.pack, 7u);
  EXPECT_EQ(got.pack_count, 12u);
  EXPECT_EQ(got.planned.spec.layout.widths, (std::vector<int>{4, 3, 1}));
  EXPECT_EQ(got.planned.spec.batch_size, 16);
  ASSERT_EQ(got.planned.spec.members.size(), 2u);
  EXPECT_EQ(got.planned.spec.members[0].activation, Activation::RReLU);
  EXPECT_EQ(got.planned.spec.members[1].optimizer, Optimizer::Adadelta);
  EXPECT_EQ(got.planned.spec.members[0].learning_rate, 0.0123);
  EXPECT_EQ(got.planned.spec.members[0].max_epochs, 9);
  EXPECT_EQ(got.planned.spec.members[1].seed, 0xFEEDFACEull);
  EXPECT_TRUE(got.planned.options.shuffle);
  EXPECT_EQ(got.planned.options.order_seed, 99u);
  EXPECT_TRUE(got.planned.options.keep_state);
  EXPECT_EQ(got.planned.first_epoch, 3);
  ASSERT_EQ(got.start.size(), 2u);
  EXPECT_EQ(got.start[1].parameters, order.start[1].parameters);
  EXPECT_EQ(got.start[0].epoch_losses, order.start[0].epoch_losses);

  // A trained member's state goes back with its result.
  PackResults pack;
  pack.pack = 7;
  pack.members.resize(1);
  pack.members[0].done = true;
  pack.members[0].outcome.predicted_positives = RowBitset(10);
  pack.members[0].outcome.state = order.start[0];
  const PackResults results = decode_pack_results(encode_pack_results(pack));
  EXPECT_EQ(results.members[0].outcome.state.parameters, order.start[0].parameters);
  EXPECT_EQ(results.members[0].outcome.state.steps, 30u);
}

// mpirun's exit status, or -1 when it has not exited within `limit` (then it and its ranks are
// killed).
int wait_at_most(pid_t mpirun, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(mpirun, &status, WNOHANG) == mpirun)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int rank = 0; rank < 3; ++rank)
    if (const pid_t p = rank_process(mpirun, rank)) kill(p, SIGKILL);
  kill(mpirun, SIGKILL);
  waitpid(mpirun, nullptr, 0);
  return -1;
}

TEST_F(MpiSearch, AKilledWorkerRankLosesOnlyItsPacksInFlight) {
  // A known fault, not fixed: a rank killed in the middle of sending a message can leave rank 0
  // in a blocking MPI_Recv of it for ever (seen once in CI and under load here: "Read -1,
  // expected 15408"). Such a run is stopped after 120 s and the search run once more; a second
  // hang fails the test.
  fs::path dir;
  int status = -1;
  for (int attempt = 0; attempt < 2 && status == -1; ++attempt) {
    dir = testing::scratch_dir("killed" + std::to_string(attempt));
    const pid_t mpirun = testing::start_process(mpirun_command(3, write_config(dir), true), dir / "log");
    // Kill worker rank 2 once the search is under way (the journal holds a first training).
    pid_t victim = 0;
    std::int64_t rows = 0;
    for (int i = 0; i < 400 && (victim == 0 || rows <= 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      if (victim == 0) victim = rank_process(mpirun, 2);
      if (fs::exists(dir / "out" / "study.sqlite")) rows = journal_rows(dir / "out" / "study.sqlite").rows;
    }
    ASSERT_NE(victim, 0) << "rank 2 not found; " << read_text(dir / "log");
    ASSERT_EQ(kill(victim, SIGKILL), 0);
    status = wait_at_most(mpirun, std::chrono::seconds(120));
  }
  EXPECT_EQ(status, 0) << (status == -1 ? "mpirun hung twice; " : "") << read_text(dir / "log");
  const std::string log = read_text(dir / "log");
  EXPECT_NE(log.find("rank 2 on "), std::string::npos) << log;
  EXPECT_NE(log.find("stopped answering"), std::string::npos) << log;
  const testing::JournalRows journal = journal_rows(dir / "out" / "study.sqlite");
  EXPECT_EQ(journal.distinct_trainings, 96) << "every training exactly once";
  EXPECT_EQ(journal.rows, 96);
  EXPECT_EQ(without_timing(read_csv(dir / "out" / "hyperparameter_results.csv")), expected_);
  expect_the_same_kept_networks(dir / "out", single_ / "out");
}

TEST(MpiLaunch, ABuildWithoutMpiRefusesToRunAsOneOfManyRanks) {
  if (HYPERFUSE_HAVE_MPI) GTEST_SKIP() << "this build has MPI; the refusal is for builds without it";
  const fs::path dir = testing::scratch_dir("launch");
  const std::string command = "OMPI_COMM_WORLD_SIZE=3 " + testing::hyperfuse_binary().string() + " run " +
                              write_config(dir).string() + " -q >" + (dir / "log").string() + " 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string log = read_text(dir / "log");
  EXPECT_NE(log.find("started as one of 3 ranks (mpirun or srun), but this build of hyperfuse has no MPI support"),
            std::string::npos)
      << log;
  EXPECT_FALSE(fs::exists(dir / "out" / "hyperparameter_results.csv"));
}

}  // namespace
}  // namespace hf
