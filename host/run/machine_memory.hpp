// The host memory this process may use: the kernel's MemAvailable, lowered by any cgroup memory
// limit (v2 memory.max or v1 memory.limit_in_bytes, on the process's cgroup or an ancestor),
// plus what the process already holds. HYPERFUSE_AVAILABLE_MEMORY replaces the figure (tests,
// or a user who wants to leave room for other work).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace hf {

inline constexpr const char* kAvailableMemoryVariable = "HYPERFUSE_AVAILABLE_MEMORY";

struct HostMemory {
  std::size_t available_bytes = 0;  // what this process may hold in all, its present use included
  std::string source;               // where the figure comes from, for messages
};

// Reads the files under `root` ("/" on a real machine; tests point it at a fake /proc and /sys):
// proc/meminfo, proc/self/statm, proc/self/cgroup, proc/self/mountinfo and the cgroup's memory
// files. Without /proc/meminfo the figure is unknown: the largest size_t, so nothing is refused.
HostMemory host_memory_from(const std::filesystem::path& root);

// HYPERFUSE_AVAILABLE_MEMORY when set, otherwise host_memory_from("/"). Throws InputError when
// the variable is not a byte count.
HostMemory host_memory();

// The most resident memory this process has held so far (VmHWM in /proc/self/status), 0 when
// unknown: before the data is loaded, what the program and its libraries take.
std::size_t peak_resident_bytes();

// "8589934592", "8G", "512M", "64K", "1T" (binary multiples; an optional trailing "iB" or "B" as
// in 8GiB); nullopt for anything else, 0 included.
std::optional<std::size_t> parse_byte_count(const std::string& text);

}  // namespace hf
