// What the fused kernels read, passed by value: the pack's FusedPlan in device form (one
// FusedLayerView per layer in a device array), the per-network settings and state arrays, and
// the rows an epoch or an evaluation reads. The layouts are fused_plan.hpp's; the per-network
// arrays index networks as the pack lists them, the parameter and optimizer-state arrays are the
// host's layout (models x ParameterLayout::size), as the per-primitive kernels keep them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hf {

// A FusedPlacement for the device: `offset` words into shared memory (shared != 0) or into the
// network's slice of global scratch.
struct FusedPlace {
  unsigned offset = 0;
  unsigned shared = 0;
};

struct FusedLayerView {
  int in = 0, out = 0, in4 = 0, out4 = 0;
  int mask_words = 0;
  int forward_m = 4, forward_n = 4;    // register tile of the forward GEMM
  int backward_m = 4, backward_n = 4;  // and of the input-gradient GEMM
  int weight_tiles_n = 0, weight_tiles = 0, first_weight_tile = 0, first_bias = 0;
  unsigned long long weight_offset = 0, bias_offset = 0;  // in the network's parameter vector
  FusedPlace weights, biases, pre_activation, output, mask;
};

struct FusedShape {
  int models = 0;
  int layers = 0;
  int batch = 0, columns = 0, stride = 0;
  int weight_tiles = 0, biases = 0, state_slots = 0;
  unsigned shared_words = 0;
  unsigned long long global_words = 0;  // scratch words per network
  unsigned long long parameters = 0;    // floats per network, padded (ParameterLayout::size)
  unsigned long long prelu_offset = 0;
  unsigned long long used = 0;
  FusedPlace batch_x[2], labels, loss_terms, reductions, row_gradient, row_activation, bias_state, tile_state;
  const FusedLayerView* layer = nullptr;  // device array of `layers`
};

// Each network's settings, device arrays indexed by network.
struct FusedNetworks {
  const std::uint8_t* activation = nullptr;
  const std::uint8_t* loss = nullptr;
  const std::uint8_t* optimizer = nullptr;
  const float* dropout = nullptr;
  const float* keep_scale = nullptr;
  const float* l1 = nullptr;
  const double* learning_rate = nullptr;
  const double* weight_decay = nullptr;
  const std::uint64_t* seed = nullptr;
  const int* max_epochs = nullptr;
};

// What training reads and writes besides shared memory.
struct FusedState {
  float* parameters = nullptr;  // models x parameters
  float* state1 = nullptr;      // optimizer states, likewise
  float* state2 = nullptr;
  double* loss_sums = nullptr;                        // per network, added to every epoch
  std::int64_t* first_nonfinite_loss_step = nullptr;  // per network, -1 while finite
  std::uint8_t* nonfinite_parameters = nullptr;       // per network
  float* scratch = nullptr;                           // models x FusedShape::global_words
};

// Rows on the device: rows x features, row-major, one label a row; `order` the row of each
// position of a shuffled epoch (null: file order).
struct FusedRows {
  int rows = 0;
  int features = 0;
  const float* x = nullptr;
  const float* y = nullptr;
  const int* order = nullptr;
};

// Where evaluation writes: per network its counts {tp, fp, fn, tn} and one bit a row (bit r % 32
// of word r / 32 of the network's `words`) for each predicted positive.
struct FusedEvaluation {
  float threshold = 0.5f;
  const std::uint8_t* active = nullptr;
  long long* counts = nullptr;
  unsigned* positives = nullptr;
  int words = 0;
};

#if HYPERFUSE_CUDA_EMULATED
// The device pointers each view holds, for the emulation's check of kernel arguments.
template <typename Visit>
void emulated_device_pointers(const FusedShape& v, Visit&& visit) {
  visit(v.layer, "layer");
}
template <typename Visit>
void emulated_device_pointers(const FusedNetworks& v, Visit&& visit) {
  visit(v.activation, "activation");
  visit(v.loss, "loss");
  visit(v.optimizer, "optimizer");
  visit(v.dropout, "dropout");
  visit(v.keep_scale, "keep_scale");
  visit(v.l1, "l1");
  visit(v.learning_rate, "learning_rate");
  visit(v.weight_decay, "weight_decay");
  visit(v.seed, "seed");
  visit(v.max_epochs, "max_epochs");
}
template <typename Visit>
void emulated_device_pointers(const FusedState& v, Visit&& visit) {
  visit(v.parameters, "parameters");
  visit(v.state1, "state1");
  visit(v.state2, "state2");
  visit(v.loss_sums, "loss_sums");
  visit(v.first_nonfinite_loss_step, "first_nonfinite_loss_step");
  visit(v.nonfinite_parameters, "nonfinite_parameters");
  visit(v.scratch, "scratch");
}
template <typename Visit>
void emulated_device_pointers(const FusedRows& v, Visit&& visit) {
  visit(v.x, "x");
  visit(v.y, "y");
  visit(v.order, "order");
}
template <typename Visit>
void emulated_device_pointers(const FusedEvaluation& v, Visit&& visit) {
  visit(v.active, "active");
  visit(v.counts, "counts");
  visit(v.positives, "positives");
}
#endif

}  // namespace hf
