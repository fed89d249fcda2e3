#include "host/run/machine_memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "host/common/errors.hpp"
#include "kernels/backend/byte_size.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kUnknown = std::numeric_limits<std::size_t>::max();
// cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit number; anything this
// large is no limit.
constexpr std::size_t kNoLimitAbove = std::size_t{1} << 62;

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::size_t> read_number(const fs::path& path) {
  const std::optional<std::string> text = read_file(path);
  if (!text) return std::nullopt;
  std::size_t value = 0;
  const char* begin = text->data();
  const auto result = std::from_chars(begin, begin + text->size(), value);
  if (result.ec != std::errc()) return std::nullopt;
  return value;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A "key: value kB" line of /proc/meminfo, in bytes.
std::optional<std::size_t> meminfo_field(const std::string& meminfo, const std::string& key) {
  std::istringstream lines(meminfo);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(key + ":", 0) != 0) continue;
    const std::vector<std::string> w = words(line.substr(key.size() + 1));
    if (w.empty()) return std::nullopt;
    std::size_t value = 0;
    if (std::from_chars(w[0].data(), w[0].data() + w[0].size(), value).ec != std::errc()) return std::nullopt;
    return w.size() > 1 && w[1] == "kB" ? value * 1024 : value;
  }
  return std::nullopt;
}

// The value of `key` in a memory.stat file (v2 "inactive_file", v1 "total_inactive_file").
std::size_t stat_field(const fs::path& path, const std::string& key) {
  const std::optional<std::string> text = read_file(path);
  if (!text) return 0;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    const std::vector<std::string> w = words(line);
    std::size_t value = 0;
    if (w.size() == 2 && w[0] == key &&
        std::from_chars(w[1].data(), w[1].data() + w[1].size(), value).ec == std::errc())
      return value;
  }
  return 0;
}

// The folder of this process's cgroup in the memory hierarchy: the cgroup path from
// /proc/self/cgroup, below the mount point /proc/self/mountinfo gives for that hierarchy.
// Without "." or ".." parts and without a trailing separator, so paths compare equal.
fs::path normal_folder(const fs::path& path) {
  fs::path normal = path.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) normal = normal.parent_path();
  return normal;
}

struct CgroupFolder {
  fs::path folder;  // under root
  fs::path mount;   // under root: the walk up to ancestors stops here
  bool version2 = false;
};

std::optional<CgroupFolder> memory_cgroup(const fs::path& root) {
  const std::optional<std::string> cgroups = read_file(root / "proc/self/cgroup");
  const std::optional<std::string> mounts = read_file(root / "proc/self/mountinfo");
  if (!cgroups || !mounts) return std::nullopt;
  // "ID:controllers:path"; v1's memory controller is listed by name, v2 is "0::path".
  std::string v1_path, v2_path;
  bool has_v1 = false, has_v2 = false;
  std::istringstream lines(*cgroups);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controllers.empty() && line.compare(0, first, "0") == 0) {
      has_v2 = true;
      v2_path = path;
    }
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');)
      if (name == "memory") {
        has_v1 = true;
        v1_path = path;
      }
  }
  // mountinfo: "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS".
  std::istringstream mount_lines(*mounts);
  for (std::string line; std::getline(mount_lines, line);) {
    const std::vector<std::string> w = words(line);
    const auto dash = std::find(w.begin(), w.end(), "-");
    if (w.size() < 5 || dash == w.end() || dash + 3 > w.end()) continue;
    const std::string& type = *(dash + 1);
    const std::string& options = *(dash + 3);
    const bool v1_memory = type == "cgroup" && ("," + options + ",").find(",memory,") != std::string::npos;
    const bool v2 = type == "cgroup2";
    if (!(v1_memory && has_v1) && !(v2 && has_v2)) continue;
    std::string path = v1_memory ? v1_path : v2_path;
    const std::string& mount_root = w[3];
    // A container sees its own cgroup as the mount's root: the path is relative to that.
    if (mount_root != "/" && path.rfind(mount_root, 0) == 0) path = path.substr(mount_root.size());
    const fs::path mount = normal_folder(root / fs::path(w[4]).relative_path());
    const fs::path folder = normal_folder(mount / fs::path(path).relative_path());
    // A v2 hierarchy without the memory controller has no memory files; keep looking.
    if (v2 && !fs::exists(folder / "memory.max") && !fs::exists(folder / "memory.current") && has_v1) continue;
    return CgroupFolder{folder, mount, v2};
  }
  return std::nullopt;
}

struct CgroupLimit {
  std::size_t headroom = kUnknown;  // what the tightest limit leaves
  std::size_t limit = 0;
  fs::path file;
};

// The tightest memory limit on the cgroup or its ancestors: limit minus what is charged to it,
// page cache the kernel could drop (inactive files) not counted as used.
std::optional<CgroupLimit> cgroup_limit(const CgroupFolder& cgroup) {
  std::optional<CgroupLimit> tightest;
  for (fs::path folder = cgroup.folder;; folder = folder.parent_path()) {
    const fs::path limit_file = folder / (cgroup.version2 ? "memory.max" : "memory.limit_in_bytes");
    const std::optional<std::size_t> limit = read_number(limit_file);  // v2 "max" does not parse: none
    if (limit && *limit < kNoLimitAbove) {
      const std::size_t usage =
          read_number(folder / (cgroup.version2 ? "memory.current" : "memory.usage_in_bytes")).value_or(0);
      const std::size_t reclaimable =
          stat_field(folder / "memory.stat", cgroup.version2 ? "inactive_file" : "total_inactive_file");
      const std::size_t used = usage > reclaimable ? usage - reclaimable : 0;
      const std::size_t headroom = *limit > used ? *limit - used : 0;
      if (!tightest || headroom < tightest->headroom) tightest = CgroupLimit{headroom, *limit, limit_file};
    }
    if (folder == cgroup.mount || folder == folder.parent_path()) break;
  }
  return tightest;
}

// What this process holds now (resident pages), from /proc/self/statm.
std::size_t resident_bytes(const fs::path& root) {
  const std::optional<std::string> statm = read_file(root / "proc/self/statm");
  if (!statm) return 0;
  const std::vector<std::string> w = words(*statm);
  std::size_t pages = 0;
  if (w.size() < 2 || std::from_chars(w[1].data(), w[1].data() + w[1].size(), pages).ec != std::errc()) return 0;
  const long page = ::sysconf(_SC_PAGESIZE);
  return pages * static_cast<std::size_t>(page > 0 ? page : 4096);
}

}  // namespace

std::optional<std::size_t> parse_byte_count(const std::string& text) {
  std::size_t value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const auto result = std::from_chars(begin, end, value);
  if (result.ec != std::errc() || result.ptr == begin || value == 0) return std::nullopt;
  std::string unit(result.ptr, end);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
  if (unit.size() == 2 && unit.back() == 'I') unit.pop_back();
  const std::string units = "KMGT";
  if (unit.empty()) return value;
  const std::size_t power = units.find(unit);
  if (unit.size() != 1 || power == std::string::npos) return std::nullopt;
  for (std::size_t i = 0; i <= power; ++i) {
    if (value > std::numeric_limits<std::size_t>::max() / 1024) return std::nullopt;
    value *= 1024;
  }
  return value;
}

HostMemory host_memory_from(const fs::path& root) {
  HostMemory memory;
  const std::optional<std::string> meminfo = read_file(root / "proc/meminfo");
  if (!meminfo) {
    memory.available_bytes = kUnknown;
    memory.source = "unknown (no /proc/meminfo)";
    return memory;
  }
  std::size_t headroom = 0;
  std::string source = "MemAvailable in /proc/meminfo";
  if (const std::optional<std::size_t> available = meminfo_field(*meminfo, "MemAvailable")) {
    headroom = *available;
  } else {
    // Kernels before 3.14 have no MemAvailable: free memory and the page cache.
    for (const char* key : {"MemFree", "Buffers", "Cached"}) headroom += meminfo_field(*meminfo, key).value_or(0);
    source = "MemFree + Buffers + Cached in /proc/meminfo";
  }
  if (const std::optional<CgroupFolder> cgroup = memory_cgroup(root)) {
    const std::optional<CgroupLimit> limit = cgroup_limit(*cgroup);
    if (limit && limit->headroom < headroom) {
      headroom = limit->headroom;
      const fs::path shown = "/" / limit->file.lexically_relative(root);
      source = "the cgroup memory limit of " + byte_size(limit->limit) + " in " + shown.lexically_normal().string() +
               ", less what its processes use";
    }
  }
  const std::size_t held = resident_bytes(root);
  memory.available_bytes = headroom + held;
  memory.source = source + ", plus the " + byte_size(held) + " hyperfuse holds";
  return memory;
}

std::size_t peak_resident_bytes() {
  const std::optional<std::string> status = read_file("/proc/self/status");
  return status ? meminfo_field(*status, "VmHWM").value_or(0) : 0;
}

HostMemory host_memory() {
  const char* value = std::getenv(kAvailableMemoryVariable);
  if (value == nullptr || *value == '\0') return host_memory_from("/");
  const std::optional<std::size_t> bytes = parse_byte_count(value);
  if (!bytes) {
    throw InputError(std::string(kAvailableMemoryVariable) + "='" + value +
                     "' is not a memory size; write a whole number of bytes, optionally followed by K, M, G or T "
                     "(e.g. 8G), or unset it to use the machine's available memory");
  }
  return HostMemory{*bytes, std::string(kAvailableMemoryVariable) + "=" + value};
}

}  // namespace hf
