// Host emulation of cub::BlockReduce (see tests/cuda_emulation/README.md) with CUB's interface:
// TempStorage in __shared__ memory, Sum/Reduce called by every thread of the block, the aggregate
// valid in thread 0 only (other threads get a poisoned value, as CUB leaves theirs undefined).
// Built like CUB's default algorithm: each warp reduces its lanes with shuffles, warp 0's lane 0
// adds the warp aggregates from shared memory, so a kernel's barriers, shuffles and shared memory
// go through the emulation's checks.
#pragma once

#include <cstring>
#include <type_traits>

#include "cuda_runtime.h"

namespace cub {

struct Sum {
  template <typename T>
  T operator()(const T& a, const T& b) const {
    return a + b;
  }
};
struct Max {
  template <typename T>
  T operator()(const T& a, const T& b) const {
    return a < b ? b : a;
  }
};
struct Min {
  template <typename T>
  T operator()(const T& a, const T& b) const {
    return b < a ? b : a;
  }
};

template <typename T, int BLOCK_DIM_X, int ALGORITHM = 0, int BLOCK_DIM_Y = 1, int BLOCK_DIM_Z = 1>
class BlockReduce {
  static constexpr int kThreads = BLOCK_DIM_X * BLOCK_DIM_Y * BLOCK_DIM_Z;
  static constexpr int kWarps = (kThreads + warpSize - 1) / warpSize;
  static_assert(std::is_arithmetic_v<T>, "the emulated BlockReduce reduces arithmetic values");

 public:
  struct TempStorage {
    T warp_aggregates[kWarps];
  };

  explicit BlockReduce(TempStorage& storage) : storage_(storage) {}

  T Sum(T input) { return Reduce(input, cub::Sum()); }

  template <typename ReductionOp>
  T Reduce(T input, ReductionOp op) {
    return Reduce(input, op, kThreads);
  }

  // Reduces the inputs of the first `valid_items` threads.
  template <typename ReductionOp>
  T Reduce(T input, ReductionOp op, int valid_items) {
    const int thread = static_cast<int>(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
    if (static_cast<int>(blockDim.x * blockDim.y * blockDim.z) != kThreads)
      hf_emu::abort_kernel(cudaErrorLaunchFailure, "cub::BlockReduce's block size differs from the launch's");
    const int lane = thread % warpSize, warp = thread / warpSize;
    const int warp_threads = warp == kWarps - 1 ? kThreads - warp * warpSize : warpSize;
    const unsigned mask = warp_threads == warpSize ? 0xffffffffu : ((1u << warp_threads) - 1u);
    T value = input;
    for (int offset = 1; offset < warpSize; offset *= 2) {
      // A lane whose partner lies past a partial warp reads itself: a shuffle may read only lanes
      // of its mask (the emulation reports any other read).
      const unsigned delta = lane + offset < warp_threads ? static_cast<unsigned>(offset) : 0u;
      const T other = __shfl_down_sync(mask, value, delta);
      const int source = thread + offset;
      if (lane + offset < warp_threads && source < valid_items && thread < valid_items) value = op(value, other);
    }
    if (lane == 0 && thread < valid_items) storage_.warp_aggregates[warp] = value;
    __syncthreads();
    if (thread != 0) return poisoned();
    T total = value;
    for (int w = 1; w < kWarps && w * warpSize < valid_items; ++w) total = op(total, storage_.warp_aggregates[w]);
    return total;
  }

 private:
  static T poisoned() {
    T value;
    std::memset(&value, 0xFF, sizeof value);
    return value;
  }

  TempStorage& storage_;
};

}  // namespace cub
