// One optimizer step of every active network of the pack in one fused kernel: one thread per
// parameter (padding included, as the CPU updates it), each network with its own optimizer
// code and step scalars (computed on the host in double, as for the CPU). Layout: parameters,
// gradients and both optimizer states are models x parameters.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"

namespace hf {
namespace {

__global__ void optimizer_step_kernel(PackView pack, float* parameters, const float* parameter_gradients, float* state1,
                                      float* state2, const OptimizerStep* scalars) {
  const std::size_t index = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= pack.parameters * pack.models) return;
  const int m = static_cast<int>(index / pack.parameters);
  if (!pack.active[m]) return;
  const OptimizerStep s = scalars[m];
  float parameter = parameters[index], first = state1[index], second = state2[index];
  const float gradient = parameter_gradients[index];
  with_optimizer(static_cast<Optimizer>(pack.optimizer[m]),
                 [&](auto o) { optimizer_update<decltype(o)::value>(parameter, gradient, first, second, s); });
  parameters[index] = parameter;
  state1[index] = first;
  state2[index] = second;
}

}  // namespace

void launch_optimizer_step(const PackView& pack, float* parameters, const float* parameter_gradients, float* state1,
                           float* state2, const OptimizerStep* scalars, cudaStream_t stream) {
  const std::size_t elements = pack.parameters * pack.models;
  HF_LAUNCH(optimizer_step_kernel, blocks_for(elements), kThreadsPerBlock, 0, stream)
  (pack, parameters, parameter_gradients, state1, state2, scalars);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
