// What one accelerator offers the fused kernels, read from the device at run time: the fused plan,
// pack sizing, workers per GPU and the memory plan are worked out for the device that trains (each
// device, where the GPUs differ), never for a constant card.
#pragma once

#include <cstddef>
#include <string>

namespace hf {

struct DeviceLimits {
  int compute_major = 0, compute_minor = 0;  // compute capability, e.g. 8.9
  // Dynamic shared memory one block of the fused kernels may take: the device's opt-in limit per
  // block (cudaDevAttrMaxSharedMemoryPerBlockOptin) less the kernels' static shared memory (the
  // opt-in limit alone on a device without a kernel image).
  std::size_t shared_bytes_per_block = 0;
  int registers_per_multiprocessor = 0;
  int multiprocessors = 0;
  std::size_t l2_bytes = 0;
  int clock_khz = 0;  // the SM clock, for the launch plan's time per step
  // Whether this build holds code (machine code or PTX) the device can run.
  bool has_kernel_image = false;
};

// Where an accelerator's kernels keep one network of a pack on a device: on chip (the shared
// memory of its block) or in global scratch, and how many launches train an epoch.
struct NetworkPlacement {
  std::size_t shared_bytes = 0;   // on chip, per block (one network)
  std::size_t scratch_bytes = 0;  // in global scratch, per network
  std::string in_scratch;         // what the scratch holds ("weights of layers 4, 5, 6"); empty when nothing
  int launches_per_epoch = 1;  // of the pack's slowest network, as the launch plan splits an epoch
};

}  // namespace hf
