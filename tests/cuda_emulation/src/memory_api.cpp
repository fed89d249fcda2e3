// Device and pinned memory (stream-ordered too: cudaMallocAsync, cudaFreeAsync), copies and
// memsets. Every device allocation is its own host allocation
// (AddressSanitizer sees overruns), filled with 0xFF bytes (NaN as float) as uninitialised device
// memory; every pointer a copy or memset receives is checked against the memory space its kind
// names and the bounds of its allocation. Copies are stream work: an asynchronous copy from
// pageable host memory takes the source's bytes when it is queued (CUDA stages pageable memory
// before returning), one from pinned memory reads it when it runs, and every copy to host memory
// fills the destination with 0xFF bytes when it is queued, so a host read before the stream is
// synchronised sees garbage.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "tests/cuda_emulation/src/race_check.hpp"
#include "tests/cuda_emulation/src/streams.hpp"

using namespace hf_emu;

namespace {

enum class Expect { Device, Host, Any };

struct Side {
  const Allocation* allocation = nullptr;  // the device or pinned allocation it lies in, if any
  bool device() const { return allocation != nullptr && !allocation->pinned(); }
  bool pinned() const { return allocation != nullptr && allocation->pinned(); }
};

const char* kind_name(cudaMemcpyKind kind) {
  switch (kind) {
    case cudaMemcpyHostToHost: return "cudaMemcpyHostToHost";
    case cudaMemcpyHostToDevice: return "cudaMemcpyHostToDevice";
    case cudaMemcpyDeviceToHost: return "cudaMemcpyDeviceToHost";
    case cudaMemcpyDeviceToDevice: return "cudaMemcpyDeviceToDevice";
    case cudaMemcpyDefault: return "cudaMemcpyDefault";
  }
  return "an unknown cudaMemcpyKind";
}

std::string pointer_text(const void* pointer) {
  char text[32];
  std::snprintf(text, sizeof text, "%p", pointer);
  return text;
}

// Checks the `span` bytes at `pointer`, the `role` of `call`. Returns what is wrong, or "".
// Mutex held.
std::string check_side(const Runtime& state, const std::string& call, const char* role, const void* pointer,
                       std::size_t span, Expect expect, Side& side) {
  if (pointer == nullptr) return call + ": the " + role + " is a null pointer";
  side.allocation = state.find(pointer);
  const std::string what = call + ": the " + role + " " + pointer_text(pointer);
  if (side.device() && expect == Expect::Host)
    return what + " is device memory (" + describe(*side.allocation) + "), but the copy kind names host memory";
  if (!side.device() && expect == Expect::Device)
    return what + " is not device memory (" +
           (side.pinned() ? "it is in " + describe(*side.allocation)
                          : std::string("host memory, or device memory already freed")) +
           "), but the copy kind names device memory";
  if (side.allocation != nullptr) {
    const auto address = reinterpret_cast<std::uintptr_t>(pointer);
    if (!side.allocation->contains(address, span)) {
      const std::size_t offset = address - side.allocation->begin;
      return what + " spans bytes " + std::to_string(offset) + " to " + std::to_string(offset + span) + " of " +
             describe(*side.allocation) + ": " + std::to_string(offset + span - side.allocation->size) +
             " bytes past its end";
    }
  }
  return {};
}

bool overlap(const void* a, std::size_t a_bytes, const void* b, std::size_t b_bytes) {
  const auto x = reinterpret_cast<std::uintptr_t>(a), y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + b_bytes && y < x + a_bytes;
}

// When a copy into host memory runs: its destination must still hold the 0xFF bytes it got when
// the copy was queued. Anything else means the host wrote it, or freed it to the allocator, before
// waiting for the copy: reported, and the copy is not done (it would write freed memory).
bool host_destination_untouched(const std::shared_ptr<PendingHostWrite>& pending, const char* destination,
                                std::size_t pitch, std::size_t width, std::size_t height, const std::string& call,
                                const void* caller) {
  Runtime& state = runtime();
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (pending->superseded) return true;
  }
  for (std::size_t row = 0; row < height; ++row) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(destination + row * pitch);
    for (std::size_t i = 0; i < width; ++i) {
      if (bytes[i] == 0xFF) continue;
      const std::string site = race::call_site(caller);
      report_violation(call + (site.empty() ? std::string() : " queued at " + site) + ": the host destination " +
                       pointer_text(destination) + " changed (byte " + std::to_string(row * pitch + i) +
                       ") between the call and the copy: the host wrote it, or freed it, before synchronising with "
                       "the stream (a race with the copy on a GPU); the copy was not done");
      return false;
    }
  }
  return true;
}

// One copy, 1-D (height 1) or 2-D, queued on `stream` (or the legacy stream and waited for when
// `blocking`).
cudaError_t copy(const char* call, void* destination, std::size_t destination_pitch, const void* source,
                 std::size_t source_pitch, std::size_t width, std::size_t height, cudaMemcpyKind kind,
                 cudaStream_t stream, bool blocking) {
  Runtime& state = runtime();
  std::shared_ptr<Stream> s;
  std::string problem;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    cudaError_t error;
    s = resolve_stream(state, blocking ? nullptr : stream, error);
    if (s == nullptr) return returned(error);
    if ((error = device_unusable(state, s->device)) != cudaSuccess) return returned(error);
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return returned(cudaErrorInvalidMemcpyDirection);
    if (width == 0 || height == 0) return cudaSuccess;
    if (width > destination_pitch || width > source_pitch) return returned(cudaErrorInvalidPitchValue);
    const std::size_t destination_span = destination_pitch * (height - 1) + width;
    const std::size_t source_span = source_pitch * (height - 1) + width;
    const Expect to = kind == cudaMemcpyDefault                                              ? Expect::Any
                      : (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice) ? Expect::Device
                                                                                             : Expect::Host;
    const Expect from = kind == cudaMemcpyDefault                                              ? Expect::Any
                        : (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice) ? Expect::Device
                                                                                               : Expect::Host;
    const std::string name = std::string(call) + " (" + kind_name(kind) + ")";
    Side to_side, from_side;
    problem = check_side(state, name, "destination", destination, destination_span, to, to_side);
    if (problem.empty()) problem = check_side(state, name, "source", source, source_span, from, from_side);
    if (problem.empty() && overlap(destination, destination_span, source, source_span))
      problem = name + ": the source and destination overlap";
    if (problem.empty()) {
      const bool to_device = to_side.device(), from_device = from_side.device();
      const std::size_t bytes = width * height;
      if (to_device && !from_device) {
        ++state.counters.copies_h2d;
        state.counters.bytes_h2d += bytes;
      } else if (from_device && !to_device) {
        ++state.counters.copies_d2h;
        state.counters.bytes_d2h += bytes;
      }
      // Pageable source: its bytes now. Pinned or device source: read when the copy runs.
      auto staged = std::make_shared<std::vector<char>>();
      const char* read_from = static_cast<const char*>(source);
      std::size_t read_pitch = source_pitch;
      if (from_side.allocation == nullptr) {
        staged->resize(bytes);
        for (std::size_t row = 0; row < height; ++row)
          std::memcpy(staged->data() + row * width, read_from + row * source_pitch, width);
        read_from = staged->data();
        read_pitch = width;
      }
      std::shared_ptr<PendingHostWrite> pending;
      if (!to_device) {
        for (std::size_t row = 0; row < height; ++row)
          std::memset(static_cast<char*>(destination) + row * destination_pitch, 0xFF, width);
        pending = std::make_shared<PendingHostWrite>();
        pending->begin = reinterpret_cast<std::uintptr_t>(destination);
        pending->end = pending->begin + destination_span;
        auto& list = state.pending_host_writes;
        list.erase(std::remove_if(list.begin(), list.end(), [](const auto& weak) { return weak.expired(); }),
                   list.end());
        for (const auto& weak : list) {
          const std::shared_ptr<PendingHostWrite> other = weak.lock();
          if (other != nullptr && other->begin < pending->end && pending->begin < other->end) other->superseded = true;
        }
        list.push_back(pending);
      }
      auto* write_to = static_cast<char*>(destination);
      WorkItem item{call,
                    {},
                    [name, staged, read_from, read_pitch, write_to, destination_pitch, width, height, pending,
                     caller = api_caller()] {
                      if (pending != nullptr && !host_destination_untouched(pending, write_to, destination_pitch, width,
                                                                            height, name, caller))
                        return cudaErrorIllegalAddress;
                      for (std::size_t row = 0; row < height; ++row)
                        std::memcpy(write_to + row * destination_pitch, read_from + row * read_pitch, width);
                      return cudaSuccess;
                    }};
      // Device and pinned memory it reads and writes, for the ordering check.
      const auto source_begin = reinterpret_cast<std::uintptr_t>(source);
      const auto destination_begin = reinterpret_cast<std::uintptr_t>(destination);
      if (from_side.allocation != nullptr) item.touches.push_back({source_begin, source_begin + source_span, false});
      if (to_side.allocation != nullptr)
        item.touches.push_back({destination_begin, destination_begin + destination_span, true});
      enqueue(state, s, std::move(item));
    }
    if (problem.empty() && blocking) host_waits_for(state, *s);
  }
  if (!problem.empty()) {
    report_violation(problem);
    return returned(cudaErrorInvalidValue);
  }
  return blocking ? returned(drain(s)) : cudaSuccess;
}

cudaError_t fill(const char* call, void* pointer, int value, std::size_t bytes, cudaStream_t stream, bool legacy) {
  Runtime& state = runtime();
  std::shared_ptr<Stream> s;
  std::string problem;
  bool pinned = false;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    cudaError_t error;
    s = resolve_stream(state, legacy ? nullptr : stream, error);
    if (s == nullptr) return returned(error);
    if ((error = device_unusable(state, s->device)) != cudaSuccess) return returned(error);
    if (bytes == 0) return cudaSuccess;
    Side side;
    problem = check_side(state, call, "destination", pointer, bytes, Expect::Any, side);
    if (problem.empty() && side.allocation == nullptr)
      problem = std::string(call) + ": " + pointer_text(pointer) +
                " is neither device memory nor pinned host memory (host memory, or device memory already freed)";
    if (problem.empty()) {
      pinned = side.pinned();
      WorkItem item{call, {}, [pointer, value, bytes] {
                      std::memset(pointer, value, bytes);
                      return cudaSuccess;
                    }};
      const auto begin = reinterpret_cast<std::uintptr_t>(pointer);
      item.touches.push_back({begin, begin + bytes, true});
      enqueue(state, s, std::move(item));
      if (legacy && pinned) host_waits_for(state, *s);
    }
  }
  if (!problem.empty()) {
    report_violation(problem);
    return returned(cudaErrorInvalidValue);
  }
  // cudaMemset is asynchronous to the host except on pinned host memory.
  return legacy && pinned ? returned(drain(s)) : cudaSuccess;
}

cudaError_t allocate(void** pointer, std::size_t bytes, int device) {
  void* storage = nullptr;
  // Exactly `bytes` (no rounding up) between the redzones (none under ASan, which then reports the
  // first byte past the end); the start stays 256-byte aligned, as cudaMalloc's.
  if (posix_memalign(&storage, 256, bytes + 2 * kRedzoneBytes) != 0 || storage == nullptr)
    return cudaErrorMemoryAllocation;
  std::memset(storage, 0xFF, bytes + 2 * kRedzoneBytes);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  Allocation a;
  a.storage = storage;
  a.begin = reinterpret_cast<std::uintptr_t>(storage) + kRedzoneBytes;
  a.size = bytes;
  a.device = device;
  a.id = state.next_allocation_id++;
  state.allocations[a.begin] = a;
  if (device >= 0) state.devices[device].used_bytes += bytes;
  *pointer = reinterpret_cast<void*>(a.begin);
  return cudaSuccess;
}

// Whether `bytes` more may be allocated on `device`: the injected allocation fault, then the
// device's free memory. Call with the mutex held.
cudaError_t admit_allocation(Runtime& state, int device, std::size_t bytes) {
  ++state.allocations_made;
  if (state.faults.fail_allocation > 0 &&
      state.allocations_made == static_cast<std::uint64_t>(state.faults.fail_allocation))
    return cudaErrorMemoryAllocation;
  const Device& d = state.devices[device];
  if (bytes > d.total_bytes - std::min(d.used_bytes, d.total_bytes)) return cudaErrorMemoryAllocation;
  return cudaSuccess;
}

}  // namespace

extern "C" {

cudaError_t cudaMalloc(void** pointer, size_t bytes) {
  if (pointer == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  int device = 0;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    device = current_device();
    if (const cudaError_t error = device_unusable(state, device)) return returned(error);
    if (bytes == 0) {
      *pointer = nullptr;
      return cudaSuccess;
    }
    if (const cudaError_t error = admit_allocation(state, device, bytes)) return returned(error);
  }
  return returned(allocate(pointer, bytes, device));
}

// Stream-ordered allocation, as from the device's default memory pool: the memory is the
// caller's at once, allocated on the stream's device. Memory that cudaFreeAsync gave back earlier
// on the same stream may be reused, as the pool reuses it in stream order: when the device is
// full, the stream's queued work (its pending frees among it) runs first.
cudaError_t cudaMallocAsync(void** pointer, size_t bytes, cudaStream_t stream) {
  if (pointer == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  int device = 0;
  std::shared_ptr<Stream> s;
  bool full = false;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    cudaError_t error = cudaSuccess;
    s = resolve_stream(state, stream, error);
    if (s == nullptr) return returned(error);
    device = s->device;
    if ((error = device_unusable(state, device)) != cudaSuccess) return returned(error);
    if (bytes == 0) {
      *pointer = nullptr;
      return cudaSuccess;
    }
    const Device& d = state.devices[device];
    full = bytes > d.total_bytes - std::min(d.used_bytes, d.total_bytes);
    if (!full && (error = admit_allocation(state, device, bytes)) != cudaSuccess) return returned(error);
  }
  if (full) {
    if (const cudaError_t sticky = drain(s)) return returned(sticky);
    std::lock_guard<std::mutex> lock(state.mutex);
    if (const cudaError_t error = admit_allocation(state, device, bytes)) return returned(error);
  }
  return returned(allocate(pointer, bytes, device));
}

// Stream-ordered free: the allocation is gone at once for anything queued later (a copy, memset or
// launch naming it is an error, as a use after free in stream order is), while the work queued
// before it still runs on it (race-checked); the memory returns to the device when the stream
// reaches the free. Unlike cudaFree, nothing waits for the device's other streams.
cudaError_t cudaFreeAsync(void* pointer, cudaStream_t stream) {
  if (pointer == nullptr) return cudaSuccess;
  Runtime& state = runtime();
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    cudaError_t error = cudaSuccess;
    const std::shared_ptr<Stream> s = resolve_stream(state, stream, error);
    if (s == nullptr) return returned(error);
    const auto it = state.allocations.find(reinterpret_cast<std::uintptr_t>(pointer));
    if (it != state.allocations.end() && !it->second.pinned() && !it->second.released) {
      it->second.released = true;
      enqueue(state, s, WorkItem{"cudaFreeAsync", {}, [pointer] {
                                   Runtime& runtime_state = runtime();
                                   void* storage = nullptr;
                                   {
                                     std::lock_guard<std::mutex> freeing(runtime_state.mutex);
                                     const auto at =
                                         runtime_state.allocations.find(reinterpret_cast<std::uintptr_t>(pointer));
                                     if (at == runtime_state.allocations.end()) return cudaSuccess;
                                     const int device = at->second.device;
                                     if (device < static_cast<int>(runtime_state.devices.size()))
                                       runtime_state.devices[device].used_bytes -= at->second.size;
                                     storage = at->second.storage;  // the allocation with its redzones
                                     stream_order::forget(at->second.begin, at->second.begin + at->second.size);
                                     runtime_state.allocations.erase(at);
                                   }
                                   std::free(storage);
                                   return cudaSuccess;
                                 }});
      return cudaSuccess;
    }
  }
  report_violation("cudaFreeAsync(" + pointer_text(pointer) +
                   "): not the start of a live device allocation (host memory, pinned memory, an offset into an "
                   "allocation, or freed already)");
  return returned(cudaErrorInvalidValue);
}

cudaError_t cudaFree(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  Runtime& state = runtime();
  int device = -1;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const auto it = state.allocations.find(reinterpret_cast<std::uintptr_t>(pointer));
    if (it != state.allocations.end() && !it->second.pinned() && !it->second.released) device = it->second.device;
  }
  if (device < 0) {
    report_violation("cudaFree(" + pointer_text(pointer) +
                     "): not the start of a live device allocation (host memory, pinned memory for cudaFreeHost, an "
                     "offset into an allocation, or freed already)");
    return returned(cudaErrorInvalidValue);
  }
  // cudaFree synchronises the device: queued work may still use the allocation.
  const cudaError_t sticky = synchronize_device(device);
  void* storage = nullptr;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const auto it = state.allocations.find(reinterpret_cast<std::uintptr_t>(pointer));
    if (it == state.allocations.end() || it->second.released)
      return returned(cudaErrorInvalidValue);  // freed meanwhile by another thread
    if (device < static_cast<int>(state.devices.size())) state.devices[device].used_bytes -= it->second.size;
    storage = it->second.storage;
    stream_order::forget(it->second.begin, it->second.begin + it->second.size);
    state.allocations.erase(it);
  }
  std::free(storage);
  return returned(sticky);
}

cudaError_t cudaMallocHost(void** pointer, size_t bytes) { return cudaHostAlloc(pointer, bytes, cudaHostAllocDefault); }

cudaError_t cudaHostAlloc(void** pointer, size_t bytes, unsigned int flags) {
  if (pointer == nullptr || (flags & ~7u) != 0) return returned(cudaErrorInvalidValue);
  {
    Runtime& state = runtime();
    std::lock_guard<std::mutex> lock(state.mutex);
    if (const cudaError_t error = device_unusable(state, current_device())) return returned(error);
  }
  if (bytes == 0) {
    *pointer = nullptr;
    return cudaSuccess;
  }
  return returned(allocate(pointer, bytes, -1));
}

cudaError_t cudaFreeHost(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  Runtime& state = runtime();
  bool pinned = false;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const auto it = state.allocations.find(reinterpret_cast<std::uintptr_t>(pointer));
    pinned = it != state.allocations.end() && it->second.pinned();
  }
  if (!pinned) {
    report_violation("cudaFreeHost(" + pointer_text(pointer) +
                     "): not the start of a live pinned allocation (cudaMallocHost/cudaHostAlloc)");
    return returned(cudaErrorInvalidValue);
  }
  synchronize_all_devices();  // queued copies may still read or write it
  void* storage = nullptr;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const auto it = state.allocations.find(reinterpret_cast<std::uintptr_t>(pointer));
    if (it == state.allocations.end()) return returned(cudaErrorInvalidValue);  // freed meanwhile by another thread
    storage = it->second.storage;
    stream_order::forget(it->second.begin, it->second.begin + it->second.size);
    state.allocations.erase(it);
  }
  std::free(storage);
  return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* pointer) {
  if (attributes == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const Allocation* a = state.find(pointer);
  attributes->devicePointer = nullptr;
  attributes->hostPointer = nullptr;
  if (a == nullptr) {
    attributes->type = cudaMemoryTypeUnregistered;
    attributes->device = -2;
    attributes->hostPointer = const_cast<void*>(pointer);
  } else if (a->pinned()) {
    attributes->type = cudaMemoryTypeHost;
    attributes->device = current_device();
    attributes->devicePointer = const_cast<void*>(pointer);
    attributes->hostPointer = const_cast<void*>(pointer);
  } else {
    attributes->type = cudaMemoryTypeDevice;
    attributes->device = a->device;
    attributes->devicePointer = const_cast<void*>(pointer);
  }
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* destination, const void* source, size_t bytes, cudaMemcpyKind kind) {
  const ApiCall call(__builtin_return_address(0));
  return copy("cudaMemcpy", destination, bytes, source, bytes, bytes, 1, kind, nullptr, true);
}

cudaError_t cudaMemcpyAsync(void* destination, const void* source, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  const ApiCall call(__builtin_return_address(0));
  return copy("cudaMemcpyAsync", destination, bytes, source, bytes, bytes, 1, kind, stream, false);
}

cudaError_t cudaMemcpy2D(void* destination, size_t destination_pitch, const void* source, size_t source_pitch,
                         size_t width, size_t height, cudaMemcpyKind kind) {
  const ApiCall call(__builtin_return_address(0));
  return copy("cudaMemcpy2D", destination, destination_pitch, source, source_pitch, width, height, kind, nullptr, true);
}

cudaError_t cudaMemcpy2DAsync(void* destination, size_t destination_pitch, const void* source, size_t source_pitch,
                              size_t width, size_t height, cudaMemcpyKind kind, cudaStream_t stream) {
  const ApiCall call(__builtin_return_address(0));
  return copy("cudaMemcpy2DAsync", destination, destination_pitch, source, source_pitch, width, height, kind, stream,
              false);
}

cudaError_t cudaMemset(void* pointer, int value, size_t bytes) {
  const ApiCall call(__builtin_return_address(0));
  return fill("cudaMemset", pointer, value, bytes, nullptr, true);
}

cudaError_t cudaMemsetAsync(void* pointer, int value, size_t bytes, cudaStream_t stream) {
  const ApiCall call(__builtin_return_address(0));
  return fill("cudaMemsetAsync", pointer, value, bytes, stream, false);
}

}  // extern "C"
