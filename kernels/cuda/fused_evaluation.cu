// The fused evaluation kernel: one launch evaluates every network of a pack that did not fail on
// a set of rows, one thread block per network (the training kernel's layout, fused_plan.hpp):
// batches of the training batch size in file order, the forward pass without dropout, then in
// the output layer's epilogue the prediction (sigmoid output > threshold), its confusion count
// and its bit in the network's predicted positives. The counts are sums of integers, so they are
// the CPU trainer's exactly whenever the outputs are.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/fused_kernels.hpp"
#include "kernels/cuda/fused_network.cuh"

namespace hf {
namespace {

using namespace fused;

// The sum over the warp by shuffles: __reduce_add_sync would be one instruction, but only from
// sm_80 on, and the build holds machine code for sm_75 (T4) too.
__device__ __forceinline__ unsigned warp_sum(unsigned value) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

__global__ void __launch_bounds__(kFusedThreads, 1)
    fused_evaluation_kernel(FusedShape shape, FusedNetworks networks, FusedState state, FusedRows data,
                            FusedEvaluation evaluation) {
  const int m = static_cast<int>(blockIdx.x);
  if (!evaluation.active[m]) return;
  const Net net = make_net(shape, networks, state.scratch, m);
  clear_buffers(net, shape);
  __syncthreads();
  move_parameters<true>(net, shape, state.parameters);
  float* x = net.at(shape.batch_x[0]);
  float* labels = net.at(shape.labels);
  unsigned* positives = evaluation.positives + static_cast<std::size_t>(m) * evaluation.words;
  unsigned tp = 0, fp = 0, fn = 0, tn = 0;  // of this thread's rows
  for (int start = 0; start < data.rows; start += shape.batch) {
    const int rows = min(shape.batch, data.rows - start);
    gather_batch(net, shape, data, start, rows, x, labels);
    __syncthreads();
    forward_pass<false>(
        net, shape, x, rows, 0, [] {},
        [&](int r, float z) {
          const float p = sigmoid_f(z);
          const bool predicted = p > evaluation.threshold;
          const bool actual = labels[r] > 0.5f;
          tp += predicted && actual;
          fp += predicted && !actual;
          fn += !predicted && actual;
          tn += !predicted && !actual;
          const int row = start + r;
          if (predicted) atomicOr(positives + row / 32, 1u << (row % 32));
          return p;
        });
  }
  // forward_pass ended with a barrier: the reductions area is free.
  unsigned* partials = reinterpret_cast<unsigned*>(net.reductions + kCountPartials);
  const unsigned counts[4] = {warp_sum(tp), warp_sum(fp), warp_sum(fn), warp_sum(tn)};
  if (threadIdx.x % 32 == 0) {
    for (int c = 0; c < 4; ++c) partials[threadIdx.x / 32 * 4 + c] = counts[c];
  }
  __syncthreads();
  if (threadIdx.x < 4) {
    long long total = 0;
    for (int w = 0; w < kFusedWarps; ++w) total += partials[w * 4 + threadIdx.x];
    evaluation.counts[static_cast<std::size_t>(m) * 4 + threadIdx.x] = total;
  }
}

}  // namespace

void launch_fused_evaluation(const FusedShape& shape, const FusedNetworks& networks, const FusedState& state,
                             const FusedRows& rows, const FusedEvaluation& evaluation, cudaStream_t stream) {
  if (shape.models == 0) return;
  const std::size_t shared_bytes = static_cast<std::size_t>(shape.shared_words) * 4;
  // The attribute belongs to the kernel on the device, shared by every worker's stream: always
  // the plan's limit, so a worker launching a larger pack never meets a smaller value another
  // worker set (the attribute only permits; the launch's size decides occupancy).
  HF_CUDA_CHECK(cudaFuncSetAttribute(fused_evaluation_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     static_cast<int>(kFusedSharedBytesLimit)));
  HF_LAUNCH(fused_evaluation_kernel, static_cast<unsigned>(shape.models), kFusedThreads, shared_bytes, stream)
  (shape, networks, state, rows, evaluation);
  HF_CUDA_CHECK_LAUNCH();
}

}  // namespace hf
