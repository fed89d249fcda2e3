// Device queries and selection: cudaGetDeviceCount (with the injected "no device" and "driver too
// old" faults), cudaGetDevice/cudaSetDevice per host thread, each device's properties and
// attributes from its profile (HYPERFUSE_EMU_PROFILE), and cudaMemGetInfo per device.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tests/cuda_emulation/src/device_profiles.hpp"
#include "tests/cuda_emulation/src/runtime_state.hpp"

using namespace hf_emu;

namespace {

cudaDeviceProp properties_of(const Device& device) {
  cudaDeviceProp p;
  std::memset(&p, 0, sizeof p);
  const DeviceProfile& card = *device.profile;
  std::snprintf(p.name, sizeof p.name, "%s (hyperfuse emulation)", card.name);
  p.totalGlobalMem = device.total_bytes;
  p.sharedMemPerBlock = kSharedPerBlock;
  p.regsPerBlock = kRegistersPerBlock;
  p.warpSize = kWarpSize;
  p.memPitch = 2147483647;
  p.maxThreadsPerBlock = kMaxThreadsPerBlock;
  for (int i = 0; i < 3; ++i) {
    p.maxThreadsDim[i] = static_cast<int>(kMaxBlockDim[i]);
    p.maxGridSize[i] = static_cast<int>(kMaxGridDim[i]);
  }
  p.totalConstMem = kConstantMemory;
  p.major = card.major;
  p.minor = card.minor;
  p.multiProcessorCount = runtime().multiprocessors_of(device);  // the caller holds the runtime mutex
  p.canMapHostMemory = 1;
  p.concurrentKernels = 1;
  p.ECCEnabled = 1;
  p.pciBusID = 0x18 + device.index;
  p.asyncEngineCount = 3;
  p.unifiedAddressing = 1;
  p.memoryBusWidth = card.memory_bus_width;
  p.l2CacheSize = card.l2_bytes;
  p.maxThreadsPerMultiProcessor = card.max_threads_per_multiprocessor;
  p.streamPrioritiesSupported = 1;
  p.sharedMemPerMultiprocessor = card.shared_per_multiprocessor;
  p.regsPerMultiprocessor = card.registers_per_multiprocessor;
  p.managedMemory = 1;
  p.cooperativeLaunch = 1;
  p.sharedMemPerBlockOptin = card.shared_per_block_optin;
  p.maxBlocksPerMultiProcessor = card.max_blocks_per_multiprocessor;
  p.reservedSharedMemPerBlock = kReservedSharedPerBlock;
  p.memoryPoolsSupported = 1;
  p.clusterLaunch = card.major >= 9 ? 1 : 0;
  return p;
}

}  // namespace

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  *count = 0;
  if (state.faults.driver_version < CUDART_VERSION) return returned(cudaErrorInsufficientDriver);
  if (state.devices.empty()) return returned(cudaErrorNoDevice);
  *count = static_cast<int>(state.devices.size());
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (state.faults.driver_version < CUDART_VERSION) return returned(cudaErrorInsufficientDriver);
  if (state.devices.empty()) return returned(cudaErrorNoDevice);
  *device = current_device();
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (state.faults.driver_version < CUDART_VERSION) return returned(cudaErrorInsufficientDriver);
  if (state.devices.empty()) return returned(cudaErrorNoDevice);
  if (device < 0 || device >= static_cast<int>(state.devices.size())) return returned(cudaErrorInvalidDevice);
  current_device() = device;  // even on a device with a sticky error, which is then returned
  return returned(state.devices[device].sticky);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device) {
  if (properties == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const cudaError_t error = device_unusable(state, device);
  if (error == cudaErrorInsufficientDriver || error == cudaErrorNoDevice || error == cudaErrorInvalidDevice)
    return returned(error);
  *properties = properties_of(state.devices[device]);
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attribute, int device) {
  if (value == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const cudaError_t error = device_unusable(state, device);
  if (error == cudaErrorInsufficientDriver || error == cudaErrorNoDevice || error == cudaErrorInvalidDevice)
    return returned(error);
  const cudaDeviceProp p = properties_of(state.devices[device]);
  switch (attribute) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; break;
    case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrTotalConstantMemory: *value = static_cast<int>(p.totalConstMem); break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrMaxRegistersPerBlock: *value = p.regsPerBlock; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrClockRate: *value = state.devices[device].profile->clock_khz; break;
    case cudaDevAttrCanMapHostMemory: *value = p.canMapHostMemory; break;
    case cudaDevAttrConcurrentKernels: *value = p.concurrentKernels; break;
    case cudaDevAttrGlobalMemoryBusWidth: *value = p.memoryBusWidth; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = p.maxThreadsPerMultiProcessor; break;
    case cudaDevAttrAsyncEngineCount: *value = p.asyncEngineCount; break;
    case cudaDevAttrUnifiedAddressing: *value = p.unifiedAddressing; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = static_cast<int>(p.sharedMemPerMultiprocessor); break;
    case cudaDevAttrMaxRegistersPerMultiprocessor: *value = p.regsPerMultiprocessor; break;
    case cudaDevAttrCooperativeLaunch: *value = p.cooperativeLaunch; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
    case cudaDevAttrMaxBlocksPerMultiprocessor: *value = p.maxBlocksPerMultiProcessor; break;
    case cudaDevAttrReservedSharedMemoryPerBlock: *value = static_cast<int>(p.reservedSharedMemPerBlock); break;
    case cudaDevAttrMemoryPoolsSupported: *value = p.memoryPoolsSupported; break;
    case cudaDevAttrClusterLaunch: *value = p.clusterLaunch; break;
    default: return returned(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (free_bytes == nullptr || total_bytes == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const int device = current_device();
  if (const cudaError_t error = device_unusable(state, device)) return returned(error);
  const Device& d = state.devices[device];
  *total_bytes = d.total_bytes;
  *free_bytes = d.total_bytes - std::min(d.used_bytes, d.total_bytes);
  return cudaSuccess;
}

}  // extern "C"
