// The fused training step's cost model (fused_step_cost.hpp): per-element instruction counts read
// off the shared math, phase cycles from the plan's tiles (fused_plan.cpp's phase_cycles).
#include "kernels/cuda/fused_step_cost.hpp"

#include <algorithm>
#include <cmath>

namespace hf {

double activation_instructions(Activation a) {
  switch (a) {
    case Activation::ReLU: return 1;
    case Activation::LeakyReLU:
    case Activation::PReLU:
    case Activation::RReLU: return 3;
    case Activation::Tanh:
    case Activation::Sigmoid:
    case Activation::Tanhshrink: return 30;  // exp_f (about 20) and an IEEE division
    case Activation::ELU:
    case Activation::CELU:
    case Activation::SELU:
    case Activation::SiLU:
    case Activation::Softplus:
    case Activation::LogSigmoid: return 35;
    case Activation::GELU:
    case Activation::Mish: return 60;
    default: return 10;
  }
}

double derivative_instructions(Activation a) {
  const double value = activation_instructions(a);
  return value <= 3 ? value : value + 10;  // the value again, then the derivative from it
}

double update_instructions(Optimizer o) {
  switch (o) {
    case Optimizer::SGD: return 8;
    case Optimizer::RMSprop: return 34;  // a square root and an IEEE division
    case Optimizer::Adagrad: return 32;
    default: return 40;  // Adam: the above, the moments, divide_exactly's FMAs
  }
}

FusedStepCycles fused_step_cycles(const FusedPlan& plan, Activation activation, Optimizer optimizer, bool dropout) {
  FusedStepCycles cost;
  const int layers = static_cast<int>(plan.layers.size());
  const double dropout_instructions = dropout ? 4.0 : 0.0;
  for (int l = 0; l < layers; ++l) {
    const FusedLayerPlan& p = plan.layers[l];
    const bool output_layer = l + 1 == layers;
    const double epilogue = output_layer ? 40.0 : 10.0 + activation_instructions(activation) + dropout_instructions;
    const int tiles = (p.out + p.forward.m - 1) / p.forward.m * (plan.columns / p.forward.n);
    cost.forward += phase_cycles(tiles, tile_instructions(GemmKind::Forward, p.forward, p.in4, epilogue));
    if (l > 0) {
      const double back = 10.0 + derivative_instructions(activation) + dropout_instructions +
                          (activation == Activation::PReLU ? 3.0 : 0.0);
      const int back_tiles = (p.in + p.backward.m - 1) / p.backward.m * (plan.columns / p.backward.n);
      cost.backward += phase_cycles(back_tiles, tile_instructions(GemmKind::InputGradient, p.backward, p.out4, back));
    }
  }
  // The update phase: every owned weight tile (gradient GEMM over the batch rows, then 16
  // updates), plus what every thread does besides (biases, the next batch, the dropout draws).
  const int k4 = plan.columns;
  const double tile = tile_instructions(GemmKind::WeightGradient, TileShape{4, 4}, k4, update_instructions(optimizer));
  const double bias = (plan.batch + update_instructions(optimizer)) * std::ceil(plan.biases / double(kFusedThreads));
  const int gather = plan.layers.front().in * plan.columns;
  double per_thread = bias + 12.0 * std::ceil(gather / double(kFusedThreads));
  if (dropout) {
    int words = 0;
    for (int l = 0; l + 1 < layers; ++l) words += plan.layers[l].mask_words;
    per_thread += std::ceil(words / double(kFusedThreads)) * 8 * kPhiloxInstructions;
  }
  const double warps_per_scheduler = kFusedWarps / 4.0;
  cost.update = phase_cycles(plan.weight_tiles, tile) + per_thread * warps_per_scheduler;
  // The bookkeeper's loss sum (dependent double additions) overlaps the other warps' work.
  const int barriers = 2 * layers;
  cost.barriers = barriers * kBarrierCycles;
  return cost;
}

double fused_evaluation_cycles(const FusedPlan& plan, Activation activation, int rows) {
  double per_batch = 0.0;
  const int layers = static_cast<int>(plan.layers.size());
  for (int l = 0; l < layers; ++l) {
    const FusedLayerPlan& p = plan.layers[l];
    const double epilogue = l + 1 == layers ? 20.0 : 10.0 + activation_instructions(activation);
    const int tiles = (p.out + p.forward.m - 1) / p.forward.m * (plan.columns / p.forward.n);
    per_batch += phase_cycles(tiles, tile_instructions(GemmKind::Forward, p.forward, p.in4, epilogue)) + kBarrierCycles;
  }
  per_batch += 12.0 * std::ceil(plan.layers.front().in * plan.columns / double(kFusedThreads)) * 2 + kBarrierCycles;
  return per_batch * std::ceil(rows / double(plan.batch));
}

int planned_steps_per_launch(double cycles_per_step, int networks, int blocks_at_once, double clock_ghz,
                             int steps_in_epoch) {
  const int all = std::max(steps_in_epoch, 1);
  if (cycles_per_step <= 0.0 || networks <= 0 || blocks_at_once <= 0 || clock_ghz <= 0.0) return all;
  const double waves = std::ceil(static_cast<double>(networks) / blocks_at_once);
  const double seconds_per_step = waves * cycles_per_step * kModelTimeMargin / (clock_ghz * 1e9);
  const double steps = std::floor(kLaunchTargetSeconds / seconds_per_step);
  return static_cast<int>(std::clamp(steps, 1.0, static_cast<double>(all)));
}

}  // namespace hf
