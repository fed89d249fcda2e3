// Confusion counts of one evaluation batch, one warp per network: each lane counts its strided
// share of the rows (output > threshold is a positive prediction, label > 0.5 a positive row),
// a shuffle reduction sums the lanes, and lane 0 adds the four counts to the network's running
// totals. Integer sums, so the order does not matter and the counts equal the CPU's exactly
// given the same outputs. Layout: outputs of network m at m * max_rows; counts models x
// {tp, fp, fn, tn}.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"

namespace hf {
namespace {

constexpr int kWarp = 32;

__global__ void count_confusion_kernel(PackView pack, const float* probabilities, const float* labels, int rows,
                                       float threshold, long long* counts) {
  const std::size_t thread = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int m = static_cast<int>(thread / kWarp);
  const int lane = static_cast<int>(thread % kWarp);
  if (m >= pack.models || !pack.active[m]) return;  // whole warps leave together
  const float* p = probabilities + static_cast<std::size_t>(m) * pack.max_rows;
  unsigned tp = 0, fp = 0, fn = 0, tn = 0;
  for (int r = lane; r < rows; r += kWarp) {
    const bool predicted = p[r] > threshold;
    const bool actual = labels[r] > 0.5f;
    tp += predicted && actual;
    fp += predicted && !actual;
    fn += !predicted && actual;
    tn += !predicted && !actual;
  }
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    tp += __shfl_down_sync(0xffffffffu, tp, offset);
    fp += __shfl_down_sync(0xffffffffu, fp, offset);
    fn += __shfl_down_sync(0xffffffffu, fn, offset);
    tn += __shfl_down_sync(0xffffffffu, tn, offset);
  }
  if (lane == 0) {
    long long* c = counts + static_cast<std::size_t>(m) * 4;
    c[0] += tp;
    c[1] += fp;
    c[2] += fn;
    c[3] += tn;
  }
}

}  // namespace

void launch_count_confusion(const PackView& pack, const float* probabilities, const float* labels, int rows,
                            float threshold, long long* counts, cudaStream_t stream) {
  const std::size_t threads = static_cast<std::size_t>(pack.models) * kWarp;
  HF_LAUNCH(count_confusion_kernel, blocks_for(threads), kThreadsPerBlock, 0, stream)
  (pack, probabilities, labels, rows, threshold, counts);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
