// Whole searches on the GPU through the hyperfuse binary: the CUDA backend against the CPU
// trainer on the seed grid's layouts (every training's failure flag and confusion counts, and
// the ranking), and, on the emulated GPUs of tests/cuda_emulation, the multi-GPU and fault paths
// no real machine here can produce: 1, 2 and 3 GPUs, MPI ranks taking their node's GPUs by local
// rank, a failed allocation, a failed launch and a lost device.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "tests/gpu_available.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using Environment = std::vector<std::pair<std::string, std::string>>;

// The share of trainings whose counts must agree: what tests/cuda_pack_test.cpp justifies
// (GEMM summation order differs between the backends; a rare flip of a kink or threshold).
constexpr double kTrainingsThatMustAgree = 0.95;

struct RunOutcome {
  int exit_code = -1;
  std::string log;
};

// hyperfuse ARGS with the environment variables `environment` set, stdout and stderr together.
RunOutcome hyperfuse(const std::vector<std::string>& args, const Environment& environment, const fs::path& log) {
  fs::remove(log);
  const pid_t pid = fork();
  if (pid == 0) {
    for (const auto& [name, value] : environment) setenv(name.c_str(), value.c_str(), 1);
    if (std::FILE* out = std::fopen(log.c_str(), "a")) {
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
    }
    std::vector<std::string> all{testing::hyperfuse_binary().string()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  RunOutcome run;
  run.exit_code = testing::wait_for(pid);
  run.log = testing::read_text(log);
  return run;
}

struct Training {
  std::string status;
  std::int64_t tp = -1, fp = -1, fn = -1, tn = -1;
  std::string device;
};

// Every training in a study journal, by (combination, rerun).
std::map<std::pair<std::string, int>, Training> journal_trainings(const fs::path& journal) {
  std::map<std::pair<std::string, int>, Training> trainings;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(journal.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* rows = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT combination, rerun, status, tp, fp, fn, tn, device FROM trainings", -1, &rows,
                           nullptr) == SQLITE_OK) {
      while (sqlite3_step(rows) == SQLITE_ROW) {
        const auto text = [&](int i) {
          const unsigned char* t = sqlite3_column_text(rows, i);
          return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
        };
        Training t{text(2),
                   sqlite3_column_int64(rows, 3),
                   sqlite3_column_int64(rows, 4),
                   sqlite3_column_int64(rows, 5),
                   sqlite3_column_int64(rows, 6),
                   text(7)};
        trainings[{text(0), static_cast<int>(sqlite3_column_int64(rows, 1))}] = t;
      }
    }
    sqlite3_finalize(rows);
  }
  sqlite3_close(db);
  return trainings;
}

// The results file's rows without the columns a run measures anew (execution_time).
std::vector<std::vector<std::string>> results_of(const fs::path& dir) {
  return testing::without_timing(testing::read_csv(dir / "hyperparameter_results.csv"));
}

// Spearman's rank correlation of two equally long lists (no ties expected; ties get the order of
// appearance, which can only lower the figure).
double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const auto ranks = [](const std::vector<double>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
    std::vector<double> rank(v.size());
    for (std::size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<double>(r);
    return rank;
  };
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  double d2 = 0.0;
  for (std::size_t i = 0; i < ra.size(); ++i) d2 += (ra[i] - rb[i]) * (ra[i] - rb[i]);
  const double n = static_cast<double>(a.size());
  return 1.0 - 6.0 * d2 / (n * (n * n - 1.0));
}

// Each combination's median log10 p-value, keyed by its hyperparameter values.
std::map<std::string, double> median_log10_p(const std::vector<std::vector<std::string>>& csv) {
  const std::vector<std::string>& header = csv.front();
  const auto column = std::find(header.begin(), header.end(), "log10_p_value") - header.begin();
  const auto first_score = std::find(header.begin(), header.end(), "p_value") - header.begin();
  std::map<std::string, double> medians;
  for (std::size_t r = 1; r < csv.size(); ++r) {
    std::string key;
    for (long c = 0; c < first_score; ++c) key += csv[r][static_cast<std::size_t>(c)] + "|";
    medians[key] = std::stod(csv[r][static_cast<std::size_t>(column)]);
  }
  return medians;
}

class GpuSearch : public ::testing::Test {
 protected:
  void SetUp() override { HF_SKIP_UNLESS_GPU_VISIBLE("no CUDA device visible: whole searches on the GPU need one"); }

  // The seed grid's two layouts at batch 32 and 64 over 400 training rows (a partial last batch
  // at both), shuffled every epoch, with PReLU, dropout and networks stopping after one epoch.
  fs::path write_seed_layout_search(const std::string& extra_search = "") {
    testing::write_synthetic_data(work_ / "data", 400, 300);
    testing::write_text(
        work_ / "search.toml",
        "[data]\ntrain = \"data/train.csv\"\ntest = \"data/test.csv\"\nshuffle = true\n"
        "[search]\nrerun_count = 2\nseed = 11\npermutations = 0\n" +
            extra_search +
            "[output]\nkeep_models = 0\n"
            "[hyperparameters]\nhidden_layers = [[2, 3, 2, 1, 0.5], [2, 3, 2, 1, 0.5, 0.25]]\nbatch_size = [32, 64]\n"
            "activation_function = [\"PReLU\", \"Tanh\"]\nloss_function = [\"BCE\", \"MSE\"]\ndropout = [0.0, 0.2]\n"
            "max_epochs = [1, 2]\noptimizer = [\"Adam\", \"RMSprop\"]\n");
    return work_ / "search.toml";
  }

  RunOutcome search(const std::string& device, const std::string& out, const Environment& environment = {},
                    const std::vector<std::string>& more = {}) {
    std::vector<std::string> args{"run",          (work_ / "search.toml").string(), "--device", device,
                                  "--output-dir", (work_ / out).string(),           "-q"};
    args.insert(args.end(), more.begin(), more.end());
    return hyperfuse(args, environment, work_ / (out + ".log"));
  }

  fs::path work_ = testing::scratch_dir("search");

  // The seed layout search on the CPU and with --device cuda (with `environment` added) agree:
  // the same failures, at least kTrainingsThatMustAgree of the trainings with the CPU's confusion
  // counts, and the same ranking.
  void expect_cuda_agrees_with_the_cpu(Environment environment);
};

void GpuSearch::expect_cuda_agrees_with_the_cpu(Environment environment) {
  write_seed_layout_search();
  // The race check runs in the op, pack and fused-path tests (tests/cuda_emulation/README.md lists them).
  environment.emplace_back("HYPERFUSE_EMU_RACE_CHECK", "0");
  const RunOutcome cpu = search("cpu", "cpu", {}, {"-j", "2"});
  ASSERT_EQ(cpu.exit_code, 0) << cpu.log;
  const RunOutcome gpu = search("cuda", "cuda", environment);
  ASSERT_EQ(gpu.exit_code, 0) << gpu.log;

  const auto expected = journal_trainings(work_ / "cpu" / "study.sqlite");
  const auto actual = journal_trainings(work_ / "cuda" / "study.sqlite");
  ASSERT_EQ(expected.size(), 256u);  // 128 combinations x 2 reruns
  ASSERT_EQ(actual.size(), expected.size());
  int agreeing = 0;
  for (const auto& [key, e] : expected) {
    const Training& a = actual.at(key);
    EXPECT_EQ(a.status, e.status) << "combination " << key.first << " rerun " << key.second;
    EXPECT_EQ(a.device.rfind("cuda:", 0), 0u) << a.device;
    agreeing += a.status == e.status && a.tp == e.tp && a.fp == e.fp && a.fn == e.fn && a.tn == e.tn;
  }
  EXPECT_GE(agreeing, static_cast<int>(std::ceil(kTrainingsThatMustAgree * expected.size())))
      << agreeing << " of " << expected.size() << " trainings have the CPU's confusion counts";
  std::printf("[   NOTE   ] %d of %zu trainings have the CPU's confusion counts\n", agreeing, expected.size());

  // The rankings agree: rank correlation of the combinations' median log10 p-values, and the
  // CPU's best combination among the GPU's first three.
  const auto cpu_csv = results_of(work_ / "cpu"), gpu_csv = results_of(work_ / "cuda");
  const auto cpu_medians = median_log10_p(cpu_csv), gpu_medians = median_log10_p(gpu_csv);
  ASSERT_EQ(cpu_medians.size(), gpu_medians.size());
  std::vector<double> a, b;
  for (const auto& [key, value] : cpu_medians) {
    a.push_back(value);
    b.push_back(gpu_medians.at(key));
  }
  EXPECT_GE(spearman(a, b), 0.95);
  const auto best_key = [](const std::vector<std::vector<std::string>>& csv, std::size_t row) {
    const std::vector<std::string>& header = csv.front();
    const auto first_score = std::find(header.begin(), header.end(), "p_value") - header.begin();
    std::string key;
    for (long c = 0; c < first_score; ++c) key += csv[row][static_cast<std::size_t>(c)] + "|";
    return key;
  };
  std::vector<std::string> gpu_top;
  for (std::size_t r = 1; r <= 3 && r < gpu_csv.size(); ++r) gpu_top.push_back(best_key(gpu_csv, r));
  EXPECT_NE(std::find(gpu_top.begin(), gpu_top.end(), best_key(cpu_csv, 1)), gpu_top.end());
}

// On a real GPU, that GPU; in the emulated build, the card HYPERFUSE_EMU_PROFILE names (an H100 by
// default: scripts/run_tests.sh runs it again on a T4 and an RTX 4090).
TEST_F(GpuSearch, CudaAgreesWithTheCpuTrainerOnTheSeedGridsLayouts) { expect_cuda_agrees_with_the_cpu({}); }

// The same on each emulated card of another shared-memory limit than the H100's 227 KiB: where the
// plan puts what does not fit on chip in global scratch (said by `hyperfuse devices`), the
// results stay the CPU's.
class GpuSearchOnEachCard : public GpuSearch, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    const BackendEntry* gpu = testing::gpu_backend_entry();
    if (gpu == nullptr || !gpu->emulated) GTEST_SKIP() << "runs in the emulated build (-DHYPERFUSE_CUDA=EMULATE)";
  }
};

TEST_P(GpuSearchOnEachCard, CudaAgreesWithTheCpuTrainerOnTheSeedGridsLayouts) {
  const std::string card = GetParam();
  expect_cuda_agrees_with_the_cpu({{"HYPERFUSE_EMU_PROFILE", card}});
  const RunOutcome devices = hyperfuse({"devices", (work_ / "search.toml").string()}, {{"HYPERFUSE_EMU_PROFILE", card}},
                                       work_ / "devices.log");
  ASSERT_EQ(devices.exit_code, 0) << devices.log;
  const std::string log = devices.log;
  int plans = 0, in_scratch = 0;
  for (std::size_t at = log.find("  widths "); at != std::string::npos; at = log.find("  widths ", at + 1)) {
    const std::string line = log.substr(at, log.find('\n', at) - at);
    ++plans;
    in_scratch += line.find("a network in global scratch (weights of layers") != std::string::npos;
    // The seed networks need 147-227 KiB on chip: at 64 and 99 KiB every plan puts weights in scratch.
    if (card == "t4" || card == "rtx4090") {
      EXPECT_NE(line.find("global scratch (weights"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(plans, 4) << log;  // two layouts, two batch sizes
  // The A100's 163 KiB holds batch 32 (147-150 KiB), not batch 64 (222-227 KiB).
  if (card == "a100") {
    EXPECT_EQ(in_scratch, 2) << log;
  }
}

INSTANTIATE_TEST_SUITE_P(Cards, GpuSearchOnEachCard, ::testing::Values("t4", "rtx4090", "a100"),
                         [](const ::testing::TestParamInfo<const char*>& card) { return std::string(card.param); });

// The tests below steer the emulated GPUs through their environment variables.
class EmulatedGpuSearch : public GpuSearch {
 protected:
  void SetUp() override {
    const BackendEntry* gpu = testing::gpu_backend_entry();
    if (gpu == nullptr || !gpu->emulated) GTEST_SKIP() << "runs in the emulated build (-DHYPERFUSE_CUDA=EMULATE)";
  }

  // A small search whose CSV on any number of GPUs and through any fault must equal a clean
  // run's: 16 combinations x 2 reruns in 8 packs (two layouts, two batch sizes, each rerun's
  // own shuffled order).
  void write_small_search() {
    testing::write_synthetic_data(work_ / "data", 200, 150);
    testing::write_text(work_ / "search.toml",
                        "[data]\ntrain = \"data/train.csv\"\ntest = \"data/test.csv\"\nshuffle = true\n"
                        "[search]\nrerun_count = 2\nseed = 5\npermutations = 0\n[output]\nkeep_models = 0\n"
                        "[hyperparameters]\nhidden_layers = [[1, 0.5], [2]]\nbatch_size = [32, 50]\nmax_epochs = [2]\n"
                        "activation_function = [\"ReLU\", \"PReLU\"]\nlearning_rate = [0.001, 0.01]\n");
  }

  static Environment quick(Environment more = {}) {
    more.emplace_back("HYPERFUSE_EMU_RACE_CHECK", "0");
    return more;
  }

  // A clean run of the small search into `out`, and the kernel launches it made (the emulation's
  // counters): faults go half-way through them, well into the search whichever path trains it
  // (the fused kernels launch a few times per pack and epoch, the primitives dozens per step).
  std::uint64_t clean_run_launches(const std::string& out) {
    const std::filesystem::path counters = work_ / (out + "_counters.json");
    const RunOutcome clean = search("cuda", out, quick({{"HYPERFUSE_EMU_COUNTERS", counters.string()}}));
    EXPECT_EQ(clean.exit_code, 0) << clean.log;
    const std::string text = testing::read_text(counters);
    const std::size_t at = text.find("\"launches\":");
    return at == std::string::npos ? 0 : std::strtoull(text.c_str() + at + 11, nullptr, 10);
  }
};

TEST_F(EmulatedGpuSearch, OneTwoAndThreeGpusGiveTheSameResultsAndEachGpuTrains) {
  write_small_search();
  std::vector<std::vector<std::string>> first;
  for (int gpus : {1, 2, 3}) {
    const std::string out = "gpus" + std::to_string(gpus);
    const RunOutcome run = search("cuda", out, quick({{"HYPERFUSE_EMU_DEVICES", std::to_string(gpus)}}));
    ASSERT_EQ(run.exit_code, 0) << run.log;
    const auto csv = results_of(work_ / out);
    if (gpus == 1) first = csv;
    EXPECT_EQ(csv, first) << gpus << " GPUs";
    std::map<std::string, int> per_device;
    for (const auto& [key, t] : journal_trainings(work_ / out / "study.sqlite")) ++per_device[t.device];
    // The workers of every GPU (several per GPU: packs of 4 networks) take packs from the shared
    // queue: 8 packs keep every GPU busy.
    EXPECT_EQ(static_cast<int>(per_device.size()), gpus) << gpus << " GPUs";
    for (int d = 0; d < gpus; ++d) EXPECT_GT(per_device["cuda:" + std::to_string(d)], 0) << "cuda:" << d;
  }
}

// Epochs split into launches of at most 1 and 3 steps (HYPERFUSE_MAX_STEPS_PER_LAUNCH; 200 rows
// in batches of 32 and 50: 7 and 4 steps an epoch) write the CSV one launch an epoch writes, and
// the emulation's counters show the launches the split made.
TEST_F(EmulatedGpuSearch, EpochsSplitIntoLaunchesWriteTheSameResults) {
  write_small_search();
  const auto fused_launches = [&](const std::string& out) {
    const std::string text = testing::read_text(work_ / (out + "_counters.json"));
    const std::size_t at = text.find("\"fused_epoch_launches\":");
    return at == std::string::npos ? 0 : std::strtoull(text.c_str() + at + 23, nullptr, 10);
  };
  std::vector<std::vector<std::string>> whole;
  for (const char* per_launch : {"", "3", "1"}) {
    const std::string out = std::string("split") + per_launch;
    const RunOutcome run = search("cuda", out,
                                  quick({{"HYPERFUSE_MAX_STEPS_PER_LAUNCH", per_launch},
                                         {"HYPERFUSE_EMU_COUNTERS", (work_ / (out + "_counters.json")).string()}}));
    ASSERT_EQ(run.exit_code, 0) << run.log;
    const auto csv = results_of(work_ / out);
    if (*per_launch == '\0') whole = csv;
    EXPECT_EQ(csv, whole) << "at most " << per_launch << " steps per launch";
  }
  // 8 packs of 2 epochs: 4 with 7 steps an epoch (batch 32), 4 with 4 (batch 50).
  EXPECT_EQ(fused_launches("split"), 8u * 2u) << "planned: one launch an epoch for these small packs";
  EXPECT_EQ(fused_launches("split3"), 4u * 2u * 3u + 4u * 2u * 2u);
  EXPECT_EQ(fused_launches("split1"), 4u * 2u * 7u + 4u * 2u * 4u);
  const RunOutcome bad = search("cuda", "split_bad", quick({{"HYPERFUSE_MAX_STEPS_PER_LAUNCH", "many"}}));
  EXPECT_EQ(bad.exit_code, 2) << bad.log;
  EXPECT_NE(bad.log.find("HYPERFUSE_MAX_STEPS_PER_LAUNCH='many' is not a number of steps"), std::string::npos)
      << bad.log;
}

TEST_F(EmulatedGpuSearch, PacksSmallerThanTheGpuShareItAndGiveWhatOneWorkerGives) {
  write_small_search();  // packs of 4 networks
  // A GPU of 4 multiprocessors trains a pack of 4 at once: one worker; of 8: two; an H100's 132:
  // four, the cap. Each worker has its own stream; the results must not change.
  std::vector<std::vector<std::string>> one_worker;
  for (const auto& [multiprocessors, workers] :
       std::vector<std::pair<std::string, int>>{{"4", 1}, {"8", 2}, {"132", 4}}) {
    const Environment gpu = quick({{"HYPERFUSE_EMU_MULTIPROCESSORS", multiprocessors}});
    const std::string out = "sms" + multiprocessors;
    const RunOutcome plan = search("cuda", out + "_plan", gpu, {"--dry-run"});
    ASSERT_EQ(plan.exit_code, 0) << plan.log;
    EXPECT_NE(plan.log.find("workers per GPU        " + std::to_string(workers) + " "), std::string::npos) << plan.log;
    const RunOutcome run = search("cuda", out, gpu);
    ASSERT_EQ(run.exit_code, 0) << run.log;
    const auto csv = results_of(work_ / out);
    if (workers == 1) one_worker = csv;
    EXPECT_EQ(csv, one_worker) << workers << " workers";
    for (const auto& [key, t] : journal_trainings(work_ / out / "study.sqlite")) EXPECT_EQ(t.device, "cuda:0");
  }
}

TEST_F(EmulatedGpuSearch, MpiWorkerRanksTakeTheirNodesGpusByLocalRank) {
  if (!HYPERFUSE_HAVE_MPI) GTEST_SKIP() << "built without MPI (apt-get install libopenmpi-dev openmpi-bin)";
  write_small_search();
  const RunOutcome single = search("cuda", "single", quick());
  ASSERT_EQ(single.exit_code, 0) << single.log;
  std::vector<std::string> mpirun{"mpirun", "--oversubscribe", "-np", "3"};
  if (getuid() == 0) mpirun.insert(mpirun.begin() + 1, "--allow-run-as-root");
  for (const char* name : {"HYPERFUSE_EMU_DEVICES", "HYPERFUSE_EMU_RACE_CHECK"}) {
    mpirun.insert(mpirun.end(), {"-x", name});
  }
  mpirun.insert(mpirun.end(), {testing::hyperfuse_binary().string(), "run", (work_ / "search.toml").string(),
                               "--device", "cuda", "--output-dir", (work_ / "mpi").string(), "-q"});
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("HYPERFUSE_EMU_DEVICES", "2", 1);
    setenv("HYPERFUSE_EMU_RACE_CHECK", "0", 1);
    std::FILE* out = std::fopen((work_ / "mpi.log").c_str(), "a");
    if (out) {
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (std::string& a : mpirun) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  ASSERT_EQ(testing::wait_for(pid), 0) << testing::read_text(work_ / "mpi.log");
  EXPECT_EQ(results_of(work_ / "mpi"), results_of(work_ / "single"));
  // Two GPUs on the node: worker ranks 1 and 2 (local ranks 1 and 2) take GPU 1 and GPU 0.
  std::map<std::string, int> per_worker;
  for (const auto& [key, t] : journal_trainings(work_ / "mpi" / "study.sqlite")) {
    per_worker[t.device.substr(0, t.device.find(" on "))] += 1;
  }
  for (const auto& [where, count] : per_worker) {
    EXPECT_TRUE(where == "cuda:1, rank 1" || where == "cuda:0, rank 2") << where << " trained " << count;
  }
  EXPECT_EQ(per_worker.size(), 2u);
}

TEST_F(EmulatedGpuSearch, AFailedAllocationSplitsThePackAndEveryNetworkTrains) {
  write_small_search();
  const RunOutcome clean = search("cuda", "clean", quick());
  ASSERT_EQ(clean.exit_code, 0) << clean.log;
  // The backend's stream and cuBLAS handle allocate nothing through cudaMalloc; the first packs'
  // workspaces make the first allocations (four workers share the GPU: packs of 4 networks), so
  // the 3rd is mid-workspace.
  const RunOutcome faulty = search("cuda", "faulty", quick({{"HYPERFUSE_EMU_FAIL_ALLOCATION", "3"}}));
  ASSERT_EQ(faulty.exit_code, 0) << faulty.log;
  EXPECT_EQ(results_of(work_ / "faulty"), results_of(work_ / "clean"));
  const testing::JournalRows rows = testing::journal_rows(work_ / "faulty" / "study.sqlite");
  EXPECT_EQ(rows.distinct_trainings, 32);  // 16 combinations x 2 reruns, none lost

  // The fault did happen: a pack of one network cannot split, so there it ends the search.
  testing::write_text(work_ / "search.toml",
                      "[data]\ntrain = \"data/train.csv\"\ntest = \"data/test.csv\"\n"
                      "[search]\nrerun_count = 1\npermutations = 0\n[output]\nkeep_models = 0\n");
  const RunOutcome single = search("cuda", "single", quick({{"HYPERFUSE_EMU_FAIL_ALLOCATION", "3"}}));
  EXPECT_EQ(single.exit_code, 1) << single.log;
  EXPECT_NE(single.log.find("cudaErrorMemoryAllocation"), std::string::npos) << single.log;
  EXPECT_NE(single.log.find("even one network does not fit"), std::string::npos) << single.log;
}

TEST_F(EmulatedGpuSearch, AFailedLaunchStopsWithAClearErrorAndAConsistentJournalThatResumes) {
  write_small_search();
  const std::uint64_t launches = clean_run_launches("clean");
  ASSERT_GE(launches, 8u) << "four packs, two epochs each";
  // Well into the search: earlier packs are finished and committed.
  const RunOutcome faulty =
      search("cuda", "faulty", quick({{"HYPERFUSE_EMU_FAIL_LAUNCH", std::to_string(launches / 2)}}));
  EXPECT_EQ(faulty.exit_code, 1) << faulty.log;
  EXPECT_NE(faulty.log.find("CUDA error on device 0"), std::string::npos) << faulty.log;
  EXPECT_NE(faulty.log.find("cudaErrorLaunchOutOfResources"), std::string::npos) << faulty.log;
  EXPECT_NE(faulty.log.find("while training pack"), std::string::npos) << faulty.log;
  const testing::JournalRows rows = testing::journal_rows(work_ / "faulty" / "study.sqlite");
  EXPECT_TRUE(rows.consistent);
  EXPECT_GT(rows.rows, 0);
  EXPECT_LT(rows.rows, 32);
  EXPECT_EQ(rows.rows, rows.distinct_trainings);
  const RunOutcome resumed = search("cuda", "faulty", quick());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.log;
  EXPECT_EQ(results_of(work_ / "faulty"), results_of(work_ / "clean"));
}

TEST_F(EmulatedGpuSearch, ALostDeviceStopsTheSearchAndARerunResumesIt) {
  write_small_search();
  const std::uint64_t launches = clean_run_launches("clean");
  ASSERT_GE(launches, 8u) << "four packs, two epochs each";
  const RunOutcome lost =
      search("cuda", "lost", quick({{"HYPERFUSE_EMU_LOSE_DEVICE_AFTER", std::to_string(launches / 2)}}));
  EXPECT_EQ(lost.exit_code, 1) << lost.log;
  EXPECT_NE(lost.log.find("cudaErrorLaunchFailure"), std::string::npos) << lost.log;
  EXPECT_NE(lost.log.find("nvidia-smi"), std::string::npos) << lost.log;  // what to do
  const testing::JournalRows rows = testing::journal_rows(work_ / "lost" / "study.sqlite");
  EXPECT_TRUE(rows.consistent);
  EXPECT_LT(rows.rows, 32);
  EXPECT_EQ(rows.rows, rows.distinct_trainings);
  const RunOutcome resumed = search("cuda", "lost", quick());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.log;
  EXPECT_EQ(results_of(work_ / "lost"), results_of(work_ / "clean"));
}

}  // namespace
}  // namespace hf
