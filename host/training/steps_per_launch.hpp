// HYPERFUSE_MAX_STEPS_PER_LAUNCH: a cap on the training steps of one launch of a backend that
// splits epochs into launches (the CUDA backend), for tests and for GPUs whose watchdog the
// planned launches (about 100 ms each in the cost model) would still meet.
#pragma once

namespace hf {

inline constexpr const char* kMaxStepsPerLaunchVariable = "HYPERFUSE_MAX_STEPS_PER_LAUNCH";

// The variable's value, or 0 (the backend plans) when unset or empty; InputError when it is not a
// whole number of at least 1.
int max_steps_per_launch_from_environment();

}  // namespace hf
