// Backward of a hidden layer's activation and dropout over the whole pack: the gradient at the
// layer's output (after dropout) becomes the gradient at Z, in place. Layout: see
// pack_view.hpp. Three kernels, in order:
//   1. one thread per element: the dropout multiplier (drawn again, as the CPU does), then the
//      element-wise derivative for every activation but PReLU and the row activations;
//   2. one thread per PReLU network: the slope gradient summed in element order, as the CPU
//      sums it (a float sum, so the order is kept to follow the CPU's rounding), then the
//      derivative;
//   3. one thread per row of Softmin/Softmax/LogSoftmax networks: the row backward.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"
#include "kernels/math/activations.hpp"
#include "kernels/math/dropout.hpp"
#include "kernels/math/row_activations.hpp"

namespace hf {
namespace {

__global__ void dropout_and_derivative_kernel(PackView pack, LayerView layer, int rows, bool training,
                                              std::uint64_t step) {
  const std::size_t per_network = static_cast<std::size_t>(rows) * layer.width;
  const std::size_t index = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= per_network * pack.models) return;
  const int m = static_cast<int>(index / per_network);
  if (!pack.active[m]) return;
  const std::size_t element = index - static_cast<std::size_t>(m) * per_network;
  const std::size_t at = static_cast<std::size_t>(m) * pack.max_rows * layer.width + element;

  float gradient = layer.gradient[at];
  const float p = pack.dropout[m];
  if (training && p > 0.0f) {
    gradient *=
        dropout_multiplier(pack.seed[m], layer.layer, step, static_cast<std::uint32_t>(element), p, pack.keep_scale[m]);
  }
  const Activation activation = static_cast<Activation>(pack.activation[m]);
  if (activation == Activation::PReLU || is_row_activation(activation)) {
    layer.gradient[at] = gradient;  // finished by the PReLU or row kernel
    return;
  }
  float slope = kRreluEvalSlope;
  if (activation == Activation::RReLU && training)
    slope = rrelu_training_slope(pack.seed[m], layer.layer, step, static_cast<std::uint32_t>(element));
  const float z = layer.pre_activation[at], y = layer.activation[at];
  float derivative = 1.0f;
  with_elementwise_activation(activation,
                              [&](auto a) { derivative = activation_derivative<decltype(a)::value>(z, y, slope); });
  layer.gradient[at] = gradient * derivative;
}

__global__ void prelu_backward_kernel(PackView pack, LayerView layer, const float* parameters,
                                      float* parameter_gradients, int rows) {
  const int m = static_cast<int>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m >= pack.models || !pack.active[m] || static_cast<Activation>(pack.activation[m]) != Activation::PReLU) return;
  const std::size_t count = static_cast<std::size_t>(rows) * layer.width;
  const std::size_t first = static_cast<std::size_t>(m) * pack.max_rows * layer.width;
  const float* z = layer.pre_activation + first;
  const float* y = layer.activation + first;
  float* gradient = layer.gradient + first;
  float slope_gradient = 0.0f;
  for (std::size_t e = 0; e < count; ++e) slope_gradient += prelu_slope_gradient(z[e], gradient[e]);
  parameter_gradients[static_cast<std::size_t>(m) * pack.parameters + pack.prelu_offset] += slope_gradient;
  const float slope = parameters[static_cast<std::size_t>(m) * pack.parameters + pack.prelu_offset];
  for (std::size_t e = 0; e < count; ++e) gradient[e] *= activation_derivative<Activation::PReLU>(z[e], y[e], slope);
}

__global__ void row_activation_backward_kernel(PackView pack, LayerView layer, int rows) {
  const std::size_t index = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= static_cast<std::size_t>(rows) * pack.models) return;
  const int m = static_cast<int>(index / rows);
  const int row = static_cast<int>(index % rows);
  const Activation activation = static_cast<Activation>(pack.activation[m]);
  if (!pack.active[m] || !is_row_activation(activation)) return;
  const std::size_t at =
      static_cast<std::size_t>(m) * pack.max_rows * layer.width + static_cast<std::size_t>(row) * layer.width;
  row_activation_backward(activation, layer.activation + at, layer.gradient + at, layer.width);
}

}  // namespace

void launch_activation_backward(const PackView& pack, const LayerView& layer, const float* parameters,
                                float* parameter_gradients, int rows, bool training, std::uint64_t step, bool any_prelu,
                                bool any_row_activation, cudaStream_t stream) {
  const std::size_t elements = static_cast<std::size_t>(pack.models) * rows * layer.width;
  HF_LAUNCH(dropout_and_derivative_kernel, blocks_for(elements), kThreadsPerBlock, 0, stream)
  (pack, layer, rows, training, step);
  HF_CUDA_CHECK_LAUNCH();
  if (any_prelu) {
    HF_LAUNCH(prelu_backward_kernel, blocks_for(pack.models), kThreadsPerBlock, 0, stream)
    (pack, layer, parameters, parameter_gradients, rows);
    HF_CUDA_CHECK_LAUNCH();
  }
  if (any_row_activation) {
    const std::size_t row_count = static_cast<std::size_t>(pack.models) * rows;
    HF_LAUNCH(row_activation_backward_kernel, blocks_for(row_count), kThreadsPerBlock, 0, stream)(pack, layer, rows);
    HF_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace hf
