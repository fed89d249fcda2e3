// The plan of the fused training kernel for one layout and batch size (plain C++, computed on the
// host): where each of a network's buffers lives (the block's shared memory while it fits, else
// the network's slice of global scratch), the register tile of every GEMM phase, which thread
// owns which weights and biases (their optimizer state stays in that thread's registers when it
// fits), and the cost model that chooses the tiles and that bench/fused_model.cpp turns into a
// predicted time. kernels/cuda/README.md (kernels/README.md) explains the design and its figures.
//
// Layout of a network in the fused kernels (one thread block trains one network):
//   weights W_l   out4 x in4 floats, row-major as PyTorch's [out][in], rows and columns padded
//                 with zeros to multiples of 4 (out4, in4), so 16-byte loads need no bounds check
//   biases b_l    out4 floats (zero padding)
//   Z_l, OUT_l    feature-major, out4 rows of `stride` floats: element (feature o, batch row r)
//                 at o * stride + r. Z_l holds the pre-activation, then the gradient at it;
//                 OUT_l the hidden layer's output after dropout, which layer l + 1 reads.
//   batch         two buffers of in4(0) rows (the next batch is gathered while the last one's
//                 weight gradients still read the current one)
//   mask_l        one bit per element of the row-major numbering e = r * out + o that dropout
//                 draws with: bit e % 32 of word e / 32 is 1 where the element is kept
// Every padding row or column holds zeros, and so does every column past the batch's rows: the
// epilogues write them, so the GEMMs can run their k loops over padded lengths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/backend/parameter_layout.hpp"

namespace hf {

// Threads of a fused block: 8 warps, two on each of an SM's four schedulers. Few threads with
// many registers each (up to 255): the optimizer state of a seed network (Adam: 2 x 15.1k
// floats, half the register file) fits in registers beside the GEMM tiles only so.
inline constexpr int kFusedThreads = 256;
inline constexpr int kFusedWarps = kFusedThreads / 32;
// Dynamic shared memory one block may take on an H100 or H200 (its opt-in limit): the card of the
// cost model (bench/fused_model.cpp) and of plan tests. Training plans for the device it runs on,
// with that device's limit (DeviceLimits::shared_bytes_per_block), never with this constant.
inline constexpr std::size_t kH100SharedBytesPerBlock = 227 * 1024;
// The most 4x4 weight tiles a thread keeps the optimizer state of in registers (two states of
// 16 floats each per tile): 128 of a thread's 255 registers. The slots are 1, 2 or 4; a
// network's further tiles keep theirs in the `tile_state` buffer.
inline constexpr int kMaxRegisterStateSlots = 4;
// Words of shared memory every block keeps for its reductions and bookkeeping
// (fused_network.cuh lays them out).
inline constexpr int kFusedReductionWords = 4 * kFusedWarps + 16;
// The least dynamic shared memory a device must give a block for any plan: the bookkeeping
// (every other buffer may go to global scratch).
inline constexpr std::size_t kFusedMinimumSharedBytes = kFusedReductionWords * sizeof(float);

// A thread's register tile: `m` consecutive rows of the GEMM's output by `n` columns.
struct TileShape {
  int m = 4;
  int n = 4;
  bool operator==(const TileShape& o) const { return m == o.m && n == o.n; }
};

// Where a buffer lives: `words` 4-byte words at `offset` words into the block's shared memory
// (shared) or into the network's slice of the pack's global scratch. Offsets are multiples of 4.
struct FusedPlacement {
  bool shared = false;
  std::size_t offset = 0;
  std::size_t words = 0;
};

struct FusedLayerPlan {
  int in = 0, out = 0;
  int in4 = 0, out4 = 0;  // rounded up to multiples of 4: the weight row stride, the rows of Z and OUT
  FusedPlacement weights, biases, pre_activation, output, mask;
  int mask_words = 0;         // per step: one bit per element of batch rows (0 for the output layer)
  TileShape forward;          // Z_l = W_l x OUT_{l-1}: m over out, n over batch rows, k over in
  TileShape backward;         // gradient at OUT_{l-1} = W_l^T x dZ_l (layers > 0): m over in, n over rows
  int weight_tiles_n = 0;     // 4x4 weight-gradient tiles across the row: in4 / 4
  int weight_tiles = 0;       // out4 / 4 x weight_tiles_n
  int first_weight_tile = 0;  // in the network's numbering of all weight tiles, layer after layer
  int first_bias = 0;         // likewise for biases
};

struct FusedPlan {
  int batch = 0;    // rows of a full batch
  int columns = 0;  // batch rounded up to 4
  int stride = 0;   // floats between rows of Z, OUT and the batch: columns, made an odd multiple of 4
                    // so that eight threads reading eight consecutive rows hit eight bank groups
  std::vector<FusedLayerPlan> layers;
  FusedPlacement batch_x[2], labels, loss_terms, reductions;
  // Networks with Softmin/Softmax/LogSoftmax: the gradient at a hidden layer's output and its
  // activation recomputed, one row per thread (empty otherwise).
  FusedPlacement row_gradient, row_activation;
  // Optimizer states not in registers: the biases' (first states, then second states, one word
  // per bias) and those of the weight tiles past the register slots (tile t + k T of thread t,
  // k >= state_slots: 32 words, 16 first then 16 second states, word e at
  // ((k - state_slots) * 32 + e) * T + t, so a warp's threads touch consecutive words).
  FusedPlacement bias_state, tile_state;
  std::size_t shared_words = 0;              // dynamic shared memory of a block, in words
  std::size_t global_words_per_network = 0;  // the buffers that did not fit, per network
  int weight_tiles = 0;                      // all layers'
  int biases = 0;
  // 4x4 weight tiles per thread whose optimizer state stays in registers: 1, 2 or 4.
  int state_slots = 1;

  std::size_t shared_bytes() const { return shared_words * 4; }
  bool fully_shared() const { return global_words_per_network == 0; }
};

// What the plan places in shared memory first: the per-row buffers (the batch, labels and loss
// terms, Z and OUT layer after layer, the row-activation buffers), then the weights layer after
// layer while they fit in `shared_limit` bytes (the device's dynamic shared memory per block); the
// rest goes to global scratch. Throws std::invalid_argument when not even the bookkeeping fits
// (kFusedMinimumSharedBytes).
FusedPlan plan_fused_training(const ParameterLayout& layout, int batch_size, bool any_dropout, bool any_row_activation,
                              std::size_t shared_limit);

// ---- The cost model (figures for an H100 SXM; see bench/fused_model.cpp) ----

// Issue slots (one warp instruction each on one of an SM's four schedulers) of one GEMM tile:
// the FMAs, the loads feeding them and an epilogue of `epilogue` instructions per element.
enum class GemmKind { Forward, InputGradient, WeightGradient };
double tile_instructions(GemmKind kind, TileShape tile, int k4, double epilogue);

// Cycles of one phase in which `tasks` equal tasks of `instructions` issue slots each go to
// threads 0, 1, 2, ... round robin: warps take the most tasks any of their lanes has, and each
// scheduler runs its warps one instruction per cycle.
double phase_cycles(int tasks, double instructions);

// The epilogue instructions per element the tile choice assumes for a forward and a backward
// phase (activation, dropout bit, stores; the model in bench/ refines them per activation).
inline constexpr double kForwardEpilogue = 24.0;
inline constexpr double kBackwardEpilogue = 24.0;

}  // namespace hf
