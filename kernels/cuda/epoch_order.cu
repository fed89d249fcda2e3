// Each epoch's shuffled row order on the device, exactly the CPU trainer's shuffled_order (a
// Fisher-Yates shuffle driven by SplitMix64 seeded with mix64(order_seed + epoch)): one thread
// per epoch, all of a pack's epochs in one launch before its first, so the fused kernels gather
// their batches through the order and the host never touches a row.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/fused_kernels.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/math/split_mix64.hpp"

namespace hf {
namespace {

__global__ void epoch_orders_kernel(int rows, std::uint64_t order_seed, int* orders) {
  const int epoch = static_cast<int>(blockIdx.x);
  int* order = orders + static_cast<std::size_t>(epoch) * rows;
  for (int i = 0; i < rows; ++i) order[i] = i;
  SplitMix64 random(mix64(order_seed + static_cast<std::uint64_t>(epoch)));
  for (int i = rows - 1; i > 0; --i) {
    const int j = static_cast<int>(random.below(static_cast<std::uint64_t>(i) + 1));
    const int swapped = order[i];
    order[i] = order[j];
    order[j] = swapped;
  }
}

}  // namespace

void launch_epoch_orders(int rows, std::uint64_t order_seed, int epochs, int* orders, cudaStream_t stream) {
  if (epochs <= 0 || rows <= 0) return;
  HF_LAUNCH(epoch_orders_kernel, static_cast<unsigned>(epochs), 1, 0, stream)(rows, order_seed, orders);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
