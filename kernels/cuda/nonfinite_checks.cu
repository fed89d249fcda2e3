// NaN/Inf checks over the whole pack: the first training step whose loss was not finite (one
// thread per network), and a flag per network whose parameters hold a NaN/Inf (one thread per
// parameter, padding included as the CPU checks it; racing writes all store 1).
#include "kernels/cuda/cuda_check.hpp"
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
  const std::size_t index = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= pack.parameters * pack.models) return;
  if (!isfinite(parameters[index])) nonfinite[index / pack.parameters] = 1;
}

}  // namespace

void launch_check_loss(const PackView& pack, const double* losses, std::uint64_t step,
                       std::int64_t* first_nonfinite_loss_step, cudaStream_t stream) {
  check_loss_kernel<<<blocks_for(pack.models), kThreadsPerBlock, 0, stream>>>(pack, losses, step,
                                                                              first_nonfinite_loss_step);
  HF_CUDA_CHECK_LAUNCH();
}

void launch_check_parameters(const PackView& pack, const float* parameters, std::uint8_t* nonfinite,
                             cudaStream_t stream) {
  check_parameters_kernel<<<blocks_for(pack.parameters * pack.models), kThreadsPerBlock, 0, stream>>>(pack, parameters,
                                                                                                      nonfinite);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
