// Raising a kernel's dynamic-shared-memory attribute safely while several workers of one GPU
// launch it: the attribute belongs to the kernel on the device, not to a stream.
#pragma once

#include <cstddef>

namespace hf {

// Makes sure `kernel` may take `bytes` of dynamic shared memory on the calling thread's current
// device: raises cudaFuncAttributeMaxDynamicSharedMemorySize to `bytes` when it is lower, never
// lowers it. Under one mutex, so a worker launching a small plan never sets a value below what
// another worker's larger plan, launched a moment later, needs. Throws DeviceError when CUDA
// refuses (`bytes` above the device's limit: a plan not made for this device).
void allow_dynamic_shared_memory(const void* kernel, std::size_t bytes);

}  // namespace hf
