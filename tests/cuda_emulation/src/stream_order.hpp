// The cross-stream ordering check: every stream operation carries the vector clock its stream had
// when it was queued (what event waits, the legacy stream's implicit ordering and host
// synchronisations order before it), and the memory it touches is checked, per byte range,
// against the last write and the reads since it: two operations of different streams touching
// the same bytes, at least one writing, with neither ordered before the other, are reported,
// whatever order the lazily run streams happen to run them in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace hf_emu {

// For each stream (by serial number), the last of its operations known to come first.
using VectorClock = std::map<std::uint64_t, std::uint64_t>;

void join(VectorClock& into, const VectorClock& other);

// One queued stream operation: its stream, its place in it, and what precedes it.
struct StreamOperation {
  std::uint64_t stream = 0;  // the stream's serial number
  std::uint64_t sequence = 0;
  VectorClock clock;
  std::string description;          // "kernel fused_epoch_kernel on stream #3 (device 0)"
  const void* queued_at = nullptr;  // the program's call that queued it (api_caller)
};

// Bytes an operation declares it touches when queued (copies, memsets, cuBLAS).
struct Touch {
  std::uintptr_t begin = 0, end = 0;
  bool write = false;
};

namespace stream_order {

// The operation whose memory accesses are checked from now until end_operation (drain brackets
// each item it runs; a host function's CUDA calls may drain other work inside, which brackets
// its own and then gives the outer operation back).
void begin_operation(std::shared_ptr<const StreamOperation> operation);
void end_operation();
// begin_operation for as long as it lives (end_operation even when the work throws).
class RunningOperation {
 public:
  explicit RunningOperation(std::shared_ptr<const StreamOperation> operation) { begin_operation(std::move(operation)); }
  ~RunningOperation() { end_operation(); }
  RunningOperation(const RunningOperation&) = delete;
  RunningOperation& operator=(const RunningOperation&) = delete;
};
// Checks and records an access of the running operation to [begin, end) of device or pinned
// memory, made at `pc` (kernel code) or by the operation itself (null). Violations are kept for
// take_violation(), not reported here (the caller may hold locks).
void access(std::uintptr_t begin, std::uintptr_t end, bool write, const void* pc);
// The ordering violation the running operation caused, or "" (cleared).
std::string take_violation();
// Drops the history of freed memory.
void forget(std::uintptr_t begin, std::uintptr_t end);
// Drops all history (configure_devices, clear_errors).
void reset();

}  // namespace stream_order
}  // namespace hf_emu
