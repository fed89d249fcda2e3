// What every kernel of a pack reads: the pack's shape and each network's codes and scalars as
// device arrays indexed by network, passed to kernels by value.
//
// Layout on the device (all float32, networks one after another):
//   parameters, gradients, optimizer states: models x parameters (the host layout, padded)
//   layer buffers Z, activation, output, gradient of layer l: models x max_rows x out(l),
//     row-major per network, so element e = row * out(l) + column of network m lives at
//     m * max_rows * out(l) + e; only the first `rows` rows of a batch are used.
//   batch: rows x in(0) features and rows labels, shared by every network.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hf {

struct PackView {
  int models = 0;
  int max_rows = 0;
  std::size_t parameters = 0;  // floats per network, padded
  std::size_t used = 0;        // parameters before the padding
  std::size_t prelu_offset = 0;

  const std::uint8_t* activation = nullptr;  // Activation code per network
  const std::uint8_t* loss = nullptr;        // Loss code
  const std::uint8_t* optimizer = nullptr;   // Optimizer code
  const float* dropout = nullptr;            // drop probability, 0 for none
  const float* keep_scale = nullptr;         // 1 / (1 - dropout), rounded as the CPU rounds it
  const float* l1 = nullptr;
  const std::uint64_t* seed = nullptr;
  const std::uint8_t* active = nullptr;  // this step's active flags
};

// One layer's buffers and shape for the element-wise kernels.
struct LayerView {
  int layer = 0;
  int width = 0;  // out(layer)
  bool output_layer = false;
  std::size_t bias_offset = 0;
  float* pre_activation = nullptr;  // Z
  float* activation = nullptr;      // activation output (the sigmoid for the output layer)
  float* output = nullptr;          // what the next layer reads; null for the output layer
  float* gradient = nullptr;
};

#if HYPERFUSE_CUDA_EMULATED
// The device pointers each view holds, for the CUDA emulation's check of kernel arguments
// (tests/cuda_emulation/README.md): a launch with any of them outside the device's memory fails.
template <typename Visit>
void emulated_device_pointers(const PackView& v, Visit&& visit) {
  visit(v.activation, "activation");
  visit(v.loss, "loss");
  visit(v.optimizer, "optimizer");
  visit(v.dropout, "dropout");
  visit(v.keep_scale, "keep_scale");
  visit(v.l1, "l1");
  visit(v.seed, "seed");
  visit(v.active, "active");
}
template <typename Visit>
void emulated_device_pointers(const LayerView& v, Visit&& visit) {
  visit(v.pre_activation, "pre_activation");
  visit(v.activation, "activation");
  visit(v.output, "output");
  visit(v.gradient, "gradient");
}
#endif

}  // namespace hf
