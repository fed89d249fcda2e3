// The cross-stream ordering check (stream_order.hpp): a shadow of device and pinned memory in
// byte ranges, each holding the operation that last wrote it and, per stream, the last operation
// that read it since. An access is checked against them with the operations' vector clocks, so a
// missing event is found whether the emulation ran the two streams in the right order or not.
#include "tests/cuda_emulation/src/stream_order.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#include "tests/cuda_emulation/src/race_check.hpp"
#include "tests/cuda_emulation/src/runtime_state.hpp"

namespace hf_emu {

void join(VectorClock& into, const VectorClock& other) {
  for (const auto& [stream, sequence] : other) {
    std::uint64_t& mine = into[stream];
    if (mine < sequence) mine = sequence;
  }
}

namespace stream_order {
namespace {

struct Access {
  std::shared_ptr<const StreamOperation> operation;
  const void* pc = nullptr;
};

// Bytes [begin, end): begin is the map's key.
struct Segment {
  std::uintptr_t end = 0;
  Access writer;                // none: no stream operation wrote it since it was allocated
  std::vector<Access> readers;  // since the write, the latest per stream
};

struct Violation {
  std::uintptr_t begin = 0, end = 0;
  bool write = false;
  Access now, earlier;
  bool earlier_wrote = false;
};

struct Shadow {
  std::mutex mutex;
  std::map<std::uintptr_t, Segment> segments;
};

Shadow& shadow() {
  static Shadow* s = new Shadow;  // never destroyed: work may run during static destruction
  return *s;
}

// The operations being run on this thread, innermost last, each with its first violation.
struct Frame {
  std::shared_ptr<const StreamOperation> operation;
  bool violated = false;
  Violation violation;
};
thread_local std::vector<Frame> frames;

bool ordered_before(const StreamOperation& earlier, const StreamOperation& later) {
  if (earlier.stream == later.stream) return true;  // stream order
  const auto it = later.clock.find(earlier.stream);
  return it != later.clock.end() && it->second >= earlier.sequence;
}

// Splits the segment holding `at` (if any) so that a segment starts there.
void split_at(std::map<std::uintptr_t, Segment>& segments, std::uintptr_t at) {
  auto it = segments.upper_bound(at);
  if (it == segments.begin()) return;
  --it;
  if (it->first == at || it->second.end <= at) return;
  Segment tail = it->second;
  it->second.end = at;
  segments.emplace(at, std::move(tail));
}

void note(std::uintptr_t begin, std::uintptr_t end, bool write, const Access& now, const Access& earlier,
          bool earlier_wrote) {
  Frame& frame = frames.back();
  if (frame.violated) return;  // the first one of the operation is reported
  frame.violated = true;
  frame.violation = Violation{begin, end, write, now, earlier, earlier_wrote};
}

std::string where(const void* pc) {
  const std::string source = race::source_location(pc);
  return source.empty() ? std::string() : " at " + source;
}

// "kernel k on stream #2 (device 0), queued at cuda_backend.cu:310 (...)".
std::string name(const StreamOperation& operation) {
  const std::string site = race::call_site(operation.queued_at);
  return operation.description + (site.empty() ? std::string() : ", queued at " + site + ",");
}

}  // namespace

void begin_operation(std::shared_ptr<const StreamOperation> operation) {
  frames.push_back(Frame{std::move(operation), false, Violation{}});
}

void end_operation() { frames.pop_back(); }

void access(std::uintptr_t begin, std::uintptr_t end, bool write, const void* pc) {
  if (frames.empty() || frames.back().operation == nullptr || begin >= end) return;
  const std::shared_ptr<const StreamOperation>& running = frames.back().operation;
  Shadow& s = shadow();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto& segments = s.segments;
  split_at(segments, begin);
  split_at(segments, end);
  const Access now{running, pc};
  // Check against every segment inside [begin, end).
  for (auto it = segments.lower_bound(begin); it != segments.end() && it->first < end; ++it) {
    Segment& segment = it->second;
    const auto overlap_end = std::min(end, segment.end);
    if (segment.writer.operation != nullptr && !ordered_before(*segment.writer.operation, *running))
      note(it->first, overlap_end, write, now, segment.writer, true);
    if (write)
      for (const Access& reader : segment.readers)
        if (!ordered_before(*reader.operation, *running)) note(it->first, overlap_end, write, now, reader, false);
  }
  if (write) {
    segments.erase(segments.lower_bound(begin), segments.lower_bound(end));
    segments.emplace(begin, Segment{end, now, {}});
    return;
  }
  // A read: joins the readers of each segment inside, and fills the gaps with new segments.
  std::uintptr_t at = begin;
  auto it = segments.lower_bound(begin);
  while (at < end) {
    if (it == segments.end() || it->first > at) {
      const std::uintptr_t gap_end = it == segments.end() ? end : std::min(end, it->first);
      it = segments.emplace_hint(it, at, Segment{gap_end, Access{}, {now}});
      at = gap_end;
      ++it;
      continue;
    }
    std::vector<Access>& readers = it->second.readers;
    bool replaced = false;
    for (Access& reader : readers)
      if (reader.operation->stream == running->stream) {
        reader = now;
        replaced = true;
      }
    if (!replaced) readers.push_back(now);
    at = it->second.end;
    ++it;
  }
}

std::string take_violation() {
  if (frames.empty() || !frames.back().violated) return {};
  Frame& frame = frames.back();
  frame.violated = false;
  const Violation v = std::move(frame.violation);
  frame.violation = Violation{};
  std::string memory;
  {
    Runtime& state = runtime();
    std::lock_guard<std::mutex> lock(state.mutex);
    const Allocation* a = state.find(reinterpret_cast<const void*>(v.begin));
    memory = a == nullptr ? std::string("freed memory")
                          : "bytes " + std::to_string(v.begin - a->begin) + " to " + std::to_string(v.end - a->begin) +
                                " of " + describe(*a);
  }
  return "unordered stream operations on " + memory + ": " + name(*v.now.operation) + " " +
         (v.write ? "writes" : "reads") + " them" + where(v.now.pc) + ", and " + name(*v.earlier.operation) + " " +
         (v.earlier_wrote ? "wrote" : "read") + " them" + where(v.earlier.pc) +
         ", with no event (cudaEventRecord, then cudaStreamWaitEvent on the other stream), stream or device "
         "synchronisation ordering one before the other (on a GPU the streams may run in either order or at once)";
}

void forget(std::uintptr_t begin, std::uintptr_t end) {
  Shadow& s = shadow();
  std::lock_guard<std::mutex> lock(s.mutex);
  split_at(s.segments, begin);
  split_at(s.segments, end);
  s.segments.erase(s.segments.lower_bound(begin), s.segments.lower_bound(end));
}

void reset() {
  Shadow& s = shadow();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.segments.clear();
}

}  // namespace stream_order
}  // namespace hf_emu
