// Several worker threads, each with its own backend and stream, on one GPU when a pack has fewer
// networks than the GPU trains at once: the rule, the GPU memory it plans, and on the emulated GPU
// a search trained by several workers at once giving exactly what one worker gives.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "host/cli/plan_report.hpp"
#include "host/config/search_config.hpp"
#include "host/run/gpu_workers.hpp"
#include "host/run/machine_memory.hpp"
#include "host/run/memory_plan.hpp"
#include "host/run/pack_runner.hpp"
#include "host/run/prepared_search.hpp"
#include "tests/gpu_available.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"
#if HYPERFUSE_CUDA_EMULATED
#include "tests/cuda_emulation/emulation_control.hpp"
#endif

namespace hf {
namespace {

TEST(GpuWorkers, PacksSmallerThanTheGpuGetMoreWorkersUpToTheCapAndTheMemory) {
  const std::size_t plenty = std::size_t{1} << 40;
  EXPECT_EQ(workers_per_gpu(132, 768, 1000, plenty), 1);  // the seed grid's packs: 5.8 waves of 132 SMs
  EXPECT_EQ(workers_per_gpu(132, 132, 1000, plenty), 1);
  EXPECT_EQ(workers_per_gpu(132, 66, 1000, plenty), 2);
  EXPECT_EQ(workers_per_gpu(132, 64, 1000, plenty), 3);  // ceil(132 / 64)
  EXPECT_EQ(workers_per_gpu(132, 8, 1000, plenty), kMaxWorkersPerGpu);
  EXPECT_EQ(workers_per_gpu(132, 8, 1000, 2500), 2);  // memory holds two workers' packs and data
  EXPECT_EQ(workers_per_gpu(132, 8, 1000, 999), 1);   // not even one: one (its pack splits when it runs)
  EXPECT_EQ(workers_per_gpu(0, 8, 1000, plenty), 1);  // a device that does not say what it trains at once
}

TEST(GpuWorkers, EveryListedGpuGetsTheSameNumberOfWorkers) {
  DeviceChoice gpus;
  gpus.device = Device::Cuda;
  gpus.gpus = {2, 0};
  gpus.threads = 2;
  const DeviceChoice four = with_workers_per_gpu(gpus, 4);
  EXPECT_EQ(four.workers_per_gpu, 4);
  EXPECT_EQ(four.threads, 8);  // worker w on gpus[w % 2]: four on each
  DeviceChoice cpu;
  cpu.threads = 3;
  EXPECT_EQ(with_workers_per_gpu(cpu, 4).threads, 3);  // the CPU keeps its own thread count
  EXPECT_EQ(with_workers_per_gpu(cpu, 4).workers_per_gpu, 1);
}

#if HYPERFUSE_CUDA_EMULATED
// The small search of tests/gpu_search_test.cpp: 16 combinations x 2 reruns in 8 packs of 4
// networks (two layouts, two batch sizes, each rerun's own shuffled order), on the emulated GPU.
class EmulatedGpuWorkers : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_memory_ = hf_emu::configured_device_memory();
    race_check_ = hf_emu::race_check_enabled();
    hf_emu::enable_race_check(false);  // the race check runs in the op, pack and fused-path tests
    dir_ = testing::scratch_dir("search");
    testing::write_synthetic_data(dir_ / "data", 200, 150);
    testing::write_text(dir_ / "search.toml",
                        "[data]\ntrain = \"data/train.csv\"\ntest = \"data/test.csv\"\nshuffle = true\n"
                        "[execution]\ndevice = \"cuda\"\n"
                        "[search]\nrerun_count = 2\nseed = 5\npermutations = 0\n[output]\nkeep_models = 0\n"
                        "[hyperparameters]\nhidden_layers = [[1, 0.5], [2]]\nbatch_size = [32, 50]\n"
                        "max_epochs = [2]\nactivation_function = [\"ReLU\", \"PReLU\"]\n"
                        "learning_rate = [0.001, 0.01]\n");
    config_ = load_search_config(dir_ / "search.toml");
  }
  void TearDown() override {
    hf_emu::configure_devices(static_cast<int>(saved_memory_.size()), saved_memory_);
    hf_emu::enable_race_check(race_check_);
  }

  std::filesystem::path dir_;
  SearchConfig config_;
  std::vector<std::size_t> saved_memory_;
  bool race_check_ = true;
};

TEST_F(EmulatedGpuWorkers, SmallPacksShareTheGpuAndTheMemoryPlanCountsEveryWorker) {
  hf_emu::configure_devices(1);
  const PreparedSearch prepared = prepare_search(config_);
  ASSERT_EQ(prepared.plan.packs.size(), 8u);
  for (const PlannedPack& pack : prepared.plan.packs) EXPECT_EQ(pack.spec.models(), 4);
  // 132 networks at once on the emulated H100, 4 in a pack: the cap.
  EXPECT_EQ(prepared.gpu_memory.front().networks_at_once, 132);
  EXPECT_EQ(prepared.device.workers_per_gpu, kMaxWorkersPerGpu);
  EXPECT_EQ(prepared.threads, kMaxWorkersPerGpu);

  const MemoryEstimate estimate = estimate_memory(prepared);
  EXPECT_EQ(estimate.workers_per_gpu, kMaxWorkersPerGpu);
  std::size_t largest = 0;
  for (const PackMemory& m : estimate.packs) largest = std::max(largest, m.device);
  EXPECT_GT(estimate.resident_device, std::size_t{0});  // each worker's copy of the data
  EXPECT_EQ(estimate.device_peak(), kMaxWorkersPerGpu * (largest + estimate.resident_device));
  EXPECT_LE(estimate.device_peak(), gpu_pack_budget(prepared.gpu_memory));
  const HostMemory host = host_memory();
  const std::string report =
      plan_report(config_, prepared, estimate, host, fit_to_memory(config_, prepared, estimate, host));
  EXPECT_NE(report.find("  workers per GPU        4 (each with its own stream"), std::string::npos) << report;

  // A GPU whose memory holds two workers (half of it is the budget): two, and the same packs.
  const std::size_t per_worker = largest + estimate.resident_device;
  hf_emu::configure_devices(1, {5 * per_worker});
  const PreparedSearch tight = prepare_search(config_);
  EXPECT_EQ(tight.device.workers_per_gpu, 2);
  EXPECT_EQ(tight.threads, 2);
  ASSERT_EQ(tight.plan.packs.size(), prepared.plan.packs.size());
  for (std::size_t p = 0; p < tight.plan.packs.size(); ++p)
    EXPECT_EQ(tight.plan.packs[p].trainings, prepared.plan.packs[p].trainings);
}

// Every training's outcome, as compared below.
struct Outcome {
  bool done = false, failed = false;
  ConfusionCounts counts, test_counts;
  std::vector<double> epoch_losses;
  std::vector<std::uint64_t> positives;
  std::string device;
  bool operator==(const Outcome& o) const {
    return done == o.done && failed == o.failed && counts == o.counts && test_counts == o.test_counts &&
           epoch_losses == o.epoch_losses && positives == o.positives && device == o.device;
  }
};

// The packs of `prepared` trained by `threads` workers; `trainers` gets the threads that trained
// a pack. With more than one worker, the first to finish a pack waits (up to a minute) until
// another has finished one too, so several workers train whatever the scheduling.
std::vector<Outcome> train_all(const PreparedSearch& prepared, int threads, std::set<std::thread::id>& trainers) {
  std::mutex mutex;
  std::condition_variable changed;
  PackRunOptions options;
  options.threads = threads;
  options.make_backend = prepared.make_backend;
  for (std::size_t p = 0; p < prepared.plan.packs.size(); ++p) options.packs.push_back(p);
  options.on_pack_done = [&](std::size_t, const std::vector<TrainingResult>&) {
    std::unique_lock<std::mutex> lock(mutex);
    trainers.insert(std::this_thread::get_id());
    changed.notify_all();
    if (threads > 1) changed.wait_for(lock, std::chrono::minutes(1), [&] { return trainers.size() > 1; });
  };
  std::vector<TrainingResult> results;
  run_packs(prepared.plan, prepared.train, prepared.evaluation(), options, results);
  std::vector<Outcome> outcomes;
  for (const TrainingResult& r : results) {
    Outcome o;
    o.done = r.done;
    o.failed = r.outcome.failed;
    o.counts = r.outcome.counts;
    o.test_counts = r.outcome.test_counts;
    o.epoch_losses = r.outcome.epoch_losses;
    o.positives = r.outcome.predicted_positives.words();
    o.device = r.device;
    outcomes.push_back(o);
  }
  return outcomes;
}

TEST_F(EmulatedGpuWorkers, SeveralWorkersOnOneGpuTrainExactlyWhatOneWorkerTrains) {
  hf_emu::configure_devices(1);
  const PreparedSearch prepared = prepare_search(config_);
  ASSERT_EQ(prepared.threads, kMaxWorkersPerGpu);
  std::set<std::thread::id> one_trainer, several_trainers;
  const std::vector<Outcome> one = train_all(prepared, 1, one_trainer);
  const std::vector<Outcome> several = train_all(prepared, prepared.threads, several_trainers);
  EXPECT_EQ(one_trainer.size(), 1u);
  EXPECT_GT(several_trainers.size(), 1u);  // packs trained side by side, each worker on its own stream
  ASSERT_EQ(one.size(), prepared.plan.trainings.size());
  ASSERT_EQ(several.size(), one.size());
  for (std::size_t t = 0; t < one.size(); ++t) {
    EXPECT_TRUE(one[t].done) << "training " << t;
    EXPECT_FALSE(one[t].failed) << "training " << t;
    EXPECT_EQ(one[t].device, "cuda:0");
    EXPECT_EQ(one[t].epoch_losses.size(), 2u) << "training " << t;  // max_epochs = 2
    EXPECT_TRUE(several[t] == one[t]) << "training " << t;
  }
}

// Packs like the seed grid's (768 networks; here 384) fill the GPU: one worker per GPU, as before.
TEST_F(EmulatedGpuWorkers, SeedSizedPacksKeepOneWorkerPerGpu) {
  hf_emu::configure_devices(2);
  testing::write_text(dir_ / "seed.toml",
                      "[data]\ntrain = \"data/train.csv\"\ntest = \"data/test.csv\"\n"
                      "[execution]\ndevice = \"cuda\"\n[search]\nrerun_count = 3\npermutations = 0\n"
                      "[hyperparameters]\nlearning_rate = [0.001, 0.0005]\nhidden_layers = [[2, 3, 2, 1, 0.5]]\n"
                      "loss_function = [\"BCE\", \"MSE\", \"Huber\", \"SmoothL1\"]\n"
                      "activation_function = [\"LeakyReLU\", \"PReLU\", \"ReLU\", \"Tanh\"]\n"
                      "optimizer = [\"Adam\", \"RMSprop\"]\ndropout = [0.0, 0.2]\n");
  const PreparedSearch prepared = prepare_search(load_search_config(dir_ / "seed.toml"));
  int largest = 0;
  for (const PlannedPack& pack : prepared.plan.packs) largest = std::max(largest, pack.spec.models());
  ASSERT_GE(largest, 132);  // 128 combinations x 3 reruns, the seed grid's networks
  EXPECT_EQ(prepared.device.workers_per_gpu, 1);
  EXPECT_EQ(prepared.threads, 2);  // one per GPU, both GPUs busy
}
#endif

}  // namespace
}  // namespace hf
