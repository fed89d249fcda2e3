// Limits read from each device: the emulated cards (HYPERFUSE_EMU_PROFILE) report their own, the
// fused plan and the workspace follow the device's shared memory, and a GPU this build cannot run
// is refused (device = "cuda", exit status 2, before the data is read) or passed over for the
// CPU (device = "auto", said in one line).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/common/errors.hpp"
#include "host/run/device_choice.hpp"
#include "kernels/backend/device_errors.hpp"
#include "tests/gpu_available.hpp"
#include "tests/hyperfuse_process.hpp"
#if HYPERFUSE_CUDA_EMULATED
#include "tests/emulated_cards.hpp"
#endif

namespace hf {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t KiB = 1024;
const std::vector<int> kSeedWidths = {30, 60, 90, 60, 30, 15, 1};

#if HYPERFUSE_CUDA_EMULATED
using testing::EmulatedCards;

struct Card {
  std::string profile;
  int major, minor;
  std::size_t shared_bytes;
  int multiprocessors;
};
const std::vector<Card> kCards = {
    {"t4", 7, 5, 64 * KiB, 40},     {"rtx4090", 8, 9, 99 * KiB, 128},  {"a100", 8, 0, 163 * KiB, 108},
    {"h100", 9, 0, 227 * KiB, 132}, {"rtx5090", 12, 0, 99 * KiB, 170},
};

TEST(DeviceLimits, EachEmulatedCardReportsItsOwnLimits) {
  const BackendEntry& gpu = *testing::gpu_backend_entry();
  for (const Card& card : kCards) {
    SCOPED_TRACE(card.profile);
    const EmulatedCards cards({card.profile});
    const DeviceMemory memory = gpu.device_memory(0);
    EXPECT_EQ(memory.limits.compute_major, card.major);
    EXPECT_EQ(memory.limits.compute_minor, card.minor);
    // The emulation's kernels have no static shared memory: the whole opt-in limit.
    EXPECT_EQ(memory.limits.shared_bytes_per_block, card.shared_bytes);
    EXPECT_EQ(memory.limits.multiprocessors, card.multiprocessors);
    EXPECT_EQ(memory.networks_at_once, card.multiprocessors);
    EXPECT_EQ(memory.limits.registers_per_multiprocessor, 65536);
    EXPECT_GT(memory.limits.l2_bytes, 0u);
    EXPECT_TRUE(memory.limits.has_kernel_image);
    EXPECT_EQ(memory.unusable, "");
  }
}

// The seed network at batch 32 needs about 150 KiB on chip: the 64 and 99 KiB cards put what
// does not fit in global scratch, which their workspace counts and allocates.
TEST(DeviceLimits, ASmallerCardPutsWhatDoesNotFitInScratchAndItsWorkspaceCountsIt) {
  const BackendEntry& gpu = *testing::gpu_backend_entry();
  PackSpec seed = pack_of(ParameterLayout(kSeedWidths), 32, 3);
  std::size_t h100_bytes = 0;
  for (const std::string profile : {"h100", "a100", "rtx4090", "t4"}) {
    SCOPED_TRACE(profile);
    const EmulatedCards cards({profile});
    const DeviceLimits limits = gpu.device_memory(0).limits;
    const WorkspaceBytes planned = gpu.workspace_bytes(seed, 256, limits);
    const std::unique_ptr<Backend> backend = gpu.make(0);
    EXPECT_EQ(backend->create_workspace(seed, 256)->allocated_bytes(), planned.total());
    if (profile == "h100") {
      h100_bytes = planned.total();
    } else if (profile == "a100") {
      EXPECT_EQ(planned.total(), h100_bytes);  // 163 KiB holds the seed's batch-32 plan too
    } else {
      EXPECT_GT(planned.total(), h100_bytes);  // the rest in global scratch, per network
    }
  }
}

TEST(DeviceLimits, MixedCardsAreEachReadAndPacksFitTheSmallest) {
  const EmulatedCards cards({"t4", "h100"});
  SearchConfig config;
  config.source = "configs/example.toml";
  config.device = Device::Cuda;
  const DeviceChoice choice = choose_device(config, 2);
  const std::vector<DeviceMemory> memory = gpu_memory(choice);
  ASSERT_EQ(memory.size(), 2u);
  EXPECT_EQ(memory[0].limits.shared_bytes_per_block, 64 * KiB);
  EXPECT_EQ(memory[1].limits.shared_bytes_per_block, 227 * KiB);
  const BackendEntry& gpu = *testing::gpu_backend_entry();
  const PackSpec seed = pack_of(ParameterLayout(kSeedWidths), 32, 4);
  // A pack goes to whichever GPU is free: it is counted where it takes the most, the T4.
  EXPECT_EQ(workspace_on_chosen(gpu, memory, seed, 256).total(),
            gpu.workspace_bytes(seed, 256, memory[0].limits).total());
  EXPECT_GT(workspace_on_chosen(gpu, memory, seed, 256).total(),
            gpu.workspace_bytes(seed, 256, memory[1].limits).total());
}

TEST(DeviceChoice, CudaRefusesAGpuThisBuildHoldsNoCodeFor) {
  const EmulatedCards cards({"t4"}, "90");  // a Hopper-only build on a T4
  SearchConfig config;
  config.source = "configs/example.toml";
  config.device = Device::Cuda;
  try {
    choose_device(config, 2);
    FAIL() << "a T4 was accepted by a build for sm_90 only";
  } catch (const InputError& e) {
    const std::string message = e.what();
    for (const char* part :
         {"configs/example.toml", "GPU 0 (Tesla T4", "compute capability 7.5", "sm_90", "compute_90 (PTX)",
          "cmake -S . -B build -DCMAKE_CUDA_ARCHITECTURES=native", "--device cpu"})
      EXPECT_NE(message.find(part), std::string::npos) << part << " not in: " << message;
  }
  // The same card with the default list (sm_75 among them) and a B200 with compute_90 PTX run.
  hf_emu::set_built_architectures("75-real;90");
  EXPECT_EQ(choose_device(config, 2).device, Device::Cuda);
}

TEST(DeviceChoice, APtxOnlyBuildRunsOnNewerCardsOnly) {
  const EmulatedCards cards({"b200", "a100"}, "90");
  const BackendEntry& gpu = *testing::gpu_backend_entry();
  EXPECT_EQ(gpu.device_memory(0).unusable, "");  // compute_90 PTX runs on 10.0
  EXPECT_NE(gpu.device_memory(1).unusable, "");  // and not on 8.0
  EXPECT_THROW(gpu.make(1), DeviceError);        // nor does a backend start there
}
#endif

// ---- The binary, as a user meets it ----

using testing::Outcome;

class DeviceLimitsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = testing::scratch_dir("device-limits");
    const BackendEntry* gpu = testing::gpu_backend_entry();
    if (gpu == nullptr || !gpu->emulated) GTEST_SKIP() << "runs in the emulated build (-DHYPERFUSE_CUDA=EMULATE)";
  }

  Outcome hyperfuse(const std::vector<std::string>& args, const std::string& environment) const {
    return testing::run_hyperfuse(work_, work_, args, environment);
  }

  fs::path config(const std::string& device, const std::string& train,
                  const std::string& hidden_layers = "[[4]]") const {
    const fs::path path = work_ / "search.toml";
    testing::write_text(path, "[data]\ntrain = \"" + train +
                                  "\"\ntest = \"data/test.csv\"\n\n[search]\nrerun_count = 1\nseed = 5\n\n"
                                  "[execution]\ndevice = \"" +
                                  device +
                                  "\"\ncpu_count = 2\n\n[output]\ndir = \"out\"\n\n[hyperparameters]\n"
                                  "hidden_layers = " +
                                  hidden_layers + "\nmax_epochs = [2]\n");
    return path;
  }

  fs::path work_;
};

TEST_F(DeviceLimitsCli, CudaExitsTwoBeforeLoadingDataNamingTheCardAndTheRebuild) {
  // The data file does not exist: the GPU's refusal comes first.
  const Outcome o = hyperfuse({"run", config("cuda", "missing.csv").string()},
                              "HYPERFUSE_EMU_PROFILE=t4 HYPERFUSE_EMU_BUILT_ARCHITECTURES=90");
  EXPECT_EQ(o.exit_code, 2) << o;
  for (const char* part : {"Tesla T4", "compute capability 7.5", "sm_90, compute_90 (PTX)",
                           "cmake -S . -B build -DCMAKE_CUDA_ARCHITECTURES=native && cmake --build build"})
    EXPECT_NE(o.err.find(part), std::string::npos) << part << "\n" << o;
  EXPECT_EQ(o.err.find("missing.csv"), std::string::npos) << o;
}

TEST_F(DeviceLimitsCli, AutoTrainsOnTheCpuAndSaysWhyInOneLine) {
  ASSERT_EQ(hyperfuse({"make-data", "--out-dir", "data", "--train-rows", "200", "--test-rows", "100"}, "").exit_code,
            0);
  const Outcome o = hyperfuse({"run", config("auto", "data/train.csv").string(), "--quiet"},
                              "HYPERFUSE_EMU_CHOSEN_BY_AUTO=1 HYPERFUSE_EMU_PROFILE=t4 "
                              "HYPERFUSE_EMU_BUILT_ARCHITECTURES=90");
  EXPECT_EQ(o.exit_code, 0) << o;
  const std::string line = "hyperfuse: device = \"auto\": training on the CPU, because GPU 0 (Tesla T4";
  ASSERT_NE(o.err.find(line), std::string::npos) << o;
  EXPECT_EQ(o.err.find('\n', o.err.find(line)), o.err.size() - 1) << "one line, the last: " << o;
  // With code for the card, auto takes it.
  const Outcome usable = hyperfuse({"run", config("auto", "data/train.csv").string(), "--dry-run"},
                                   "HYPERFUSE_EMU_CHOSEN_BY_AUTO=1 HYPERFUSE_EMU_PROFILE=t4");
  EXPECT_EQ(usable.exit_code, 0) << usable;
  EXPECT_NE(usable.out.find("cuda"), std::string::npos) << usable;
  EXPECT_EQ(usable.err.find("training on the CPU"), std::string::npos) << usable;
}

// A CPU-only build, or a CUDA build on a machine without a GPU (the emulated build's "no device"
// is DeviceLimitsCli's).
TEST(DevicesCommand, SaysNoGpuPlainly) {
  const BackendEntry* gpu = testing::gpu_backend_entry();
  if (gpu != nullptr && (gpu->emulated || gpu->device_count() > 0)) GTEST_SKIP() << "a GPU is visible";
  const fs::path work = testing::scratch_dir("devices");
  const testing::Outcome o = testing::run_hyperfuse(work, work, {"devices"});
  EXPECT_EQ(o.exit_code, 0) << o;
  if (gpu == nullptr) {
    EXPECT_EQ(o.out.rfind("no GPU: this build of hyperfuse has no CUDA backend", 0), 0u) << o;
  } else {
    EXPECT_EQ(o.out.rfind("CUDA backend for ", 0), 0u) << o;
    EXPECT_NE(o.out.find("\nno GPU: no CUDA device is visible"), std::string::npos) << o;
  }
}

TEST_F(DeviceLimitsCli, DevicesListsEveryCardLabelledEmulatedAndWhetherThisBuildRunsIt) {
  const Outcome o = hyperfuse({"devices"}, "HYPERFUSE_EMU_PROFILE=t4,h100 HYPERFUSE_EMU_BUILT_ARCHITECTURES=90");
  EXPECT_EQ(o.exit_code, 0) << o;
  for (const char* part :
       {"CUDA backend for sm_90, compute_90 (PTX) (emulated",
        "GPU 0 (Tesla T4 (hyperfuse emulation), compute capability 7.5)", "64.0 KiB shared memory per block",
        "this build cannot train on it: this build of hyperfuse holds no code",
        "GPU 1 (NVIDIA H100 80GB HBM3 (hyperfuse emulation), compute capability 9.0)",
        "227 KiB shared memory per block", "80.0 GiB memory", "this build can train on it"})
    EXPECT_NE(o.out.find(part), std::string::npos) << part << "\n" << o;
  const Outcome none = hyperfuse({"devices"}, "HYPERFUSE_EMU_DEVICES=0");
  EXPECT_EQ(none.exit_code, 0) << none;
  EXPECT_NE(none.out.find("no GPU: no CUDA device is visible"), std::string::npos) << none;
}

// The seed network (30 features: widths 30-60-90-60-30-15-1) at batch 32 needs about 150 KiB on
// chip: all of it on an H100 and an A100, its weights partly in global scratch on the 99 and
// 64 KiB cards.
TEST_F(DeviceLimitsCli, DevicesWithAConfigSaysWhatStaysOnChipOnEachCard) {
  ASSERT_EQ(hyperfuse({"make-data", "--out-dir", "data", "--train-rows", "200", "--test-rows", "100"}, "").exit_code,
            0);
  const std::string search = config("cuda", "data/train.csv", "[[2, 3, 2, 1, 0.5]]\nbatch_size = [32]").string();
  const Outcome o = hyperfuse({"devices", search}, "HYPERFUSE_EMU_PROFILE=h100,a100,rtx4090,t4");
  ASSERT_EQ(o.exit_code, 0) << o;
  std::vector<std::string> plans;
  for (std::size_t at = o.out.find("  widths 30-60-90-60-30-15-1, batch 32: "); at != std::string::npos;
       at = o.out.find("  widths 30-60-90-60-30-15-1, batch 32: ", at + 1))
    plans.push_back(o.out.substr(at, o.out.find('\n', at) - at));
  ASSERT_EQ(plans.size(), 4u) << o;
  EXPECT_NE(plans[0].find("nothing in global scratch"), std::string::npos) << plans[0];
  EXPECT_NE(plans[1].find("nothing in global scratch"), std::string::npos) << plans[1];
  for (std::size_t small : {std::size_t{2}, std::size_t{3}}) {
    EXPECT_NE(plans[small].find("a network in global scratch (weights of layers"), std::string::npos) << plans[small];
    EXPECT_NE(plans[small].find("1 launch an epoch"), std::string::npos) << plans[small];
  }
  EXPECT_NE(o.out.find("compute capability 7.5), 64.0 KiB shared memory per block, "), std::string::npos) << o;
}

}  // namespace
}  // namespace hf
