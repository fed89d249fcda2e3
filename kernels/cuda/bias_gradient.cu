// Bias gradient of one layer over the whole pack: db[c] = sum over rows of dZ[row][c], one
// thread per (network, column), summed in row order as the CPU backend sums it. Layout: dZ of
// network m is rows x width at m * max_rows * width; db lands at the layer's bias offset in
// the network's gradient vector.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"

namespace hf {
namespace {

__global__ void bias_gradient_kernel(PackView pack, const float* gradient, int width, int rows, std::size_t bias_offset,
                                     float* parameter_gradients) {
  const std::size_t index = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= static_cast<std::size_t>(pack.models) * width) return;
  const int m = static_cast<int>(index / width);
  const int column = static_cast<int>(index % width);
  if (!pack.active[m]) return;
  const float* g = gradient + static_cast<std::size_t>(m) * pack.max_rows * width + column;
  float sum = 0.0f;
  for (int r = 0; r < rows; ++r) sum += g[static_cast<std::size_t>(r) * width];
  parameter_gradients[static_cast<std::size_t>(m) * pack.parameters + bias_offset + column] = sum;
}

}  // namespace

void launch_bias_gradient(const PackView& pack, const float* gradient, int width, int rows, std::size_t bias_offset,
                          float* parameter_gradients, cudaStream_t stream) {
  const std::size_t threads = static_cast<std::size_t>(pack.models) * width;
  HF_LAUNCH(bias_gradient_kernel, blocks_for(threads), kThreadsPerBlock, 0, stream)
  (pack, gradient, width, rows, bias_offset, parameter_gradients);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
