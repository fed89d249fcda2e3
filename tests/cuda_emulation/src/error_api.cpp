// cudaGetLastError, cudaPeekAtLastError, cudaGetErrorName/String and the version queries, with
// the runtime's names and messages.
#include "tests/cuda_emulation/src/runtime_state.hpp"

namespace hf_emu {
namespace {

struct ErrorText {
  cudaError_t error;
  const char* name;
  const char* text;
};

#define HF_EMU_ERROR(code, message) \
  { code, #code, message }
const ErrorText kErrors[] = {
    HF_EMU_ERROR(cudaSuccess, "no error"),
    HF_EMU_ERROR(cudaErrorInvalidValue, "invalid argument"),
    HF_EMU_ERROR(cudaErrorMemoryAllocation, "out of memory"),
    HF_EMU_ERROR(cudaErrorInitializationError, "initialization error"),
    HF_EMU_ERROR(cudaErrorCudartUnloading, "driver shutting down"),
    HF_EMU_ERROR(cudaErrorInvalidConfiguration, "invalid configuration argument"),
    HF_EMU_ERROR(cudaErrorInvalidPitchValue, "invalid pitch argument"),
    HF_EMU_ERROR(cudaErrorInvalidSymbol, "invalid device symbol"),
    HF_EMU_ERROR(cudaErrorInvalidHostPointer, "invalid host pointer"),
    HF_EMU_ERROR(cudaErrorInvalidDevicePointer, "invalid device pointer"),
    HF_EMU_ERROR(cudaErrorInvalidMemcpyDirection, "invalid copy direction for memcpy"),
    HF_EMU_ERROR(cudaErrorStubLibrary, "CUDA driver is a stub library"),
    HF_EMU_ERROR(cudaErrorInsufficientDriver, "CUDA driver version is insufficient for CUDA runtime version"),
    HF_EMU_ERROR(cudaErrorCallRequiresNewerDriver, "API call is not supported in the installed CUDA driver"),
    HF_EMU_ERROR(cudaErrorDevicesUnavailable, "CUDA-capable device(s) is/are busy or unavailable"),
    HF_EMU_ERROR(cudaErrorMissingConfiguration, "__global__ function call is not configured"),
    HF_EMU_ERROR(cudaErrorInvalidDeviceFunction, "invalid device function"),
    HF_EMU_ERROR(cudaErrorNoDevice, "no CUDA-capable device is detected"),
    HF_EMU_ERROR(cudaErrorInvalidDevice, "invalid device ordinal"),
    HF_EMU_ERROR(cudaErrorDeviceNotLicensed, "device doesn't have valid Grid license"),
    HF_EMU_ERROR(cudaErrorInvalidKernelImage, "device kernel image is invalid"),
    HF_EMU_ERROR(cudaErrorDeviceUninitialized, "invalid device context"),
    HF_EMU_ERROR(cudaErrorNoKernelImageForDevice, "no kernel image is available for execution on the device"),
    HF_EMU_ERROR(cudaErrorECCUncorrectable, "uncorrectable ECC error encountered"),
    HF_EMU_ERROR(cudaErrorUnsupportedPtxVersion, "the provided PTX was compiled with an unsupported toolchain."),
    HF_EMU_ERROR(cudaErrorInvalidSource, "device kernel image is invalid"),
    HF_EMU_ERROR(cudaErrorFileNotFound, "file not found"),
    HF_EMU_ERROR(cudaErrorInvalidResourceHandle, "invalid resource handle"),
    HF_EMU_ERROR(cudaErrorIllegalState, "the operation cannot be performed in the present state"),
    HF_EMU_ERROR(cudaErrorNotReady, "device not ready"),
    HF_EMU_ERROR(cudaErrorIllegalAddress, "an illegal memory access was encountered"),
    HF_EMU_ERROR(cudaErrorLaunchOutOfResources, "too many resources requested for launch"),
    HF_EMU_ERROR(cudaErrorLaunchTimeout, "the launch timed out and was terminated"),
    HF_EMU_ERROR(cudaErrorContextIsDestroyed, "context is destroyed"),
    HF_EMU_ERROR(cudaErrorAssert, "device-side assert triggered"),
    HF_EMU_ERROR(cudaErrorHostMemoryAlreadyRegistered, "part or all of the requested memory range is already mapped"),
    HF_EMU_ERROR(cudaErrorHardwareStackError, "hardware stack error"),
    HF_EMU_ERROR(cudaErrorMisalignedAddress, "misaligned address"),
    HF_EMU_ERROR(cudaErrorInvalidPc, "invalid program counter"),
    HF_EMU_ERROR(cudaErrorLaunchFailure, "unspecified launch failure"),
    HF_EMU_ERROR(cudaErrorCooperativeLaunchTooLarge, "too many blocks in cooperative launch"),
    HF_EMU_ERROR(cudaErrorNotPermitted, "operation not permitted"),
    HF_EMU_ERROR(cudaErrorNotSupported, "operation not supported"),
    HF_EMU_ERROR(cudaErrorSystemNotReady, "system not yet initialized"),
    HF_EMU_ERROR(cudaErrorSystemDriverMismatch, "system has unsupported display driver / cuda driver combination"),
    HF_EMU_ERROR(cudaErrorCompatNotSupportedOnDevice, "forward compatibility was attempted on non supported HW"),
    HF_EMU_ERROR(cudaErrorStreamCaptureUnsupported, "operation not permitted when stream is capturing"),
    HF_EMU_ERROR(cudaErrorTimeout, "wait operation timed out"),
    HF_EMU_ERROR(cudaErrorUnknown, "unknown error"),
};
#undef HF_EMU_ERROR

const ErrorText* text_of(cudaError_t error) {
  for (const ErrorText& e : kErrors)
    if (e.error == error) return &e;
  return nullptr;
}

// The error cudaGetLastError/cudaPeekAtLastError report: the thread's last error, or the current
// device's sticky error, which no call clears.
cudaError_t pending_error() {
  if (last_error() != cudaSuccess) return last_error();
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const int device = current_device();
  if (device >= 0 && device < static_cast<int>(state.devices.size())) return state.devices[device].sticky;
  return cudaSuccess;
}

}  // namespace
}  // namespace hf_emu

using namespace hf_emu;

extern "C" {

const char* cudaGetErrorName(cudaError_t error) {
  const ErrorText* e = text_of(error);
  return e != nullptr ? e->name : "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  const ErrorText* e = text_of(error);
  return e != nullptr ? e->text : "unrecognized error code";
}

cudaError_t cudaGetLastError(void) {
  const cudaError_t error = pending_error();
  last_error() = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError(void) { return pending_error(); }

cudaError_t cudaDriverGetVersion(int* version) {
  if (version == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  *version = state.faults.driver_version;  // 0 when no driver is installed
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (version == nullptr) return returned(cudaErrorInvalidValue);
  *version = CUDART_VERSION;
  return cudaSuccess;
}

}  // extern "C"
