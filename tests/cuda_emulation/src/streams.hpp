// Lazy streams: launches, copies, memsets and cuBLAS calls are queued on their stream and run only
// when something waits for them (cudaStreamSynchronize, cudaDeviceSynchronize, a blocking
// cudaMemcpy, cudaFree, an event...), in stream order, with the legacy default stream's implicit
// ordering against blocking streams. A host read that forgets to wait reads poisoned memory.
#pragma once

#include <cstdint>
#include <memory>

#include "tests/cuda_emulation/src/runtime_state.hpp"

namespace hf_emu {

// The stream a handle names for the calling thread (null and cudaStreamLegacy: the current
// device's legacy stream; cudaStreamPerThread: this thread's), or null with `error` set.
// Call with the runtime mutex held.
std::shared_ptr<Stream> resolve_stream(Runtime& state, cudaStream_t handle, cudaError_t& error);

// Queues `item` on `stream`, after the legacy default stream's implicit waits. Mutex held.
void enqueue(Runtime& state, const std::shared_ptr<Stream>& stream, WorkItem item);

// The host waited for everything queued on `stream` so far: later work is ordered after it (the
// ordering check). Mutex held.
void host_waits_for(Runtime& state, const Stream& stream);

// Runs `stream`'s work until `sequence` items have completed (all of it by default); returns
// the device's sticky error. Call without the runtime mutex.
cudaError_t drain(const std::shared_ptr<Stream>& stream, std::uint64_t sequence = UINT64_MAX);

// Runs all work queued on `device` (every stream); returns its sticky error. Without the mutex.
cudaError_t synchronize_device(int device);

// Every stream of every device, for cudaFreeHost. Without the mutex.
void synchronize_all_devices();

}  // namespace hf_emu
