// What a pack's workspace allocates on its backend's memory (host memory for the CPU, device
// memory for a GPU), by purpose. Each backend computes it with the one function its workspace
// constructor allocates by, so the memory plan, the GPU pack sizing and the real allocation
// never disagree (tests/workspace_bytes_test.cpp holds every backend to it).
#pragma once

#include <cstddef>

namespace hf {

struct WorkspaceBytes {
  // Parameters, gradients and optimizer states of every network, and copies of them (the CPU's
  // transposed weights).
  std::size_t parameters = 0;
  // The per-row layer buffers (pre-activation, activation, dropout output, gradient) for the
  // workspace's rows: a training batch or an evaluation batch, whichever is larger.
  std::size_t activations = 0;
  // Scratch, the batch's copy on the device, per-network codes, scalars and counters.
  std::size_t other = 0;

  std::size_t total() const { return parameters + activations + other; }
};

}  // namespace hf
