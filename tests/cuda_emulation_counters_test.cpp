// The emulation's profiler-like kernel counters (tests/cuda_emulation/src/kernel_counters.cpp) on
// small kernels whose answers are known by hand: shared-memory wavefronts against the minimum
// (bank conflicts), global sectors per request, warps active per scheduler, barriers and phases.
// Built only with -DHYPERFUSE_CUDA=EMULATE, instrumented like the backend's kernels.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda/kernel_launch.hpp"
#include "tests/cuda_emulation/emulation_control.hpp"
#include "tests/hyperfuse_process.hpp"

namespace hf {
namespace {

// ---- Kernels (each access below is one warp instruction per warp) ----

// Word threadIdx.x * stride of shared memory written, then (after a barrier) the next thread's
// read: the same words, so the same conflicts, on both sides of the barrier.
constexpr int kStrideBarrierLine = __LINE__ + 5;
__global__ void shared_stride_kernel(float* out, int stride) {
  float* shared = dynamic_shared_memory<float>();
  const unsigned t = threadIdx.x;
  shared[t * stride] = static_cast<float>(t);
  __syncthreads();
  out[t] = shared[((t + 1) % blockDim.x) * stride];
}

// Thread 0 writes one word; every lane reads it: a broadcast.
__global__ void shared_broadcast_kernel(float* out) {
  float* shared = dynamic_shared_memory<float>();
  if (threadIdx.x == 0) shared[0] = 3.0f;
  __syncthreads();
  out[threadIdx.x] = shared[0];
}

// 16-byte accesses, float4 element threadIdx.x * stride.
__global__ void shared_vector_kernel(float4* out, int stride) {
  float4* shared = dynamic_shared_memory<float4>();
  const unsigned t = threadIdx.x;
  shared[t * stride] = out[t];
  __syncthreads();
  out[t] = shared[t * stride];
}

__global__ void global_stride_kernel(const float* in, float* out, int stride) {
  const unsigned t = threadIdx.x;
  out[t] = in[t * stride];
}

// Only the first `working_warps` warps touch memory.
__global__ void busy_warps_kernel(float* out, unsigned working_warps) {
  if (threadIdx.x / 32 < working_warps) out[threadIdx.x] = 1.0f;
}

// Every warp reads a bound; only the first then works.
__global__ void one_working_warp_kernel(const float* bound, float* out) {
  const float b = bound[0];
  if (threadIdx.x < 32)
    for (int i = 0; i < 4; ++i) out[threadIdx.x + 32 * i] = b + static_cast<float>(i);
}

// Three intervals ended by one barrier in a loop, as the fused kernel's loop over layers does.
__global__ void looped_barrier_kernel(float* out) {
  for (int i = 0; i < 3; ++i) {
    out[threadIdx.x + 32 * i] = 1.0f;
    __syncthreads();
  }
}

__global__ void three_barriers_kernel(float* out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = 1.0f;
  __syncthreads();
  out[i] += 1.0f;
  __syncthreads();
  __syncthreads();
}

// ---- Fixture ----

class KernelCounters : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!hf_emu::race_check_built()) GTEST_SKIP() << "the counters need the race check's instrumentation";
    was_enabled_ = hf_emu::kernel_counters_enabled();
    hf_emu::enable_kernel_counters(true);
    hf_emu::reset_counters();
    hf_emu::clear_errors();
    ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  }
  void TearDown() override {
    hf_emu::enable_kernel_counters(was_enabled_);
    hf_emu::clear_errors();  // a failed launch's sticky error stays with its test
    for (void* p : allocations_) cudaFree(p);
  }

  template <typename T>
  T* device_array(std::size_t count) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, count * sizeof(T)), cudaSuccess);
    EXPECT_EQ(cudaMemset(p, 0, count * sizeof(T)), cudaSuccess);
    allocations_.push_back(p);
    return static_cast<T*>(p);
  }

  // The counters of the one kernel launched since SetUp.
  static hf_emu::KernelCounters only(const std::string& kernel) {
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << hf_emu::last_violation();
    const std::vector<hf_emu::KernelCounters> all = hf_emu::kernel_counters();
    EXPECT_EQ(all.size(), 1u);
    if (all.empty()) return {};
    EXPECT_EQ(all[0].kernel, kernel);
    return all[0];
  }

  static const hf_emu::AccessCounts* phase(const hf_emu::KernelCounters& k, const std::string& name) {
    for (const auto& [phase_name, counts] : k.phases)
      if (phase_name == name) return &counts;
    return nullptr;
  }

  bool was_enabled_ = false;
  std::vector<void*> allocations_;
};

// ---- Shared memory ----

TEST_F(KernelCounters, ConsecutiveWordsAreConflictFree) {
  float* out = device_array<float>(32);
  HF_LAUNCH(shared_stride_kernel, 1, 32, 32 * sizeof(float), nullptr)(out, 1);
  const hf_emu::KernelCounters k = only("shared_stride_kernel");
  EXPECT_EQ(k.total.shared_requests, 2u);
  EXPECT_EQ(k.total.shared_wavefronts, 2u);
  EXPECT_EQ(k.total.shared_minimum_wavefronts, 2u);
  EXPECT_DOUBLE_EQ(k.total.bank_conflict_factor(), 1.0);
}

TEST_F(KernelCounters, AStrideOf32WordsIsA32WayConflict) {
  float* out = device_array<float>(32);
  HF_LAUNCH(shared_stride_kernel, 1, 32, 32 * 32 * sizeof(float), nullptr)(out, 32);
  const hf_emu::KernelCounters k = only("shared_stride_kernel");
  EXPECT_EQ(k.total.shared_wavefronts, 64u);
  EXPECT_EQ(k.total.shared_minimum_wavefronts, 2u);
  EXPECT_DOUBLE_EQ(k.total.bank_conflict_factor(), 32.0);
  // The write sits in the interval the kernel's __syncthreads ends, the read in the last one.
  const hf_emu::AccessCounts* before =
      phase(k, "cuda_emulation_counters_test.cpp:" + std::to_string(kStrideBarrierLine) + " #1");
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->shared_requests, 1u);
  EXPECT_EQ(before->shared_wavefronts, 32u);
  const hf_emu::AccessCounts* last = phase(k, "end of block");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->shared_wavefronts, 32u);
}

TEST_F(KernelCounters, AStrideOfTwoWordsIsATwoWayConflict) {
  float* out = device_array<float>(32);
  HF_LAUNCH(shared_stride_kernel, 1, 32, 2 * 32 * sizeof(float), nullptr)(out, 2);
  const hf_emu::KernelCounters k = only("shared_stride_kernel");
  EXPECT_EQ(k.total.shared_wavefronts, 4u);
  EXPECT_DOUBLE_EQ(k.total.bank_conflict_factor(), 2.0);
}

TEST_F(KernelCounters, EveryLaneReadingOneWordIsOneWavefront) {
  float* out = device_array<float>(32);
  HF_LAUNCH(shared_broadcast_kernel, 1, 32, sizeof(float), nullptr)(out);
  const hf_emu::KernelCounters k = only("shared_broadcast_kernel");
  EXPECT_EQ(k.total.shared_requests, 2u);  // thread 0's write, the warp's read
  EXPECT_EQ(k.total.shared_wavefronts, 2u);
  EXPECT_DOUBLE_EQ(k.total.bank_conflict_factor(), 1.0);
}

TEST_F(KernelCounters, Float4AccessesNeedFourWavefrontsAndConflictFromAStrideOfTwo) {
  float4* out = device_array<float4>(32);
  HF_LAUNCH(shared_vector_kernel, 1, 32, 32 * sizeof(float4), nullptr)(out, 1);
  hf_emu::KernelCounters k = only("shared_vector_kernel");
  EXPECT_EQ(k.total.shared_requests, 2u);
  EXPECT_EQ(k.total.shared_wavefronts, 8u);  // 4 quarter-warps of 128 bytes, each way
  EXPECT_EQ(k.total.shared_minimum_wavefronts, 8u);
  EXPECT_EQ(k.total.global_requests, 2u);
  EXPECT_EQ(k.total.global_sectors, 32u);  // 512 bytes each way

  hf_emu::reset_counters();
  HF_LAUNCH(shared_vector_kernel, 1, 32, 2 * 32 * sizeof(float4), nullptr)(out, 2);
  k = only("shared_vector_kernel");
  // A quarter-warp's 8 lanes 32 bytes apart: words 0-3, 8-11, ... 56-59, two per bank.
  EXPECT_EQ(k.total.shared_wavefronts, 16u);
  EXPECT_DOUBLE_EQ(k.total.bank_conflict_factor(), 2.0);
}

// ---- Global memory ----

TEST_F(KernelCounters, CoalescedAccessesTouchTheMinimumSectorsAndStridedOnesOnePerLane) {
  float* in = device_array<float>(32 * 32);
  float* out = device_array<float>(32);
  HF_LAUNCH(global_stride_kernel, 1, 32, 0, nullptr)(in, out, 1);
  hf_emu::KernelCounters k = only("global_stride_kernel");
  EXPECT_EQ(k.total.global_requests, 2u);
  EXPECT_EQ(k.total.global_sectors, 8u);
  EXPECT_EQ(k.total.global_minimum_sectors, 8u);
  EXPECT_DOUBLE_EQ(k.total.sectors_per_minimum(), 1.0);
  EXPECT_EQ(k.total.shared_requests, 0u);

  hf_emu::reset_counters();
  HF_LAUNCH(global_stride_kernel, 1, 32, 0, nullptr)(in, out, 32);
  k = only("global_stride_kernel");
  EXPECT_EQ(k.total.global_sectors, 32u + 4u);  // a sector per lane for the read, 4 for the write
  EXPECT_EQ(k.total.global_minimum_sectors, 8u);
}

// ---- Warps and barriers ----

TEST_F(KernelCounters, OneBusyWarpLeavesThreeSchedulersIdleAndEightFillEachWithTwo) {
  float* out = device_array<float>(256);
  HF_LAUNCH(busy_warps_kernel, 1, 256, 0, nullptr)(out, 1u);
  hf_emu::KernelCounters k = only("busy_warps_kernel");
  EXPECT_EQ(k.total.intervals_with_activity, 1u);
  EXPECT_EQ(k.total.active_warps_per_scheduler, (std::vector<std::uint64_t>{3, 1, 0, 0}));
  EXPECT_DOUBLE_EQ(k.total.mean_active_warps_per_scheduler(), 0.25);
  EXPECT_EQ(k.total.intervals_with_two_warps_per_scheduler, 0u);

  hf_emu::reset_counters();
  HF_LAUNCH(busy_warps_kernel, 1, 256, 0, nullptr)(out, 8u);
  k = only("busy_warps_kernel");
  EXPECT_EQ(k.total.active_warps_per_scheduler, (std::vector<std::uint64_t>{0, 0, 4, 0}));
  EXPECT_DOUBLE_EQ(k.total.mean_active_warps_per_scheduler(), 2.0);
  EXPECT_EQ(k.total.intervals_with_two_warps_per_scheduler, 1u);
  EXPECT_EQ(k.total.busy_warps_per_scheduler, (std::vector<std::uint64_t>{0, 0, 4, 0}));
}

TEST_F(KernelCounters, WarpsThatOnlyReadALoopBoundAreActiveButNotBusy) {
  float* bound = device_array<float>(1);
  float* out = device_array<float>(128);
  HF_LAUNCH(one_working_warp_kernel, 1, 256, 0, nullptr)(bound, out);
  const hf_emu::KernelCounters k = only("one_working_warp_kernel");
  EXPECT_EQ(k.total.active_warps_per_scheduler, (std::vector<std::uint64_t>{0, 0, 4, 0}));
  EXPECT_EQ(k.total.intervals_with_two_warps_per_scheduler, 1u);
  EXPECT_EQ(k.total.busy_warps_per_scheduler, (std::vector<std::uint64_t>{3, 1, 0, 0}));
  EXPECT_DOUBLE_EQ(k.total.mean_busy_warps_per_scheduler(), 0.25);
  EXPECT_EQ(k.total.intervals_with_two_busy_warps_per_scheduler, 0u);
}

TEST_F(KernelCounters, BarriersAreCountedPerBlockAndNameThePhasesTheyEnd) {
  float* out = device_array<float>(64);
  HF_LAUNCH(three_barriers_kernel, 2, 32, 0, nullptr)(out);
  const hf_emu::KernelCounters k = only("three_barriers_kernel");
  EXPECT_EQ(k.launches, 1u);
  EXPECT_EQ(k.blocks, 2u);
  EXPECT_EQ(k.barriers, 6u);
  EXPECT_EQ(k.total.intervals, 8u);  // 4 per block, the last one empty
  EXPECT_EQ(k.total.intervals_with_activity, 4u);
  ASSERT_EQ(k.phases.size(), 4u);
  EXPECT_EQ(k.phases.back().first, "end of block");
  EXPECT_EQ(k.phases[0].second.global_requests, 2u);  // one write per block
  EXPECT_EQ(k.phases[1].second.global_requests, 4u);  // a read and a write per block
  const std::string json = hf_emu::kernel_counters_json(hf_emu::kernel_counters());
  EXPECT_NE(json.find("\"three_barriers_kernel\": {\"kernel_launches\": 1, \"blocks\": 2, \"barriers\": 6"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"barriers_per_block\": 3"), std::string::npos) << json;
}

TEST_F(KernelCounters, ABarrierEndingIntervalsOneAfterAnotherNumbersItsPhases) {
  float* out = device_array<float>(96);
  HF_LAUNCH(looped_barrier_kernel, 1, 32, 0, nullptr)(out);
  const hf_emu::KernelCounters k = only("looped_barrier_kernel");
  ASSERT_EQ(k.phases.size(), 4u);
  for (int run = 1; run <= 3; ++run) {
    const std::string& name = k.phases[static_cast<std::size_t>(run - 1)].first;
    EXPECT_NE(name.find("cuda_emulation_counters_test.cpp:"), std::string::npos) << name;
    EXPECT_NE(name.find(" #" + std::to_string(run)), std::string::npos) << name;
    EXPECT_EQ(k.phases[static_cast<std::size_t>(run - 1)].second.global_requests, 1u) << name;
  }
}

TEST_F(KernelCounters, NothingIsCountedWhenSwitchedOff) {
  hf_emu::enable_kernel_counters(false);
  float* out = device_array<float>(32);
  HF_LAUNCH(shared_stride_kernel, 1, 32, 32 * sizeof(float), nullptr)(out, 1);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_TRUE(hf_emu::kernel_counters().empty());
}

// ---- Through the environment, as bench/emulated_kernel_counters.sh uses them ----

TEST(KernelCountersFile, AreWrittenAfterTheOtherCountersOnlyWhenAskedFor) {
  if (!hf_emu::race_check_built()) GTEST_SKIP() << "the counters need the race check's instrumentation";
  const std::filesystem::path work = testing::scratch_dir("work");
  testing::Outcome o = testing::run_hyperfuse(
      work, work, {"make-data", "--out-dir", "data", "--train-rows", "64", "--test-rows", "32", "--seed", "3"});
  ASSERT_EQ(o.exit_code, 0) << o;
  testing::write_text(work / "run.toml",
                      "[data]\ntrain = \"data/train.csv\"\ntest = \"data/test.csv\"\n[search]\nrerun_count = 1\n"
                      "permutations = 0\n[output]\nkeep_models = 0\n[hyperparameters]\nhidden_layers = [[1]]\n"
                      "batch_size = [32]\nmax_epochs = [1]\n");
  const std::string counters = (work / "counters.json").string();
  const std::string environment =
      "HYPERFUSE_EMU_RACE_CHECK=0 HYPERFUSE_EMU_COUNTERS=" + testing::shell_quoted(counters);
  o = testing::run_hyperfuse(work, work, {"run", "run.toml", "--device", "cuda", "--fresh", "-q"}, environment);
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_EQ(testing::read_text(counters).find("\"kernels\""), std::string::npos) << testing::read_text(counters);

  o = testing::run_hyperfuse(work, work, {"run", "run.toml", "--device", "cuda", "--fresh", "-q"},
                             environment + " HYPERFUSE_EMU_KERNEL_COUNTERS=1");
  ASSERT_EQ(o.exit_code, 0) << o;
  const std::string text = testing::read_text(counters);
  EXPECT_NE(text.find("\"training_steps\": 2, \"fused_epoch_launches\": 1, \"kernels\": {\"fused_epoch_kernel"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"bank_conflict_factor\": "), std::string::npos) << text;

  o = testing::run_hyperfuse(work, work, {"--version"}, environment + " HYPERFUSE_EMU_KERNEL_COUNTERS=yes");
  EXPECT_EQ(o.exit_code, 2) << o;
  EXPECT_NE(o.err.find("HYPERFUSE_EMU_KERNEL_COUNTERS='yes' is not 0 or 1"), std::string::npos) << o;
}

}  // namespace
}  // namespace hf
