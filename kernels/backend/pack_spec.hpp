// A pack: networks that train in lock step because they share layer widths, batch size and
// data order. Everything else (activation, loss, optimizer, rates, dropout, regularization,
// initialization, epochs, seed) is per network. A single network is a pack of one.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/backend/parameter_layout.hpp"
#include "kernels/math/codes.hpp"

namespace hf {

// What one network trains with, apart from the layout and batch size its pack shares.
struct NetworkSettings {
  Activation activation = Activation::ReLU;
  Loss loss = Loss::BCE;
  Optimizer optimizer = Optimizer::Adam;
  WeightInit weight_init = WeightInit::XavierUniform;
  double learning_rate = 0.001;
  double dropout = 0.0;
  double l1 = 0.0;
  double l2 = 0.0;  // the optimizer's weight_decay
  int max_epochs = 1;
};

struct PackMember : NetworkSettings {
  std::uint64_t seed = 0;  // initial weights, dropout masks and RReLU slopes
};

struct PackSpec {
  ParameterLayout layout;
  int batch_size = 32;
  std::vector<PackMember> members;
  int models() const { return static_cast<int>(members.size()); }
};

}  // namespace hf
