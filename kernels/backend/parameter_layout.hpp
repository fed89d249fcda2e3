// The shape of a network and where each parameter lives in its flat parameter vector:
// for every linear layer its weight [out][in] (PyTorch's layout) then its bias, then one PReLU
// slope (shared by all hidden layers, zero and unused for other activations), padded to a
// multiple of 16 floats so every network of a pack starts on a cache line.
#pragma once

#include <cstddef>
#include <vector>

namespace hf {

// Widths of every layer: the input width, max(round(n * h), 1) per hidden multiple h (Python's
// round, half to even), then 1 output.
std::vector<int> layer_widths(int inputs, const std::vector<double>& hidden_multiples);

struct ParameterLayout {
  explicit ParameterLayout(std::vector<int> widths);

  int layers() const { return static_cast<int>(widths.size()) - 1; }
  int in(int layer) const { return widths[layer]; }
  int out(int layer) const { return widths[layer + 1]; }
  std::size_t weight_count(int layer) const { return static_cast<std::size_t>(in(layer)) * out(layer); }
  // Multiply-adds of one forward pass of one row.
  std::size_t forward_macs_per_row() const;

  std::vector<int> widths;
  std::vector<std::size_t> weight_offset;  // per layer
  std::vector<std::size_t> bias_offset;    // per layer
  std::size_t prelu_offset = 0;
  std::size_t used = 0;  // parameters before padding
  std::size_t size = 0;  // floats per network, padded
};

}  // namespace hf
