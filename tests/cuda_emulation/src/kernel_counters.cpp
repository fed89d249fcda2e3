// The profiler-like kernel counters (kernel_counters.hpp). A block's threads run as fibers one
// after another between barriers and collectives, so the lanes of one warp instruction arrive at
// different times: a lane's n-th access from one call site (pc) in a barrier interval is paired
// with the other lanes' n-th access from that site, which is the same dynamic instruction when the
// warp does not diverge. At the interval's end (a barrier, or the block's end) each such warp
// instruction is costed as the hardware would serve it (README.md "Kernel counters").
#include "tests/cuda_emulation/src/kernel_counters.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/cuda_emulation/emulation_control.hpp"

namespace hf_emu {
namespace {

constexpr unsigned kLanes = 32;
constexpr unsigned kBanks = 32;
constexpr unsigned kSchedulers = 4;           // warp w issues from scheduler w % 4 (sm_70 and later)
constexpr std::size_t kWavefrontBytes = 128;  // one shared-memory wavefront: 32 banks of 4 bytes
constexpr std::size_t kSectorBytes = 32;

// Opt-in (HYPERFUSE_EMU_KERNEL_COUNTERS=1 beside HYPERFUSE_EMU_COUNTERS): the counts cost time,
// and the JSON's flat readers (bench/fused_model --counters) expect the launch and copy counters.
std::atomic<bool>& switched_on() {
  static std::atomic<bool> on{[] {
    bool wanted = false;
    if (const char* kernel = std::getenv("HYPERFUSE_EMU_KERNEL_COUNTERS")) {
      const std::string value = kernel;
      if (value != "0" && value != "1") {
        std::fprintf(stderr,
                     "hyperfuse CUDA emulation: HYPERFUSE_EMU_KERNEL_COUNTERS='%s' is not 0 or 1; see "
                     "tests/cuda_emulation/README.md\n",
                     kernel);
        std::exit(2);
      }
      wanted = value == "1";
    }
    return wanted && std::getenv("HYPERFUSE_EMU_COUNTERS") != nullptr;
  }()};
  return on;
}

// One warp instruction: the address each lane gave.
struct WarpAccess {
  std::uint32_t lanes = 0;
  std::uint32_t bytes = 0;
  std::array<std::uintptr_t, kLanes> address{};
};

// Instructions are grouped by warp, call site and memory space.
struct SiteKey {
  std::uintptr_t pc;
  std::uint32_t unit;  // thread (for occurrence counts) or warp, times 2, plus 1 for shared
  bool operator==(const SiteKey& o) const { return pc == o.pc && unit == o.unit; }
};
struct SiteHash {
  std::size_t operator()(const SiteKey& k) const {
    return std::hash<std::uintptr_t>()(k.pc * 0x9E3779B97F4A7C15ull ^ k.unit);
  }
};

struct KernelTotals {
  KernelCounters counters;
  std::map<std::string, std::size_t> phase_index;
};

struct Registry {
  std::mutex mutex;
  std::vector<KernelTotals> kernels;
  std::map<std::string, std::size_t> index;
};

Registry& registry() {
  static Registry* r = new Registry;  // read at exit by the counters' writer
  return *r;
}

// The state of the launch running on this OS thread.
struct LaunchCounts {
  bool counting = false;
  const GridLaunch* launch = nullptr;
  unsigned warps = 0;
  std::unordered_map<SiteKey, std::uint32_t, SiteHash> occurrences;             // per thread and site
  std::unordered_map<SiteKey, std::vector<WarpAccess>, SiteHash> instructions;  // per warp and site
  std::vector<bool> warp_active;
  std::vector<std::uint64_t> warp_accesses;  // lane accesses per warp in the interval
  std::string last_phase;                    // the barrier that ended the previous interval
  unsigned phase_run = 0;                    // how many intervals in a row it ended
  AccessCounts total;
  std::map<std::string, AccessCounts> phases;
  std::vector<std::string> phase_order;
  std::uint64_t blocks = 0, barriers = 0;
};

thread_local LaunchCounts tls;

// Wavefronts of one shared-memory warp instruction: 4-byte and narrower accesses are served for
// the whole warp at once, 8-byte ones per half-warp and 16-byte ones per quarter-warp (each such
// phase moves at most 128 bytes); within a phase each bank serves one 4-byte word per wavefront,
// lanes reading the same word share it (broadcast).
std::uint64_t shared_wavefronts(const WarpAccess& a) {
  const unsigned lanes_per_phase = a.bytes <= 4 ? kLanes : static_cast<unsigned>(kWavefrontBytes / a.bytes);
  std::uint64_t wavefronts = 0;
  std::vector<std::uintptr_t> words;
  for (unsigned first = 0; first < kLanes; first += lanes_per_phase) {
    words.clear();
    for (unsigned lane = first; lane < first + lanes_per_phase; ++lane) {
      if (!(a.lanes >> lane & 1u)) continue;
      for (std::uintptr_t w = a.address[lane] / 4; w <= (a.address[lane] + a.bytes - 1) / 4; ++w) words.push_back(w);
    }
    if (words.empty()) continue;
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    std::array<unsigned, kBanks> per_bank{};
    unsigned most = 0;
    for (const std::uintptr_t w : words) most = std::max(most, ++per_bank[w % kBanks]);
    wavefronts += most;
  }
  return wavefronts;
}

std::uint64_t active_lanes(const WarpAccess& a) { return static_cast<std::uint64_t>(__builtin_popcount(a.lanes)); }

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// Sectors touched, and the sectors the distinct bytes would need if packed.
void global_sectors(const WarpAccess& a, std::uint64_t& sectors, std::uint64_t& minimum) {
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> ranges;
  for (unsigned lane = 0; lane < kLanes; ++lane)
    if (a.lanes >> lane & 1u) ranges.emplace_back(a.address[lane], a.address[lane] + a.bytes);
  std::sort(ranges.begin(), ranges.end());
  std::uint64_t distinct_bytes = 0, count = 0;
  std::uintptr_t covered = 0;  // bytes below this are counted
  std::uintptr_t last_sector = ~std::uintptr_t{0};
  for (const auto& [begin, end] : ranges) {
    const std::uintptr_t from = std::max(begin, covered);
    if (end > from) distinct_bytes += end - from;
    covered = std::max(covered, end);
    for (std::uintptr_t s = begin / kSectorBytes; s <= (end - 1) / kSectorBytes; ++s) {
      if (last_sector != ~std::uintptr_t{0} && s <= last_sector) continue;
      ++count;
      last_sector = s;
    }
  }
  sectors = count;
  minimum = std::max<std::uint64_t>(1, ceil_div(distinct_bytes, kSectorBytes));
}

void add(AccessCounts& into, const AccessCounts& from) {
  into.shared_requests += from.shared_requests;
  into.shared_wavefronts += from.shared_wavefronts;
  into.shared_minimum_wavefronts += from.shared_minimum_wavefronts;
  into.global_requests += from.global_requests;
  into.global_sectors += from.global_sectors;
  into.global_minimum_sectors += from.global_minimum_sectors;
  into.intervals += from.intervals;
  into.intervals_with_activity += from.intervals_with_activity;
  if (into.active_warps_per_scheduler.size() < from.active_warps_per_scheduler.size())
    into.active_warps_per_scheduler.resize(from.active_warps_per_scheduler.size());
  for (std::size_t k = 0; k < from.active_warps_per_scheduler.size(); ++k)
    into.active_warps_per_scheduler[k] += from.active_warps_per_scheduler[k];
  into.intervals_with_two_warps_per_scheduler += from.intervals_with_two_warps_per_scheduler;
  if (into.busy_warps_per_scheduler.size() < from.busy_warps_per_scheduler.size())
    into.busy_warps_per_scheduler.resize(from.busy_warps_per_scheduler.size());
  for (std::size_t k = 0; k < from.busy_warps_per_scheduler.size(); ++k)
    into.busy_warps_per_scheduler[k] += from.busy_warps_per_scheduler[k];
  into.intervals_with_two_busy_warps_per_scheduler += from.intervals_with_two_busy_warps_per_scheduler;
}

// "fused_training.cu:412" for a barrier's call site.
std::string phase_name(const Site& site) {
  if (site.file == nullptr) return "end of block";
  const char* slash = std::strrchr(site.file, '/');
  return std::string(slash != nullptr ? slash + 1 : site.file) + ":" + std::to_string(site.line);
}

// Costs the interval's warp instructions and warps, into the launch's totals and the phase's.
void end_interval(LaunchCounts& s, const Site& site) {
  AccessCounts interval;
  interval.intervals = 1;
  for (const auto& [key, accesses] : s.instructions) {
    const bool shared = key.unit & 1u;
    for (const WarpAccess& a : accesses) {
      if (a.lanes == 0) continue;
      if (shared) {
        ++interval.shared_requests;
        interval.shared_wavefronts += shared_wavefronts(a);
        interval.shared_minimum_wavefronts +=
            std::max<std::uint64_t>(1, ceil_div(active_lanes(a) * a.bytes, kWavefrontBytes));
      } else {
        std::uint64_t sectors = 0, minimum = 0;
        global_sectors(a, sectors, minimum);
        ++interval.global_requests;
        interval.global_sectors += sectors;
        interval.global_minimum_sectors += minimum;
      }
    }
  }
  std::array<unsigned, kSchedulers> active{}, busy{};
  bool any = false;
  const std::uint64_t most = s.warps == 0 ? 0 : *std::max_element(s.warp_accesses.begin(), s.warp_accesses.end());
  for (unsigned w = 0; w < s.warps; ++w) {
    if (!s.warp_active[w]) continue;
    ++active[w % kSchedulers];
    any = true;
    if (most > 0 && s.warp_accesses[w] * 2 >= most) ++busy[w % kSchedulers];
  }
  if (any) {
    interval.intervals_with_activity = 1;
    const unsigned schedulers = std::min(s.warps, kSchedulers);  // those holding a warp of the block
    interval.active_warps_per_scheduler.assign(s.warps / kSchedulers + 2, 0);
    interval.busy_warps_per_scheduler.assign(s.warps / kSchedulers + 2, 0);
    bool two_everywhere = true, two_busy_everywhere = true;
    for (unsigned q = 0; q < schedulers; ++q) {
      ++interval.active_warps_per_scheduler[active[q]];
      ++interval.busy_warps_per_scheduler[busy[q]];
      two_everywhere = two_everywhere && active[q] >= 2;
      two_busy_everywhere = two_busy_everywhere && busy[q] >= 2;
    }
    interval.intervals_with_two_warps_per_scheduler = two_everywhere ? 1 : 0;
    interval.intervals_with_two_busy_warps_per_scheduler = two_busy_everywhere ? 1 : 0;
  }
  add(s.total, interval);
  const std::string barrier = phase_name(site);
  s.phase_run = barrier == s.last_phase ? s.phase_run + 1 : 1;
  s.last_phase = barrier;
  const std::string name = site.file == nullptr ? barrier : barrier + " #" + std::to_string(s.phase_run);
  auto [it, inserted] = s.phases.try_emplace(name);
  if (inserted) s.phase_order.push_back(name);
  add(it->second, interval);
  s.occurrences.clear();
  s.instructions.clear();
  std::fill(s.warp_active.begin(), s.warp_active.end(), false);
  std::fill(s.warp_accesses.begin(), s.warp_accesses.end(), 0);
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string access_json(const AccessCounts& c) {
  const auto list = [](const std::vector<std::uint64_t>& values) {
    std::string text;
    for (std::size_t k = 0; k < values.size(); ++k) text += (k == 0 ? "" : ", ") + std::to_string(values[k]);
    return "[" + text + "]";
  };
  const auto share = [&](std::uint64_t intervals) {
    return c.intervals_with_activity == 0
               ? 0.0
               : static_cast<double>(intervals) / static_cast<double>(c.intervals_with_activity);
  };
  return "{\"shared_requests\": " + std::to_string(c.shared_requests) +
         ", \"shared_wavefronts\": " + std::to_string(c.shared_wavefronts) +
         ", \"shared_minimum_wavefronts\": " + std::to_string(c.shared_minimum_wavefronts) +
         ", \"bank_conflict_factor\": " + number(c.bank_conflict_factor()) +
         ", \"global_requests\": " + std::to_string(c.global_requests) +
         ", \"global_sectors\": " + std::to_string(c.global_sectors) +
         ", \"global_minimum_sectors\": " + std::to_string(c.global_minimum_sectors) +
         ", \"sectors_per_minimum\": " + number(c.sectors_per_minimum()) +
         ", \"intervals\": " + std::to_string(c.intervals) +
         ", \"intervals_with_activity\": " + std::to_string(c.intervals_with_activity) +
         ", \"active_warps_per_scheduler_histogram\": " + list(c.active_warps_per_scheduler) +
         ", \"mean_active_warps_per_scheduler\": " + number(c.mean_active_warps_per_scheduler()) +
         ", \"share_of_intervals_with_two_warps_per_scheduler\": " +
         number(share(c.intervals_with_two_warps_per_scheduler)) +
         ", \"busy_warps_per_scheduler_histogram\": " + list(c.busy_warps_per_scheduler) +
         ", \"mean_busy_warps_per_scheduler\": " + number(c.mean_busy_warps_per_scheduler()) +
         ", \"share_of_intervals_with_two_busy_warps_per_scheduler\": " +
         number(share(c.intervals_with_two_busy_warps_per_scheduler)) + "}";
}

}  // namespace

double AccessCounts::bank_conflict_factor() const {
  return shared_minimum_wavefronts == 0
             ? 1.0
             : static_cast<double>(shared_wavefronts) / static_cast<double>(shared_minimum_wavefronts);
}

double AccessCounts::sectors_per_minimum() const {
  return global_minimum_sectors == 0
             ? 1.0
             : static_cast<double>(global_sectors) / static_cast<double>(global_minimum_sectors);
}

namespace {
double histogram_mean(const std::vector<std::uint64_t>& histogram) {
  std::uint64_t pairs = 0, warps = 0;
  for (std::size_t k = 0; k < histogram.size(); ++k) {
    pairs += histogram[k];
    warps += k * histogram[k];
  }
  return pairs == 0 ? 0.0 : static_cast<double>(warps) / static_cast<double>(pairs);
}
}  // namespace

double AccessCounts::mean_active_warps_per_scheduler() const { return histogram_mean(active_warps_per_scheduler); }

double AccessCounts::mean_busy_warps_per_scheduler() const { return histogram_mean(busy_warps_per_scheduler); }

std::vector<KernelCounters> kernel_counters() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<KernelCounters> result;
  for (const KernelTotals& k : r.kernels) result.push_back(k.counters);
  return result;
}

std::string kernel_counters_json(const std::vector<KernelCounters>& kernels) {
  std::string text = "{";
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const KernelCounters& k = kernels[i];
    const double blocks = k.blocks == 0 ? 1.0 : static_cast<double>(k.blocks);
    text += (i == 0 ? "\"" : ", \"") + k.kernel + "\": {\"kernel_launches\": " + std::to_string(k.launches) +
            ", \"blocks\": " + std::to_string(k.blocks) + ", \"barriers\": " + std::to_string(k.barriers) +
            ", \"barriers_per_block\": " + number(static_cast<double>(k.barriers) / blocks) +
            ", \"total\": " + access_json(k.total) + ", \"phases\": {";
    for (std::size_t p = 0; p < k.phases.size(); ++p)
      text += (p == 0 ? "\"" : ", \"") + k.phases[p].first + "\": " + access_json(k.phases[p].second);
    text += "}}";
  }
  return text + "}";
}

void enable_kernel_counters(bool on) { switched_on() = on; }

bool kernel_counters_enabled() { return switched_on(); }

namespace profiler {

void clear() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.kernels.clear();
  r.index.clear();
}

bool enabled() { return switched_on().load(std::memory_order_relaxed); }

void begin_launch(const GridLaunch& launch) {
  LaunchCounts& s = tls;
  s = LaunchCounts{};
  s.counting = enabled();
  s.launch = &launch;
}

void begin_block(unsigned thread_count) {
  LaunchCounts& s = tls;
  if (!s.counting) return;
  s.warps = (thread_count + kLanes - 1) / kLanes;
  s.warp_active.assign(s.warps, false);
  s.warp_accesses.assign(s.warps, 0);
  s.last_phase.clear();
  s.phase_run = 0;
  ++s.blocks;
}

void on_barrier(Site site) {
  LaunchCounts& s = tls;
  if (!s.counting) return;
  ++s.barriers;
  end_interval(s, site);
}

void end_block() {
  LaunchCounts& s = tls;
  if (!s.counting) return;
  end_interval(s, Site{nullptr, 0});
}

void end_launch() {
  LaunchCounts& s = tls;
  if (!s.counting) return;
  s.counting = false;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto [it, inserted] = r.index.try_emplace(s.launch->kernel_name, r.kernels.size());
  if (inserted) {
    r.kernels.emplace_back();
    r.kernels.back().counters.kernel = s.launch->kernel_name;
  }
  KernelTotals& k = r.kernels[it->second];
  ++k.counters.launches;
  k.counters.blocks += s.blocks;
  k.counters.barriers += s.barriers;
  add(k.counters.total, s.total);
  for (const std::string& name : s.phase_order) {
    auto [phase, fresh] = k.phase_index.try_emplace(name, k.counters.phases.size());
    if (fresh) k.counters.phases.emplace_back(name, AccessCounts{});
    add(k.counters.phases[phase->second].second, s.phases[name]);
  }
  s.occurrences.clear();
  s.instructions.clear();
}

void on_collective(unsigned thread) {
  LaunchCounts& s = tls;
  if (!s.counting || thread / kLanes >= s.warps) return;
  s.warp_active[thread / kLanes] = true;
}

void on_access(unsigned thread, bool shared, std::uintptr_t address, std::size_t bytes, const void* pc) {
  LaunchCounts& s = tls;
  if (!s.counting || bytes == 0 || bytes > 16) return;  // wider: a memcpy, not one instruction
  const unsigned warp = thread / kLanes;
  if (warp >= s.warps) return;
  s.warp_active[warp] = true;
  ++s.warp_accesses[warp];
  const auto site = reinterpret_cast<std::uintptr_t>(pc);
  const std::uint32_t space = shared ? 1u : 0u;
  const std::uint32_t n = s.occurrences[SiteKey{site, thread * 2 + space}]++;
  std::vector<WarpAccess>& instances = s.instructions[SiteKey{site, warp * 2 + space}];
  if (instances.size() <= n) instances.resize(n + 1);
  WarpAccess& a = instances[n];
  const unsigned lane = thread % kLanes;
  a.lanes |= 1u << lane;
  a.bytes = std::max(a.bytes, static_cast<std::uint32_t>(bytes));
  a.address[lane] = address;
}

}  // namespace profiler
}  // namespace hf_emu
