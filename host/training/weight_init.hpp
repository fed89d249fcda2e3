// Initial parameters of a network, made on the host from the training's seed (so every backend
// starts from the same numbers): the weight matrices by the chosen torch.nn.init scheme with
// its default arguments, biases as nn.Linear makes them, U(-1/sqrt(in), 1/sqrt(in)), and the
// PReLU slope 0.25.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/backend/parameter_layout.hpp"
#include "kernels/math/codes.hpp"

namespace hf {

// Writes layout.size floats to `parameters` (padding and unused slots zero).
void initialize_parameters(const ParameterLayout& layout, WeightInit init, bool has_prelu, std::uint64_t seed,
                           float* parameters);

// The most host memory initialize_parameters takes besides `parameters`: one layer's draws in
// double precision and its biases' (three arrays of the layer's size for orthogonal: the draws,
// the columns being orthogonalised and the result), for the memory plan.
std::size_t initialization_scratch_bytes(const ParameterLayout& layout, WeightInit init);

}  // namespace hf
