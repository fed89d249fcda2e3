// What a kernel launch costs on the CUDA host emulation (-DHYPERFUSE_CUDA=EMULATE only): the
// time per launch of ~150,000 GPU threads for an element-wise kernel (each thread a fiber run to
// completion on a reused stack), a kernel with block barriers and shared memory, and one with a
// warp shuffle reduction, each with the race check recording and without. Figures, never
// assertions; the emulation's speed says nothing about a GPU's.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "kernels/cuda/kernel_launch.hpp"
#include "tests/cuda_emulation/emulation_control.hpp"

namespace {

constexpr int kThreadsPerBlock = 256;
constexpr int kBlocks = 586;  // 150,016 threads
constexpr int kThreads = kThreadsPerBlock * kBlocks;

__global__ void element_kernel(const float* in, float* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = 2.0f * in[i] + 1.0f;
}

__global__ void barrier_kernel(const float* in, float* out) {
  __shared__ float tile[kThreadsPerBlock];
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  tile[threadIdx.x] = in[i];
  __syncthreads();
  out[i] = tile[kThreadsPerBlock - 1 - threadIdx.x];
}

__global__ void shuffle_kernel(const float* in, float* out) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  float sum = in[i];
  for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
  if (threadIdx.x % 32 == 0) out[i / 32] = sum;
}

template <typename Launch>
double median_ms(Launch launch) {
  std::vector<double> times;
  for (int run = 0; run < 7; ++run) {
    const auto start = std::chrono::steady_clock::now();
    launch();
    if (cudaDeviceSynchronize() != cudaSuccess)
      std::fprintf(stderr, "launch failed: %s\n", hf_emu::last_violation().c_str());
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void report(const char* name, bool race_check, double ms) {
  std::printf("%-22s race check %-3s  %8.2f ms per launch of %d threads  %7.1f ns per thread  %6.2f M threads/s\n",
              name, race_check ? "on" : "off", ms, kThreads, 1e6 * ms / kThreads, kThreads / ms / 1e3);
}

}  // namespace

int main() {
  float *in = nullptr, *out = nullptr;
  if (cudaMalloc(&in, kThreads * sizeof(float)) != cudaSuccess ||
      cudaMalloc(&out, kThreads * sizeof(float)) != cudaSuccess)
    return 1;
  std::vector<float> host(kThreads, 1.5f);
  cudaMemcpy(in, host.data(), kThreads * sizeof(float), cudaMemcpyHostToDevice);
  const bool can_check = hf_emu::race_check_built();
  for (bool race_check : {false, true}) {
    if (race_check && !can_check) {
      std::printf("(this build has no race check: an AddressSanitizer build, or HYPERFUSE_EMU_RACE_CHECK=OFF)\n");
      break;
    }
    hf_emu::enable_race_check(race_check);
    report("element-wise", race_check, median_ms([&] {
             HF_LAUNCH(element_kernel, kBlocks, kThreadsPerBlock, 0, nullptr)
             (in, out, kThreads);
           }));
    report("barrier + shared", race_check, median_ms([&] {
             HF_LAUNCH(barrier_kernel, kBlocks, kThreadsPerBlock, 0, nullptr)
             (in, out);
           }));
    report("warp shuffles (x5)", race_check, median_ms([&] {
             HF_LAUNCH(shuffle_kernel, kBlocks, kThreadsPerBlock, 0, nullptr)
             (in, out);
           }));
  }
  cudaFree(in);
  cudaFree(out);
  return 0;
}
