// L1 term over the whole pack, one block per network with l1 > 0: every thread adds l1 *
// sign(p) to the gradients of its strided share of the network's used parameters and sums
// |p| in double; a CUB block reduction gives sum|p| and thread 0 adds l1 * sum|p| to the loss.
// Layout: network m's parameters and gradients start at m * parameters.
#include <cub/block/block_reduce.cuh>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"

namespace hf {
namespace {

__global__ void l1_penalty_kernel(PackView pack, const float* parameters, float* parameter_gradients, double* losses) {
  const int m = static_cast<int>(blockIdx.x);
  const float l1 = pack.l1[m];
  if (!pack.active[m] || !(l1 > 0.0f)) return;  // the same for the whole block
  const float* p = parameters + static_cast<std::size_t>(m) * pack.parameters;
  float* g = parameter_gradients + static_cast<std::size_t>(m) * pack.parameters;
  double magnitude = 0.0;
  for (std::size_t i = threadIdx.x; i < pack.used; i += blockDim.x) {
    magnitude += abs_f(p[i]);
    g[i] += l1 * (p[i] > 0.0f ? 1.0f : (p[i] < 0.0f ? -1.0f : 0.0f));
  }
  using Reduce = cub::BlockReduce<double, kThreadsPerBlock>;
  __shared__ typename Reduce::TempStorage storage;
  const double total = Reduce(storage).Sum(magnitude);
  if (threadIdx.x == 0) losses[m] += l1 * total;
}

}  // namespace

void launch_l1_penalty(const PackView& pack, const float* parameters, float* parameter_gradients, double* losses,
                       cudaStream_t stream) {
  HF_LAUNCH(l1_penalty_kernel, static_cast<unsigned>(pack.models), kThreadsPerBlock, 0, stream)
  (pack, parameters, parameter_gradients, losses);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
