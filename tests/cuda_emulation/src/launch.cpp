// Kernel launches: the configuration checked against the device profile's limits with CUDA's error codes
// (returned by cudaGetLastError, the launch not queued), every device pointer among the
// arguments checked to be memory of the launching device, the injected launch faults, a kernel
// image for the device's architecture among the emulated build's (HYPERFUSE_EMU_BUILT_ARCHITECTURES),
// and the launch queued on its stream. Also cudaFuncSetAttribute, cudaFuncGetAttributes and the
// occupancy query.
#include <algorithm>
#include <cstdio>

#include "tests/cuda_emulation/src/block_scheduler.hpp"
#include "tests/cuda_emulation/src/device_profiles.hpp"
#include "tests/cuda_emulation/src/streams.hpp"

namespace hf_emu {
namespace {

std::string pointer_text(const void* pointer) {
  char text[32];
  std::snprintf(text, sizeof text, "%p", pointer);
  return text;
}

std::string dims(const dim3& d) {
  return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) + ")";
}

// What is wrong with the launch's shape, or "" (then `error` stays cudaSuccess).
std::string check_configuration(const Device& device, const LaunchConfiguration& c, cudaError_t& error) {
  const std::string name = "kernel `" + std::string(c.kernel_name) + "`: ";
  error = cudaErrorInvalidConfiguration;
  if (c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0 || c.block.x == 0 || c.block.y == 0 || c.block.z == 0)
    return name + "grid " + dims(c.grid) + " and block " + dims(c.block) + " must have no zero dimension";
  const std::uint64_t threads = static_cast<std::uint64_t>(c.block.x) * c.block.y * c.block.z;
  if (threads > static_cast<std::uint64_t>(kMaxThreadsPerBlock))
    return name + "block " + dims(c.block) + " has " + std::to_string(threads) + " threads; at most " +
           std::to_string(kMaxThreadsPerBlock) + " per block";
  const unsigned block[3] = {c.block.x, c.block.y, c.block.z};
  const unsigned grid[3] = {c.grid.x, c.grid.y, c.grid.z};
  for (int i = 0; i < 3; ++i) {
    if (block[i] > kMaxBlockDim[i])
      return name + "block " + dims(c.block) + " exceeds the block dimension limits (1024, 1024, 64)";
    if (grid[i] > kMaxGridDim[i])
      return name + "grid " + dims(c.grid) + " exceeds the grid dimension limits (2147483647, 65535, 65535)";
  }
  const auto raised = device.max_dynamic_shared.find(c.kernel);
  const std::size_t limit =
      raised != device.max_dynamic_shared.end() ? static_cast<std::size_t>(raised->second) : kSharedPerBlock;
  if (c.shared_bytes > limit) {
    error = cudaErrorInvalidValue;
    return name + std::to_string(c.shared_bytes) + " bytes of dynamic shared memory, but the kernel may use " +
           std::to_string(limit) +
           (raised != device.max_dynamic_shared.end()
                ? " (its cudaFuncAttributeMaxDynamicSharedMemorySize)"
                : " without cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes), up "
                  "to " +
                      std::to_string(device.profile->shared_per_block_optin) + " with it on " + device.profile->name);
  }
  error = cudaSuccess;
  return {};
}

// What is wrong with the device pointers among the arguments, or "".
std::string check_pointers(const Runtime& state, const LaunchConfiguration& c, int device,
                           const std::vector<KernelPointer>& pointers) {
  for (const KernelPointer& p : pointers) {
    if (p.pointer == nullptr) continue;
    const Allocation* a = state.find(p.pointer);
    if (a == nullptr) {  // one past the end of an allocation is a valid pointer too
      const Allocation* before = state.find(static_cast<const char*>(p.pointer) - 1);
      if (before != nullptr && before->begin + before->size == reinterpret_cast<std::uintptr_t>(p.pointer)) a = before;
    }
    const std::string which = "kernel `" + std::string(c.kernel_name) + "` argument " + std::to_string(p.argument) +
                              (p.member != nullptr ? std::string(" (member ") + p.member + ")" : std::string()) +
                              " = " + pointer_text(p.pointer);
    if (a == nullptr)
      return which +
             " is not device memory (host memory, or device memory already freed); a kernel can only "
             "reach memory from cudaMalloc (or pinned host memory)";
    if (!a->pinned() && a->device != device)
      return which + " is in " + describe(*a) + ", but the kernel runs on device " + std::to_string(device);
  }
  return {};
}

}  // namespace

void submit_launch(const LaunchConfiguration& c, const std::vector<KernelPointer>& pointers,
                   std::shared_ptr<const void> arguments, ThreadBody body) {
  const ApiCall call(__builtin_return_address(0));
  Runtime& state = runtime();
  std::string problem;
  cudaError_t error = cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const std::shared_ptr<Stream> stream = resolve_stream(state, c.stream, error);
    if (stream == nullptr) {
      returned(error);
      return;
    }
    const int device = stream->device;
    if (device != current_device()) {
      returned(cudaErrorInvalidResourceHandle);  // a stream of another device
      return;
    }
    if ((error = device_unusable(state, device)) != cudaSuccess) {
      returned(error);
      return;
    }
    Device& d = state.devices[device];
    ++state.launches_made;
    ++d.launches;
    const Faults& f = state.faults;
    if (f.fail_launch > 0 && state.launches_made == static_cast<std::uint64_t>(f.fail_launch)) {
      returned(cudaErrorLaunchOutOfResources);
      return;
    }
    if (f.lose_device_after >= 0 && (f.lost_device < 0 || f.lost_device == device) &&
        (f.lost_device < 0 ? state.launches_made : d.launches) > static_cast<std::uint64_t>(f.lose_device_after)) {
      d.sticky = cudaErrorLaunchFailure;
      returned(d.sticky);
      return;
    }
    if (!state.has_kernel_image(d)) {
      returned(cudaErrorNoKernelImageForDevice);  // as CUDA: a launch error, not sticky, nothing printed
      return;
    }
    problem = check_configuration(d, c, error);
    if (problem.empty()) {
      problem = check_pointers(state, c, device, pointers);
      if (!problem.empty()) {
        // On a GPU the kernel would fault on that address: a sticky error, here at once.
        error = cudaErrorIllegalAddress;
        d.sticky = error;
      }
    }
    if (problem.empty()) {
      ++state.counters.launches;
      GridLaunch launch{c.kernel_name, c.grid, c.block, c.shared_bytes, device, body, std::move(arguments)};
      launch.profile = d.profile;
      enqueue(state, stream, WorkItem{"kernel " + std::string(c.kernel_name), {}, [launch = std::move(launch)] {
                                        return run_grid(launch);
                                      }});
    }
  }
  if (!problem.empty()) {
    report_violation(problem);
    returned(error);
  }
}

}  // namespace hf_emu

using namespace hf_emu;

extern "C" {

cudaError_t cudaFuncSetAttribute(const void* kernel, cudaFuncAttribute attribute, int value) {
  if (kernel == nullptr) return returned(cudaErrorInvalidDeviceFunction);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const int device = current_device();
  if (const cudaError_t error = device_unusable(state, device)) return returned(error);
  const Device& d = state.devices[device];
  if (!state.has_kernel_image(d)) return returned(cudaErrorNoKernelImageForDevice);
  switch (attribute) {
    case cudaFuncAttributeMaxDynamicSharedMemorySize:
      if (value < 0 || static_cast<std::size_t>(value) > d.profile->shared_per_block_optin)
        return returned(cudaErrorInvalidValue);
      state.devices[device].max_dynamic_shared[kernel] = value;
      return cudaSuccess;
    case cudaFuncAttributePreferredSharedMemoryCarveout:
      if (value < -1 || value > 100) return returned(cudaErrorInvalidValue);
      return cudaSuccess;
  }
  return returned(cudaErrorInvalidValue);
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, const void* kernel) {
  if (attributes == nullptr) return returned(cudaErrorInvalidValue);
  if (kernel == nullptr) return returned(cudaErrorInvalidDeviceFunction);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const int device = current_device();
  if (const cudaError_t error = device_unusable(state, device)) return returned(error);
  const Device& d = state.devices[device];
  if (!state.has_kernel_image(d)) return returned(cudaErrorNoKernelImageForDevice);
  *attributes = cudaFuncAttributes{};
  // The emulation cannot know a kernel's static shared memory, registers or local memory (its
  // __shared__ variables are thread_local): 0, and the 32 registers the occupancy query assumes.
  attributes->maxThreadsPerBlock = kMaxThreadsPerBlock;
  attributes->numRegs = 32;
  attributes->ptxVersion = attributes->binaryVersion = d.profile->compute_capability();
  const auto raised = d.max_dynamic_shared.find(kernel);
  attributes->maxDynamicSharedSizeBytes =
      raised != d.max_dynamic_shared.end() ? raised->second : static_cast<int>(kSharedPerBlock);
  attributes->preferredShmemCarveout = -1;
  return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, const void* kernel, int block_size,
                                                          size_t dynamic_shared_bytes) {
  if (blocks == nullptr || kernel == nullptr || block_size <= 0 || block_size > kMaxThreadsPerBlock)
    return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const int device = current_device();
  if (const cudaError_t error = device_unusable(state, device)) return returned(error);
  const DeviceProfile& card = *state.devices[device].profile;
  // The resource limits of an SM, with an assumed 32 registers per thread (the emulation cannot
  // know a kernel's register count): a plausible figure, not the hardware's answer.
  const int warps = (block_size + kWarpSize - 1) / kWarpSize;
  int result = std::min(card.max_blocks_per_multiprocessor, card.max_threads_per_multiprocessor / (warps * kWarpSize));
  result = std::min(result, card.registers_per_multiprocessor / (warps * kWarpSize * 32));
  if (dynamic_shared_bytes > 0)
    result = std::min<int>(
        result, static_cast<int>(card.shared_per_multiprocessor / (dynamic_shared_bytes + kReservedSharedPerBlock)));
  const auto raised = state.devices[device].max_dynamic_shared.find(kernel);
  const std::size_t limit = raised != state.devices[device].max_dynamic_shared.end()
                                ? static_cast<std::size_t>(raised->second)
                                : kSharedPerBlock;
  *blocks = dynamic_shared_bytes > limit ? 0 : std::max(result, 0);
  return cudaSuccess;
}

}  // extern "C"
