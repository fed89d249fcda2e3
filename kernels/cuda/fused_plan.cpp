#include "kernels/cuda/fused_plan.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace hf {
namespace {

int round_up4(int n) { return (n + 3) / 4 * 4; }
std::size_t round_up4(std::size_t n) { return (n + 3) / 4 * 4; }

// Hands out placements: shared memory while the limit allows, then global scratch.
class Placer {
 public:
  explicit Placer(std::size_t shared_limit_words) : limit_(shared_limit_words) {}

  FusedPlacement place(std::size_t words) {
    FusedPlacement p;
    p.words = round_up4(words);
    if (words == 0) return p;
    if (shared_ + p.words <= limit_) {
      p.shared = true;
      p.offset = shared_;
      shared_ += p.words;
    } else {
      p.offset = global_;
      global_ += p.words;
    }
    return p;
  }
  // Always in shared memory (small bookkeeping the kernel needs there); counted against the limit.
  FusedPlacement reserve_shared(std::size_t words) {
    FusedPlacement p;
    p.words = round_up4(words);
    p.shared = true;
    p.offset = shared_;
    shared_ += p.words;
    if (shared_ > limit_) throw std::invalid_argument("fused plan: the shared limit cannot hold the bookkeeping");
    return p;
  }
  std::size_t shared_words() const { return shared_; }
  std::size_t global_words() const { return global_; }

 private:
  std::size_t limit_;
  std::size_t shared_ = 0, global_ = 0;
};

// Loads per 4 steps of k: a k-contiguous operand takes one 16-byte load per row of the tile,
// the other kind one load (of the tile's width) per k.
double loads_per_k4(GemmKind kind, TileShape tile) {
  switch (kind) {
    case GemmKind::Forward: return tile.m + 4.0;            // W rows k-contiguous, batch n-contiguous
    case GemmKind::InputGradient: return 4.0 + 4.0;         // W m-contiguous, dZ n-contiguous
    case GemmKind::WeightGradient: return tile.m + tile.n;  // both k-contiguous (k = batch row)
  }
  return 0.0;
}

// The tile of a forward or input-gradient phase with the fewest modelled cycles.
TileShape choose_tile(GemmKind kind, int m, int columns, int k4, double epilogue, bool output_layer) {
  static const TileShape kCandidates[] = {{4, 4}, {4, 2}, {2, 4}, {2, 2}, {1, 4}};
  TileShape best{1, 4};
  double best_cycles = std::numeric_limits<double>::infinity();
  for (const TileShape& tile : kCandidates) {
    if (output_layer && tile.m != 1) continue;  // width 1: taller tiles would compute padding
    const int tiles = (m + tile.m - 1) / tile.m * (columns / tile.n);
    const double cycles = phase_cycles(tiles, tile_instructions(kind, tile, k4, epilogue));
    if (cycles < best_cycles) {
      best_cycles = cycles;
      best = tile;
    }
  }
  return best;
}

}  // namespace

double tile_instructions(GemmKind kind, TileShape tile, int k4, double epilogue) {
  const double elements = static_cast<double>(tile.m) * tile.n;
  const double fmas = elements * k4;
  const double loads = loads_per_k4(kind, tile) * (k4 / 4);
  constexpr double kPerTile = 16.0;  // tile coordinates, pointers, loop control
  return fmas + loads + elements * epilogue + kPerTile;
}

double phase_cycles(int tasks, double instructions) {
  if (tasks <= 0) return 0.0;
  double busiest = 0.0;
  for (int scheduler = 0; scheduler < 4; ++scheduler) {
    double cycles = 0.0;
    for (int warp = scheduler; warp < kFusedWarps; warp += 4) {
      // Lane 0 of the warp has the most tasks of its lanes: thread t takes tasks t, t + T, ...;
      // the scheduler runs its warps (warp w on scheduler w % 4) one instruction per cycle.
      const int first = warp * 32;
      const int most = first < tasks ? (tasks - first + kFusedThreads - 1) / kFusedThreads : 0;
      cycles += most * instructions;
    }
    busiest = std::max(busiest, cycles);
  }
  return busiest;
}

FusedPlan plan_fused_training(const ParameterLayout& layout, int batch_size, bool any_dropout, bool any_row_activation,
                              std::size_t shared_limit) {
  if (batch_size < 1) throw std::invalid_argument("fused plan: batch size must be at least 1");
  FusedPlan plan;
  plan.batch = batch_size;
  plan.columns = round_up4(batch_size);
  plan.stride = plan.columns % 8 == 0 ? plan.columns + 4 : plan.columns;
  const std::size_t stride = static_cast<std::size_t>(plan.stride);
  const int layers = layout.layers();
  Placer placer(shared_limit / 4);

  // Bookkeeping the kernel needs in shared memory whatever else fits: per-warp partial sums, the
  // step's optimizer scalars, the PReLU slope and its two states.
  plan.reductions = placer.reserve_shared(kFusedReductionWords);
  plan.labels = placer.place(static_cast<std::size_t>(plan.columns));
  plan.loss_terms = placer.place(static_cast<std::size_t>(plan.columns));

  plan.layers.resize(layers);
  int tile = 0, bias = 0;
  for (int l = 0; l < layers; ++l) {
    FusedLayerPlan& p = plan.layers[l];
    p.in = layout.in(l);
    p.out = layout.out(l);
    p.in4 = round_up4(p.in);
    p.out4 = round_up4(p.out);
    p.weight_tiles_n = p.in4 / 4;
    p.weight_tiles = p.out4 / 4 * p.weight_tiles_n;
    p.first_weight_tile = tile;
    p.first_bias = bias;
    tile += p.weight_tiles;
    bias += p.out;
    const bool hidden = l + 1 < layers;
    if (hidden && any_dropout) {
      p.mask_words = static_cast<int>((static_cast<std::size_t>(batch_size) * p.out + 31) / 32);
      p.mask = placer.place(static_cast<std::size_t>(p.mask_words));
    }
  }
  plan.weight_tiles = tile;
  plan.biases = bias;
  // Biases are small and read by every epilogue: before the per-row buffers.
  for (FusedLayerPlan& p : plan.layers) p.biases = placer.place(static_cast<std::size_t>(p.out4));
  plan.bias_state = placer.place(2 * static_cast<std::size_t>(bias));
  const int slots_needed = (plan.weight_tiles + kFusedThreads - 1) / kFusedThreads;
  plan.state_slots = slots_needed <= 1 ? 1 : (slots_needed <= 2 ? 2 : kMaxRegisterStateSlots);

  const std::size_t batch_words = static_cast<std::size_t>(plan.layers.front().in4) * stride;
  plan.batch_x[0] = placer.place(batch_words);
  plan.batch_x[1] = placer.place(batch_words);
  for (int l = 0; l < layers; ++l) {
    FusedLayerPlan& p = plan.layers[l];
    const std::size_t block = static_cast<std::size_t>(p.out4) * stride;
    p.pre_activation = placer.place(block);
    if (l + 1 < layers) p.output = placer.place(block);
  }
  if (any_row_activation && layers > 1) {
    int widest = 0;
    for (int l = 0; l + 1 < layers; ++l) widest = std::max(widest, plan.layers[l].out4);
    plan.row_gradient = placer.place(static_cast<std::size_t>(widest) * stride);
    plan.row_activation = placer.place(static_cast<std::size_t>(widest) * stride);
  }
  for (FusedLayerPlan& p : plan.layers) p.weights = placer.place(static_cast<std::size_t>(p.out4) * p.in4);
  const int spilled_slots = std::max(slots_needed - plan.state_slots, 0);
  plan.tile_state = placer.place(static_cast<std::size_t>(spilled_slots) * 32 * kFusedThreads);

  for (int l = 0; l < layers; ++l) {
    FusedLayerPlan& p = plan.layers[l];
    const bool output_layer = l + 1 == layers;
    p.forward = choose_tile(GemmKind::Forward, p.out, plan.columns, p.in4, kForwardEpilogue, output_layer);
    if (l > 0) p.backward = choose_tile(GemmKind::InputGradient, p.in, plan.columns, p.out4, kBackwardEpilogue, false);
  }

  plan.shared_words = placer.shared_words();
  plan.global_words_per_network = placer.global_words();
  return plan;
}

}  // namespace hf
