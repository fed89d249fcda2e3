// The fused training kernel: one launch trains every active network of a pack for `steps` steps of
// an epoch (the whole epoch, or a planned part of it: launches bounded in time), one thread block (kFusedThreads = 256 threads) per network, its weights, activations and dropout
// masks in shared memory (or, for what does not fit, its slice of global scratch: fused_plan.hpp), the
// optimizer state of the weight tiles each thread owns in that thread's registers (up to
// kMaxRegisterStateSlots tiles; the states of further tiles and of the biases in a buffer of
// the plan's). Each step:
//   forward     one phase per layer: register-tiled GEMM, bias, activation, dropout
//   loss        in the output layer's epilogue: per-row loss terms and the gradient at its Z
//   backward    one phase per layer > 0: the input-gradient GEMM, dropout, activation derivative
//               (and the PReLU slope gradient) straight into the previous layer's Z buffer
//   update      one phase: every owned 4x4 weight tile's gradient (a GEMM over the batch rows),
//               L1 term and optimizer step with the state in registers; the biases; the PReLU
//               slope; the loss statistics; and the next batch gathered and its dropout masks
//               drawn (into the other batch buffer)
// The host touches the pack only between launches: the order of the rows, the networks' health
// and loss sums all live on the device. Between the launches of one epoch everything a step
// carries over is in device memory too (parameters, optimizer states, the PReLU slope's states,
// the loss sum and first non-finite step), and the step counter keys dropout, RReLU and the
// optimizer, so the results are the same however the epoch is split.
#include <algorithm>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/fused_kernels.hpp"
#include "kernels/cuda/fused_network.cuh"
#include "kernels/cuda/shared_memory_attribute.hpp"

namespace hf {
namespace {

using namespace fused;

template <Optimizer O>
__device__ __forceinline__ void update_element(const Net& net, float& parameter, float gradient, float& first,
                                               float& second, const OptimizerStep& s, double& l1_partial) {
  float p = parameter;
  const float g = with_l1(net, p, gradient, l1_partial);
  optimizer_update<O>(p, g, first, second, s);
  parameter = p;
}

// The optimizer states of one tile's 16 weights: a register slot's two arrays...
struct RegisterStates {
  float (&first)[16];
  float (&second)[16];
  __device__ float& first_of(int e) const { return first[e]; }
  __device__ float& second_of(int e) const { return second[e]; }
};

// ... or its 32 words in the tile_state buffer, a thread's words kFusedThreads apart.
struct BufferStates {
  float* words;  // the tile's first word
  __device__ float& first_of(int e) const { return words[e * kFusedThreads]; }
  __device__ float& second_of(int e) const { return words[(16 + e) * kFusedThreads]; }
};

__device__ __forceinline__ BufferStates buffered_tile_states(const Net& net, const FusedShape& shape, int slot,
                                                             int register_slots) {
  return BufferStates{net.at(shape.tile_state) + static_cast<std::size_t>(slot - register_slots) * 32 * kFusedThreads +
                      threadIdx.x};
}

// The optimizer step of the 16 weights of one tile (padding skipped), with their states.
template <Optimizer O, typename States>
__device__ __forceinline__ void update_tile(const Net& net, const FusedLayerView& L, const WeightTile& tile,
                                            const float (&gradient)[4][4], const States& states, const OptimizerStep& s,
                                            double& l1_partial) {
  float* w = net.at(L.weights);
  HF_UNROLL for (int e = 0; e < 16; ++e) {
    const int o = tile.o0 + e / 4, i = tile.i0 + (e % 4) * L.weight_tiles_n;
    if (o < L.out && i < L.in)
      update_element<O>(net, w[o * L.in4 + i], gradient[e / 4][e % 4], states.first_of(e), states.second_of(e), s,
                        l1_partial);
  }
}

// Moves the optimizer states of one tile between the network's state arrays (the host layout)
// and `states` (only the states the optimizer has).
template <bool Load, typename States>
__device__ __forceinline__ void move_tile_state(const Net& net, const FusedShape& shape, const FusedState& state,
                                                const WeightTile& tile, const States& states) {
  const int count = optimizer_state_count(net.optimizer);
  const std::size_t base = static_cast<std::size_t>(net.index) * shape.parameters;
  const FusedLayerView& L = shape.layer[tile.layer];
  HF_UNROLL for (int e = 0; e < 16; ++e) {
    const long long index = weight_index(L, tile, e);
    if (index < 0) continue;
    if (Load) {
      states.first_of(e) = count >= 1 ? state.state1[base + index] : 0.0f;
      states.second_of(e) = count >= 2 ? state.state2[base + index] : 0.0f;
    } else {
      if (count >= 1) state.state1[base + index] = states.first_of(e);
      if (count >= 2) state.state2[base + index] = states.second_of(e);
    }
  }
}

// Moves every bias's optimizer states between the state arrays and the bias_state buffer.
template <bool Load>
__device__ void move_bias_states(const Net& net, const FusedShape& shape, const FusedState& state) {
  const int count = optimizer_state_count(net.optimizer);
  const std::size_t base = static_cast<std::size_t>(net.index) * shape.parameters;
  float* buffer = net.at(shape.bias_state);
  for (int b = static_cast<int>(threadIdx.x); b < shape.biases; b += kFusedThreads) {
    const int2 bias = locate_bias(shape, b);
    const std::size_t index = base + shape.layer[bias.x].bias_offset + static_cast<std::size_t>(bias.y);
    if (Load) {
      buffer[b] = count >= 1 ? state.state1[index] : 0.0f;
      buffer[shape.biases + b] = count >= 2 ? state.state2[index] : 0.0f;
    } else {
      if (count >= 1) state.state1[index] = buffer[b];
      if (count >= 2) state.state2[index] = buffer[shape.biases + b];
    }
  }
}

// The gradient and optimizer step of one owned weight tile.
template <typename States>
__device__ __forceinline__ void train_weight_tile(const Net& net, const FusedShape& shape, const float* x,
                                                  const WeightTile& tile, int rows, const OptimizerStep& s,
                                                  const States& states, double& l1_partial) {
  const FusedLayerView& L = shape.layer[tile.layer];
  float gradient[4][4];
  weight_gradient_tile(net, shape, L, layer_input(net, shape, tile.layer, x), tile, rows, gradient);
  with_optimizer(net.optimizer,
                 [&](auto o) { update_tile<decltype(o)::value>(net, L, tile, gradient, states, s, l1_partial); });
}

__device__ __forceinline__ void train_bias(const Net& net, const FusedShape& shape, int b, int rows,
                                           const OptimizerStep& s, double& l1_partial) {
  const int2 bias = locate_bias(shape, b);
  const FusedLayerView& L = shape.layer[bias.x];
  const float g = bias_gradient(net, shape, L, bias.y, rows);
  float* parameters = net.at(L.biases);
  float* states = net.at(shape.bias_state);
  with_optimizer(net.optimizer, [&](auto o) {
    update_element<decltype(o)::value>(net, parameters[bias.y], g, states[b], states[shape.biases + b], s, l1_partial);
  });
}

// The bookkeeper's running statistics of the epoch.
struct LossBook {
  double sum = 0.0;
  long long first_nonfinite_step = -1;
  double pending = 0.0;  // a step's loss waiting for its L1 term

  __device__ void record(double loss, std::uint64_t step) {
    if (!isfinite(loss) && first_nonfinite_step < 0) first_nonfinite_step = static_cast<long long>(step);
    sum += loss;
  }
  // The pending loss with the L1 term of the warps' partial sums |p|.
  __device__ void record_with_l1(const Net& net, std::uint64_t step) {
    const double* partials = reinterpret_cast<const double*>(net.reductions + kL1Partials);
    double magnitude = 0.0;
    for (int w = 0; w < kFusedWarps; ++w) magnitude += partials[w];
    record(pending + net.l1 * magnitude, step);
  }
};

// Thread t owns weight tiles t, t + T, t + 2T, ... (T = kFusedThreads): the optimizer states of
// the first Slots stay in its registers for the whole launch, those of the others in the
// tile_state buffer; and biases T - 1 - t, 2T - 1 - t, ..., whose states are in bias_state.
template <int Slots>
__global__ void __launch_bounds__(kFusedThreads, 1)
    fused_epoch_kernel(FusedShape shape, FusedNetworks networks, FusedState state, FusedRows data, int epoch,
                       long long first_step, int first_batch, int steps) {
  const int m = static_cast<int>(blockIdx.x);
  // Inactive networks (past their epochs, or failed before this epoch) leave their block at once,
  // every thread alike. A network whose loss turns non-finite goes on to the epoch's end, in
  // this launch and the epoch's later ones alike.
  const long long failed_at = state.first_nonfinite_loss_step[m];
  if (epoch >= networks.max_epochs[m] || (failed_at >= 0 && failed_at < first_step - first_batch) ||
      state.nonfinite_parameters[m] != 0)
    return;
  const int t = static_cast<int>(threadIdx.x);
  const Net net = make_net(shape, networks, state.scratch, m);
  const std::size_t base = static_cast<std::size_t>(m) * shape.parameters;
  clear_buffers(net, shape);
  __syncthreads();
  move_parameters<true>(net, shape, state.parameters);

  float first[Slots][16], second[Slots][16];
  WeightTile owned[Slots];
  HF_UNROLL for (int k = 0; k < Slots; ++k) {
    owned[k] = locate_weight_tile(shape, t + k * kFusedThreads);
    if (owned[k].layer >= 0) move_tile_state<true>(net, shape, state, owned[k], RegisterStates{first[k], second[k]});
  }
  for (int k = Slots, g = t + Slots * kFusedThreads; g < shape.weight_tiles; ++k, g += kFusedThreads)
    move_tile_state<true>(net, shape, state, locate_weight_tile(shape, g), buffered_tile_states(net, shape, k, Slots));
  move_bias_states<true>(net, shape, state);
  if (t == kBookkeeper) {
    const int states = optimizer_state_count(net.optimizer);
    net.reductions[kPreluSlope + 1] = states >= 1 ? state.state1[base + shape.prelu_offset] : 0.0f;
    net.reductions[kPreluSlope + 2] = states >= 2 ? state.state2[base + shape.prelu_offset] : 0.0f;
  }
  float* labels = net.at(shape.labels);
  float* terms = net.at(shape.loss_terms);
  const int first_row = first_batch * shape.batch;
  const int first_rows = min(shape.batch, data.rows - first_row);
  gather_batch(net, shape, data, first_row, first_rows, net.at(shape.batch_x[0]), labels);
  draw_dropout_masks(net, shape, static_cast<std::uint64_t>(first_step), first_rows);
  __syncthreads();

  // The epoch's loss sum and first non-finite step so far (earlier launches of the epoch), added to
  // in step order as one launch would.
  LossBook book;
  if (t == kBookkeeper) {
    book.sum = state.loss_sums[m];
    book.first_nonfinite_step = failed_at;
  }
  const double learning_rate = networks.learning_rate[m], weight_decay = networks.weight_decay[m];
  for (int s = 0; s < steps; ++s) {
    const std::uint64_t step = static_cast<std::uint64_t>(first_step + s);
    const int start = first_row + s * shape.batch;
    const int rows = min(shape.batch, data.rows - start);
    const float norm = 1.0f / static_cast<float>(rows);
    const float* x = net.at(shape.batch_x[s % 2]);

    forward_pass<true>(
        net, shape, x, rows, step,
        [&] {
          if (t != kBookkeeper) return;
          if (s > 0 && net.l1 > 0.0f) book.record_with_l1(net, step - 1);
          write_scalars(net, optimizer_step_scalars(net.optimizer, learning_rate, weight_decay,
                                                    static_cast<long long>(step) + 1));
        },
        [&](int r, float z) {
          const float p = sigmoid_f(z);
          terms[r] = loss_value(net.loss, p, labels[r]);
          return output_gradient(net.loss, p, labels[r], norm);
        });
    float prelu_partial = 0.0f;
    backward_pass(net, shape, rows, step, prelu_partial);

    // The update phase, with the next batch's gather.
    const OptimizerStep scalars = read_scalars(net);
    double l1_partial = 0.0;
    HF_UNROLL for (int k = 0; k < Slots; ++k) {
      if (owned[k].layer >= 0)
        train_weight_tile(net, shape, x, owned[k], rows, scalars, RegisterStates{first[k], second[k]}, l1_partial);
    }
    for (int k = Slots, g = t + Slots * kFusedThreads; g < shape.weight_tiles; ++k, g += kFusedThreads)
      train_weight_tile(net, shape, x, locate_weight_tile(shape, g), rows, scalars,
                        buffered_tile_states(net, shape, k, Slots), l1_partial);
    for (int b = kFusedThreads - 1 - t; b < shape.biases; b += kFusedThreads)
      train_bias(net, shape, b, rows, scalars, l1_partial);
    if (t == kBookkeeper) {
      update_prelu_slope(net, shape, scalars, l1_partial);
      double total = 0.0;
      for (int r = 0; r < rows; ++r) total += terms[r];  // in row order, as every backend sums
      const double loss = total / rows;
      if (net.l1 > 0.0f) {
        book.pending = loss;  // recorded once the warps' L1 partial sums are in
      } else {
        book.record(loss, step);
      }
    }
    if (net.l1 > 0.0f) warp_partial_to_shared(l1_partial, reinterpret_cast<double*>(net.reductions + kL1Partials));
    if (s + 1 < steps) {
      const int next_rows = min(shape.batch, data.rows - start - shape.batch);
      gather_batch(net, shape, data, start + shape.batch, next_rows, net.at(shape.batch_x[(s + 1) % 2]), labels);
      draw_dropout_masks(net, shape, step + 1, next_rows);
    }
    __syncthreads();
  }

  if (t == kBookkeeper && steps > 0 && net.l1 > 0.0f)
    book.record_with_l1(net, static_cast<std::uint64_t>(first_step + steps - 1));
  move_parameters<false>(net, shape, state.parameters);
  HF_UNROLL for (int k = 0; k < Slots; ++k) {
    if (owned[k].layer >= 0) move_tile_state<false>(net, shape, state, owned[k], RegisterStates{first[k], second[k]});
  }
  for (int k = Slots, g = t + Slots * kFusedThreads; g < shape.weight_tiles; ++k, g += kFusedThreads)
    move_tile_state<false>(net, shape, state, locate_weight_tile(shape, g), buffered_tile_states(net, shape, k, Slots));
  move_bias_states<false>(net, shape, state);
  if (t == kBookkeeper) {
    const int states = optimizer_state_count(net.optimizer);
    if (net.prelu() && shape.layers > 1) {
      if (states >= 1) state.state1[base + shape.prelu_offset] = net.reductions[kPreluSlope + 1];
      if (states >= 2) state.state2[base + shape.prelu_offset] = net.reductions[kPreluSlope + 2];
    }
    state.loss_sums[m] = book.sum;
    if (book.first_nonfinite_step >= 0) state.first_nonfinite_loss_step[m] = book.first_nonfinite_step;
  }
  if (t == 0) HF_COUNT_TRAINING_STEPS(steps);
}

template <int Slots>
void launch_with_slots(const FusedShape& shape, const FusedNetworks& networks, const FusedState& state,
                       const FusedRows& rows, int epoch, long long first_step, int first_batch, int steps,
                       cudaStream_t stream) {
  const std::size_t shared_bytes = static_cast<std::size_t>(shape.shared_words) * 4;
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(fused_epoch_kernel<Slots>), shared_bytes);
  HF_LAUNCH(fused_epoch_kernel<Slots>, static_cast<unsigned>(shape.models), kFusedThreads, shared_bytes, stream)
  (shape, networks, state, rows, epoch, first_step, first_batch, steps);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace

cudaError_t fused_training_attributes(cudaFuncAttributes& most) {
  const void* kernels[] = {reinterpret_cast<const void*>(fused_epoch_kernel<1>),
                           reinterpret_cast<const void*>(fused_epoch_kernel<2>),
                           reinterpret_cast<const void*>(fused_epoch_kernel<kMaxRegisterStateSlots>)};
  most = cudaFuncAttributes{};
  for (const void* kernel : kernels) {
    cudaFuncAttributes attributes{};
    const cudaError_t status = cudaFuncGetAttributes(&attributes, kernel);
    if (status != cudaSuccess) return status;
    most.sharedSizeBytes = std::max(most.sharedSizeBytes, attributes.sharedSizeBytes);
    most.numRegs = std::max(most.numRegs, attributes.numRegs);
  }
  return cudaSuccess;
}

void launch_fused_epoch(const FusedShape& shape, const FusedNetworks& networks, const FusedState& state,
                        const FusedRows& rows, int epoch, long long first_step, int first_batch, int steps,
                        cudaStream_t stream) {
  if (shape.models == 0 || steps == 0) return;
  HF_COUNT_FUSED_EPOCH_LAUNCH();
  switch (shape.state_slots) {
    case 1: launch_with_slots<1>(shape, networks, state, rows, epoch, first_step, first_batch, steps, stream); break;
    case 2: launch_with_slots<2>(shape, networks, state, rows, epoch, first_step, first_batch, steps, stream); break;
    default:
      launch_with_slots<kMaxRegisterStateSlots>(shape, networks, state, rows, epoch, first_step, first_batch, steps,
                                                stream);
  }
}

}  // namespace hf
