// The cost model of one fused training step (plain C++, on the host): issue slots per phase
// from the plan's tiles and per-element instruction counts, in cycles of one SM. The backend
// sizes its launches with it (planned_steps_per_launch) and bench/fused_model.cpp turns it into
// a search's predicted time.
#pragma once

#include "kernels/cuda/fused_plan.hpp"
#include "kernels/math/codes.hpp"

namespace hf {

// Instructions per element of an activation's forward value and of its derivative (the
// derivative of Tanh and Sigmoid recomputes the value from Z first).
double activation_instructions(Activation activation);
double derivative_instructions(Activation activation);
// Instructions of one optimizer update (no FMA contraction: --fmad=false), with the weight's
// shared-memory load and store.
double update_instructions(Optimizer optimizer);

inline constexpr double kBarrierCycles = 40.0;        // a barrier once the last warp arrives
inline constexpr double kPhiloxInstructions = 110.0;  // one Philox4x32-10 block (10 rounds, 32-bit multiplies)

struct FusedStepCycles {
  double forward = 0, backward = 0, update = 0, barriers = 0;
  double total() const { return forward + backward + update + barriers; }
};

// Cycles of one training step (a full batch) of one network of the plan on its SM.
FusedStepCycles fused_step_cycles(const FusedPlan& plan, Activation activation, Optimizer optimizer, bool dropout);

// Cycles of evaluating one network on `rows` rows (forward passes of the plan's batch).
double fused_evaluation_cycles(const FusedPlan& plan, Activation activation, int rows);

// What a launch of the fused training kernel may take: display GPUs kill a kernel after a few
// seconds (the driver's watchdog) and a shared GPU is held for the whole launch, so an epoch
// goes in launches of at most this long...
inline constexpr double kLaunchTargetSeconds = 0.1;
// ... in the model's time, multiplied by this margin: the review of the fused kernel
// (kernels/README.md) expects a GPU at 1.5-2.7 times the model's time.
inline constexpr double kModelTimeMargin = 3.0;

// The steps per launch that keep a launch of `networks` blocks of `cycles_per_step` each within
// kLaunchTargetSeconds at `clock_ghz`, where the device runs `blocks_at_once` blocks at a time
// (the launch takes ceil(networks / blocks_at_once) waves); at least 1, at most `steps_in_epoch`.
int planned_steps_per_launch(double cycles_per_step, int networks, int blocks_at_once, double clock_ghz,
                             int steps_in_epoch);

}  // namespace hf
