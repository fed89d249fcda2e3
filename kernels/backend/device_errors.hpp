// Exception types for accelerator failures, in plain C++ so code built without CUDA can catch
// them: the pack runner splits a pack that does not fit and names the pack in other errors.
#pragma once

#include <stdexcept>
#include <string>

namespace hf {

// A GPU runtime or library call failed; the message names the device, the failing call and
// what to do.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The device had no memory left for an allocation (cudaErrorMemoryAllocation or a library's
// allocation failure): the caller may retry with fewer networks per pack.
class OutOfDeviceMemory : public DeviceError {
 public:
  using DeviceError::DeviceError;
};

}  // namespace hf
