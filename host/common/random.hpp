// A small deterministic generator for host-side choices (random search sampling, shuffled
// batch order). Unlike std:: distributions its output is the same on every platform; the
// generator itself is shared math (kernels/math/split_mix64.hpp), so the fused CUDA kernels
// shuffle an epoch's rows exactly as the CPU trainer does.
#pragma once

#include "kernels/math/split_mix64.hpp"
