// Runs a kernel's grid on the calling OS thread: block after block, each GPU thread of a block a
// fiber (Boost.Context) that switches only at barriers and warp collectives, where the scheduler
// checks CUDA's rules before letting the waiting threads go on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cuda_runtime.h"
#include "tests/cuda_emulation/src/device_profiles.hpp"

namespace hf_emu {

struct GridLaunch {
  std::string kernel_name;
  dim3 grid;
  dim3 block;
  std::size_t shared_bytes = 0;
  int device = 0;
  ThreadBody body = nullptr;
  std::shared_ptr<const void> arguments;
  const DeviceProfile* profile = nullptr;  // the card it runs on: which intrinsics exist
};

// Runs every block of the grid; returns cudaSuccess, or the sticky error of a program error it
// caught and reported (a race, a divergent barrier or collective, a kernel abort).
cudaError_t run_grid(const GridLaunch& launch);

// Where the running GPU thread is, for messages: "kernel `k`, block (1,0,0) thread (5,0,0)".
std::string running_thread_description();
std::string thread_description(std::uint64_t block_linear, unsigned thread_linear);

}  // namespace hf_emu
