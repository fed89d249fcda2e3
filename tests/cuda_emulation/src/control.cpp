// The in-process control API of emulation_control.hpp, and the CUDA backend's training-step hook.
#include <stdexcept>

#include "tests/cuda_emulation/emulation_control.hpp"
#include "tests/cuda_emulation/src/runtime_state.hpp"

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
}

std::vector<std::size_t> configured_device_memory() {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  std::vector<std::size_t> memory;
  for (const Device& device : state.devices) memory.push_back(device.total_bytes);
  return memory;
}

void clear_errors() {
  Runtime& state = runtime();
  std::lock_guard<std::recursive_mutex> executing(state.execution);
  std::lock_guard<std::mutex> lock(state.mutex);
  const auto drop_work = [](Stream& stream) {
    stream.completed += stream.queue.size();
    stream.queue.clear();
  };
  for (Device& device : state.devices) {
    device.sticky = cudaSuccess;
    drop_work(*device.legacy_stream);
    for (const std::weak_ptr<Stream>& weak : device.streams)
      if (const std::shared_ptr<Stream> stream = weak.lock()) drop_work(*stream);
  }
  last_error() = cudaSuccess;
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
