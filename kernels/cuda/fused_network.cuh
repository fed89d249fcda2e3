// Device code shared by the fused training and evaluation kernels (fused_training.cu,
// fused_evaluation.cu): what one thread block does to the one network it holds, in the layout of
// fused_plan.hpp. Every element is computed with the shared math of kernels/math (activations,
// dropout draws, losses, optimizer updates) in the CPU trainer's order of operations; only the
// GEMM sums (and the PReLU slope gradient's and the L1 term's sums) add in another order.
//
// Phases are separated by __syncthreads; within a phase each output element has one writer,
// and a buffer is either read or written, never both, except in place by the one thread that
// owns an element (the gradient at Z replacing Z).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/fused_plan.hpp"
#include "kernels/cuda/fused_tiles.cuh"
#include "kernels/cuda/fused_view.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/math/activations.hpp"
#include "kernels/math/dropout.hpp"
#include "kernels/math/losses.hpp"
#include "kernels/math/optimizers.hpp"
#include "kernels/math/row_activations.hpp"

namespace hf {
namespace fused {

// The thread that sums the loss, keeps the loss statistics, computes the step's optimizer
// scalars and updates the PReLU slope: the last one, whose warps have the fewest weight tiles.
constexpr int kBookkeeper = kFusedThreads - 1;

// Words of the shared `reductions` area (fused_plan.cpp reserves it first, so it is aligned).
constexpr int kL1Partials = 0;                   // per warp, a double: sum |p| for the L1 term
constexpr int kPreluPartials = 2 * kFusedWarps;  // per warp, a float: PReLU slope gradient
constexpr int kCountPartials = 0;                // evaluation: per warp tp, fp, fn, tn (ints)
constexpr int kScalars = 4 * kFusedWarps;        // the step's OptimizerStep (6 floats)
constexpr int kPreluSlope = kScalars + 8;        // the slope, then its two optimizer states
static_assert(kPreluSlope + 3 <= kFusedReductionWords, "fused_plan.hpp reserves the reductions area");
static_assert(sizeof(OptimizerStep) == 6 * sizeof(float), "OptimizerStep is six floats");

// The network a block holds: its settings, and where its buffers are.
struct Net {
  int index = 0;
  Activation activation = Activation::ReLU;
  Loss loss = Loss::BCE;
  Optimizer optimizer = Optimizer::Adam;
  float dropout = 0.0f, keep_scale = 1.0f, l1 = 0.0f;
  std::uint64_t seed = 0;
  float* shared = nullptr;   // the block's dynamic shared memory
  float* scratch = nullptr;  // the network's slice of global scratch
  float* reductions = nullptr;

  __device__ float* at(FusedPlace p) const { return p.shared ? shared + p.offset : scratch + p.offset; }
  __device__ bool drops() const { return dropout > 0.0f; }
  __device__ bool rows_mixed() const { return is_row_activation(activation); }
  __device__ bool prelu() const { return activation == Activation::PReLU; }
  __device__ float prelu_slope() const { return reductions[kPreluSlope]; }
};

__device__ inline Net make_net(const FusedShape& shape, const FusedNetworks& nets, float* scratch, int m) {
  Net net;
  net.index = m;
  net.activation = static_cast<Activation>(nets.activation[m]);
  net.loss = static_cast<Loss>(nets.loss[m]);
  net.optimizer = static_cast<Optimizer>(nets.optimizer[m]);
  net.dropout = nets.dropout[m];
  net.keep_scale = nets.keep_scale[m];
  net.l1 = nets.l1[m];
  net.seed = nets.seed[m];
  net.shared = dynamic_shared_memory<float>();
  net.scratch = scratch + static_cast<std::size_t>(m) * shape.global_words;
  net.reductions = net.at(shape.reductions);
  return net;
}

// Every buffer zeroed: the padding rows and columns stay zero for the whole launch.
__device__ inline void clear_buffers(const Net& net, const FusedShape& shape) {
  for (unsigned w = threadIdx.x; w < shape.shared_words; w += blockDim.x) net.shared[w] = 0.0f;
  for (unsigned long long w = threadIdx.x; w < shape.global_words; w += blockDim.x) net.scratch[w] = 0.0f;
}

// The network's parameters from the host layout into the fused one (after clear_buffers and a
// barrier), or back.
template <bool Load>
__device__ void move_parameters(const Net& net, const FusedShape& shape, float* parameters) {
  float* p = parameters + static_cast<std::size_t>(net.index) * shape.parameters;
  for (int l = 0; l < shape.layers; ++l) {
    const FusedLayerView& L = shape.layer[l];
    float* w = net.at(L.weights);
    const int count = L.out * L.in;
    for (int e = threadIdx.x; e < count; e += blockDim.x) {
      const int o = e / L.in, i = e - o * L.in;
      if (Load) {
        w[o * L.in4 + i] = p[L.weight_offset + e];
      } else {
        p[L.weight_offset + e] = w[o * L.in4 + i];
      }
    }
    float* b = net.at(L.biases);
    for (int o = threadIdx.x; o < L.out; o += blockDim.x) {
      if (Load) {
        b[o] = p[L.bias_offset + o];
      } else {
        p[L.bias_offset + o] = b[o];
      }
    }
  }
  if (threadIdx.x == kBookkeeper) {
    if (Load) {
      net.reductions[kPreluSlope] = p[shape.prelu_offset];
    } else if (net.prelu() && shape.layers > 1) {
      p[shape.prelu_offset] = net.reductions[kPreluSlope];
    }
  }
}

// Batch rows [start, start + rows) of `data` (through its order when shuffled) into the batch
// buffer, feature-major; columns past `rows` become zero. Consecutive threads take consecutive
// batch rows, so the shared-memory stores hit consecutive banks.
__device__ inline void gather_batch(const Net& net, const FusedShape& shape, const FusedRows& data, int start, int rows,
                                    float* x, float* labels) {
  const int in = shape.layer[0].in;
  const int elements = in * shape.columns;
  for (int e = threadIdx.x; e < elements; e += blockDim.x) {
    const int i = e / shape.columns, r = e - i * shape.columns;
    float v = 0.0f;
    if (r < rows) {
      const int row = data.order != nullptr ? data.order[start + r] : start + r;
      v = data.x[static_cast<std::size_t>(row) * data.features + i];
    }
    x[i * shape.stride + r] = v;
  }
  for (int r = threadIdx.x; r < shape.columns; r += blockDim.x) {
    float v = 0.0f;
    if (r < rows) v = data.y[data.order != nullptr ? data.order[start + r] : start + r];
    labels[r] = v;
  }
}

// The dropout decisions of every hidden layer for this step: one thread per 32 elements of the
// row-major numbering, each Philox block giving four (dropout.hpp's draws, bit for bit).
__device__ inline void draw_dropout_masks(const Net& net, const FusedShape& shape, std::uint64_t step, int rows) {
  if (!net.drops()) return;
  int before = 0;  // words of earlier layers
  for (int l = 0; l + 1 < shape.layers; ++l) {
    const FusedLayerView& L = shape.layer[l];
    const int words = (rows * L.out + 31) / 32;
    unsigned* mask = reinterpret_cast<unsigned*>(net.at(L.mask));
    // The words of all layers spread over the threads as one sequence.
    const int thread = static_cast<int>(threadIdx.x);
    const int first = (thread - before % kFusedThreads + kFusedThreads) % kFusedThreads;
    for (int w = first; w < words; w += kFusedThreads) {
      unsigned bits = 0;
      for (int k = 0; k < 8; ++k) {
        const std::uint32_t group = static_cast<std::uint32_t>(w) * 8u + static_cast<std::uint32_t>(k);
        const Philox4 block = random_block(net.seed, RandomStream::Dropout, static_cast<std::uint32_t>(l), step, group);
        for (int q = 0; q < 4; ++q) {
          const bool keep = !(uniform_float(block.v[q]) < net.dropout);
          bits |= static_cast<unsigned>(keep) << (4 * k + q);
        }
      }
      mask[w] = bits;
    }
    before += words;
  }
}

__device__ __forceinline__ float dropout_factor(const Net& net, const unsigned* mask, int element) {
  const bool keep = (mask[element >> 5] >> (element & 31)) & 1u;
  return keep ? net.keep_scale : 0.0f;  // dropout_multiplier_for's two values
}

// The negative slope an element uses: PReLU's parameter, RReLU's draw in training, its mean in
// evaluation.
template <bool Training>
__device__ __forceinline__ float negative_slope(const Net& net, int layer, std::uint64_t step, int element) {
  if (net.prelu()) return net.prelu_slope();
  if (Training && net.activation == Activation::RReLU)
    return rrelu_training_slope(net.seed, layer, step, static_cast<std::uint32_t>(element));
  return kRreluEvalSlope;
}

// One row of a Softmin/Softmax/LogSoftmax hidden layer per thread: the activation from Z into
// OUT, then dropout, as the CPU trainer orders them.
template <bool Training>
__device__ void row_activation_forward_phase(const Net& net, const FusedShape& shape, const FusedLayerView& L,
                                             const float* z, float* out, const unsigned* mask, int rows) {
  for (int r = threadIdx.x; r < rows; r += blockDim.x) {
    row_activation_forward_lanes<1>(net.activation, z + r, out + r, L.out, shape.stride);
    if (Training && net.drops()) {
      for (int o = 0; o < L.out; ++o) out[o * shape.stride + r] *= dropout_factor(net, mask, r * L.out + o);
    }
  }
}

// The forward pass over every layer for `rows` rows of the batch in `x`. `first_phase()` runs on
// every thread inside the first layer's phase (before its barrier); `output(r, z)` gets the
// output layer's pre-activation (bias added) of each batch row r < rows and returns what the
// output layer's Z keeps (the gradient in training, the probability in evaluation).
template <bool Training, typename FirstPhase, typename Output>
__device__ void forward_pass(const Net& net, const FusedShape& shape, const float* x, int rows, std::uint64_t step,
                             FirstPhase&& first_phase, Output&& output) {
  const float* input = x;
  for (int l = 0; l < shape.layers; ++l) {
    const FusedLayerView& L = shape.layer[l];
    const bool output_layer = l + 1 == shape.layers;
    const float* w = net.at(L.weights);
    const float* b = net.at(L.biases);
    float* z = net.at(L.pre_activation);
    float* out = output_layer ? nullptr : net.at(L.output);
    const unsigned* mask = reinterpret_cast<const unsigned*>(net.at(L.mask));
    const bool row_mixed = !output_layer && net.rows_mixed();
    with_tile_shape(L.forward_m, L.forward_n, [&](auto tile_m, auto tile_n) {
      constexpr int TM = decltype(tile_m)::value, TN = decltype(tile_n)::value;
      const int tiles_n = shape.columns / TN;
      const int tiles = (L.out + TM - 1) / TM * tiles_n;
      for (int tile = threadIdx.x; tile < tiles; tile += blockDim.x) {
        const int m0 = tile / tiles_n * TM, n0 = tile % tiles_n * TN;
        float acc[TM][TN] = {};
        tile_product<TM, TN, true, false>(w, L.in4, input, shape.stride, m0, n0, 1, L.in4, acc);
        HF_UNROLL for (int i = 0; i < TM; ++i) {
          HF_UNROLL for (int j = 0; j < TN; ++j) {
            const int o = m0 + i, r = n0 + j;
            const bool valid = o < L.out && r < rows;
            const int at = o * shape.stride + r;
            if (output_layer) {
              z[at] = valid ? output(r, acc[i][j] + b[o]) : 0.0f;
              continue;
            }
            float zv = 0.0f, ov = 0.0f;
            if (valid) {
              zv = acc[i][j] + b[o];
              const int element = r * L.out + o;
              const float slope = negative_slope<Training>(net, l, step, element);
              with_elementwise_activation(net.activation,
                                          [&](auto a) { ov = activate<decltype(a)::value>(zv, slope); });
              if (Training && net.drops()) ov = ov * dropout_factor(net, mask, element);
            }
            z[at] = zv;
            if (!(valid && row_mixed)) out[at] = ov;  // a row activation's rows are written below
          }
        }
      }
    });
    if (l == 0) first_phase();
    __syncthreads();
    if (row_mixed) {
      row_activation_forward_phase<Training>(net, shape, L, z, out, mask, rows);
      __syncthreads();
    }
    input = out;
  }
}

// The backward pass from the gradient at the output layer's Z (in its Z buffer) down to the
// gradient at layer 0's Z: for each layer l > 0 the gradient at OUT_{l-1} (a GEMM), through
// dropout and the activation's derivative into Z_{l-1}'s buffer. Each thread adds its elements'
// PReLU slope gradient to `prelu_partial`; the warps' sums land in shared memory before the
// last barrier.
__device__ inline void backward_pass(const Net& net, const FusedShape& shape, int rows, std::uint64_t step,
                                     float& prelu_partial) {
  for (int l = shape.layers - 1; l >= 1; --l) {
    const FusedLayerView& L = shape.layer[l];
    const FusedLayerView& P = shape.layer[l - 1];
    const float* w = net.at(L.weights);
    const float* dz = net.at(L.pre_activation);
    float* z = net.at(P.pre_activation);
    const unsigned* mask = reinterpret_cast<const unsigned*>(net.at(P.mask));
    float* row_gradient = net.at(shape.row_gradient);
    const bool row_mixed = net.rows_mixed();
    with_tile_shape(L.backward_m, L.backward_n, [&](auto tile_m, auto tile_n) {
      constexpr int TM = decltype(tile_m)::value, TN = decltype(tile_n)::value;
      const int tiles_n = shape.columns / TN;
      const int tiles = (P.out + TM - 1) / TM * tiles_n;
      for (int tile = threadIdx.x; tile < tiles; tile += blockDim.x) {
        const int m0 = tile / tiles_n * TM, n0 = tile % tiles_n * TN;
        float acc[TM][TN] = {};
        tile_product<TM, TN, false, false>(w, L.in4, dz, shape.stride, m0, n0, 1, L.out4, acc);
        HF_UNROLL for (int i = 0; i < TM; ++i) {
          HF_UNROLL for (int j = 0; j < TN; ++j) {
            const int k = m0 + i, r = n0 + j;
            const bool valid = k < P.out && r < rows;
            const int at = k * shape.stride + r;
            float dzv = 0.0f;
            if (valid) {
              const int element = r * P.out + k;
              float g = acc[i][j];
              if (net.drops()) g = g * dropout_factor(net, mask, element);
              if (row_mixed) {
                row_gradient[at] = g;  // the row phase below finishes it
                continue;
              }
              const float zv = z[at];
              if (net.prelu()) prelu_partial += prelu_slope_gradient(zv, g);
              const float slope = negative_slope<true>(net, l - 1, step, element);
              with_elementwise_activation(net.activation, [&](auto a) {
                constexpr Activation A = decltype(a)::value;
                dzv = g * activation_derivative<A>(zv, activate<A>(zv, slope), slope);
              });
            }
            z[at] = dzv;
          }
        }
      }
    });
    if (l == 1 && net.prelu()) {
      for (int offset = 16; offset > 0; offset /= 2)
        prelu_partial += __shfl_xor_sync(0xffffffffu, prelu_partial, offset);
      if (threadIdx.x % 32 == 0) net.reductions[kPreluPartials + threadIdx.x / 32] = prelu_partial;
    }
    __syncthreads();
    if (row_mixed) {
      // The activation again from Z (as the forward pass computed it), then the row backward.
      float* y = net.at(shape.row_activation);
      for (int r = threadIdx.x; r < rows; r += blockDim.x) {
        row_activation_forward_lanes<1>(net.activation, z + r, y + r, P.out, shape.stride);
        row_activation_backward_lanes<1>(net.activation, y + r, row_gradient + r, P.out, shape.stride);
        for (int k = 0; k < P.out; ++k) z[k * shape.stride + r] = row_gradient[k * shape.stride + r];
      }
      __syncthreads();
    }
  }
}

// The layer and 4x4 tile of weight tile `tile` in the network's numbering.
struct WeightTile {
  int layer = -1;
  int o0 = 0, i0 = 0;  // rows o0..o0+3, columns i0, i0 + n, i0 + 2n, i0 + 3n (n = weight_tiles_n)
};

__device__ inline WeightTile locate_weight_tile(const FusedShape& shape, int tile) {
  WeightTile t;
  if (tile < 0 || tile >= shape.weight_tiles) return t;
  int l = 0;
  while (tile >= shape.layer[l].first_weight_tile + shape.layer[l].weight_tiles) ++l;
  const FusedLayerView& L = shape.layer[l];
  const int local = tile - L.first_weight_tile;
  t.layer = l;
  t.o0 = local / L.weight_tiles_n * 4;
  t.i0 = local % L.weight_tiles_n;
  return t;
}

// The layer and row of bias `bias`, or layer -1.
__device__ inline int2 locate_bias(const FusedShape& shape, int bias) {
  if (bias < 0 || bias >= shape.biases) return make_int2(-1, 0);
  int l = 0;
  while (bias >= shape.layer[l].first_bias + shape.layer[l].out) ++l;
  return make_int2(l, bias - shape.layer[l].first_bias);
}

// Where element e (0..15, row-major in the tile) of a weight tile sits in the network's
// parameter vector, or -1 for padding.
__device__ __forceinline__ long long weight_index(const FusedLayerView& L, const WeightTile& t, int e) {
  const int o = t.o0 + e / 4, i = t.i0 + (e % 4) * L.weight_tiles_n;
  return o < L.out && i < L.in ? static_cast<long long>(L.weight_offset) + o * L.in + i : -1;
}

// The weight gradient of one 4x4 tile for this step's `rows` rows: sum over rows of
// dZ_l[o][r] * input_l[i][r].
__device__ inline void weight_gradient_tile(const Net& net, const FusedShape& shape, const FusedLayerView& L,
                                            const float* input, const WeightTile& t, int rows, float (&acc)[4][4]) {
  HF_UNROLL for (int i = 0; i < 4; ++i) { HF_UNROLL for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f; }
  tile_product<4, 4, true, true>(net.at(L.pre_activation), shape.stride, input, shape.stride, t.o0, t.i0,
                                 L.weight_tiles_n, (rows + 3) / 4 * 4, acc);
}

// The gradient of parameter p as the optimizer sees it: with the L1 term (sign of p), whose
// magnitude part joins the thread's sum |p| for the loss.
__device__ __forceinline__ float with_l1(const Net& net, float p, float g, double& l1_partial) {
  if (!(net.l1 > 0.0f)) return g;
  l1_partial += abs_f(p);
  return g + net.l1 * (p > 0.0f ? 1.0f : (p < 0.0f ? -1.0f : 0.0f));
}

// The input layer l's weight gradient reads: the batch, or OUT_{l-1}.
__device__ __forceinline__ const float* layer_input(const Net& net, const FusedShape& shape, int layer,
                                                    const float* x) {
  return layer == 0 ? x : net.at(shape.layer[layer - 1].output);
}

// Bias o of layer L: its gradient is the sum of dZ over the step's rows, in row order as the CPU
// sums it.
__device__ __forceinline__ float bias_gradient(const Net& net, const FusedShape& shape, const FusedLayerView& L, int o,
                                               int rows) {
  const float* dz = net.at(L.pre_activation) + o * shape.stride;
  float sum = 0.0f;
  for (int r = 0; r < rows; ++r) sum += dz[r];
  return sum;
}

// The PReLU slope's update, by the bookkeeper: its gradient is the warps' partial sums (the
// states live beside the slope in shared memory for the whole launch).
__device__ inline void update_prelu_slope(const Net& net, const FusedShape& shape, const OptimizerStep& s,
                                          double& l1_partial) {
  if (!net.prelu() || shape.layers < 2) return;
  float g = 0.0f;
  for (int w = 0; w < kFusedWarps; ++w) g += net.reductions[kPreluPartials + w];
  float p = net.reductions[kPreluSlope];
  g = with_l1(net, p, g, l1_partial);
  float first = net.reductions[kPreluSlope + 1], second = net.reductions[kPreluSlope + 2];
  with_optimizer(net.optimizer, [&](auto o) { optimizer_update<decltype(o)::value>(p, g, first, second, s); });
  net.reductions[kPreluSlope] = p;
  net.reductions[kPreluSlope + 1] = first;
  net.reductions[kPreluSlope + 2] = second;
}

__device__ inline OptimizerStep read_scalars(const Net& net) {
  OptimizerStep s;
  const float* v = net.reductions + kScalars;
  s.learning_rate = v[0];
  s.weight_decay = v[1];
  s.step_size = v[2];
  s.bias_correction2_sqrt = v[3];
  s.bias_correction2_sqrt_reciprocal = v[4];
  s.decoupled_decay = v[5];
  return s;
}

__device__ inline void write_scalars(const Net& net, const OptimizerStep& s) {
  float* v = net.reductions + kScalars;
  v[0] = s.learning_rate;
  v[1] = s.weight_decay;
  v[2] = s.step_size;
  v[3] = s.bias_correction2_sqrt;
  v[4] = s.bias_correction2_sqrt_reciprocal;
  v[5] = s.decoupled_decay;
}

// Sum of a double over the warp, then lane 0's into the shared partials.
__device__ inline void warp_partial_to_shared(double value, double* partials) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
  if (threadIdx.x % 32 == 0) partials[threadIdx.x / 32] = value;
}

}  // namespace fused
}  // namespace hf
