// Forward epilogue of one layer over the whole pack: Z += b, then the network's activation (the
// sigmoid for the output layer) into the activation buffer, then dropout into the output buffer
// the next layer reads (a copy of the activation where no dropout applies, so the next GEMM can
// read one strided buffer for every network). Layout: see pack_view.hpp; one thread per element
// e = row * width + column of one network, the same element numbering the CPU backend draws
// dropout masks and RReLU slopes with.
//
// Not fused into the GEMM with a cuBLASLt epilogue yet: the epilogues cannot apply a different
// activation per batch entry, and without a GPU here the gain cannot be measured. With this
// layout a persistent kernel that keeps a network's layers on chip can replace the whole step
// later.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/pack_kernels.hpp"
#include "kernels/math/activations.hpp"
#include "kernels/math/dropout.hpp"
#include "kernels/math/row_activations.hpp"

namespace hf {
namespace {

__device__ float dropout_output(const PackView& pack, int m, int layer, std::uint64_t step, std::uint32_t element,
                                float y, bool training) {
  const float p = pack.dropout[m];
  if (!training || !(p > 0.0f)) return y;
  return y * dropout_multiplier(pack.seed[m], layer, step, element, p, pack.keep_scale[m]);
}

__global__ void bias_activation_dropout_kernel(PackView pack, LayerView layer, const float* parameters, int rows,
                                               bool training, std::uint64_t step) {
  const std::size_t per_network = static_cast<std::size_t>(rows) * layer.width;
  const std::size_t index = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= per_network * pack.models) return;
  const int m = static_cast<int>(index / per_network);
  if (!pack.active[m]) return;
  const std::size_t element = index - static_cast<std::size_t>(m) * per_network;
  const int column = static_cast<int>(element % layer.width);
  const std::size_t at = static_cast<std::size_t>(m) * pack.max_rows * layer.width + element;
  const float* network_parameters = parameters + static_cast<std::size_t>(m) * pack.parameters;

  const float z = layer.pre_activation[at] + network_parameters[layer.bias_offset + column];
  layer.pre_activation[at] = z;
  if (layer.output_layer) {
    layer.activation[at] = sigmoid_f(z);
    return;
  }
  const Activation activation = static_cast<Activation>(pack.activation[m]);
  if (is_row_activation(activation)) return;  // the row kernel finishes these rows

  float slope = kRreluEvalSlope;
  if (activation == Activation::PReLU) {
    slope = network_parameters[pack.prelu_offset];
  } else if (activation == Activation::RReLU && training) {
    slope = rrelu_training_slope(pack.seed[m], layer.layer, step, static_cast<std::uint32_t>(element));
  }
  float y = 0.0f;
  with_elementwise_activation(activation, [&](auto a) { y = activate<decltype(a)::value>(z, slope); });
  layer.activation[at] = y;
  layer.output[at] = dropout_output(pack, m, layer.layer, step, static_cast<std::uint32_t>(element), y, training);
}

// Softmin/Softmax/LogSoftmax: one thread per row of a network using one, after the element
// kernel added the bias.
__global__ void row_activation_forward_kernel(PackView pack, LayerView layer, int rows, bool training,
                                              std::uint64_t step) {
  const std::size_t index = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= static_cast<std::size_t>(rows) * pack.models) return;
  const int m = static_cast<int>(index / rows);
  const int row = static_cast<int>(index % rows);
  const Activation activation = static_cast<Activation>(pack.activation[m]);
  if (!pack.active[m] || !is_row_activation(activation)) return;
  const std::size_t first = static_cast<std::size_t>(row) * layer.width;
  const std::size_t at = static_cast<std::size_t>(m) * pack.max_rows * layer.width + first;
  row_activation_forward(activation, layer.pre_activation + at, layer.activation + at, layer.width);
  for (int column = 0; column < layer.width; ++column) {
    layer.output[at + column] = dropout_output(pack, m, layer.layer, step, static_cast<std::uint32_t>(first + column),
                                               layer.activation[at + column], training);
  }
}

}  // namespace

void launch_bias_activation_dropout(const PackView& pack, const LayerView& layer, const float* parameters, int rows,
                                    bool training, std::uint64_t step, bool any_row_activation, cudaStream_t stream) {
  const std::size_t elements = static_cast<std::size_t>(pack.models) * rows * layer.width;
  HF_LAUNCH(bias_activation_dropout_kernel, blocks_for(elements), kThreadsPerBlock, 0, stream)
  (pack, layer, parameters, rows, training, step);
  HF_CUDA_CHECK_LAUNCH();
  if (any_row_activation && !layer.output_layer) {
    const std::size_t row_count = static_cast<std::size_t>(pack.models) * rows;
    HF_LAUNCH(row_activation_forward_kernel, blocks_for(row_count), kThreadsPerBlock, 0, stream)
    (pack, layer, rows, training, step);
    HF_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace hf
