// NaN/Inf checks over the whole pack: the first training step whose loss was not finite (one
// thread per network), and a flag per network whose parameters hold a NaN/Inf (one block per
// network, padding included as the CPU checks it; __syncthreads_or gathers the block's answer so
// thread 0 is the flag's only writer).
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"

namespace hf {
namespace {

__global__ void check_loss_kernel(PackView pack, const double* losses, std::uint64_t step,
                                  std::int64_t* first_nonfinite_loss_step) {
  const int m = static_cast<int>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m >= pack.models || !pack.active[m]) return;
  if (!isfinite(losses[m]) && first_nonfinite_loss_step[m] < 0)
    first_nonfinite_loss_step[m] = static_cast<std::int64_t>(step);
}

__global__ void check_parameters_kernel(PackView pack, const float* parameters, std::uint8_t* nonfinite) {
  const int m = static_cast<int>(blockIdx.x);
  const float* p = parameters + static_cast<std::size_t>(m) * pack.parameters;
  int found = 0;
  for (std::size_t i = threadIdx.x; i < pack.parameters; i += blockDim.x) found |= !isfinite(p[i]);
  if (__syncthreads_or(found) && threadIdx.x == 0) nonfinite[m] = 1;
}

}  // namespace

void launch_check_loss(const PackView& pack, const double* losses, std::uint64_t step,
                       std::int64_t* first_nonfinite_loss_step, cudaStream_t stream) {
  HF_LAUNCH(check_loss_kernel, blocks_for(pack.models), kThreadsPerBlock, 0, stream)
  (pack, losses, step, first_nonfinite_loss_step);
  HF_CUDA_CHECK_LAUNCH();
}

void launch_check_parameters(const PackView& pack, const float* parameters, std::uint8_t* nonfinite,
                             cudaStream_t stream) {
  HF_LAUNCH(check_parameters_kernel, static_cast<unsigned>(pack.models), kThreadsPerBlock, 0, stream)
  (pack, parameters, nonfinite);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
