// The race check (race_check.hpp): the __tsan_* hooks that -fsanitize=thread instrumentation
// calls, recording GPU threads' accesses to device and shared memory in a shadow table per
// launch. libtsan is never linked; these hooks are the whole runtime, and outside a kernel they
// only perform the atomics they stand for.
//
// Shadow: one record per 4-byte granule of touched memory (per byte where accesses are smaller),
// in pages of 1,024 records found through a hash map. A record keeps, for the block that touched
// it last and its current barrier interval, the last writer, the last two readers (and the last
// reader of another warp) and the same for atomics; and for global memory one example of each
// kind from earlier blocks, which no barrier orders. That is enough to find one racing pair
// whenever one exists under the definition in race_check.hpp.
#include "tests/cuda_emulation/src/race_check.hpp"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/cuda_emulation/emulation_control.hpp"
#include "tests/cuda_emulation/src/kernel_counters.hpp"
#include "tests/cuda_emulation/src/runtime_state.hpp"
#include "tests/cuda_emulation/src/stream_order.hpp"

namespace hf_emu {
namespace {

std::atomic<bool> instrumented_code{false};

enum class Kind : std::uint8_t { Read, Write, Atomic };
enum class Space : std::uint8_t { Global, Shared };

constexpr std::uint16_t kNobody = 0xFFFF;

// One access by a thread of the record's block: thread in block, its __syncwarp generation, and
// where in the code (offset from a function of this file, to fit 32 bits).
struct Slot {
  std::uint16_t thread = kNobody;
  std::uint16_t lane_epoch = 0;
  std::int32_t pc = 0;
};

// One access by a thread of an earlier block.
struct Earlier {
  std::uint64_t block = ~std::uint64_t{0};
  std::uint16_t thread = kNobody;
  std::int32_t pc = 0;
  bool present() const { return thread != kNobody; }
};

struct Record {
  std::uint32_t generation = 0;  // the launch it belongs to; stale otherwise
  std::uint32_t block_epoch = 0;
  std::uint64_t block = 0;
  Slot write, read, read2, read_other_warp, atomic, atomic2, atomic_other_warp;
  Earlier earlier_write, earlier_read, earlier_atomic;
  bool written = false;  // by this block (for reads of shared memory nobody wrote)
  bool split = false;    // a granule record whose bytes have records of their own
};

constexpr std::size_t kGranule = 4;
constexpr std::size_t kPageRecords = 1024;

struct Page {
  Record records[kPageRecords];
};

struct AllocationRange {
  std::uintptr_t begin, end;
  std::uint64_t id;
  int device;
  // The bytes the launch read and wrote (atomics count as writes), and where it first did, for
  // the cross-stream ordering check (stream_order.hpp) when the launch ends.
  std::uintptr_t read_begin = UINTPTR_MAX, read_end = 0, write_begin = UINTPTR_MAX, write_end = 0;
  const void* read_pc = nullptr;
  const void* write_pc = nullptr;
};

// What an access outside every allocation hit: a redzone of allocation `allocation` (or of the
// block's dynamic shared memory when it is null), or nothing the emulation knows.
struct Outside {
  bool in_redzone = false;
  const AllocationRange* allocation = nullptr;
};

std::int32_t pc_offset(const void* pc) {
  const auto base = reinterpret_cast<std::intptr_t>(&pc_offset);
  const std::intptr_t difference = reinterpret_cast<std::intptr_t>(pc) - base;
  return difference > INT32_MIN && difference < INT32_MAX ? static_cast<std::int32_t>(difference) : 0;
}

const void* pc_of(std::int32_t offset) {
  return offset == 0 ? nullptr : reinterpret_cast<const void*>(reinterpret_cast<std::intptr_t>(&pc_offset) + offset);
}

// "file:line (function)" for a return address, by addr2line; "" if unknown. With `inlined`, every
// level of inlining, innermost first ("a.hpp:4 (f) in b.cpp:9 (g)"), for host call sites that
// sit in inlined helpers.
std::string source_of(const void* pc, bool inlined = false) {
  if (pc == nullptr) return {};
  Dl_info info;
  if (dladdr(pc, &info) == 0 || info.dli_fname == nullptr) return {};
  const auto address = reinterpret_cast<std::uintptr_t>(pc) - 1;  // inside the call instruction
  const auto base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  char command[4096];
  std::snprintf(command, sizeof command, "addr2line -C -f %s-e '%s' 0x%lx 2>/dev/null", inlined ? "-i " : "",
                info.dli_fname, static_cast<unsigned long>(address - base));
  FILE* pipe = popen(command, "r");
  if (pipe == nullptr) return {};
  std::string text;
  char function[1024] = {0}, line[2048] = {0};
  for (int level = 0; level < 4; ++level) {
    if (std::fgets(function, sizeof function, pipe) == nullptr || std::fgets(line, sizeof line, pipe) == nullptr) break;
    function[std::strcspn(function, "\n")] = '\0';
    line[std::strcspn(line, "\n")] = '\0';
    if (std::strncmp(line, "??", 2) == 0) break;
    // The emulation's own inlined frames (HF_LAUNCH's template) say nothing about the program.
    if (inlined && std::strstr(line, "/tests/cuda_emulation/") != nullptr) continue;
    text += (text.empty() ? "" : " in ") + std::string(line) + " (" + function + ")";
  }
  pclose(pipe);
  return text;
}

struct Settings {
  std::atomic<bool> enabled{true};
  std::size_t shadow_limit_bytes = std::size_t{2} << 30;
};

Settings& settings() {
  static Settings* s = [] {
    auto* result = new Settings;
    if (const char* v = std::getenv("HYPERFUSE_EMU_RACE_CHECK")) result->enabled = std::string(v) != "0";
    if (const char* v = std::getenv("HYPERFUSE_EMU_RACE_SHADOW_MB"))
      result->shadow_limit_bytes = std::strtoull(v, nullptr, 10) << 20;
    return result;
  }();
  return *s;
}

// The check's state on the OS thread that runs a grid.
struct LaunchState {
  bool active = false;  // a GPU thread of a checked (or counted) launch is running
  bool checking = false;
  bool counting = false;  // the kernel counters (kernel_counters.hpp) see the accesses
  const GridLaunch* launch = nullptr;
  std::uint32_t generation = 0;
  std::uint64_t block = 0;
  std::uint32_t block_epoch = 0;
  std::uint16_t thread = 0;
  std::uint16_t warp = 0;
  std::uint16_t lane_epoch = 0;
  std::uintptr_t dynamic_begin = 0, dynamic_end = 0;
  std::uintptr_t stack_begin = 0, stack_end = 0;                         // the running fiber's: never checked
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> static_shared;  // this OS thread's TLS
  std::uintptr_t builtins_begin = 0, builtins_end = 0;                   // threadIdx & co.
  std::vector<AllocationRange> allocations;
  AllocationRange* last_allocation = nullptr;
  struct CachedMemory {
    std::uintptr_t page = ~std::uintptr_t{0};
    AllocationRange* allocation = nullptr;  // null: no allocation on the page
  };
  CachedMemory memory_cache[1024];
  // Shadow.
  std::unordered_map<std::uintptr_t, Page*> pages;
  std::vector<std::unique_ptr<Page>> page_pool;
  std::size_t pages_used = 0;
  // Recently used pages, direct-mapped: a kernel alternates between a few arrays.
  struct CachedPage {
    std::uintptr_t key = ~std::uintptr_t{0};
    Page* page = nullptr;
  };
  CachedPage page_cache[64];
  bool over_limit = false;
  bool race_found = false;
};

thread_local LaunchState tls;

int collect_tls(dl_phdr_info* info, std::size_t, void* data) {
  auto* state = static_cast<LaunchState*>(data);
  if (info->dlpi_tls_data == nullptr || (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0')) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type != PT_TLS) continue;
    const auto begin = reinterpret_cast<std::uintptr_t>(info->dlpi_tls_data);
    state->static_shared.emplace_back(begin, begin + info->dlpi_phdr[i].p_memsz);
  }
  return 0;
}

// The page holding record `index`: of 4-byte granules, or with `bytes` of single bytes (split
// granules' records, in pages of their own).
Page* page_for(LaunchState& s, std::uintptr_t index, bool bytes = false) {
  const std::uintptr_t key = index / kPageRecords | (bytes ? std::uintptr_t{1} << 63 : 0);
  LaunchState::CachedPage& cached = s.page_cache[key % 64];
  if (cached.key == key) return cached.page;
  auto it = s.pages.find(key);
  Page* page = nullptr;
  if (it != s.pages.end()) {
    page = it->second;
  } else {
    if ((s.pages_used + 1) * sizeof(Page) > settings().shadow_limit_bytes) {
      if (!s.over_limit) {
        s.over_limit = true;
        std::fprintf(stderr,
                     "hyperfuse CUDA emulation: the race check of kernel `%s` stops recording new addresses: its "
                     "shadow passed HYPERFUSE_EMU_RACE_SHADOW_MB=%zu\n",
                     s.launch->kernel_name.c_str(), settings().shadow_limit_bytes >> 20);
      }
      return nullptr;
    }
    if (s.pages_used == s.page_pool.size()) s.page_pool.push_back(std::make_unique<Page>());
    page = s.page_pool[s.pages_used++].get();
    s.pages.emplace(key, page);
  }
  cached.key = key;
  cached.page = page;
  return page;
}

const char* verb(Kind kind, bool past) {
  switch (kind) {
    case Kind::Read: return past ? "read" : "reads";
    case Kind::Write: return past ? "wrote" : "writes";
    case Kind::Atomic: return past ? "atomically updated" : "atomically updates";
  }
  return "";
}

std::string where_in_code(std::int32_t pc) {
  const std::string source = source_of(pc_of(pc));
  return source.empty() ? std::string() : " at " + source;
}

std::string describe_address(const LaunchState& s, std::uintptr_t address, Space space) {
  char text[64];
  std::snprintf(text, sizeof text, "0x%lx", static_cast<unsigned long>(address));
  if (space == Space::Shared) {
    if (address >= s.dynamic_begin && address < s.dynamic_end)
      return "dynamic shared memory, byte " + std::to_string(address - s.dynamic_begin);
    return std::string("static __shared__ memory at ") + text;
  }
  for (const AllocationRange& a : s.allocations) {
    if (address >= a.begin && address < a.end) {
      return "byte " + std::to_string(address - a.begin) + " of " +
             (a.device < 0 ? "pinned host allocation #" : "device allocation #") + std::to_string(a.id) + " (" +
             std::to_string(a.end - a.begin) + " bytes" +
             (a.device < 0 ? std::string(")") : " on device " + std::to_string(a.device) + ")");
    }
  }
  return text;
}

[[noreturn]] void report_race(LaunchState& s, std::uintptr_t address, Space space, Kind now, std::int32_t now_pc,
                              std::uint64_t other_block, std::uint16_t other_thread, Kind then, std::int32_t then_pc) {
  s.race_found = true;
  s.active = false;  // no recording while the report is built
  const bool same_block = other_block == s.block;
  const std::string message = "data race on " + describe_address(s, address, space) + ": " +
                              thread_description(s.block, s.thread) + " " + verb(now, false) + " it" +
                              where_in_code(now_pc) + ", and " + thread_description(other_block, other_thread) + " " +
                              verb(then, true) + " it" + where_in_code(then_pc) +
                              (same_block ? " with no barrier (__syncthreads/__syncwarp) in between"
                                          : "; threads of different blocks never synchronise within a launch");
  abort_kernel(cudaErrorLaunchFailure, message.c_str());
}

[[noreturn]] void report_uninitialised(LaunchState& s, std::uintptr_t address, std::int32_t pc) {
  s.active = false;
  const std::string message = thread_description(s.block, s.thread) + " reads " +
                              describe_address(s, address, Space::Shared) + where_in_code(pc) +
                              ", which no thread of its block has written: shared memory starts undefined";
  abort_kernel(cudaErrorLaunchFailure, message.c_str());
}

// A kernel access outside the allocation (or dynamic shared memory) it was meant for: the bytes
// it touched, relative to the allocation's start, and how far past the end or before the start.
[[noreturn]] void report_out_of_bounds(LaunchState& s, std::uintptr_t address, std::size_t bytes, Kind kind,
                                       const void* pc, const AllocationRange* allocation) {
  s.active = false;
  const std::uintptr_t begin = allocation != nullptr ? allocation->begin : s.dynamic_begin;
  const std::uintptr_t end = allocation != nullptr ? allocation->end : s.dynamic_end;
  const auto offset = static_cast<long long>(address) - static_cast<long long>(begin);
  std::string what;
  if (allocation != nullptr) {
    what = std::string(allocation->device < 0 ? "pinned host allocation #" : "device allocation #") +
           std::to_string(allocation->id) + " (" + std::to_string(end - begin) + " bytes" +
           (allocation->device < 0 ? std::string(")") : " on device " + std::to_string(allocation->device) + ")");
  } else {
    what = "the block's dynamic shared memory (the launch's " + std::to_string(end - begin) + " bytes)";
  }
  const std::string position = address + bytes > end ? std::to_string(address + bytes - end) + " bytes past its end"
                                                     : std::to_string(begin - address) + " bytes before its start";
  const std::string message = std::string("out-of-bounds access: ") + verb(kind, false) + " " + std::to_string(bytes) +
                              " bytes at offset " + std::to_string(offset) + " of " + what + ", " + position +
                              where_in_code(pc_offset(pc));
  abort_kernel(cudaErrorIllegalAddress, message.c_str());
}

bool concurrent(const LaunchState& s, const Slot& slot) {
  if (slot.thread == kNobody || slot.thread == s.thread) return false;
  return slot.thread / 32 != s.warp || slot.lane_epoch == s.lane_epoch;
}

void remember(Slot& latest, Slot& second, Slot& other_warp, const Slot& me, std::uint16_t warp) {
  if (latest.thread == me.thread) {
    latest = me;
    return;
  }
  const Slot previous = latest;
  latest = me;
  if (previous.thread != kNobody) {
    second = previous;
    if (previous.thread / 32 != warp) other_warp = previous;
  }
}

void fold_into_earlier(Record& r) {
  const auto keep = [&](Earlier& earlier, const Slot& slot) {
    if (!earlier.present() && slot.thread != kNobody) earlier = Earlier{r.block, slot.thread, slot.pc};
  };
  keep(r.earlier_write, r.write);
  keep(r.earlier_read, r.read);
  keep(r.earlier_atomic, r.atomic);
}

void clear_local(Record& r) {
  r.write = r.read = r.read2 = r.read_other_warp = r.atomic = r.atomic2 = r.atomic_other_warp = Slot{};
}

void apply(LaunchState& s, Record& r, std::uintptr_t address, Space space, Kind kind, std::int32_t pc) {
  if (r.generation != s.generation) {
    r = Record{};
    r.generation = s.generation;
    r.block = s.block;
    r.block_epoch = s.block_epoch;
  } else if (r.block != s.block) {
    if (space == Space::Global) {
      fold_into_earlier(r);
    } else {
      r.earlier_write = r.earlier_read = r.earlier_atomic = Earlier{};  // another block's shared memory
    }
    clear_local(r);
    r.block = s.block;
    r.block_epoch = s.block_epoch;
    r.written = false;
  } else if (r.block_epoch != s.block_epoch) {
    clear_local(r);  // ordered before this interval by a barrier
    r.block_epoch = s.block_epoch;
  }
  // Earlier blocks: nothing orders them before this access.
  if (r.earlier_write.present())
    report_race(s, address, space, kind, pc, r.earlier_write.block, r.earlier_write.thread, Kind::Write,
                r.earlier_write.pc);
  if (kind != Kind::Read && r.earlier_read.present())
    report_race(s, address, space, kind, pc, r.earlier_read.block, r.earlier_read.thread, Kind::Read,
                r.earlier_read.pc);
  if (kind != Kind::Atomic && r.earlier_atomic.present())
    report_race(s, address, space, kind, pc, r.earlier_atomic.block, r.earlier_atomic.thread, Kind::Atomic,
                r.earlier_atomic.pc);
  // This block, since its last barrier.
  if (concurrent(s, r.write))
    report_race(s, address, space, kind, pc, s.block, r.write.thread, Kind::Write, r.write.pc);
  if (kind != Kind::Read) {
    for (const Slot* other : {&r.read, &r.read2, &r.read_other_warp})
      if (concurrent(s, *other))
        report_race(s, address, space, kind, pc, s.block, other->thread, Kind::Read, other->pc);
  }
  if (kind != Kind::Atomic) {
    for (const Slot* other : {&r.atomic, &r.atomic2, &r.atomic_other_warp})
      if (concurrent(s, *other))
        report_race(s, address, space, kind, pc, s.block, other->thread, Kind::Atomic, other->pc);
  }
  if (space == Space::Shared && kind == Kind::Read && !r.written) report_uninitialised(s, address, pc);
  const Slot me{s.thread, s.lane_epoch, pc};
  switch (kind) {
    case Kind::Write:
      r.write = me;
      r.written = true;
      break;
    case Kind::Read: remember(r.read, r.read2, r.read_other_warp, me, s.warp); break;
    case Kind::Atomic:
      remember(r.atomic, r.atomic2, r.atomic_other_warp, me, s.warp);
      r.written = true;
      break;
  }
}

Record* byte_record(LaunchState& s, std::uintptr_t address) {
  Page* page = page_for(s, address, true);
  return page == nullptr ? nullptr : &page->records[address % kPageRecords];
}

void record_granule(LaunchState& s, std::uintptr_t granule, unsigned first_byte, unsigned end_byte, Space space,
                    Kind kind, std::int32_t pc) {
  Page* page = page_for(s, granule);
  if (page == nullptr) return;
  Record& r = page->records[granule % kPageRecords];
  const std::uintptr_t base = granule * kGranule;
  const bool whole = first_byte == 0 && end_byte == kGranule;
  const bool split = r.generation == s.generation && r.split;
  if (whole && !split) {
    apply(s, r, base, space, kind, pc);
    return;
  }
  if (!split) {
    // The granule's history goes to each of its bytes, which are tracked one by one from now on.
    const bool fresh = r.generation != s.generation;
    for (unsigned b = 0; b < kGranule; ++b) {
      Record* byte = byte_record(s, base + b);
      if (byte == nullptr) return;  // past the shadow's limit
      *byte = fresh ? Record{} : r;
      byte->split = false;
    }
    if (fresh) {
      r = Record{};
      r.generation = s.generation;
    }
    r.split = true;
  }
  for (unsigned b = first_byte; b < end_byte; ++b) {
    Record* byte = byte_record(s, base + b);
    if (byte != nullptr) apply(s, *byte, base + b, space, kind, pc);
  }
}

// The memory an address belongs to, or false for memory the check ignores (fiber stacks, the
// kernel's argument copies, host globals).
bool classify(LaunchState& s, std::uintptr_t address, Space& space, Outside& outside) {
  if (address >= s.stack_begin && address < s.stack_end) return false;  // the thread's locals
  if (s.last_allocation != nullptr && address >= s.last_allocation->begin && address < s.last_allocation->end) {
    space = Space::Global;
    return true;
  }
  if (address >= s.dynamic_begin && address < s.dynamic_end) {
    space = Space::Shared;
    return true;
  }
  if (s.dynamic_begin != 0 && address >= s.dynamic_begin - kRedzoneBytes && address < s.dynamic_end + kRedzoneBytes) {
    outside = Outside{true, nullptr};
    return false;
  }
  for (const auto& [begin, end] : s.static_shared) {
    if (address >= begin && address < end) {
      if (address >= s.builtins_begin && address < s.builtins_end) return false;
      space = Space::Shared;
      return true;
    }
  }
  // 256-byte lines known to lie wholly inside one allocation or wholly outside all of them (the
  // kernel's argument copies, constant tables): most accesses end here, not in the binary search.
  const std::uintptr_t page = address >> 8;
  LaunchState::CachedMemory& cached = s.memory_cache[page % 1024];
  if (cached.page == page) {
    if (cached.allocation == nullptr) return false;
    s.last_allocation = cached.allocation;
    space = Space::Global;
    return true;
  }
  auto next = std::upper_bound(s.allocations.begin(), s.allocations.end(), address,
                               [](std::uintptr_t a, const AllocationRange& r) { return a < r.begin; });
  const std::uintptr_t page_begin = page << 8, page_end = page_begin + 256;
  // Redzones count as part of their allocation's neighbourhood: never cached as "nothing here".
  const bool page_before_next = next == s.allocations.end() || next->begin - kRedzoneBytes >= page_end;
  if (next == s.allocations.begin() || address >= std::prev(next)->end) {
    if (next != s.allocations.end() && address >= next->begin - kRedzoneBytes) {
      outside = Outside{true, &*next};
    } else if (next != s.allocations.begin() && address < std::prev(next)->end + kRedzoneBytes) {
      outside = Outside{true, &*std::prev(next)};
    } else if (page_before_next &&
               (next == s.allocations.begin() || std::prev(next)->end + kRedzoneBytes <= page_begin)) {
      cached = LaunchState::CachedMemory{page, nullptr};
    }
    return false;
  }
  AllocationRange* allocation = &*std::prev(next);
  if (allocation->begin <= page_begin && allocation->end >= page_end)
    cached = LaunchState::CachedMemory{page, allocation};
  s.last_allocation = allocation;
  space = Space::Global;
  return true;
}

__attribute__((noinline)) void record(LaunchState& s, const void* pointer, std::size_t bytes, Kind kind,
                                      const void* pc) {
  const auto address = reinterpret_cast<std::uintptr_t>(pointer);
  Space space;
  Outside outside;
  if (!classify(s, address, space, outside)) {
    if (outside.in_redzone) report_out_of_bounds(s, address, bytes, kind, pc, outside.allocation);
    return;
  }
  // An access that starts inside and runs past the end (a vector load one element too far).
  if (space == Space::Global ? address + bytes > s.last_allocation->end
                             : address >= s.dynamic_begin && address < s.dynamic_end && address + bytes > s.dynamic_end)
    report_out_of_bounds(s, address, bytes, kind, pc, space == Space::Global ? s.last_allocation : nullptr);
  if (s.counting) profiler::on_access(s.thread, space == Space::Shared, address, bytes, pc);
  if (!s.checking) return;
  if (space == Space::Global) {
    AllocationRange& a = *s.last_allocation;
    if (kind == Kind::Read) {
      if (a.read_pc == nullptr) a.read_pc = pc;
      a.read_begin = std::min(a.read_begin, address);
      a.read_end = std::max(a.read_end, address + bytes);
    } else {
      if (a.write_pc == nullptr) a.write_pc = pc;
      a.write_begin = std::min(a.write_begin, address);
      a.write_end = std::max(a.write_end, address + bytes);
    }
  }
  const std::int32_t offset = pc_offset(pc);
  std::uintptr_t at = address;
  const std::uintptr_t end = address + bytes;
  while (at < end) {
    const std::uintptr_t granule = at / kGranule;
    const auto first = static_cast<unsigned>(at % kGranule);
    const auto stop = static_cast<unsigned>(std::min<std::uintptr_t>(end - granule * kGranule, kGranule));
    record_granule(s, granule, first, stop, space, kind, offset);
    at = granule * kGranule + stop;
  }
}

inline void access(const void* pointer, std::size_t bytes, Kind kind, const void* pc) {
  LaunchState& s = tls;
  if (!s.active) return;
  record(s, pointer, bytes, kind, pc);
}

}  // namespace

namespace race {

std::string source_location(const void* pc) { return source_of(pc); }

std::string call_site(const void* pc) { return source_of(pc, true); }

bool enabled() { return instrumented_code.load(std::memory_order_relaxed) && settings().enabled; }

void begin_launch(const GridLaunch& launch) {
  LaunchState& s = tls;
  s.checking = enabled();
  // The counters need the same classification of addresses, not the shadow.
  s.counting = instrumented_code.load(std::memory_order_relaxed) && profiler::enabled();
  if (!s.checking && !s.counting) return;
  s.launch = &launch;
  ++s.generation;
  if (s.generation == 0) {  // wrapped: old records could look current
    for (auto& page : s.page_pool) *page = Page{};
    s.generation = 1;
  }
  s.pages.clear();
  s.pages_used = 0;
  for (LaunchState::CachedPage& cached : s.page_cache) cached = LaunchState::CachedPage{};
  s.over_limit = false;
  s.race_found = false;
  if (s.static_shared.empty()) dl_iterate_phdr(collect_tls, &s);
  s.builtins_begin = reinterpret_cast<std::uintptr_t>(&detail::builtins);
  s.builtins_end = s.builtins_begin + sizeof detail::builtins;
  s.allocations.clear();
  {
    Runtime& state = runtime();
    std::lock_guard<std::mutex> lock(state.mutex);
    for (const auto& [begin, a] : state.allocations)
      if (a.pinned() || a.device == launch.device) s.allocations.push_back({a.begin, a.begin + a.size, a.id, a.device});
  }
  s.last_allocation = nullptr;
  for (LaunchState::CachedMemory& cached : s.memory_cache) cached = LaunchState::CachedMemory{};
}

void end_launch() {
  LaunchState& s = tls;
  s.active = false;
  if (s.checking) {
    // What the launch touched, for the ordering check against other streams' work.
    for (const AllocationRange& a : s.allocations) {
      if (a.read_end != 0) stream_order::access(a.read_begin, a.read_end, false, a.read_pc);
      if (a.write_end != 0) stream_order::access(a.write_begin, a.write_end, true, a.write_pc);
    }
  }
  s.checking = false;
  s.counting = false;
  // A launch that touched a lot leaves its pages to the next one; give very large pools back.
  if (s.page_pool.size() * sizeof(Page) > (std::size_t{256} << 20)) {
    s.pages.clear();
    s.page_pool.clear();
    s.pages_used = 0;
  }
}

void begin_block(std::uint64_t block_linear, const void* dynamic_shared, std::size_t dynamic_bytes) {
  LaunchState& s = tls;
  if (!s.checking && !s.counting) return;
  s.block = block_linear;
  s.block_epoch = 0;
  s.dynamic_begin = reinterpret_cast<std::uintptr_t>(dynamic_shared);
  s.dynamic_end = s.dynamic_begin + dynamic_bytes;
}

void end_block() { tls.active = false; }

void on_resume(unsigned thread_linear, std::uint32_t lane_epoch, const void* stack, std::size_t stack_bytes) {
  LaunchState& s = tls;
  if ((!s.checking && !s.counting) || s.race_found) return;
  s.stack_begin = reinterpret_cast<std::uintptr_t>(stack);
  s.stack_end = s.stack_begin + stack_bytes;
  s.thread = static_cast<std::uint16_t>(thread_linear);
  s.warp = static_cast<std::uint16_t>(thread_linear / 32);
  s.lane_epoch = static_cast<std::uint16_t>(lane_epoch);
  s.active = true;
}

void on_barrier() {
  LaunchState& s = tls;
  s.active = false;  // the scheduler runs until it resumes the next thread
  ++s.block_epoch;
}

void record_atomic(const void* address, std::size_t bytes, const void* pc) { access(address, bytes, Kind::Atomic, pc); }

}  // namespace race

bool race_check_built() { return instrumented_code.load(); }

void enable_race_check(bool on) { settings().enabled = on; }

bool race_check_enabled() { return settings().enabled; }

}  // namespace hf_emu

// The instrumentation's entry points (the ABI of GCC's and Clang's -fsanitize=thread).
using hf_emu::Kind;

extern "C" {

void __tsan_init() { hf_emu::instrumented_code.store(true); }
void __tsan_func_entry(void*) {}
void __tsan_func_exit() {}
void __tsan_ignore_thread_begin() {}
void __tsan_ignore_thread_end() {}

#define HF_EMU_TSAN_ACCESS(size)                                                                                    \
  void __tsan_read##size(void* a) { hf_emu::access(a, size, Kind::Read, __builtin_return_address(0)); }             \
  void __tsan_write##size(void* a) { hf_emu::access(a, size, Kind::Write, __builtin_return_address(0)); }           \
  void __tsan_unaligned_read##size(void* a) { hf_emu::access(a, size, Kind::Read, __builtin_return_address(0)); }   \
  void __tsan_unaligned_write##size(void* a) { hf_emu::access(a, size, Kind::Write, __builtin_return_address(0)); } \
  void __tsan_volatile_read##size(void* a) { hf_emu::access(a, size, Kind::Read, __builtin_return_address(0)); }    \
  void __tsan_volatile_write##size(void* a) { hf_emu::access(a, size, Kind::Write, __builtin_return_address(0)); }
HF_EMU_TSAN_ACCESS(1)
HF_EMU_TSAN_ACCESS(2)
HF_EMU_TSAN_ACCESS(4)
HF_EMU_TSAN_ACCESS(8)
HF_EMU_TSAN_ACCESS(16)
#undef HF_EMU_TSAN_ACCESS

void __tsan_read_range(void* a, unsigned long size) {
  hf_emu::access(a, size, Kind::Read, __builtin_return_address(0));
}
void __tsan_write_range(void* a, unsigned long size) {
  hf_emu::access(a, size, Kind::Write, __builtin_return_address(0));
}
void __tsan_vptr_read(void**) {}
void __tsan_vptr_update(void**, void*) {}

void* __tsan_memcpy(void* destination, const void* source, unsigned long size) {
  hf_emu::access(source, size, Kind::Read, __builtin_return_address(0));
  hf_emu::access(destination, size, Kind::Write, __builtin_return_address(0));
  return std::memcpy(destination, source, size);
}
void* __tsan_memmove(void* destination, const void* source, unsigned long size) {
  hf_emu::access(source, size, Kind::Read, __builtin_return_address(0));
  hf_emu::access(destination, size, Kind::Write, __builtin_return_address(0));
  return std::memmove(destination, source, size);
}
void* __tsan_memset(void* destination, int value, unsigned long size) {
  hf_emu::access(destination, size, Kind::Write, __builtin_return_address(0));
  return std::memset(destination, value, size);
}

void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
void __tsan_atomic_signal_fence(int) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }

// Atomics are performed for real (sequentially consistent), and recorded as atomics.
#define HF_EMU_TSAN_ATOMIC(bits, type)                                                                    \
  type __tsan_atomic##bits##_load(const volatile type* a, int) {                                          \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_load_n(a, __ATOMIC_SEQ_CST);                                                          \
  }                                                                                                       \
  void __tsan_atomic##bits##_store(volatile type* a, type v, int) {                                       \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                                             \
  }                                                                                                       \
  type __tsan_atomic##bits##_exchange(volatile type* a, type v, int) {                                    \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);                                                   \
  }                                                                                                       \
  type __tsan_atomic##bits##_fetch_add(volatile type* a, type v, int) {                                   \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                       \
  type __tsan_atomic##bits##_fetch_sub(volatile type* a, type v, int) {                                   \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                       \
  type __tsan_atomic##bits##_fetch_and(volatile type* a, type v, int) {                                   \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                       \
  type __tsan_atomic##bits##_fetch_or(volatile type* a, type v, int) {                                    \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST);                                                     \
  }                                                                                                       \
  type __tsan_atomic##bits##_fetch_xor(volatile type* a, type v, int) {                                   \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                       \
  type __tsan_atomic##bits##_fetch_nand(volatile type* a, type v, int) {                                  \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_fetch_nand(a, v, __ATOMIC_SEQ_CST);                                                   \
  }                                                                                                       \
  int __tsan_atomic##bits##_compare_exchange_strong(volatile type* a, type* expected, type v, int, int) { \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_compare_exchange_n(a, expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);        \
  }                                                                                                       \
  int __tsan_atomic##bits##_compare_exchange_weak(volatile type* a, type* expected, type v, int, int) {   \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    return __atomic_compare_exchange_n(a, expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);        \
  }                                                                                                       \
  type __tsan_atomic##bits##_compare_exchange_val(volatile type* a, type expected, type v, int, int) {    \
    hf_emu::access(const_cast<const type*>(a), sizeof(type), Kind::Atomic, __builtin_return_address(0));  \
    __atomic_compare_exchange_n(a, &expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);              \
    return expected;                                                                                      \
  }
HF_EMU_TSAN_ATOMIC(8, char)
HF_EMU_TSAN_ATOMIC(16, short)
HF_EMU_TSAN_ATOMIC(32, int)
HF_EMU_TSAN_ATOMIC(64, long)
#undef HF_EMU_TSAN_ATOMIC

}  // extern "C"
