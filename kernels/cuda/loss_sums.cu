// The running sum of each network's training loss over an epoch's steps, kept on the device
// (one thread per network), so the trainer reads it once per epoch without a host
// synchronisation every step.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"

namespace hf {
namespace {

__global__ void accumulate_losses_kernel(PackView pack, const double* losses, double* loss_sums) {
  const int m = static_cast<int>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m >= pack.models || !pack.active[m]) return;
  loss_sums[m] += losses[m];
}

}  // namespace

void launch_accumulate_losses(const PackView& pack, const double* losses, double* loss_sums, cudaStream_t stream) {
  HF_LAUNCH(accumulate_losses_kernel, blocks_for(pack.models), kThreadsPerBlock, 0, stream)(pack, losses, loss_sums);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
