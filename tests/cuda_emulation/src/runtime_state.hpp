// The emulated machine's state shared by the runtime's parts: devices, allocations, streams,
// counters and injected faults, behind one mutex; and the per host thread state CUDA keeps per
// thread (current device, last error).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cuda_runtime_api.h"
#include "tests/cuda_emulation/emulation_control.hpp"
#include "tests/cuda_emulation/src/device_profiles.hpp"
#include "tests/cuda_emulation/src/stream_order.hpp"

namespace hf_emu {

#if defined(__SANITIZE_ADDRESS__)
#define HF_EMU_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HF_EMU_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef HF_EMU_ADDRESS_SANITIZER
#define HF_EMU_ADDRESS_SANITIZER 0
#endif

// Bytes of 0xFF kept before and after every device and pinned allocation and every block's
// dynamic shared memory in the plain build: a kernel access landing there is reported as out of
// bounds by the race check's hooks (and reads NaN bytes, never another object). The ASan build
// allocates exact sizes instead, so AddressSanitizer sees the first byte past the end.
inline constexpr std::size_t kRedzoneBytes = HF_EMU_ADDRESS_SANITIZER ? 0 : 16384;

// One cudaMalloc'd block (device >= 0) or one cudaMallocHost/cudaHostAlloc block (device -1),
// each a separate host allocation so AddressSanitizer sees overruns.
struct Allocation {
  std::uintptr_t begin = 0;
  std::size_t size = 0;
  int device = -1;
  std::uint64_t id = 0;
  void* storage = nullptr;  // the host block holding it and its redzones, for free()
  // cudaFreeAsync queued it: gone for anything queued later (find() skips it), still there for
  // the work queued before the free, which runs on it (and is race-checked on it).
  bool released = false;
  bool pinned() const { return device < 0; }
  bool contains(std::uintptr_t address, std::size_t bytes) const {
    return address >= begin && address - begin <= size && bytes <= size - (address - begin);
  }
};
std::string describe(const Allocation& allocation);  // "device allocation #12 (400 bytes on device 0)"

struct Stream;

// A unit of stream work: runs when its stream is synchronised, after `waits` (other streams up
// to a sequence number). Returns cudaSuccess or the sticky error it caused.
struct WorkItem {
  WorkItem() = default;
  WorkItem(std::string what, std::vector<std::pair<std::shared_ptr<Stream>, std::uint64_t>> after,
           std::function<cudaError_t()> body)
      : description(std::move(what)), waits(std::move(after)), run(std::move(body)) {}

  std::string description;
  std::vector<std::pair<std::shared_ptr<Stream>, std::uint64_t>> waits;
  std::function<cudaError_t()> run;
  std::vector<Touch> touches;  // the memory it declares (copies, memsets, cuBLAS; kernels report theirs)
  std::shared_ptr<const StreamOperation> operation;  // set by enqueue, for the ordering check
};

struct Stream {
  int device = 0;
  bool blocking = true;  // synchronises with the legacy default stream
  bool legacy = false;   // the device's legacy default stream (stream 0)
  std::deque<WorkItem> queue;
  std::uint64_t enqueued = 0;   // items ever queued
  std::uint64_t completed = 0;  // items run (or dropped after a sticky error)
  std::uint64_t queries = 0;    // for cudaStreamQuery's one "not ready" per batch of work
  std::uint64_t serial = 0;     // for the ordering check and messages; 0 until its first work
  VectorClock clock;            // what its next operation is ordered after (stream_order.hpp)
};

struct Event {
  int device = 0;
  unsigned flags = 0;
  std::shared_ptr<Stream> stream;   // null until recorded
  std::uint64_t sequence = 0;       // complete once stream->completed reaches it
  std::shared_ptr<double> time_ms;  // host time at which the recorded point ran
  VectorClock clock;                // its stream's clock when recorded
};

// A queued copy into host memory, whose destination holds 0xFF bytes until the copy runs. A later
// copy into overlapping memory supersedes it (its destination is poisoned again).
struct PendingHostWrite {
  std::uintptr_t begin = 0, end = 0;
  bool superseded = false;
};

struct Device {
  int index = 0;
  const DeviceProfile* profile = nullptr;  // the card it emulates (HYPERFUSE_EMU_PROFILE)
  std::size_t total_bytes = 0;
  std::size_t used_bytes = 0;
  cudaError_t sticky = cudaSuccess;               // set by a failed kernel or a lost device; never cleared
  std::map<const void*, int> max_dynamic_shared;  // cudaFuncSetAttribute per kernel
  std::shared_ptr<Stream> legacy_stream;
  std::vector<std::weak_ptr<Stream>> streams;  // every stream created on the device
  std::uint64_t launches = 0;
};

class Runtime {
 public:
  std::mutex mutex;                // guards everything below
  std::recursive_mutex execution;  // held while stream work runs (one work item at a time)
  std::vector<Device> devices;
  std::map<std::uintptr_t, Allocation> allocations;  // by first byte
  std::map<cudaStream_t, std::shared_ptr<Stream>> streams;
  std::map<cudaEvent_t, std::unique_ptr<Event>> events;
  std::vector<std::weak_ptr<PendingHostWrite>> pending_host_writes;  // owned by their queued copies
  std::uint64_t next_allocation_id = 1;
  std::uint64_t next_stream_serial = 0;
  // What the host has waited for (stream, event and device synchronisations), so what every
  // operation queued afterwards is ordered after: one clock for all host threads, since a host
  // thread that waited can tell another one to go on.
  VectorClock host_clock;
  std::uint64_t configuration = 0;     // bumped by configure_devices: older per-thread streams are gone
  std::uint64_t allocations_made = 0;  // device allocations attempted, for fault injection
  std::uint64_t launches_made = 0;     // launches attempted, for fault injection
  Counters counters;
  Faults faults;
  std::string last_violation;
  std::uint64_t violations = 0;
  bool abort_on_violation = false;
  int multiprocessors = 0;  // every device's (HYPERFUSE_EMU_MULTIPROCESSORS); 0: each profile's own
  // The cards of the devices, in order (HYPERFUSE_EMU_PROFILE; the last one repeats), and the
  // architectures the emulated build holds code for (HYPERFUSE_EMU_BUILT_ARCHITECTURES).
  std::vector<const DeviceProfile*> profiles;
  std::vector<BuiltArchitecture> built_architectures;
  std::string counters_path;               // HYPERFUSE_EMU_COUNTERS
  std::string capture_kernel;              // capture_shared_memory's kernel name ("" : none)
  std::vector<std::vector<unsigned char>> captured_shared;

  // Reads the environment on first use (see the README for every variable).
  static Runtime& instance();
  // Devices as configured by the environment, or `count`/`memory` for tests (reset_emulation);
  // memory empty: each profile's.
  void configure_devices(int count, const std::vector<std::size_t>& memory);
  // Device `device`'s multiprocessors: HYPERFUSE_EMU_MULTIPROCESSORS, else its profile's.
  int multiprocessors_of(const Device& device) const;
  // Whether the emulated build holds code `device` can run. Call with the mutex held.
  bool has_kernel_image(const Device& device) const;
  // The live allocation holding the byte at `address`, or null (also for one cudaFreeAsync
  // released). Call with the mutex held.
  const Allocation* find(const void* address) const;

 private:
  Runtime();
};

inline Runtime& runtime() { return Runtime::instance(); }

// Per host thread, as in CUDA.
int& current_device();
cudaError_t& last_error();

// Sets the calling thread's last error when `error` is one, and returns it.
cudaError_t returned(cudaError_t error);
// The error every call on `device` returns first: driver too old, no device, invalid ordinal, or
// the device's sticky error. Call with the runtime mutex held.
cudaError_t device_unusable(const Runtime& state, int device);
// The same without the sticky error: whether `device` names a device at all.
cudaError_t device_missing(const Runtime& state, int device);

// A program error the emulation caught (a race, a bad pointer, a divergent barrier...): printed to
// stderr with "hyperfuse CUDA emulation:", kept for last_violation(), and abort() when
// HYPERFUSE_EMU_ABORT_ON_VIOLATION=1. Call without the runtime mutex held.
void report_violation(const std::string& message);

// Where the program called the runtime (or cuBLAS): the return address of the outermost entry point
// on this host thread, kept while the call runs so queued work can say where it was queued
// (resolved to file and line only when a message needs it).
const void*& api_caller();
class ApiCall {
 public:
  explicit ApiCall(const void* return_address) : previous_(api_caller()) {
    if (previous_ == nullptr) api_caller() = return_address;
  }
  ~ApiCall() { api_caller() = previous_; }
  ApiCall(const ApiCall&) = delete;
  ApiCall& operator=(const ApiCall&) = delete;

 private:
  const void* previous_;
};

// Host time in milliseconds, for events.
double now_ms();

}  // namespace hf_emu
