// Launchers of the fused kernels, which train and evaluate whole packs, a launch for all networks
// (the design: kernels/README.md; the layout: fused_plan.hpp):
//   fused_training.cu   an epoch (or part of one) of every active network, one block per network,
//                       forward, loss, backward and optimizer step of every batch on chip
//   fused_evaluation.cu the confusion counts and predicted positives of every network on a set
//   epoch_order.cu      each epoch's shuffled row order, made on the device as the CPU makes it
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/fused_view.hpp"

namespace hf {

// The fused kernels' attributes on the current device (for the training kernels, the largest
// static shared memory and register count of their instantiations), or the error CUDA gives,
// cudaErrorNoKernelImageForDevice when this build holds no code the device can run.
cudaError_t fused_training_attributes(cudaFuncAttributes& most);
cudaError_t fused_evaluation_attributes(cudaFuncAttributes& attributes);

// Trains batches first_batch .. first_batch + steps - 1 of epoch `epoch` (steps first_step ..
// first_step + steps - 1 of the step counter) of every network m with epoch < max_epochs[m] that
// did not fail before the epoch: loss sums and the first non-finite loss step are added to
// `state`, parameters and optimizer states written back. An epoch may take several launches,
// in order on one stream; `state_slots` is the plan's.
void launch_fused_epoch(const FusedShape& shape, const FusedNetworks& networks, const FusedState& state,
                        const FusedRows& rows, int epoch, long long first_step, int first_batch, int steps,
                        cudaStream_t stream);

// Counts and predicted positives of every network with evaluation.active[m] on `rows` (file
// order); evaluation.positives must be zero before.
void launch_fused_evaluation(const FusedShape& shape, const FusedNetworks& networks, const FusedState& state,
                             const FusedRows& rows, const FusedEvaluation& evaluation, cudaStream_t stream);

// orders[e * rows + i]: the row at position i of epoch e's shuffled order, for e < epochs:
// shuffled_order(rows, order_seed, e) of the CPU trainer, one thread per epoch.
void launch_epoch_orders(int rows, std::uint64_t order_seed, int epochs, int* orders, cudaStream_t stream);

}  // namespace hf
