// Launchers of the element-wise and reduction kernels of a pack step, one family per .cu file
// beside this header. Each runs over every active network of the pack at once, reading
// per-network codes and scalars from the PackView; the CPU backend's loops
// (kernels/cpu/cpu_backend.cpp) are the reference each kernel is checked against.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/pack_view.hpp"
#include "kernels/math/optimizers.hpp"

namespace hf {

constexpr int kThreadsPerBlock = 256;

inline unsigned blocks_for(std::size_t threads) {
  return static_cast<unsigned>((threads + kThreadsPerBlock - 1) / kThreadsPerBlock);
}

// bias_activation_dropout.cu: Z += b; activation (or the output sigmoid); dropout into the
// layer's output buffer, which the next layer reads.
void launch_bias_activation_dropout(const PackView& pack, const LayerView& layer, const float* parameters, int rows,
                                    bool training, std::uint64_t step, bool any_row_activation, cudaStream_t stream);

// output_loss.cu: per network mean loss (double) of the sigmoid outputs and dLoss/dZ of the
// output layer; clears the PReLU slope gradient.
void launch_output_loss_gradient(const PackView& pack, const float* probabilities, const float* labels, int rows,
                                 float norm, float* gradient_at_z, double* losses, float* parameter_gradients,
                                 cudaStream_t stream);

// bias_gradient.cu: db = column sums of the gradient at Z.
void launch_bias_gradient(const PackView& pack, const float* gradient, int width, int rows, std::size_t bias_offset,
                          float* parameter_gradients, cudaStream_t stream);

// activation_backward.cu: the gradient at a hidden layer's output becomes the gradient at Z.
void launch_activation_backward(const PackView& pack, const LayerView& layer, const float* parameters,
                                float* parameter_gradients, int rows, bool training, std::uint64_t step, bool any_prelu,
                                bool any_row_activation, cudaStream_t stream);

// l1_penalty.cu: loss += l1 * sum|p|, gradient += l1 * sign(p), for networks with l1 > 0.
void launch_l1_penalty(const PackView& pack, const float* parameters, float* parameter_gradients, double* losses,
                       cudaStream_t stream);

// optimizer_step.cu: one fused update of every parameter of every active network.
void launch_optimizer_step(const PackView& pack, float* parameters, const float* parameter_gradients, float* state1,
                           float* state2, const OptimizerStep* scalars, cudaStream_t stream);

// nonfinite_checks.cu: record the first step with a NaN/Inf loss; flag NaN/Inf parameters.
void launch_check_loss(const PackView& pack, const double* losses, std::uint64_t step,
                       std::int64_t* first_nonfinite_loss_step, cudaStream_t stream);
void launch_check_parameters(const PackView& pack, const float* parameters, std::uint8_t* nonfinite,
                             cudaStream_t stream);

// loss_sums.cu: adds each active network's loss of this step to its sum over the epoch.
void launch_accumulate_losses(const PackView& pack, const double* losses, double* loss_sums, cudaStream_t stream);

// confusion_counts.cu: adds this batch's tp, fp, fn, tn per network (models x 4 counters).
void launch_count_confusion(const PackView& pack, const float* probabilities, const float* labels, int rows,
                            float threshold, long long* counts, cudaStream_t stream);

}  // namespace hf
