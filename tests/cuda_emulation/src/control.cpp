// The in-process control API of emulation_control.hpp, and the CUDA backend's training-step hook.
#include <stdexcept>

#include "tests/cuda_emulation/emulation_control.hpp"
#include "tests/cuda_emulation/src/kernel_counters.hpp"
#include "tests/cuda_emulation/src/runtime_state.hpp"
#include "tests/cuda_emulation/src/streams.hpp"

namespace hf_emu {

Counters counters() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.counters;
}

void reset_counters() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.counters = Counters{};
  profiler::clear();
}

std::string counters_json(const Counters& c) {
  return "{\"launches\": " + std::to_string(c.launches) + ", \"blas_calls\": " + std::to_string(c.blas_calls) +
         ", \"copies_h2d\": " + std::to_string(c.copies_h2d) + ", \"copies_d2h\": " + std::to_string(c.copies_d2h) +
         ", \"bytes_h2d\": " + std::to_string(c.bytes_h2d) + ", \"bytes_d2h\": " + std::to_string(c.bytes_d2h) +
         ", \"training_steps\": " + std::to_string(c.training_steps) +
         ", \"fused_epoch_launches\": " + std::to_string(c.fused_epoch_launches) + "}";
}

void count_training_steps(long long steps) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.counters.training_steps += static_cast<std::uint64_t>(steps);
}

void count_fused_epoch_launch() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  ++state.counters.fused_epoch_launches;
}

Faults faults() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.faults;
}

void set_faults(const Faults& faults) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.faults = faults;
  // Counted from now, so "the Nth" means the Nth after this call.
  state.allocations_made = 0;
  state.launches_made = 0;
  for (Device& device : state.devices) device.launches = 0;
}

void configure_devices(int count, const std::vector<std::size_t>& memory) {
  if (count < 0) throw std::logic_error("configure_devices: negative device count");
  if (memory.size() > 1 && static_cast<int>(memory.size()) != count)
    throw std::logic_error("configure_devices: give one memory size, or one per device");
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  for (const auto& [begin, allocation] : state.allocations) {
    if (!allocation.pinned())
      throw std::logic_error("configure_devices: " + describe(allocation) + " is still allocated");
  }
  if (!state.streams.empty()) throw std::logic_error("configure_devices: a stream created by the program still exists");
  state.configure_devices(count, memory);
  stream_order::reset();  // its streams are gone
}

std::vector<std::size_t> configured_device_memory() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  std::vector<std::size_t> memory;
  for (const Device& device : state.devices) memory.push_back(device.total_bytes);
  return memory;
}

std::size_t device_bytes_allocated(int device) {
  Runtime& state = runtime();
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (device < 0 || device >= static_cast<int>(state.devices.size()))
      throw std::out_of_range("device_bytes_allocated: no emulated device " + std::to_string(device));
  }
  // A stream-ordered free (cudaFreeAsync) returns its memory when its stream reaches it.
  synchronize_device(device);
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.devices[static_cast<std::size_t>(device)].used_bytes;
}

void set_device_profiles(const std::vector<std::string>& keys) {
  std::vector<const DeviceProfile*> profiles;
  for (const std::string& key : keys) {
    const DeviceProfile* profile = find_profile(key);
    if (profile == nullptr)
      throw std::logic_error("set_device_profiles: no profile '" + key + "'; one of " + profile_keys());
    profiles.push_back(profile);
  }
  if (profiles.empty()) throw std::logic_error("set_device_profiles: name at least one profile");
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.profiles = profiles;
}

std::vector<std::string> device_profiles() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  std::vector<std::string> keys;
  for (const DeviceProfile* profile : state.profiles) keys.push_back(profile->key);
  return keys;
}

void set_built_architectures(const std::string& architectures) {
  std::vector<BuiltArchitecture> list;
  if (!parse_architectures(architectures, list))
    throw std::logic_error("set_built_architectures: '" + architectures + "' is not a CMake architecture list");
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.built_architectures = list;
}

std::string built_architectures() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  return architectures_text(state.built_architectures);
}

void clear_errors() {
  Runtime& state = runtime();
  std::lock_guard<std::recursive_mutex> executing(state.execution);
  std::lock_guard<std::mutex> lock(state.mutex);
  const auto drop_work = [](Stream& stream) {
    stream.completed += stream.queue.size();
    stream.queue.clear();
  };
  // Every stream is idle now, as if the host had waited for each.
  const auto drop_and_wait = [&](Stream& stream) {
    drop_work(stream);
    join(state.host_clock, stream.clock);
  };
  for (Device& device : state.devices) {
    device.sticky = cudaSuccess;
    drop_and_wait(*device.legacy_stream);
    for (const std::weak_ptr<Stream>& weak : device.streams)
      if (const std::shared_ptr<Stream> stream = weak.lock()) drop_and_wait(*stream);
  }
  last_error() = cudaSuccess;
}

void capture_shared_memory(const std::string& kernel_name) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.capture_kernel = kernel_name;
}

std::vector<std::vector<unsigned char>> captured_shared_memory() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.captured_shared;
}

std::string last_violation() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.last_violation;
}

std::uint64_t violation_count() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.violations;
}

}  // namespace hf_emu
