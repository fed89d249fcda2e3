// The emulated machine's state: built on first use from the environment (README.md lists the
// variables), the per thread state, error bookkeeping, and the counters file written at exit.
#include "tests/cuda_emulation/src/runtime_state.hpp"
#include "tests/cuda_emulation/src/kernel_counters.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace hf_emu {
namespace {

[[noreturn]] void bad_variable(const char* name, const std::string& value, const char* expected) {
  std::fprintf(stderr, "hyperfuse CUDA emulation: %s='%s' is not %s; see tests/cuda_emulation/README.md\n", name,
               value.c_str(), expected);
  std::exit(2);
}

const char* variable(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

long long whole_number(const char* name, const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) bad_variable(name, text, "a whole number");
  return value;
}

// "68719476736", "64G", "512M", "4096K": bytes, with an optional binary suffix.
std::size_t byte_count(const char* name, const std::string& text) {
  std::string digits = text;
  std::size_t scale = 1;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'K':
      case 'k': scale = std::size_t{1} << 10; break;
      case 'M':
      case 'm': scale = std::size_t{1} << 20; break;
      case 'G':
      case 'g': scale = std::size_t{1} << 30; break;
      case 'T':
      case 't': scale = std::size_t{1} << 40; break;
      default: break;
    }
    if (scale != 1) digits.pop_back();
  }
  const long long value = whole_number(name, digits);
  if (value <= 0) bad_variable(name, text, "a positive byte count (like 85899345920 or 80G)");
  return static_cast<std::size_t>(value) * scale;
}

void write_counters_at_exit() {
  Runtime& state = runtime();
  std::string path;
  Counters values;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    path = state.counters_path;
    values = state.counters;
  }
  if (path.empty()) return;
  const std::size_t pid_at = path.find("%p");
  if (pid_at != std::string::npos) path.replace(pid_at, 2, std::to_string(getpid()));
  std::ofstream out(path);
  std::string json = counters_json(values);
  // The kernels' profiler-like counters, when counted (kernel_counters.hpp).
  const std::vector<KernelCounters> kernels = kernel_counters();
  if (!kernels.empty()) json.insert(json.size() - 1, ", \"kernels\": " + kernel_counters_json(kernels));
  out << json << "\n";
  if (!out) std::fprintf(stderr, "hyperfuse CUDA emulation: cannot write the counters to %s\n", path.c_str());
}

thread_local int tls_current_device = 0;
thread_local cudaError_t tls_last_error = cudaSuccess;

}  // namespace

const void*& api_caller() {
  thread_local const void* caller = nullptr;
  return caller;
}

std::string describe(const Allocation& allocation) {
  if (allocation.pinned())
    return "pinned host allocation #" + std::to_string(allocation.id) + " (" + std::to_string(allocation.size) +
           " bytes)";
  return "device allocation #" + std::to_string(allocation.id) + " (" + std::to_string(allocation.size) +
         " bytes on device " + std::to_string(allocation.device) + ")";
}

// "t4", "t4,h100": a profile per device.
std::vector<const DeviceProfile*> profile_list(const char* name, const std::string& text) {
  std::vector<const DeviceProfile*> list;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string key = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const DeviceProfile* profile = find_profile(key);
    if (profile == nullptr) bad_variable(name, text, ("a comma list of profiles from " + profile_keys()).c_str());
    list.push_back(profile);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return list;
}

Runtime::Runtime() {
  profiles = {&default_profile()};
  if (const char* v = variable("HYPERFUSE_EMU_PROFILE")) profiles = profile_list("HYPERFUSE_EMU_PROFILE", v);
  if (!parse_architectures(kDefaultBuiltArchitectures, built_architectures)) std::abort();
  if (const char* v = variable("HYPERFUSE_EMU_BUILT_ARCHITECTURES")) {
    if (!parse_architectures(v, built_architectures))
      bad_variable("HYPERFUSE_EMU_BUILT_ARCHITECTURES", v,
                   "a CMake architecture list like 75-real;90 (entries NN, NN-real or NN-virtual)");
  }
  int count = static_cast<int>(profiles.size());
  if (const char* v = variable("HYPERFUSE_EMU_DEVICES")) {
    const long long n = whole_number("HYPERFUSE_EMU_DEVICES", v);
    if (n < 0 || n > 64) bad_variable("HYPERFUSE_EMU_DEVICES", v, "a device count from 0 to 64");
    if (profiles.size() > 1 && n != static_cast<long long>(profiles.size()))
      bad_variable("HYPERFUSE_EMU_DEVICES", v, "the number of profiles HYPERFUSE_EMU_PROFILE lists");
    count = static_cast<int>(n);
  }
  std::vector<std::size_t> memory;
  if (const char* v = variable("HYPERFUSE_EMU_DEVICE_MEMORY")) {
    std::string list = v;
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t comma = list.find(',', start);
      const std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      memory.push_back(byte_count("HYPERFUSE_EMU_DEVICE_MEMORY", item));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (memory.size() > 1 && static_cast<int>(memory.size()) != count)
      bad_variable("HYPERFUSE_EMU_DEVICE_MEMORY", v, "one byte count, or one per device of HYPERFUSE_EMU_DEVICES");
  }
  configure_devices(count, memory);

  if (const char* v = variable("HYPERFUSE_EMU_FAIL_ALLOCATION"))
    faults.fail_allocation = whole_number("HYPERFUSE_EMU_FAIL_ALLOCATION", v);
  if (const char* v = variable("HYPERFUSE_EMU_FAIL_LAUNCH"))
    faults.fail_launch = whole_number("HYPERFUSE_EMU_FAIL_LAUNCH", v);
  if (const char* v = variable("HYPERFUSE_EMU_LOSE_DEVICE_AFTER")) {
    const std::string text = v;
    const std::size_t at = text.find('@');
    faults.lose_device_after = whole_number("HYPERFUSE_EMU_LOSE_DEVICE_AFTER", text.substr(0, at));
    if (at != std::string::npos)
      faults.lost_device = static_cast<int>(whole_number("HYPERFUSE_EMU_LOSE_DEVICE_AFTER", text.substr(at + 1)));
  }
  if (const char* v = variable("HYPERFUSE_EMU_DRIVER_VERSION")) {
    const long long version = whole_number("HYPERFUSE_EMU_DRIVER_VERSION", v);
    if (version < 0) bad_variable("HYPERFUSE_EMU_DRIVER_VERSION", v, "a CUDA version like 12080 (0: no driver)");
    faults.driver_version = static_cast<int>(version);
  }
  if (const char* v = variable("HYPERFUSE_EMU_MULTIPROCESSORS")) {
    const long long n = whole_number("HYPERFUSE_EMU_MULTIPROCESSORS", v);
    if (n < 1 || n > 1024) bad_variable("HYPERFUSE_EMU_MULTIPROCESSORS", v, "a multiprocessor count from 1 to 1024");
    multiprocessors = static_cast<int>(n);
  }
  if (const char* v = variable("HYPERFUSE_EMU_ABORT_ON_VIOLATION")) abort_on_violation = std::string(v) != "0";
  if (const char* v = variable("HYPERFUSE_EMU_COUNTERS")) counters_path = v;
  profiler::enabled();  // reads (and checks) HYPERFUSE_EMU_KERNEL_COUNTERS with the others
  std::atexit(write_counters_at_exit);
}

// With HYPERFUSE_EMU_COUNTERS set the file is written even by a process that never calls CUDA.
const bool kCountersFileAtExit = [] {
  if (std::getenv("HYPERFUSE_EMU_COUNTERS") != nullptr) Runtime::instance();
  return true;
}();

Runtime& Runtime::instance() {
  // Never destroyed: stream work and the counters file may outlive static destruction order.
  static Runtime* state = new Runtime();
  return *state;
}

void Runtime::configure_devices(int count, const std::vector<std::size_t>& memory) {
  devices.clear();
  ++configuration;
  for (int d = 0; d < count; ++d) {
    Device device;
    device.index = d;
    device.profile = profiles[std::min<std::size_t>(static_cast<std::size_t>(d), profiles.size() - 1)];
    device.total_bytes = memory.empty() ? device.profile->memory_bytes : memory[memory.size() == 1 ? 0 : d];
    device.legacy_stream = std::make_shared<Stream>();
    device.legacy_stream->device = d;
    device.legacy_stream->legacy = true;
    devices.push_back(std::move(device));
  }
}

int Runtime::multiprocessors_of(const Device& device) const {
  return multiprocessors > 0 ? multiprocessors : device.profile->multiprocessors;
}

bool Runtime::has_kernel_image(const Device& device) const {
  return hf_emu::has_kernel_image(built_architectures, device.profile->major, device.profile->minor);
}

const Allocation* Runtime::find(const void* address) const {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  auto it = allocations.upper_bound(a);
  if (it == allocations.begin()) return nullptr;
  --it;
  const Allocation& allocation = it->second;
  if (a - allocation.begin >= std::max<std::size_t>(allocation.size, 1) || allocation.released) return nullptr;
  return &allocation;
}

int& current_device() { return tls_current_device; }
cudaError_t& last_error() { return tls_last_error; }

cudaError_t returned(cudaError_t error) {
  if (error != cudaSuccess) tls_last_error = error;
  return error;
}

cudaError_t device_missing(const Runtime& state, int device) {
  if (state.faults.driver_version < CUDART_VERSION) return cudaErrorInsufficientDriver;
  if (state.devices.empty()) return cudaErrorNoDevice;
  if (device < 0 || device >= static_cast<int>(state.devices.size())) return cudaErrorInvalidDevice;
  return cudaSuccess;
}

cudaError_t device_unusable(const Runtime& state, int device) {
  if (const cudaError_t error = device_missing(state, device)) return error;
  return state.devices[device].sticky;
}

void report_violation(const std::string& message) {
  Runtime& state = runtime();
  bool abort_now = false;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.last_violation = message;
    ++state.violations;
    abort_now = state.abort_on_violation;
  }
  std::cerr << "hyperfuse CUDA emulation: " << message << std::endl;
  if (abort_now) std::abort();
}

double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

}  // namespace hf_emu
