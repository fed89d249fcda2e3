// A pack that exercises every per-network code a backend branches on: 50 networks, every
// activation twice, every loss, optimizer and initialization several times in different
// combinations, dropout, L1 and L2 among them, some networks stopping early; odd layer widths
// (7-11-5-1) and batch 16. For the tests that compare a backend's packs with the CPU trainer;
// also the diverging network they add.
#pragma once

#include <cstdint>

#include "kernels/backend/pack_spec.hpp"

namespace hf::testing {

inline PackSpec every_code_pack(int short_epochs, int long_epochs, std::uint64_t first_seed) {
  PackSpec spec{ParameterLayout({7, 11, 5, 1}), 16, {}};
  for (int i = 0; i < 2 * kActivationCount; ++i) {
    PackMember m;
    m.activation = static_cast<Activation>(i % kActivationCount);
    m.loss = static_cast<Loss>(i % kLossCount);
    m.optimizer = static_cast<Optimizer>((i / 2) % kOptimizerCount);
    m.weight_init = static_cast<WeightInit>(i % kWeightInitCount);
    m.learning_rate = m.optimizer == Optimizer::Adadelta ? 0.5 : (m.optimizer == Optimizer::SGD ? 0.05 : 0.005);
    m.dropout = i % 3 == 0 ? 0.2 : 0.0;
    m.l1 = i % 4 == 1 ? 1e-4 : 0.0;
    m.l2 = i % 5 == 2 ? 1e-3 : 0.0;
    m.max_epochs = i % 7 == 3 ? short_epochs : long_epochs;
    m.seed = first_seed + static_cast<std::uint64_t>(i);
    spec.members.push_back(m);
  }
  return spec;
}

// A network that must fail on every backend: SGD at an absurd rate with L1, whose term alone
// moves every weight by 1e30 a step, so the weights overflow and the loss is NaN by step 2.
// (Without L1 a ReLU network may die instead, and whether it does hangs on the signs of sums of
// 1e29-sized terms that cancel, which the order of summation decides: no test can ask two
// backends to agree there.)
inline PackMember diverging_network(Activation activation, Loss loss, int max_epochs, std::uint64_t seed) {
  PackMember m;
  m.activation = activation;
  m.loss = loss;
  m.optimizer = Optimizer::SGD;
  m.learning_rate = 1e30;
  m.l1 = 1.0;
  m.max_epochs = max_epochs;
  m.seed = seed;
  return m;
}

}  // namespace hf::testing
