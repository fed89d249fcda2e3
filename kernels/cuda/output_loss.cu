// Loss and its gradient at the output layer's Z, one thread per network: the network's rows
// are summed in row order in double, as the CPU backend sums them, so the two agree to the
// last bit given the same sigmoid outputs. Layout: the output layer has width 1, so network
// m's outputs and gradients are rows consecutive floats at m * max_rows.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"
#include "kernels/math/losses.hpp"

namespace hf {
namespace {

__global__ void output_loss_gradient_kernel(PackView pack, const float* probabilities, const float* labels, int rows,
                                            float norm, float* gradient_at_z, double* losses,
                                            float* parameter_gradients) {
  const int m = static_cast<int>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m >= pack.models || !pack.active[m]) return;
  const Loss loss = static_cast<Loss>(pack.loss[m]);
  const float* p = probabilities + static_cast<std::size_t>(m) * pack.max_rows;
  float* gradient = gradient_at_z + static_cast<std::size_t>(m) * pack.max_rows;
  double total = 0.0;
  for (int r = 0; r < rows; ++r) {
    total += loss_value(loss, p[r], labels[r]);
    gradient[r] = output_gradient(loss, p[r], labels[r], norm);
  }
  losses[m] = total / rows;
  parameter_gradients[static_cast<std::size_t>(m) * pack.parameters + pack.prelu_offset] = 0.0f;
}

}  // namespace

void launch_output_loss_gradient(const PackView& pack, const float* probabilities, const float* labels, int rows,
                                 float norm, float* gradient_at_z, double* losses, float* parameter_gradients,
                                 cudaStream_t stream) {
  HF_LAUNCH(output_loss_gradient_kernel, blocks_for(pack.models), kThreadsPerBlock, 0, stream)
  (pack, probabilities, labels, rows, norm, gradient_at_z, losses, parameter_gradients);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
