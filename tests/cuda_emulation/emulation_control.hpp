// In-process control of the CUDA emulation for tests, in plain C++ (no CUDA types): its counters,
// the faults it injects, the emulated devices, and the last program error it caught. The same
// settings come from environment variables in a process started from outside (README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hf_emu {

// What the emulated devices were asked to do since the start (or reset_counters()). Copies
// count cudaMemcpy*/cudaMemcpy2D* calls (memsets and device-to-device copies are not counted);
// training_steps is what the CUDA backend reported: steps summed over networks;
// fused_epoch_launches its launches of the fused training kernel (an epoch or a part of one).
struct Counters {
  std::uint64_t launches = 0;
  std::uint64_t blas_calls = 0;
  std::uint64_t copies_h2d = 0;
  std::uint64_t copies_d2h = 0;
  std::uint64_t bytes_h2d = 0;
  std::uint64_t bytes_d2h = 0;
  std::uint64_t training_steps = 0;
  std::uint64_t fused_epoch_launches = 0;
};
Counters counters();
void reset_counters();
// {"launches": ..., "blas_calls": ..., ..., "training_steps": ..., "fused_epoch_launches": ...}
std::string counters_json(const Counters& counters);

// Faults to inject. Counts are 1-based over the whole process (all devices); 0 or -1: none.
struct Faults {
  std::int64_t fail_allocation = 0;  // the Nth cudaMalloc fails with cudaErrorMemoryAllocation
  std::int64_t fail_launch = 0;      // the Nth launch fails with cudaErrorLaunchOutOfResources
  // After this many launches (on lost_device, or on any device when -1) the device is lost: the
  // next launch and every later call on it fail with cudaErrorLaunchFailure (sticky).
  std::int64_t lose_device_after = -1;
  int lost_device = -1;
  // The driver's CUDA version (major * 1000 + minor * 10). Below 13000 every call but the
  // version queries fails with cudaErrorInsufficientDriver, as with a driver too old for CUDA 13.
  int driver_version = 13000;
};
Faults faults();
void set_faults(const Faults& faults);

// Replaces the emulated devices: `count` devices (0: cudaErrorNoDevice), each with memory[i]
// bytes (one value for all, or none for the 80 GiB default). Throws std::logic_error while device
// memory is allocated or streams other than the default ones exist.
void configure_devices(int count, const std::vector<std::size_t>& memory = {});
// Each emulated device's memory in bytes (as many entries as devices).
std::vector<std::size_t> configured_device_memory();

// Clears every device's sticky error and the calling thread's last error, and drops work queued
// on streams: what a new process would see. For tests that provoke errors on purpose.
void clear_errors();

// The last program error the emulation caught (race, bad pointer, divergent barrier...), and
// how many it has caught.
std::string last_violation();
std::uint64_t violation_count();

// True when this build records memory accesses for the race check (the plain emulation build,
// not the AddressSanitizer one).
bool race_check_built();
// Turns the race check's recording on or off for later launches (HYPERFUSE_EMU_RACE_CHECK=0 starts
// with it off); the instrumentation stays, at the cost of a call per access.
void enable_race_check(bool on);
// Whether later launches are recorded (HYPERFUSE_EMU_RACE_CHECK and enable_race_check).
bool race_check_enabled();

}  // namespace hf_emu
