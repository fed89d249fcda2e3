// The CUDA host emulation itself (tests/cuda_emulation): each strict check fires with CUDA's
// error code and says what was wrong; barriers, shuffles, CUB and cuBLAS compute what CUDA's do;
// streams run lazily; counters count; several devices keep their memory apart; every injected
// fault behaves as documented. Built only with -DHYPERFUSE_CUDA=EMULATE, where this file's
// kernels are compiled and instrumented like the backend's.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cub/block/block_reduce.cuh>
#include <numeric>
#include <thread>
#include <vector>

#include "host/training/pack_trainer.hpp"
#include "kernels/backend/device_errors.hpp"
#include "kernels/cuda/cuda_backend.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_view.hpp"
#include "kernels/cuda/shared_memory_attribute.hpp"
#include "tests/cuda_emulation/emulation_control.hpp"
#include "tests/emulated_cards.hpp"

// Which checks this build has: the race check needs -fsanitize=thread instrumentation (the plain
// emulated build), overruns inside kernels need AddressSanitizer (the ASan build); each test
// exists only in the build that has its check.
#if defined(__SANITIZE_THREAD__)
#define HF_TEST_RACE_CHECK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HF_TEST_RACE_CHECK 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HF_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HF_TEST_ASAN 1
#endif
#endif

namespace hf {
namespace {

// ---- Kernels ----

__global__ void fill_kernel(float* out, int n, float value) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = value;
}

__global__ void read_pack_kernel(PackView pack, float* out) {
  if (threadIdx.x == 0) out[0] = pack.active[0];
}

__global__ void dynamic_shared_kernel(float* out) {
  float* shared = dynamic_shared_memory<float>();
  shared[threadIdx.x] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = shared[blockDim.x - 1 - threadIdx.x];
}

__global__ void warp_sum_kernel(unsigned* out) {
  const unsigned sum = __reduce_add_sync(0xffffffffu, threadIdx.x);
  if (threadIdx.x == 0) *out = sum;
}

#if HF_TEST_RACE_CHECK
__global__ void shared_race_kernel(float* out, bool barrier) {
  __shared__ float value;
  if (threadIdx.x == 0) value = 3.0f;
  if (barrier) __syncthreads();
  if (threadIdx.x == 1) out[0] = value;
}

// Odd threads read what even threads wrote; even threads read odd entries nobody wrote.
__global__ void uninitialised_shared_kernel(float* out) {
  __shared__ float values[64];
  if (threadIdx.x % 2 == 0) values[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = values[threadIdx.x ^ 1];
}

__global__ void global_race_kernel(int* out) {
  if (threadIdx.x == 0) out[0] = static_cast<int>(blockIdx.x);  // one writer per block
}

__global__ void atomic_count_kernel(int* out) { atomicAdd(out, 1); }

__global__ void own_element_kernel(int* out) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  out[i] = i;
}

// Thread i reads element i: one thread too many reads one element past the end.
__global__ void copy_elements_kernel(const float* in, float* out) { out[threadIdx.x] = in[threadIdx.x]; }

// Thread i writes element i - shift: with a shift, the first threads write before the start.
__global__ void shifted_write_kernel(float* out, int shift) { out[static_cast<int>(threadIdx.x) - shift] = 1.0f; }

// Thread i writes float i of the dynamic shared memory: more threads than floats write past it.
__global__ void shared_row_kernel(float* out) {
  float* shared = dynamic_shared_memory<float>();
  shared[threadIdx.x] = 1.0f;
  __syncthreads();
  if (threadIdx.x == 0) out[0] = shared[0];
}

__global__ void read_sum_kernel(const float* in, float* out, int n) {
  if (threadIdx.x != 0) return;
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += in[i];
  out[0] = sum;
}
#endif

#if HF_TEST_ASAN
__global__ void write_past_the_end_kernel(float* out, int n) {
  if (threadIdx.x == 0) out[n] = 1.0f;
}
#endif

__global__ void divergent_shuffle_kernel(float* out) {
  const unsigned lane = threadIdx.x % 32;
  float v = static_cast<float>(lane);
  if (lane < 16)
    v = __shfl_down_sync(0xffffffffu, v, 1);
  else
    v = __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}

__global__ void mask_without_caller_kernel(float* out) { out[threadIdx.x] = __shfl_sync(0x0000ffffu, 1.0f, 0); }

__global__ void shuffle_from_exited_lane_kernel(float* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.0f, 8);
}

// Lanes 0-15 shuffle among themselves, but lane 15 reads lane 16, outside the mask.
__global__ void shuffle_outside_mask_kernel(float* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, static_cast<float>(threadIdx.x), static_cast<int>(threadIdx.x) + 1);
}

__global__ void ballot_naming_exited_lanes_kernel(unsigned* out) {
  if (threadIdx.x >= 24) return;
  out[threadIdx.x] = __ballot_sync(0xffffffffu, 1);
}

// A partial warp's lanes shuffle within the warp's segment of 8 lanes: no lane outside it.
__global__ void shuffle_within_width_kernel(float* out) {
  out[threadIdx.x] = __shfl_down_sync(0x00ffffffu, static_cast<float>(threadIdx.x), 4, 8);
}

__global__ void early_exit_before_barrier_kernel(float* out) {
  if (threadIdx.x < 32) return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void shuffle_against_barrier_kernel(float* out) {
  if (threadIdx.x < 16) {
    out[threadIdx.x] = __shfl_sync(0xffffffffu, 1.0f, 0);
  } else {
    __syncthreads();
  }
}

// A block sum through shared memory (a tree with barriers, then a warp of shuffles), the same
// with cub::BlockReduce, barrier predicates, ballots and the shuffle variants, all checked
// against host arithmetic.
constexpr int kReduceThreads = 256;

struct ReduceResults {
  int tree_sum;
  double cub_sum;
  int count_odd;
  int all_positive;
  int any_over_250;
  unsigned ballot_even;
  int up[32];
  int xor_result[32];
  int reduce_add;
};
__global__ void reductions_kernel(const int* values, ReduceResults* results) {
  __shared__ int partial[kReduceThreads];
  const int t = static_cast<int>(threadIdx.x);
  const int v = values[blockIdx.x * kReduceThreads + t];
  partial[t] = v;
  __syncthreads();
  for (int stride = kReduceThreads / 2; stride >= 32; stride /= 2) {
    if (t < stride) partial[t] += partial[t + stride];
    __syncthreads();
  }
  ReduceResults& r = results[blockIdx.x];
  if (t < 32) {
    int sum = partial[t];
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (t == 0) r.tree_sum = sum;
    r.up[t] = __shfl_up_sync(0xffffffffu, t * 10, 3);
    r.xor_result[t] = __shfl_xor_sync(0xffffffffu, t, 5);
    const unsigned ballot = __ballot_sync(0xffffffffu, v % 2 == 0);
    if (t == 0) r.ballot_even = ballot;
    const int reduced = __reduce_add_sync(0xffffffffu, v);
    if (t == 0) r.reduce_add = reduced;
  }
  using Reduce = cub::BlockReduce<double, kReduceThreads>;
  __shared__ typename Reduce::TempStorage storage;
  const double total = Reduce(storage).Sum(static_cast<double>(v) * 0.5);
  if (t == 0) r.cub_sum = total;
  const int odd = __syncthreads_count(v % 2 == 1);
  const int positive = __syncthreads_and(v > 0);
  const int over = __syncthreads_or(v > 250);
  if (t == 0) {
    r.count_odd = odd;
    r.all_positive = positive;
    r.any_over_250 = over;
  }
}

// ---- Fixture ----

// Every test starts from a clean emulated machine and leaves one: errors cleared, no faults,
// device 0 current, the devices as configured for the process.
class CudaEmulation : public ::testing::Test {
 protected:
  void SetUp() override {
    devices_ = hf_emu::configured_device_memory();
    hf_emu::clear_errors();
    hf_emu::set_faults(hf_emu::Faults{});
    ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  }
  void TearDown() override {
    hf_emu::clear_errors();
    hf_emu::set_faults(hf_emu::Faults{});
    for (void* p : allocations_) cudaFree(p);
    allocations_.clear();
    hf_emu::configure_devices(static_cast<int>(devices_.size()), devices_);
    cudaSetDevice(0);
  }

  template <typename T>
  T* device_array(std::size_t count) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, count * sizeof(T)), cudaSuccess);
    allocations_.push_back(p);
    return static_cast<T*>(p);
  }
  void free_all() {
    for (void* p : allocations_) cudaFree(p);
    allocations_.clear();
  }

  // The violation the last failing call reported, for messages.
  static std::string violation() { return hf_emu::last_violation(); }

  std::vector<std::size_t> devices_;
  std::vector<void*> allocations_;
};

#define EXPECT_VIOLATION_HAS(text) EXPECT_NE(violation().find(text), std::string::npos) << violation()

// ---- Memory spaces and bounds ----

TEST_F(CudaEmulation, CopyPastTheEndOfAnAllocationIsAnInvalidValue) {
  float* d = device_array<float>(25);  // 100 bytes
  std::vector<float> host(26, 1.0f);
  EXPECT_EQ(cudaMemcpy(d, host.data(), 104, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_VIOLATION_HAS("4 bytes past its end");
  EXPECT_VIOLATION_HAS("device allocation");
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // not sticky
  EXPECT_EQ(cudaMemcpy(d, host.data(), 100, cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(host.data(), d + 1, 100, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
}

TEST_F(CudaEmulation, CopyInTheWrongDirectionIsAnInvalidValue) {
  float* d = device_array<float>(4);
  std::vector<float> host(4, 1.0f);
  EXPECT_EQ(cudaMemcpy(host.data(), d, 16, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_VIOLATION_HAS("is not device memory");
  EXPECT_EQ(cudaMemcpy(d, host.data(), 16, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_VIOLATION_HAS("is device memory");
  EXPECT_EQ(cudaMemcpy(d, host.data(), 16, cudaMemcpyDefault), cudaSuccess);  // inferred from the pointers
  EXPECT_EQ(cudaMemcpy(d, d + 2, 8, cudaMemcpyDeviceToDevice), cudaSuccess);
  EXPECT_EQ(cudaMemsetAsync(host.data(), 0, 16, nullptr), cudaErrorInvalidValue);
  EXPECT_VIOLATION_HAS("neither device memory nor pinned");
}

TEST_F(CudaEmulation, FreeingWhatCudaMallocDidNotReturnIsAnInvalidValue) {
  float* d = device_array<float>(4);
  EXPECT_EQ(cudaFree(d + 1), cudaErrorInvalidValue);
  std::vector<float> host(4);
  EXPECT_EQ(cudaFree(host.data()), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFreeHost(d), cudaErrorInvalidValue);
}

// cudaFree waits for every stream of the device; cudaFreeAsync for nothing: the work queued
// before it on its stream still uses the memory, anything queued after it may not.
TEST_F(CudaEmulation, StreamOrderedFreeWaitsForNoOtherStreamAndEndsTheAllocationInStreamOrder) {
  cudaStream_t busy = nullptr, own = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&busy, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaStreamCreateWithFlags(&own, cudaStreamNonBlocking), cudaSuccess);
  bool busy_ran = false;
  const auto mark = [](void* flag) { *static_cast<bool*>(flag) = true; };
  ASSERT_EQ(cudaLaunchHostFunc(busy, mark, &busy_ran), cudaSuccess);

  float* data = nullptr;
  ASSERT_EQ(cudaMallocAsync(reinterpret_cast<void**>(&data), 64 * sizeof(float), own), cudaSuccess);
  std::size_t free_before = 0, total = 0, free_after = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_before, &total), cudaSuccess);
  HF_LAUNCH(fill_kernel, 1, 64, 0, own)(data, 64, 2.0f);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  std::vector<float> host(64, 0.0f);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), data, 64 * sizeof(float), cudaMemcpyDeviceToHost, own), cudaSuccess);
  ASSERT_EQ(cudaFreeAsync(data, own), cudaSuccess);
  EXPECT_FALSE(busy_ran);  // no device-wide synchronisation
  // Queued after the free: a use after free in stream order.
  EXPECT_EQ(cudaMemsetAsync(data, 0, 64 * sizeof(float), own), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFreeAsync(data, own), cudaErrorInvalidValue);
  ASSERT_EQ(cudaStreamSynchronize(own), cudaSuccess);
  for (float v : host) EXPECT_EQ(v, 2.0f);  // the work before the free read the memory
  ASSERT_EQ(cudaMemGetInfo(&free_after, &total), cudaSuccess);
  EXPECT_EQ(free_after, free_before + 64 * sizeof(float));
  EXPECT_FALSE(busy_ran);

  // cudaFree, by contrast, runs every stream's work first.
  float* other = device_array<float>(4);
  allocations_.pop_back();
  ASSERT_EQ(cudaFree(other), cudaSuccess);
  EXPECT_TRUE(busy_ran);
  EXPECT_EQ(cudaStreamDestroy(busy), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(own), cudaSuccess);
}

TEST_F(CudaEmulation, HostPointerAsKernelArgumentFailsTheLaunch) {
  std::vector<float> host(64);
  HF_LAUNCH(fill_kernel, 1, 64, 0, nullptr)(host.data(), 64, 1.0f);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
  EXPECT_VIOLATION_HAS("`fill_kernel` argument 0");
  EXPECT_VIOLATION_HAS("is not device memory");
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress);  // sticky, as the GPU's fault would be
}

TEST_F(CudaEmulation, HostPointerInsideAPackViewFailsTheLaunch) {
  float* out = device_array<float>(1);
  std::vector<std::uint8_t> host_flags(4, 1);
  PackView pack;
  pack.models = 4;
  pack.active = host_flags.data();
  HF_LAUNCH(read_pack_kernel, 1, 32, 0, nullptr)(pack, out);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
  EXPECT_VIOLATION_HAS("argument 0 (member active)");

  hf_emu::clear_errors();
  std::uint8_t* flags = device_array<std::uint8_t>(4);
  ASSERT_EQ(cudaMemcpy(flags, host_flags.data(), 4, cudaMemcpyHostToDevice), cudaSuccess);
  pack.active = flags;
  HF_LAUNCH(read_pack_kernel, 1, 32, 0, nullptr)(pack, out);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  float result = 0.0f;
  ASSERT_EQ(cudaMemcpy(&result, out, sizeof result, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(result, 1.0f);
}

// ---- Launch configuration ----

TEST_F(CudaEmulation, LaunchConfigurationsBeyondTheLimitsAreRejectedWithCudasCodes) {
  float* d = device_array<float>(2048);
  const auto launch = [&](dim3 grid, dim3 block) {
    HF_LAUNCH(fill_kernel, grid, block, 0, nullptr)(d, 0, 1.0f);
    return cudaGetLastError();
  };
  EXPECT_EQ(launch(1, 1024), cudaSuccess);
  EXPECT_EQ(launch(1, 1025), cudaErrorInvalidConfiguration);
  EXPECT_VIOLATION_HAS("1025 threads; at most 1024");
  EXPECT_EQ(launch(1, dim3(512, 4)), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch(1, dim3(1, 1, 65)), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch(dim3(1, 65536), 32), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch(dim3(1, 1, 65536), 32), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch(0, 32), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch(dim3(2147483647u, 1), 32), cudaSuccess);  // queued, never run: the limit is allowed
  hf_emu::clear_errors();
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST_F(CudaEmulation, SharedMemoryOverTheDefaultNeedsTheAttributeAndStaysUnderTheOptInLimit) {
  float* out = device_array<float>(128);
  HF_LAUNCH(dynamic_shared_kernel, 1, 128, 48 * 1024 + 4, nullptr)(out);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_VIOLATION_HAS("cudaFuncAttributeMaxDynamicSharedMemorySize");
  EXPECT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);  // what the refused attribute left
  ASSERT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 100 * 1024),
            cudaSuccess);
  HF_LAUNCH(dynamic_shared_kernel, 1, 128, 100 * 1024, nullptr)(out);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  HF_LAUNCH(dynamic_shared_kernel, 1, 128, 100 * 1024 + 1, nullptr)(out);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  std::vector<float> host(128);
  ASSERT_EQ(cudaMemcpy(host.data(), out, sizeof(float) * 128, cudaMemcpyDeviceToHost), cudaSuccess);
  for (int i = 0; i < 128; ++i) EXPECT_EQ(host[i], static_cast<float>(127 - i));
  // Back to the default, as later tests expect.
  ASSERT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 48 * 1024),
            cudaSuccess);
}

// ---- Device profiles (HYPERFUSE_EMU_PROFILE) and built architectures ----

TEST_F(CudaEmulation, EachProfileIsItsCardAndRefusesSharedMemoryAboveItsOptInLimit) {
  struct Card {
    const char* profile;
    const char* name;
    int major, minor, multiprocessors;
    int optin;
  };
  for (const Card& card :
       {Card{"t4", "Tesla T4", 7, 5, 40, 64 * 1024}, Card{"rtx4090", "NVIDIA GeForce RTX 4090", 8, 9, 128, 99 * 1024},
        Card{"a100", "NVIDIA A100-SXM4-80GB", 8, 0, 108, 163 * 1024},
        Card{"b200", "NVIDIA B200", 10, 0, 148, 227 * 1024}}) {
    SCOPED_TRACE(card.profile);
    const testing::EmulatedCards cards({card.profile});
    cudaDeviceProp p{};
    ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
    EXPECT_EQ(std::string(p.name).rfind(card.name, 0), 0u) << p.name;
    EXPECT_EQ(p.major, card.major);
    EXPECT_EQ(p.minor, card.minor);
    EXPECT_EQ(p.multiProcessorCount, card.multiprocessors);
    EXPECT_EQ(p.sharedMemPerBlockOptin, static_cast<std::size_t>(card.optin));
    int optin = 0;
    ASSERT_EQ(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), cudaSuccess);
    EXPECT_EQ(optin, card.optin);
    EXPECT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, card.optin + 1),
              cudaErrorInvalidValue);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
    ASSERT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, card.optin),
              cudaSuccess);
    cudaFuncAttributes attributes{};
    ASSERT_EQ(cudaFuncGetAttributes(&attributes, dynamic_shared_kernel), cudaSuccess);
    EXPECT_EQ(attributes.maxDynamicSharedSizeBytes, card.optin);
  }
}

// The fused kernels' attribute is shared by the workers of one GPU: raised to what a launch
// needs, never lowered by a worker whose plan is smaller, refused above the card's limit.
TEST_F(CudaEmulation, TheSharedMemoryAttributeIsOnlyEverRaisedWithinTheCardsLimit) {
  const testing::EmulatedCards cards({"a100"});
  const void* kernel = reinterpret_cast<const void*>(dynamic_shared_kernel);
  const auto allowed = [&] {
    cudaFuncAttributes attributes{};
    EXPECT_EQ(cudaFuncGetAttributes(&attributes, kernel), cudaSuccess);
    return attributes.maxDynamicSharedSizeBytes;
  };
  EXPECT_EQ(allowed(), 48 * 1024);
  allow_dynamic_shared_memory(kernel, 150 * 1024);
  EXPECT_EQ(allowed(), 150 * 1024);
  allow_dynamic_shared_memory(kernel, 20 * 1024);  // another worker's smaller plan
  EXPECT_EQ(allowed(), 150 * 1024);
  allow_dynamic_shared_memory(kernel, 163 * 1024);
  EXPECT_EQ(allowed(), 163 * 1024);
  EXPECT_THROW(allow_dynamic_shared_memory(kernel, 163 * 1024 + 4), DeviceError);  // above the A100's opt-in
  hf_emu::clear_errors();
}

TEST_F(CudaEmulation, WarpReductionsAreAnErrorOnACardBelowSm80) {
  for (const char* profile : {"a100", "t4"}) {
    SCOPED_TRACE(profile);
    const testing::EmulatedCards cards({profile});
    unsigned* sum = nullptr;
    ASSERT_EQ(cudaMalloc(&sum, sizeof(unsigned)), cudaSuccess);
    const std::uint64_t violations = hf_emu::violation_count();
    HF_LAUNCH(warp_sum_kernel, 1, 32, 0, nullptr)(sum);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    if (std::string(profile) == "a100") {
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      unsigned host = 0;
      ASSERT_EQ(cudaMemcpy(&host, sum, sizeof host, cudaMemcpyDeviceToHost), cudaSuccess);
      EXPECT_EQ(host, 31u * 32u / 2u);
      EXPECT_EQ(cudaFree(sum), cudaSuccess);
    } else {
      EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
      EXPECT_GT(hf_emu::violation_count(), violations);
      EXPECT_VIOLATION_HAS("__reduce_add_sync");
      EXPECT_VIOLATION_HAS("needs compute capability 8.0");
      hf_emu::clear_errors();
      cudaFree(sum);
    }
  }
}

TEST_F(CudaEmulation, ACardTheBuildHoldsNoCodeForGetsNoKernelImage) {
  // A Hopper-only build ("90": sm_90 and compute_90 PTX): the T4 and the A100 have no image, the
  // H100 its machine code, the B200 and the RTX 5090 the PTX.
  for (const auto& [profile, runs] : std::vector<std::pair<const char*, bool>>{
           {"t4", false}, {"a100", false}, {"h100", true}, {"b200", true}, {"rtx5090", true}}) {
    SCOPED_TRACE(profile);
    const testing::EmulatedCards cards({profile}, "90");
    float* data = nullptr;
    ASSERT_EQ(cudaMalloc(&data, 128 * sizeof(float)), cudaSuccess);
    const cudaError_t expected = runs ? cudaSuccess : cudaErrorNoKernelImageForDevice;
    cudaFuncAttributes attributes{};
    EXPECT_EQ(cudaFuncGetAttributes(&attributes, dynamic_shared_kernel), expected);
    EXPECT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 1024), expected);
    cudaGetLastError();
    HF_LAUNCH(dynamic_shared_kernel, 1, 128, 128 * sizeof(float), nullptr)(data);
    EXPECT_EQ(cudaGetLastError(), expected);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // not sticky
    EXPECT_EQ(cudaFree(data), cudaSuccess);
  }
  // Machine code runs on the same major version from its minor one up: sm_80 on 8.9, not on 9.0.
  {
    const testing::EmulatedCards cards({"rtx4090", "h100"}, "80-real");
    cudaFuncAttributes attributes{};
    EXPECT_EQ(cudaFuncGetAttributes(&attributes, dynamic_shared_kernel), cudaSuccess);
    ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
    EXPECT_EQ(cudaFuncGetAttributes(&attributes, dynamic_shared_kernel), cudaErrorNoKernelImageForDevice);
    ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  }
  EXPECT_THROW(hf_emu::set_built_architectures("90-fast"), std::logic_error);
  EXPECT_THROW(hf_emu::set_device_profiles({"gtx1080"}), std::logic_error);
}

// ---- Races (the plain emulated build) and overruns (the AddressSanitizer one) ----

#if HF_TEST_ASAN
TEST_F(CudaEmulation, AKernelWritingPastItsAllocationIsCaughtByAddressSanitizer) {
  float* d = device_array<float>(10);
  EXPECT_DEATH(
      {
        HF_LAUNCH(write_past_the_end_kernel, 1, 32, 0, nullptr)(d, 10);
        cudaDeviceSynchronize();
      },
      "heap-buffer-overflow");
}
#endif

#if HF_TEST_RACE_CHECK

TEST_F(CudaEmulation, RaceInSharedMemoryIsReportedWithBothThreads) {
  ASSERT_TRUE(hf_emu::race_check_built());
  float* out = device_array<float>(1);
  HF_LAUNCH(shared_race_kernel, 1, 32, 0, nullptr)(out, true);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << violation();
  HF_LAUNCH(shared_race_kernel, 1, 32, 0, nullptr)(out, false);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("kernel `shared_race_kernel`");
  EXPECT_VIOLATION_HAS("data race on static __shared__ memory");
  EXPECT_VIOLATION_HAS("thread (1,0,0) reads");
  EXPECT_VIOLATION_HAS("thread (0,0,0) wrote");
  EXPECT_VIOLATION_HAS("cuda_emulation_test.cpp:");  // where each access is in the source
}

TEST_F(CudaEmulation, RaceInGlobalMemoryBetweenBlocksIsReported) {
  ASSERT_TRUE(hf_emu::race_check_built());
  int* out = device_array<int>(64);
  HF_LAUNCH(own_element_kernel, 2, 32, 0, nullptr)(out);
  HF_LAUNCH(atomic_count_kernel, 4, 64, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << violation();
  HF_LAUNCH(global_race_kernel, 2, 32, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("data race on byte 0 of device allocation");
  EXPECT_VIOLATION_HAS("block (1,0,0) thread (0,0,0) writes");
  EXPECT_VIOLATION_HAS("block (0,0,0) thread (0,0,0) wrote");
  EXPECT_VIOLATION_HAS("different blocks never synchronise");
}

TEST_F(CudaEmulation, ReadingSharedMemoryNoThreadWroteIsReported) {
  ASSERT_TRUE(hf_emu::race_check_built());
  float* out = device_array<float>(64);
  HF_LAUNCH(uninitialised_shared_kernel, 1, 64, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("block (0,0,0) thread (0,0,0) reads static __shared__ memory");
  EXPECT_VIOLATION_HAS("which no thread of its block has written");
}

// ---- Bounds (the race check's hooks) ----

TEST_F(CudaEmulation, AKernelReadingPastTheEndOfAnAllocationIsReported) {
  float* in = device_array<float>(31);
  float* out = device_array<float>(32);
  ASSERT_EQ(cudaMemset(in, 0, 31 * sizeof(float)), cudaSuccess);
  HF_LAUNCH(copy_elements_kernel, 1, 32, 0, nullptr)(in, out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  EXPECT_VIOLATION_HAS("thread (31,0,0): out-of-bounds access: reads 4 bytes at offset 124 of device allocation #");
  EXPECT_VIOLATION_HAS("(124 bytes on device 0), 4 bytes past its end at ");
  EXPECT_VIOLATION_HAS("cuda_emulation_test.cpp:");
  EXPECT_VIOLATION_HAS("kernel `copy_elements_kernel`");
}

TEST_F(CudaEmulation, AKernelWritingBeforeAnAllocationIsReported) {
  float* out = device_array<float>(32);
  HF_LAUNCH(shifted_write_kernel, 1, 32, 0, nullptr)(out, 8);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  EXPECT_VIOLATION_HAS("thread (0,0,0): out-of-bounds access: writes 4 bytes at offset -32 of device allocation #");
  EXPECT_VIOLATION_HAS("32 bytes before its start");
}

TEST_F(CudaEmulation, AKernelWritingPastItsDynamicSharedMemoryIsReported) {
  float* out = device_array<float>(1);
  HF_LAUNCH(shared_row_kernel, 1, 64, 32 * sizeof(float), nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  EXPECT_VIOLATION_HAS(
      "thread (32,0,0): out-of-bounds access: writes 4 bytes at offset 128 of the block's dynamic shared "
      "memory (the launch's 128 bytes), 4 bytes past its end at ");
  HF_LAUNCH(shared_row_kernel, 1, 32, 32 * sizeof(float), nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress) << "the error is sticky, as a GPU's";
}

TEST_F(CudaEmulation, KernelsInsideTheirAllocationsAreNotReported) {
  float* in = device_array<float>(32);
  float* out = device_array<float>(32);
  ASSERT_EQ(cudaMemset(in, 0, 32 * sizeof(float)), cudaSuccess);
  const std::uint64_t before = hf_emu::violation_count();
  HF_LAUNCH(copy_elements_kernel, 1, 32, 0, nullptr)(in, out);
  HF_LAUNCH(shared_row_kernel, 1, 32, 32 * sizeof(float), nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(hf_emu::violation_count(), before);
}

// ---- Ordering between streams ----

// A writer on one stream and a reader on another: reported with no event between them, whichever
// stream the emulation happens to run first; fine with an event, a stream or a device
// synchronisation in between.
class StreamOrdering : public CudaEmulation {
 protected:
  void SetUp() override {
    CudaEmulation::SetUp();
    ASSERT_EQ(cudaStreamCreateWithFlags(&writer_, cudaStreamNonBlocking), cudaSuccess);
    ASSERT_EQ(cudaStreamCreateWithFlags(&reader_, cudaStreamNonBlocking), cudaSuccess);
    data_ = device_array<float>(64);
    sum_ = device_array<float>(1);
  }
  void TearDown() override {
    cudaStreamDestroy(writer_);
    cudaStreamDestroy(reader_);
    CudaEmulation::TearDown();
  }
  void write() { HF_LAUNCH(fill_kernel, 1, 64, 0, writer_)(data_, 64, 1.0f); }
  void read() { HF_LAUNCH(read_sum_kernel, 1, 32, 0, reader_)(data_, sum_, 64); }
  cudaStream_t writer_ = nullptr, reader_ = nullptr;
  float* data_ = nullptr;
  float* sum_ = nullptr;
};

TEST_F(StreamOrdering, AReadOnAnotherStreamWithoutAnEventIsReportedWhicheverRunsFirst) {
  write();
  read();
  EXPECT_EQ(cudaStreamSynchronize(writer_), cudaSuccess);  // the writer runs first
  EXPECT_EQ(cudaStreamSynchronize(reader_), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("unordered stream operations on bytes 0 to 256 of device allocation #");
  EXPECT_VIOLATION_HAS("kernel read_sum_kernel on stream #");
  EXPECT_VIOLATION_HAS("reads them at ");
  EXPECT_VIOLATION_HAS("kernel fill_kernel on stream #");
  EXPECT_VIOLATION_HAS("wrote them at ");
  EXPECT_VIOLATION_HAS("cuda_emulation_test.cpp:");
  hf_emu::clear_errors();

  write();
  read();
  EXPECT_EQ(cudaStreamSynchronize(reader_), cudaSuccess);  // the reader runs first: nothing to see yet
  EXPECT_EQ(cudaStreamSynchronize(writer_), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("kernel fill_kernel on stream #");
  EXPECT_VIOLATION_HAS("writes them at ");
  EXPECT_VIOLATION_HAS("kernel read_sum_kernel on stream #");
  EXPECT_VIOLATION_HAS("read them at ");
}

TEST_F(StreamOrdering, AnEventOrASynchronisationOrdersTheStreams) {
  cudaEvent_t written;
  ASSERT_EQ(cudaEventCreate(&written), cudaSuccess);
  const std::uint64_t before = hf_emu::violation_count();
  write();
  ASSERT_EQ(cudaEventRecord(written, writer_), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(reader_, written, 0), cudaSuccess);
  read();
  EXPECT_EQ(cudaStreamSynchronize(reader_), cudaSuccess);
  write();  // the writer overwrites what the reader read: ordered by the host's wait above

  ASSERT_EQ(cudaStreamSynchronize(writer_), cudaSuccess);
  read();
  ASSERT_EQ(cudaEventRecord(written, reader_), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(written), cudaSuccess);
  write();
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  read();
  read();  // a second read after the first: reads never conflict
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(hf_emu::violation_count(), before) << violation();
  ASSERT_EQ(cudaEventDestroy(written), cudaSuccess);
}

TEST_F(StreamOrdering, CopiesMemsetsAndGemmsAreCheckedToo) {
  // A memset on one stream and a copy out of the same bytes on another.
  std::vector<float> host(64);
  ASSERT_EQ(cudaMemsetAsync(data_, 0, 64 * sizeof(float), writer_), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), data_, 64 * sizeof(float), cudaMemcpyDeviceToHost, reader_), cudaSuccess);
  EXPECT_NE(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_VIOLATION_HAS("cudaMemcpyAsync on stream #");
  EXPECT_VIOLATION_HAS("cudaMemsetAsync on stream #");
  EXPECT_VIOLATION_HAS("queued at ");  // the calls' lines, for operations without code of their own
  EXPECT_VIOLATION_HAS("cuda_emulation_test.cpp:");
  hf_emu::clear_errors();

  // A GEMM on the reader's stream whose input a kernel on the writer's stream fills.
  cublasHandle_t handle;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSetStream(handle, reader_), CUBLAS_STATUS_SUCCESS);
  write();
  const float one = 1.0f, zero = 0.0f;
  float* product = device_array<float>(64);
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 8, 8, 8, &one, data_, 8, data_, 8, &zero, product, 8),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_NE(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_VIOLATION_HAS("kernel fill_kernel on stream #");
  EXPECT_VIOLATION_HAS("cublasSgemm");
  ASSERT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS);
}

#endif  // HF_TEST_RACE_CHECK

// ---- Barriers and warp collectives ----

TEST_F(CudaEmulation, BarriersShufflesAndCubComputeWhatCudaDoes) {
  constexpr int kBlocks = 3;
  std::vector<int> values(kBlocks * kReduceThreads);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int>((i * 37) % 251) + 1;
  int* d_values = device_array<int>(values.size());
  ReduceResults* d_results = device_array<ReduceResults>(kBlocks);
  ASSERT_EQ(cudaMemcpy(d_values, values.data(), values.size() * sizeof(int), cudaMemcpyHostToDevice), cudaSuccess);
  HF_LAUNCH(reductions_kernel, kBlocks, kReduceThreads, 0, nullptr)(d_values, d_results);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  std::vector<ReduceResults> results(kBlocks);
  ASSERT_EQ(cudaMemcpy(results.data(), d_results, kBlocks * sizeof(ReduceResults), cudaMemcpyDeviceToHost), cudaSuccess)
      << violation();
  for (int b = 0; b < kBlocks; ++b) {
    const int* v = values.data() + b * kReduceThreads;
    const ReduceResults& r = results[b];
    EXPECT_EQ(r.tree_sum, std::accumulate(v, v + kReduceThreads, 0)) << "block " << b;
    EXPECT_EQ(r.cub_sum, 0.5 * std::accumulate(v, v + kReduceThreads, 0)) << "block " << b;
    int odd = 0, over = 0;
    unsigned even_ballot = 0;
    int warp0 = 0;
    for (int t = 0; t < kReduceThreads; ++t) {
      odd += v[t] % 2;
      over += v[t] > 250;
    }
    for (int t = 0; t < 32; ++t) {
      if (v[t] % 2 == 0) even_ballot |= 1u << t;
      warp0 += v[t];
      EXPECT_EQ(r.up[t], t >= 3 ? (t - 3) * 10 : t * 10) << "lane " << t;
      EXPECT_EQ(r.xor_result[t], t ^ 5) << "lane " << t;
    }
    EXPECT_EQ(r.count_odd, odd);
    EXPECT_EQ(r.all_positive, 1);
    EXPECT_EQ(r.any_over_250, over > 0 ? 1 : 0);
    EXPECT_EQ(r.ballot_even, even_ballot);
    EXPECT_EQ(r.reduce_add, warp0);
  }
}

TEST_F(CudaEmulation, DivergentShuffleIsReported) {
  float* out = device_array<float>(32);
  HF_LAUNCH(divergent_shuffle_kernel, 1, 32, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("divergent warp collective");
  EXPECT_VIOLATION_HAS("__shfl_down_sync");
  EXPECT_VIOLATION_HAS("__shfl_xor_sync");
}

TEST_F(CudaEmulation, MaskLeavingOutTheCallerIsReported) {
  float* out = device_array<float>(32);
  HF_LAUNCH(mask_without_caller_kernel, 1, 32, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("leaves out the calling lane 16");
}

TEST_F(CudaEmulation, ShuffleFromAnExitedLaneIsReported) {
  float* out = device_array<float>(16);
  HF_LAUNCH(shuffle_from_exited_lane_kernel, 1, 32, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("(lane 8) calls __shfl_down_sync at ");
  EXPECT_VIOLATION_HAS("cuda_emulation_test.cpp:");
  EXPECT_VIOLATION_HAS("with mask 0xffffffff and reads lane 16, which has exited");
}

TEST_F(CudaEmulation, ShuffleFromALaneOutsideTheMaskIsReported) {
  float* out = device_array<float>(16);
  HF_LAUNCH(shuffle_outside_mask_kernel, 1, 32, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("(lane 15) calls __shfl_sync at ");
  EXPECT_VIOLATION_HAS("with mask 0x0000ffff and reads lane 16, which is not in the mask");
}

TEST_F(CudaEmulation, VoteNamingExitedLanesIsReported) {
  auto* out = device_array<unsigned>(32);
  HF_LAUNCH(ballot_naming_exited_lanes_kernel, 1, 32, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("calls __ballot_sync at ");
  EXPECT_VIOLATION_HAS("with mask 0xffffffff, which names lanes 24-31 that have exited");
}

TEST_F(CudaEmulation, ShuffleInsideItsWidthOfAPartialWarpIsFine) {
  float* out = device_array<float>(24);
  HF_LAUNCH(shuffle_within_width_kernel, 1, 24, 0, nullptr)(out);
  std::vector<float> host(24);
  ASSERT_EQ(cudaMemcpy(host.data(), out, sizeof(float) * 24, cudaMemcpyDeviceToHost), cudaSuccess);
  for (int lane = 0; lane < 24; ++lane) EXPECT_EQ(host[lane], lane % 8 < 4 ? lane + 4 : lane) << "lane " << lane;
}

TEST_F(CudaEmulation, ThreadsThatExitBeforeABarrierAreReported) {
  float* out = device_array<float>(64);
  HF_LAUNCH(early_exit_before_barrier_kernel, 1, 64, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("exited without reaching the __syncthreads");
}

TEST_F(CudaEmulation, ShuffleWhileOtherLanesWaitAtABarrierIsReported) {
  float* out = device_array<float>(32);
  HF_LAUNCH(shuffle_against_barrier_kernel, 1, 32, 0, nullptr)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("waits at __syncthreads");
}

// ---- Streams ----

TEST_F(CudaEmulation, AHostReadBeforeTheStreamIsSynchronisedSeesGarbage) {
  constexpr int n = 256;
  float* d = device_array<float>(n);
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  std::vector<float> host(n, 0.0f);
  HF_LAUNCH(fill_kernel, 1, n, 0, stream)(d, n, 2.5f);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost, stream), cudaSuccess);
  // The missing synchronisation: every value read now is wrong.
  EXPECT_TRUE(std::isnan(host[0]) && std::isnan(host[n - 1]));
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(host[0], 2.5f);
  EXPECT_EQ(host[n - 1], 2.5f);

  // A blocking cudaMemcpy on the legacy stream does not wait for a non-blocking stream's kernel:
  // here it reads the old values, and the ordering check reports the pair when the kernel runs
  // (with the race check's hooks, which see the kernel's writes).
  HF_LAUNCH(fill_kernel, 1, n, 0, stream)(d, n, 7.0f);
  ASSERT_EQ(cudaMemcpy(host.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(host[0], 2.5f);
  ASSERT_EQ(cudaStreamDestroy(stream), cudaSuccess);  // runs what is queued
#if HF_TEST_RACE_CHECK
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_VIOLATION_HAS("unordered stream operations on bytes 0 to 1024 of device allocation");
  EXPECT_VIOLATION_HAS("kernel fill_kernel on stream #");
  EXPECT_VIOLATION_HAS("cudaMemcpy on the legacy default stream (device 0), queued at ");
  EXPECT_VIOLATION_HAS("read them");
#else
  ASSERT_EQ(cudaMemcpy(host.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(host[0], 7.0f);
#endif
}

TEST_F(CudaEmulation, BlockingStreamsAreOrderedWithTheLegacyStreamAndNonBlockingOnesAreNot) {
  float* d = device_array<float>(32);
  float host = 0.0f;
  HF_LAUNCH(fill_kernel, 1, 32, 0, cudaStreamPerThread)(d, 32, 3.0f);
  ASSERT_EQ(cudaMemcpy(&host, d, sizeof host, cudaMemcpyDeviceToHost), cudaSuccess);  // waits for it
  EXPECT_EQ(host, 3.0f);
  cudaStream_t blocking;
  ASSERT_EQ(cudaStreamCreate(&blocking), cudaSuccess);
  HF_LAUNCH(fill_kernel, 1, 32, 0, blocking)(d, 32, 4.0f);
  ASSERT_EQ(cudaMemcpy(&host, d, sizeof host, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(host, 4.0f);
  EXPECT_EQ(cudaStreamQuery(blocking), cudaSuccess);  // the copy ran its work first
  EXPECT_EQ(cudaStreamDestroy(blocking), cudaSuccess);
}

TEST_F(CudaEmulation, AHostWriteToAPendingCopysDestinationIsReported) {
  float* d = device_array<float>(8);
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  std::vector<float> host(8);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), d, sizeof(float) * 8, cudaMemcpyDeviceToHost, stream), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), d, sizeof(float) * 8, cudaMemcpyDeviceToHost, stream), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess) << violation();  // two copies into one buffer: fine
  ASSERT_EQ(cudaMemcpyAsync(host.data(), d, sizeof(float) * 8, cudaMemcpyDeviceToHost, stream), cudaSuccess);
  host[3] = 1.0f;  // before synchronising: on a GPU the copy and this write race
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaErrorIllegalAddress);
  EXPECT_VIOLATION_HAS("changed (byte 12) between the call and the copy");
  EXPECT_VIOLATION_HAS("cudaMemcpyAsync (cudaMemcpyDeviceToHost) queued at ");  // and the call's file and line
  EXPECT_VIOLATION_HAS("cuda_emulation_test.cpp:");
  EXPECT_EQ(host[3], 1.0f);  // the copy was not done
  hf_emu::clear_errors();
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST_F(CudaEmulation, UploadsFromPageableMemoryAreStagedAndFromPinnedMemoryAreNot) {
  float* d = device_array<float>(1);
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  float pageable = 1.0f;
  ASSERT_EQ(cudaMemcpyAsync(d, &pageable, sizeof(float), cudaMemcpyHostToDevice, stream), cudaSuccess);
  pageable = 2.0f;  // too late: CUDA took the bytes when the copy was queued
  float result = 0.0f;
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(&result, d, sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(result, 1.0f);

  float* pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(&pinned, sizeof(float)), cudaSuccess);
  *pinned = 1.0f;
  ASSERT_EQ(cudaMemcpyAsync(d, pinned, sizeof(float), cudaMemcpyHostToDevice, stream), cudaSuccess);
  *pinned = 3.0f;  // a race on a GPU: the copy reads pinned memory when it runs
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(&result, d, sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(result, 3.0f);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST_F(CudaEmulation, EventsOrderStreamsAndPollsMakeProgress) {
  constexpr int n = 64;
  float* d = device_array<float>(n);
  cudaStream_t producer, consumer;
  cudaEvent_t done, start;
  ASSERT_EQ(cudaStreamCreateWithFlags(&producer, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaStreamCreateWithFlags(&consumer, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&done), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(start, producer), cudaSuccess);
  HF_LAUNCH(fill_kernel, 1, n, 0, producer)(d, n, 4.0f);
  ASSERT_EQ(cudaEventRecord(done, producer), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(consumer, done, 0), cudaSuccess);
  std::vector<float> host(n);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost, consumer), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(done), cudaErrorNotReady);  // runs the work, reports it unfinished once
  EXPECT_EQ(cudaEventQuery(done), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(consumer), cudaSuccess);  // ran the producer first, via the event
  EXPECT_EQ(host[n - 1], 4.0f);
  float ms = -1.0f;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, done), cudaSuccess);
  EXPECT_GE(ms, 0.0f);
  EXPECT_EQ(cudaEventDestroy(done), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(start), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(producer), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(consumer), cudaSuccess);
}

// ---- cuBLAS ----

TEST_F(CudaEmulation, SgemmIsColumnMajorWithTransposes) {
  // A is 2 x 3 stored row-major, so column-major it is 3 x 2 (lda 3); C = A^T-as-stored... kept
  // simple: C (2 x 2) = op(A) op(B) with op(A) = (3 x 2 column-major)^T and op(B) = B (3 x 2).
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};   // column-major 3 x 2: columns (1,2,3), (4,5,6)
  const std::vector<float> b = {1, 0, 2, 0, 1, -1};  // column-major 3 x 2: columns (1,0,2), (0,1,-1)
  float* d_a = device_array<float>(6);
  float* d_b = device_array<float>(6);
  float* d_c = device_array<float>(4);
  ASSERT_EQ(cudaMemcpy(d_a, a.data(), 24, cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(d_b, b.data(), 24, cudaMemcpyHostToDevice), cudaSuccess);
  cublasHandle_t handle;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  const float one = 1.0f, zero = 0.0f;
  // C (2 x 2) = A^T (2 x 3) * B (3 x 2); C holds NaN (fresh device memory) and beta is 0.
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, d_a, 3, d_b, 3, &zero, d_c, 2),
            CUBLAS_STATUS_SUCCESS);
  std::vector<float> c(4);
  ASSERT_EQ(cudaMemcpy(c.data(), d_c, 16, cudaMemcpyDeviceToHost), cudaSuccess);
  // column j of C: (a_col0 . b_colj, a_col1 . b_colj)
  EXPECT_EQ(c, (std::vector<float>{7, 16, -1, -1}));
  EXPECT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, d_a, 3, d_b, 3, &zero, d_c, 2),
            CUBLAS_STATUS_NOT_INITIALIZED);
}

TEST_F(CudaEmulation, SgemmArgumentChecksAreCublas) {
  float* d_a = device_array<float>(64);
  float* d_b = device_array<float>(64);
  float* d_c = device_array<float>(64);
  cublasHandle_t handle;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  const float one = 1.0f, zero = 0.0f;
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, d_a, 3, d_b, 4, &zero, d_c, 4),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_VIOLATION_HAS("lda = 3 < 4");
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, 4, 4, 4, &one, d_a, 4, d_b, 3, &zero, d_c, 4),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, -1, 4, &one, d_a, 4, d_b, 4, &zero, d_c, 4),
            CUBLAS_STATUS_INVALID_VALUE);
  // Batch entries must stay inside their allocation: 5 entries of 16 floats at stride 16 do not fit in 64.
  EXPECT_EQ(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, d_a, 4, 16, d_b, 4, 0, &zero,
                                      d_c, 4, 12, 5),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_VIOLATION_HAS("bytes past its end");
  // Output entries overlapping each other.
  EXPECT_EQ(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, d_a, 4, 16, d_b, 4, 0, &zero,
                                      d_c, 4, 8, 3),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_VIOLATION_HAS("entries of C overlap");
  // A host matrix.
  std::vector<float> host(64);
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, host.data(), 4, d_b, 4, &zero, d_c, 4),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_VIOLATION_HAS("matrix A is not device memory");
  // Valid: 4 entries of 16 floats each, A's entries sharing B (stride 0).
  EXPECT_EQ(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, d_a, 4, 16, d_b, 4, 0, &zero,
                                      d_c, 4, 16, 4),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS);
  EXPECT_STREQ(cublasGetStatusName(CUBLAS_STATUS_INVALID_VALUE), "CUBLAS_STATUS_INVALID_VALUE");
}

// ---- Counters ----

TEST_F(CudaEmulation, CountersCountLaunchesBlasCallsAndCopies) {
  float* d = device_array<float>(100);
  std::vector<float> host(100, 1.0f);
  hf_emu::reset_counters();
  ASSERT_EQ(cudaMemcpy(d, host.data(), 400, cudaMemcpyHostToDevice), cudaSuccess);
  HF_LAUNCH(fill_kernel, 1, 100, 0, nullptr)(d, 100, 1.0f);
  HF_LAUNCH(fill_kernel, 2, 64, 0, nullptr)(d, 100, 2.0f);
  ASSERT_EQ(cudaMemcpy2D(host.data(), 40, d, 80, 40, 5, cudaMemcpyDeviceToHost), cudaSuccess);
  cublasHandle_t handle;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  const float one = 1.0f, zero = 0.0f;
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, d, 2, d + 4, 2, &zero, d + 8, 2),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const hf_emu::Counters c = hf_emu::counters();
  EXPECT_EQ(c.launches, 2u);
  EXPECT_EQ(c.blas_calls, 1u);
  EXPECT_EQ(c.copies_h2d, 1u);
  EXPECT_EQ(c.bytes_h2d, 400u);
  EXPECT_EQ(c.copies_d2h, 1u);
  EXPECT_EQ(c.bytes_d2h, 200u);
  EXPECT_EQ(hf_emu::counters_json(c),
            "{\"launches\": 2, \"blas_calls\": 1, \"copies_h2d\": 1, \"copies_d2h\": 1, \"bytes_h2d\": 400, "
            "\"bytes_d2h\": 200, \"training_steps\": 0, \"fused_epoch_launches\": 0}");
}

TEST_F(CudaEmulation, TheBackendCountsTrainingStepsOfActiveNetworks) {
  PackSpec spec{ParameterLayout({3, 4, 1}), 4, {}};
  for (int m = 0; m < 3; ++m) {
    PackMember member;
    member.seed = 10 + static_cast<std::uint64_t>(m);
    spec.members.push_back(member);
  }
  std::unique_ptr<Backend> backend = make_cuda_backend(0);
  std::unique_ptr<PackWorkspace> ws = backend->create_workspace(spec, 4);
  std::vector<float> parameters(3 * spec.layout.size, 0.1f);
  ws->write_parameters(parameters.data());
  const std::vector<float> x(12, 0.5f), y = {0, 1, 1, 0};
  ws->load_batch(x.data(), y.data(), 4);
  std::vector<OptimizerStep> scalars(3);
  const std::vector<std::uint8_t> active = {1, 0, 1};
  hf_emu::reset_counters();
  training_step(*ws, spec, StepInfo{0, 4, Mode::Training, active.data()}, scalars);
  training_step(*ws, spec, StepInfo{1, 4, Mode::Training, active.data()}, scalars);
  ws->read_parameters(parameters.data());
  const hf_emu::Counters c = hf_emu::counters();
  EXPECT_EQ(c.training_steps, 4u);  // two steps of two active networks
  EXPECT_GT(c.launches, 0u);
  EXPECT_GT(c.blas_calls, 0u);
  EXPECT_EQ(c.copies_d2h, 1u);
}

// The fused path (train_pack on the CUDA backend): per pack one launch per epoch and one
// parameter check, one evaluation, the shuffled orders once; no cuBLAS call, no copy per step
// or per epoch towards the device, and the same counts whatever the number of steps.
TEST_F(CudaEmulation, FusedTrainingLaunchesPerEpochNotPerStep) {
  PackSpec spec{ParameterLayout({6, 9, 1}), 8, {}};
  for (int m = 0; m < 3; ++m) {
    PackMember member;
    member.dropout = m == 1 ? 0.25 : 0.0;
    member.max_epochs = 3;
    member.seed = 40 + static_cast<std::uint64_t>(m);
    spec.members.push_back(member);
  }
  const auto dataset = [](int rows) {
    Dataset d;
    d.rows = rows;
    d.features = 6;
    for (int i = 0; i < rows * 6; ++i) d.x.push_back(static_cast<float>((i * 37) % 11) / 11.0f - 0.5f);
    for (int r = 0; r < rows; ++r) d.y.push_back(static_cast<float>(r % 3 == 0));
    return d;
  };
  const auto run = [&](int rows, int epochs, bool shuffle) {
    PackSpec s = spec;
    for (PackMember& m : s.members) m.max_epochs = epochs;
    const Dataset train = dataset(rows), test = dataset(50);
    std::unique_ptr<Backend> backend = make_cuda_backend(0);
    PackOptions options;
    options.shuffle = shuffle;
    options.order_seed = 3;
    hf_emu::reset_counters();
    train_pack(*backend, s, train, test, options);
    return hf_emu::counters();
  };
  const hf_emu::Counters few = run(40, 1, false), many = run(200, 1, false), epochs = run(200, 3, false);
  const hf_emu::Counters shuffled = run(200, 3, true);
  EXPECT_EQ(few.launches, 3u) << "the epoch, the parameter check, the evaluation";
  EXPECT_EQ(many.launches, few.launches) << "5 steps or 25: the same launches";
  EXPECT_EQ(epochs.launches, many.launches + 2 * 2) << "two more epochs: two more epoch kernels and checks";
  EXPECT_EQ(shuffled.launches, epochs.launches + 1) << "every epoch's order in one launch";
  EXPECT_EQ(epochs.blas_calls, 0u);
  EXPECT_EQ(many.copies_h2d, few.copies_h2d) << "no copy to the device per step";
  EXPECT_EQ(epochs.copies_h2d, many.copies_h2d) << "nor per epoch";
  EXPECT_EQ(epochs.copies_d2h, many.copies_d2h + 2 * 3) << "per epoch: loss sums, and health in two arrays";
  EXPECT_EQ(epochs.training_steps, 3u * 3u * 25u) << "three networks, three epochs of 25 steps";
}

// ---- Several devices ----

TEST_F(CudaEmulation, DevicesHaveTheirOwnMemoryAndTheCurrentDeviceIsPerThread) {
  free_all();
  hf_emu::configure_devices(3, {64 << 20, 128 << 20, 32 << 20});
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 3);
  const std::size_t expected[] = {64 << 20, 128 << 20, 32 << 20};
  for (int d = 0; d < 3; ++d) {
    ASSERT_EQ(cudaSetDevice(d), cudaSuccess);
    std::size_t free_bytes = 0, total = 0;
    ASSERT_EQ(cudaMemGetInfo(&free_bytes, &total), cudaSuccess);
    EXPECT_EQ(total, expected[d]);
    EXPECT_EQ(free_bytes, expected[d]);
    cudaDeviceProp properties;
    ASSERT_EQ(cudaGetDeviceProperties(&properties, d), cudaSuccess);
    EXPECT_EQ(properties.totalGlobalMem, expected[d]);
  }
  EXPECT_EQ(cudaSetDevice(3), cudaErrorInvalidDevice);
  ASSERT_EQ(cudaSetDevice(2), cudaSuccess);
  void* big = nullptr;
  EXPECT_EQ(cudaMalloc(&big, 33 << 20), cudaErrorMemoryAllocation);  // device 2 has 32 MiB
  float* on_two = device_array<float>(1 << 20);
  std::size_t free_bytes = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_bytes, &total), cudaSuccess);
  EXPECT_EQ(free_bytes, total - (std::size_t{4} << 20));
  int other_thread_device = -1;
  std::thread([&] { cudaGetDevice(&other_thread_device); }).join();
  EXPECT_EQ(other_thread_device, 0);

  // A device 2 pointer in a launch on device 0.
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  HF_LAUNCH(fill_kernel, 1, 32, 0, nullptr)(on_two, 32, 1.0f);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
  EXPECT_VIOLATION_HAS("on device 2), but the kernel runs on device 0");
  hf_emu::clear_errors();
  // A device 0 stream used while device 2 is current.
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  ASSERT_EQ(cudaSetDevice(2), cudaSuccess);
  HF_LAUNCH(fill_kernel, 1, 32, 0, stream)(on_two, 32, 1.0f);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  HF_LAUNCH(fill_kernel, 1, 32, 0, nullptr)(on_two, 32, 1.0f);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  free_all();
}

// ---- Faults ----

TEST_F(CudaEmulation, TheNthAllocationFails) {
  hf_emu::Faults faults;
  faults.fail_allocation = 3;
  hf_emu::set_faults(faults);
  void* p[4] = {};
  EXPECT_EQ(cudaMalloc(&p[0], 16), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&p[1], 16), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&p[2], 16), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaMalloc(&p[3], 16), cudaSuccess);  // not sticky
  for (void* q : p) cudaFree(q);
}

TEST_F(CudaEmulation, AnAllocationFailureInAWorkspaceIsOutOfDeviceMemory) {
  PackSpec spec{ParameterLayout({3, 4, 1}), 4, {PackMember{}, PackMember{}}};
  std::unique_ptr<Backend> backend = make_cuda_backend(0);
  hf_emu::Faults faults;
  faults.fail_allocation = 5;
  hf_emu::set_faults(faults);
  EXPECT_THROW(backend->create_workspace(spec, 4), OutOfDeviceMemory);
  EXPECT_NO_THROW(backend->create_workspace(spec, 4));
}

TEST_F(CudaEmulation, TheNthLaunchFailsWithoutPoisoningTheDevice) {
  float* d = device_array<float>(32);
  hf_emu::Faults faults;
  faults.fail_launch = 2;
  hf_emu::set_faults(faults);
  HF_LAUNCH(fill_kernel, 1, 32, 0, nullptr)(d, 32, 1.0f);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  HF_LAUNCH(fill_kernel, 1, 32, 0, nullptr)(d, 32, 1.0f);
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchOutOfResources);
  HF_LAUNCH(fill_kernel, 1, 32, 0, nullptr)(d, 32, 1.0f);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

TEST_F(CudaEmulation, ALostDeviceFailsEveryLaterCall) {
  free_all();
  hf_emu::configure_devices(2);
  float* d = device_array<float>(32);
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  float* on_one = device_array<float>(32);
  hf_emu::Faults faults;
  faults.lose_device_after = 2;
  faults.lost_device = 0;
  hf_emu::set_faults(faults);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  for (int i = 0; i < 2; ++i) {
    HF_LAUNCH(fill_kernel, 1, 32, 0, nullptr)(d, 32, 1.0f);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "launch " << i;
  }
  HF_LAUNCH(fill_kernel, 1, 32, 0, nullptr)(d, 32, 1.0f);
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);  // sticky
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 16), cudaErrorLaunchFailure);
  float host = 0.0f;
  EXPECT_EQ(cudaMemcpy(&host, d, 4, cudaMemcpyDeviceToHost), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  // Device 1 goes on working.
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  HF_LAUNCH(fill_kernel, 1, 32, 0, nullptr)(on_one, 32, 5.0f);
  ASSERT_EQ(cudaMemcpy(&host, on_one, 4, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(host, 5.0f);
  EXPECT_EQ(cudaSetDevice(0), cudaErrorLaunchFailure);  // even selecting the lost device
  hf_emu::clear_errors();
  free_all();
}

TEST_F(CudaEmulation, ADriverTooOldIsAnErrorThatSaysWhatToDo) {
  hf_emu::Faults faults;
  faults.driver_version = 12080;
  hf_emu::set_faults(faults);
  int count = -1;
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaErrorInsufficientDriver);
  int version = 0;
  EXPECT_EQ(cudaDriverGetVersion(&version), cudaSuccess);
  EXPECT_EQ(version, 12080);
  EXPECT_EQ(cudaRuntimeGetVersion(&version), cudaSuccess);
  EXPECT_EQ(version, 13000);
  try {
    cuda_device_count();
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("supports CUDA up to 12.8"), std::string::npos) << message;
    EXPECT_NE(message.find("needs CUDA 13.0"), std::string::npos) << message;
    EXPECT_NE(message.find("cudaErrorInsufficientDriver"), std::string::npos) << message;
    EXPECT_NE(message.find("update the NVIDIA driver"), std::string::npos) << message;
    EXPECT_NE(message.find("--device cpu"), std::string::npos) << message;
  }
  EXPECT_STREQ(cudaGetErrorString(cudaErrorInsufficientDriver),
               "CUDA driver version is insufficient for CUDA runtime version");
}

TEST_F(CudaEmulation, NoDeviceOrNoDriverIsZeroDevices) {
  free_all();
  hf_emu::configure_devices(0);
  int count = -1;
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaErrorNoDevice);
  EXPECT_EQ(count, 0);
  EXPECT_EQ(cuda_device_count(), 0);
  EXPECT_STREQ(cudaGetErrorName(cudaErrorNoDevice), "cudaErrorNoDevice");
  hf_emu::configure_devices(static_cast<int>(devices_.size()), devices_);
  hf_emu::Faults faults;
  faults.driver_version = 0;  // no NVIDIA driver installed: the runtime says "insufficient"
  hf_emu::set_faults(faults);
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaErrorInsufficientDriver);
  EXPECT_EQ(cuda_device_count(), 0);
}

// ---- Properties ----

TEST_F(CudaEmulation, PropertiesAreAnH100sAndSayEmulated) {
  cudaDeviceProp p;
  ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
  EXPECT_NE(std::string(p.name).find("emulation"), std::string::npos);
  EXPECT_EQ(p.major, 9);
  EXPECT_EQ(p.maxThreadsPerBlock, 1024);
  EXPECT_EQ(p.sharedMemPerBlockOptin, 227u * 1024);
  int value = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), cudaSuccess);
  EXPECT_EQ(static_cast<std::size_t>(value), p.sharedMemPerBlockOptin);
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount, 0), cudaSuccess);
  EXPECT_EQ(value, 132);
  int blocks = 0;
  ASSERT_EQ(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, fill_kernel, 256, 0), cudaSuccess);
  EXPECT_EQ(blocks, 8);  // 2,048 threads per SM / 256
  ASSERT_EQ(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, fill_kernel, 128, 100 * 1024), cudaSuccess);
  EXPECT_EQ(blocks, 0);  // over the kernel's 48 KiB without the attribute
}

}  // namespace
}  // namespace hf
